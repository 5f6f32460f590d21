//! Validation of the parsed model. Every problem is reported with a span on the user's
//! token and a message that says what to write instead.

use syn::{GenericParam, Generics};

use crate::ast::{Event, PropertyEnum};
use crate::ctxt::Ctxt;
use crate::naming::{check_event_name, check_property_name};

/// How a property's personal data is handled; mirrors `telemetry_core::Pii`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pii {
    None,
    Hash,
    Redact,
    Drop,
}

impl Pii {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Pii::None => "None",
            Pii::Hash => "Hash",
            Pii::Redact => "Redact",
            Pii::Drop => "Drop",
        }
    }
}

/// What the expansion needs beyond the model, once checked.
pub(crate) struct ValidEvent {
    pub(crate) name: String,
    pub(crate) version: u32,
    /// Per property of the model: `None` when skipped, else (name, pii).
    pub(crate) properties: Vec<Option<(String, Pii)>>,
}

pub(crate) fn event(cx: &mut Ctxt, event: &Event<'_>) -> ValidEvent {
    let ident = &event.input.ident;
    let name = match &event.name {
        Some(lit) => {
            let value = lit.value();
            if let Err(why) = check_event_name(&value) {
                cx.error_spanned_by(lit, why);
            }
            value
        }
        None if event.name_attempted => String::new(),
        None => {
            cx.error_spanned_by(
                ident,
                format!(
                    "missing event name; add `#[telemetry(name = \"{}\")]` to `{ident}` (lowercase `object.action`)",
                    name_from_ident(&ident.to_string())
                ),
            );
            String::new()
        }
    };
    if event.description.is_empty() {
        cx.error_spanned_by(
            ident,
            format!(
                "missing description for event `{ident}`; add a doc comment (`/// When and why this is sent.`) above the struct: it is the event's description in the catalog"
            ),
        );
    }
    for (key, example, lit) in [
        ("category", "ordering", &event.category),
        ("owner", "growth", &event.owner),
    ] {
        if let Some(lit) = lit
            && lit.value().trim().is_empty()
        {
            cx.error_spanned_by(
                lit,
                format!(
                    "`{key}` is empty; write it, e.g. `{key} = \"{example}\"`, or leave `{key}` out"
                ),
            );
        }
    }
    let version = version(cx, event.version.as_ref());
    reject_type_generics(cx, &event.input.generics, "an event");

    let mut properties = Vec::with_capacity(event.properties.len());
    let mut seen: Vec<(String, &syn::Ident)> = Vec::new();
    for property in &event.properties {
        if let Some(skip) = property.skip {
            for (key, given) in [
                ("rename", property.rename.is_some()),
                ("pii", property.pii.is_some()),
            ] {
                if given {
                    cx.error_at(
                        skip,
                        format!("`skip` leaves the field out of the event, so `{key}` has no effect; remove one of them"),
                    );
                }
            }
            properties.push(None);
            continue;
        }
        let pii = match &property.pii {
            None => Pii::None,
            Some(lit) => match lit.value().as_str() {
                "hash" => Pii::Hash,
                "redact" => Pii::Redact,
                "drop" => Pii::Drop,
                other => {
                    cx.error_spanned_by(
                        lit,
                        format!(
                            "unknown pii handling `{other}`; write `pii = \"hash\"` (keyed hash, joins still work), `pii = \"redact\"` (replaced by a marker) or `pii = \"drop\"` (removed before sending)"
                        ),
                    );
                    Pii::None
                }
            },
        };
        let name = property.name();
        if let Err(why) = check_property_name(&name) {
            cx.error_at(property.name_span(), why);
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            cx.error_at(
                property.name_span(),
                format!(
                    "property name `{name}` is already used by field `{first}`; give one of them another `#[telemetry(rename = \"...\")]`"
                ),
            );
        }
        seen.push((name.clone(), property.ident));
        properties.push(Some((name, pii)));
    }
    ValidEvent {
        name,
        version,
        properties,
    }
}

/// The `version = N` of an event (default 1), reporting anything but a whole number
/// from 1 up.
pub(crate) fn version(cx: &mut Ctxt, lit: Option<&syn::LitInt>) -> u32 {
    match lit {
        Some(lit) => match lit.base10_parse::<u32>() {
            Ok(v) if v >= 1 => v,
            _ => {
                cx.error_spanned_by(
                    lit,
                    "`version` is a whole number from 1 up, e.g. `version = 2`",
                );
                1
            }
        },
        None => 1,
    }
}

/// How variant names become property values.
#[derive(Clone, Copy)]
pub(crate) enum RenameRule {
    Snake,
    Lower,
    Upper,
    Pascal,
    Camel,
    ScreamingSnake,
    Kebab,
}

const RENAME_RULES: &[(&str, RenameRule)] = &[
    ("snake_case", RenameRule::Snake),
    ("lowercase", RenameRule::Lower),
    ("UPPERCASE", RenameRule::Upper),
    ("PascalCase", RenameRule::Pascal),
    ("camelCase", RenameRule::Camel),
    ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
    ("kebab-case", RenameRule::Kebab),
];

