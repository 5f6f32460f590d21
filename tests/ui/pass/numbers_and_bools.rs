// Every integer type, both floats and `bool` are properties.
use telemetry_core::{emit, testing, PropertyType, TelemetryEvent};

/// Every numeric property type.
#[derive(TelemetryEvent)]
#[telemetry(name = "numbers.sent")]
struct Numbers {
    /// An i8.
    a: i8,
    /// An i16.
    b: i16,
    /// An i32.
    c: i32,
    /// An i64.
    d: i64,
    /// An isize.
    e: isize,
    /// A u8.
    f: u8,
    /// A u16.
    g: u16,
    /// A u32.
    h: u32,
    /// A u64.
    i: u64,
    /// A usize.
    j: usize,
    /// An f32.
    k: f32,
    /// An f64.
    l: f64,
    /// A bool.
    m: bool,
}

fn main() {
    let events = testing::capture(|| {
        emit!(Numbers {
            a: i8::MIN,
            b: -2,
            c: -3,
            d: i64::MIN,
            e: -5,
            f: u8::MAX,
            g: 7,
            h: 8,
            i: u64::MAX,
            j: 10,
            k: 1.5,
            l: -2.25,
            m: true,
        })
    });
    let e = events.single::<Numbers>();
    assert_eq!(e["a"], -128);
    assert_eq!(e["d"], i64::MIN);
    assert_eq!(e["f"], 255);
    assert_eq!(e["i"], u64::MAX);
    assert_eq!(e["k"], 1.5);
    assert_eq!(e["l"], -2.25);
    assert_eq!(e["m"], true);
    let schema = Numbers::schema();
    assert_eq!(schema.property("e").unwrap().ty, PropertyType::Integer);
    assert_eq!(schema.property("k").unwrap().ty, PropertyType::Number);
    assert_eq!(schema.property("m").unwrap().ty, PropertyType::Boolean);
}
