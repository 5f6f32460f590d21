//! Every attribute of both derives and of `#[instrument_event]`, each event emitted,
//! checked in the captured output and in the catalog. Compiled with every warning and every clippy lint (also
//! `pedantic`) denied, so generated code that trips a lint fails the build.
#![deny(warnings)]
#![deny(clippy::all, clippy::pedantic)]
#![warn(missing_docs)]

use std::borrow::Cow;

use telemetry_core::{Pii, PropertyType, TelemetryEvent, TelemetryProperty, emit, testing};

/// Where a dish was added from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum AddSource {
    /// The restaurant's menu.
    Menu,
    /// A search result.
    #[telemetry(rename = "search_result")]
    Search,
    /// The "order again" shortcut.
    OrderAgain,
}

/// How the order is paid.
#[derive(Debug, Clone, Copy, TelemetryProperty)]
#[telemetry(rename_all = "SCREAMING_SNAKE_CASE", crate = "telemetry_core")]
pub enum PaymentMethod {
    /// A card.
    Card,
    /// Paid in cash to the courier.
    #[telemetry(rename = "cod")]
    CashOnDelivery,
    /// A UPI transfer.
    UpiTransfer,
}

/// A customer added a dish to the cart.
///
/// Sent once per tap on "Add".
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "cart.item_added",
    category = "ordering",
    owner = "growth",
    version = 3,
    crate = "::telemetry_core"
)]
pub struct CartItemAdded<'a> {
    /// Dish added.
    pub dish_id: u64,
    /// Price of one portion,
    /// in cents.
    #[telemetry(rename = "price")]
    pub price_cents: u32,
    /// Where the customer found the dish.
    pub source: AddSource,
    /// Coupon typed by the customer, if any.
    pub coupon: Option<&'a str>,
    /// Screen the dish was added on.
    pub screen: Cow<'a, str>,
    /// The customer's e-mail.
    #[telemetry(pii = "hash")]
    pub email: String,
    /// The customer's phone number.
    #[telemetry(pii = "redact")]
    pub phone: Option<String>,
    /// The delivery address.
    #[telemetry(pii = "drop", rename = "address")]
    pub delivery_address: &'a str,
    /// Not sent: scratch data of the caller.
    #[telemetry(skip)]
    pub scratch: Vec<u8>,
}

/// An order was paid.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "order.paid", category = "payment")]
#[telemetry(owner = "payments")]
pub struct OrderPaid {
    /// How it was paid.
    pub method: PaymentMethod,
    /// The method it was first tried with, if it changed.
    pub first_method: Option<PaymentMethod>,
    /// Amount, in currency units.
    pub amount: f64,
    /// Whether a tip was added.
    pub tipped: bool,
    /// The kind of order, e.g. `delivery`.
    pub r#type: String,
}

/// The app finished starting.
#[derive(Debug, Clone, Copy, TelemetryEvent)]
#[telemetry(name = "app.started", owner = "platform")]
pub struct AppStarted;

fn send_all() {
    let screen = String::from("menu");
    emit!(CartItemAdded {
        dish_id: 42,
        price_cents: 1250,
        source: AddSource::Search,
        coupon: Some("SAVE10"),
        screen: Cow::Borrowed(&screen),
        email: "ada@example.com".to_owned(),
        phone: None,
        delivery_address: "1 Main St",
        scratch: vec![1, 2, 3],
    });
    let paid = OrderPaid {
        method: PaymentMethod::CashOnDelivery,
        first_method: Some(PaymentMethod::UpiTransfer),
        amount: 12.5,
        tipped: false,
        r#type: "delivery".to_owned(),
    };
    emit!(OrderPaid, paid);
    emit!(AppStarted);
}

#[test]
fn captured_output() {
    let events = testing::capture(send_all);
    assert_eq!(
        events.names(),
        ["cart.item_added", "order.paid", "app.started"]
    );

    let added = events.single::<CartItemAdded<'_>>();
    assert_eq!(added.version(), 3);
    assert_eq!(added["dish_id"], 42);
    assert_eq!(added["price"], 1250);
    assert_eq!(added["source"], "search_result");
    assert_eq!(added["coupon"], "SAVE10");
    assert_eq!(added["screen"], "menu");
    // Captured values are raw; the schema says how each is handled on the way out.
    assert_eq!(added["email"], "ada@example.com");
    assert!(added.property("phone").is_none());
    assert_eq!(added["address"], "1 Main St");
    assert!(added.property("price_cents").is_none());
    assert!(added.property("scratch").is_none());
    let names: Vec<&str> = added.properties().iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "dish_id", "price", "source", "coupon", "screen", "email", "address"
        ]
    );

    let paid = events.single::<OrderPaid>();
    assert_eq!(paid["method"], "cod");
    assert_eq!(paid["first_method"], "UPI_TRANSFER");
    assert_eq!(paid["amount"], 12.5);
    assert_eq!(paid["tipped"], false);
    assert_eq!(paid["type"], "delivery");

    assert!(events.single::<AppStarted>().properties().is_empty());
}

