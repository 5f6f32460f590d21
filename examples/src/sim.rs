//! The simulated marketplace: customers, restaurants, and what customers do in a
//! session of the app. Every choice comes from a seeded random generator, so one seed
//! always gives the same story.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use fastrand::Rng;
use telemetry_core::{Config, Consent, ManualClock, emit, instrument_event};

use crate::events::*;

/// Number of simulated days: five weeks.
pub const DAYS: u32 = 35;

/// The first simulated day, 2026-10-05 (a Monday), as days since 1970-01-01. Events
/// are stamped by a [`ManualClock`] moved through the simulated days, not by the
/// machine's clock.
pub const FIRST_DAY: u64 = 20_731;

/// `app_name` and `app_version` of every record.
const APP_NAME: &str = "food-delivery";
const APP_VERSION: &str = "3.2.0";

/// The key of the `pii = "hash"` properties. A real app loads it from its secret
/// store (or sets `TELEMETRY_PII_SECRET`); without a key, `init` refuses to start.
const PII_SECRET: &str = "example-only secret: load yours from a vault";

/// Delivery fee of every order, in cents.
const DELIVERY_FEE_CENTS: u32 = 299;

/// How long the end of a session may wait for its events to be written.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

const FIRST_NAMES: [&str; 16] = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Donald",
    "Hedy",
    "Tim",
    "Shafi",
];
const LAST_NAMES: [&str; 12] = [
    "Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov",
    "Thompson", "Allen", "Dijkstra", "Perlman",
];

/// Search box texts, with the cuisine the app recognises in each. Some hold what
/// customers really type into search boxes: street addresses.
const QUERIES: [(&str, Option<Cuisine>); 12] = [
    ("pizza", Some(Cuisine::Pizza)),
    ("margherita", Some(Cuisine::Pizza)),
    ("sushi", Some(Cuisine::Sushi)),
    ("ramen near me", Some(Cuisine::Sushi)),
    ("burger", Some(Cuisine::Burger)),
    ("biryani", Some(Cuisine::Indian)),
    ("butter chicken", Some(Cuisine::Indian)),
    ("vegan bowl", Some(Cuisine::Vegan)),
    ("pad thai", Some(Cuisine::Thai)),
    ("late night food", None),
    ("something near 221B Baker Street", None),
    ("healthy", None),
];

/// Rating comments (only their presence is ever sent).
const COMMENTS: [&str; 5] = [
    "Fries were cold",
    "Courier was lovely, call me again on my mobile!",
    "Best biryani in town",
    "Missing the drink",
    "Took forever",
];

/// A simulated customer: who they are (personal data the app knows) and how they
/// behave.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Internal account id, put in the record context once signed in.
    pub user_id: String,
    /// Anonymous id of the customer's device, in every record's context.
    pub device_id: String,
    /// E-mail address (personal data: must never appear in a record).
    pub email: String,
    /// Phone number, if given (personal data: must never appear in a record).
    pub phone: Option<String>,
    /// Full name (personal data: must never appear in a record).
    pub full_name: String,
    platform: Platform,
    sign_in: SignInMethod,
    /// Day the app was installed.
    install_day: u32,
    /// Probability to open the app on any later day.
    open_rate: f64,
    /// Last day the customer opens the app: some give up after a few days (churn).
    last_day: u32,
    /// Payment method tried first.
    preferred_method: PaymentMethod,
    /// Probability to go from a menu to the cart.
    appetite: f64,
}

/// The customers of a simulation with this seed: the same people [`run`](crate::run)
/// simulates, so that tests can look for their personal data in the output.
pub fn customers(seed: u64, count: usize) -> Vec<Customer> {
    let mut rng = Rng::with_seed(seed ^ 0x00c0_ffee);
    (0..count)
        .map(|i| {
            let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
            let platform = pick(
                &mut rng,
                &[
                    (Platform::Android, 55),
                    (Platform::Ios, 35),
                    (Platform::Web, 10),
                ],
            );
            let preferred_method = pick(
                &mut rng,
                &[
                    (PaymentMethod::Card, 45),
                    (PaymentMethod::Upi, 30),
                    (PaymentMethod::Wallet, 15),
                    (PaymentMethod::CashOnDelivery, 10),
                ],
            );
            // Customers arrive over the whole period, more in the first weeks.
            let install_day = (rng.f64().powf(1.3) * f64::from(DAYS - 2)) as u32;
            Customer {
                user_id: format!("user-{:05}", i + 1),
                device_id: format!("device-{:016x}", rng.u64(..)),
                email: format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    i + 1
                ),
                phone: (rng.f64() < 0.6).then(|| format!("+91 9{:09}", rng.u32(..1_000_000_000))),
                full_name: format!("{first} {last}"),
                platform,
                sign_in: pick(
                    &mut rng,
                    &[
                        (SignInMethod::Google, 45),
                        (SignInMethod::EmailLink, 30),
                        (SignInMethod::PhoneOtp, 25),
                    ],
                ),
                install_day,
                open_rate: 0.08 + rng.f64() * 0.3,
                // Four in ten churn within two weeks of installing.
                last_day: if rng.f64() < 0.4 {
                    install_day + rng.u32(1..14)
                } else {
                    DAYS
                },
                preferred_method,
                appetite: 0.45 + rng.f64() * 0.35,
            }
        })
        .collect()
}

