use telemetry_core::TelemetryEvent;

/// A search ran.
#[derive(TelemetryEvent)]
#[telemetry(name = "search.performed")]
struct SearchPerformed;

/// A menu was opened.
#[derive(TelemetryEvent)]
#[telemetry(name = "menu.viewed")]
struct MenuViewed;

telemetry_core::funnel! {
    name = "browsing",
    steps = [SearchPerformed, MenuViewed],
}

fn main() {}
