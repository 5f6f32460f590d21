//! When the input has errors, the errors are emitted together with a stand-in impl of
//! the trait, so that code using the type (`emit!`, other events' fields) does not
//! report dozens of follow-up errors about a missing impl.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Path};

use crate::ctxt::Ctxt;
use crate::event::krate;

pub(crate) fn event(input: &DeriveInput, cx: Ctxt, krate_path: Option<&Path>) -> TokenStream {
    let krate = krate(krate_path);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = cx.into_compile_errors();
    quote! {
        #errors
        const _: () = {
            impl #impl_generics #krate::__private::TelemetryEvent for #ident #ty_generics #where_clause {
                fn schema() -> &'static #krate::__private::EventSchema {
                    ::core::unreachable!()
                }
                fn visit_properties(&self, _: &mut dyn #krate::__private::PropertyVisitor) {}
            }
        };
    }
}

pub(crate) fn property(input: &DeriveInput, cx: Ctxt, krate_path: Option<&Path>) -> TokenStream {
    let krate = krate(krate_path);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let errors = cx.into_compile_errors();
    quote! {
        #errors
        const _: () = {
            impl #impl_generics #krate::__private::TelemetryProperty for #ident #ty_generics #where_clause {
                const TYPE: #krate::__private::PropertyType = #krate::__private::PropertyType::String;
                fn to_value(&self) -> #krate::__private::PropertyValue<'_> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
