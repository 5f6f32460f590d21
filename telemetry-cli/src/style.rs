//! Terminal styles. Written through `anstream`, which drops them when the output is not
//! a terminal (or `NO_COLOR` is set), so pipes and golden files stay plain.

use anstyle::{AnsiColor, Style};

/// `error` labels.
pub(crate) const ERROR: Style = AnsiColor::Red.on_default().bold();
/// `warning` labels.
pub(crate) const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// Good news and additions.
pub(crate) const OK: Style = AnsiColor::Green.on_default().bold();
/// Names of events and properties.
pub(crate) const NAME: Style = Style::new().bold();
/// Secondary text.
pub(crate) const DIM: Style = Style::new().dimmed();

/// `text` wrapped in `style` (plain again after it).
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}
