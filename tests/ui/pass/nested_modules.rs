// Events declared in nested modules, emitted through a path.
use telemetry_core::testing;

mod events {
    pub mod cart {
        use telemetry_core::TelemetryEvent;

        /// A dish was added.
        #[derive(TelemetryEvent)]
        #[telemetry(name = "cart.item_added")]
        pub struct ItemAdded {
            /// Dish added.
            pub dish_id: u64,
        }

        /// The cart was emptied.
        #[derive(TelemetryEvent)]
        #[telemetry(name = "cart.emptied")]
        pub struct Emptied;
    }
}

fn main() {
    let events = testing::capture(|| {
        telemetry_core::emit!(events::cart::ItemAdded { dish_id: 9 });
        telemetry_core::emit!(events::cart::Emptied);
        telemetry_core::emit!(crate::events::cart::Emptied);
        let e = events::cart::ItemAdded { dish_id: 10 };
        telemetry_core::emit!(self::events::cart::ItemAdded, e);
    });
    assert_eq!(
        events.names(),
        ["cart.item_added", "cart.emptied", "cart.emptied", "cart.item_added"]
    );
    assert_eq!(events[3]["dish_id"], 10);
    let catalog = telemetry_core::catalog();
    let rust_type = &catalog.event("cart.item_added").unwrap().schema.rust_type;
    assert!(rust_type.ends_with("events::cart::ItemAdded"), "{rust_type}");
}
