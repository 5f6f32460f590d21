//! A scripted HTTP/1.1 server on a free loopback port.
