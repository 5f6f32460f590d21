//! The static description of events: what the derive macro generates and what the
//! catalog file contains.
//!
//! The same types serve both sides: the derive builds them in `static` items (every
//! string is a `Cow::Borrowed`), and tools that read a catalog file back deserialize
//! into them (every string becomes `Cow::Owned`). Nothing is described twice.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

/// A static string or an owned one read back from a catalog file.
pub type Str = Cow<'static, str>;

/// Everything the catalog knows about one event type.
///
/// Built by `#[derive(TelemetryEvent)]`; read it through
/// [`TelemetryEvent::schema`](crate::TelemetryEvent::schema) or [`catalog()`](crate::catalog()).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventSchema {
    /// Event name, lowercase `object.action` (see [`check_event_name`](crate::catalog::check_event_name)).
    pub name: Str,
    /// Schema version of the event, bumped on breaking changes.
    pub version: u32,
    /// What happened, from the type's doc comment.
    pub description: Str,
    /// Product area the event belongs to (e.g. `ordering`, `payment`); may be empty.
    pub category: Str,
    /// Team accountable for the event; may be empty (reported by `Catalog::validate`).
    pub owner: Str,
    /// Rust path of the type that defines the event, e.g. `shop::events::CartItemAdded`.
    pub rust_type: Str,
    /// The event's properties, in declaration order.
    pub properties: Cow<'static, [PropertySchema]>,
    /// Whether sending this event counts its user as active (`#[telemetry(active)]`),
    /// for the active-user, retention and churn metrics of `telemetry report`. Absent
    /// from the catalog file when `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub active: bool,
    /// The runtime on/off switch of this event type
    /// ([`set_event_enabled`](crate::set_event_enabled)); process state, not part of the
    /// catalog.
    #[serde(skip)]
    pub(crate) switch: EventSwitch,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Whether an event type is switched on, read with one relaxed load when emitting.
#[derive(Debug)]
pub(crate) struct EventSwitch(AtomicBool);

impl EventSwitch {
    const fn on() -> EventSwitch {
        EventSwitch(AtomicBool::new(true))
    }

    /// Whether events of this type are sent.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }
}

impl Default for EventSwitch {
    fn default() -> EventSwitch {
        EventSwitch::on()
    }
}

impl Clone for EventSwitch {
    fn clone(&self) -> EventSwitch {
        EventSwitch(AtomicBool::new(self.is_on()))
    }
}

/// Two schemas are equal whatever their switches say: the switch is process state.
impl PartialEq for EventSwitch {
    fn eq(&self, _: &EventSwitch) -> bool {
        true
    }
}

impl Eq for EventSwitch {}

impl EventSchema {
    /// Builds a schema; used by generated code, which fills every field.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new_static(
        name: &'static str,
        version: u32,
        description: &'static str,
        category: &'static str,
        owner: &'static str,
        rust_type: &'static str,
        properties: &'static [PropertySchema],
    ) -> Self {
        EventSchema {
            name: Cow::Borrowed(name),
            version,
            description: Cow::Borrowed(description),
            category: Cow::Borrowed(category),
            owner: Cow::Borrowed(owner),
            rust_type: Cow::Borrowed(rust_type),
            properties: Cow::Borrowed(properties),
            active: false,
            switch: EventSwitch::on(),
        }
    }

    /// Marks the event as counting its user as active; used by generated code.
    #[doc(hidden)]
    pub const fn with_active(mut self, active: bool) -> Self {
        self.active = active;
        self
    }

    /// The property with this (catalog) name.
    pub fn property(&self, name: &str) -> Option<&PropertySchema> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Whether events of this type are sent (see
    /// [`set_event_enabled`](crate::set_event_enabled)); `true` unless switched off.
    pub fn is_enabled(&self) -> bool {
        self.switch.is_on()
    }
}

