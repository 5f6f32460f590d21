//! `#[instrument_event]`: one event per call of a function, with its duration and
//! outcome, recorded by a drop guard.
//!
//! The body stays where it is (no closure, no nested fn), so `Self`, `#[track_caller]`,
//! `unsafe fn` bodies, `&mut` arguments and `?` inference are untouched:
//! - sync fn: `let ret: R = 'body: { body }`, with `return e` and `e?` turned into
//!   `break 'body ...` so that every returned value is observed;
//! - `async fn`: the body becomes an `async move` block awaited inside the function,
//!   so `return` and `?` end the block and the guard sees every result;
//! - a fn returning a future (`-> impl Future`, `-> Pin<Box<dyn Future>>`, or marked
//!   `future`): the statements run as written, the returned future is wrapped.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::visit_mut::VisitMut;
use syn::{Block, ItemFn, ReturnType, Signature, Type};

use crate::ctxt::Ctxt;
use crate::event::krate;
use crate::instrument_attr;
use crate::instrument_plan::{Plan, implicit, typed, values_ident};
use crate::instrument_shape::{Returns, Shape, SyncExits, fake_return, infer_to_unit, return_type};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = instrument_attr::parse(&mut cx, args);
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => return not_a_function(cx, item),
    };
    check_signature(&mut cx, &func.sig);
    let plan = match &args.event {
        Some(_) => typed(&mut cx, &args, &func.sig),
        None => implicit(&mut cx, &args, &func),
    };
    if cx.has_errors() {
        // The function as written, so that callers and editors still see it.
        let errors = cx.into_compile_errors();
        return quote!(#errors #func);
    }
    let krate = krate(args.krate.as_ref());
    let shape = Shape::of(&func.sig, args.future.is_some());
    let body = generate(&krate, &func, &plan, shape);
    *func.block = body;
    func.into_token_stream()
}

