//! The [`TelemetryEvent`] trait, implemented by `#[derive(TelemetryEvent)]`.

use crate::property::PropertyValue;
use crate::schema::EventSchema;

/// A product event: a Rust type with a static schema.
///
/// Derive it; hand-written impls are possible but then the event is only in the
/// catalog if it is also registered (the derive does both).
///
/// ```
/// use telemetry_core::TelemetryEvent;
///
/// /// A customer opened a restaurant's menu.
/// #[derive(TelemetryEvent)]
/// #[telemetry(name = "menu.viewed", category = "browsing", owner = "discovery")]
/// struct MenuViewed {
///     /// Restaurant whose menu was opened.
///     restaurant_id: u64,
/// }
///
/// let schema = MenuViewed::schema();
/// assert_eq!(schema.name, "menu.viewed");
/// assert_eq!(schema.properties[0].name, "restaurant_id");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a telemetry event",
    label = "not a telemetry event",
    note = "add `#[derive(TelemetryEvent)]` and `#[telemetry(name = \"object.action\")]` to the struct"
)]
pub trait TelemetryEvent {
    /// The event's static schema.
    fn schema() -> &'static EventSchema
    where
        Self: Sized;

    /// Calls `visitor` once per property, in schema order, with the property's index
    /// in [`EventSchema::properties`] and its value borrowed from `self`.
    fn visit_properties(&self, visitor: &mut dyn PropertyVisitor);

    /// Emits this event without registering a call site. Prefer
    /// [`emit!`](crate::emit!), which also records where the event is sent from, so the
    /// catalog can tell which events are never sent.
    fn emit(self)
    where
        Self: Sized,
    {
        crate::emit_event(&self);
    }
}

/// Receives the property values of an event (see [`TelemetryEvent::visit_properties`]).
pub trait PropertyVisitor {
    /// One property: its index in the schema and its value.
    fn property(&mut self, index: usize, value: PropertyValue<'_>);
}

impl<F: FnMut(usize, PropertyValue<'_>)> PropertyVisitor for F {
    fn property(&mut self, index: usize, value: PropertyValue<'_>) {
        self(index, value)
    }
}
