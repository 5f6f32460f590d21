// `skip = true`: `skip` is a bare flag.
use telemetry_core::TelemetryEvent;

/// A customer signed up.
#[derive(TelemetryEvent)]
#[telemetry(name = "account.created")]
struct AccountCreated {
    /// Retries left.
    #[telemetry(skip = true)]
    retries: Vec<u8>,
}

fn main() {
    let _ = AccountCreated { retries: Vec::new() };
}
