//! Active users (DAU, WAU, MAU, stickiness), retention by cohort, churn.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Map, date, whole};

/// Active users per day, for every group of `--by` (one group `""` without it).
#[derive(Debug, Clone, Serialize)]
pub struct ActiveUsers {
    /// Every day from the first to the last record, all groups together.
    pub series: Vec<DayActivity>,
    /// DAU averaged over the last 30 days (or fewer) divided by MAU on the last day.
    pub stickiness: f64,
    /// Per group, when split with `by` (empty otherwise).
    pub groups: Vec<GroupActivity>,
}

/// One day's active users. WAU and MAU are rolling windows ending that day (7 and 30
/// days, the day included); a user counts once per window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayActivity {
    /// `YYYY-MM-DD`, in the report's time zone.
    #[serde(serialize_with = "serialize_day")]
    pub day: u32,
    /// Users active that day.
    pub dau: u64,
    /// Users active in the 7 days ending that day.
    pub wau: u64,
    /// Users active in the 30 days ending that day.
    pub mau: u64,
    /// `dau / mau`.
    pub stickiness: f64,
}

fn serialize_day<S: serde::Serializer>(day: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date(*day))
}

/// Active users of one group (a value of the `by` field).
#[derive(Debug, Clone, Serialize)]
pub struct GroupActivity {
    /// The field's value, `(none)` when absent.
    pub group: String,
    /// Distinct users over the whole range.
    pub users: u64,
    /// Users active on the last day.
    pub dau: u64,
    /// Users active in the 7 days ending on the last day.
    pub wau: u64,
    /// Users active in the 30 days ending on the last day.
    pub mau: u64,
}

/// Counts, per day of `range`, users active that day and within the 7 and 30 days
/// ending that day; each user counts with its weight.
fn series<'a>(
    users: impl Iterator<Item = (&'a Vec<u32>, f64)>,
    (first, last): (u32, u32),
) -> Vec<DayActivity> {
    let n = (last - first + 1) as usize;
    let mut dau = vec![0f64; n];
    // Difference arrays: +w where a user's window coverage starts, -w after it ends.
    let mut wau = vec![0f64; n + 1];
    let mut mau = vec![0f64; n + 1];
    for (days, weight) in users {
        for &d in days {
            dau[(d - first) as usize] += weight;
        }
        for (span, diff) in [(7u32, &mut wau), (30u32, &mut mau)] {
            // Union of [d, d + span - 1] over the user's days, clipped to the range.
            let mut covered_to: Option<u32> = None; // exclusive end of coverage so far
            for &d in days {
                let start = covered_to.map_or(d, |c| c.max(d));
                let end = (d + span).min(last + 1);
                if end > start {
                    diff[(start - first) as usize] += weight;
                    diff[(end - first) as usize] -= weight;
                    covered_to = Some(end);
                }
            }
        }
    }
    let (mut w, mut m) = (0f64, 0f64);
    (0..n)
        .map(|i| {
            w += wau[i];
            m += mau[i];
            DayActivity {
                day: first + i as u32,
                dau: whole(dau[i]),
                wau: whole(w),
                mau: whole(m),
                stickiness: fratio(dau[i], m),
            }
        })
        .collect()
}

pub(crate) fn active_users(
    activity: &BTreeMap<String, Map<u32, Vec<u32>>>,
    weights: &[f64],
    range: (u32, u32),
) -> Option<ActiveUsers> {
    // All groups together: a user active in two groups the same day counts once.
    let mut all: Map<u32, Vec<u32>> = Map::default();
    for group in activity.values() {
        for (user, days) in group {
            let merged = all.entry(*user).or_default();
            merged.extend(days);
        }
    }
    for days in all.values_mut() {
        days.sort_unstable();
        days.dedup();
    }
    if all.is_empty() {
        return None;
    }
    let all_days = series(
        all.iter().map(|(u, days)| (days, weights[*u as usize])),
        range,
    );
    let tail = &all_days[all_days.len().saturating_sub(30)..];
    let mean_dau = tail.iter().map(|d| d.dau as f64).sum::<f64>() / tail.len() as f64;
    let last = all_days.last()?;
    let stickiness = if last.mau == 0 {
        0.0
    } else {
        mean_dau / last.mau as f64
    };
    let groups = if activity.len() == 1 && activity.contains_key("") {
        Vec::new()
    } else {
        activity
            .iter()
            .map(|(group, users)| {
                let s = series(
                    users.iter().map(|(u, days)| (days, weights[*u as usize])),
                    range,
                );
                let end = s.last().copied().unwrap_or(DayActivity {
                    day: range.1,
                    dau: 0,
                    wau: 0,
                    mau: 0,
                    stickiness: 0.0,
                });
                GroupActivity {
                    group: group.clone(),
                    users: whole(users.keys().map(|u| weights[*u as usize]).sum()),
                    dau: end.dau,
                    wau: end.wau,
                    mau: end.mau,
                }
            })
            .collect()
    };
    Some(ActiveUsers {
        series: all_days,
        stickiness,
        groups,
    })
}

/// Retention of users by the day they were first seen.
#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    /// One row per first-seen day.
    pub cohorts: Vec<Cohort>,
    /// Over all cohorts that can be observed N days later: the share of their users
    /// active on day N (`on_day[N]`) and on day N or later (`on_or_after_day[N]`).
    pub on_day: Vec<f64>,
    /// "On or after day N" (unbounded) retention.
    pub on_or_after_day: Vec<f64>,
}

