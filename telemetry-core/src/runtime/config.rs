//! [`Config`]: what `init` needs to start the pipeline.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::sink::Sink;

/// Environment variable read for the PII hashing secret when
/// [`Config::pii_secret`] is not set.
pub const PII_SECRET_ENV: &str = "TELEMETRY_PII_SECRET";

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
    /// [`Stats`](crate::Stats) counters) to the sinks; `None` for never. Default every
    /// 60 seconds.
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
            .finish()
    }
}
