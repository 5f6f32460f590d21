//! The user's own names do not break the generated code: a local `mod
//! telemetry_core`, `struct Result`, `type Fallible<T>`, `use` statements in the body,
//! and `#![forbid(unsafe_code)]` (the generated code has no `allow(unsafe_code)`).
#![forbid(unsafe_code)]

use telemetry_core::{instrument_event, testing, Outcome};

mod shadows {
    #![allow(dead_code)]
    pub mod telemetry_core {}
    pub struct Result;
    pub struct Option;
    pub struct Box;
    pub type Fallible<T> = core::result::Result<T, std::num::ParseIntError>;

    /// Parses, with names that shadow the prelude.
    #[::telemetry_core::instrument_event(name = "shadow.parsed", fields(input))]
    pub fn parse(input: &str) -> Fallible<u8> {
        use std::str::FromStr;
        let _unit = Result;
        u8::from_str(input)
    }

    /// Async, with the same names.
    #[::telemetry_core::instrument_event(name = "shadow.parsed_async")]
    pub async fn parse_async(input: &str) -> Fallible<u8> {
        use core::str::FromStr;
        let _unit = (Option, Box);
        Ok(u8::from_str(input)? + 1)
    }
}

/// With a local variable named like the generated ones.
#[instrument_event(name = "shadow.locals")]
fn locals() -> u8 {
    let __telemetry_guard = 1u8;
    let __telemetry_ret = 2u8;
    let __telemetry_values = 3u8;
    __telemetry_guard + __telemetry_ret + __telemetry_values
}

fn main() {
    let events = testing::capture(|| {
        assert_eq!(shadows::parse("7").unwrap(), 7);
        assert!(shadows::parse("x").is_err());
        assert_eq!(locals(), 6);
        let fut = shadows::parse_async("1");
        drop(fut);
    });
    assert_eq!(events[1].outcome(), Some(Outcome::Error));
    assert_eq!(events[1].error_kind(), Some("ParseIntError"));
    assert_eq!(events.names(), ["shadow.parsed", "shadow.parsed", "shadow.locals"]);
}
