// Two variants map to the same value (`Cash` is renamed to what `CashOnDelivery` becomes).
use telemetry_core::TelemetryProperty;

#[derive(TelemetryProperty)]
enum PaymentMethod {
    CashOnDelivery,
    #[telemetry(rename = "cash_on_delivery")]
    Cash,
}

fn main() {
    let _ = (PaymentMethod::Cash, PaymentMethod::CashOnDelivery);
}
