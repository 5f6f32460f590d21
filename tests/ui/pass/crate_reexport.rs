// `crate = "..."` names telemetry_core through a re-export, on both derives.
mod reexport {
    pub use telemetry_core;
}

use reexport::telemetry_core::{testing, TelemetryEvent, TelemetryProperty};

/// Where a dish was added from.
#[derive(TelemetryProperty)]
#[telemetry(crate = "reexport::telemetry_core")]
enum Source {
    Menu,
    Search,
}

/// A dish was added.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added", crate = "reexport::telemetry_core")]
struct CartItemAdded {
    /// Where it was found.
    source: Source,
}

fn main() {
    let events = testing::capture(|| {
        reexport::telemetry_core::emit!(CartItemAdded { source: Source::Search });
    });
    assert_eq!(events[0]["source"], "search");
    let _ = Source::Menu;
}
