//! What the metrics read of a record, borrowed either from a parsed [`Record`] or
//! straight from a JSONL line.
//!
//! Reading a line does not build a full [`Record`]: strings are borrowed from the
//! line, the properties are kept as raw JSON and parsed only when a funnel filter, a
//! breakdown or `--by` asks for one, and the common timestamp layout is read without
//! a general date parser. The same fields are required as for [`Record`], so a line is
//! malformed here exactly when [`Record::from_json`] rejects it for a missing or
//! mistyped field. Lines parsed in blocks are first tried by a quick reader of the
//! compact layout `telemetry-core` writes (`fast`), which leaves any other line to
//! `serde_json`.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use telemetry_core::record::RecordKind;
use telemetry_core::{Outcome, Properties, Record, Value};

/// The call of an instrumented function.
pub(crate) struct CallView<'a> {
    pub(crate) function: &'a str,
    pub(crate) duration_ms: f64,
    pub(crate) outcome: Outcome,
    pub(crate) error_kind: Option<&'a str>,
}

/// One record as the metrics see it.
pub(crate) struct View<'a> {
    pub(crate) kind: RecordKind,
    pub(crate) millis: u64,
    pub(crate) name: &'a str,
    /// `user_id`, else `anonymous_id`.
    pub(crate) user: Option<&'a str>,
    /// `anonymous_id` when the record also has a `user_id` (it links the two).
    pub(crate) alias: Option<&'a str>,
    pub(crate) app_name: &'a str,
    pub(crate) app_version: &'a str,
    pub(crate) os: &'a str,
    pub(crate) arch: &'a str,
    pub(crate) call: Option<CallView<'a>>,
    pub(crate) sample_rate: Option<f64>,
    /// Whether `user` and `alias` are those of the previous record with a user (known
    /// for lines parsed in blocks: it spares comparing them again).
    pub(crate) same_ids: bool,
    properties: Props<'a>,
}

enum Props<'a> {
    Parsed(&'a Properties),
    Raw(&'a str, OnceCell<Properties>),
    /// Not kept: no metric reads properties.
    Absent,
}

impl<'a> View<'a> {
    /// A view of a parsed record.
    pub(crate) fn of_record(record: &'a Record) -> View<'a> {
        let ctx = &record.context;
        View {
            kind: record.kind,
            millis: record.timestamp.unix_millis(),
            name: &record.name,
            user: ctx.user_id.as_deref().or(ctx.anonymous_id.as_deref()),
            alias: ctx.user_id.as_ref().and(ctx.anonymous_id.as_deref()),
            app_name: &ctx.app_name,
            app_version: &ctx.app_version,
            os: &ctx.os,
            arch: &ctx.arch,
            call: record.call.as_ref().map(|c| CallView {
                function: &c.function,
                duration_ms: c.duration_ms,
                outcome: c.outcome,
                error_kind: c.error_kind.as_deref(),
            }),
            sample_rate: record.sample_rate,
            same_ids: false,
            properties: Props::Parsed(&record.properties),
        }
    }

    /// A view of a parsed line.
    pub(crate) fn of_line(line: &'a Line<'a>, millis: u64) -> View<'a> {
        let ctx = &line.context;
        View {
            kind: line.kind,
            millis,
            name: &line.name,
            user: ctx.user_id.as_deref().or(ctx.anonymous_id.as_deref()),
            alias: ctx.user_id.as_ref().and(ctx.anonymous_id.as_deref()),
            app_name: &ctx.app_name,
            app_version: &ctx.app_version,
            os: &ctx.os,
            arch: &ctx.arch,
            call: line.call.as_ref().map(|c| CallView {
                function: &c.function,
                duration_ms: c.duration_ms,
                outcome: c.outcome,
                error_kind: c.error_kind.as_deref(),
            }),
            sample_rate: line.sample_rate,
            same_ids: false,
            properties: Props::Raw(line.properties.get(), OnceCell::new()),
        }
    }

    /// A property's value (parsed on first use for a line; an unreadable properties
    /// object has no properties).
    pub(crate) fn property(&self, name: &str) -> Option<&Value> {
        match &self.properties {
            Props::Parsed(p) => p.get(name),
            Props::Raw(raw, cell) => cell
                .get_or_init(|| serde_json::from_str(raw).unwrap_or_default())
                .get(name),
            Props::Absent => None,
        }
    }
}

/// A string of a [`Parsed`] line: where it is in the block of lines, or its own copy
/// when it held escapes (or the line was not valid UTF-8).
pub(crate) enum Text {
    At(u32, u32),
    Owned(Box<str>),
    /// A short string copied: the thread that uses the line reads it here, next to
    /// the other parsed lines, rather than from the block.
    Short(u8, [u8; SHORT]),
}

/// The longest [`Text::Short`].
const SHORT: usize = 30;

impl Text {
    /// A short copy of `s` when it fits, else where it is in the block at `base`.
    fn short_or_at(s: &str, base: usize) -> Text {
        if s.len() <= SHORT {
            let mut b = [0u8; SHORT];
            b[..s.len()].copy_from_slice(s.as_bytes());
            Text::Short(s.len() as u8, b)
        } else {
            Text::At((s.as_ptr() as usize - base) as u32, s.len() as u32)
        }
    }
}

impl Text {
    fn get<'a>(&'a self, block: &'a Lines) -> &'a str {
        match self {
            Text::At(at, len) => {
                let (at, len) = (*at as usize, *len as usize);
                match block {
                    Lines::Text(text) => text.get(at..at + len).unwrap_or_default(),
                    Lines::Bytes(bytes) => {
                        std::str::from_utf8(&bytes[at..at + len]).unwrap_or_default()
                    }
                }
            }
            Text::Owned(s) => s,
            Text::Short(n, b) => std::str::from_utf8(&b[..*n as usize]).unwrap_or_default(),
        }
    }
}

/// A block of whole lines: text when it is all valid UTF-8 (the usual case, checked
/// once for the block), else bytes (whose lines are checked one by one).
pub(crate) enum Lines {
    Text(String),
    Bytes(Vec<u8>),
}

impl Lines {
    /// The buffer, for reuse.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Lines::Text(text) => text.into_bytes(),
            Lines::Bytes(bytes) => bytes,
        }
    }
}

