// The container keys may be split over several `#[telemetry(...)]` attributes, with
// other attributes in between; fields too.
use telemetry_core::{emit, testing, TelemetryEvent};

/// A payment failed.
#[derive(TelemetryEvent)]
#[telemetry(name = "payment.failed", category = "payment")]
#[allow(dead_code)]
#[telemetry(owner = "payments", version = 3)]
struct PaymentFailed {
    /// E-mail.
    #[telemetry(pii = "hash")]
    #[telemetry(rename = "email_hash")]
    email: String,
}

fn main() {
    let events = testing::capture(|| emit!(PaymentFailed { email: "a@b".into() }));
    let schema = events[0].schema();
    assert_eq!(
        (&*schema.name, schema.version, &*schema.category, &*schema.owner),
        ("payment.failed", 3, "payment", "payments")
    );
    assert_eq!(schema.properties[0].name, "email_hash");
    assert_eq!(schema.properties[0].pii, telemetry_core::Pii::Hash);
}
