//! What an instrumented function's event is and how its values are read when a call
//! starts: implicit mode builds a static schema from `fields(...)`, typed mode fills
//! the `#[derive(TelemetryEvent)]` struct named by `event = Type`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, GenericParam, ItemFn, Pat, Signature, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::event::{krate, property_tokens, type_string, with_elided_lifetimes};
use crate::instrument_attr::{Args, SCHEMA_KEYS};
use crate::naming::{check_event_name, check_property_name};

/// What the event is and how its values are read when a call starts.
pub(crate) struct Plan {
    /// Items (schema, registration) and the expression that gives the schema.
    pub(crate) items: TokenStream,
    pub(crate) schema: TokenStream,
    /// Statements that fill `__telemetry_values` (a `CallValues`).
    pub(crate) values: TokenStream,
}

pub(crate) fn values_ident() -> syn::Ident {
    syn::Ident::new("__telemetry_values", Span::mixed_site())
}

/// `fields(...)` checks shared by both modes: an argument named, or an expression.
struct Param<'a> {
    ident: &'a syn::Ident,
    ty: &'a Type,
}

fn params(sig: &Signature) -> Vec<Param<'_>> {
    sig.inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(Param {
                    ident: &p.ident,
                    ty: &t.ty,
                }),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

pub(crate) fn typed(cx: &mut Ctxt, args: &Args, sig: &Signature) -> Plan {
    let path = args.event.as_ref().expect("typed mode");
    for (key, span) in &args.given {
        if SCHEMA_KEYS.contains(&key.as_str()) {
            cx.error_at(
                *span,
                format!(
                    "`{key}` comes from the event struct in typed mode (`event = {}`); set it in the struct's #[telemetry(...)] attribute and remove it here",
                    type_string(&Type::Path(syn::TypePath { qself: None, path: path.clone() }))
                ),
            );
        }
    }
    let krate = krate(args.krate.as_ref());
    let params = params(sig);
    let mut inits = Vec::new();
    if args.fields.is_empty() {
        for p in &params {
            let ident = p.ident;
            inits.push(field_from_argument(ident));
        }
    }
    for field in &args.fields {
        let name = &field.name;
        match &field.expr {
            Some(expr) => inits.push(quote_spanned! {expr.span()=> #name: #expr }),
            None if params.iter().any(|p| p.ident == name) => {
                inits.push(field_from_argument(name));
            }
            None => unknown_argument(cx, name, &params),
        }
        if let Some(ty) = &field.ty {
            cx.error_spanned_by(
                ty,
                "in typed mode the field's type comes from the event struct; write `name = expression`",
            );
        }
    }
    let values = values_ident();
    let event = syn::Ident::new("__telemetry_event", Span::mixed_site());
    let span = path.span();
    Plan {
        items: TokenStream::new(),
        schema: quote_spanned! {span=> <#path as #krate::__private::TelemetryEvent>::schema },
        values: quote! {
            let #values = {
                // `.clone()` rather than `Clone::clone(&x)`: a mistyped field is then reported
                // as "expected `String`, found `&str`" at the argument, with rustc's hints.
                #[allow(clippy::redundant_clone, clippy::clone_on_copy, clippy::clone_on_ref_ptr)]
                let #event = #path { #(#inits),* };
                #krate::__private::CallValues::of_event(&#event)
            };
        },
    }
}

/// `field: arg.clone()`, spanned at the argument: a mistyped field is reported there
/// as "expected `u64`, found `String`".
fn field_from_argument(ident: &syn::Ident) -> TokenStream {
    quote_spanned! {ident.span()=> #ident: #ident.clone() }
}

fn unknown_argument(cx: &mut Ctxt, name: &syn::Ident, params: &[Param<'_>]) {
    let names: Vec<String> = params.iter().map(|p| p.ident.to_string()).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let hint = match attr::closest(&name.to_string(), &refs) {
        Some(best) => format!("did you mean `{best}`? "),
        None => String::new(),
    };
    cx.error_spanned_by(
        name,
        format!(
            "`{name}` is not an argument of this function; {hint}list arguments by name (arguments: {}), or capture an expression with its type: `{name}: u64 = expression`",
            if names.is_empty() { "none".to_owned() } else { names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ") }
        ),
    );
}

pub(crate) fn implicit(cx: &mut Ctxt, args: &Args, func: &ItemFn) -> Plan {
    let sig = &func.sig;
    let fn_name = sig.ident.to_string();
    let krate = krate(args.krate.as_ref());
    let name = match &args.name {
        Some(lit) => {
            if let Err(why) = check_event_name(&lit.value()) {
                cx.error_spanned_by(lit, why);
            }
            lit.value()
        }
        None => {
            if !args.name_attempted {
                cx.error_at(
                    Span::call_site(),
                    format!(
                        "missing event name; write `#[instrument_event(name = \"{}\", fields(...))]` (lowercase `object.action`), or `#[instrument_event(event = EventType)]` for an event struct",
                        suggested_name(&fn_name)
                    ),
                );
            }
            String::new()
        }
    };
    let description = attr::function_doc_comment(&func.attrs);
    if description.is_empty() {
        cx.error_spanned_by(
            &sig.ident,
            format!(
                "missing description for the event of `{fn_name}`; add a doc comment (`/// When and why this is sent.`) above the function: it is the event's description in the catalog"
            ),
        );
    }
    let version = crate::check::version(cx, args.version.as_ref());
    let category = args
        .category
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_default();
    let owner = args.owner.as_ref().map(|l| l.value()).unwrap_or_default();

    let params = params(sig);
    let generics: Vec<String> = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.to_string()),
            GenericParam::Const(c) => Some(c.ident.to_string()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let values = values_ident();
    let mut schemas = Vec::new();
    let mut pushes = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for field in &args.fields {
        let prop = field.name.to_string().trim_start_matches("r#").to_owned();
        if let Err(why) = check_property_name(&prop) {
            cx.error_spanned_by(&field.name, why);
        }
        if seen.contains(&prop) {
            cx.error_spanned_by(&field.name, format!("`{prop}` is listed twice; keep one"));
        }
        seen.push(prop.clone());
        let index = schemas.len();
        let (ty, read) = match (&field.ty, &field.expr) {
            (Some(ty), Some(expr)) => (ty.clone(), expr.clone()),
            (None, Some(expr)) => match expr {
                Expr::Cast(c) => ((*c.ty).clone(), expr.clone()),
                _ => {
                    cx.error_spanned_by(
                        expr,
                        format!(
                            "write the property's type: `{prop}: u64 = ...` (the event's schema is static, so each property needs a type the macro can see); an argument listed by name takes the argument's type"
                        ),
                    );
                    continue;
                }
            },
            (_, None) if field.name == "self" => {
                cx.error_spanned_by(
                    &field.name,
                    "`self` is not a property; capture a value from it with its type, e.g. `fields(total: u64 = self.total_cents())`",
                );
                continue;
            }
            (_, None) => match params.iter().find(|p| *p.ident == field.name) {
                Some(p) => {
                    let ident = p.ident;
                    (strip_references(p.ty), syn::parse_quote!(#ident))
                }
                None => {
                    unknown_argument(cx, &field.name, &params);
                    continue;
                }
            },
        };
        if let Some(why) = not_static(&ty, &generics) {
            cx.error_spanned_by(
                &ty,
                format!(
                    "`{prop}` has a type that {why}; the event's schema is static, so a property needs a concrete type: capture a value of one, e.g. `{prop}: u64 = ...`"
                ),
            );
            continue;
        }
        let elided = with_elided_lifetimes(&ty);
        let tokens = property_tokens(&krate, &prop, &ty, "None", "");
        schemas.push(tokens.schema);
        let value = syn::Ident::new("__telemetry_value", Span::mixed_site());
        let to_value = tokens.to_value;
        pushes.push(quote! {
            {
                #[allow(unused_parens, clippy::needless_borrow, clippy::borrow_deref_ref)]
                let #value: &#elided = &(#read);
                #values.push(#index, #to_value(#value));
            }
        });
    }
    let count = schemas.len();
    let schema_fn = syn::Ident::new("__telemetry_schema", Span::call_site());
    let items = quote! {
        fn #schema_fn() -> &'static #krate::__private::EventSchema {
            static PROPERTIES: [#krate::__private::PropertySchema; #count] = [#(#schemas),*];
            static SCHEMA: #krate::__private::EventSchema = #krate::__private::EventSchema::new_static(
                #name,
                #version,
                #description,
                #category,
                #owner,
                ::core::concat!(::core::module_path!(), "::", #fn_name),
                &PROPERTIES,
            );
            &SCHEMA
        }
        #krate::__private::inventory::submit! {
            #krate::__private::EventRegistration { schema: #schema_fn }
        }
    };
    let mutability = if pushes.is_empty() {
        quote!()
    } else {
        quote!(mut)
    };
    Plan {
        items,
        schema: quote!(#schema_fn),
        values: quote! {
            let #mutability #values = #krate::__private::CallValues::with_capacity(#count);
            #(#pushes)*
        },
    }
}

/// `process_payment` -> `process.payment`, for the "missing name" suggestion.
fn suggested_name(fn_name: &str) -> String {
    let name = fn_name
        .trim_start_matches("r#")
        .trim_matches('_')
        .to_lowercase();
    match name.split_once('_') {
        Some((object, action)) => format!("{object}.{action}"),
        None => format!("{name}.called"),
    }
}

/// An argument's type as a property: `&T` and `&mut T` read `T` (but `&str` stays).
fn strip_references(ty: &Type) -> Type {
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") => ty.clone(),
            inner => strip_references(inner),
        },
        Type::Paren(p) => strip_references(&p.elem),
        Type::Group(g) => strip_references(&g.elem),
        other => other.clone(),
    }
}

/// Why a type cannot be in a static schema: a type parameter, `impl Trait`, `Self`.
fn not_static(ty: &Type, generics: &[String]) -> Option<String> {
    struct Find<'a> {
        generics: &'a [String],
        why: Option<String>,
    }
    // `VisitMut` on a copy: the workspace's `syn` has no `visit` feature.
    impl VisitMut for Find<'_> {
        fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {
            self.why.get_or_insert_with(|| "is `impl Trait`".into());
        }
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if let Some(first) = path.segments.first() {
                let first = first.ident.to_string();
                if first == "Self" {
                    self.why.get_or_insert_with(|| "names `Self`".into());
                } else if path.segments.len() == 1 && self.generics.contains(&first) {
                    self.why
                        .get_or_insert_with(|| format!("is the type parameter `{first}`"));
                }
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    let mut find = Find {
        generics,
        why: None,
    };
    find.visit_type_mut(&mut ty.clone());
    find.why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(suggested_name("process_payment"), "process.payment");
        assert_eq!(suggested_name("pay"), "pay.called");
        let t: Type = syn::parse_quote!(&mut &u64);
        assert_eq!(type_string(&strip_references(&t)), "u64");
        let t: Type = syn::parse_quote!(&'a str);
        assert_eq!(type_string(&strip_references(&t)), "&'a str");
        let g = vec!["T".to_owned()];
        assert!(not_static(&syn::parse_quote!(Option<T>), &g).is_some());
        assert!(not_static(&syn::parse_quote!(Self), &g).is_some());
        assert!(not_static(&syn::parse_quote!(u64), &g).is_none());
    }
}
