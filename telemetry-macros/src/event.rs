//! Code generation for `#[derive(TelemetryEvent)]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{DeriveInput, Lifetime, Path, Type};

use crate::ast::Event;
use crate::check::{self, ValidEvent};
use crate::ctxt::Ctxt;
use crate::fallback;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let Some(event) = Event::from_input(&mut cx, input) else {
        return fallback::event(input, cx, None);
    };
    let valid = check::event(&mut cx, &event);
    if cx.has_errors() {
        return fallback::event(input, cx, event.krate.as_ref());
    }
    generate(&event, &valid)
}

/// The path generated code uses to reach `telemetry_core`.
pub(crate) fn krate(path: Option<&Path>) -> TokenStream {
    match path {
        Some(p) => quote!(#p),
        None => quote!(::telemetry_core),
    }
}

fn generate(event: &Event<'_>, valid: &ValidEvent) -> TokenStream {
    let krate = krate(event.krate.as_ref());
    let input = event.input;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let name = &valid.name;
    let version = valid.version;
    let description = &event.description;
    let category = event
        .category
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_default();
    let owner = event.owner.as_ref().map(|l| l.value()).unwrap_or_default();
    let ident_str = ident.to_string();
    let active = event.active;

    // Not `visitor`: a user's `const visitor` in scope would turn the parameter into a
    // constant pattern (a mixed-site span does not prevent that; items are unhygienic).
    let visitor = format_ident!("__telemetry_visitor", span = Span::mixed_site());
    let mut schemas = Vec::new();
    let mut visits = Vec::new();
    for (property, checked) in event.properties.iter().zip(&valid.properties) {
        let Some((prop_name, pii)) = checked else {
            continue;
        };
        let index = schemas.len();
        let ty = property.ty;
        let tokens = property_tokens(&krate, prop_name, ty, pii.variant(), &property.description);
        schemas.push(tokens.schema);
        let field = property.ident;
        let to_value = tokens.to_value;
        visits.push(quote! {
            #visitor.property(#index, #to_value(&self.#field));
        });
    }
    if visits.is_empty() {
        visits.push(quote!(let _ = #visitor;));
    }

    let count = schemas.len();
    let static_lifetimes = input.generics.lifetimes().map(|_| quote!('static));
    let registered_ty = if input.generics.params.is_empty() {
        quote!(#ident)
    } else {
        quote!(#ident<#(#static_lifetimes),*>)
    };

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::__private::TelemetryEvent for #ident #ty_generics #where_clause {
                fn schema() -> &'static #krate::__private::EventSchema {
                    static PROPERTIES: [#krate::__private::PropertySchema; #count] = [#(#schemas),*];
                    static SCHEMA: #krate::__private::EventSchema = #krate::__private::EventSchema::new_static(
                        #name,
                        #version,
                        #description,
                        #category,
                        #owner,
                        ::core::concat!(::core::module_path!(), "::", #ident_str),
                        &PROPERTIES,
                    ).with_active(#active);
                    &SCHEMA
                }

                fn visit_properties(&self, #visitor: &mut dyn #krate::__private::PropertyVisitor) {
                    #(#visits)*
                }
            }

            #krate::__private::inventory::submit! {
                #krate::__private::EventRegistration {
                    schema: <#registered_ty as #krate::__private::TelemetryEvent>::schema,
                }
            }
        };
    }
}

/// The generated pieces for one property of type `ty`.
pub(crate) struct PropertyTokens {
    /// A `PropertySchema::new_static(..)` expression for the static schema.
    pub(crate) schema: TokenStream,
    /// `<Type as TelemetryProperty>::to_value`, to call on a reference to the value.
    pub(crate) to_value: TokenStream,
}

/// The schema entry and value reader of a property, shared by the derive and
/// `#[instrument_event]`.
///
/// Lifetimes become `'_`: the schema lives in a `static`, which cannot name the impl's
/// lifetime parameters. Both pieces name the same type at the same span, so a type
/// that is not a property gives one error at the type (rustc merges identical errors),
/// naming it as `&[u8]` rather than `&'static [u8]`.
pub(crate) fn property_tokens(
    krate: &TokenStream,
    name: &str,
    ty: &Type,
    pii_variant: &str,
    description: &str,
) -> PropertyTokens {
    let elided = with_elided_lifetimes(ty);
    let rust_type = type_string(ty);
    let pii = format_ident!("{}", pii_variant);
    let span = ty.span();
    PropertyTokens {
        schema: quote_spanned! {span=>
            #krate::__private::PropertySchema::new_static(
                #name,
                <#elided as #krate::__private::TelemetryProperty>::TYPE,
                #rust_type,
                <#elided as #krate::__private::TelemetryProperty>::OPTIONAL,
                #krate::__private::Pii::#pii,
                #description,
                <#elided as #krate::__private::TelemetryProperty>::VALUES,
            )
        },
        to_value: quote_spanned! {span=>
            <#elided as #krate::__private::TelemetryProperty>::to_value
        },
    }
}

/// The type with every lifetime replaced by `'_`, for use in expressions.
pub(crate) fn with_elided_lifetimes(ty: &Type) -> Type {
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            *lifetime = Lifetime::new("'_", lifetime.span());
        }
        // `for<'b>` declares lifetimes; `for<'_>` would not parse.
        fn visit_bound_lifetimes_mut(&mut self, _: &mut syn::BoundLifetimes) {}
    }
    let mut ty = ty.clone();
    Elide.visit_type_mut(&mut ty);
    ty
}

/// The type as written, with the spacing a person would use (`Option<Cow<'a, str>>`).
pub(crate) fn type_string(ty: &Type) -> String {
    let raw = quote!(#ty).to_string();
    let mut s = raw;
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" :: ", "::"),
        (":: ", "::"),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings_read_naturally() {
        let ty: Type = syn::parse_quote!(Option<std::borrow::Cow<'a, str>>);
        assert_eq!(type_string(&ty), "Option<std::borrow::Cow<'a, str>>");
        let ty: Type = syn::parse_quote!(&'a str);
        assert_eq!(type_string(&ty), "&'a str");
    }
}