impl RenameRule {
    pub(crate) fn apply(self, variant: &str) -> String {
        let words = split_words(variant);
        match self {
            RenameRule::Snake => words.join("_"),
            RenameRule::Lower => words.concat(),
            RenameRule::Upper => words.concat().to_uppercase(),
            RenameRule::Pascal => words.iter().map(|w| capitalize(w)).collect(),
            RenameRule::Camel => {
                let mut out = words.first().cloned().unwrap_or_default();
                out.extend(words.iter().skip(1).map(|w| capitalize(w)));
                out
            }
            RenameRule::ScreamingSnake => words.join("_").to_uppercase(),
            RenameRule::Kebab => words.join("-"),
        }
    }
}

/// Lowercase words of a `PascalCase` (or `snake_case`) identifier.
fn split_words(ident: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for c in ident.trim_start_matches("r#").chars() {
        if c == '_' {
            prev = None;
            continue;
        }
        let boundary = match prev {
            None => true,
            Some(p) => c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()),
        };
        if boundary || words.is_empty() {
            words.push(String::new());
        }
        if let Some(w) = words.last_mut() {
            w.extend(c.to_lowercase());
        }
        prev = Some(c);
    }
    words
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `CartItemAdded` -> `cart.item_added`, for the "missing name" suggestion.
pub(crate) fn name_from_ident(ident: &str) -> String {
    let words = split_words(ident);
    match words.split_first() {
        Some((object, rest)) if !rest.is_empty() => format!("{object}.{}", rest.join("_")),
        Some((object, _)) => format!("{object}.happened"),
        None => "object.action".into(),
    }
}

/// The values of a property enum, in variant order.
pub(crate) fn property_enum(cx: &mut Ctxt, parsed: &PropertyEnum<'_>) -> Vec<String> {
    let rule = match &parsed.rename_all {
        None => RenameRule::Snake,
        Some(lit) => match RENAME_RULES.iter().find(|(n, _)| *n == lit.value()) {
            Some((_, rule)) => *rule,
            None => {
                let names: Vec<String> = RENAME_RULES
                    .iter()
                    .map(|(n, _)| format!("\"{n}\""))
                    .collect();
                cx.error_spanned_by(
                    lit,
                    format!(
                        "unknown `rename_all` rule `{}`; use one of {}",
                        lit.value(),
                        names.join(", ")
                    ),
                );
                RenameRule::Snake
            }
        },
    };
    reject_type_generics(cx, &parsed.input.generics, "a property enum");
    let mut values: Vec<String> = Vec::new();
    for variant in &parsed.variants {
        let value = match &variant.rename {
            Some(lit) => {
                let v = lit.value();
                if v.trim().is_empty() {
                    cx.error_spanned_by(lit, "a property value cannot be empty; write the value to send, e.g. `rename = \"cash\"`");
                }
                v
            }
            None => rule.apply(&variant.ident.to_string()),
        };
        if let Some(first) = values.iter().position(|v| *v == value) {
            let span = variant
                .rename
                .as_ref()
                .map_or(variant.ident.span(), |l| l.span());
            cx.error_at(
                span,
                format!(
                    "value `{value}` of variant `{}` is already the value of variant `{}`; give one of them another `#[telemetry(rename = \"...\")]`",
                    variant.ident,
                    parsed.variants[first].ident
                ),
            );
        }
        values.push(value);
    }
    values
}

fn reject_type_generics(cx: &mut Ctxt, generics: &Generics, what: &str) {
    for param in &generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(t) => cx.error_spanned_by(
                t,
                format!(
                    "{what} cannot have type parameters: its schema is static, with one type per property; use a concrete type (lifetimes such as `<'a>` are fine)"
                ),
            ),
            GenericParam::Const(c) => cx.error_spanned_by(
                c,
                format!("{what} cannot have const parameters: its schema is static; use a concrete type"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules() {
        assert_eq!(RenameRule::Snake.apply("OrderAgain"), "order_again");
        assert_eq!(RenameRule::Kebab.apply("OrderAgain"), "order-again");
        assert_eq!(RenameRule::Camel.apply("OrderAgain"), "orderAgain");
        assert_eq!(RenameRule::Pascal.apply("OrderAgain"), "OrderAgain");
        assert_eq!(
            RenameRule::ScreamingSnake.apply("OrderAgain"),
            "ORDER_AGAIN"
        );
        assert_eq!(RenameRule::Lower.apply("OrderAgain"), "orderagain");
        assert_eq!(RenameRule::Upper.apply("Upi"), "UPI");
        assert_eq!(RenameRule::Snake.apply("Http2Push"), "http2_push");
    }

    #[test]
    fn names_from_idents() {
        assert_eq!(name_from_ident("CartItemAdded"), "cart.item_added");
        assert_eq!(name_from_ident("Started"), "started.happened");
    }
}