/// Not an `ItemFn`: an item that is not a function gets an error; a function whose
/// body does not parse is passed through untouched (rustc reports the syntax error
/// and editors keep working).
fn not_a_function(mut cx: Ctxt, item: TokenStream) -> TokenStream {
    match syn::parse2::<syn::TraitItemFn>(item.clone()) {
        Ok(f) if f.default.is_none() => cx.error_spanned_by(
            &f.sig,
            "#[instrument_event] needs a function body; put it on the implementations of this trait method, or give the method a default body",
        ),
        Ok(_) => {}
        Err(_) => {
            if let Ok(other) = syn::parse2::<syn::Item>(item.clone())
                && !matches!(other, syn::Item::Verbatim(_))
            {
                cx.error_at(
                    Span::call_site(),
                    "#[instrument_event] goes on a function (`fn`, `async fn` or a method)",
                );
            }
        }
    }
    let errors = cx.into_compile_errors();
    quote!(#errors #item)
}

fn check_signature(cx: &mut Ctxt, sig: &Signature) {
    if let Some(c) = &sig.constness {
        cx.error_spanned_by(
            c,
            "#[instrument_event] cannot go on a `const fn`: measuring a call reads a clock and sends an event, which const evaluation cannot do; remove `const` or instrument the functions that call it",
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            "#[instrument_event] cannot go on an `extern` fn: a panic must not unwind out of it and its callers are not Rust; instrument a Rust function that it calls instead",
        );
    }
}

fn generate(krate: &TokenStream, func: &ItemFn, plan: &Plan, shape: Shape) -> Block {
    let Plan {
        items,
        schema,
        values,
    } = plan;
    let sig = &func.sig;
    let fn_name = sig.ident.to_string();
    let span = sig.ident.span();
    let call_site = quote_spanned! {span=>
        #krate::__private::CallSite::new_instrumented(
            ::core::file!(),
            ::core::line!(),
            ::core::column!(),
            ::core::module_path!(),
            ::core::concat!(::core::module_path!(), "::", #fn_name),
        )
    };
    // `&'static &'static str` (a promoted constant): one word in the event's queue slot.
    let function = quote!(&::core::concat!(::core::module_path!(), "::", #fn_name));
    let ret_ty = return_type(sig);
    let diverges = matches!(&sig.output, ReturnType::Type(_, t) if matches!(**t, Type::Never(_)));
    let unseen = if shape == Shape::Sync && !diverges {
        // `impl Trait` parts do not matter here, only whether it is a `Result` and its
        // error type: `Result<impl Display, E>` is asked about as `Result<(), E>`.
        let shape_ty = infer_to_unit(&ret_ty);
        quote! {{
            #[allow(unused_imports)]
            use #krate::__private::{UnseenExitOfResult as _, UnseenExitOfValue as _};
            (&&#krate::__private::ReturnType::<#shape_ty>::NEW).__telemetry_unseen_exit()
        }}
    } else {
        quote!((#krate::__private::Outcome::Ok, ::core::option::Option::None))
    };
    let guard = syn::Ident::new("__telemetry_guard", Span::mixed_site());
    let vals = values_ident();
    let is_future = shape != Shape::Sync;
    let registration = quote! {
        #items
        const _: () = {
            #krate::__private::inventory::submit! {
                #krate::__private::CallSiteRegistration {
                    schema: #schema,
                    call_site: #call_site,
                }
            }
        };
    };
    let start = |values_expr: TokenStream| {
        quote! {
            #krate::__private::CallGuard::start(#schema(), #function, #values_expr, #is_future, #unseen)
        }
    };
    // The call's guard: started when telemetry is on (the arguments are read only
    // then), inert otherwise; the call site is registered in the catalog either way.
    let new_guard = {
        let start = start(quote!(#vals));
        quote! {{
            #registration
            if #krate::__private::enabled() {
                #values
                #start
            } else {
                #krate::__private::CallGuard::disabled()
            }
        }}
    };
    // A statement of its own, so that when the body diverges (`loop {}`, `panic!()`),
    // rustc's one "unreachable" warning lands on it, where it is allowed, and never on
    // the user's code.
    let observe = |value: &TokenStream| {
        quote! {
            #[allow(unreachable_code)]
            let _: () = if #guard.is_active() {
                #[allow(unused_imports)]
                use #krate::__private::{OutcomeOfErrorKind as _, OutcomeOfResult as _, OutcomeOfValue as _};
                #guard.observe((&&&#krate::__private::Returned(&#value)).__telemetry_outcome());
            };
        }
    };
    let ret = syn::Ident::new("__telemetry_ret", Span::mixed_site());
    let body: &Block = &func.block;
    let tokens = match shape {
        // `-> !`: there is no value to observe; a panic is seen by the guard.
        Shape::Sync if diverges => {
            quote! {{
                let #guard = #new_guard;
                #body
            }}
        }
        Shape::Sync => {
            let mut block = body.clone();
            let observe_ret = observe(&quote!(#ret));
            let label = syn::Lifetime {
                apostrophe: Span::mixed_site(),
                ident: syn::Ident::new("__telemetry_body", Span::mixed_site()),
            };
            SyncExits {
                label: label.clone(),
                krate,
            }
            .visit_block_mut(&mut block);
            quote! {{
                #[allow(unused_mut)]
                let mut #guard = #new_guard;
                let #ret: #ret_ty = #label: #block;
                #observe_ret
                #ret
            }}
        }
        Shape::Async => {
            let fake_return = fake_return(&ret_ty);
            let out = syn::Ident::new("__telemetry_out", Span::mixed_site());
            let observe_out = observe(&quote!(#out));
            quote! {{
                let mut #guard = #new_guard;
                let #out = #krate::__private::watch(async move { #fake_return #body }, &mut #guard).await;
                #observe_out
                #out
            }}
        }
        Shape::Future { boxed } => {
            let start = start(quote!(#vals));
            let fut = syn::Ident::new("__telemetry_future", Span::mixed_site());
            let out = syn::Ident::new("__telemetry_out", Span::mixed_site());
            let observe_out = observe(&quote!(#out));
            let wrap = |future: TokenStream| {
                let wrapped = quote! {
                    async move {
                        let mut #guard = match #vals {
                            ::core::option::Option::Some(#vals) => #start,
                            ::core::option::Option::None => #krate::__private::CallGuard::disabled(),
                        };
                        let #out = #krate::__private::watch(#future, &mut #guard).await;
                        #observe_out
                        #out
                    }
                };
                if boxed {
                    quote!(::std::boxed::Box::pin(#wrapped))
                } else {
                    wrapped
                }
            };
            let mut block = body.clone();
            Returns {
                wrap: |value| wrap(quote!({ let #fut: #ret_ty = #value; #fut })),
            }
            .visit_block_mut(&mut block);
            let tail = wrap(quote!(#fut));
            quote! {{
                #registration
                let #vals = {
                    if #krate::__private::enabled() {
                        #values
                        ::core::option::Option::Some(#vals)
                    } else {
                        ::core::option::Option::None
                    }
                };
                let #fut: #ret_ty = #block;
                // When the body diverges (`todo!()`), rustc's one "unreachable" warning
                // lands here, where it is allowed.
                #[allow(unreachable_code)]
                let _: () = ();
                #tail
            }}
        }
    };
    let mut block: Block = syn::parse2(tokens).expect("generated body parses");
    // The user's braces: the function's span then stays the user's, so lints about the
    // function itself (`dead_code` for one never called) still fire.
    block.brace_token = func.block.brace_token;
    block
}
