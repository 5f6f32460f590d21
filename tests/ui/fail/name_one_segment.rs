// The event name is a single word; names are `object.action`.
use telemetry_core::TelemetryEvent;

/// The checkout page was opened.
#[derive(TelemetryEvent)]
#[telemetry(name = "checkout")]
struct CheckoutViewed;

fn main() {
    let _ = CheckoutViewed;
}