/// One element of `choices`, picked with probability proportional to its weight.
fn pick<T: Copy>(rng: &mut Rng, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(..total);
    for &(choice, weight) in choices {
        if roll < weight {
            return choice;
        }
        roll -= weight;
    }
    choices[choices.len() - 1].0
}

struct Restaurant {
    id: u64,
    cuisine: Cuisine,
    rating: f32,
    eta_minutes: u32,
    /// `(dish id, price in cents)`.
    dishes: Vec<(u64, u32)>,
}

/// A dish in the cart: `(restaurant, dish, price in cents, quantity)`.
#[derive(Clone, Copy)]
struct Line {
    restaurant_id: u64,
    dish_id: u64,
    price_cents: u32,
    quantity: u32,
}

struct PastOrder {
    order_id: u64,
    day: u32,
    lines: Vec<Line>,
}

/// What the simulation keeps about each customer between sessions.
struct State {
    customer: Customer,
    signed_in: bool,
    orders: Vec<PastOrder>,
}

/// Totals of a simulation, as the simulation itself saw them (the report is computed
/// from the written records instead).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    /// Sessions simulated (one `init` each).
    pub(crate) sessions: usize,
    /// Sessions that ended in a panic, caught at the top of the session.
    pub(crate) crashed: usize,
    /// Events handed to telemetry, over all sessions.
    pub(crate) emitted: u64,
    /// Events lost (queue full or write error).
    pub(crate) lost: u64,
}

/// Simulates `users` customers over [`DAYS`] days, appending every event to
/// `events_path`.
///
/// Each app session is its own telemetry pipeline: `init` with that customer's device
/// id, session id and (once signed in) user id, the session's events, then the guard
/// is shut down, which writes them. That is exactly what happens in the real app,
/// where every session is a process of its own, and it keeps the record context
/// honest: the context is set once per `init` (a real app would also call
/// `telemetry_core::identify` at sign-in). The flip side shows in the first session of
/// a customer: the sign-in happens during it, so its records carry no `user_id` yet;
/// the hashed e-mail of `user.signed_in` links it to the account.
///
/// Consent is asked at the start of every session, as a consent banner would: the
/// pipeline starts with [`Consent::Unknown`] (events would be buffered, never
/// written), and the simulated customer grants it before doing anything.
pub(crate) fn simulate(
    events_path: &Path,
    seed: u64,
    users: usize,
) -> Result<Totals, Box<dyn std::error::Error>> {
    let first_day = UNIX_EPOCH + Duration::from_secs(FIRST_DAY * 86_400);
    let mut sim = Sim {
        rng: Rng::with_seed(seed),
        restaurants: Vec::new(),
        next_order_id: 10_001,
        clock: ManualClock::new(first_day),
    };
    sim.restaurants = (0..40u64)
        .map(|i| {
            let cuisine = Cuisine::ALL[sim.rng.usize(..Cuisine::ALL.len())];
            Restaurant {
                id: 501 + i,
                cuisine,
                rating: (35 + sim.rng.u32(..15)) as f32 / 10.0,
                eta_minutes: 20 + 5 * sim.rng.u32(..6),
                dishes: (0..8u64)
                    .map(|d| ((501 + i) * 100 + d, 50 * sim.rng.u32(6..40)))
                    .collect(),
            }
        })
        .collect();
    let mut states: Vec<State> = customers(seed, users)
        .into_iter()
        .map(|customer| State {
            customer,
            signed_in: false,
            orders: Vec::new(),
        })
        .collect();

    let mut totals = Totals::default();
    for day in 0..DAYS {
        for state in &mut states {
            let c = &state.customer;
            let opens = day == c.install_day
                || (day > c.install_day && day <= c.last_day && sim.rng.f64() < c.open_rate);
            if !opens {
                continue;
            }
            // Sessions start between 07:00 and 21:00 UTC of the simulated day (and end,
            // delivery and rating included, before midnight).
            let start = Duration::from_secs(u64::from(day) * 86_400 + 7 * 3600)
                + Duration::from_millis(sim.rng.u64(..14 * 3_600_000));
            sim.clock.set(first_day + start);
            // Every session is a process of its own here: its pipeline counters
            // (`telemetry.stats` records, sent at shutdown) would only add noise to the
            // simulated data, so they are off.
            let mut config = Config::new(APP_NAME, APP_VERSION)
                .clock(sim.clock.clone())
                .stats_interval(None)
                .jsonl(events_path)
                .pii_secret(PII_SECRET)
                .anonymous_id(&c.device_id)
                .session_id(format!("session-{:016x}", sim.rng.u64(..)))
                .consent(Consent::Unknown);
            if state.signed_in {
                config = config.user_id(&c.user_id);
            }
            let guard = telemetry_core::try_init(config)?;
            // The consent banner: every simulated customer accepts.
            telemetry_core::set_consent(Consent::Granted);
            // A panic ends the session, as a crash ends the app, but not the run: the
            // instrumented call that panicked has recorded `"outcome": "panicked"`.
            let session = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sim.session(state, day);
            }));
            if session.is_err() {
                totals.crashed += 1;
            }
            if !guard.shutdown(SHUTDOWN_TIMEOUT) {
                return Err("telemetry could not write a session's events in time".into());
            }
            let stats = telemetry_core::stats();
            totals.sessions += 1;
            totals.emitted += stats.emitted;
            totals.lost += stats.dropped_queue_full + stats.failed;
        }
    }
    Ok(totals)
}

