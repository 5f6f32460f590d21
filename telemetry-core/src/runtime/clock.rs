//! The event timestamp, read on the emitting thread.
//!
//! Records hold milliseconds. `SystemTime::now()` (a vDSO `clock_gettime`) costs
//! about 20 ns, half the whole emit budget; on Linux the emitting thread reads
//! `CLOCK_REALTIME_COARSE` instead (a few ns: the kernel's last tick, no TSC read), so a
//! timestamp may be up to one scheduler tick early (1-4 ms with CONFIG_HZ of 1000-250).
//! Order between events is the queue's order, never the timestamp's, so ties and
//! coarse steps are harmless. Elsewhere, `SystemTime::now()`.

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

#[cfg(test)]
mod tests {
    #[test]
    fn coarse_clock_is_close_to_the_system_clock() {
        let coarse = super::unix_millis();
        let precise = crate::record::Timestamp::now().unix_millis();
        assert!(coarse.abs_diff(precise) < 1000, "{coarse} vs {precise}");
    }
}
