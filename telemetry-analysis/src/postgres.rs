//! The same [`Report`] as [`Analyzer`](crate::Analyzer), computed by SQL in the
//! PostgreSQL table that `telemetry_core::export::Postgres` fills.
//!
//! Every metric is one or a few queries over the events table; only the last
//! arithmetic (ratios, rounding, averages over the series) runs here, with the same
//! formulas as the JSONL engine so that both give identical numbers on the same
//! events. As there, days are the calendar days of [`Options::time_zone`] (UTC by
//! default), a user is `user_id` (else `anonymous_id`), and sampled events (a
//! `sample_rate` below 1) are scaled: users by the inverse of their highest rate,
//! calls by the inverse of their own. Funnels stage their step events in a temporary
//! table (the database user needs the `TEMPORARY` privilege, which PostgreSQL grants
//! to everyone by default).
//!
//! Differences from the JSONL engine, all from the table holding only what the sink
//! stored:
//!
//! - `input.lines` is the number of event rows: the table has no malformed lines and
//!   no `stats` or `identify` records.
//! - Latency percentiles are always exact (`percentile_disc`, the nearest rank, as the
//!   JSONL engine's exact mode), also past the JSONL engine's
//!   [`EXACT_LIMIT`](crate::sketch::EXACT_LIMIT) where that one estimates them.
//! - When two first-step events of one user have the same millisecond, the funnel
//!   breakdown takes the one with the smaller id (ids are time-ordered UUID v7); the
//!   JSONL engine takes the one read first.
//!
//! ```no_run
//! use telemetry_analysis::{Options, postgres};
//!
//! let url = "postgres://analyst@127.0.0.1/analytics";
//! let report = postgres::report(url, postgres::DEFAULT_TABLE, &Options::default())?;
//! println!("{} events", report.input.records);
//! # Ok::<(), postgres::PgReportError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, NoTls};
use telemetry_core::catalog::{FilterValue, Funnel};
use telemetry_core::pg::{describe, quote_table};

use crate::active::{CohortSums, churn_from, fratio, retention_from};
use crate::funnel::step_reports;
use crate::sketch::Percentiles;
use crate::{
    ActiveUsers, Churn, DayActivity, FunctionReliability, FunnelReport, GroupActivity, Input,
    Options, Reliability, Report, Retention, date, whole,
};

/// The table `telemetry_core::export::Postgres` writes to by default.
pub const DEFAULT_TABLE: &str = telemetry_core::pg::DEFAULT_TABLE;

pub use telemetry_core::pg::redact;

/// Why a report could not be computed from PostgreSQL: the message names the database
/// (without its password) or the table, and what to do.
#[derive(Debug)]
pub struct PgReportError(String);

impl fmt::Display for PgReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PgReportError {}

