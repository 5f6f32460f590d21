// `Option<T>` of every property type: optional, and absent from the record when `None`.
use std::borrow::Cow;

use telemetry_core::{emit, testing, PropertyType, TelemetryEvent, TelemetryProperty};

/// Where a dish was added from.
#[derive(TelemetryProperty)]
enum Source {
    Menu,
    OrderAgain,
}

/// Every optional property type.
#[derive(TelemetryEvent)]
#[telemetry(name = "options.sent")]
struct Options<'a> {
    /// i8.
    a: Option<i8>,
    /// i16.
    b: Option<i16>,
    /// i32.
    c: Option<i32>,
    /// i64.
    d: Option<i64>,
    /// isize.
    e: Option<isize>,
    /// u8.
    f: Option<u8>,
    /// u16.
    g: Option<u16>,
    /// u32.
    h: Option<u32>,
    /// u64.
    i: Option<u64>,
    /// usize.
    j: Option<usize>,
    /// f32.
    k: Option<f32>,
    /// f64.
    l: Option<f64>,
    /// bool.
    m: Option<bool>,
    /// String.
    n: Option<String>,
    /// &str.
    o: Option<&'a str>,
    /// Cow.
    p: Option<Cow<'a, str>>,
    /// An enum.
    q: Option<Source>,
}

fn main() {
    let events = testing::capture(|| {
        emit!(Options {
            a: Some(1),
            b: Some(2),
            c: Some(3),
            d: Some(4),
            e: Some(5),
            f: Some(6),
            g: Some(7),
            h: Some(8),
            i: Some(9),
            j: Some(10),
            k: Some(0.5),
            l: Some(0.25),
            m: Some(false),
            n: Some("n".to_owned()),
            o: Some("o"),
            p: Some(Cow::Borrowed("p")),
            q: Some(Source::OrderAgain),
        });
        emit!(Options {
            a: None,
            b: None,
            c: None,
            d: None,
            e: None,
            f: None,
            g: None,
            h: None,
            i: None,
            j: None,
            k: None,
            l: None,
            m: None,
            n: None,
            o: None,
            p: None,
            q: None,
        });
    });
    assert_eq!(events[0].properties().len(), 17);
    assert_eq!(events[0]["j"], 10);
    assert_eq!(events[0]["q"], "order_again");
    assert!(events[1].properties().is_empty());
    let schema = Options::schema();
    assert!(schema.properties.iter().all(|p| p.optional));
    let q = schema.property("q").unwrap();
    assert_eq!(q.ty, PropertyType::String);
    assert_eq!(&*q.values, ["menu", "order_again"]);
    let _ = Source::Menu;
}
