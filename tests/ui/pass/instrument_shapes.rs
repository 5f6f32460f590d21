//! Every function shape `#[instrument_event]` accepts, compiled with warnings denied:
//! the generated code adds no warning and keeps the signature callers see.
#![deny(warnings, missing_docs, unused_qualifications, rust_2018_idioms)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use telemetry_core::{instrument_event, testing, Outcome};

/// The error of this program.
#[derive(Debug)]
pub struct Declined;

/// A plain function with `?` and an early `return`.
#[instrument_event(name = "shape.plain", fields(n))]
#[inline]
#[must_use]
pub fn plain(n: u32) -> Result<u32, Declined> {
    if n == 0 {
        return Err(Declined);
    }
    let parsed: u32 = "7".parse().map_err(|_| Declined)?;
    Ok(n + parsed)
}

/// Returns nothing.
#[instrument_event(name = "shape.unit")]
pub fn unit() {}

/// Returns `impl Trait` and takes `impl Trait`, with a lifetime.
#[instrument_event(name = "shape.impl_trait", fields(label))]
pub fn impl_trait<'a>(label: &'a str, items: impl IntoIterator<Item = u8>) -> impl Iterator<Item = u8> + 'a {
    let _ = label;
    items.into_iter().collect::<Vec<_>>().into_iter()
}

/// `Result<impl Trait, _>` with `?`.
#[instrument_event(name = "shape.result_impl_trait")]
pub fn result_impl_trait(s: &str) -> Result<impl std::fmt::Display, std::num::ParseIntError> {
    let n: u8 = s.parse()?;
    Ok(n)
}

/// An `unsafe fn` whose body uses its unsafety, with `#[track_caller]`.
///
/// # Safety
/// `p` must be valid.
#[instrument_event(name = "shape.unsafe_fn")]
#[track_caller]
#[allow(unsafe_code)]
pub unsafe fn read(p: *const u8) -> u8 {
    unsafe { *p }
}

/// A generic function with a where clause; `T` is not captured.
#[instrument_event(name = "shape.generic", fields(count: usize = values.len()))]
pub fn generic<T, const N: usize>(values: [T; N]) -> Option<T>
where
    T: Clone + Default,
{
    values.first().cloned()
}

/// A `&mut` argument used after a captured read.
#[instrument_event(name = "shape.mutated", fields(len: usize = buf.len()))]
pub fn mutated(buf: &mut Vec<u8>) {
    buf.push(1);
}

/// A `cfg`-gated argument that is not listed.
#[instrument_event(name = "shape.cfg_arg", fields(kept))]
pub fn cfg_arg(kept: u8, #[cfg(any())] gone: u8) -> u8 {
    kept
}

/// Never returns normally.
#[instrument_event(name = "shape.diverges")]
pub fn diverges() -> ! {
    panic!("never returns")
}

/// Not written yet: a diverging body adds no warning.
#[instrument_event(name = "shape.todo")]
#[allow(dead_code)]
fn todo_later(n: u8) -> u8 {
    let _ = n;
    todo!()
}

/// An async fn.
#[instrument_event(name = "shape.async", fields(n))]
pub async fn async_fn(n: u8) -> Result<u8, Declined> {
    if n == 0 {
        Err(Declined)?;
    }
    Ok(n)
}

/// A future without `async fn`.
#[instrument_event(name = "shape.impl_future", fields(n))]
pub fn impl_future(n: u8) -> impl Future<Output = u8> + Send {
    let m = n + 1;
    async move { m }
}

/// A boxed future as `#[async_trait]` writes it.
#[instrument_event(name = "shape.boxed_future")]
pub fn boxed_future<'a>(x: &'a u8) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> {
    let y = *x;
    Box::pin(async move { y })
}

/// A type with methods.
#[derive(Debug, Default)]
pub struct Cart {
    items: Vec<u8>,
}

impl Cart {
    /// `&self`.
    #[instrument_event(name = "shape.method_ref", fields(n: usize = self.items.len()))]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `&mut self` returning `&mut Self`.
    #[instrument_event(name = "shape.method_mut", fields(item))]
    pub fn add(&mut self, item: u8) -> &mut Self {
        self.items.push(item);
        self
    }

    /// `self` by value, returning `Self`.
    #[instrument_event(name = "shape.method_self")]
    pub fn cleared(mut self) -> Self {
        self.items.clear();
        Self { items: self.items }
    }

    /// `self: Pin<&mut Self>`.
    #[instrument_event(name = "shape.method_pin")]
    pub fn pinned(self: Pin<&mut Self>) -> usize {
        self.items.len()
    }

    /// An async method.
    #[instrument_event(name = "shape.method_async")]
    pub async fn total(&self) -> u32 {
        self.items.iter().map(|&i| u32::from(i)).sum()
    }
}

/// A trait with an instrumented default method.
pub trait Priced {
    /// The price.
    fn price(&self) -> u32;

    /// Doubled, instrumented in the trait.
    #[instrument_event(name = "shape.trait_default")]
    fn doubled(&self) -> u32 {
        self.price() * 2
    }
}

