//! Procedural macros of `telemetry-core`. Use them through `telemetry-core`, which
//! re-exports them; the generated code names `::telemetry_core`.
//!
//! Layout: `attr` parses `#[telemetry(...)]`, `ast` is the parsed model, `check`
//! validates it (every error is collected in a `Ctxt` and reported at once),
//! `event` and `property` generate code, `fallback` generates a stand-in impl when the
//! input has errors so one mistake does not cascade, `emit` implements `emit!`, and `funnel` implements `funnel!`.
//! `instrument` implements `#[instrument_event]`: its arguments are parsed in
//! `instrument_attr`, the event and its values planned in `instrument_plan`, and the
//! function's shape and exits handled in `instrument_shape`.

mod ast;
mod attr;
mod check;
mod ctxt;
mod emit;
mod event;
mod fallback;
mod funnel;
mod instrument;
mod instrument_attr;
mod instrument_plan;
mod instrument_shape;
#[allow(unreachable_pub, dead_code)]
mod naming;
mod property;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `TelemetryEvent`; documented on the re-export in `telemetry_core`.
#[proc_macro_derive(TelemetryEvent, attributes(telemetry))]
pub fn derive_telemetry_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::expand(&input).into()
}

/// Derives `TelemetryProperty`; documented on the re-export in `telemetry_core`.
#[proc_macro_derive(TelemetryProperty, attributes(telemetry))]
pub fn derive_telemetry_property(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    property::expand(&input).into()
}

/// `#[instrument_event]`; documented on the re-export in `telemetry_core`.
#[proc_macro_attribute]
pub fn instrument_event(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument::expand(args.into(), item.into()).into()
}

/// Implementation of `telemetry_core::funnel!`; not meant to be called directly.
#[doc(hidden)]
#[proc_macro]
pub fn funnel_definition(input: TokenStream) -> TokenStream {
    funnel::expand(input.into()).into()
}

/// Implementation of `telemetry_core::emit!`; not meant to be called directly.
#[doc(hidden)]
#[proc_macro]
pub fn emit_call_site(input: TokenStream) -> TokenStream {
    emit::expand(input.into()).into()
}
