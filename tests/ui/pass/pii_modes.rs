// The three personal data modes are recorded in the schema; captured values are raw.
use telemetry_core::{emit, testing, Pii, TelemetryEvent};

/// A customer signed up.
#[derive(TelemetryEvent)]
#[telemetry(name = "account.created")]
struct AccountCreated {
    /// E-mail, hashed.
    #[telemetry(pii = "hash")]
    email: String,
    /// Phone, redacted.
    #[telemetry(pii = "redact")]
    phone: Option<String>,
    /// Address, dropped.
    #[telemetry(pii = "drop", rename = "street_address")]
    address: String,
    /// Not personal.
    plan: u8,
}

fn main() {
    let events = testing::capture(|| {
        emit!(AccountCreated {
            email: "ada@example.com".into(),
            phone: Some("555".into()),
            address: "1 Main St".into(),
            plan: 2,
        })
    });
    assert_eq!(events[0]["email"], "ada@example.com");
    let pii: Vec<Pii> = AccountCreated::schema().properties.iter().map(|p| p.pii).collect();
    assert_eq!(pii, [Pii::Hash, Pii::Redact, Pii::Drop, Pii::None]);
}