/// Computes every metric of `options` from the events in `table` (`name` or
/// `schema.name`) of the database at `url`.
pub fn report(url: &str, table: &str, options: &Options) -> Result<Report, PgReportError> {
    let shown = redact(url);
    let quoted = quote_table(table).map_err(|why| {
        PgReportError(format!(
            "invalid table name `{table}`: {why}; use letters, digits and `_`, optionally `schema.table`"
        ))
    })?;
    let mut config = postgres::Config::from_str(url).map_err(|e| {
        PgReportError(format!(
            "invalid PostgreSQL URL `{shown}`: {e}; write it as postgres://user:password@host:port/database"
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let mut client = config.connect(NoTls).map_err(|e| {
        PgReportError(format!(
            "cannot connect to PostgreSQL at `{shown}`: {}; check that the server runs and accepts TCP connections there, and the user, password and database in the URL",
            describe(&e)
        ))
    })?;
    let mut q = Queries {
        client: &mut client,
        table: quoted,
        shown,
        name: table.to_owned(),
        // A zone name from the time zone database: letters, digits, `/_+-`; quoted
        // as an SQL string all the same.
        zone: format!("'{}'", options.time_zone.name().replace('\'', "''")),
    };
    q.report(options)
}

struct Queries<'a> {
    client: &'a mut Client,
    /// The quoted table name.
    table: String,
    /// The URL without password.
    shown: String,
    /// The table name as given.
    name: String,
    /// The time zone of the days, as an SQL string literal.
    zone: String,
}

/// The temporary table of a funnel's step events.
const HITS: &str = "telemetry_funnel_hits";

/// Query parameters.
type Params = Vec<Box<dyn ToSql + Sync>>;

impl Queries<'_> {
    /// Runs one statement with its parameters; an error names the table and the
    /// database.
    fn query(&mut self, sql: &str, params: &Params) -> Result<Vec<postgres::Row>, PgReportError> {
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        self.client.query(sql, &refs).map_err(|e| {
            PgReportError(format!(
                "cannot read the events of table {} in PostgreSQL at `{}`: {}; it should be the table written by telemetry_core::export::Postgres (choose it with --table)",
                self.name,
                self.shown,
                describe(&e)
            ))
        })
    }

    /// Runs statements without parameters nor results (the funnel's temporary table).
    fn execute(&mut self, sql: &str) -> Result<(), PgReportError> {
        self.client.batch_execute(sql).map_err(|e| {
            PgReportError(format!(
                "cannot create a temporary table in PostgreSQL at `{}` (funnels need one): {}; grant the user TEMPORARY on the database",
                self.shown,
                describe(&e)
            ))
        })
    }

    /// `ev AS (...)`: the events with their milliseconds, day, user and sample rate.
    /// Not materialized: each query that reads it filters it in place (the funnel
    /// steps by name, with the table's `(name, timestamp)` index).
    fn events_cte(&self) -> String {
        format!(
            r#"ev AS NOT MATERIALIZED (
    SELECT id, name, properties, call, os, arch, app_name, app_version,
           -- Timestamps have millisecond precision (the record format's).
           (extract(epoch FROM "timestamp") * 1000)::bigint AS ms,
           -- Day number in the report's time zone: local days since 1970-01-01.
           floor(extract(epoch FROM ("timestamp" AT TIME ZONE {zone})) / 86400)::int AS day,
           COALESCE(user_id, anonymous_id) AS u,
           -- The sample rate; outside (0, 1] counts as unsampled, as in the JSONL engine.
           sample_rate IS NULL OR (sample_rate > 0 AND sample_rate <= 1) AS valid_rate,
           CASE WHEN sample_rate > 0 AND sample_rate <= 1 THEN sample_rate ELSE 1 END AS rate
    FROM {table})"#,
            table = self.table,
            zone = self.zone,
        )
    }

    fn report(&mut self, options: &Options) -> Result<Report, PgReportError> {
        let ev = self.events_cte();
        // Input: how many events, without a user, first and last day.
        let row = &self.query(
            &format!(
                "WITH {ev} SELECT count(*), count(*) FILTER (WHERE u IS NULL), min(day), max(day),
                        count(*) FILTER (WHERE NOT valid_rate) FROM ev"
            ),
            &Vec::new(),
        )?[0];
        let records: i64 = row.get(0);
        let missing: i64 = row.get(1);
        let range = match (row.get::<_, Option<i32>>(2), row.get::<_, Option<i32>>(3)) {
            (Some(a), Some(b)) => Some((a.max(0) as u32, b.max(0) as u32)),
            _ => None,
        };
        let mut input = Input {
            lines: records as u64,
            records: records as u64,
            missing_user: missing as u64,
            invalid_sample_rate: row.get::<_, i64>(4) as u64,
            time_zone: options.time_zone.name().to_owned(),
            first_day: range.map(|r| date(r.0)),
            last_day: range.map(|r| date(r.1)),
            ..Input::default()
        };
        // Sampled events per rate, the rate written as the JSONL engine writes it.
        for row in self.query(
            &format!("WITH {ev} SELECT rate, count(*) FROM ev WHERE rate < 1 GROUP BY rate"),
            &Vec::new(),
        )? {
            input.sampled.insert(
                row.get::<_, f64>(0).to_string(),
                row.get::<_, i64>(1) as u64,
            );
        }
        if let Some(known) = &options.known_events {
            let known: Vec<String> = known.iter().cloned().collect();
            for row in self.query(
                &format!(
                    "WITH {ev} SELECT name, count(*) FROM ev WHERE NOT (name = ANY($1)) GROUP BY name"
                ),
                &vec![Box::new(known)],
            )? {
                input
                    .unknown_events
                    .insert(row.get(0), row.get::<_, i64>(1) as u64);
            }
        }
        let (active_users, retention, churn) = match range {
            Some(range) => (
                self.active_users(options, range)?,
                self.retention(options, range)?,
                self.churn(options, range)?,
            ),
            None => (None, None, Vec::new()),
        };
        let mut funnels = Vec::new();
        for funnel in &options.funnels {
            funnels.push(self.funnel(funnel, options.funnel_breakdown.as_deref())?);
        }
        Ok(Report {
            input,
            active_events: match &options.active_events {
                None => vec!["all".into()],
                Some(a) => a.iter().cloned().collect(),
            },
            active_users,
            retention,
            churn,
            funnels,
            reliability: Reliability {
                functions: self.reliability("call->>'function'")?,
                events: self.reliability("name")?,
            },
        })
    }

    /// `ev` plus:
    /// - `act`: distinct (group of `by`, user, day) of the events that count as
    ///   activity;
    /// - `ua`: distinct (user, day) of those, over all groups;
    /// - `uw`: each active user's weight, `1 / r` for the highest sample rate `r`
    ///   among their activity events (as an `f32`, like the JSONL engine).
    ///
    /// `$1` is the active events (NULL: all), `$2` the `by` property when `by` names
    /// one.
    fn activity_cte(&self, options: &Options) -> (String, Params) {
        let mut params: Params = vec![Box::new(
            options
                .active_events
                .as_ref()
                .map(|a| a.iter().cloned().collect::<Vec<String>>()),
        )];
        let group = match options.by.as_deref() {
            None => "''".to_owned(),
            Some(field) => {
                let context = field.strip_prefix("context.").unwrap_or(field);
                match context {
                    "os" | "arch" | "app_name" | "app_version" => context.to_owned(),
                    _ if field.starts_with("context.") => "'(none)'".to_owned(),
                    _ => {
                        params.push(Box::new(field.to_owned()));
                        // A string as is, anything else as its JSON text (what the
                        // JSONL engine writes), `(none)` when absent.
                        "CASE WHEN NOT properties ? $2 THEN '(none)' \
                         WHEN jsonb_typeof(properties -> $2) = 'string' THEN properties ->> $2 \
                         ELSE (properties -> $2)::text END"
                            .to_owned()
                    }
                }
            }
        };
        (
            format!(
                "WITH {}, active AS (
    SELECT * FROM ev WHERE u IS NOT NULL AND ($1::text[] IS NULL OR name = ANY($1::text[]))
), act AS (SELECT DISTINCT {group} AS grp, u, day FROM active),
ua AS (SELECT DISTINCT u, day FROM act),
uw AS (SELECT u, 1.0::float8 / (max(rate)::real)::float8 AS w FROM active GROUP BY u)",
                self.events_cte()
            ),
            params,
        )
    }

    /// DAU, WAU and MAU per day (rolling windows of 7 and 30 days ending that day),
    /// and per group on the last day; each user counts with its weight.
    fn active_users(
        &mut self,
        options: &Options,
        (first, last): (u32, u32),
    ) -> Result<Option<ActiveUsers>, PgReportError> {
        let (cte, mut params) = self.activity_cte(options);
        let (p_first, p_last) = (params.len() + 1, params.len() + 2);
        params.push(Box::new(first as i32));
        params.push(Box::new(last as i32));
        // `win`: per day and user active in the 30 days ending that day, whether the
        // user was active that day and in the last 7 days.
        let rows = self.query(
            &format!(
                "{cte}, days AS (SELECT generate_series(${p_first}::int, ${p_last}::int) AS d),
win AS (
    SELECT days.d, ua.u, bool_or(ua.day = days.d) AS on_day, bool_or(ua.day > days.d - 7) AS in_week
    FROM days JOIN ua ON ua.day BETWEEN days.d - 29 AND days.d
    GROUP BY days.d, ua.u
)
SELECT days.d,
       COALESCE(sum(uw.w) FILTER (WHERE win.on_day), 0),
       COALESCE(sum(uw.w) FILTER (WHERE win.in_week), 0),
       COALESCE(sum(uw.w), 0)
FROM days LEFT JOIN win ON win.d = days.d LEFT JOIN uw ON uw.u = win.u
GROUP BY days.d ORDER BY days.d"
            ),
            &params,
        )?;
        if !rows.iter().any(|r| r.get::<_, f64>(3) > 0.0) {
            return Ok(None);
        }
        let series: Vec<DayActivity> = rows
            .iter()
            .map(|r| {
                let (dau, wau, mau) = (r.get::<_, f64>(1), r.get::<_, f64>(2), r.get::<_, f64>(3));
                DayActivity {
                    day: r.get::<_, i32>(0) as u32,
                    dau: whole(dau),
                    wau: whole(wau),
                    mau: whole(mau),
                    stickiness: fratio(dau, mau),
                }
            })
            .collect();
        let tail = &series[series.len().saturating_sub(30)..];
        let mean_dau = tail.iter().map(|d| d.dau as f64).sum::<f64>() / tail.len() as f64;
        let stickiness = match series.last() {
            Some(l) if l.mau > 0 => mean_dau / l.mau as f64,
            _ => 0.0,
        };
        let mut groups = Vec::new();
        if options.by.is_some() {
            let (cte, mut params) = self.activity_cte(options);
            let p_last = params.len() + 1;
            params.push(Box::new(last as i32));
            let rows = self.query(
                &format!(
                    "{cte}, g AS (
    SELECT grp, u, bool_or(day = ${p_last}::int) AS on_day,
           bool_or(day > ${p_last}::int - 7) AS in_week,
           bool_or(day > ${p_last}::int - 30) AS in_month
    FROM act GROUP BY grp, u
)
SELECT grp, sum(w),
       COALESCE(sum(w) FILTER (WHERE on_day), 0),
       COALESCE(sum(w) FILTER (WHERE in_week), 0),
       COALESCE(sum(w) FILTER (WHERE in_month), 0)
FROM g JOIN uw USING (u) GROUP BY grp"
                ),
                &params,
            )?;
            let sorted: BTreeMap<String, GroupActivity> = rows
                .iter()
                .map(|r| {
                    let group: String = r.get(0);
                    let g = GroupActivity {
                        group: group.clone(),
                        users: whole(r.get(1)),
                        dau: whole(r.get(2)),
                        wau: whole(r.get(3)),
                        mau: whole(r.get(4)),
                    };
                    (group, g)
                })
                .collect();
            // As in the JSONL engine: a single empty group is no grouping.
            if !(sorted.len() == 1 && sorted.contains_key("")) {
                groups = sorted.into_values().collect();
            }
        }
        Ok(Some(ActiveUsers {
            series,
            stickiness,
            groups,
        }))
    }

    /// Retention by first-seen day: per cohort and day N, the (weighted) users active
    /// exactly N days after their first day, and N or more days after it.
    fn retention(
        &mut self,
        options: &Options,
        (_, last): (u32, u32),
    ) -> Result<Option<Retention>, PgReportError> {
        let max_n = options.max_retention_day as i32;
        let sizes = {
            // The same CTEs without the `max_n` parameter, which this one does not use.
            let (cte, params) = self.activity_cte(options);
            self.query(
                &format!(
                    "{cte}, fs AS (SELECT u, min(day) AS f FROM ua GROUP BY u)
SELECT f, sum(w) FROM fs JOIN uw USING (u) GROUP BY f"
                ),
                &params,
            )?
        };
        if sizes.is_empty() {
            return Ok(None);
        }
        let mut cohorts: BTreeMap<u32, CohortSums> = BTreeMap::new();
        for r in &sizes {
            let day = r.get::<_, i32>(0) as u32;
            let observable = (last - day).min(options.max_retention_day) as usize + 1;
            cohorts.insert(
                day,
                CohortSums {
                    users: r.get(1),
                    on_day: vec![0.0; observable],
                    on_or_after_day: vec![0.0; observable],
                },
            );
        }
        let (cte, mut params) = self.activity_cte(options);
        let p_max = params.len() + 1;
        params.push(Box::new(max_n));
        // `fs`: each user's first and last active day, and weight.
        let fs =
            format!("{cte}, fs AS (SELECT u, min(day) AS f, max(day) AS l FROM ua GROUP BY u)");
        // Active exactly N days after the first day.
        let on_day = self.query(
            &format!(
                "{fs} SELECT fs.f, ua.day - fs.f, sum(w) FROM ua JOIN fs USING (u) JOIN uw USING (u)
                 WHERE ua.day - fs.f <= ${p_max}::int GROUP BY 1, 2"
            ),
            &params,
        )?;
        // Active N or more days after: every N up to the user's last day.
        let after = self.query(
            &format!(
                "{fs} SELECT fs.f, n, sum(w) FROM fs JOIN uw USING (u)
                 CROSS JOIN LATERAL generate_series(0, LEAST(fs.l - fs.f, ${p_max}::int)) AS n
                 GROUP BY 1, 2"
            ),
            &params,
        )?;
        for (rows, on) in [(&on_day, true), (&after, false)] {
            for r in rows {
                let day = r.get::<_, i32>(0) as u32;
                let n = r.get::<_, i32>(1) as usize;
                if let Some(c) = cohorts.get_mut(&day) {
                    let column = if on {
                        &mut c.on_day
                    } else {
                        &mut c.on_or_after_day
                    };
                    if let Some(slot) = column.get_mut(n) {
                        *slot = r.get(2);
                    }
                }
            }
        }
        Ok(Some(retention_from(cohorts)))
    }

    /// Churn per period of `churn_period_days` from the first day: (weighted) users
    /// active in the previous period and not in this one.
    fn churn(
        &mut self,
        options: &Options,
        (first, last): (u32, u32),
    ) -> Result<Vec<Churn>, PgReportError> {
        let period = options.churn_period_days.max(1);
        let periods = ((last - first) / period + 1) as usize;
        let (cte, mut params) = self.activity_cte(options);
        let (p_first, p_period) = (params.len() + 1, params.len() + 2);
        params.push(Box::new(first as i32));
        params.push(Box::new(period as i32));
        // `up`: the periods each user was active in.
        let up = format!(
            "{cte}, up AS (SELECT DISTINCT u, (day - ${p_first}::int) / ${p_period}::int AS p FROM ua)"
        );
        let mut active = vec![0f64; periods];
        let mut churned = vec![0f64; periods];
        for r in self.query(
            &format!("{up} SELECT p, sum(w) FROM up JOIN uw USING (u) GROUP BY p"),
            &params,
        )? {
            if let Some(slot) = active.get_mut(r.get::<_, i32>(0) as usize) {
                *slot = r.get(1);
            }
        }
        // Users of period p absent from period p + 1 churned in p + 1.
        for r in self.query(
            &format!(
                "{up} SELECT prev.p + 1, sum(w) FROM up prev JOIN uw USING (u)
                 WHERE NOT EXISTS (SELECT 1 FROM up x WHERE x.u = prev.u AND x.p = prev.p + 1)
                 GROUP BY 1"
            ),
            &params,
        )? {
            if let Some(slot) = churned.get_mut(r.get::<_, i32>(0) as usize) {
                *slot = r.get(1);
            }
        }
        Ok(churn_from(&active, &churned, (first, last), period))
    }

    /// One funnel. `hits` lists each user's events that match a step (an event may
    /// match several). For every first-step event as a start, step k is the earliest
    /// hit of step k at or after step k - 1 and within the window of the start; each
    /// user keeps the deepest start, then the fastest to convert, then the earliest,
    /// and counts with the weight of the highest sample rate among their hits.
    fn funnel(
        &mut self,
        funnel: &Funnel,
        breakdown: Option<&str>,
    ) -> Result<FunnelReport, PgReportError> {
        let n = funnel.steps.len();
        let window_ms = funnel
            .window_duration()
            .map_or(86_400_000, |d| d.as_millis() as i64);
        let mut params: Params = Vec::new();
        let bind = |params: &mut Params, value: Box<dyn ToSql + Sync>| {
            params.push(value);
            format!("${}", params.len())
        };
        let group = match breakdown {
            None => "NULL::text".to_owned(),
            Some(p) => {
                let p = bind(&mut params, Box::new(p.to_owned()));
                // A string as is; other values as the JSONL engine prints them
                // (`3`, `true`, `1.5`, `2` for 2.0, `null`).
                format!(
                    "CASE WHEN NOT properties ? {p}::text THEN '(none)'
     WHEN jsonb_typeof(properties -> {p}::text) = 'string' THEN properties ->> {p}::text
     WHEN jsonb_typeof(properties -> {p}::text) = 'number'
         THEN regexp_replace((properties -> {p}::text)::text, '\\.0+$', '')
     ELSE (properties -> {p}::text)::text END"
                )
            }
        };
        let mut hits = Vec::new();
        for (i, step) in funnel.steps.iter().enumerate() {
            let event = bind(&mut params, Box::new(step.event.to_string()));
            let mut condition = format!("name = {event}::text");
            for f in &step.filters {
                let prop = bind(&mut params, Box::new(f.property.to_string()));
                let v = format!("properties -> {prop}::text");
                condition.push_str(&match &f.equals {
                    FilterValue::String(s) => {
                        let s = bind(&mut params, Box::new(s.to_string()));
                        format!(
                            " AND jsonb_typeof({v}) = 'string' AND properties ->> {prop}::text = {s}::text"
                        )
                    }
                    FilterValue::Integer(x) => {
                        let x = bind(&mut params, Box::new(*x));
                        // Integers only, as written without fraction or exponent.
                        format!(
                            " AND jsonb_typeof({v}) = 'number' AND ({v})::text ~ '^-?[0-9]+$' AND ({v})::numeric = {x}::bigint"
                        )
                    }
                    FilterValue::Boolean(b) => {
                        let b = bind(&mut params, Box::new(*b));
                        format!(
                            " AND jsonb_typeof({v}) = 'boolean' AND ({v})::boolean = {b}::boolean"
                        )
                    }
                });
            }
            let grp = if i == 0 { group.as_str() } else { "NULL::text" };
            hits.push(format!(
                "SELECT u, ms, id, rate, {i} AS step, {grp} AS grp FROM ev WHERE u IS NOT NULL AND {condition}"
            ));
        }
        // The hits go to a temporary table indexed by (user, step, time): finding the
        // next step of each start is then one index probe.
        self.execute(&format!(
            "DROP TABLE IF EXISTS pg_temp.{HITS};
CREATE TEMP TABLE {HITS} (u text NOT NULL, ms bigint NOT NULL, id uuid NOT NULL,
    rate float8 NOT NULL, step int NOT NULL, grp text)"
        ))?;
        self.query(
            &format!(
                "WITH {ev} INSERT INTO {HITS} {hits}",
                ev = self.events_cte(),
                hits = hits.join("\n  UNION ALL "),
            ),
            &params,
        )?;
        self.execute(&format!(
            "CREATE INDEX ON {HITS} (u, step, ms); ANALYZE {HITS}"
        ))?;
        // w1 .. w{n-1}: the time each start reached step k (NULL: not reached).
        let mut walks = format!("w0 AS (SELECT u, ms AS t0, id, grp FROM {HITS} WHERE step = 0)");
        for k in 1..n {
            let previous = k - 1;
            walks.push_str(&format!(
                ",\nw{k} AS (SELECT w.*, (SELECT min(h.ms) FROM {HITS} h
    WHERE h.u = w.u AND h.step = {k} AND h.ms >= w.t{previous} AND h.ms <= w.t0 + $1::bigint) AS t{k}
  FROM w{previous} w)"
            ));
        }
        let depth: String = (1..n)
            .map(|k| format!(" + (t{k} IS NOT NULL)::int"))
            .collect();
        let last = n - 1;
        let sql = format!(
            "WITH {walks},
attempts AS (SELECT u, t0, id, grp, 1{depth} AS depth, t{last} - t0 AS time FROM w{last}),
best AS (
    SELECT DISTINCT ON (u) u, depth, time, grp FROM attempts
    ORDER BY u, depth DESC, time ASC NULLS LAST, t0, id
),
fw AS (SELECT u, 1.0::float8 / (max(rate)::real)::float8 AS w FROM {HITS} GROUP BY u)
SELECT grp, {reached},
       percentile_cont(0.5) WITHIN GROUP (ORDER BY time::float8) FILTER (WHERE depth = {n}),
       GROUPING(grp)
FROM best JOIN fw USING (u) GROUP BY GROUPING SETS ((), (grp))",
            reached = (0..n)
                .map(|k| format!("COALESCE(sum(w) FILTER (WHERE depth > {k}), 0)"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let window: Params = vec![Box::new(window_ms)];
        let rows = self.query(&sql, &window)?;
        self.execute(&format!("DROP TABLE {HITS}"))?;
        let mut reached = vec![0f64; n];
        let mut median = None;
        let mut groups: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for r in &rows {
            let sums: Vec<f64> = (0..n).map(|k| r.get::<_, f64>(k + 1)).collect();
            if r.get::<_, i32>(n + 2) == 1 {
                // The grand total.
                reached = sums;
                median = r.get::<_, Option<f64>>(n + 1).map(|ms| ms / 1000.0);
            } else if let Some(g) = r.get::<_, Option<String>>(0) {
                groups.insert(g, sums.into_iter().map(whole).collect());
            }
        }
        let steps = step_reports(&funnel.steps, &reached);
        Ok(FunnelReport {
            name: funnel.name.to_string(),
            description: funnel.description.to_string(),
            window: funnel.window.to_string(),
            steps,
            converted: whole(reached[n - 1]),
            conversion: fratio(reached[n - 1], reached[0]),
            median_seconds_to_convert: median,
            breakdown: groups,
        })
    }

    /// Calls, outcomes, error kinds, latency percentiles and daily failures of
    /// instrumented calls, per value of `key` (the function or the event name). A
    /// sampled call stands for `1 / sample_rate` calls; percentiles are read from the
    /// kept calls.
    fn reliability(&mut self, key: &str) -> Result<Vec<FunctionReliability>, PgReportError> {
        let cte = format!(
            "WITH {}, calls AS (
    SELECT {key} AS key, day, call->>'outcome' AS outcome,
           COALESCE(call->>'error_kind', '(unknown)') AS kind,
           (call->>'duration_ms')::float8 AS ms,
           1.0::float8 / rate AS w
    FROM ev WHERE call IS NOT NULL
)",
            self.events_cte()
        );
        let mut out: BTreeMap<String, FunctionReliability> = BTreeMap::new();
        // Nearest-rank percentiles (`percentile_disc`), as the JSONL engine's exact
        // mode; negative durations are ignored there too.
        for r in self.query(
            &format!(
                "{cte} SELECT key, sum(w),
       COALESCE(sum(w) FILTER (WHERE outcome = 'error'), 0),
       COALESCE(sum(w) FILTER (WHERE outcome = 'panicked'), 0),
       COALESCE(sum(w) FILTER (WHERE outcome = 'cancelled'), 0),
       percentile_disc(ARRAY[0.5, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY ms)
           FILTER (WHERE ms >= 0 AND ms < 'Infinity')
FROM calls GROUP BY key"
            ),
            &Vec::new(),
        )? {
            let name: String = r.get(0);
            let (calls, errors, panics): (f64, f64, f64) = (r.get(1), r.get(2), r.get(3));
            let latency = r.get::<_, Option<Vec<f64>>>(5).and_then(|p| match p[..] {
                [p50, p90, p99] => Some(Percentiles {
                    p50,
                    p90,
                    p99,
                    exact: true,
                }),
                _ => None,
            });
            out.insert(
                name.clone(),
                FunctionReliability {
                    name,
                    calls: whole(calls),
                    errors: whole(errors),
                    panics: whole(panics),
                    cancelled: whole(r.get(4)),
                    error_rate: fratio(errors + panics, calls),
                    error_kinds: BTreeMap::new(),
                    latency_ms: latency,
                    by_day: BTreeMap::new(),
                },
            );
        }
        for r in self.query(
            &format!(
                "{cte} SELECT key, kind, sum(w) FROM calls WHERE outcome = 'error' GROUP BY 1, 2"
            ),
            &Vec::new(),
        )? {
            if let Some(f) = out.get_mut(&r.get::<_, String>(0)) {
                f.error_kinds.insert(r.get(1), whole(r.get(2)));
            }
        }
        let mut days: HashMap<String, Vec<(u32, f64, f64)>> = HashMap::new();
        for r in self.query(
            &format!(
                "{cte} SELECT key, day, sum(w),
       COALESCE(sum(w) FILTER (WHERE outcome IN ('error', 'panicked')), 0)
FROM calls GROUP BY 1, 2"
            ),
            &Vec::new(),
        )? {
            days.entry(r.get(0))
                .or_default()
                .push((r.get::<_, i32>(1) as u32, r.get(2), r.get(3)));
        }
        for (key, list) in days {
            if let Some(f) = out.get_mut(&key) {
                f.by_day = list
                    .into_iter()
                    .map(|(d, calls, failed)| (date(d), (whole(calls), whole(failed))))
                    .collect();
            }
        }
        Ok(out.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_errors() {
        assert_eq!(
            redact("postgres://app:hunter2@db:5432/x?password=y"),
            "postgres://app:***@db:5432/x?password=***"
        );
        assert_eq!(
            redact("host=db user=app password=hunter2"),
            "host=db user=app password=***"
        );
        let err = report(
            "postgres://app:hunter2@[::1/x",
            "telemetry_events",
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("invalid PostgreSQL URL"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = report("postgres://127.0.0.1:1/x", "bad name", &Options::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid table name `bad name`"), "{err}");
    }
}
