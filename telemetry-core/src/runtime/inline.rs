//! The compact encoding of an event in its queue slot: property values as
//! `[index][tag][payload]`, and for an `#[instrument_event]` call a trailer with its
//! outcome, duration and error kind, so that neither needs the heap.
//!
//! Payloads: nothing for booleans (the tag says which), a fixed 8-byte little-endian
//! word for numbers (one store, no `memcpy` call: the encoder runs once per property on
//! the emitting thread), `[len][bytes]` for strings. The call trailer is read from the
//! end: `[error kind bytes][kind len][outcome | HAS_KIND][duration in ns, 8 bytes]`.

use std::time::Duration;

use serde::Serialize;

use crate::event::PropertyVisitor;
use crate::instrument::{ObservedKind, Outcome};
use crate::property::PropertyValue;
use crate::record::Call;
use crate::value::Value;

/// Bytes of encoded values a slot holds inline. 6 properties of 8-byte numbers take 60
/// bytes, leaving room for short strings (enum values, codes, ids) or a call trailer.
pub(crate) const INLINE_BYTES: usize = 103;
const _: () = assert!(
    INLINE_BYTES < u8::MAX as usize,
    "lengths are stored in one byte"
);

const TAG_FALSE: u8 = 0;
const TAG_TRUE: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_UINT: u8 = 3;
const TAG_FLOAT: u8 = 4;
const TAG_STR: u8 = 5;

/// Trailer bytes besides the error kind's text: its length, outcome, duration.
const TRAILER: usize = 10;
/// In the trailer's outcome byte: an error kind is present.
const HAS_KIND: u8 = 0x80;

/// Encoded values (and possibly a call trailer) of one event.
#[derive(Clone)]
pub(crate) struct Inline {
    len: u8,
    bytes: [u8; INLINE_BYTES],
}

impl Inline {
    pub(crate) const EMPTY: Inline = Inline {
        len: 0,
        bytes: [0; INLINE_BYTES],
    };

    /// Appends one property value; `false` (and unchanged) when it does not fit.
    #[inline]
    pub(crate) fn push(&mut self, index: usize, value: PropertyValue<'_>) -> bool {
        let Ok(index) = u8::try_from(index) else {
            return false;
        };
        let (tag, word) = match value {
            PropertyValue::Absent => return true,
            PropertyValue::Bool(b) => return self.header(index, TAG_FALSE + u8::from(b)),
            PropertyValue::Int(i) if i >= 0 => (TAG_UINT, i as u64),
            PropertyValue::Int(i) => (TAG_INT, i as u64),
            PropertyValue::UInt(u) => (TAG_UINT, u),
            PropertyValue::Float(f) => (TAG_FLOAT, f.to_bits()),
            PropertyValue::Str(s) => return self.string(index, s),
        };
        let pos = usize::from(self.len);
        if pos + 10 > INLINE_BYTES {
            return false;
        }
        let buf = &mut self.bytes;
        buf[pos] = index;
        buf[pos + 1] = tag;
        buf[pos + 2..pos + 10].copy_from_slice(&word.to_le_bytes());
        self.len = (pos + 10) as u8;
        true
    }

    fn header(&mut self, index: u8, tag: u8) -> bool {
        let pos = usize::from(self.len);
        if pos + 2 > INLINE_BYTES {
            return false;
        }
        self.bytes[pos] = index;
        self.bytes[pos + 1] = tag;
        self.len = (pos + 2) as u8;
        true
    }

    fn string(&mut self, index: u8, s: &str) -> bool {
        let pos = usize::from(self.len);
        let end = pos + 3 + s.len();
        if end > INLINE_BYTES {
            return false;
        }
        let buf = &mut self.bytes;
        buf[pos] = index;
        buf[pos + 1] = TAG_STR;
        buf[pos + 2] = s.len() as u8; // < INLINE_BYTES < 255
        buf[pos + 3..end].copy_from_slice(s.as_bytes());
        self.len = end as u8;
        true
    }

    /// Appends the trailer of an instrumented call, after the last value; `false` (and
    /// unchanged) when it does not fit. Nothing may be pushed after it.
    pub(crate) fn push_call(
        &mut self,
        duration: Duration,
        outcome: Outcome,
        kind: Option<&ObservedKind>,
    ) -> bool {
        let pos = usize::from(self.len);
        let room = INLINE_BYTES.saturating_sub(pos + TRAILER);
        let (kind_len, flag) = match kind {
            None => (0, 0),
            Some(kind) => match kind.write_into(&mut self.bytes[pos..pos + room]) {
                Some(n) => (n, HAS_KIND),
                None => return false,
            },
        };
        if pos + kind_len + TRAILER > INLINE_BYTES {
            return false;
        }
        let at = pos + kind_len;
        self.bytes[at] = kind_len as u8;
        self.bytes[at + 1] = outcome_code(outcome) | flag;
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.bytes[at + 2..at + TRAILER].copy_from_slice(&nanos.to_le_bytes());
        self.len = (at + TRAILER) as u8;
        true
    }