/// One cohort: users first seen on `day`.
#[derive(Debug, Clone, Serialize)]
pub struct Cohort {
    /// First-seen day, `YYYY-MM-DD`.
    #[serde(serialize_with = "serialize_day")]
    pub day: u32,
    /// Users in the cohort.
    pub users: u64,
    /// `on_day[N]`: users active exactly N days after `day`; as long as the data
    /// reaches (day 0 is the whole cohort).
    pub on_day: Vec<u64>,
    /// `on_or_after_day[N]`: users active N or more days after `day`.
    pub on_or_after_day: Vec<u64>,
}

pub(crate) fn retention(
    users: &Map<u32, Vec<u32>>,
    weights: &[f64],
    (_, last): (u32, u32),
    max_n: u32,
) -> Option<Retention> {
    let mut cohorts: BTreeMap<u32, CohortSums> = BTreeMap::new();
    for (user, days) in users {
        let Some(&first_seen) = days.first() else {
            continue;
        };
        let weight = weights[*user as usize];
        let observable = (last - first_seen).min(max_n) as usize + 1;
        let cohort = cohorts.entry(first_seen).or_insert_with(|| CohortSums {
            users: 0.0,
            on_day: vec![0.0; observable],
            on_or_after_day: vec![0.0; observable],
        });
        cohort.users += weight;
        let latest = *days.last().unwrap_or(&first_seen);
        for &d in days {
            let n = (d - first_seen) as usize;
            if n < observable {
                cohort.on_day[n] += weight;
            }
        }
        for n in 0..observable {
            if latest - first_seen >= n as u32 {
                cohort.on_or_after_day[n] += weight;
            }
        }
    }
    if cohorts.is_empty() {
        return None;
    }
    Some(retention_from(cohorts))
}

/// The weighted users of one cohort, and of them those active `n` days after the first
/// (`on_day[n]`) or `n` or more days after (`on_or_after_day[n]`), for each day `n`
/// observable before the last day.
pub(crate) struct CohortSums {
    pub(crate) users: f64,
    pub(crate) on_day: Vec<f64>,
    pub(crate) on_or_after_day: Vec<f64>,
}

/// Retention from the weighted cohorts by first day: each cohort's counts rounded, and
/// for each day `n` the share of users active then among the cohorts that can show it.
pub(crate) fn retention_from(cohorts: BTreeMap<u32, CohortSums>) -> Retention {
    let width = cohorts.values().map(|c| c.on_day.len()).max().unwrap_or(0);
    let mut on_day = Vec::new();
    let mut on_or_after_day = Vec::new();
    for n in 0..width {
        let (mut base, mut on, mut after) = (0.0, 0.0, 0.0);
        for c in cohorts.values().filter(|c| c.on_day.len() > n) {
            base += c.users;
            on += c.on_day[n];
            after += c.on_or_after_day[n];
        }
        on_day.push(fratio(on, base));
        on_or_after_day.push(fratio(after, base));
    }
    Retention {
        cohorts: cohorts
            .into_iter()
            .map(|(day, c)| Cohort {
                day,
                users: whole(c.users),
                on_day: c.on_day.into_iter().map(whole).collect(),
                on_or_after_day: c.on_or_after_day.into_iter().map(whole).collect(),
            })
            .collect(),
        on_day,
        on_or_after_day,
    }
}

/// Churn of one period: users active in the previous period and not in this one,
/// over the previous period's active users.
#[derive(Debug, Clone, Serialize)]
pub struct Churn {
    /// First day of the period, `YYYY-MM-DD`.
    #[serde(serialize_with = "serialize_day")]
    pub period_start: u32,
    /// Days in the period (the last period may be shorter).
    pub days: u32,
    /// Users active in the period.
    pub active: u64,
    /// Users active in the previous period.
    pub previous: u64,
    /// Of those, users not active in this period.
    pub churned: u64,
    /// `churned / previous`.
    pub rate: f64,
}

/// Periods of `period` days from the first day of data; the first period has no
/// churn (nothing before it) and is not listed.
pub(crate) fn churn(
    users: &Map<u32, Vec<u32>>,
    weights: &[f64],
    (first, last): (u32, u32),
    period: u32,
) -> Vec<Churn> {
    let periods = ((last - first) / period + 1) as usize;
    let mut active = vec![0f64; periods];
    let mut churned = vec![0f64; periods];
    let mut seen = vec![false; periods];
    for (user, days) in users {
        let weight = weights[*user as usize];
        seen.fill(false);
        for &d in days {
            seen[((d - first) / period) as usize] = true;
        }
        for p in 0..periods {
            if seen[p] {
                active[p] += weight;
            }
            if p > 0 && seen[p - 1] && !seen[p] {
                churned[p] += weight;
            }
        }
    }
    churn_from(&active, &churned, (first, last), period)
}

/// The churn of each period after the first from the weighted users active in each
/// period (`active[p]`) and of those the ones churned in it (`churned[p]`): periods of
/// `period` days from `first`, the last one cut at `last`.
pub(crate) fn churn_from(
    active: &[f64],
    churned: &[f64],
    (first, last): (u32, u32),
    period: u32,
) -> Vec<Churn> {
    (1..active.len())
        .map(|p| {
            let start = first + p as u32 * period;
            Churn {
                period_start: start,
                days: period.min(last + 1 - start),
                active: whole(active[p]),
                previous: whole(active[p - 1]),
                churned: whole(churned[p]),
                rate: fratio(churned[p], active[p - 1]),
            }
        })
        .collect()
}

/// `a / b` of weighted counts, 0 when `b` is 0.
pub(crate) fn fratio(a: f64, b: f64) -> f64 {
    if b <= 0.0 { 0.0 } else { a / b }
}