struct Sim {
    rng: Rng,
    restaurants: Vec<Restaurant>,
    next_order_id: u64,
    /// The simulated time, which stamps the events.
    clock: ManualClock,
}

impl Sim {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// The customer takes between `min` and `max` seconds before the next action.
    fn pause(&mut self, min: u64, max: u64) {
        let ms = self.rng.u64(min * 1000..=max * 1000);
        self.clock.advance(Duration::from_millis(ms));
    }

    /// One app session of a customer on `day`.
    fn session(&mut self, state: &mut State, day: u32) {
        let c = &state.customer;
        emit!(AppOpened {
            source: pick(
                &mut self.rng,
                &[
                    (OpenSource::Icon, 70),
                    (OpenSource::PushNotification, 20),
                    (OpenSource::DeepLink, 10)
                ],
            ),
            platform: c.platform,
            cold_start: self.chance(0.6),
            days_since_install: day - c.install_day,
        });

        let mut cart: Vec<Line> = Vec::new();
        let order_again = state.orders.last().filter(|_| self.rng.f64() < 0.3);
        let reordered = order_again.is_some();
        if let Some(previous) = order_again {
            self.pause(2, 10);
            emit!(OrderAgainUsed {
                previous_order_id: previous.order_id,
                days_since_order: day - previous.day,
                items: previous.lines.len() as u32,
            });
            for line in &previous.lines {
                self.pause(1, 4);
                emit!(CartItemAdded {
                    restaurant_id: line.restaurant_id,
                    dish_id: line.dish_id,
                    price_cents: line.price_cents,
                    quantity: line.quantity,
                    source: AddSource::OrderAgain,
                });
            }
            cart.extend(previous.lines.iter().copied());
        } else {
            self.browse(c.appetite, &mut cart);
        }
        if cart.is_empty() {
            return;
        }
        self.checkout(state, day, cart, reordered);
    }

    /// Search (or the home feed), a menu, dishes into the cart.
    fn browse(&mut self, appetite: f64, cart: &mut Vec<Line>) {
        let (r, source) = if self.chance(0.85) {
            let Some(r) = self.search() else { return };
            // Some add a dish straight from a dish card in the results.
            if self.chance(0.06) {
                self.add_dishes(r, 1, AddSource::Search, cart);
                return;
            }
            (r, ViewSource::Search)
        } else {
            (
                self.rng.usize(..self.restaurants.len()),
                ViewSource::HomeFeed,
            )
        };
        if !self.chance(0.72) {
            return;
        }
        self.pause(5, 45);
        let shown = &self.restaurants[r];
        emit!(RestaurantViewed {
            restaurant_id: shown.id,
            source,
            position: 1 + self.rng.u32(..8),
            eta_minutes: shown.eta_minutes,
            rating: shown.rating,
        });
        if self.chance(appetite) {
            let dishes = 1 + self.rng.usize(..3);
            self.add_dishes(r, dishes, AddSource::Menu, cart);
        }
    }

