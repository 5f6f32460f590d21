//! Parsing of `#[instrument_event(...)]` arguments.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitInt, LitStr, Path, Token, Type};

use crate::attr::{Entry, closest, unknown_key_message};
use crate::ctxt::Ctxt;

/// Keys accepted by `#[instrument_event(...)]`.
pub(crate) const INSTRUMENT_KEYS: &[&str] = &[
    "name", "category", "owner", "version", "event", "fields", "crate", "future",
];

/// Keys that describe the event; in typed mode the event struct has them.
pub(crate) const SCHEMA_KEYS: &[&str] = &["name", "category", "owner", "version"];

/// The parsed arguments.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    /// Whether a `name` was written, even if invalid (its error is reported already).
    pub(crate) name_attempted: bool,
    pub(crate) category: Option<LitStr>,
    pub(crate) owner: Option<LitStr>,
    pub(crate) version: Option<LitInt>,
    /// Typed mode: the `#[derive(TelemetryEvent)]` struct.
    pub(crate) event: Option<Path>,
    pub(crate) fields: Vec<FieldArg>,
    pub(crate) krate: Option<Path>,
    /// `future`: the function returns a boxed future behind a type alias.
    pub(crate) future: Option<Span>,
    /// Keys given (with their spans), for mode checks.
    pub(crate) given: Vec<(String, Span)>,
}

/// One entry of `fields(...)`: `arg`, `name = expr` or `name: Type = expr`.
pub(crate) struct FieldArg {
    pub(crate) name: Ident,
    pub(crate) ty: Option<Type>,
    pub(crate) expr: Option<Expr>,
}

pub(crate) fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Args {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(|i| i.to_string().trim_start_matches("r#").to_owned())
            .unwrap_or_else(|| {
                let p = &meta.path;
                quote::quote!(#p).to_string()
            });
        let key_span = meta.path.span();
        let Some(known) = INSTRUMENT_KEYS.iter().copied().find(|k| *k == key) else {
            cx.error_at(
                key_span,
                unknown_key_message(&key, INSTRUMENT_KEYS, "#[instrument_event]"),
            );
            if closest(&key, INSTRUMENT_KEYS) == Some("name") {
                args.name_attempted = true;
            }
            skip_value(meta.input)?;
            return Ok(());
        };
        if args.given.iter().any(|(k, _)| k == known) {
            cx.error_at(key_span, format!("`{key}` is given twice; keep one"));
            skip_value(meta.input)?;
            return Ok(());
        }
        args.given.push((known.to_owned(), key_span));
        if meta.input.peek(Token![:]) {
            return Err(meta.input.error(format!(
                "write `=` between a key and its value, e.g. `{key} = ...`"
            )));
        }
        match known {
            "fields" => {
                if !meta.input.peek(syn::token::Paren) {
                    return Err(meta.input.error(
                        "write the captured arguments in parentheses, e.g. `fields(amount_cents, method)`",
                    ));
                }
                let content;
                syn::parenthesized!(content in meta.input);
                let list = content.parse_terminated(parse_field, Token![,])?;
                args.fields.extend(list);
            }
            "event" => {
                let value = meta.value()?;
                let path: Path = value.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`event` takes the event struct's type, e.g. `event = PaymentAttempted`",
                    )
                })?;
                args.event = Some(path);
            }
            "future" => {
                if meta.input.peek(Token![=]) {
                    return Err(meta
                        .input
                        .error("`future` takes no value; write just `future`"));
                }
                args.future = Some(key_span);
            }
            _ => {
                let value = if meta.input.peek(Token![=]) {
                    Some(meta.value()?.parse::<Expr>()?)
                } else {
                    None
                };
                let entry = Entry {
                    key: key.clone(),
                    key_span,
                    value,
                };
                match known {
                    "name" => {
                        args.name_attempted = true;
                        args.name = entry.string(cx, "\"checkout.payment\"");
                    }
                    "category" => args.category = entry.string(cx, "\"payment\""),
                    "owner" => args.owner = entry.string(cx, "\"payments\""),
                    "version" => args.version = entry.int(cx, "2"),
                    "crate" => {
                        if let Some(lit) = entry.string(cx, "\"my_app::telemetry_core\"") {
                            match lit.parse::<Path>() {
                                Ok(p) => args.krate = Some(p),
                                Err(_) => cx.error_spanned_by(
                                    &lit,
                                    "`crate` takes a path in a string, e.g. `crate = \"my_app::telemetry_core\"`",
                                ),
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    });
    if let Err(e) = parser.parse2(tokens) {
        cx.syn_error(e);
    }
    args
}

fn parse_field(input: ParseStream<'_>) -> syn::Result<FieldArg> {
    let name: Ident = input.call(syn::ext::IdentExt::parse_any)?;
    let ty = if input.peek(Token![:]) {
        input.parse::<Token![:]>()?;
        Some(input.parse::<Type>()?)
    } else {
        None
    };
    let expr = if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Some(input.parse::<Expr>()?)
    } else {
        if ty.is_some() {
            return Err(input.error(format!(
                "a typed field needs its value: write `{name}: Type = expression`, or just `{name}` for the argument of that name"
            )));
        }
        None
    };
    Ok(FieldArg { name, ty, expr })
}

/// Consumes the value of a key that is reported already, so parsing goes on.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        input.parse::<Expr>()?;
    } else if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}
