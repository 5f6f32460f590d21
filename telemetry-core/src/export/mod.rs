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
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "posthog")]
mod posthog;
#[cfg(feature = "segment")]
mod segment;
#[cfg(feature = "spool")]
mod spool;
