//! `telemetry export`: sends a recorded JSONL file to an analytics vendor, an
//! OpenTelemetry collector or PostgreSQL, through the same exporters a program uses
//! (`telemetry_core::export`).
//!
//! The file is streamed in batches. After each batch the destination acknowledged, the
//! byte offset reached is saved in a state file next to the input
//! (`<input>.export-state`, one entry per destination), so an interrupted export
//! resumes where it stopped; `--restart` starts over. The export stops at the first
//! batch that fails in a way a later attempt may cure (endpoint down, retries
//! exhausted, refused credentials), so nothing after it is skipped: run the command
//! again to resume from there. A batch the destination refuses for what it holds
//! (a 400, ...) can never succeed: it is counted as failed and the export goes on.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use telemetry_core::export::{Amplitude, Ga4, Mixpanel, Otlp, PostHog, Postgres, Segment};
use telemetry_core::record::{RECORD_FORMAT, RecordKind};
use telemetry_core::{Delivery, Record, Sink};

use crate::input::{Failure, print};

/// Most malformed lines reported one by one (all are counted).
const MAX_REPORTED_LINES: u64 = 10;
/// Longer lines are skipped as malformed without being held in memory.
const MAX_LINE_BYTES: u64 = 8 << 20;
/// Version of the state file's format.
const STATE_FORMAT: u32 = 1;

/// Where `telemetry export` sends the events.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub(crate) enum Target {
    /// Amplitude HTTP V2 API; key from `AMPLITUDE_API_KEY`.
    Amplitude,
    /// Mixpanel Import API; project token from `MIXPANEL_TOKEN`.
    Mixpanel,
    /// Segment batch API; write key from `SEGMENT_WRITE_KEY`.
    Segment,
    /// PostHog batch API; project key from `POSTHOG_API_KEY`.
    Posthog,
    /// GA4 Measurement Protocol; API secret from `GA4_API_SECRET`, measurement id from
    /// `GA4_MEASUREMENT_ID`.
    Ga4,
    /// OTLP/HTTP logs; endpoint and headers also from the `OTEL_EXPORTER_OTLP_*`
    /// variables.
    Otlp,
    /// A PostgreSQL table; URL from `--endpoint` or `TELEMETRY_POSTGRES_URL`.
    Postgres,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Amplitude => "amplitude",
            Target::Mixpanel => "mixpanel",
            Target::Segment => "segment",
            Target::Posthog => "posthog",
            Target::Ga4 => "ga4",
            Target::Otlp => "otlp",
            Target::Postgres => "postgres",
        }
    }

    /// The environment variable holding the credential, unless `--key-env` names
    /// another.
    fn default_key_env(self) -> Option<&'static str> {
        match self {
            Target::Amplitude => Some("AMPLITUDE_API_KEY"),
            Target::Mixpanel => Some("MIXPANEL_TOKEN"),
            Target::Segment => Some("SEGMENT_WRITE_KEY"),
            Target::Posthog => Some("POSTHOG_API_KEY"),
            Target::Ga4 => Some("GA4_API_SECRET"),
            Target::Otlp => None,
            Target::Postgres => Some(telemetry_core::export::POSTGRES_URL_ENV),
        }
    }
}

/// Arguments of `telemetry export`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The JSONL event file, as written by the program (`telemetry.stats` and
    /// `telemetry.identify` records are skipped).
    events: PathBuf,
    /// The destination.
    #[arg(long, value_enum)]
    to: Target,
    /// The destination's base URL instead of its default (EU residency, a
    /// self-hosted instance, a collector, a proxy); for `postgres`, the database URL.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The environment variable holding the API key (never printed). Defaults:
    /// AMPLITUDE_API_KEY, MIXPANEL_TOKEN, SEGMENT_WRITE_KEY, POSTHOG_API_KEY,
    /// GA4_API_SECRET, TELEMETRY_POSTGRES_URL; `otlp` reads OTEL_EXPORTER_OTLP_HEADERS.
    #[arg(long, value_name = "VAR")]
    key_env: Option<String>,
    /// Events per batch handed to the exporter (which splits them further by the
    /// destination's limits); progress is saved after each.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    batch: u64,
    /// Ignore the saved progress and send the whole file again.
    #[arg(long)]
    restart: bool,
    /// The state file (default: `<EVENTS>.export-state` next to the input).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// How many times a failing request is retried (the exporter's default otherwise).
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,
}

