//! The tracking plan of the food-delivery app: one Rust type per event.
//!
//! Everything the catalog says about an event comes from here: the doc comment of the
//! type is the event's description, the `#[telemetry(...)]` attribute gives its name,
//! product area (`category`), accountable team (`owner`) and schema version, and each
//! field's doc comment describes a property. Fields holding personal data declare how
//! it is handled (`pii = "hash" | "redact" | "drop"`) before anything leaves the
//! process, so the privacy review of a new event is a code review of its type.
//!
//! Amounts are integers in cents: money is never a float.

use telemetry_core::{TelemetryEvent, TelemetryProperty};

// ---------------------------------------------------------------------------------
// Properties with a fixed set of values. The catalog lists every allowed value, and
// the compiler makes sure the code can only send those.
// ---------------------------------------------------------------------------------

/// What brought the customer into the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum OpenSource {
    /// Tapped the app icon.
    Icon,
    /// Tapped a push notification (offers, order updates).
    PushNotification,
    /// Followed a link from outside the app (e-mail, ad, shared menu).
    DeepLink,
}

/// The device platform of the app build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum Platform {
    /// iPhone app.
    Ios,
    /// Android app.
    Android,
    /// Mobile web site.
    Web,
}

/// How a customer proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum SignInMethod {
    /// One-time link sent by e-mail.
    EmailLink,
    /// One-time code sent by SMS.
    PhoneOtp,
    /// "Continue with Google".
    Google,
}

/// A cuisine filter, recognised from the search box or picked as a chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum Cuisine {
    /// Pizza places.
    Pizza,
    /// Sushi and Japanese.
    Sushi,
    /// Burgers.
    Burger,
    /// Indian.
    Indian,
    /// Vegan.
    Vegan,
    /// Thai.
    Thai,
}

impl Cuisine {
    /// Every cuisine, for the simulation to pick from.
    pub const ALL: [Cuisine; 6] = [
        Cuisine::Pizza,
        Cuisine::Sushi,
        Cuisine::Burger,
        Cuisine::Indian,
        Cuisine::Vegan,
        Cuisine::Thai,
    ];
}

/// Where the customer opened a restaurant's menu from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum ViewSource {
    /// A search result.
    Search,
    /// The personalised home feed.
    HomeFeed,
}

/// Where a dish was added to the cart from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum AddSource {
    /// The restaurant's menu.
    Menu,
    /// A dish card shown directly in search results.
    Search,
    /// The "order again" shortcut, which refills the cart from a past order.
    OrderAgain,
}

/// Why a coupon code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum CouponRejection {
    /// No such code.
    UnknownCode,
    /// The code's campaign is over.
    Expired,
    /// The cart is below the code's minimum order value.
    MinimumNotMet,
}

/// The furthest step a customer reached before leaving a cart behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum CartStep {
    /// Left with items in the cart, before checkout.
    Cart,
    /// Left on the checkout screen, before paying.
    Checkout,
    /// Left after every payment attempt failed.
    Payment,
}

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum PaymentMethod {
    /// Credit or debit card.
    Card,
    /// Unified Payments Interface (bank transfer approved in the customer's UPI app).
    Upi,
    /// The in-app wallet balance.
    Wallet,
    /// Cash handed to the courier.
    CashOnDelivery,
}

impl PaymentMethod {
    /// Every payment method, for the simulation to pick from.
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Card,
        PaymentMethod::Upi,
        PaymentMethod::Wallet,
        PaymentMethod::CashOnDelivery,
    ];
}

/// Why a payment attempt failed, as reported by the payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TelemetryProperty)]
pub enum FailureReason {
    /// The issuing bank declined the card.
    CardDeclined,
    /// The card holder did not complete the 3-D Secure check.
    ThreeDsFailed,
    /// The customer did not approve the request in their UPI app in time.
    UpiTimeout,
    /// The wallet balance is lower than the amount.
    InsufficientBalance,
    /// The order is above the cash-on-delivery limit.
    CodLimitExceeded,
    /// The payment provider could not be reached.
    NetworkError,
}

