//! Exporters: sinks that deliver events to analytics vendors, OpenTelemetry collectors
//! and PostgreSQL, each behind its own cargo feature.
//!
//! Every exporter is a [`Sink`](crate::Sink): pass it to
//! [`Config::sink`](crate::Config::sink) and it runs on the pipeline's writer thread.

#[cfg(feature = "http")]
mod engine;

#[cfg(feature = "amplitude")]
mod amplitude;
#[cfg(feature = "ga4")]
mod ga4;
#[cfg(feature = "mixpanel")]
mod mixpanel;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "otlp")]
pub use self::otlp::{
    OTLP_DEFAULT_BATCH_SIZE, OTLP_DEFAULT_ENDPOINT, OTLP_LOGS_PATH, OTLP_MAX_REQUEST_BYTES, Otlp,
    OtlpLogs,
};
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use self::postgres::{
    POSTGRES_DEFAULT_BACKOFF, POSTGRES_DEFAULT_RETRIES, POSTGRES_DEFAULT_TABLE,
    POSTGRES_MAX_BACKOFF, POSTGRES_URL_ENV, Postgres,
};
#[cfg(feature = "posthog")]
mod posthog;
#[cfg(feature = "segment")]
mod segment;
#[cfg(feature = "spool")]
mod spool;
#[cfg(feature = "spool")]
pub use self::spool::{
    DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_RETRY_MAX, DEFAULT_SPOOL_RETRY_MIN,
    DEFAULT_SPOOL_SEGMENT_BYTES, Spool, SpoolMonitor, SpoolStats,
};

#[cfg(feature = "http")]
pub use engine::{
    Answer, DEFAULT_CONNECT_TIMEOUT, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_ELAPSED, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_AFTER, DEFAULT_TIMEOUT, Encoded,
    HttpExporter, Limits, Request, Secret, Vendor, Verdict, parse_retry_after, status_reason,
};

#[cfg(feature = "amplitude")]
pub use amplitude::{
    AMPLITUDE_ENDPOINT, AMPLITUDE_EU_ENDPOINT, AMPLITUDE_MAX_EVENTS, AMPLITUDE_MAX_REQUEST_BYTES,
    AMPLITUDE_MIN_ID_LENGTH, AMPLITUDE_THROTTLE_WAIT, Amplitude, AmplitudeApi,
};

#[cfg(feature = "mixpanel")]
pub use mixpanel::{
    MIXPANEL_ENDPOINT, MIXPANEL_EU_ENDPOINT, MIXPANEL_MAX_EVENT_BYTES, MIXPANEL_MAX_EVENTS,
    MIXPANEL_MAX_INSERT_ID, MIXPANEL_MAX_REQUEST_BYTES, Mixpanel, MixpanelApi,
};

#[cfg(feature = "segment")]
pub use segment::{
    SEGMENT_ENDPOINT, SEGMENT_EU_ENDPOINT, SEGMENT_MAX_EVENT_BYTES, SEGMENT_MAX_EVENTS,
    SEGMENT_MAX_REQUEST_BYTES, Segment, SegmentApi,
};

#[cfg(feature = "posthog")]
pub use posthog::{
    POSTHOG_ENDPOINT, POSTHOG_EU_ENDPOINT, POSTHOG_MAX_EVENT_BYTES, POSTHOG_MAX_EVENTS,
    POSTHOG_MAX_REQUEST_BYTES, PostHog, PostHogApi,
};

#[cfg(feature = "ga4")]
pub use ga4::{
    GA4_ENDPOINT, GA4_EU_ENDPOINT, GA4_MAX_EVENTS, GA4_MAX_NAME, GA4_MAX_PARAM_VALUE,
    GA4_MAX_PARAMS, GA4_MAX_REQUEST_BYTES, Ga4, Ga4Api, check_ga4_catalog, ga4_event_name,
    ga4_param_name,
};
