//! Consent and sampling, applied by the writer before a record is built.
//!
//! The consent state is process-global ([`set_consent`]), so that an application can
//! change it from anywhere (a settings screen, a consent banner) without holding the
//! [`Guard`](crate::Guard). The writer reads it for every event it takes off the queue
//! and reacts to transitions (see [`Consent`]); the emitting thread reads it once,
//! relaxed, only to drop events at once while consent is denied.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::schema::EventSchema;

/// The user's consent to product telemetry.
///
/// - [`Granted`](Consent::Granted): events are written.
/// - [`Denied`](Consent::Denied): events are dropped on the emitting thread and
///   counted in [`Stats::dropped_no_consent`](crate::Stats); events queued but not yet
///   written when consent is withdrawn are discarded and counted too.
/// - [`Unknown`](Consent::Unknown): the user has not decided yet. The writer buffers up
///   to [`Config::unknown_consent_buffer`](crate::Config::unknown_consent_buffer)
///   events (default [`DEFAULT_UNKNOWN_CONSENT_BUFFER`]) in memory, nothing is written.
///   Unknown -> granted writes the buffer; unknown -> denied discards it and counts it;
///   events beyond the buffer, and a buffer still undecided at shutdown, are discarded
///   and counted in `dropped_no_consent`.
///
/// Events of a category marked essential with
/// [`Config::essential_category`](crate::Config::essential_category) are written in
/// every state. The initial state is [`Config::consent`](crate::Config::consent)
/// (default `Granted`), unless `DO_NOT_TRACK` or `TELEMETRY_DISABLED` switch telemetry
/// off altogether.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consent {
    /// The user agreed: events are written.
    Granted,
    /// The user refused or withdrew consent: events are discarded and counted.
    Denied,
    /// Not decided yet: events are buffered (bounded) until the user decides.
    Unknown,
}

/// Default of [`Config::unknown_consent_buffer`](crate::Config::unknown_consent_buffer).
pub const DEFAULT_UNKNOWN_CONSENT_BUFFER: usize = 1000;

const GRANTED: u8 = 0;
const DENIED: u8 = 1;
const UNKNOWN: u8 = 2;

static CONSENT: AtomicU8 = AtomicU8::new(GRANTED);

impl Consent {
    fn to_u8(self) -> u8 {
        match self {
            Consent::Granted => GRANTED,
            Consent::Denied => DENIED,
            Consent::Unknown => UNKNOWN,
        }
    }

    fn from_u8(v: u8) -> Consent {
        match v {
            GRANTED => Consent::Granted,
            DENIED => Consent::Denied,
            _ => Consent::Unknown,
        }
    }
}

/// Records the user's consent decision; takes effect at once for new events and, on
/// the writer, for every event not yet written (see [`Consent`]). `init` sets the
/// state from [`Config::consent`](crate::Config::consent), so call this after `init`.
pub fn set_consent(consent: Consent) {
    CONSENT.store(consent.to_u8(), Ordering::SeqCst);
    super::wake_writer();
}

/// The current consent state.
pub fn consent() -> Consent {
    Consent::from_u8(CONSENT.load(Ordering::SeqCst))
}

pub(crate) fn init_consent(consent: Consent) {
    CONSENT.store(consent.to_u8(), Ordering::SeqCst);
}

/// The emitting thread's check: one relaxed load.
#[inline]
pub(crate) fn denied_now() -> bool {
    CONSENT.load(Ordering::Relaxed) == DENIED
}

/// Categories whose events are sent whatever the consent state.
#[derive(Debug, Default, Clone)]
pub(crate) struct Essential(pub(crate) Vec<String>);

impl Essential {
    #[inline]
    pub(crate) fn contains(&self, schema: &'static EventSchema) -> bool {
        !self.0.is_empty() && self.0.iter().any(|c| *c == *schema.category)
    }
}

/// Per-event sampling rates (`Config::sample_rate`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Sampling(pub(crate) std::collections::HashMap<String, f64>);

impl Sampling {
    /// The rate of this event: 1 unless configured.
    #[inline]
    pub(crate) fn rate(&self, schema: &'static EventSchema) -> f64 {
        if self.0.is_empty() {
            return 1.0;
        }
        self.0.get(&*schema.name).copied().unwrap_or(1.0)
    }
}

/// Whether the user (or installation) `key` is kept at `rate`. The decision depends
/// only on the key, so a user kept for an event is kept for all of them (and for every
/// event of a higher rate): funnels and retention stay whole. The hash is fixed
/// (FNV-1a then a 64-bit finalizer), so the same user is kept in every process.
pub(crate) fn sampled_in(key: &str, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 || rate.is_nan() {
        return false;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    // The top 53 bits as a uniform number in [0, 1).
    ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
}

#[cfg(test)]
mod tests {
    use super::sampled_in;

    #[test]
    fn sampling_is_per_key_and_monotonic_in_the_rate() {
        let kept = (0..40_000)
            .filter(|i| sampled_in(&format!("user-{i}"), 0.25))
            .count();
        assert!((9_500..10_500).contains(&kept), "{kept}");
        for i in 0..1000 {
            let key = format!("k{i}");
            if sampled_in(&key, 0.1) {
                assert!(sampled_in(&key, 0.5) && sampled_in(&key, 1.0));
            }
            assert!(!sampled_in(&key, 0.0));
        }
    }
}