/// A line parsed on a parsing thread: what the metrics read of it, its strings
/// pointing into the block of lines it came from (no allocation for the usual line).
pub(crate) struct Parsed {
    kind: RecordKind,
    millis: u64,
    name: Text,
    user: Option<Text>,
    alias: Option<Text>,
    /// `app_name`, `app_version`, `os`, `arch`: kept only when asked for.
    context: Option<Box<[Text; 4]>>,
    call: Option<(Text, f64, Outcome, Option<Text>)>,
    sample_rate: Option<f64>,
    /// The raw JSON of the properties, kept only when asked for.
    properties: Option<Text>,
    /// Whether `user` and `alias` are those of the previous record with a user in the
    /// block.
    pub(crate) same_ids: bool,
}

/// What a [`Parsed`] keeps besides the basics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// The context's app and platform fields (for `by`).
    pub(crate) context: bool,
    /// The properties (for funnel filters, breakdowns and `by`).
    pub(crate) properties: bool,
}

impl Parsed {
    /// Parses `line` (not blank), a slice of `block` (`None`: a line of its own, such
    /// as a copy with invalid UTF-8 replaced, whose strings are copied).
    pub(crate) fn parse(line: &str, block: Option<&[u8]>, keep: Keep) -> Result<Parsed, String> {
        let base = block.map(|b| b.as_ptr() as usize);
        let text = |s: &str, borrowed: bool| -> Text {
            match base {
                Some(base) if borrowed => {
                    Text::At((s.as_ptr() as usize - base) as u32, s.len() as u32)
                }
                _ => Text::Owned(s.into()),
            }
        };
        if let Some(f) = crate::fast::fields(line) {
            let millis = parse_millis(f.timestamp)?;
            let at = |s: &str| text(s, true);
            // The strings read for every record, copied when short.
            let hot = |s: &str| match base {
                Some(base) => Text::short_or_at(s, base),
                None => Text::Owned(s.into()),
            };
            return Ok(Parsed {
                kind: f.kind,
                millis,
                name: hot(f.name),
                user: f.user_id.or(f.anonymous_id).map(hot),
                alias: f.user_id.and(f.anonymous_id).map(hot),
                context: keep.context.then(|| Box::new(f.context.map(at))),
                call: f.call.map(|(function, duration, outcome, kind)| {
                    (at(function), duration, outcome, kind.map(at))
                }),
                sample_rate: f.sample_rate,
                properties: keep.properties.then(|| at(f.properties)),
                same_ids: false,
            });
        }
        let l: Line<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let millis = parse_millis(&l.timestamp)?;
        let cow = |c: &Cow<'_, str>| text(c, matches!(c, Cow::Borrowed(_)));
        let ctx = &l.context;
        Ok(Parsed {
            kind: l.kind,
            millis,
            name: cow(&l.name),
            user: ctx.user_id.as_ref().or(ctx.anonymous_id.as_ref()).map(cow),
            alias: ctx.user_id.as_ref().and(ctx.anonymous_id.as_ref()).map(cow),
            context: keep.context.then(|| {
                Box::new([
                    cow(&ctx.app_name),
                    cow(&ctx.app_version),
                    cow(&ctx.os),
                    cow(&ctx.arch),
                ])
            }),
            call: l.call.as_ref().map(|c| {
                (
                    cow(&c.function),
                    c.duration_ms,
                    c.outcome,
                    c.error_kind.as_ref().map(cow),
                )
            }),
            sample_rate: l.sample_rate,
            properties: keep.properties.then(|| text(l.properties.get(), true)),
            same_ids: false,
        })
    }
}