/// The `error_kind` of a failed `#[instrument_event]` call returning this error: the
/// same names as the `reason` property of `payment.failed`.
impl telemetry_core::ErrorKind for FailureReason {
    fn error_kind(&self) -> std::borrow::Cow<'static, str> {
        match telemetry_core::TelemetryProperty::to_value(self) {
            telemetry_core::PropertyValue::Str(s) => std::borrow::Cow::Owned(s.to_owned()),
            _ => std::borrow::Cow::Borrowed("unknown"),
        }
    }
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&telemetry_core::ErrorKind::error_kind(self))
    }
}

impl std::error::Error for FailureReason {}

// ---------------------------------------------------------------------------------
// Events, in the order a customer meets them.
// ---------------------------------------------------------------------------------

/// The app came to the foreground: the start of a session.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "app.opened",
    category = "engagement",
    owner = "mobile-platform",
    active
)]
pub struct AppOpened {
    /// What brought the customer in.
    pub source: OpenSource,
    /// Platform of the app build.
    pub platform: Platform,
    /// `true` when the process started from scratch, `false` when it was resumed.
    pub cold_start: bool,
    /// Whole days since the app was installed on this device (0 on the first day).
    pub days_since_install: u32,
}

/// A customer signed in (or signed up: the first sign-in creates the account).
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "user.signed_in",
    category = "account",
    owner = "identity",
    active
)]
pub struct UserSignedIn {
    /// How the customer proved who they are.
    pub method: SignInMethod,
    /// `true` when this sign-in created the account.
    pub new_account: bool,
    /// The customer's e-mail address. Sent only as a keyed hash: the same address
    /// always gives the same hash, so accounts can be joined across devices, but the
    /// address itself never leaves the app.
    #[telemetry(pii = "hash")]
    pub email: String,
    /// Phone number, when the customer gave one. Replaced by `[redacted]`: analysts
    /// see whether a number was given, never the number.
    #[telemetry(pii = "redact")]
    pub phone: Option<String>,
    /// Full name as typed in the sign-up form. Declared so that the tracking plan
    /// shows it exists, and dropped: it never appears in a record.
    #[telemetry(pii = "drop")]
    pub full_name: String,
}

/// A restaurant search ran (typed text or a cuisine chip).
///
/// The query text is free text: customers type addresses, names and phone numbers
/// into search boxes, so it never leaves the app raw. It is hashed rather than
/// redacted because identical queries then share a hash, which still answers "which
/// queries most often return nothing?" without anyone reading them.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "search.performed",
    category = "discovery",
    owner = "search",
    active
)]
pub struct SearchPerformed<'a> {
    /// The text typed in the search box, as a keyed hash.
    #[telemetry(pii = "hash")]
    pub query: &'a str,
    /// Length of the query in characters (safe to send, useful for query analysis).
    pub query_length: u32,
    /// The cuisine filter recognised or picked, if any.
    pub cuisine: Option<Cuisine>,
    /// Number of restaurants returned; 0 is a failed search.
    pub results_count: u32,
}

/// A restaurant's menu was shown.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "restaurant.viewed",
    category = "discovery",
    owner = "catalog",
    active
)]
pub struct RestaurantViewed {
    /// The restaurant.
    pub restaurant_id: u64,
    /// Where the customer came from.
    pub source: ViewSource,
    /// 1-based position in the list the customer tapped.
    pub position: u32,
    /// Delivery time promised on the menu, in minutes.
    pub eta_minutes: u32,
    /// The restaurant's average rating (1 to 5) shown on the menu.
    pub rating: f32,
}

/// A dish was added to the cart.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "cart.item_added",
    category = "ordering",
    owner = "growth",
    active
)]
pub struct CartItemAdded {
    /// The restaurant of the dish.
    pub restaurant_id: u64,
    /// The dish.
    pub dish_id: u64,
    /// Price of one portion, in cents.
    pub price_cents: u32,
    /// Number of portions added.
    pub quantity: u32,
    /// Where the dish was added from.
    pub source: AddSource,
}

/// A coupon code was tried on the cart, accepted or not.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "coupon.applied", category = "ordering", owner = "growth")]
pub struct CouponApplied<'a> {
    /// The code as typed. Codes are public marketing codes (`WELCOME50`), not
    /// personal data.
    pub code: &'a str,
    /// Whether the code was accepted.
    pub valid: bool,
    /// Discount granted, in cents (0 when refused).
    pub discount_cents: u32,
    /// Why the code was refused; absent when accepted.
    pub rejection: Option<CouponRejection>,
}

