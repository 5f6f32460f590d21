// `skip` and `pii` on the same field: a skipped field is never sent.
use telemetry_core::TelemetryEvent;

/// A customer signed up.
#[derive(TelemetryEvent)]
#[telemetry(name = "account.created")]
struct AccountCreated {
    /// The customer's e-mail.
    #[telemetry(skip, pii = "hash")]
    email: String,
}

fn main() {
    let _ = AccountCreated { email: String::new() };
}