#[test]
fn property_enum_values() {
    assert_eq!(
        <AddSource as TelemetryProperty>::VALUES,
        ["menu", "search_result", "order_again"]
    );
    assert_eq!(
        <PaymentMethod as TelemetryProperty>::VALUES,
        ["CARD", "cod", "UPI_TRANSFER"]
    );
    assert_eq!(<AddSource as TelemetryProperty>::TYPE, PropertyType::String);
    assert_eq!(
        AddSource::OrderAgain.to_value(),
        telemetry_core::PropertyValue::Str("order_again")
    );
}

/// What one property of the catalog should hold.
struct Row {
    name: &'static str,
    ty: PropertyType,
    rust_type: &'static str,
    optional: bool,
    pii: Pii,
    description: &'static str,
    values: &'static [&'static str],
}

impl Row {
    /// A required, non-personal, non-enum property.
    const fn plain(
        name: &'static str,
        ty: PropertyType,
        rust_type: &'static str,
        description: &'static str,
    ) -> Row {
        Row {
            name,
            ty,
            rust_type,
            optional: false,
            pii: Pii::None,
            description,
            values: &[],
        }
    }
}

#[test]
fn catalog_event_cart_item_added() {
    let catalog = telemetry_core::catalog();
    let added = catalog.event("cart.item_added").expect("registered");
    let s = &added.schema;
    assert_eq!(s.version, 3);
    assert_eq!(s.category, "ordering");
    assert_eq!(s.owner, "growth");
    assert_eq!(
        s.description,
        "A customer added a dish to the cart.\n\nSent once per tap on \"Add\"."
    );
    assert_eq!(s.rust_type, "every_attribute::CartItemAdded");
    assert_eq!(added.call_sites.len(), 1);
    assert!(added.call_sites[0].file.ends_with("every_attribute.rs"));
    assert_eq!(added.call_sites[0].module_path, "every_attribute");

    let expected = [
        Row::plain("dish_id", PropertyType::Integer, "u64", "Dish added."),
        Row::plain(
            "price",
            PropertyType::Integer,
            "u32",
            "Price of one portion, in cents.",
        ),
        Row {
            values: &["menu", "search_result", "order_again"],
            ..Row::plain(
                "source",
                PropertyType::String,
                "AddSource",
                "Where the customer found the dish.",
            )
        },
        Row {
            optional: true,
            ..Row::plain(
                "coupon",
                PropertyType::String,
                "Option<&'a str>",
                "Coupon typed by the customer, if any.",
            )
        },
        Row::plain(
            "screen",
            PropertyType::String,
            "Cow<'a, str>",
            "Screen the dish was added on.",
        ),
        Row {
            pii: Pii::Hash,
            ..Row::plain(
                "email",
                PropertyType::String,
                "String",
                "The customer's e-mail.",
            )
        },
        Row {
            optional: true,
            pii: Pii::Redact,
            ..Row::plain(
                "phone",
                PropertyType::String,
                "Option<String>",
                "The customer's phone number.",
            )
        },
        Row {
            pii: Pii::Drop,
            ..Row::plain(
                "address",
                PropertyType::String,
                "&'a str",
                "The delivery address.",
            )
        },
    ];
    assert_eq!(s.properties.len(), expected.len());
    for (p, row) in s.properties.iter().zip(expected) {
        let name = row.name;
        assert_eq!(p.name, name);
        assert_eq!(p.ty, row.ty, "{name}");
        assert_eq!(p.rust_type, row.rust_type, "{name}");
        assert_eq!(p.optional, row.optional, "{name}");
        assert_eq!(p.pii, row.pii, "{name}");
        assert_eq!(p.description, row.description, "{name}");
        assert_eq!(&*p.values, row.values, "{name}");
    }
}

