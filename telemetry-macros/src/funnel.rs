//! `funnel!`: a funnel defined at design time, registered in the catalog.
//!
//! ```text
//! funnel! {
//!     /// From searching to a paid order.
//!     name = "ordering", owner = "growth", window = "1d",
//!     steps = [SearchPerformed, MenuViewed, PaymentCompleted where method = "upi"],
//! }
//! ```
//!
//! Steps are types: each becomes `<Type as TelemetryEvent>::schema`, spanned on the
//! type, so a type that is not an event gets the trait's `on_unimplemented` message
//! there. Filters name properties by their record name; they are checked against the
//! schema by `Catalog::validate` (a macro cannot see another item's fields).

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Lit, LitStr, Token, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::naming::check_property_name;

const KEYS: &[&str] = &["name", "owner", "window", "steps", "crate"];
const EXAMPLE: &str = "funnel! { /// What it measures.\n name = \"ordering\", owner = \"growth\", window = \"1d\", steps = [SearchPerformed, PaymentCompleted] }";

struct Funnel {
    attrs: Vec<Attribute>,
    keys: Vec<(Ident, Value)>,
}

enum Value {
    Str(LitStr),
    Steps(Span, Vec<Step>),
}

struct Step {
    ty: Type,
    filters: Vec<(Ident, Lit)>,
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let default_krate = match tokens.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.stream(),
        _ => quote!(::telemetry_core),
    };
    let rest: TokenStream = tokens.collect();
    match parse.parse2(rest) {
        Ok(funnel) => generate(default_krate, funnel),
        Err(e) => e.to_compile_error(),
    }
}

fn parse(input: ParseStream<'_>) -> syn::Result<Funnel> {
    let attrs = input.call(Attribute::parse_outer)?;
    let mut keys = Vec::new();
    while !input.is_empty() {
        let key = input.call(Ident::parse_any)?;
        if input.peek(Token![:]) {
            return Err(input.error(format!(
                "write `=` between a key and its value, e.g. `{key} = ...`"
            )));
        }
        input.parse::<Token![=]>()?;
        let value = if key == "steps" {
            let content;
            let bracket = syn::bracketed!(content in input);
            let steps = Punctuated::<Step, Token![,]>::parse_terminated_with(&content, step)?;
            Value::Steps(bracket.span.join(), steps.into_iter().collect())
        } else {
            match input.parse::<Lit>()? {
                Lit::Str(s) => Value::Str(s),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        format!("`{key}` takes a string literal, e.g. `{key} = \"...\"`"),
                    ));
                }
            }
        };
        keys.push((key, value));
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(Funnel { attrs, keys })
}

fn step(input: ParseStream<'_>) -> syn::Result<Step> {
    let ty: Type = input.parse()?;
    let mut filters = Vec::new();
    if input.peek(Token![where]) {
        input.parse::<Token![where]>()?;
        loop {
            let property = input.call(Ident::parse_any)?;
            if input.peek(Token![==]) {
                return Err(input.error("write one `=` in a filter: `where method = \"upi\"`"));
            }
            input.parse::<Token![=]>()?;
            let negative = input.parse::<Option<Token![-]>>()?;
            let value: Lit = input.parse()?;
            let value = match (negative, value) {
                (None, v @ (Lit::Str(_) | Lit::Int(_) | Lit::Bool(_))) => v,
                (Some(minus), Lit::Int(i)) => Lit::Int(syn::LitInt::new(
                    &format!("-{}", i.base10_digits()),
                    minus.span,
                )),
                (_, other) => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "a filter compares with a string, integer or boolean literal, e.g. `method = \"upi\"`, `items = 2`, `first_order = true`",
                    ));
                }
            };
            filters.push((property, value));
            if input.peek(Token![&&]) {
                input.parse::<Token![&&]>()?;
            } else {
                break;
            }
        }
    }
    Ok(Step { ty, filters })
}

