//! `telemetry.toml`: the team's lint configuration.
//!
//! ```toml
//! [lint]
//! naming = "object.action"        # or "snake_case", "Title Case", "camelCase"
//! min_description_words = 3       # shorter descriptions are `trivial-description`
//! personal_words = ["nickname"]   # more words that make a property look personal
//!
//! [lint.rules]                    # any rule id: "error" | "warning" | "off"
//! never-emitted = "error"
//! missing-owner = "off"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::input::Failure;
use crate::lint::RULES;

/// The default configuration file, looked up in the current directory.
pub(crate) const DEFAULT_CONFIG: &str = "telemetry.toml";

/// The whole configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) lint: LintConfig,
}

/// The `[lint]` table.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LintConfig {
    /// Naming convention for event names.
    pub(crate) naming: Naming,
    /// Descriptions with fewer words are reported as `trivial-description`.
    pub(crate) min_description_words: usize,
    /// Extra words (parts of a `_`-separated property name) that suggest personal data.
    pub(crate) personal_words: Vec<String>,
    /// Severity per rule id.
    pub(crate) rules: BTreeMap<String, Level>,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            naming: Naming::ObjectAction,
            min_description_words: 3,
            personal_words: Vec::new(),
            rules: BTreeMap::new(),
        }
    }
}

/// Naming conventions for event names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) enum Naming {
    /// `cart.item_added`: two or more lowercase `snake_case` segments joined by dots
    /// (the rule `#[derive(TelemetryEvent)]` enforces).
    #[serde(rename = "object.action")]
    ObjectAction,
    /// `cart_item_added`.
    #[serde(rename = "snake_case")]
    SnakeCase,
    /// `Cart Item Added` (Segment's and Amplitude's "Object Action" style).
    #[serde(rename = "Title Case")]
    TitleCase,
    /// `cartItemAdded`.
    #[serde(rename = "camelCase")]
    CamelCase,
}

impl Naming {
    /// How the convention is written in `telemetry.toml`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Naming::ObjectAction => "object.action",
            Naming::SnakeCase => "snake_case",
            Naming::TitleCase => "Title Case",
            Naming::CamelCase => "camelCase",
        }
    }
}

/// Severity of a rule, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// Fails the lint (exit code 1).
    Error,
    /// Reported; fails only with `--deny-warnings`.
    Warning,
    /// Not checked.
    Off,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Off => "off",
        }
    }
}

/// Loads `explicit`, or `telemetry.toml` in the current directory when it exists, or the
/// defaults. Returns the configuration and the file it came from.
pub(crate) fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), Failure> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let path = PathBuf::from(DEFAULT_CONFIG);
            if !path.is_file() {
                return Ok((Config::default(), None));
            }
            path
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure(format!(
            "cannot read the configuration `{}`: {e}; pass an existing file to --config",
            path.display()
        ))
    })?;
    let config = parse(&text).map_err(|why| Failure(format!("{}: {why}", path.display())))?;
    Ok((config, Some(path)))
}

/// Parses and checks a configuration (rule ids must exist).
pub(crate) fn parse(text: &str) -> Result<Config, String> {
    let config: Config = toml::from_str(text).map_err(|e| {
        format!(
            "not a valid telemetry.toml: {}; see `telemetry catalog rules` and the README",
            e.to_string().trim_end()
        )
    })?;
    for id in config.lint.rules.keys() {
        if !RULES.iter().any(|r| r.id == id) {
            let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
            return Err(format!(
                "unknown lint rule `{id}` in [lint.rules]; the rules are: {}",
                known.join(", ")
            ));
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_rejects_unknown_ids() {
        let config =
            parse("[lint]\nnaming = \"Title Case\"\n[lint.rules]\nnever-emitted = \"off\"\n")
                .unwrap();
        assert_eq!(config.lint.naming, Naming::TitleCase);
        assert_eq!(config.lint.rules["never-emitted"], Level::Off);
        let err = parse("[lint.rules]\nnever-emited = \"off\"\n").unwrap_err();
        assert!(err.contains("unknown lint rule `never-emited`"), "{err}");
        let err = parse("[lint]\nnaming = \"kebab\"\n").unwrap_err();
        assert!(err.contains("not a valid telemetry.toml"), "{err}");
    }
}
