// Typed mode takes argument types as they are: a `&str` argument does not fill a
// `String` field; write `fields(coupon = coupon.to_owned())`.
use telemetry_core::{instrument_event, TelemetryEvent};

/// A coupon was applied.
#[derive(TelemetryEvent)]
#[telemetry(name = "coupon.applied")]
struct CouponApplied {
    /// The code.
    coupon: String,
}

/// Applies a coupon.
#[instrument_event(event = CouponApplied)]
fn apply(coupon: &str) {
    let _ = coupon;
}

fn main() {
    apply("SAVE");
}