impl Parsed {
    /// The user and the anonymous id of a line parsed from the text `block`.
    pub(crate) fn ids<'a>(&'a self, block: &'a str) -> Option<(&'a str, Option<&'a str>)> {
        let get = |t: &'a Text| match t {
            Text::At(at, len) => block
                .get(*at as usize..*at as usize + *len as usize)
                .unwrap_or_default(),
            Text::Owned(s) => s,
            Text::Short(n, b) => std::str::from_utf8(&b[..*n as usize]).unwrap_or_default(),
        };
        Some((get(self.user.as_ref()?), self.alias.as_ref().map(get)))
    }
}

impl<'a> View<'a> {
    /// A view of a line parsed on another thread from `block`.
    pub(crate) fn of_parsed(p: &'a Parsed, block: &'a Lines) -> View<'a> {
        let ctx = p.context.as_deref();
        let field = |i: usize| ctx.map_or("", |c| c[i].get(block));
        View {
            kind: p.kind,
            millis: p.millis,
            name: p.name.get(block),
            user: p.user.as_ref().map(|u| u.get(block)),
            alias: p.alias.as_ref().map(|u| u.get(block)),
            app_name: field(0),
            app_version: field(1),
            os: field(2),
            arch: field(3),
            call: p.call.as_ref().map(|c| CallView {
                function: c.0.get(block),
                duration_ms: c.1,
                outcome: c.2,
                error_kind: c.3.as_ref().map(|k| k.get(block)),
            }),
            sample_rate: p.sample_rate,
            same_ids: p.same_ids,
            properties: match &p.properties {
                Some(raw) => Props::Raw(raw.get(block), OnceCell::new()),
                None => Props::Absent,
            },
        }
    }
}

/// A record line, borrowing its strings where they hold no escapes.
#[derive(Deserialize)]
pub(crate) struct Line<'a> {
    #[serde(rename = "format")]
    _format: u32,
    #[serde(rename = "type")]
    kind: RecordKind,
    #[serde(rename = "id")]
    _id: IgnoredAny,
    #[serde(borrow)]
    pub(crate) timestamp: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(rename = "version")]
    _version: u32,
    #[serde(borrow)]
    properties: &'a RawValue,
    #[serde(borrow)]
    context: LineContext<'a>,
    #[serde(default, borrow)]
    call: Option<LineCall<'a>>,
    #[serde(default)]
    sample_rate: Option<f64>,
}

#[derive(Deserialize)]
struct LineContext<'a> {
    #[serde(borrow)]
    app_name: Cow<'a, str>,
    #[serde(borrow)]
    app_version: Cow<'a, str>,
    #[serde(default, borrow)]
    anonymous_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    os: Cow<'a, str>,
    #[serde(borrow)]
    arch: Cow<'a, str>,
}

#[derive(Deserialize)]
struct LineCall<'a> {
    #[serde(borrow)]
    function: Cow<'a, str>,
    duration_ms: f64,
    outcome: Outcome,
    #[serde(default, borrow)]
    error_kind: Option<Cow<'a, str>>,
}

/// Milliseconds since the Unix epoch of an RFC 3339 timestamp: the records' own
/// layout (`2026-11-25T18:41:11.123Z`) directly, any other through a general parser.
pub(crate) fn parse_millis(s: &str) -> Result<u64, String> {
    if let Some(ms) = parse_record_layout(s.as_bytes()) {
        return Ok(ms);
    }
    let t = humantime::parse_rfc3339_weak(s).map_err(|e| format!("timestamp `{s}`: {e}"))?;
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .map_err(|_| format!("timestamp `{s}` is before 1970"))
}

