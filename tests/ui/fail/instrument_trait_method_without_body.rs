// A required trait method has no body to measure.
use telemetry_core::instrument_event;

trait Gateway {
    /// Charges.
    #[instrument_event(name = "gateway.charged")]
    fn charge(&self, cents: u64);
}

fn main() {}
