//! The derives, `emit!`, `funnel!` and `#[instrument_event]` work in a module that shadows every
//! prelude name it can: the generated code names everything through absolute paths.
#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    dead_code,
    unused_macros,
    clippy::upper_case_acronyms
)]

mod shadowed {
    // Crates and the macro crate's own paths.
    mod core {}
    mod std {}
    mod alloc {}
    mod telemetry_core {}
    mod inventory {}
    mod __private {}

    // Prelude types and values.
    type Result = ();
    struct Option;
    struct Some;
    const None: () = ();
    struct Box;
    struct String;
    struct Vec;
    struct Ok;
    struct Err;
    struct Cow;

    // Prelude traits.
    trait Default {}
    trait Clone {}
    trait Copy {}
    trait Send {}
    trait Sync {}
    trait Sized {}
    trait Unpin {}
    trait Drop {}
    trait Fn {}
    trait FnMut {}
    trait FnOnce {}
    trait Iterator {}
    trait IntoIterator {}
    trait DoubleEndedIterator {}
    trait ExactSizeIterator {}
    trait Extend {}
    trait FromIterator {}
    trait Into {}
    trait From {}
    trait TryFrom {}
    trait TryInto {}
    trait AsRef {}
    trait AsMut {}
    trait ToString {}
    trait ToOwned {}
    trait PartialEq {}
    trait Eq {}
    trait PartialOrd {}
    trait Ord {}
    fn drop() {}

    // The crate's own names.
    struct TelemetryEvent;
    struct TelemetryProperty;
    struct PropertyVisitor;
    struct PropertyValue;
    struct EventSchema;
    struct PropertySchema;
    struct PropertyType;
    struct Pii;
    struct Str;

    // Primitive types.
    struct str;
    struct bool;
    struct u8;
    struct u32;
    struct u64;
    struct usize;
    struct i64;
    struct f64;

    // Names that generated code might use for its own items and locals.
    const visitor: () = ();
    const event: () = ();
    const value: () = ();
    const index: () = ();
    const PROPERTIES: () = ();
    const SCHEMA: () = ();
    const __INVENTORY: () = ();

    // Built-in macros.
    macro_rules! concat {
        ($($t:tt)*) => {
            compile_error!("shadowed")
        };
    }
    macro_rules! module_path {
        () => {
            compile_error!("shadowed")
        };
    }
    macro_rules! file {
        () => {
            compile_error!("shadowed")
        };
    }
    macro_rules! line {
        () => {
            compile_error!("shadowed")
        };
    }
    macro_rules! column {
        () => {
            compile_error!("shadowed")
        };
    }
    macro_rules! unreachable {
        ($($t:tt)*) => {
            compile_error!("shadowed")
        };
    }
    macro_rules! stringify {
        ($($t:tt)*) => {
            compile_error!("shadowed")
        };
    }

    /// Where a dish was added from.
    #[derive(::telemetry_core::TelemetryProperty)]
    pub(crate) enum Source {
        Menu,
        OrderAgain,
        #[telemetry(rename = "search_box")]
        Search,
    }