fn parse_record_layout(b: &[u8]) -> Option<u64> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        b[from..to].iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second, milli) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    if year < 1970
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year as i64, month as u32, day as u32) as u64;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout_matches_the_general_parser() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2026-11-25T18:41:11.123Z",
            "2024-02-29T23:59:59.999Z",
            "2000-03-01T00:00:00.001Z",
            "2100-12-31T12:00:00.500Z",
        ] {
            let general = humantime::parse_rfc3339_weak(s)
                .unwrap()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            assert_eq!(parse_record_layout(s.as_bytes()), Some(general), "{s}");
        }
    }

    /// The quick reader accepts a line only when the general parser reads the same.
    #[test]
    fn quick_reader_agrees_with_the_general_parser() {
        let lines = [
            r#"{"format":1,"type":"event","id":"019b7898-01b3","timestamp":"2026-01-01T08:06:26.483Z","name":"payment.charged","version":1,"properties":{"amount_cents":6706,"a":[1,-2.5e3,true,null,{"b":"c"}]},"context":{"app_name":"food","app_version":"1.4.0","anonymous_id":"anon-1","user_id":"user-1","session_id":"s-5","os":"android","arch":"x86_64"},"call":{"function":"sim::charge","duration_ms":160.052,"outcome":"error","error_kind":"Timeout"}}"#,
            r#"{"format":1,"type":"identify","id":7,"timestamp":"2026-01-01T08:06:26.483Z","name":"n","version":2,"properties":[],"context":{"app_name":"a","app_version":"1","anonymous_id":null,"user_id":"u","os":"o","arch":"x"},"call":null,"sample_rate":0.25,"extra":{"x":[]}}"#,
            r#"{"format":0,"type":"stats","id":null,"timestamp":"t","name":"","version":0,"properties":"p","context":{"app_name":"","app_version":"","os":"","arch":""},"sample_rate":1,"call":{"function":"f","duration_ms":0,"outcome":"cancelled","error_kind":null}}"#,
        ];
        let mut checked = 0;
        for line in lines {
            assert!(crate::fast::fields(line).is_some(), "{line}");
            let mut variants = vec![line.to_owned()];
            for (i, _) in line.char_indices() {
                let mut cut = line.to_owned();
                cut.remove(i);
                variants.push(cut);
                for c in [
                    ' ', '"', '\\', ',', '}', '{', ']', '0', '1', 'x', '-', '.', 'e', '\u{1}', ':',
                ] {
                    let mut v = line.to_owned();
                    v.insert(i, c);
                    variants.push(v);
                }
            }
            for v in &variants {
                let Some(f) = crate::fast::fields(v) else {
                    continue;
                };
                checked += 1;
                let l: Line<'_> = serde_json::from_str(v).unwrap_or_else(|e| panic!("{v}: {e}"));
                let c = &l.context;
                assert_eq!(f.kind, l.kind, "{v}");
                assert_eq!(f.timestamp, l.timestamp, "{v}");
                assert_eq!(f.name, l.name, "{v}");
                assert_eq!(f.user_id, c.user_id.as_deref(), "{v}");
                assert_eq!(f.anonymous_id, c.anonymous_id.as_deref(), "{v}");
                assert_eq!(
                    f.context,
                    [&*c.app_name, &c.app_version, &c.os, &c.arch],
                    "{v}"
                );
                assert_eq!(f.properties, l.properties.get(), "{v}");
                assert_eq!(
                    f.sample_rate.map(f64::to_bits),
                    l.sample_rate.map(f64::to_bits),
                    "{v}"
                );
                let call = l.call.as_ref().map(|c| {
                    (
                        &*c.function,
                        c.duration_ms.to_bits(),
                        c.outcome,
                        c.error_kind.as_deref(),
                    )
                });
                assert_eq!(f.call.map(|c| (c.0, c.1.to_bits(), c.2, c.3)), call, "{v}");
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn other_layouts_and_bad_dates() {
        // Without a fraction or with microseconds: the general parser.
        assert_eq!(
            parse_millis("2026-11-25T18:41:11.000999Z").unwrap(),
            parse_millis("2026-11-25T18:41:11Z").unwrap()
        );
        assert_eq!(
            parse_millis("2026-11-25T18:41:11Z").unwrap(),
            parse_millis("2026-11-25T18:41:11.000Z").unwrap()
        );
        assert_eq!(parse_record_layout(b"2023-02-29T00:00:00.000Z"), None);
        assert!(parse_millis("2023-02-29T00:00:00.000Z").is_err());
        assert!(
            parse_millis("yesterday")
                .unwrap_err()
                .contains("`yesterday`")
        );
    }
}