    /// Up to two searches (a search with no results is often retried); the index of
    /// the restaurant the customer is interested in, if any.
    fn search(&mut self) -> Option<usize> {
        for _ in 0..2 {
            let (query, cuisine) = QUERIES[self.rng.usize(..QUERIES.len())];
            let results_count = if self.chance(0.12) {
                0
            } else {
                self.rng.u32(2..40)
            };
            self.pause(3, 25);
            emit!(SearchPerformed {
                query,
                query_length: query.chars().count() as u32,
                cuisine,
                results_count,
            });
            if results_count > 0 {
                return Some(self.restaurant_for(cuisine));
            }
            if !self.chance(0.5) {
                return None;
            }
        }
        None
    }

    /// Index of a restaurant serving `cuisine` (any restaurant without one).
    fn restaurant_for(&mut self, cuisine: Option<Cuisine>) -> usize {
        let matching: Vec<usize> = (0..self.restaurants.len())
            .filter(|&i| cuisine.is_none_or(|c| self.restaurants[i].cuisine == c))
            .collect();
        if matching.is_empty() {
            self.rng.usize(..self.restaurants.len())
        } else {
            matching[self.rng.usize(..matching.len())]
        }
    }

    fn add_dishes(&mut self, r: usize, count: usize, source: AddSource, cart: &mut Vec<Line>) {
        for _ in 0..count {
            let restaurant = &self.restaurants[r];
            let (dish_id, price_cents) =
                restaurant.dishes[self.rng.usize(..restaurant.dishes.len())];
            let line = Line {
                restaurant_id: restaurant.id,
                dish_id,
                price_cents,
                quantity: if self.chance(0.8) { 1 } else { 2 },
            };
            self.pause(10, 60);
            emit!(CartItemAdded {
                restaurant_id: line.restaurant_id,
                dish_id: line.dish_id,
                price_cents: line.price_cents,
                quantity: line.quantity,
                source,
            });
            cart.push(line);
        }
    }

    /// Coupon, sign-in, checkout and payment for a non-empty cart.
    fn checkout(&mut self, state: &mut State, day: u32, cart: Vec<Line>, reordered: bool) {
        let items: u32 = cart.iter().map(|l| l.quantity).sum();
        let subtotal_cents: u64 = cart
            .iter()
            .map(|l| u64::from(l.price_cents * l.quantity))
            .sum();
        self.pause(10, 60);
        let abandon = |last_step| {
            emit!(CartAbandoned {
                items,
                value_cents: subtotal_cents,
                last_step,
            });
        };

        let mut discount_cents = 0;
        if self.chance(0.2) {
            let (code, rejection, discount) = match self.rng.u32(..5) {
                0 if state.orders.is_empty() => {
                    ("WELCOME50", None, (subtotal_cents / 2).min(1500) as u32)
                }
                0 => ("WELCOME50", Some(CouponRejection::Expired), 0),
                1 => ("FREEDEL", None, DELIVERY_FEE_CENTS),
                2 => ("PIZZA20", Some(CouponRejection::Expired), 0),
                3 if subtotal_cents < 3000 => ("SAVEBIG", Some(CouponRejection::MinimumNotMet), 0),
                3 => ("SAVEBIG", None, 500),
                _ => ("FRE3DEL", Some(CouponRejection::UnknownCode), 0),
            };
            emit!(CouponApplied {
                code,
                valid: rejection.is_none(),
                discount_cents: discount,
                rejection,
            });
            discount_cents = discount;
        }

        // A refilled cart is a strong intent to order.
        if !self.chance(if reordered { 0.9 } else { 0.68 }) {
            abandon(CartStep::Cart);
            return;
        }
        // Ordering needs an account: the first checkout asks to sign in.
        if !state.signed_in {
            if !self.chance(0.85) {
                abandon(CartStep::Cart);
                return;
            }
            self.pause(20, 90);
            let c = &state.customer;
            emit!(UserSignedIn {
                method: c.sign_in,
                new_account: true,
                email: c.email.clone(),
                phone: c.phone.clone(),
                full_name: c.full_name.clone(),
            });
            state.signed_in = true;
        }

        let order_id = self.next_order_id;
        self.next_order_id += 1;
        self.pause(5, 30);
        emit!(CheckoutStarted {
            order_id,
            items,
            subtotal_cents,
            delivery_fee_cents: DELIVERY_FEE_CENTS,
            discount_cents,
        });
        if !self.chance(0.88) {
            abandon(CartStep::Checkout);
            return;
        }

        let amount_cents = (subtotal_cents + u64::from(DELIVERY_FEE_CENTS))
            .saturating_sub(u64::from(discount_cents));
        let mut method = state.customer.preferred_method;
        for attempt in 1..=3 {
            self.pause(10, 45);
            emit!(PaymentAttempted {
                order_id,
                method,
                amount_cents,
                attempt,
            });
            let charged = self.charge(method, amount_cents, attempt);
            self.pause(1, 4);
            match charged {
                Ok(()) => {
                    emit!(PaymentCompleted {
                        order_id,
                        method,
                        amount_cents,
                        attempts: attempt,
                    });
                    self.deliver(order_id);
                    state.orders.push(PastOrder {
                        order_id,
                        day,
                        lines: cart,
                    });
                    return;
                }
                Err(reason) => {
                    let will_retry = attempt < 3 && self.chance(0.7);
                    emit!(PaymentFailed {
                        order_id,
                        method,
                        amount_cents,
                        reason,
                        will_retry,
                    });
                    if !will_retry {
                        break;
                    }
                    // Half of the retries switch to another method.
                    if self.chance(0.5) {
                        method = PaymentMethod::ALL[self.rng.usize(..PaymentMethod::ALL.len())];
                    }
                }
            }
        }
        abandon(CartStep::Payment);
    }

