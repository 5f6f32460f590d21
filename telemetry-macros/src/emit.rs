//! `emit!`: registers the call site in the catalog and hands the event over.
//!
//! The catalog must know which event each call site sends even for code that never
//! runs, so the event's type has to be visible in the macro input: a struct literal
//! (`emit!(Event { .. })`), a unit struct (`emit!(Event)`), or a type and a value
//! (`emit!(Event, value)`).

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Token, Type};

const FORMS: &str = "write `emit!(EventType { field: value, .. })`, `emit!(UnitEvent)`, or `emit!(EventType, value)` for a value built elsewhere";

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let krate = match tokens.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.stream(),
        _ => quote!(::telemetry_core),
    };
    let rest: TokenStream = tokens.collect();
    match parse.parse2(rest) {
        Ok((ty, value)) => generate(&krate, &ty, &value),
        Err(e) => e.to_compile_error(),
    }
}

fn parse(input: ParseStream<'_>) -> syn::Result<(Type, Expr)> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("`emit!` needs an event; {FORMS}"),
        ));
    }
    // `Type, value`
    let fork = input.fork();
    if let Ok(ty) = fork.parse::<Type>()
        && fork.parse::<Token![,]>().is_ok()
        && !fork.is_empty()
    {
        let value: Expr = fork.parse()?;
        let _ = fork.parse::<Option<Token![,]>>()?;
        if fork.is_empty() {
            use syn::parse::discouraged::Speculative;
            input.advance_to(&fork);
            return Ok((ty, value));
        }
    }
    let expr: Expr = input.parse()?;
    let _ = input.parse::<Option<Token![,]>>()?;
    if !input.is_empty() {
        return Err(input.error(format!("unexpected tokens after the event; {FORMS}")));
    }
    let ty = match &expr {
        Expr::Struct(s) if s.qself.is_none() => Type::Path(syn::TypePath {
            qself: None,
            path: s.path.clone(),
        }),
        Expr::Path(p) if p.qself.is_none() => {
            let looks_like_value = p.path.get_ident().is_some_and(|i| {
                i.to_string()
                    .trim_start_matches("r#")
                    .starts_with(|c: char| c.is_lowercase() || c == '_')
            });
            if looks_like_value {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!(
                        "`emit!` needs the event's type to record this call site in the catalog; write `emit!(EventType, {})`",
                        quote!(#p)
                    ),
                ));
            }
            Type::Path(syn::TypePath {
                qself: None,
                path: p.path.clone(),
            })
        }
        _ => {
            // `emit!(&event)`: the macro takes the event by value.
            let value = match &expr {
                Expr::Reference(r) => &*r.expr,
                other => other,
            };
            let value = expr_string(value);
            let message = if value.len() <= 60 {
                format!(
                    "`emit!` needs the event's type to record this call site in the catalog; write `emit!(EventType, {value})`, or `emit!(EventType {{ field: value, .. }})` to build the event in place"
                )
            } else {
                format!(
                    "`emit!` needs the event's type to record this call site in the catalog; {FORMS}"
                )
            };
            return Err(syn::Error::new_spanned(&expr, message));
        }
    };
    Ok((ty, expr))
}

/// An expression as a person would write it (`make_event()`, `self.event`), for messages.
fn expr_string(expr: &Expr) -> String {
    let mut s = quote!(#expr).to_string();
    for (from, to) in [
        (" ! ", "!"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" . ", "."),
        (" :: ", "::"),
        (" ,", ","),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn generate(krate: &TokenStream, ty: &Type, value: &Expr) -> TokenStream {
    let event = syn::Ident::new("__telemetry_event", Span::mixed_site());
    let span = ty.span();
    let schema = quote_spanned! {span=> <#ty as #krate::__private::TelemetryEvent>::schema };
    // The same `<Type as TelemetryEvent>` path as the registration above: for a type that
    // is not an event, both give the same error, which rustc reports once (a call to
    // `emit_event::<Type>` would add a second one about its bound).
    let emit = quote_spanned! {span=> <#ty as #krate::__private::TelemetryEvent>::emit };
    quote! {
        {
            #[allow(elided_lifetimes_in_paths)]
            const _: () = {
                #krate::__private::inventory::submit! {
                    #krate::__private::CallSiteRegistration {
                        schema: #schema,
                        call_site: #krate::__private::CallSite::new_static(
                            ::core::file!(),
                            ::core::line!(),
                            ::core::column!(),
                            ::core::module_path!(),
                        ),
                    }
                }
            };
            // The event is built only when someone listens, so a disabled `emit!`
            // costs one relaxed load even when building the event would allocate.
            if #krate::__private::enabled() {
                #[allow(elided_lifetimes_in_paths)]
                let #event: #ty = #value;
                #[allow(elided_lifetimes_in_paths)]
                #emit(#event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_read_naturally() {
        let e: Expr = syn::parse_quote!(make_event());
        assert_eq!(expr_string(&e), "make_event()");
        let e: Expr = syn::parse_quote!(self.events[0].clone());
        assert_eq!(expr_string(&e), "self.events[0].clone()");
        let e: Expr = syn::parse_quote!(build::event(1, "x"));
        assert_eq!(expr_string(&e), "build::event(1, \"x\")");
        let e: Expr = syn::parse_quote!(events.pop().unwrap_or(vec![1])[0]);
        assert_eq!(expr_string(&e), "events.pop().unwrap_or(vec![1])[0]");
    }
}
