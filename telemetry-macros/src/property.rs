//! Code generation for `#[derive(TelemetryProperty)]` on unit-only enums.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::PropertyEnum;
use crate::check;
use crate::ctxt::Ctxt;
use crate::event::krate;
use crate::fallback;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let Some(parsed) = PropertyEnum::from_input(&mut cx, input) else {
        return fallback::property(input, cx, None);
    };
    let values = check::property_enum(&mut cx, &parsed);
    if cx.has_errors() {
        return fallback::property(input, cx, parsed.krate.as_ref());
    }
    let krate = krate(parsed.krate.as_ref());
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let variants = parsed.variants.iter().map(|v| v.ident);
    let arms = variants.zip(&values).map(
        |(variant, value)| quote!(Self::#variant => #krate::__private::PropertyValue::Str(#value),),
    );
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::__private::TelemetryProperty for #ident #ty_generics #where_clause {
                const TYPE: #krate::__private::PropertyType = #krate::__private::PropertyType::String;
                const VALUES: &'static [#krate::__private::Str] = &[
                    #(#krate::__private::Cow::Borrowed(#values)),*
                ];

                #[inline]
                fn to_value(&self) -> #krate::__private::PropertyValue<'_> {
                    match *self {
                        #(#arms)*
                    }
                }
            }
        };
    }
}
