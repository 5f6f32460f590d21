//! `telemetry validate`: recorded events (JSONL) against the catalog.
//!
//! Streams the file line by line with one reused buffer, so memory stays constant
//! whatever the file size; a line longer than `--max-line-bytes` is skipped without
//! being held. Malformed lines are reported and skipped, never fatal.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;
use telemetry_core::record::{RECORD_FORMAT, RecordKind};
use telemetry_core::{EventSchema, Pii, PropertyType, Record, Value};

use crate::Format;
use crate::input::{Failure, print, read_catalog};
use crate::style::{self, paint};

/// Arguments of `telemetry validate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The JSONL event file (`-` reads standard input).
    events: PathBuf,
    /// The catalog file the events must follow.
    #[arg(long)]
    catalog: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// How many examples to show per kind of violation (all are counted).
    #[arg(long, default_value_t = 10)]
    max_examples: usize,
    /// Longer lines are reported as malformed and skipped without being read into memory.
    #[arg(long, default_value_t = 1 << 20)]
    max_line_bytes: usize,
    /// No progress line on the terminal and no throughput line on stderr.
    #[arg(long)]
    quiet: bool,
}

/// Kinds of violation, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// Not a record (bad JSON, missing keys, newer format, too long).
    MalformedLine,
    /// The event name is not in the catalog.
    UnknownEvent,
    /// The record's version differs from the catalog's.
    VersionMismatch,
    /// A property the catalog does not list.
    UnknownProperty,
    /// A required property is absent.
    MissingProperty,
    /// A value of the wrong JSON type.
    WrongType,
    /// A string not among the property's allowed values.
    ValueNotAllowed,
    /// A personal-data property that was not hashed, redacted or dropped as declared.
    PiiNotApplied,
}

const KINDS: [Kind; 8] = [
    Kind::MalformedLine,
    Kind::UnknownEvent,
    Kind::VersionMismatch,
    Kind::UnknownProperty,
    Kind::MissingProperty,
    Kind::WrongType,
    Kind::ValueNotAllowed,
    Kind::PiiNotApplied,
];

impl Kind {
    fn id(self) -> &'static str {
        match self {
            Kind::MalformedLine => "malformed-line",
            Kind::UnknownEvent => "unknown-event",
            Kind::VersionMismatch => "version-mismatch",
            Kind::UnknownProperty => "unknown-property",
            Kind::MissingProperty => "missing-property",
            Kind::WrongType => "wrong-type",
            Kind::ValueNotAllowed => "value-not-allowed",
            Kind::PiiNotApplied => "pii-not-applied",
        }
    }
}

/// One reported violation.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Example {
    /// 1-based line number.
    pub(crate) line: u64,
    /// Kind of violation.
    pub(crate) kind: Kind,
    /// What is wrong.
    pub(crate) message: String,
}

/// Counts and examples; its size does not grow with the input.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    /// Lines read (blank lines included).
    pub(crate) lines: u64,
    /// Bytes read.
    #[serde(skip)]
    pub(crate) bytes: u64,
    /// Lines that parsed as records.
    pub(crate) records: u64,
    /// Records without any violation.
    pub(crate) valid_records: u64,
    /// Violations per kind, in [`KINDS`] order.
    #[serde(skip)]
    counts: [u64; KINDS.len()],
    /// The first examples of each kind.
    #[serde(skip)]
    examples: Vec<Example>,
    #[serde(skip)]
    max_examples: usize,
}

impl Report {
    fn add(&mut self, kind: Kind, line: u64, message: impl FnOnce() -> String) {
        let i = KINDS
            .iter()
            .position(|k| *k == kind)
            .expect("every kind is listed");
        self.counts[i] += 1;
        if self.counts[i] <= self.max_examples as u64 {
            self.examples.push(Example {
                line,
                kind,
                message: message(),
            });
        }
    }

