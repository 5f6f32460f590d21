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
    /// Browsing.
    name = "Browsing Funnel",
    onwer = "growth",
    window = "1 day",
    steps = [SearchPerformed],
}

telemetry_core::funnel! {
    /// Browsing, twice.
    name = "browsing",
    name = "browsing_again",
    steps = [SearchPerformed, MenuViewed],
}

fn main() {}
