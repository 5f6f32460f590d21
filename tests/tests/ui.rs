//! Compile-fail and compile-pass tests of the derives and `emit!`.
//!
//! Regenerate the expected errors with
//! `TRYBUILD=overwrite cargo test -p telemetry-tests --test ui`, then read every
//! changed `.stderr` as a user would.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
