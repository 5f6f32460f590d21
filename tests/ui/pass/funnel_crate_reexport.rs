// `crate = "..."` names telemetry_core when it is re-exported.
mod reexport {
    pub use telemetry_core as tc;
}

/// The app started.
#[derive(reexport::tc::TelemetryEvent)]
#[telemetry(name = "app.started", crate = "reexport::tc", active)]
struct AppStarted;

/// A search ran.
#[derive(reexport::tc::TelemetryEvent)]
#[telemetry(name = "search.performed", crate = "reexport::tc")]
struct SearchPerformed;

reexport::tc::funnel! {
    /// Opening the app, then searching.
    name = "activation", crate = "reexport::tc", steps = [AppStarted, SearchPerformed],
}

fn main() {
    assert_eq!(reexport::tc::catalog().funnels.len(), 1);
}
