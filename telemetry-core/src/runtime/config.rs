//! [`Config`]: what `init` needs to start the pipeline.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::clock::{Clock, ManualClock};
use super::policy::{Consent, DEFAULT_UNKNOWN_CONSENT_BUFFER};
use super::sink::Sink;

/// Environment variable read for the PII hashing secret when
/// [`Config::pii_secret`] is not set.
pub const PII_SECRET_ENV: &str = "TELEMETRY_PII_SECRET";

/// Environment variables that switch telemetry off at [`init`](crate::init), whatever
/// the configuration says: `DO_NOT_TRACK` (the <https://consoledonottrack.com>
/// convention) and `TELEMETRY_DISABLED`. Any value except empty, `0` or `false` counts.
pub const OPT_OUT_ENV: [&str; 2] = ["DO_NOT_TRACK", "TELEMETRY_DISABLED"];

/// Default of [`Config::session_timeout`]: 30 minutes, as in common analytics tools.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Default JSONL file when no sink is configured.
pub const DEFAULT_JSONL_PATH: &str = "telemetry-events.jsonl";

/// Configuration of the telemetry pipeline, passed to [`init`](crate::init).
///
/// ```no_run
/// use std::time::Duration;
///
/// let config = telemetry_core::Config::new("food-delivery", "1.4.0")
///     .jsonl("out/events.jsonl")
///     .anonymous_id("device-3f9a")
///     .pii_secret(b"load me from your secret store")
///     .shutdown_timeout(Duration::from_secs(2));
/// let _guard = telemetry_core::init(config);
/// ```
pub struct Config {
    pub(crate) app_name: String,
    pub(crate) app_version: String,
    pub(crate) anonymous_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) pii_secret: Option<Vec<u8>>,
    pub(crate) jsonl_paths: Vec<PathBuf>,
    pub(crate) sinks: Vec<Box<dyn Sink>>,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) stats_interval: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) consent: Consent,
    pub(crate) unknown_consent_buffer: usize,
    pub(crate) essential_categories: Vec<String>,
    pub(crate) session_timeout: Option<Duration>,
    pub(crate) anonymous_id_file: Option<PathBuf>,
    pub(crate) locale: Option<String>,
    pub(crate) sample_rates: std::collections::HashMap<String, f64>,
    pub(crate) clock: Clock,
}

impl Config {
    /// A configuration for an application, named as it should appear in every record's
    /// context (`app_name`, `app_version`).
    ///
    /// Without any sink configured, events go to [`DEFAULT_JSONL_PATH`] in the
    /// current directory.
    pub fn new(app_name: impl Into<String>, app_version: impl Into<String>) -> Config {
        Config {
            app_name: app_name.into(),
            app_version: app_version.into(),
            anonymous_id: None,
            user_id: None,
            session_id: None,
            pii_secret: None,
            jsonl_paths: Vec::new(),
            sinks: Vec::new(),
            queue_capacity: 8192,
            queue_bytes: 4 << 20,
            stats_interval: Some(Duration::from_secs(60)),
            shutdown_timeout: Duration::from_secs(5),
            consent: Consent::Granted,
            unknown_consent_buffer: DEFAULT_UNKNOWN_CONSENT_BUFFER,
            essential_categories: Vec::new(),
            session_timeout: Some(DEFAULT_SESSION_TIMEOUT),
            anonymous_id_file: None,
            locale: None,
            sample_rates: std::collections::HashMap::new(),
            clock: Clock::System,
        }
    }

    /// Appends records to a JSONL file (created with its parent directories if
    /// needed). The file is opened by `init`, which reports an error naming the path
    /// if it cannot be.
    pub fn jsonl(mut self, path: impl Into<PathBuf>) -> Config {
        self.jsonl_paths.push(path.into());
        self
    }

    /// Writes records to standard output, one JSON object per line.
    pub fn stdout(self) -> Config {
        self.sink(super::sink::StdoutSink::new())
    }

    /// Adds a sink (e.g. a [`MemorySink`](crate::MemorySink) or your own).
    pub fn sink(mut self, sink: impl Sink) -> Config {
        self.sinks.push(Box::new(sink));
        self
    }

    /// The anonymous id put in every record's context. A random one is generated per
    /// process when none is given.
    pub fn anonymous_id(mut self, id: impl Into<String>) -> Config {
        self.anonymous_id = Some(id.into());
        self
    }

    /// The signed-in user's id put in every record's context.
    pub fn user_id(mut self, id: impl Into<String>) -> Config {
        self.user_id = Some(id.into());
        self
    }

    /// The session id put in every record's context. A random one is generated per
    /// `init` when none is given.
    pub fn session_id(mut self, id: impl Into<String>) -> Config {
        self.session_id = Some(id.into());
        self
    }