#[test]
fn catalog_other_events() {
    let catalog = telemetry_core::catalog();
    let paid = &catalog.event("order.paid").expect("registered").schema;
    assert_eq!(
        (paid.version, &*paid.category, &*paid.owner),
        (1, "payment", "payments")
    );
    assert_eq!(paid.description, "An order was paid.");
    let method = paid.property("method").expect("method");
    assert_eq!(&*method.values, ["CARD", "cod", "UPI_TRANSFER"]);
    assert_eq!(method.description, "How it was paid.");
    let first = paid.property("first_method").expect("first_method");
    assert!(first.optional);
    assert_eq!(first.values, method.values);
    assert_eq!(first.rust_type, "Option<PaymentMethod>");
    assert_eq!(
        paid.property("amount").expect("amount").ty,
        PropertyType::Number
    );
    assert_eq!(
        paid.property("tipped").expect("tipped").ty,
        PropertyType::Boolean
    );
    assert_eq!(paid.property("type").expect("type").rust_type, "String");

    let started = &catalog.event("app.started").expect("registered").schema;
    assert!(started.properties.is_empty());
    assert_eq!(started.owner, "platform");
    assert_eq!(started.category, "");

    assert_eq!(catalog.pii_property_count(), 3);
    let problems = catalog.validate();
    assert!(problems.is_empty(), "{problems:?}");
}

/// Why a payment failed.
#[derive(Debug, PartialEq, Eq)]
pub enum PaymentError {
    /// The bank said no.
    Declined,
}

impl telemetry_core::ErrorKind for PaymentError {
    fn error_kind(&self) -> Cow<'static, str> {
        Cow::Borrowed("declined")
    }
}

/// A customer paid for an order.
///
/// # Errors
/// When the bank declines.
#[telemetry_core::instrument_event(
    name = "order.payment",
    category = "payment",
    owner = "payments",
    version = 2,
    crate = "telemetry_core",
    fields(amount_cents, method, items: usize = lines.len(), first: Option<u64> = lines.first().copied())
)]
pub fn pay_order(
    amount_cents: u64,
    method: &PaymentMethod,
    lines: &[u64],
    card_number: &str,
) -> Result<u64, PaymentError> {
    if card_number.is_empty() {
        return Err(PaymentError::Declined);
    }
    let digits: u64 = card_number.parse().map_err(|_| PaymentError::Declined)?;
    Ok(amount_cents + digits % 2)
}

/// Pays asynchronously, typed.
///
/// # Errors
/// When the amount is zero.
#[telemetry_core::instrument_event(event = OrderPaid, fields(method, first_method = None, amount, tipped = false, r#type = String::from("delivery")))]
pub async fn pay_async(method: PaymentMethod, amount: f64) -> Result<(), PaymentError> {
    if amount <= 0.0 {
        Err(PaymentError::Declined)?;
    }
    Ok(())
}

/// A cart, with instrumented methods.
#[derive(Debug, Default)]
pub struct Cart {
    dishes: Vec<u64>,
}

impl Cart {
    /// Adds a dish.
    #[telemetry_core::instrument_event(name = "cart.dish_added", owner = "growth", fields(dish_id))]
    pub fn add(&mut self, dish_id: u64) -> &mut Self {
        self.dishes.push(dish_id);
        self
    }