/// The saved progress: per destination, how far the file was acknowledged.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    format: u32,
    /// Keyed by `<target> <endpoint>` (the endpoint without credentials).
    progress: BTreeMap<String, Progress>,
}

/// How far one destination got.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Progress {
    /// Byte offset after the last line of the last acknowledged batch.
    offset: u64,
    /// Lines before `offset`.
    line: u64,
}

/// What the export did, by reason.
#[derive(Debug, Default)]
struct Summary {
    lines: u64,
    events: u64,
    malformed: u64,
    skipped_stats: u64,
    skipped_identify: u64,
    delivery: Delivery,
    /// Events failed or rejected, by the destination's reason, in order of appearance.
    reasons: Vec<(String, u64)>,
}

/// Most distinct failure reasons listed in the summary.
const MAX_REASONS: usize = 8;

/// The sink for a target, and the endpoint to name it by (without credentials).
fn open_sink(args: &Args) -> Result<(Box<dyn Sink>, String), Failure> {
    let target = args.to;
    let key_env = args
        .key_env
        .as_deref()
        .or(target.default_key_env())
        .unwrap_or_default();
    let setup =
        |e: io::Error| Failure(format!("cannot set up the {} exporter: {e}", target.name()));
    macro_rules! http {
        ($exporter:expr) => {{
            let mut exporter = $exporter;
            if let Some(url) = &args.endpoint {
                exporter = exporter.endpoint(url.as_str());
            }
            if let Some(n) = args.max_retries {
                exporter = exporter.max_retries(n);
            }
            let endpoint = exporter.endpoint_url().to_owned();
            (Box::new(exporter) as Box<dyn Sink>, endpoint)
        }};
    }
    Ok(match target {
        Target::Amplitude => http!(Amplitude::from_env(key_env).map_err(setup)?),
        Target::Mixpanel => http!(Mixpanel::from_env(key_env).map_err(setup)?),
        Target::Segment => http!(Segment::from_env(key_env).map_err(setup)?),
        Target::Posthog => http!(PostHog::from_env(key_env).map_err(setup)?),
        Target::Ga4 => http!(Ga4::from_env("GA4_MEASUREMENT_ID", key_env).map_err(setup)?),
        Target::Otlp => {
            if args.key_env.is_some() {
                return Err(Failure(
                    "--key-env does not apply to otlp: put the collector's headers in OTEL_EXPORTER_OTLP_HEADERS (`name=value,...`)".into(),
                ));
            }
            http!(Otlp::from_env().map_err(setup)?)
        }
        Target::Postgres => {
            let mut sink = match &args.endpoint {
                Some(url) => Postgres::new(url.as_str()),
                None => Postgres::from_env(key_env).map_err(setup)?,
            };
            if let Some(n) = args.max_retries {
                sink = sink.retries(n);
            }
            let endpoint = sink.redacted_url();
            (Box::new(sink) as Box<dyn Sink>, endpoint)
        }
    })
}

fn state_path(args: &Args) -> PathBuf {
    args.state.clone().unwrap_or_else(|| {
        let mut name = args.events.as_os_str().to_owned();
        name.push(".export-state");
        PathBuf::from(name)
    })
}

fn read_state(path: &Path) -> Result<State, Failure> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(State {
                format: STATE_FORMAT,
                ..State::default()
            });
        }
        Err(e) => {
            return Err(Failure(format!(
                "cannot read the export state `{}`: {e}; delete it or pass --restart",
                path.display()
            )));
        }
    };
    match serde_json::from_str::<State>(&text) {
        Ok(state) if state.format == STATE_FORMAT => Ok(state),
        Ok(state) => Err(Failure(format!(
            "the export state `{}` has format {}, this `telemetry` writes {STATE_FORMAT}; delete it or pass --restart",
            path.display(),
            state.format
        ))),
        Err(e) => Err(Failure(format!(
            "the export state `{}` is damaged ({e}); delete it or pass --restart (events already sent are sent again; destinations drop the copies by id)",
            path.display()
        ))),
    }
}

