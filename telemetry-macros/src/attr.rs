//! Parsing of `#[telemetry(...)]` attributes and doc comments.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitInt, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

pub(crate) const ATTR: &str = "telemetry";

/// Keys accepted on an event struct.
pub(crate) const EVENT_KEYS: &[&str] = &["name", "category", "owner", "version", "active", "crate"];
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

/// What `#[telemetry(...)]` attributes hold, once read.
pub(crate) struct Attrs {
    /// Every valid, distinct key with its value.
    pub(crate) entries: Vec<Entry>,
    /// Keys the user tried to give but that are not in `entries`: misspelled keys (by
    /// the key suggested for them), keys whose value does not parse, and every key for
    /// an empty `#[telemetry]`. A "missing key" error on top of the error already
    /// reported for these would only repeat it.
    pub(crate) attempted: Vec<&'static str>,
}

impl Attrs {
    /// Whether `key` was given, validly or not.
    pub(crate) fn mentions(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key) || self.attempted.contains(&key)
    }
}

/// Reads every `#[telemetry(...)]` attribute in `attrs`, reporting unknown and repeated
/// keys (with the closest valid key as suggestion) against `allowed`. `example` is a
/// complete attribute to suggest for an empty `#[telemetry]`.
pub(crate) fn parse(
    cx: &mut Ctxt,
    attrs: &[Attribute],
    allowed: &[&'static str],
    on: &str,
    example: &str,
) -> Attrs {
    let mut entries: Vec<Entry> = Vec::new();
    let mut attempted: Vec<&'static str> = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident(ATTR)) {
        if let Meta::Path(_) = attr.meta {
            cx.error_spanned_by(
                attr,
                format!(
                    "empty #[telemetry] attribute; write e.g. `{example}` (keys: {})",
                    backticked(allowed)
                ),
            );
            attempted.extend_from_slice(allowed);
            continue;
        }
        let mut current: Option<&'static str> = None;
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
            let known = allowed.iter().copied().find(|k| *k == key);
            current = known.or_else(|| closest(&key, allowed));
            if meta.input.peek(Token![:]) {
                return Err(meta.input.error(format!(
                    "write `=` between a key and its value, e.g. `{key} = ...`"
                )));
            }
            let value = if meta.input.peek(Token![=]) {
                Some(meta.value()?.parse::<Expr>()?)
            } else {
                skip_group(&meta)?;
                None
            };
            match known {
                None => {
                    cx.error_at(key_span, unknown_key_message(&key, allowed, on));
                    attempted.extend(current);
                }
                Some(_) if entries.iter().any(|e| e.key == key) => {
                    cx.error_at(key_span, format!("`{key}` is given twice; keep one"));
                }
                Some(_) => entries.push(Entry {
                    key,
                    key_span,
                    value,
                }),
            }
            current = None;
            Ok(())
        });
        if let Err(e) = result {
            cx.syn_error(e);
            attempted.extend(current);
        }
    }
    Attrs { entries, attempted }
}

fn backticked(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
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

pub(crate) fn unknown_key_message(key: &str, allowed: &[&str], on: &str) -> String {
    let expected = backticked(allowed);
    match closest(key, allowed) {
        Some(best) => format!(
            "unknown telemetry attribute `{key}` on {on}; did you mean `{best}`? (expected one of {expected})"
        ),
        None => format!("unknown telemetry attribute `{key}` on {on}; expected one of {expected}"),
    }
}

/// The allowed key closest to `key` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
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
        match self.value.as_ref().map(ungroup) {
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
        match self.value.as_ref().map(ungroup) {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            })) => Some(i.clone()),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) if s.value().trim().parse::<u64>().is_ok() => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "`{}` takes a number, not a string; write `{} = {}` without quotes",
                        self.key,
                        self.key,
                        s.value().trim()
                    ),
                );
                None
            }
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

/// The expression inside the invisible group that a `macro_rules!` fragment such as
/// `$name:literal` becomes when it is passed on to the derive.
fn ungroup(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => ungroup(&g.expr),
        other => other,
    }
}

