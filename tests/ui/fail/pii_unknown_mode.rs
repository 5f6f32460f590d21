// `pii = "encrypt"` is not a handling mode (they are "hash", "redact", "drop").
use telemetry_core::TelemetryEvent;

/// A customer signed up.
#[derive(TelemetryEvent)]
#[telemetry(name = "account.created")]
struct AccountCreated {
    /// The customer's e-mail.
    #[telemetry(pii = "encrypt")]
    email: String,
}

fn main() {
    let _ = AccountCreated { email: String::new() };
}
