//! Who an event is about: per-request context scopes for servers, and identity.
//!
//! A desktop or CLI application has one user at a time: its context is the
//! configuration's ([`Config::anonymous_id`](crate::Config::anonymous_id), and the user
//! id set by [`identify`](crate::identify) after login). A server serves many users at
//! once: it opens a [`scope`] per request on the thread handling it, or wraps the
//! request's future with [`WithContextExt::with_context`], and every event emitted
//! inside carries that request's ids, never another's.
//!
//! ```
//! use telemetry_core::context::{self, ContextOverride, WithContextExt};
//!
//! // A thread handling one request.
//! {
//!     let _scope = context::scope(ContextOverride::user("user-42"));
//!     // telemetry_core::emit!(...) here carries user_id "user-42"
//! } // the previous context is back
//!
//! // An async task: the context is set around every poll of the future.
//! let task = async { /* emit!(...) */ }.with_context(ContextOverride::user("user-7"));
//! # drop(task);
//! ```
//!
//! The scope is interned once in an `Arc` when it is opened; each event emitted in it
//! takes one reference count on it (no allocation), and the writer fills the record's
//! context from it.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

/// Context values that replace the pipeline's for the events emitted in a [`scope`] or
/// a [`WithContext`] future. `None` fields keep the enclosing scope's value, or the
/// pipeline's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextOverride {
    /// The signed-in user.
    pub user_id: Option<String>,
    /// The anonymous id of the visitor or device (e.g. from a cookie).
    pub anonymous_id: Option<String>,
    /// The session, when the server tracks its own.
    pub session_id: Option<String>,
}

impl ContextOverride {
    /// An override of the user id only.
    pub fn user(user_id: impl Into<String>) -> ContextOverride {
        ContextOverride {
            user_id: Some(user_id.into()),
            ..ContextOverride::default()
        }
    }

    /// This override, with the enclosing one's values where this one has none.
    fn inherit(mut self, outer: Option<&ContextOverride>) -> ContextOverride {
        if let Some(outer) = outer {
            self.user_id = self.user_id.or_else(|| outer.user_id.clone());
            self.anonymous_id = self.anonymous_id.or_else(|| outer.anonymous_id.clone());
            self.session_id = self.session_id.or_else(|| outer.session_id.clone());
        }
        self
    }
}

thread_local! {
    /// The innermost scope open on this thread.
    static CURRENT: RefCell<Option<Arc<ContextOverride>>> = const { RefCell::new(None) };
}

/// The scope events emitted now on this thread belong to (a reference count, no
/// allocation).
#[inline]
pub(crate) fn current() -> Option<Arc<ContextOverride>> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

fn replace(new: Option<Arc<ContextOverride>>) -> Option<Arc<ContextOverride>> {
    CURRENT
        .try_with(|c| {
            c.try_borrow_mut()
                .ok()
                .map(|mut c| std::mem::replace(&mut *c, new))
        })
        .ok()
        .flatten()
        .flatten()
}

/// Opens a context scope on this thread: events emitted until the guard is dropped
/// carry `context`'s ids (fields left `None` keep the enclosing scope's or the
/// pipeline's). Scopes nest; dropping the guard restores the enclosing one.
///
/// The guard cannot be sent to another thread: for async code, where a task moves
/// between threads, use [`WithContextExt::with_context`].
pub fn scope(context: ContextOverride) -> ScopeGuard {
    let outer = current();
    let inner = Arc::new(context.inherit(outer.as_deref()));
    let previous = replace(Some(inner));
    ScopeGuard {
        previous,
        _not_send: PhantomData,
    }
}

/// Restores the enclosing context when dropped (see [`scope`]).
#[must_use = "the scope ends when the guard is dropped: bind it with `let _scope = ...`"]
#[derive(Debug)]
pub struct ScopeGuard {
    previous: Option<Arc<ContextOverride>>,
    /// A scope belongs to the thread that opened it.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        replace(self.previous.take());
    }
}

/// A future whose polls run inside a context scope (see
/// [`WithContextExt::with_context`]).
#[must_use = "futures do nothing unless polled"]
pub struct WithContext<F> {
    // Boxed so that the wrapper is `Unpin` without pin projection (and without
    // `unsafe`): one allocation per wrapped future, e.g. per request.
    inner: Pin<Box<F>>,
    context: Arc<ContextOverride>,
}

impl<F> std::fmt::Debug for WithContext<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithContext")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        struct Restore(Option<Arc<ContextOverride>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                replace(self.0.take());
            }
        }
        let _restore = Restore(replace(Some(Arc::clone(&this.context))));
        this.inner.as_mut().poll(cx)
    }
}

/// Runs a future inside a context scope: `.with_context(ContextOverride::user(id))`.
/// No async runtime is required.
pub trait WithContextExt: Future + Sized {
    /// Wraps the future so that every poll runs with `context` in scope (fields left
    /// `None` keep the scope open where `with_context` is called, or the pipeline's).
    fn with_context(self, context: ContextOverride) -> WithContext<Self> {
        let context = Arc::new(context.inherit(current().as_deref()));
        WithContext {
            inner: Box::pin(self),
            context,
        }
    }
}

impl<F: Future> WithContextExt for F {}
