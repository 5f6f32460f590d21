//! Generated code trips no lint, even allow-by-default ones a strict crate denies:
//! `missing_docs` (the derives add no undocumented public items), qualification,
//! lifetime and `unsafe` lints, in the derives and in `emit!`.
#![deny(
    warnings,
    missing_docs,
    unused_qualifications,
    unreachable_pub,
    rust_2018_idioms,
    rust_2024_compatibility,
    single_use_lifetimes,
    unused_lifetimes,
    redundant_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    unused_results,
    unused_import_braces,
    let_underscore_drop,
    missing_debug_implementations,
    missing_copy_implementations,
    unsafe_code,
    unit_bindings,
    unnameable_types,
    keyword_idents,
    non_ascii_idents,
    variant_size_differences
)]

/// The events of this program.
pub mod events {
    use telemetry_core::{TelemetryEvent, TelemetryProperty};

    /// Where a dish was added from.
    #[derive(Debug, Clone, Copy, TelemetryProperty)]
    #[telemetry(rename_all = "kebab-case")]
    pub enum Source {
        /// The menu.
        Menu,
        /// A search result.
        #[telemetry(rename = "search_result")]
        Search,
    }

    /// A customer added a dish to the cart.
    #[derive(Debug, TelemetryEvent)]
    #[telemetry(name = "cart.item_added", owner = "growth", version = 2)]
    pub struct CartItemAdded<'a> {
        /// Dish added.
        pub dish_id: u64,
        /// Where it was found.
        pub source: Source,
        /// Screen.
        pub screen: &'a str,
        /// E-mail.
        #[telemetry(pii = "hash")]
        pub email: Option<String>,
        /// Scratch space.
        #[telemetry(skip)]
        pub scratch: Vec<u8>,
    }

    /// The cart was emptied.
    #[derive(Debug, Clone, Copy, TelemetryEvent)]
    #[telemetry(name = "cart.emptied")]
    pub struct CartEmptied;
}

use events::{CartEmptied, CartItemAdded, Source};
use telemetry_core::{emit, testing, TelemetryEvent};

fn main() {
    let screen = String::from("menu");
    let events = testing::capture(|| {
        emit!(CartItemAdded {
            dish_id: 1,
            source: Source::Search,
            screen: &screen,
            email: None,
            scratch: Vec::new(),
        });
        let event = CartItemAdded {
            dish_id: 2,
            source: Source::Menu,
            screen: "home",
            email: Some("a@b".to_owned()),
            scratch: vec![1],
        };
        emit!(CartItemAdded, event);
        emit!(CartEmptied);
        CartEmptied.emit();
    });
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["source"], "search_result");
    assert_eq!(CartItemAdded::schema().version, 2);
}
