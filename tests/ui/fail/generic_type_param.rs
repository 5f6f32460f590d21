// An event with a type parameter: the schema must know each property's type.
use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed<T> {
    /// What was typed.
    query: T,
}

fn main() {
    let _ = SearchPerformed { query: "pizza" };
}