fn generate(default_krate: TokenStream, funnel: Funnel) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut name: Option<LitStr> = None;
    let mut owner = String::new();
    let mut window = "1d".to_owned();
    let mut krate = default_krate;
    let mut steps: Option<(Span, Vec<Step>)> = None;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in funnel.keys {
        let key_str = key.to_string();
        if seen.contains(&key_str) {
            cx.error_spanned_by(&key, format!("`{key}` is given twice; keep one"));
            continue;
        }
        seen.push(key_str.clone());
        match (key_str.as_str(), value) {
            ("steps", Value::Steps(span, s)) => steps = Some((span, s)),
            ("name", Value::Str(s)) => {
                if let Err(why) = check_property_name(&s.value()) {
                    let why = why.replacen("property name", "funnel name", 1);
                    cx.error_spanned_by(&s, why);
                }
                name = Some(s);
            }
            ("owner", Value::Str(s)) => owner = s.value(),
            ("window", Value::Str(s)) => {
                if let Err(why) = crate::naming::parse_window_seconds(&s.value()) {
                    cx.error_spanned_by(&s, why);
                }
                window = s.value();
            }
            ("crate", Value::Str(s)) => match s.parse::<syn::Path>() {
                Ok(p) => krate = quote!(#p),
                Err(_) => cx.error_spanned_by(
                    &s,
                    "`crate` takes a path in a string, e.g. `crate = \"my_app::telemetry_core\"`",
                ),
            },
            (k, _) if KEYS.contains(&k) => cx.error_spanned_by(
                &key,
                format!("`{k}` takes a string literal, e.g. `{k} = \"...\"`"),
            ),
            (k, _) => cx.error_spanned_by(
                &key,
                attr::unknown_key_message(k, KEYS, "`funnel!`").replacen(
                    "unknown telemetry attribute",
                    "unknown key",
                    1,
                ),
            ),
        }
    }
    let description = attr::doc_comment(&funnel.attrs);
    let anchor = name
        .as_ref()
        .map(|n| n.span())
        .unwrap_or_else(Span::call_site);
    if name.is_none() && !seen.iter().any(|k| attr::closest(k, &["name"]).is_some()) {
        cx.error_at(
            anchor,
            format!("missing funnel name; write e.g. `{EXAMPLE}`"),
        );
    }
    if description.is_empty() {
        cx.error_at(
            anchor,
            "missing description; add a `/// doc comment` inside `funnel! { .. }` saying what the funnel measures (it becomes the catalog description)",
        );
    }
    let steps = match steps {
        Some((span, steps)) => {
            if steps.len() < 2 {
                cx.error_at(
                    span,
                    format!(
                        "a funnel needs at least two steps, given as event types: `steps = [SearchPerformed, PaymentCompleted]` (found {})",
                        steps.len()
                    ),
                );
            }
            steps
        }
        None => {
            cx.error_at(
                anchor,
                "missing steps; add `steps = [FirstEvent, SecondEvent, ..]` with the event types in order",
            );
            Vec::new()
        }
    };
    for step in &steps {
        for (i, (property, _)) in step.filters.iter().enumerate() {
            if step.filters[..i].iter().any(|(p, _)| p == property) {
                cx.error_spanned_by(
                    property,
                    format!("`{property}` is filtered twice in this step; keep one"),
                );
            }
        }
    }
    if cx.has_errors() {
        // Still name the step types, so that a type that is not an event is reported too.
        let checks = steps.iter().map(|s| step_schema(&krate, &s.ty));
        let errors = cx.into_compile_errors();
        return quote! {
            #errors
            #[allow(elided_lifetimes_in_paths)]
            const _: () = { #(let _ = #checks;)* };
        };
    }
    let name = name.map(|n| n.value()).unwrap_or_default();
    let registrations = steps.iter().map(|step| {
        let schema = step_schema(&krate, &step.ty);
        let filters = step.filters.iter().map(|(property, value)| {
            let property = property.unraw().to_string();
            let value = match value {
                Lit::Str(s) => quote!(#krate::__private::FilterValue::str(#s)),
                Lit::Int(i) => quote!(#krate::__private::FilterValue::Integer(#i)),
                Lit::Bool(b) => quote!(#krate::__private::FilterValue::Boolean(#b)),
                _ => unreachable!("only string, integer and boolean literals are parsed"),
            };
            quote!(#krate::__private::StepFilter::new_static(#property, #value))
        });
        quote! {
            #krate::__private::StepRegistration {
                schema: #schema,
                filters: &[#(#filters),*],
            }
        }
    });
    let count = steps.len();
    quote! {
        #[doc(hidden)]
        // Steps are written as types without their lifetimes (`SearchPerformed`, not
        // `SearchPerformed<'_>`): a funnel names types, it does not hold values.
        #[allow(non_upper_case_globals, unused_qualifications, elided_lifetimes_in_paths)]
        const _: () = {
            static __TELEMETRY_FUNNEL_STEPS: [#krate::__private::StepRegistration; #count] = [#(#registrations),*];
            #krate::__private::inventory::submit! {
                #krate::__private::FunnelRegistration {
                    name: #name,
                    description: #description,
                    owner: #owner,
                    window: #window,
                    steps: &__TELEMETRY_FUNNEL_STEPS,
                }
            }
        };
    }
}

/// `<Type as TelemetryEvent>::schema`, spanned on the type so that a type that is not
/// an event is reported there.
fn step_schema(krate: &TokenStream, ty: &Type) -> TokenStream {
    let ty = crate::event::with_elided_lifetimes(ty);
    quote_spanned! {ty.span()=>
        <#ty as #krate::__private::TelemetryEvent>::schema
    }
}