    /// The call trailer, given the function (an event that has one: see `push_call`).
    pub(crate) fn call<'a>(&'a self, function: &'a str) -> CallRef<'a> {
        let end = usize::from(self.len);
        let at = end - TRAILER;
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.bytes[at + 2..end]);
        let nanos = u64::from_le_bytes(word);
        let code = self.bytes[at + 1];
        let kind_len = usize::from(self.bytes[at]);
        let error_kind = (code & HAS_KIND != 0)
            .then(|| std::str::from_utf8(&self.bytes[at - kind_len..at]).unwrap_or("?"));
        CallRef {
            function,
            duration_ms: nanos as f64 / 1e6,
            outcome: outcome_of(code & !HAS_KIND),
            error_kind,
        }
    }

    /// Where the values end: before the call trailer, if there is one.
    fn values_end(&self, has_call: bool) -> usize {
        let end = usize::from(self.len);
        if has_call {
            end - TRAILER - usize::from(self.bytes[end - TRAILER])
        } else {
            end
        }
    }

    /// The encoded values, in the order they were pushed.
    pub(crate) fn values(&self, has_call: bool) -> Values<'_> {
        Values {
            buf: &self.bytes[..self.values_end(has_call)],
        }
    }

    /// The values, owned, appended to `out`.
    pub(crate) fn values_into(&self, has_call: bool, out: &mut Vec<(usize, Value)>) {
        out.extend(
            self.values(has_call)
                .map(|(index, v)| (index, v.to_value())),
        );
    }
}

/// A decoded value, borrowing the slot: strings stay bytes (they were copied from a
/// `&str`), so the writer can escape them without validating them again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Encoded<'a> {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
}

impl Encoded<'_> {
    /// As an owned value.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Encoded::Bool(b) => Value::Bool(b),
            Encoded::Int(i) => Value::Int(i),
            Encoded::UInt(u) => Value::UInt(u),
            Encoded::Float(f) => Value::Float(f),
            Encoded::Str(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
        }
    }
}

/// Iterator over encoded values: `(property index, value)`.
pub(crate) struct Values<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Values<'a> {
    type Item = (usize, Encoded<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let [index, tag, rest @ ..] = self.buf else {
            return None;
        };
        let (value, rest) = match *tag {
            TAG_FALSE | TAG_TRUE => (Encoded::Bool(*tag == TAG_TRUE), rest),
            TAG_INT | TAG_UINT | TAG_FLOAT => {
                let (word, rest) = rest.split_first_chunk::<8>()?;
                let value = match *tag {
                    TAG_INT => Encoded::Int(i64::from_le_bytes(*word)),
                    TAG_UINT => Encoded::UInt(u64::from_le_bytes(*word)),
                    _ => Encoded::Float(f64::from_le_bytes(*word)),
                };
                (value, rest)
            }
            _ => {
                let (len, rest) = rest.split_first()?;
                let (s, rest) = rest.split_at_checked(usize::from(*len))?;
                (Encoded::Str(s), rest)
            }
        };
        self.buf = rest;
        Some((usize::from(*index), value))
    }
}

/// Encodes a visited event; `overflow` once a value did not fit.
pub(crate) struct Encoder<'a> {
    pub(crate) inline: &'a mut Inline,
    pub(crate) overflow: bool,
}

impl PropertyVisitor for Encoder<'_> {
    #[inline]
    fn property(&mut self, index: usize, value: PropertyValue<'_>) {
        if !self.overflow && !self.inline.push(index, value) {
            self.overflow = true;
        }
    }
}

/// A call as a record's `call` field serializes it (same fields, same order as
/// [`Call`]), borrowed from the slot: the writer formats it without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct CallRef<'a> {
    pub(crate) function: &'a str,
    pub(crate) duration_ms: f64,
    pub(crate) outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_kind: Option<&'a str>,
}

impl CallRef<'_> {
    /// The owned [`Call`] of a record.
    pub(crate) fn to_call(self) -> Call {
        let mut call = Call::new(
            self.function,
            Duration::ZERO,
            self.outcome,
            self.error_kind.map(str::to_owned),
        );
        call.duration_ms = self.duration_ms;
        call
    }
}