    fn violations(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The catalog, indexed for lookups by event name.
pub(crate) struct Plan<'a> {
    events: HashMap<&'a str, &'a EventSchema>,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(catalog: &'a telemetry_core::Catalog) -> Self {
        Plan {
            events: catalog
                .events
                .iter()
                .map(|e| (&*e.schema.name, &e.schema))
                .collect(),
        }
    }
}

/// Checks one line and counts what it finds.
fn check_line(plan: &Plan<'_>, report: &mut Report, line_no: u64, line: &[u8]) {
    let text = match std::str::from_utf8(line) {
        Ok(t) => t.trim_end_matches(['\n', '\r']),
        Err(e) => {
            return report.add(Kind::MalformedLine, line_no, || {
                format!("not UTF-8 ({e}); skipped")
            });
        }
    };
    if text.trim().is_empty() {
        return;
    }
    let record = match Record::from_json(text) {
        Ok(r) => r,
        Err(e) => {
            return report.add(Kind::MalformedLine, line_no, || {
                format!("not a telemetry record ({e}); skipped")
            });
        }
    };
    if record.format != RECORD_FORMAT {
        return report.add(Kind::MalformedLine, line_no, || format!("record format {} is not supported (this `telemetry` reads format {RECORD_FORMAT}); skipped, install a newer `telemetry` CLI", record.format));
    }
    if record.kind != RecordKind::Event {
        // The pipeline's own `telemetry.stats` records are not part of the plan.
        return;
    }
    report.records += 1;
    let before = report.violations();
    check_record(plan, report, line_no, &record);
    if report.violations() == before {
        report.valid_records += 1;
    }
}

/// Hashed values are 32 lowercase hex digits; see the README's "Personal data".
fn is_hash(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The marker written for `pii = "redact"` (`telemetry_core::REDACTED`, which needs the
/// runtime feature this CLI leaves out).
const REDACTED: &str = "[redacted]";

fn check_record(plan: &Plan<'_>, report: &mut Report, line: u64, record: &Record) {
    let name = &record.name;
    let Some(schema) = plan.events.get(name.as_str()) else {
        return report.add(Kind::UnknownEvent, line, || format!("event `{name}` is not in the catalog; add it to the code or check the catalog is current"));
    };
    if record.version != schema.version {
        report.add(Kind::VersionMismatch, line, || format!("`{name}` has version {} but the catalog says {}; the program and the catalog come from different releases", record.version, schema.version));
    }
    for (key, value) in record.properties.iter() {
        let Some(p) = schema.property(key) else {
            report.add(Kind::UnknownProperty, line, || {
                format!("`{name}` has property `{key}`, which the catalog does not list")
            });
            continue;
        };
        // Hashed and redacted properties are strings whatever their declared type.
        let pii_problem = match p.pii {
            Pii::None => None,
            Pii::Hash => {
                (!is_hash(value)).then_some("should be a keyed hash (32 hex digits) but is not")
            }
            Pii::Redact => {
                (value.as_str() != Some(REDACTED)).then_some("should be \"[redacted]\" but is not")
            }
            Pii::Drop => Some("should have been dropped but is present"),
        };
        if p.pii != Pii::None {
            // Never print the value: it may be the personal data itself.
            if let Some(problem) = pii_problem {
                report.add(Kind::PiiNotApplied, line, || format!("`{name}.{key}` is declared pii = \"{}\" and {problem}: personal data may have leaked; check the producer", p.pii.as_str()));
            }
            continue;
        }
        let type_ok = matches!(
            (p.ty, value),
            (PropertyType::Boolean, Value::Bool(_))
                | (PropertyType::Integer, Value::Int(_) | Value::UInt(_))
                | (
                    PropertyType::Number,
                    Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Null
                )
                | (PropertyType::String, Value::String(_))
        );
        if !type_ok {
            report.add(Kind::WrongType, line, || {
                format!(
                    "`{name}.{key}` should be {} but is {}",
                    p.ty.as_str(),
                    json_type(value)
                )
            });
        } else if !p.values.is_empty()
            && let Some(s) = value.as_str()
            && !p.values.iter().any(|v| v == s)
        {
            report.add(Kind::ValueNotAllowed, line, || {
                format!(
                    "`{name}.{key}` is \"{s}\", not one of {}",
                    p.values.join(", ")
                )
            });
        }
    }
    for p in schema.properties.iter() {
        if !p.optional && p.pii != Pii::Drop && record.properties.get(&p.name).is_none() {
            report.add(Kind::MissingProperty, line, || {
                format!("`{name}` lacks the required property `{}`", p.name)
            });
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) => "an integer",
        Value::Float(_) => "a number",
        Value::String(_) => "a string",
        Value::Null => "null",
    }
}

/// Reads one line into `buf` (newline included), keeping at most `max` bytes: a longer
/// line is consumed to its end but not kept. Returns the bytes consumed (0 at the end of
/// the input) and whether the line was too long.
fn read_line_capped(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(u64, bool)> {
    buf.clear();
    let (mut consumed, mut too_long) = (0u64, false);
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, too_long));
        }
        let (len, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + len > max.saturating_add(2) {
                too_long = true;
                buf.clear();
                buf.shrink_to(64 << 10);
            } else {
                buf.extend_from_slice(&available[..len]);
            }
        }
        r.consume(len);
        consumed += len as u64;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

/// Validates a stream; `progress` is called now and then with the bytes read so far.
pub(crate) fn validate_stream(
    plan: &Plan<'_>,
    input: impl Read,
    max_examples: usize,
    max_line_bytes: usize,
    mut progress: impl FnMut(&Report),
) -> io::Result<Report> {
    let mut reader = BufReader::with_capacity(256 << 10, input);
    let mut report = Report {
        max_examples,
        ..Report::default()
    };
    let mut buf = Vec::with_capacity(8 << 10);
    loop {
        let (n, too_long) = read_line_capped(&mut reader, &mut buf, max_line_bytes)?;
        if n == 0 {
            break;
        }
        report.lines += 1;
        report.bytes += n;
        let line = report.lines;
        if too_long {
            report.add(Kind::MalformedLine, line, || {
                format!(
                    "line of {n} bytes is longer than --max-line-bytes ({max_line_bytes}); skipped"
                )
            });
        } else {
            check_line(plan, &mut report, line, &buf);
        }
        if line.is_multiple_of(8192) {
            progress(&report);
        }
    }
    Ok(report)
}

/// `telemetry validate`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let catalog = read_catalog(&args.catalog)?;
    let plan = Plan::new(&catalog);
    let path = args.events.display().to_string();
    let (input, total): (Box<dyn Read>, Option<u64>) = if args.events.as_os_str() == "-" {
        (Box::new(io::stdin().lock()), None)
    } else {
        let file = File::open(&args.events).map_err(|e| Failure(format!("cannot open the event file `{path}`: {e}; pass the JSONL file the program wrote (`Config::jsonl`)")))?;
        let total = file.metadata().ok().map(|m| m.len());
        (Box::new(file), total)
    };
    let start = Instant::now();
    let show_progress = !args.quiet && io::stderr().is_terminal();
    let mut last = Instant::now();
    let report = validate_stream(&plan, input, args.max_examples, args.max_line_bytes, |r| {
        if show_progress && last.elapsed() > Duration::from_millis(200) {
            last = Instant::now();
            let rate = r.lines as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let done = match total {
                Some(t) if t > 0 => format!("{:>3}% ", r.bytes * 100 / t),
                _ => String::new(),
            };
            let _ = write!(
                io::stderr(),
                "\r\x1b[2K{done}{} lines, {} MB, {:.0} events/s",
                r.lines,
                r.bytes >> 20,
                rate
            );
        }
    })
    .map_err(|e| {
        Failure(format!(
            "cannot read `{path}`: {e}; check that the file is readable"
        ))
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    if show_progress {
        let _ = write!(io::stderr(), "\r\x1b[2K");
    }
    print(&match args.format {
        Format::Text => render_text(&path, &report),
        Format::Json => render_json(&path, &args.catalog, &report),
    });
    if !args.quiet {
        // On stderr: timings vary from run to run, the report on stdout does not.
        let _ = writeln!(
            anstream::stderr(),
            "{}",
            paint(
                style::DIM,
                format_args!(
                    "validated {} lines ({:.1} MB) in {elapsed:.2} s: {:.0} events/s",
                    report.lines,
                    report.bytes as f64 / 1e6,
                    report.lines as f64 / elapsed.max(1e-9)
                )
            )
        );
    }
    Ok(if report.violations() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The text report.
pub(crate) fn render_text(path: &str, report: &Report) -> String {
    let mut out = String::new();
    let mut examples = report.examples.clone();
    examples.sort_by_key(|e| e.line);
    for e in &examples {
        let label = match e.kind {
            Kind::MalformedLine | Kind::PiiNotApplied => paint(style::ERROR, e.kind.id()),
            _ => paint(style::WARNING, e.kind.id()),
        };
        out.push_str(&format!("{path}:{}: {label}: {}\n", e.line, e.message));
    }
    let shown = report.examples.len() as u64;
    if shown < report.violations() {
        out.push_str(&paint(
            style::DIM,
            format_args!(
                "({} more not shown: the first {} of each kind are; use --max-examples)\n",
                report.violations() - shown,
                report.max_examples
            ),
        ));
    }
    if !examples.is_empty() {
        out.push('\n');
    }
    let invalid = report.records - report.valid_records;
    let summary = format!(
        "{path}: {} lines, {} records, {} valid, {invalid} with violations, {} malformed lines",
        report.lines, report.records, report.valid_records, report.counts[0]
    );
    out.push_str(&paint(
        if report.violations() > 0 {
            style::ERROR
        } else {
            style::OK
        },
        summary,
    ));
    out.push('\n');
    for (kind, n) in KINDS.iter().zip(report.counts) {
        if n > 0 {
            out.push_str(&format!("  {:<18} {n:>10}\n", kind.id()));
        }
    }
    out
}

/// Counts per kind, serialized as an object in report order.
struct Counts([u64; KINDS.len()]);

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(KINDS.len()))?;
        for (kind, n) in KINDS.iter().zip(self.0) {
            map.serialize_entry(kind.id(), &n)?;
        }
        map.end()
    }
}

/// The JSON report.
pub(crate) fn render_json(path: &str, catalog: &Path, report: &Report) -> String {
    #[derive(Serialize)]
    struct Json<'a> {
        events_file: &'a str,
        catalog: String,
        lines: u64,
        records: u64,
        valid_records: u64,
        invalid_records: u64,
        malformed_lines: u64,
        violations: Counts,
        examples: Vec<Example>,
    }
    let mut examples = report.examples.clone();
    examples.sort_by_key(|e| e.line);
    let json = Json {
        events_file: path,
        catalog: catalog.display().to_string(),
        lines: report.lines,
        records: report.records,
        valid_records: report.valid_records,
        invalid_records: report.records - report.valid_records,
        malformed_lines: report.counts[0],
        violations: Counts(report.counts),
        examples,
    };
    let mut s = serde_json::to_string_pretty(&json).expect("plain JSON");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_without_being_kept() {
        let input = format!("{}\nshort\n", "x".repeat(10_000));
        let mut r = BufReader::with_capacity(64, input.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut r, &mut buf, 100).unwrap(),
            (10_001, true)
        );
        assert!(buf.is_empty());
        assert_eq!(read_line_capped(&mut r, &mut buf, 100).unwrap(), (6, false));
        assert_eq!(buf, b"short\n");
        assert_eq!(read_line_capped(&mut r, &mut buf, 100).unwrap(), (0, false));
    }
}
