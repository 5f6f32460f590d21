//! The example's tracking plan is committed as `examples/catalog.json`; this test fails
//! with a diff when the code and the file disagree. After an intended change, run
//! `TELEMETRY_UPDATE_CATALOG=1 cargo test -p examples --test catalog_snapshot` and
//! commit the file, so the change shows up in review.

// Link the example's events into this test binary.
use examples as _;

#[test]
fn catalog_matches_the_committed_tracking_plan() {
    telemetry_core::testing::assert_catalog_snapshot("catalog.json");
}