impl<'a> From<&'a Call> for CallRef<'a> {
    fn from(call: &'a Call) -> CallRef<'a> {
        CallRef {
            function: &call.function,
            duration_ms: call.duration_ms,
            outcome: call.outcome,
            error_kind: call.error_kind.as_deref(),
        }
    }
}

fn outcome_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Error => 1,
        Outcome::Panicked => 2,
        Outcome::Cancelled => 3,
    }
}

fn outcome_of(code: u8) -> Outcome {
    match code {
        0 => Outcome::Ok,
        1 => Outcome::Error,
        2 => Outcome::Panicked,
        _ => Outcome::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn owned(inline: &Inline, has_call: bool) -> Vec<(usize, Value)> {
        let mut out = Vec::new();
        inline.values_into(has_call, &mut out);
        out
    }

    #[test]
    fn values_round_trip_and_what_does_not_fit_is_refused() {
        let mut inline = Inline::EMPTY;
        let values = [
            PropertyValue::UInt(u64::MAX),
            PropertyValue::Int(-5),
            PropertyValue::Int(5),
            PropertyValue::Bool(true),
            PropertyValue::Absent,
            PropertyValue::Float(1.5),
            PropertyValue::Str("menu"),
            PropertyValue::Str(""),
        ];
        for (i, v) in values.iter().enumerate() {
            assert!(inline.push(i, *v));
        }
        let expected = [
            (0, Value::UInt(u64::MAX)),
            (1, Value::Int(-5)),
            (2, Value::UInt(5)),
            (3, Value::Bool(true)),
            (5, Value::Float(1.5)),
            (6, Value::from("menu")),
            (7, Value::from("")),
        ];
        assert_eq!(owned(&inline, false), expected);
        let before = inline.len;
        assert!(!inline.push(8, PropertyValue::Str(&"x".repeat(INLINE_BYTES))));
        assert!(!inline.push(300, PropertyValue::Bool(true)));
        assert_eq!(inline.len, before, "a refused value leaves nothing behind");
        assert_eq!(owned(&inline, false), expected);
    }

    #[test]
    fn a_call_trailer_follows_the_values() {
        let mut inline = Inline::EMPTY;
        assert!(inline.push(0, PropertyValue::UInt(7)));
        assert!(inline.push(1, PropertyValue::Str("card")));
        let kind = ObservedKind::TypeName("alloc::boxed::Box<dyn core::error::Error>");
        assert!(inline.push_call(Duration::from_micros(1500), Outcome::Error, Some(&kind)));
        assert_eq!(
            owned(&inline, true),
            [(0, Value::UInt(7)), (1, Value::from("card"))]
        );
        let call = inline.call("shop::pay");
        assert_eq!(
            call,
            CallRef {
                function: "shop::pay",
                duration_ms: 1.5,
                outcome: Outcome::Error,
                error_kind: Some("Box<dyn Error>"),
            }
        );
        let owned_call = Call::new(
            "shop::pay",
            Duration::from_micros(1500),
            Outcome::Error,
            Some("Box<dyn Error>".into()),
        );
        assert_eq!(call.to_call(), owned_call);
        assert_eq!(
            serde_json::to_string(&call).unwrap(),
            serde_json::to_string(&owned_call).unwrap()
        );

        for outcome in [Outcome::Ok, Outcome::Panicked, Outcome::Cancelled] {
            let mut inline = Inline::EMPTY;
            assert!(inline.push_call(Duration::MAX, outcome, None));
            assert!(owned(&inline, true).is_empty());
            let call = inline.call("f");
            assert_eq!((call.outcome, call.error_kind), (outcome, None));
            assert_eq!(call.duration_ms, u64::MAX as f64 / 1e6);
        }
        let mut inline = Inline::EMPTY;
        let empty = ObservedKind::Named(Cow::Borrowed(""));
        assert!(inline.push_call(Duration::ZERO, Outcome::Error, Some(&empty)));
        assert_eq!(inline.call("f").error_kind, Some(""));
    }

    #[test]
    fn a_trailer_that_does_not_fit_is_refused() {
        let mut inline = Inline::EMPTY;
        while inline.push(0, PropertyValue::UInt(1)) {}
        let before = inline.len;
        assert!(!inline.push_call(Duration::ZERO, Outcome::Ok, None));
        assert_eq!(inline.len, before);
        let mut inline = Inline::EMPTY;
        let long = ObservedKind::Named("k".repeat(INLINE_BYTES).into());
        assert!(!inline.push_call(Duration::ZERO, Outcome::Error, Some(&long)));
        assert_eq!(inline.len, 0);
    }
}