/// The customer used "order again" to refill the cart from a past order.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "order_again.used", category = "ordering", owner = "growth")]
pub struct OrderAgainUsed {
    /// The past order being repeated.
    pub previous_order_id: u64,
    /// Whole days since that order.
    pub days_since_order: u32,
    /// Number of distinct dishes put back in the cart.
    pub items: u32,
}

/// The customer opened checkout with a non-empty cart.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "checkout.started",
    category = "ordering",
    owner = "checkout",
    active
)]
pub struct CheckoutStarted {
    /// The order being placed.
    pub order_id: u64,
    /// Number of portions in the cart.
    pub items: u32,
    /// Sum of the dishes, in cents.
    pub subtotal_cents: u64,
    /// Delivery fee, in cents.
    pub delivery_fee_cents: u32,
    /// Coupon discount, in cents.
    pub discount_cents: u32,
}

/// The session ended with items left in the cart and no order placed.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "cart.abandoned", category = "ordering", owner = "growth")]
pub struct CartAbandoned {
    /// Number of portions left in the cart.
    pub items: u32,
    /// Value of the cart, in cents.
    pub value_cents: u64,
    /// The furthest step reached.
    pub last_step: CartStep,
}

/// A payment was submitted to the payment provider.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "payment.attempted", category = "payment", owner = "payments")]
pub struct PaymentAttempted {
    /// The order being paid.
    pub order_id: u64,
    /// Payment method chosen for this attempt.
    pub method: PaymentMethod,
    /// Amount charged, in cents.
    pub amount_cents: u64,
    /// 1 for the first attempt of this order, 2 for the first retry, ...
    pub attempt: u32,
}

/// The payment provider confirmed a payment (or accepted a cash-on-delivery order):
/// the order is placed.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "payment.completed",
    category = "payment",
    owner = "payments",
    active
)]
pub struct PaymentCompleted {
    /// The order paid.
    pub order_id: u64,
    /// Payment method that succeeded.
    pub method: PaymentMethod,
    /// Amount charged, in cents.
    pub amount_cents: u64,
    /// Attempts it took, this one included.
    pub attempts: u32,
}

/// A payment attempt failed.
///
/// Version 2 replaced the free-text `error` of version 1 with the `reason` enum.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "payment.failed",
    category = "payment",
    owner = "payments",
    version = 2
)]
pub struct PaymentFailed {
    /// The order being paid.
    pub order_id: u64,
    /// Payment method of the failed attempt.
    pub method: PaymentMethod,
    /// Amount that could not be charged, in cents.
    pub amount_cents: u64,
    /// Why it failed.
    pub reason: FailureReason,
    /// Whether the customer tried again (with the same or another method).
    pub will_retry: bool,
}

/// The courier handed the order over.
#[derive(Debug, TelemetryEvent)]
#[telemetry(name = "order.delivered", category = "fulfilment", owner = "logistics")]
pub struct OrderDelivered {
    /// The order.
    pub order_id: u64,
    /// Minutes from payment to hand-over.
    pub delivery_minutes: u32,
    /// Minutes promised at checkout.
    pub promised_minutes: u32,
    /// Whether the delivery took longer than promised.
    pub late: bool,
}

/// The customer rated a delivered order.
#[derive(Debug, TelemetryEvent)]
#[telemetry(
    name = "order.rated",
    category = "fulfilment",
    owner = "logistics",
    active
)]
pub struct OrderRated {
    /// The order.
    pub order_id: u64,
    /// Stars given, 1 to 5.
    pub stars: u32,
    /// Free-text comment, if any. Free text can hold anything, so only its presence
    /// is sent: the text is replaced by `[redacted]`.
    #[telemetry(pii = "redact")]
    pub comment: Option<String>,
}

telemetry_core::funnel! {
    /// From searching to a paid order: search, open a restaurant's menu, add a dish,
    /// start checkout, pay. Shows where hungry users give up.
    name = "ordering",
    owner = "growth",
    window = "1d",
    steps = [SearchPerformed, RestaurantViewed, CartItemAdded, CheckoutStarted, PaymentCompleted],
}