/// Replaces the state file atomically (temporary file, then rename).
fn write_state(path: &Path, state: &State) -> Result<(), Failure> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let text = serde_json::to_string_pretty(state).expect("the state is plain data");
    fs::write(&tmp, text + "\n")
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| {
            Failure(format!(
                "cannot save the export progress to `{}`: {e}; make its directory writable or choose another file with --state",
                path.display()
            ))
        })
}

/// A progress line on standard error while sending, when it is a terminal.
struct ProgressLine {
    on: bool,
    total: u64,
    started: Instant,
    last: Instant,
}

impl ProgressLine {
    fn new(total: u64) -> ProgressLine {
        let now = Instant::now();
        ProgressLine {
            on: io::stderr().is_terminal(),
            total,
            started: now,
            last: now,
        }
    }

    fn show(&mut self, offset: u64, summary: &Summary) {
        if !self.on || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let percent = if self.total == 0 {
            100.0
        } else {
            offset as f64 * 100.0 / self.total as f64
        };
        let width = 30;
        let filled = ((percent / 100.0) * width as f64).round() as usize;
        let rate = summary.delivery.exported as f64 / self.started.elapsed().as_secs_f64();
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K[{}{}] {percent:5.1}%  {} sent, {} failed  {rate:.0} events/s",
            "#".repeat(filled.min(width)),
            " ".repeat(width - filled.min(width)),
            summary.delivery.exported,
            summary.delivery.failed
        );
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.on {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// Reads one line into `buf` (cleared first). Returns the bytes consumed (0 at the
/// end) and whether the line was too long (then `buf` holds only its start).
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<(u64, bool)> {
    buf.clear();
    let read = reader
        .by_ref()
        .take(MAX_LINE_BYTES)
        .read_until(b'\n', buf)? as u64;
    if read < MAX_LINE_BYTES || buf.last() == Some(&b'\n') {
        return Ok((read, false));
    }
    // Too long: skip to the end of the line without keeping it.
    let mut skipped = read;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok((skipped, true));
        }
        match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                return Ok((skipped + at as u64 + 1, true));
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
                skipped += n as u64;
            }
        }
    }
}

