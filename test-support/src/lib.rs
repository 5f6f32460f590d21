//! Test helpers shared by the workspace's tests: servers that a test starts for itself
//! on a free loopback port and that stop when dropped.
//!
//! - [`http`]: a scripted HTTP/1.1 server that records every request, for the vendor
//!   exporters' contract tests.
//! - [`pg`]: a throw-away PostgreSQL cluster (`initdb` into a temporary folder).

pub mod http;
pub mod pg;
