// Property enums: snake_case values by default, every `rename_all` rule, and `rename`
// on a variant.
use telemetry_core::{emit, testing, TelemetryEvent, TelemetryProperty};

#[derive(TelemetryProperty)]
enum Default {
    OrderAgain,
    Http2Push,
}

macro_rules! rule {
    ($name:ident, $rule:literal, $expected:expr) => {
        #[derive(TelemetryProperty)]
        #[telemetry(rename_all = $rule)]
        enum $name {
            OrderAgain,
            Menu,
        }
        assert_eq!(<$name as TelemetryProperty>::VALUES, $expected);
        let _ = ($name::OrderAgain, $name::Menu);
    };
}

#[derive(TelemetryProperty)]
#[telemetry(rename_all = "kebab-case")]
enum Renamed {
    OrderAgain,
    #[telemetry(rename = "cash_on_delivery")]
    Cash,
}

/// A dish was added.
#[derive(TelemetryEvent)]
#[telemetry(name = "cart.item_added")]
struct CartItemAdded {
    /// Default rule.
    plain: Default,
    /// Kebab and a variant rename.
    renamed: Renamed,
    /// Optional.
    maybe: Option<Renamed>,
}

fn main() {
    assert_eq!(<Default as TelemetryProperty>::VALUES, ["order_again", "http2_push"]);
    rule!(Snake, "snake_case", ["order_again", "menu"]);
    rule!(Lower, "lowercase", ["orderagain", "menu"]);
    rule!(Upper, "UPPERCASE", ["ORDERAGAIN", "MENU"]);
    rule!(Pascal, "PascalCase", ["OrderAgain", "Menu"]);
    rule!(Camel, "camelCase", ["orderAgain", "menu"]);
    rule!(Screaming, "SCREAMING_SNAKE_CASE", ["ORDER_AGAIN", "MENU"]);
    rule!(Kebab, "kebab-case", ["order-again", "menu"]);
    assert_eq!(<Renamed as TelemetryProperty>::VALUES, ["order-again", "cash_on_delivery"]);

    let events = testing::capture(|| {
        emit!(CartItemAdded {
            plain: Default::Http2Push,
            renamed: Renamed::Cash,
            maybe: Some(Renamed::OrderAgain),
        });
    });
    let e = events.single::<CartItemAdded>();
    assert_eq!(e["plain"], "http2_push");
    assert_eq!(e["renamed"], "cash_on_delivery");
    assert_eq!(e["maybe"], "order-again");
    let _ = Default::OrderAgain;
}