    /// Counts the dishes, as a future.
    #[telemetry_core::instrument_event(name = "cart.dishes_counted", owner = "growth")]
    pub fn count(&self) -> impl std::future::Future<Output = usize> + '_ {
        async move { self.dishes.len() }
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn instrumented_functions() {
    use telemetry_core::Outcome;
    let events = testing::capture(|| {
        assert_eq!(pay_order(100, &PaymentMethod::Card, &[7, 8], "3"), Ok(101));
        assert_eq!(
            pay_order(100, &PaymentMethod::Card, &[], ""),
            Err(PaymentError::Declined)
        );
        assert!(block_on(pay_async(PaymentMethod::UpiTransfer, 0.0)).is_err());
        let mut cart = Cart::default();
        cart.add(1).add(2);
        assert_eq!(block_on(cart.count()), 2);
    });
    assert_eq!(
        events.names(),
        [
            "order.payment",
            "order.payment",
            "order.paid",
            "cart.dish_added",
            "cart.dish_added",
            "cart.dishes_counted"
        ]
    );
    let paid = &events[0];
    assert_eq!(paid["amount_cents"], 100);
    assert_eq!(paid["method"], "CARD");
    assert_eq!(paid["items"], 2);
    assert_eq!(paid["first"], 7);
    assert!(paid.property("card_number").is_none());
    assert_eq!(paid.outcome(), Some(Outcome::Ok));
    assert_eq!(events[1].error_kind(), Some("declined"));
    assert!(events[1].property("first").is_none());
    assert_eq!(events[2]["method"], "UPI_TRANSFER");
    assert_eq!(events[2].error_kind(), Some("declined"));
    assert_eq!(events[4]["dish_id"], 2);

    let catalog = telemetry_core::catalog();
    let payment = catalog.event("order.payment").expect("registered");
    assert_eq!(payment.schema.version, 2);
    assert_eq!(payment.schema.description, "A customer paid for an order.");
    assert_eq!(
        payment.call_sites[0].function.as_deref(),
        Some("every_attribute::pay_order")
    );
    assert_eq!(
        payment.schema.property("method").expect("method").rust_type,
        "PaymentMethod"
    );
    assert!(payment.schema.property("first").expect("first").optional);
}

/// More shapes under `clippy::pedantic`: generated code must not trip it.
pub mod shapes {
    use std::future::Future;
    use std::pin::Pin;

    use telemetry_core::instrument_event;

    /// A boxed future, as `#[async_trait]` writes it.
    #[instrument_event(name = "shapes.boxed", owner = "growth")]
    #[must_use]
    pub fn boxed<'a>(x: &'a u8) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> {
        Box::pin(async move { *x })
    }

    /// Generic, with `impl Trait` and a where clause.
    #[instrument_event(name = "shapes.generic", owner = "growth", fields(n: usize = items.len()))]
    pub fn generic<T>(items: &[T], extra: impl IntoIterator<Item = T>) -> Vec<T>
    where
        T: Clone,
    {
        let mut all = items.to_vec();
        all.extend(extra);
        all
    }

    /// Never returns.
    ///
    /// # Panics
    /// Always.
    #[instrument_event(name = "shapes.diverges", owner = "growth")]
    pub fn diverges() -> ! {
        panic!("stop")
    }

    /// Returns nothing, early.
    #[instrument_event(name = "shapes.unit", owner = "growth", fields(flag))]
    pub fn unit(flag: bool) {
        if flag {
            return;
        }
        std::hint::black_box(flag);
    }

    /// `Option` with `?`.
    #[instrument_event(name = "shapes.option", owner = "growth")]
    #[must_use]
    pub fn option(x: Option<u8>) -> Option<u8> {
        let v = x?;
        v.checked_add(1)
    }

    /// An async method on a type.
    #[derive(Debug, Default)]
    pub struct Kitchen {
        /// Orders cooked.
        pub cooked: u32,
    }

    impl Kitchen {
        /// Cooks, async, `&mut self`.
        ///
        /// # Errors
        /// Without a dish.
        #[instrument_event(name = "shapes.cooked", owner = "growth", fields(dish))]
        pub async fn cook(&mut self, dish: u64) -> Result<u32, String> {
            if dish == 0 {
                return Err(String::from("no dish"));
            }
            self.cooked += 1;
            Ok(self.cooked)
        }

        /// Consumes the kitchen.
        #[instrument_event(name = "shapes.closed", owner = "growth")]
        #[must_use]
        pub fn close(self) -> u32 {
            self.cooked
        }
    }
}

#[test]
fn instrumented_shapes_under_pedantic() {
    use shapes::Kitchen;
    let events = testing::capture(|| {
        assert_eq!(block_on(shapes::boxed(&3)), 3);
        assert_eq!(shapes::generic(&[1u8], [2]), [1, 2]);
        shapes::unit(true);
        assert_eq!(shapes::option(Some(1)), Some(2));
        let mut kitchen = Kitchen::default();
        assert!(block_on(kitchen.cook(0)).is_err());
        assert_eq!(block_on(kitchen.cook(1)), Ok(1));
        assert_eq!(kitchen.close(), 1);
    });
    assert_eq!(
        events.names(),
        [
            "shapes.boxed",
            "shapes.generic",
            "shapes.unit",
            "shapes.option",
            "shapes.cooked",
            "shapes.cooked",
            "shapes.closed"
        ]
    );
    assert_eq!(events[4].error_kind(), Some("String"));
    let _ = shapes::diverges as fn() -> !;
}
