telemetry_core::funnel! {
    /// Nothing yet.
    name = "empty",
    window = "2h",
}

fn main() {}