    /// One charge request to the payment provider, with its duration and outcome: the
    /// call that `payment.attempted` and `payment.failed` describe from the product's
    /// side.
    // The wallet provider's SDK has a bug: it panics on amounts above 50.00 (an
    // overflow in its fraud check). The session loop catches the panic, and the call's
    // event says `panicked`.
    #[instrument_event(
        name = "payment.provider_charged",
        category = "payment",
        owner = "payments",
        fields(method, amount_cents, attempt)
    )]
    fn charge(
        &mut self,
        method: PaymentMethod,
        amount_cents: u64,
        attempt: u32,
    ) -> Result<(), FailureReason> {
        assert!(
            !(method == PaymentMethod::Wallet && amount_cents > 5_000),
            "wallet SDK: fraud score overflow for amount {amount_cents}"
        );
        match self.payment_failure(method, amount_cents) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Whether a payment attempt fails, and why: about 12% of card payments (8%
    /// declined, 3% 3-D Secure, 1% network), 21% of UPI payments (customers miss the
    /// approval request), 7% of wallet payments, and cash on delivery above its limit
    /// (1% of any attempt is a network error).
    fn payment_failure(
        &mut self,
        method: PaymentMethod,
        amount_cents: u64,
    ) -> Option<FailureReason> {
        let roll = self.rng.f64();
        match method {
            PaymentMethod::Card if roll < 0.08 => Some(FailureReason::CardDeclined),
            PaymentMethod::Card if roll < 0.11 => Some(FailureReason::ThreeDsFailed),
            PaymentMethod::Upi if roll < 0.17 => Some(FailureReason::UpiTimeout),
            PaymentMethod::Upi if roll < 0.21 => Some(FailureReason::NetworkError),
            PaymentMethod::Wallet if roll < 0.06 => Some(FailureReason::InsufficientBalance),
            PaymentMethod::CashOnDelivery if amount_cents > 8_000 => {
                Some(FailureReason::CodLimitExceeded)
            }
            _ if roll > 0.99 => Some(FailureReason::NetworkError),
            _ => None,
        }
    }

    /// Delivery, and sometimes a rating.
    fn deliver(&mut self, order_id: u64) {
        let promised_minutes = 25 + 5 * self.rng.u32(..5);
        let delivery_minutes = (promised_minutes + self.rng.u32(..22)).saturating_sub(8);
        let late = delivery_minutes > promised_minutes;
        self.clock
            .advance(Duration::from_secs(u64::from(delivery_minutes) * 60));
        emit!(OrderDelivered {
            order_id,
            delivery_minutes,
            promised_minutes,
            late,
        });
        if self.chance(0.35) {
            self.pause(60, 3600);
            let stars = if late {
                1 + self.rng.u32(..4)
            } else {
                3 + self.rng.u32(..3)
            };
            let comment = self
                .chance(0.3)
                .then(|| COMMENTS[self.rng.usize(..COMMENTS.len())].to_owned());
            emit!(OrderRated {
                order_id,
                stars,
                comment,
            });
        }
    }
}
