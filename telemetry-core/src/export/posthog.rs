//! posthog
