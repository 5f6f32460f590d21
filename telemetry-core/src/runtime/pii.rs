//! Personal data handling, applied on the writer thread before any sink sees a record.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::schema::Pii;
use crate::value::Value;

/// The marker that replaces `pii = "redact"` values.
pub const REDACTED: &str = "[redacted]";

/// Number of bytes of the HMAC kept in a hashed value (printed as twice as many hex
/// digits). 128 bits keep collisions out of reach for any realistic number of users.
pub const HASH_BYTES: usize = 16;

/// Applies each property's declared handling.
#[derive(Clone)]
pub(crate) struct PiiPolicy {
    keyed: Option<Hmac<Sha256>>,
}

impl PiiPolicy {
    pub(crate) fn new(secret: Option<&[u8]>) -> PiiPolicy {
        PiiPolicy {
            keyed: secret.map(|s| {
                <Hmac<Sha256> as Mac>::new_from_slice(s).expect("HMAC accepts keys of any length")
            }),
        }
    }

    /// The value to write for a property, or `None` to leave it out.
    pub(crate) fn apply(&self, pii: Pii, value: Value) -> Option<Value> {
        match pii {
            Pii::None => Some(value),
            Pii::Drop => None,
            Pii::Redact => Some(Value::String(REDACTED.to_owned())),
            // `init` refuses to start without a key when any event declares hashing,
            // so `keyed` is only missing for events registered after `init` (e.g. a
            // plugin loaded later): those values are redacted, never sent raw.
            Pii::Hash => Some(Value::String(match &self.keyed {
                Some(mac) => hash(mac.clone(), &value),
                None => REDACTED.to_owned(),
            })),
        }
    }
}

fn hash(mut mac: Hmac<Sha256>, value: &Value) -> String {
    // Hash the value's text form, so `42` and `"42"` hash alike and joins across
    // events with differently typed ids still work.
    match value {
        Value::String(s) => mac.update(s.as_bytes()),
        other => mac.update(other.to_string().as_bytes()),
    }
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(HASH_BYTES * 2);
    for b in &digest[..HASH_BYTES] {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_keyed_stable_and_truncated() {
        let a = PiiPolicy::new(Some(b"secret-a"));
        let b = PiiPolicy::new(Some(b"secret-b"));
        let email = || Value::String("ada@example.com".into());
        let ha = a.apply(Pii::Hash, email()).unwrap();
        assert_eq!(ha, a.apply(Pii::Hash, email()).unwrap());
        assert_ne!(ha, b.apply(Pii::Hash, email()).unwrap());
        let s = ha.as_str().unwrap();
        assert_eq!(s.len(), HASH_BYTES * 2);
        assert!(s.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!s.contains("ada"));
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let p = PiiPolicy::new(Some(b"Jefe"));
        let h = p
            .apply(
                Pii::Hash,
                Value::String("what do ya want for nothing?".into()),
            )
            .unwrap();
        assert_eq!(h, "5bdcc146bf60754e6a042426089575c7");
    }

    #[test]
    fn redact_drop_and_missing_key() {
        let p = PiiPolicy::new(None);
        assert_eq!(p.apply(Pii::Drop, Value::UInt(1)), None);
        assert_eq!(
            p.apply(Pii::Redact, Value::UInt(1)),
            Some(Value::String(REDACTED.into()))
        );
        assert_eq!(
            p.apply(Pii::Hash, "x".into()),
            Some(Value::String(REDACTED.into()))
        );
        assert_eq!(p.apply(Pii::None, Value::UInt(1)), Some(Value::UInt(1)));
    }
}
