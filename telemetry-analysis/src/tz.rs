//! The time zone in which records are bucketed into days.

use std::fmt;

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A time zone for day buckets: UTC (the default) or an IANA zone such as
/// `Europe/Paris`, looked up in the system's time zone database
/// (`/usr/share/zoneinfo`), else in a copy built into the program.
///
/// A day is a calendar day in that zone, with its daylight saving changes (a day can
/// last 23 or 25 hours).
#[derive(Clone)]
pub struct TimeZone {
    name: String,
    zone: Option<jiff::tz::TimeZone>,
}

impl TimeZone {
    /// Coordinated Universal Time.
    pub fn utc() -> TimeZone {
        TimeZone {
            name: "UTC".into(),
            zone: None,
        }
    }

    /// The IANA time zone `name` (`Europe/Paris`, `America/New_York`, `UTC`).
    ///
    /// # Errors
    ///
    /// A message naming the zone and what to give instead when it is unknown.
    pub fn get(name: &str) -> Result<TimeZone, String> {
        if name.eq_ignore_ascii_case("utc") {
            return Ok(TimeZone::utc());
        }
        let zone = jiff::tz::db().get(name).map_err(|_| {
            format!(
                "unknown time zone `{name}`; give an IANA name such as `Europe/Paris`, `America/New_York` or `UTC`"
            )
        })?;
        Ok(TimeZone {
            name: zone.iana_name().unwrap_or(name).to_owned(),
            zone: Some(zone),
        })
    }

    /// The zone's name (`UTC`, `Europe/Paris`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local day (days since 1970-01-01 in this zone) of a time given in
    /// milliseconds since the Unix epoch; days before 1970 count as day 0.
    pub fn day(&self, unix_millis: u64) -> u32 {
        let mut local = unix_millis as i64;
        if let Some(zone) = &self.zone
            && let Ok(ts) = jiff::Timestamp::from_millisecond(local)
        {
            local += i64::from(zone.to_offset(ts).seconds()) * 1000;
        }
        local.div_euclid(DAY_MS).clamp(0, i64::from(u32::MAX)) as u32
    }
}

impl Default for TimeZone {
    fn default() -> TimeZone {
        TimeZone::utc()
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeZone").field(&self.name).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_zone_and_its_daylight_saving() {
        // 2026-03-29T00:30Z is 01:30 in Paris (UTC+1, before the change at 01:00Z)
        // and 2026-03-28T20:30 in New York (UTC-4).
        let t = 1_774_744_200_000; // 2026-03-29T00:30:00Z
        let utc = TimeZone::utc().day(t);
        assert_eq!(crate::date(utc), "2026-03-29");
        assert_eq!(TimeZone::get("Europe/Paris").unwrap().day(t), utc);
        assert_eq!(TimeZone::get("America/New_York").unwrap().day(t), utc - 1);
        // 22:30Z on the 29th is 00:30 on the 30th in Paris, now UTC+2.
        let late = t + 22 * 3_600_000;
        assert_eq!(TimeZone::get("Europe/Paris").unwrap().day(late), utc + 1);
        assert_eq!(TimeZone::utc().day(late), utc);
    }

    #[test]
    fn unknown_zone_is_a_clear_error() {
        let err = TimeZone::get("Mars/Olympus").unwrap_err();
        assert!(
            err.contains("`Mars/Olympus`") && err.contains("IANA"),
            "{err}"
        );
        assert_eq!(TimeZone::get("utc").unwrap().name(), "UTC");
    }
}
