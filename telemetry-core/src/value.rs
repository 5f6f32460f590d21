//! Owned property values, as stored in records and captured events.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::property::PropertyValue;

/// An owned property value.
///
/// Serialized as the plain JSON value (`true`, `42`, `-1`, `1.5`, `"upi"`); a
/// non-finite float (NaN, infinity), which JSON cannot hold, is written as `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A negative or signed integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// `null` in a record: only written for a non-finite float.
    Null,
}

impl Value {
    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as `i128` if it is an integer of either sign.
    pub fn as_integer(&self) -> Option<i128> {
        match *self {
            Value::Int(i) => Some(i.into()),
            Value::UInt(u) => Some(u.into()),
            _ => None,
        }
    }

    /// The value as `f64` if it is numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Converts a borrowed value; `None` for [`PropertyValue::Absent`].
    pub fn from_property(value: PropertyValue<'_>) -> Option<Value> {
        Some(match value {
            PropertyValue::Absent => return None,
            PropertyValue::Bool(b) => Value::Bool(b),
            PropertyValue::Int(i) if i >= 0 => Value::UInt(i as u64),
            PropertyValue::Int(i) => Value::Int(i),
            PropertyValue::UInt(u) => Value::UInt(u),
            PropertyValue::Float(f) => Value::Float(f),
            PropertyValue::Str(s) => Value::String(s.to_owned()),
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => f.write_str(s),
            Value::Null => f.write_str("null"),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $wide:ty),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v as $wide)
            }
        }
    )*};
}
value_from!(u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64,
    usize => UInt as u64, f32 => Float as f64, f64 => Float as f64);

macro_rules! value_from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::from_property(PropertyValue::Int(v as i64)).unwrap_or(Value::Null)
            }
        }
    )*};
}
value_from_signed!(i8, i16, i32, i64, isize);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

/// Compares numerically across signed/unsigned representations, and strings by
/// content, so tests can write `assert_eq!(event["price_cents"], 1250)`.
macro_rules! value_eq {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Value {
            // `Value::from` of a number or bool does not allocate.
            #[allow(clippy::cmp_owned)]
            fn eq(&self, other: &$t) -> bool {
                *self == Value::from(*other)
            }
        }
    )*};
}
value_eq!(
    u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64, bool
);

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}
impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) | Value::Null => s.serialize_unit(),
            Value::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, number, string or null property value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(Value::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
        }
        d.deserialize_any(V)
    }
}

/// The properties of one record, in the order the event declares them.
///
/// Serialized as a JSON object. Optional properties that were `None` are absent, never
/// `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Properties(pub Vec<(String, Value)>);

impl Properties {
    /// The value of a property, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Iterates over `(name, value)` pairs in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of properties present.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no property is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Properties;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of property values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Properties, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if out.iter().any(|(seen, _): &(String, Value)| *seen == k) {
                        return Err(de::Error::custom(format_args!("duplicate property `{k}`")));
                    }
                    out.push((k, v));
                }
                Ok(Properties(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let props = Properties(vec![
            ("a".into(), Value::UInt(3)),
            ("b".into(), Value::Int(-4)),
            ("c".into(), Value::Float(1.5)),
            ("d".into(), Value::String("x".into())),
            ("e".into(), Value::Bool(true)),
        ]);
        let json = serde_json::to_string(&props).unwrap();
        assert_eq!(json, r#"{"a":3,"b":-4,"c":1.5,"d":"x","e":true}"#);
        let back: Properties = serde_json::from_str(&json).unwrap();
        assert_eq!(back, props);
    }

    #[test]
    fn non_finite_floats_become_null() {
        assert_eq!(
            serde_json::to_string(&Value::Float(f64::NAN)).unwrap(),
            "null"
        );
    }

    #[test]
    fn compares_with_plain_values() {
        assert_eq!(Value::UInt(5), 5i32);
        assert_eq!(Value::Int(-5), -5i64);
        assert_eq!(Value::String("upi".into()), "upi");
        assert_ne!(Value::UInt(5), 6u8);
    }

    #[test]
    fn rejects_duplicate_keys() {
        let err = serde_json::from_str::<Properties>(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate property `a`"), "{err}");
    }
}