    /// A customer added a dish to the cart.
    #[derive(::telemetry_core::TelemetryEvent)]
    #[telemetry(
        name = "cart.item_added",
        category = "ordering",
        owner = "growth",
        version = 2
    )]
    pub(crate) struct CartItemAdded<'a> {
        /// Dish added.
        pub(crate) dish_id: ::core::primitive::u64,
        /// Price in cents.
        #[telemetry(rename = "price")]
        pub(crate) price_cents: ::core::primitive::u32,
        /// Where it was found.
        pub(crate) source: Source,
        /// Coupon typed, if any.
        pub(crate) coupon: ::core::option::Option<::std::string::String>,
        /// Screen.
        pub(crate) screen: &'a ::core::primitive::str,
        /// Note.
        pub(crate) note: ::std::borrow::Cow<'a, ::core::primitive::str>,
        /// E-mail.
        #[telemetry(pii = "hash")]
        pub(crate) email: ::std::string::String,
        /// Whether it is the first dish.
        pub(crate) first: ::core::primitive::bool,
        /// Rating.
        pub(crate) rating: ::core::option::Option<::core::primitive::f64>,
        #[telemetry(skip)]
        pub(crate) scratch: ::std::vec::Vec<::core::primitive::u8>,
    }

    /// The cart was emptied.
    #[derive(::telemetry_core::TelemetryEvent)]
    #[telemetry(name = "cart.emptied")]
    pub(crate) struct CartEmptied;

    const StepRegistration: () = ();
    const FunnelRegistration: () = ();
    const StepFilter: () = ();
    const FilterValue: () = ();
    const __TELEMETRY_FUNNEL_STEPS: () = ();

    ::telemetry_core::funnel! {
        /// Adding a dish, then emptying the cart.
        name = "regret", owner = "growth", window = "10m",
        steps = [CartItemAdded where source = "search_box" && first = true && dish_id = -1, CartEmptied],
    }

    /// Sends the events in every form of `emit!`.
    pub(crate) fn send() {
        ::telemetry_core::emit!(CartItemAdded {
            dish_id: 7,
            price_cents: 1250,
            source: Source::OrderAgain,
            coupon: ::core::option::Option::None,
            screen: "menu",
            note: ::std::borrow::Cow::Borrowed("extra cheese"),
            email: ::std::string::String::from("ada@example.com"),
            first: true,
            rating: ::core::option::Option::Some(4.5),
            scratch: ::std::vec::Vec::new(),
        });
        ::telemetry_core::emit!(CartEmptied);
        let emptied = CartEmptied;
        ::telemetry_core::emit!(CartEmptied, emptied);
        let added = CartItemAdded {
            dish_id: 8,
            price_cents: 300,
            source: Source::Search,
            coupon: ::core::option::Option::Some(::std::string::String::from("SAVE")),
            screen: "search",
            note: ::std::borrow::Cow::Owned(::std::string::String::new()),
            email: ::std::string::String::new(),
            first: false,
            rating: ::core::option::Option::None,
            scratch: ::std::vec::Vec::new(),
        };
        ::telemetry_core::emit!(CartItemAdded, added);
        let _ = Source::Menu;
    }

    /// A payment, instrumented in implicit mode.
    #[::telemetry_core::instrument_event(
        name = "hygiene.paid",
        owner = "payments",
        fields(amount, method: &'static ::core::primitive::str = "card")
    )]
    pub(crate) fn pay(
        amount: ::core::primitive::u64,
    ) -> ::core::result::Result<::core::primitive::u64, ::std::string::String> {
        if amount == 0 {
            return ::core::result::Result::Err(::std::string::String::new());
        }
        let one: ::core::primitive::u64 = "1"
            .parse()
            .map_err(|_| ::std::string::String::from("parse"))?;
        ::core::result::Result::Ok(amount + one)
    }

    /// Empties the cart, instrumented in typed mode, async.
    #[::telemetry_core::instrument_event(event = CartEmptied)]
    pub(crate) async fn empty() -> ::core::option::Option<::core::primitive::u8> {
        ::core::option::Option::None
    }

    /// Calls the instrumented functions.
    pub(crate) fn instrumented() {
        let _ = pay(1);
        let _ = pay(0);
        let mut future = ::core::pin::pin!(empty());
        let mut cx = ::core::task::Context::from_waker(::core::task::Waker::noop());
        let _ = ::core::future::Future::poll(future.as_mut(), &mut cx);
    }
}

#[test]
fn instrument_event_uses_absolute_paths() {
    let events = telemetry_core::testing::capture(shadowed::instrumented);
    assert_eq!(
        events.names(),
        ["hygiene.paid", "hygiene.paid", "cart.emptied"]
    );
    assert_eq!(events[0]["amount"], 1);
    assert_eq!(events[0]["method"], "card");
    assert_eq!(events[0].outcome(), Some(telemetry_core::Outcome::Ok));
    assert_eq!(events[1].outcome(), Some(telemetry_core::Outcome::Error));
    assert_eq!(events[1].error_kind(), Some("String"));
    assert_eq!(events[2].outcome(), Some(telemetry_core::Outcome::Ok));
}

#[test]
fn derives_and_emit_use_absolute_paths() {
    let events = telemetry_core::testing::capture(shadowed::send);
    assert_eq!(
        events.names(),
        [
            "cart.item_added",
            "cart.emptied",
            "cart.emptied",
            "cart.item_added"
        ]
    );
    let first = &events[0];
    assert_eq!(first["dish_id"], 7);
    assert_eq!(first["price"], 1250);
    assert_eq!(first["source"], "order_again");
    assert!(first.property("coupon").is_none());
    assert_eq!(first["screen"], "menu");
    assert_eq!(first["note"], "extra cheese");
    assert_eq!(first["email"], "ada@example.com");
    assert_eq!(first["first"], true);
    assert_eq!(first["rating"], 4.5);
    assert!(first.property("scratch").is_none());
    assert_eq!(events[3]["source"], "search_box");
    assert_eq!(events[3]["coupon"], "SAVE");

    let schema = first.schema();
    assert_eq!(schema.version, 2);
    assert_eq!(schema.rust_type, "hygiene::shadowed::CartItemAdded");
    assert_eq!(schema.properties.len(), 9);
    assert_eq!(
        &*schema.property("source").unwrap().values,
        ["menu", "order_again", "search_box"]
    );

    let catalog = telemetry_core::catalog();
    assert_eq!(
        catalog.event("cart.item_added").unwrap().call_sites.len(),
        2
    );
    // Two `emit!` and one instrumented function.
    assert_eq!(catalog.event("cart.emptied").unwrap().call_sites.len(), 3);
    let funnel = catalog.funnel("regret").unwrap();
    assert_eq!(funnel.steps[0].event, "cart.item_added");
    assert_eq!(funnel.steps[0].filters.len(), 3);
}