/// A trait with native `async fn`s: an instrumented default, and an instrumented impl.
#[allow(async_fn_in_trait)] // the lint is about the user's API, not the macro
pub trait Kitchen {
    /// Cooks.
    #[instrument_event(name = "shape.async_trait_default")]
    async fn cook(&self) -> u8 {
        1
    }

    /// Serves.
    async fn serve(&self) -> u8;
}

impl Kitchen for Cart {
    #[instrument_event(name = "shape.async_trait_impl")]
    /// Serves the cart.
    async fn serve(&self) -> u8 {
        self.cook().await + 1
    }
}

/// A generic wrapper.
#[derive(Debug)]
pub struct Wrapper<T>(pub T);

impl<T: Copy + Into<u32>> Priced for Wrapper<T> {
    #[instrument_event(name = "shape.trait_impl_generic")]
    /// The wrapped price.
    fn price(&self) -> u32 {
        self.0.into()
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn main() {
    question_marks::check();
    let events = testing::capture(|| {
        assert_eq!(plain(1).unwrap_or(0), 8);
        assert!(plain(0).is_err());
        unit();
        assert_eq!(impl_trait("x", [1, 2]).count(), 2);
        assert!(result_impl_trait("x").is_err());
        let byte = 5u8;
        // SAFETY: a valid pointer.
        assert_eq!(unsafe { read(&raw const byte) }, 5);
        assert_eq!(generic([1u8, 2]), Some(1));
        let mut buf = Vec::new();
        mutated(&mut buf);
        assert_eq!(cfg_arg(3), 3);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        assert!(std::panic::catch_unwind(|| diverges()).is_err());
        std::panic::set_hook(hook);
        assert!(block_on(async_fn(0)).is_err());
        assert_eq!(block_on(impl_future(1)), 2);
        assert_eq!(block_on(boxed_future(&4)), 4);
        let mut cart = Cart::default();
        cart.add(1).add(2);
        assert_eq!(cart.len(), 2);
        assert_eq!(block_on(cart.total()), 3);
        assert_eq!(std::pin::pin!(Cart::default()).as_mut().pinned(), 0);
        assert_eq!(cart.cleared().len(), 0);
        assert_eq!(Wrapper(2u8).doubled(), 4);
        assert_eq!(block_on(Cart::default().serve()), 2);
    });
    let outcomes: Vec<(&str, Option<Outcome>)> =
        events.iter().map(|e| (e.name(), e.outcome())).collect();
    assert_eq!(outcomes[0], ("shape.plain", Some(Outcome::Ok)));
    assert_eq!(outcomes[1], ("shape.plain", Some(Outcome::Error)));
    assert!(outcomes.contains(&("shape.diverges", Some(Outcome::Panicked))));
    assert!(outcomes.contains(&("shape.result_impl_trait", Some(Outcome::Error))));
    assert_eq!(events.len(), 24, "{outcomes:?}");
}

/// `?` on every type the standard library implements it for, in sync functions.
pub mod question_marks {
    use std::ops::ControlFlow;
    use std::task::Poll;

    use telemetry_core::instrument_event;

    /// On `Poll<Result>`.
    #[instrument_event(name = "shape.poll")]
    pub fn poll(p: Poll<Result<u8, String>>) -> Poll<Result<u16, String>> {
        let v = p?;
        v.map(|v| Ok(u16::from(v)))
    }

    /// On `Poll<Option<Result>>`.
    #[instrument_event(name = "shape.poll_next")]
    pub fn poll_next(p: Poll<Option<Result<u8, String>>>) -> Poll<Option<Result<u8, String>>> {
        let v = p?;
        v.map(|v| v.map(Ok))
    }

    /// On `ControlFlow`.
    #[instrument_event(name = "shape.control_flow")]
    pub fn control_flow(c: ControlFlow<u8, u8>) -> ControlFlow<u8, u16> {
        let v = c?;
        ControlFlow::Continue(u16::from(v))
    }

    /// On `Option`.
    #[instrument_event(name = "shape.option")]
    pub fn option(o: Option<u8>) -> Option<u8> {
        Some(o? + 1)
    }

    /// Checks them.
    pub fn check() {
        assert_eq!(poll(Poll::Ready(Ok(1))), Poll::Ready(Ok(1)));
        assert_eq!(poll(Poll::Ready(Err("e".into()))), Poll::Ready(Err("e".into())));
        assert_eq!(poll(Poll::Pending), Poll::Pending);
        assert_eq!(poll_next(Poll::Ready(Some(Err("e".into())))), Poll::Ready(Some(Err("e".into()))));
        assert_eq!(poll_next(Poll::Ready(None)), Poll::Ready(None));
        assert_eq!(control_flow(ControlFlow::Break(3)), ControlFlow::Break(3));
        assert_eq!(control_flow(ControlFlow::Continue(3)), ControlFlow::Continue(3));
        assert_eq!(option(None), None);
        assert_eq!(option(Some(1)), Some(2));
    }
}
