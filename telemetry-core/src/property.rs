//! Property types: which Rust types an event field may have, and how their values are
//! read without allocating.

use std::borrow::Cow;

use crate::schema::{PropertyType, Str};

/// A type that can be the type of an event field.
///
/// Implemented for integers (up to 64 bits), `f32`/`f64`, `bool`, `String`, `&str`,
/// `Cow<str>`, `Option<T>` of those, and unit-only enums with
/// `#[derive(TelemetryProperty)]`. Other types are rejected at compile time: events are
/// flat records that every analytics backend can store, so nested structs, collections
/// and maps are not properties.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the type of a telemetry property",
    label = "unsupported property type",
    note = "supported types: integers up to 64 bits, `f32`, `f64`, `bool`, `String`, `&str`, `Cow<str>`, `Option<T>` of these, and unit-only enums with `#[derive(TelemetryProperty)]`",
    note = "to leave a field out of the event, mark it `#[telemetry(skip)]`"
)]
pub trait TelemetryProperty {
    /// JSON type of the value.
    const TYPE: PropertyType;
    /// Whether the property may be absent (`Option<T>`).
    const OPTIONAL: bool = false;
    /// For enums, every value; empty for other types.
    const VALUES: &'static [Str] = &[];

    /// The value, borrowed from `self`.
    fn to_value(&self) -> PropertyValue<'_>;
}

/// A borrowed property value, as read from an event field on the emitting thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue<'a> {
    /// `None` of an optional property: the property is left out of the record.
    Absent,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string (also the value of an enum property).
    Str(&'a str),
}

macro_rules! int_property {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl TelemetryProperty for $t {
            const TYPE: PropertyType = PropertyType::Integer;
            #[inline]
            fn to_value(&self) -> PropertyValue<'_> {
                PropertyValue::$variant(*self as $wide)
            }
        }
    )*};
}
int_property!(Int as i64: i8, i16, i32, i64, isize);
int_property!(UInt as u64: u8, u16, u32, u64, usize);

impl TelemetryProperty for f32 {
    const TYPE: PropertyType = PropertyType::Number;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Float(f64::from(*self))
    }
}

impl TelemetryProperty for f64 {
    const TYPE: PropertyType = PropertyType::Number;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Float(*self)
    }
}

impl TelemetryProperty for bool {
    const TYPE: PropertyType = PropertyType::Boolean;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Bool(*self)
    }
}

impl TelemetryProperty for String {
    const TYPE: PropertyType = PropertyType::String;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Str(self)
    }
}

impl TelemetryProperty for &str {
    const TYPE: PropertyType = PropertyType::String;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Str(self)
    }
}

impl TelemetryProperty for Cow<'_, str> {
    const TYPE: PropertyType = PropertyType::String;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        PropertyValue::Str(self)
    }
}

impl<T: TelemetryProperty> TelemetryProperty for Option<T> {
    const TYPE: PropertyType = T::TYPE;
    const OPTIONAL: bool = true;
    const VALUES: &'static [Str] = T::VALUES;
    #[inline]
    fn to_value(&self) -> PropertyValue<'_> {
        match self {
            Some(v) => v.to_value(),
            None => PropertyValue::Absent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_without_loss() {
        assert_eq!(u64::MAX.to_value(), PropertyValue::UInt(u64::MAX));
        assert_eq!(i8::MIN.to_value(), PropertyValue::Int(-128));
        assert_eq!(7usize.to_value(), PropertyValue::UInt(7));
        assert_eq!(<u16 as TelemetryProperty>::TYPE, PropertyType::Integer);
    }

    #[test]
    fn option_is_optional_and_absent_when_none() {
        const { assert!(<Option<u32> as TelemetryProperty>::OPTIONAL) };
        const { assert!(!<u32 as TelemetryProperty>::OPTIONAL) };
        assert_eq!(None::<u32>.to_value(), PropertyValue::Absent);
        assert_eq!(Some("x").to_value(), PropertyValue::Str("x"));
    }

    #[test]
    fn strings_borrow() {
        let s = String::from("abc");
        assert_eq!(s.to_value(), PropertyValue::Str("abc"));
        let c: Cow<'_, str> = Cow::Owned("d".into());
        assert_eq!(c.to_value(), PropertyValue::Str("d"));
        assert_eq!(1.5f32.to_value(), PropertyValue::Float(1.5));
    }
}
