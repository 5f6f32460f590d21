// A generic argument cannot be a property: the schema is static.
use telemetry_core::instrument_event;

/// Stores a value.
#[instrument_event(name = "store.saved", fields(value))]
fn save<T: Copy>(value: T) {
    let _ = value;
}

fn main() {
    save(1u8);
}
