// `rename_all = "camel"`: the rule is spelled `camelCase`.
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
#[telemetry(rename_all = "camel")]
enum PaymentMethod {
    Card,
    CashOnDelivery,
}

fn main() {
    let _ = (PaymentMethod::Card, PaymentMethod::CashOnDelivery);
}
