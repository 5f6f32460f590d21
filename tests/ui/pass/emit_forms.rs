// The three forms of `emit!`, each with and without a trailing comma.
use telemetry_core::{emit, testing, TelemetryEvent};

/// The app started.
#[derive(TelemetryEvent)]
#[telemetry(name = "app.started")]
struct AppStarted;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed<'a> {
    /// What was typed.
    query: &'a str,
}

fn main() {
    let events = testing::capture(|| {
        emit!(AppStarted);
        emit!(AppStarted,);
        emit!(SearchPerformed { query: "pizza" });
        emit!(SearchPerformed { query: "pasta" },);
        let event = SearchPerformed { query: "sushi" };
        emit!(SearchPerformed, event);
        emit!(SearchPerformed<'_>, SearchPerformed { query: "ramen" },);
        let unit = AppStarted;
        emit!(AppStarted, unit);
    });
    assert_eq!(
        events.names(),
        [
            "app.started",
            "app.started",
            "search.performed",
            "search.performed",
            "search.performed",
            "search.performed",
            "app.started"
        ]
    );
    assert_eq!(events[4]["query"], "sushi");
    let catalog = telemetry_core::catalog();
    assert_eq!(catalog.event("search.performed").unwrap().call_sites.len(), 4);
    assert_eq!(catalog.event("app.started").unwrap().call_sites.len(), 3);
}
