// A funnel over events with and without properties, lifetimes and filters, in a
// module other than the events'; `#[telemetry(active)]` marks active-user events.
#![deny(warnings, rust_2018_idioms, unused_qualifications)]

mod events {
    use telemetry_core::{TelemetryEvent, TelemetryProperty};

    /// A search ran.
    #[derive(TelemetryEvent)]
    #[telemetry(name = "search.performed", owner = "search", active)]
    pub struct SearchPerformed<'a> {
        /// What was typed.
        pub query: &'a str,
    }

    /// A payment went through.
    #[derive(TelemetryEvent)]
    #[telemetry(name = "payment.completed", owner = "payments")]
    pub struct PaymentCompleted {
        /// How the customer paid.
        pub method: Method,
        /// Items paid for.
        pub items: u32,
        /// First order of this customer.
        pub first_order: bool,
    }

    /// How a customer pays.
    #[derive(TelemetryProperty)]
    pub enum Method {
        /// Card.
        Card,
        /// UPI.
        Upi,
    }
}

mod metrics {
    use crate::events::*;

    telemetry_core::funnel! {
        /// From searching to paying by UPI.
        name = "upi_ordering",
        owner = "growth",
        window = "30m",
        steps = [
            SearchPerformed,
            PaymentCompleted where method = "upi" && items = 2 && first_order = true,
        ],
    }
}

// Defaults: no owner, a one-day window; a trailing comma is optional.
telemetry_core::funnel! {
    /// Searches that end in any payment.
    name = "search_to_payment",
    steps = [events::SearchPerformed, events::PaymentCompleted]
}

fn main() {
    use telemetry_core::TelemetryEvent;
    let catalog = telemetry_core::catalog();
    assert!(events::SearchPerformed::schema().active);
    assert!(!events::PaymentCompleted::schema().active);
    let funnel = catalog.funnel("upi_ordering").unwrap();
    assert_eq!(funnel.window, "30m");
    assert_eq!(funnel.steps[0].event, "search.performed");
    assert_eq!(funnel.steps[1].filters.len(), 3);
    let defaults = catalog.funnel("search_to_payment").unwrap();
    assert_eq!((&*defaults.window, &*defaults.owner), ("1d", ""));
    assert!(catalog.validate().iter().all(|p| p.kind.id() != "invalid-funnel"));
}