/// Runs `telemetry export`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Failure> {
    let path = &args.events;
    let open_error = |e: io::Error| {
        Failure(format!(
            "cannot read the events file `{}`: {e}; check the path (the program writes it with Config::jsonl)",
            path.display()
        ))
    };
    let mut file = File::open(path).map_err(open_error)?;
    let total = file.metadata().map_err(open_error)?.len();
    let (mut sink, endpoint) = open_sink(args)?;
    let key = format!("{} {endpoint}", args.to.name());
    let state_file = state_path(args);
    let mut state = read_state(&state_file)?;
    let start = if args.restart {
        Progress::default()
    } else {
        state.progress.get(&key).copied().unwrap_or_default()
    };
    if start.offset > total {
        return Err(Failure(format!(
            "`{}` is shorter ({total} bytes) than the progress saved in `{}` ({} bytes): the file was replaced; pass --restart to send it from the start",
            path.display(),
            state_file.display(),
            start.offset
        )));
    }
    if start.offset > 0 {
        eprintln!(
            "resuming after line {} ({} of {total} bytes already sent to {key}); --restart sends everything again",
            start.line, start.offset
        );
    }
    file.seek(SeekFrom::Start(start.offset))
        .map_err(open_error)?;
    let mut reader = BufReader::with_capacity(1 << 16, file);

    let mut summary = Summary::default();
    let mut progress = ProgressLine::new(total);
    let mut offset = start.offset;
    let mut line_no = start.line;
    let mut acknowledged = start;
    let mut batch: Vec<Record> = Vec::with_capacity(args.batch as usize);
    let mut buf = Vec::new();
    let mut stopped: Option<String> = None;
    let name = path.display().to_string();
    loop {
        let (read, too_long) = read_line(&mut reader, &mut buf).map_err(open_error)?;
        let end = read == 0;
        if !end {
            offset += read;
            line_no += 1;
            summary.lines += 1;
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim();
            let problem = if too_long {
                Some(format!("longer than {MAX_LINE_BYTES} bytes"))
            } else if text.is_empty() {
                None
            } else {
                match Record::from_json(text) {
                    Ok(record) if record.format > RECORD_FORMAT => Some(format!(
                        "record format {} is newer than this `telemetry` reads ({RECORD_FORMAT})",
                        record.format
                    )),
                    Ok(record) => {
                        match record.kind {
                            RecordKind::Event => {
                                summary.events += 1;
                                batch.push(record);
                            }
                            RecordKind::Stats => summary.skipped_stats += 1,
                            // Every event carries the user id and the anonymous id,
                            // which is how the destinations link the two.
                            _ => summary.skipped_identify += 1,
                        }
                        None
                    }
                    Err(e) => Some(e.to_string()),
                }
            };
            if let Some(problem) = problem {
                summary.malformed += 1;
                if summary.malformed <= MAX_REPORTED_LINES {
                    progress.clear();
                    eprintln!("{name}:{line_no}: malformed line skipped: {problem}");
                }
            }
        }
        if batch.len() as u64 >= args.batch || (end && !batch.is_empty()) {
            let mut outcome = sink.send(&batch);
            outcome.settle(batch.len());
            // Failures a later attempt may cure stop the export here; failures that can
            // never succeed as sent (the destination refused the request itself) are
            // counted and passed over.
            let retry_later = outcome.failed > outcome.permanent;
            let error = outcome.error.as_ref().map(ToString::to_string);
            let lost = outcome.failed + outcome.rejected;
            if lost > 0 {
                let reason = error.clone().unwrap_or_else(|| "no reason given".into());
                match summary.reasons.iter_mut().find(|(r, _)| *r == reason) {
                    Some((_, n)) => *n += lost,
                    None => summary.reasons.push((reason, lost)),
                }
            }
            summary.delivery.merge(outcome);
            batch.clear();
            if retry_later {
                stopped = Some(error.unwrap_or_else(|| "no reason given".into()));
                break;
            }
            acknowledged = Progress {
                offset,
                line: line_no,
            };
            state.progress.insert(key.clone(), acknowledged);
            write_state(&state_file, &state)?;
        } else if end {
            // Nothing pending: the lines read since the last batch are done too.
            acknowledged = Progress {
                offset,
                line: line_no,
            };
            state.progress.insert(key.clone(), acknowledged);
            write_state(&state_file, &state)?;
        }
        progress.show(offset, &summary);
        if end {
            break;
        }
    }
    let _ = sink.flush();
    progress.clear();

    let d = &summary.delivery;
    let mut out = format!(
        "{name} -> {key}\n  read {} lines: {} events, {} malformed lines, {} stats records and {} identify records skipped\n  sent {}, rejected {} (invalid for the destination), failed {}; {} requests retried\n",
        summary.lines,
        summary.events,
        summary.malformed,
        summary.skipped_stats,
        summary.skipped_identify,
        d.exported,
        d.rejected,
        d.failed,
        d.retried
    );
    for (reason, n) in summary.reasons.iter().take(MAX_REASONS) {
        out.push_str(&format!("  {n} not delivered: {reason}\n"));
    }
    if summary.reasons.len() > MAX_REASONS {
        out.push_str(&format!(
            "  ... and {} more reasons\n",
            summary.reasons.len() - MAX_REASONS
        ));
    }
    if let Some(reason) = &stopped {
        out.push_str(&format!(
            "  stopped: the destination failed a batch ({reason}); progress is saved up to line {}: run the same command again to resume\n",
            acknowledged.line
        ));
    }
    print(&out);
    let clean = d.failed == 0 && d.rejected == 0 && summary.malformed == 0 && stopped.is_none();
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
