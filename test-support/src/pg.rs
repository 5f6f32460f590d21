//! A throw-away PostgreSQL cluster on a free loopback port.
