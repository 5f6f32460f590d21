//! Parsing of `#[telemetry(...)]` attributes and doc comments.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitInt, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

pub(crate) const ATTR: &str = "telemetry";

/// Keys accepted on an event struct.
pub(crate) const EVENT_KEYS: &[&str] = &["name", "category", "owner", "version", "crate"];
/// Keys accepted on an event field.
pub(crate) const FIELD_KEYS: &[&str] = &["pii", "rename", "skip"];
/// Keys accepted on a property enum.
pub(crate) const ENUM_KEYS: &[&str] = &["rename_all", "crate"];
/// Keys accepted on a property enum variant.
pub(crate) const VARIANT_KEYS: &[&str] = &["rename"];

/// One `key = value` or bare `key` from `#[telemetry(...)]`.
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Option<Expr>,
}

/// Reads every `#[telemetry(...)]` attribute in `attrs`, reporting unknown and repeated
/// keys (with the closest valid key as suggestion) against `allowed`.
pub(crate) fn parse(cx: &mut Ctxt, attrs: &[Attribute], allowed: &[&str], on: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
        if let Meta::Path(_) = attr.meta {
            cx.error_spanned_by(
                attr,
                format!(
                    "empty #[telemetry] attribute; write #[telemetry(key = value)] with one of: {}",
                    allowed.join(", ")
                ),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string().trim_start_matches("r#").to_owned())
                .unwrap_or_else(|| {
                    let p = &meta.path;
                    quote::quote!(#p).to_string()
                });
            let key_span = meta.path.span();
            let value = if meta.input.peek(Token![=]) {
                Some(meta.value()?.parse::<Expr>()?)
            } else {
                skip_group(&meta)?;
                None
            };
            if !allowed.contains(&key.as_str()) {
                cx.error_at(key_span, unknown_key_message(&key, allowed, on));
            } else if entries.iter().any(|e| e.key == key) {
                cx.error_at(key_span, format!("`{key}` is given twice; keep one"));
            } else {
                entries.push(Entry {
                    key,
                    key_span,
                    value,
                });
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    entries
}

/// Consumes a parenthesized list after a key (e.g. a mistaken `name("x")`), so that
/// parsing continues after it.
fn skip_group(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

fn unknown_key_message(key: &str, allowed: &[&str], on: &str) -> String {
    let expected = allowed
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(key, allowed) {
        Some(best) => format!(
            "unknown telemetry attribute `{key}` on {on}; did you mean `{best}`? (expected one of {expected})"
        ),
        None => format!("unknown telemetry attribute `{key}` on {on}; expected one of {expected}"),
    }
}

/// The allowed key closest to `key` by edit distance, if it is close enough to be a typo.
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Entry {
    /// The value as a string literal, or an error saying how to write it.
    pub(crate) fn string(&self, cx: &mut Ctxt, example: &str) -> Option<LitStr> {
        match &self.value {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Some(s.clone()),
            Some(other) => {
                cx.error_spanned_by(
                    other,
                    format!(
                        "`{}` takes a string literal, e.g. `{} = {example}`",
                        self.key, self.key
                    ),
                );
                None
            }
            None => {
                cx.error_at(
                    self.key_span,
                    format!(
                        "`{}` needs a value, e.g. `{} = {example}`",
                        self.key, self.key
                    ),
                );
                None
            }
        }
    }

    /// The value as an integer literal.
    pub(crate) fn int(&self, cx: &mut Ctxt, example: &str) -> Option<LitInt> {
        match &self.value {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => Some(i.clone()),
            Some(other) => {
                cx.error_spanned_by(
                    other,
                    format!(
                        "`{}` takes an integer literal, e.g. `{} = {example}`",
                        self.key, self.key
                    ),
                );
                None
            }
            None => {
                cx.error_at(
                    self.key_span,
                    format!(
                        "`{}` needs a value, e.g. `{} = {example}`",
                        self.key, self.key
                    ),
                );
                None
            }
        }
    }

    /// A bare flag such as `skip`; reports a value given to it.
    pub(crate) fn flag(&self, cx: &mut Ctxt) -> bool {
        if let Some(v) = &self.value {
            cx.error_spanned_by(
                v,
                format!("`{}` takes no value; write just `{}`", self.key, self.key),
            );
        }
        true
    }
}

/// The text of the `///` doc comments, lines joined with `\n`, one leading space per
/// line removed, surrounding blank lines trimmed.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            for line in s.value().lines() {
                let line = line.strip_prefix(' ').unwrap_or(line);
                lines.push(line.trim_end().to_owned());
            }
        }
    }
    lines.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("nme", EVENT_KEYS), Some("name"));
        assert_eq!(closest("onwer", EVENT_KEYS), Some("owner"));
        assert_eq!(closest("catgory", EVENT_KEYS), Some("category"));
        assert_eq!(closest("renmae", FIELD_KEYS), Some("rename"));
        assert_eq!(closest("zzzzzz", EVENT_KEYS), None);
    }
}
