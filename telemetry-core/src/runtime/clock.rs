//! The event timestamp, read on the emitting thread, and [`ManualClock`].
//!
//! Records hold milliseconds. `SystemTime::now()` (a vDSO `clock_gettime`) costs
//! about 20 ns, half the whole emit budget; on Linux the emitting thread reads
//! `CLOCK_REALTIME_COARSE` instead (a few ns: the kernel's last tick, no TSC read), so a
//! timestamp may be up to one scheduler tick early (1-4 ms with CONFIG_HZ of 1000-250).
//! Order between events is the queue's order, never the timestamp's, so ties and
//! coarse steps are harmless; the writer's UUID v7 ids follow the queue's order too
//! (`worker.rs`). Elsewhere, `SystemTime::now()`.
//!
//! A pipeline configured with a [`ManualClock`] reads it instead: one branch on a
//! field of the pipeline the emitting thread reads anyway, then one relaxed atomic load.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, from a coarse (tick-precision) wall clock.
#[inline]
pub(crate) fn unix_millis() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        (t.tv_sec as u64) * 1000 + (t.tv_nsec as u64) / 1_000_000
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A wall clock that moves only when told to, for simulations and tests.
///
/// Passed to [`Config::clock`](crate::Config::clock), it stamps every event emitted
/// while that pipeline runs (the record's `timestamp` and the time in its UUID v7
/// `id`), as well as `identify` and `telemetry.stats` records, instead of the system
/// clock. Generated sessions expire after [`Config::session_timeout`](crate::Config::session_timeout)
/// of *this* clock's time without events, so a simulated day has its own sessions.
/// Durations of `#[instrument_event]` calls are still measured with the real
/// monotonic clock.
///
/// Clones share one time: keep a clone, give another to the configuration, and move
/// the time with [`set`](ManualClock::set) or [`advance`](ManualClock::advance)
/// between emits. Records hold milliseconds, so sub-millisecond steps change the
/// timestamps only once they add up to a millisecond. Times before the Unix epoch
/// count as the epoch; times past the year 2554 saturate.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use telemetry_core::ManualClock;
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let shared = clock.clone();
/// shared.advance(Duration::from_millis(1500));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_millis(1_700_000_001_500));
///
/// let config = telemetry_core::Config::new("simulation", "1.0").clock(clock.clone());
/// # drop(config);
/// ```
#[derive(Clone)]
pub struct ManualClock {
    /// Nanoseconds since the Unix epoch.
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `time` until it is set or advanced.
    pub fn new(time: SystemTime) -> ManualClock {
        ManualClock {
            nanos: Arc::new(AtomicU64::new(to_nanos(time))),
        }
    }

    /// Sets the time of this clock and of all its clones (it may go backwards).
    pub fn set(&self, time: SystemTime) {
        self.nanos.store(to_nanos(time), Ordering::Relaxed);
    }

    /// Moves the time of this clock and of all its clones forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_add(by))
            });
    }

    /// The time this clock shows.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// The time this clock shows, in milliseconds since the Unix epoch.
    #[inline]
    pub(crate) fn unix_millis(&self) -> u64 {
        self.nanos.load(Ordering::Relaxed) / 1_000_000
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock")
            .field(&crate::record::Timestamp::from_system_time(self.now()).to_string())
            .finish()
    }
}

fn to_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Where a pipeline's timestamps come from.
#[derive(Clone, Debug, Default)]
pub(crate) enum Clock {
    /// The coarse system clock ([`unix_millis`]).
    #[default]
    System,
    /// A [`ManualClock`] from the configuration.
    Manual(ManualClock),
}

impl Clock {
    /// Milliseconds since the Unix epoch. The `System` arm is the one every emit
    /// takes unless a manual clock is configured: a predictable branch.
    #[inline]
    pub(crate) fn unix_millis(&self) -> u64 {
        match self {
            Clock::System => unix_millis(),
            Clock::Manual(clock) => clock.unix_millis(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_is_close_to_the_system_clock() {
        let coarse = super::unix_millis();
        let precise = crate::record::Timestamp::now().unix_millis();
        assert!(coarse.abs_diff(precise) < 1000, "{coarse} vs {precise}");
    }

    #[test]
    fn manual_clock_clones_share_one_time() {
        let start = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let clock = ManualClock::new(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(Duration::from_micros(2500));
        assert_eq!(clock.now(), start + Duration::from_micros(2500));
        assert_eq!(
            Clock::Manual(clock.clone()).unix_millis(),
            1_700_000_000_125
        );
        let earlier = UNIX_EPOCH + Duration::from_secs(5);
        other.set(earlier);
        assert_eq!(clock.now(), earlier);
        assert_eq!(
            format!("{clock:?}"),
            "ManualClock(\"1970-01-01T00:00:05.000Z\")"
        );
    }

    #[test]
    fn manual_clock_clamps_what_it_cannot_hold() {
        let clock = ManualClock::new(UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(clock.now(), UNIX_EPOCH);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_nanos(u64::MAX));
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_nanos(u64::MAX));
    }
}