/// One property (field) of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PropertySchema {
    /// Property name as written in records (the field name or its `rename`).
    pub name: Str,
    /// JSON type of the value.
    #[serde(rename = "type")]
    pub ty: PropertyType,
    /// Rust type of the field, e.g. `u32`, `Option<String>`, `AddSource`.
    pub rust_type: Str,
    /// `true` for `Option<T>` fields: the property is absent from a record when `None`.
    pub optional: bool,
    /// How personal data in this property is handled before it leaves the process.
    pub pii: Pii,
    /// From the field's doc comment; may be empty.
    pub description: Str,
    /// For enum properties, every value the property can take; empty otherwise.
    #[serde(default, skip_serializing_if = "<[Str]>::is_empty")]
    pub values: Cow<'static, [Str]>,
}

impl PropertySchema {
    /// Builds a property schema; used by generated code.
    #[doc(hidden)]
    pub const fn new_static(
        name: &'static str,
        ty: PropertyType,
        rust_type: &'static str,
        optional: bool,
        pii: Pii,
        description: &'static str,
        values: &'static [Str],
    ) -> Self {
        PropertySchema {
            name: Cow::Borrowed(name),
            ty,
            rust_type: Cow::Borrowed(rust_type),
            optional,
            pii,
            description: Cow::Borrowed(description),
            values: Cow::Borrowed(values),
        }
    }
}

/// JSON type of a property value, as in JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    /// `true` / `false`.
    Boolean,
    /// A whole number (Rust integers up to 64 bits).
    Integer,
    /// A floating-point number.
    Number,
    /// A string; enum properties are strings with a fixed set of `values`.
    String,
}

impl PropertyType {
    /// The lowercase name used in the catalog file.
    pub const fn as_str(self) -> &'static str {
        match self {
            PropertyType::Boolean => "boolean",
            PropertyType::Integer => "integer",
            PropertyType::Number => "number",
            PropertyType::String => "string",
        }
    }
}

/// How a property holding personal data is handled, declared with
/// `#[telemetry(pii = "...")]` on the field.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Pii {
    /// Not personal data: sent as is.
    #[default]
    None,
    /// Replaced by a keyed hash (HMAC-SHA-256 with the configured secret, first 16 bytes
    /// as 32 hex digits): equal inputs give equal outputs, so joins still work, but the
    /// raw value never leaves the process.
    Hash,
    /// Replaced by the fixed marker [`REDACTED`](crate::REDACTED).
    Redact,
    /// Removed from the record.
    Drop,
}

impl Pii {
    /// The lowercase name used in the catalog file and in `#[telemetry(pii = "...")]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Pii::None => "none",
            Pii::Hash => "hash",
            Pii::Redact => "redact",
            Pii::Drop => "drop",
        }
    }
}

/// A place in the source that emits an event with `emit!`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallSite {
    /// Source file, relative to the crate's manifest directory's workspace as `file!()` gives it.
    pub file: Str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Module path of the emitting code, e.g. `shop::checkout`.
    pub module_path: Str,
    /// For a function with `#[instrument_event]`, its path (e.g.
    /// `shop::checkout::pay`); absent for `emit!`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Str>,
}

impl CallSite {
    /// Builds a call site; used by `emit!`.
    #[doc(hidden)]
    pub const fn new_static(
        file: &'static str,
        line: u32,
        column: u32,
        module_path: &'static str,
    ) -> Self {
        CallSite {
            file: Cow::Borrowed(file),
            line,
            column,
            module_path: Cow::Borrowed(module_path),
            function: None,
        }
    }

    /// Builds the call site of an instrumented function; used by `#[instrument_event]`.
    #[doc(hidden)]
    pub const fn new_instrumented(
        file: &'static str,
        line: u32,
        column: u32,
        module_path: &'static str,
        function: &'static str,
    ) -> Self {
        CallSite {
            file: Cow::Borrowed(file),
            line,
            column,
            module_path: Cow::Borrowed(module_path),
            function: Some(Cow::Borrowed(function)),
        }
    }
}
