// The function has no doc comment: in implicit mode it is the event's description.
use telemetry_core::instrument_event;

#[instrument_event(name = "checkout.payment")]
fn pay() {}

fn main() {
    pay();
}
