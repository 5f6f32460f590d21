//! The shapes of instrumented functions (sync, `async fn`, returning a future) and the
//! rewriting of a body's exits so that the guard sees the returned value.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, ReturnType, Signature, Type, TypeParamBound};

/// How the function returns, which decides where the guard lives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Sync,
    Async,
    /// Returns a future; `boxed` for `Pin<Box<dyn Future>>` (re-boxed when wrapped).
    Future {
        boxed: bool,
    },
}

impl Shape {
    pub(crate) fn of(sig: &Signature, marked_future: bool) -> Shape {
        if sig.asyncness.is_some() {
            return Shape::Async;
        }
        let ReturnType::Type(_, ty) = &sig.output else {
            return Shape::Sync;
        };
        if marked_future {
            return Shape::Future { boxed: true };
        }
        if let Type::ImplTrait(t) = &**ty
            && t.bounds.iter().any(is_future_bound)
        {
            return Shape::Future { boxed: false };
        }
        if is_pinned_boxed_future(ty) {
            return Shape::Future { boxed: true };
        }
        Shape::Sync
    }
}

fn is_future_bound(bound: &TypeParamBound) -> bool {
    matches!(bound, TypeParamBound::Trait(t)
        if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
}

/// `Pin<Box<dyn Future<Output = T> + Send + 'a>>`, with any paths.
fn is_pinned_boxed_future(ty: &Type) -> bool {
    fn single_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
        let Type::Path(p) = ty else { return None };
        let last = p.path.segments.last()?;
        if last.ident != name {
            return None;
        }
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
    }
    single_arg(ty, "Pin")
        .and_then(|inner| single_arg(inner, "Box"))
        .is_some_and(
            |inner| matches!(inner, Type::TraitObject(o) if o.bounds.iter().any(is_future_bound)),
        )
}

/// The return type for `let` annotations: `impl Trait` becomes `_`; `()` when none.
/// (`-> !` functions are generated without one.)
pub(crate) fn return_type(sig: &Signature) -> Type {
    struct Erase;
    impl VisitMut for Erase {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(_) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: Default::default(),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            Erase.visit_type_mut(&mut ty);
            ty
        }
    }
}

/// The type with every `_` replaced by `()`.
pub(crate) fn infer_to_unit(ty: &Type) -> Type {
    struct Unit;
    impl VisitMut for Unit {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Infer(_) = ty {
                *ty = syn::parse_quote!(());
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Unit.visit_type_mut(&mut ty);
    ty
}

/// Rewrites `return e` in the function's own body (not in closures, async blocks or
/// nested items) to `return wrap(e)`.
pub(crate) struct Returns<F: Fn(TokenStream) -> TokenStream> {
    pub(crate) wrap: F,
}

impl<F: Fn(TokenStream) -> TokenStream> VisitMut for Returns<F> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(r) => {
                if let Some(e) = &mut r.expr {
                    self.visit_expr_mut(e);
                }
                let value = match &r.expr {
                    Some(e) => e.to_token_stream(),
                    None => quote!(()),
                };
                let wrapped = (self.wrap)(value);
                let ret = r.return_token;
                *expr = syn::parse_quote!(#ret #wrapped);
            }
            _ => syn::visit_mut::visit_expr_mut(self, expr),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Turns every exit of a sync body into a `break` out of the labeled block that holds
/// it, so the value is observed: `return e` becomes `break 'label e`, and `e?` a match
/// on `__private::Branch::branch(e)` whose residual breaks with the converted error.
/// Closures, async blocks and nested items keep their own `return` and `?`; a `?` or
/// `return` inside a macro invocation cannot be seen and exits directly (the guard
/// then records the outcome from the declared return type).
pub(crate) struct SyncExits<'a> {
    pub(crate) label: syn::Lifetime,
    pub(crate) krate: &'a TokenStream,
}

impl VisitMut for SyncExits<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(r) => {
                if let Some(e) = &mut r.expr {
                    self.visit_expr_mut(e);
                }
                let label = &self.label;
                let span = r.return_token.span;
                let value = match &r.expr {
                    // `break 'label ::path` would read as a labeled block `'label: ...`.
                    Some(e) if starts_with_colon(e) => {
                        let v = syn::Ident::new("__telemetry_value", Span::mixed_site());
                        quote!(match #e { #v => #v })
                    }
                    Some(e) => e.to_token_stream(),
                    None => quote!(()),
                };
                *expr = syn::parse_quote_spanned!(span=> break #label #value);
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                let inner = &t.expr;
                let label = &self.label;
                let krate = self.krate;
                let span = t.question_token.span;
                let value = syn::Ident::new("__telemetry_continue", Span::mixed_site());
                let residual = syn::Ident::new("__telemetry_residual", Span::mixed_site());
                *expr = syn::parse_quote_spanned! {span=>
                    match #krate::__private::Branch::branch(#inner) {
                        ::core::ops::ControlFlow::Continue(#value) => #value,
                        ::core::ops::ControlFlow::Break(#residual) => {
                            break #label <_ as #krate::__private::FromResidual<_>>::from_residual(#residual)
                        }
                    }
                };
            }
            _ => syn::visit_mut::visit_expr_mut(self, expr),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn starts_with_colon(expr: &Expr) -> bool {
    matches!(
        expr.to_token_stream().into_iter().next(),
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ':'
    )
}

/// An unreachable `return` of the declared type as the first statement of the async
/// block, so that `?` and `return` in the body infer the declared return type (as
/// tracing-attributes does).
pub(crate) fn fake_return(ret_ty: &Type) -> TokenStream {
    let fake = syn::Ident::new("__telemetry_fake_return", Span::mixed_site());
    quote! {
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let #fake: #ret_ty = loop {};
            return #fake;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::ItemFn;

    #[test]
    fn shapes() {
        let sig = |s: &str| syn::parse_str::<ItemFn>(s).unwrap().sig;
        assert!(Shape::of(&sig("async fn f() {}"), false) == Shape::Async);
        assert!(
            Shape::of(
                &sig("fn f() -> impl core::future::Future<Output = u8> {}"),
                false
            ) == Shape::Future { boxed: false }
        );
        assert!(
            Shape::of(
                &sig("fn f<'a>() -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {}"),
                false
            ) == Shape::Future { boxed: true }
        );
        assert!(Shape::of(&sig("fn f() -> Result<u8, E> {}"), false) == Shape::Sync);
        assert!(
            Shape::of(&sig("fn f() -> BoxFut<'static> {}"), true) == Shape::Future { boxed: true }
        );
    }
}