/// The text of the `///` doc comments, lines joined with `\n`, one leading space per
/// line removed, surrounding blank lines trimmed.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> String {
    reflow(&doc_lines(attrs))
}

/// The doc comment of an instrumented function as an event description: the text
/// before the first Markdown heading, since `# Errors`, `# Panics` or `# Examples`
/// sections document the function's API, not the event.
pub(crate) fn function_doc_comment(attrs: &[Attribute]) -> String {
    let mut lines = doc_lines(attrs);
    let mut in_code = false;
    let heading = lines.iter().position(|line| {
        let t = line.trim_start();
        if t.starts_with("```") {
            in_code = !in_code;
        }
        !in_code && t.starts_with('#')
    });
    if let Some(at) = heading {
        lines.truncate(at);
    }
    reflow(&lines)
}

fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = ungroup(&nv.value)
        {
            // `split('\n')`, not `lines()`: an empty `///` line is a paragraph break.
            for line in s.value().split('\n') {
                let line = line.strip_prefix(' ').unwrap_or(line);
                lines.push(line.trim_end().to_owned());
            }
        }
    }
    lines
}

/// Joins the lines of the doc comment the way Markdown renders them: lines wrapped
/// within a paragraph become one line, paragraphs are separated by a blank line, and
/// list items and fenced code keep their own lines. Catalog readers (docs pages,
/// vendor tools, diffs) then see the text as written, not the source's wrapping.
fn reflow(lines: &[String]) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut blank_pending = false;
    for line in lines {
        let fence = line.trim_start().starts_with("```");
        if line.trim().is_empty() && !in_code {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            if blank_pending {
                out.push_str("\n\n");
            } else if in_code || fence || starts_list_item(line) {
                out.push('\n');
            } else {
                out.push(' ');
            }
        }
        blank_pending = false;
        out.push_str(if in_code { line } else { line.trim() });
        if fence {
            in_code = !in_code;
        }
    }
    out
}

fn starts_list_item(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ") {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comments_reflow_like_markdown() {
        let lines: Vec<String> = [
            "",
            "A payment failed after the",
            "customer confirmed.",
            "",
            "Sent when:",
            "- the bank declines,",
            "- the app times out.",
            "1. first",
            "```",
            "  code line",
            "```",
            "",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            reflow(&lines),
            "A payment failed after the customer confirmed.\n\nSent when:\n- the bank declines,\n- the app times out.\n1. first\n```\n  code line\n```"
        );
    }

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("nme", EVENT_KEYS), Some("name"));
        assert_eq!(closest("onwer", EVENT_KEYS), Some("owner"));
        assert_eq!(closest("catgory", EVENT_KEYS), Some("category"));
        assert_eq!(closest("renmae", FIELD_KEYS), Some("rename"));
        assert_eq!(closest("zzzzzz", EVENT_KEYS), None);
    }

    fn parse_event_attrs(attrs: &[Attribute]) -> (Attrs, bool) {
        let mut cx = Ctxt::default();
        let parsed = parse(
            &mut cx,
            attrs,
            EVENT_KEYS,
            "an event",
            "#[telemetry(name = \"a.b\")]",
        );
        (parsed, cx.has_errors())
    }

    #[test]
    fn misspelled_and_broken_keys_count_as_given() {
        let (attrs, errors) = parse_event_attrs(&[syn::parse_quote!(#[telemetry(nmae = "a.b")])]);
        assert!(errors && attrs.entries.is_empty() && attrs.mentions("name"));
        let (attrs, errors) = parse_event_attrs(&[syn::parse_quote!(#[telemetry(name: "a.b")])]);
        assert!(errors && attrs.mentions("name"));
        let (attrs, errors) = parse_event_attrs(&[syn::parse_quote!(#[telemetry])]);
        assert!(errors && attrs.mentions("name") && attrs.mentions("owner"));
        let (attrs, errors) =
            parse_event_attrs(&[syn::parse_quote!(#[telemetry(title = "a.b", owner = "x")])]);
        assert!(errors && !attrs.mentions("name") && attrs.mentions("owner"));
    }
}