    /// The secret key for `pii = "hash"` properties (HMAC-SHA-256). Without it, the
    /// [`PII_SECRET_ENV`] environment variable is read; when neither is set and an
    /// event declares a hashed property, `init` refuses to start rather than hash
    /// without a key (an unkeyed hash of an e-mail address is easy to reverse).
    pub fn pii_secret(mut self, secret: impl AsRef<[u8]>) -> Config {
        self.pii_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// How many events may wait for the background writer; when full, new events are
    /// dropped and counted in [`Stats::dropped_queue_full`](crate::Stats). Default 8192.
    pub fn queue_capacity(mut self, events: usize) -> Config {
        self.queue_capacity = events.max(1);
        self
    }

    /// The most heap bytes queued events may hold beyond their fixed-size queue slots
    /// (strings too long for a slot, `#[instrument_event]` calls); over it, new events
    /// are dropped and counted in [`Stats::dropped_queue_full`](crate::Stats). The
    /// slots themselves take `queue_capacity` times about 150 bytes, allocated once by
    /// `init`. Default 4 MiB.
    pub fn queue_bytes(mut self, bytes: usize) -> Config {
        self.queue_bytes = bytes;
        self
    }

    /// How often the writer sends a `telemetry.stats` record (`"type":"stats"`, the
    /// [`Stats`](crate::Stats) counters) to the sinks, and it sends a last one at
    /// shutdown, after the last events, so that the output ends with its totals;
    /// `None` for never (not even at shutdown). Default every 60 seconds.
    pub fn stats_interval(mut self, every: Option<Duration>) -> Config {
        self.stats_interval = every;
        self
    }

    /// How long dropping the [`Guard`](crate::Guard) waits for queued events to be
    /// written. Default 5 seconds.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Config {
        self.shutdown_timeout = timeout;
        self
    }
}

impl Config {
    /// The consent state when `init` starts the pipeline (see [`Consent`]); change it
    /// later with [`set_consent`](crate::set_consent). Default [`Consent::Granted`]:
    /// the library cannot know the application's legal basis, so an application that
    /// needs opt-in consent sets [`Consent::Unknown`] (or `Denied`) here and calls
    /// `set_consent` once the user has decided.
    pub fn consent(mut self, consent: Consent) -> Config {
        self.consent = consent;
        self
    }

    /// How many events the writer keeps in memory while consent is
    /// [`Consent::Unknown`]; later ones are dropped and counted in
    /// [`Stats::dropped_no_consent`](crate::Stats). `0` drops everything while
    /// unknown. Default [`DEFAULT_UNKNOWN_CONSENT_BUFFER`].
    pub fn unknown_consent_buffer(mut self, events: usize) -> Config {
        self.unknown_consent_buffer = events;
        self
    }

    /// After this long without events, the next event starts a new session (a new
    /// generated `session_id`); `None` keeps one session per `init`. Default
    /// [`DEFAULT_SESSION_TIMEOUT`]. Does not apply to a [`Config::session_id`] given
    /// here or to scoped session ids.
    pub fn session_timeout(mut self, timeout: Option<Duration>) -> Config {
        self.session_timeout = timeout;
        self
    }

    /// Keeps the generated anonymous id in a file (for desktop and CLI apps, e.g. in
    /// the application's data directory), so that the installation keeps its id across
    /// runs: read at `init` if the file exists, else generated and written (parent
    /// directories created). [`Config::anonymous_id`] takes precedence.
    pub fn persist_anonymous_id(mut self, path: impl Into<PathBuf>) -> Config {
        self.anonymous_id_file = Some(path.into());
        self
    }

    /// The locale put in every record's context (a BCP 47 tag such as `en-GB`). By
    /// default it comes from `LC_ALL`, `LC_MESSAGES` or `LANG` when one is set.
    pub fn locale(mut self, locale: impl Into<String>) -> Config {
        self.locale = Some(locale.into());
        self
    }

    /// Keeps only a share of the users' `event` events (`rate` in `0.0..=1.0`; 1, the
    /// default, keeps all). The decision hashes the user id (the anonymous id when
    /// there is none), so a kept user keeps every one of their events (funnels and
    /// retention stay whole) and a user kept at a rate is kept at every higher rate.
    /// Dropped events are counted in [`Stats::dropped_sampled_out`](crate::Stats); kept
    /// ones carry `"sample_rate"` so analysis can scale counts by `1 / rate`.
    pub fn sample_rate(mut self, event: impl Into<String>, rate: f64) -> Config {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.sample_rates.insert(event.into(), rate);
        self
    }

    /// Stamps events with `clock` instead of the system clock (simulations, tests):
    /// see [`ManualClock`] for what it affects. Keep a clone to move the time.
    pub fn clock(mut self, clock: ManualClock) -> Config {
        self.clock = Clock::Manual(clock);
        self
    }

    /// Marks an event category (the events' `category = "..."`) as essential: its
    /// events are written whatever the consent state (e.g. `"crash"` reports the
    /// application has another legal basis for). Nothing is essential unless listed.
    /// `DO_NOT_TRACK` and `TELEMETRY_DISABLED` still switch off everything.
    pub fn essential_category(mut self, category: impl Into<String>) -> Config {
        self.essential_categories.push(category.into());
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_name", &self.app_name)
            .field("app_version", &self.app_version)
            .field("anonymous_id", &self.anonymous_id)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("pii_secret", &self.pii_secret.as_ref().map(|_| "<set>"))
            .field("jsonl_paths", &self.jsonl_paths)
            .field(
                "sinks",
                &self.sinks.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_bytes", &self.queue_bytes)
            .field("stats_interval", &self.stats_interval)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("consent", &self.consent)
            .field("unknown_consent_buffer", &self.unknown_consent_buffer)
            .field("essential_categories", &self.essential_categories)
            .field("session_timeout", &self.session_timeout)
            .field("anonymous_id_file", &self.anonymous_id_file)
            .field("locale", &self.locale)
            .field("sample_rates", &self.sample_rates)
            .field("clock", &self.clock)
            .finish()
    }
}
