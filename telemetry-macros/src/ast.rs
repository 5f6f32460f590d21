//! The parsed model of a `#[derive(TelemetryEvent)]` or `#[derive(TelemetryProperty)]`
//! input, with attribute values read but not yet validated against each other.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitInt, LitStr, Path, Type};

use crate::attr::{self, ENUM_KEYS, EVENT_KEYS, FIELD_KEYS, VARIANT_KEYS};
use crate::check;
use crate::ctxt::Ctxt;

/// An event struct.
pub(crate) struct Event<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) name: Option<LitStr>,
    /// Whether a `name` was written, even if it was invalid or misspelled (its error is
    /// reported already, so "missing name" is not).
    pub(crate) name_attempted: bool,
    pub(crate) category: Option<LitStr>,
    pub(crate) owner: Option<LitStr>,
    pub(crate) version: Option<LitInt>,
    /// `#[telemetry(active)]`: sending the event counts its user as active.
    pub(crate) active: bool,
    pub(crate) krate: Option<Path>,
    pub(crate) description: String,
    pub(crate) properties: Vec<Property<'a>>,
}

/// One field of an event struct.
pub(crate) struct Property<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) description: String,
    pub(crate) rename: Option<LitStr>,
    pub(crate) pii: Option<LitStr>,
    pub(crate) skip: Option<Span>,
}

impl Property<'_> {
    /// The property name in records: the rename, or the field name without `r#`.
    pub(crate) fn name(&self) -> String {
        match &self.rename {
            Some(r) => r.value(),
            None => self.ident.to_string().trim_start_matches("r#").to_owned(),
        }
    }

    /// Where to point errors about the property name.
    pub(crate) fn name_span(&self) -> Span {
        match &self.rename {
            Some(r) => r.span(),
            None => self.ident.span(),
        }
    }
}

/// A property enum.
pub(crate) struct PropertyEnum<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) rename_all: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// One variant of a property enum.
pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) rename: Option<LitStr>,
}

impl<'a> Event<'a> {
    /// Reads the struct; shape errors (enum, tuple struct) are reported and yield `None`.
    pub(crate) fn from_input(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Event<'a>> {
        let example = format!(
            "#[telemetry(name = \"{}\")]",
            check::name_from_ident(&input.ident.to_string())
        );
        let attrs = attr::parse(cx, &input.attrs, EVENT_KEYS, "an event", &example);
        let mut event = Event {
            input,
            name: None,
            name_attempted: attrs.mentions("name"),
            category: None,
            owner: None,
            version: None,
            active: false,
            krate: None,
            description: attr::doc_comment(&input.attrs),
            properties: Vec::new(),
        };
        for entry in &attrs.entries {
            match entry.key.as_str() {
                "name" => event.name = entry.string(cx, "\"cart.item_added\""),
                "category" => event.category = entry.string(cx, "\"ordering\""),
                "owner" => event.owner = entry.string(cx, "\"growth\""),
                "version" => event.version = entry.int(cx, "2"),
                "active" => event.active = entry.flag(cx),
                "crate" => event.krate = crate_path(cx, entry),
                _ => {}
            }
        }
        let fields = match &input.data {
            Data::Struct(s) => &s.fields,
            Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "an event must be a struct; write one struct per event (`#[derive(TelemetryEvent)] struct ...`), or derive `TelemetryProperty` for a unit-only enum used as a property",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(u.union_token, "an event must be a struct with named fields");
                return None;
            }
        };
        match fields {
            Fields::Named(named) => {
                for field in &named.named {
                    let Some(ident) = field.ident.as_ref() else {
                        continue;
                    };
                    let mut property = Property {
                        ident,
                        ty: &field.ty,
                        description: attr::doc_comment(&field.attrs),
                        rename: None,
                        pii: None,
                        skip: None,
                    };
                    for entry in attr::parse(
                        cx,
                        &field.attrs,
                        FIELD_KEYS,
                        "an event field",
                        "#[telemetry(pii = \"hash\")]",
                    )
                    .entries
                    {
                        match entry.key.as_str() {
                            "rename" => property.rename = entry.string(cx, "\"price_cents\""),
                            "pii" => property.pii = entry.string(cx, "\"hash\""),
                            "skip" => {
                                entry.flag(cx);
                                property.skip = Some(entry.key_span);
                            }
                            _ => {}
                        }
                    }
                    event.properties.push(property);
                }
            }
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(
                    unnamed,
                    "an event must have named fields, which become its property names; write `struct Event { name: Type, .. }` (or a unit struct `struct Event;` for an event without properties)",
                );
                return None;
            }
            Fields::Unit => {}
        }
        Some(event)
    }
}

impl<'a> PropertyEnum<'a> {
    /// Reads the enum; shape errors are reported and yield `None`.
    pub(crate) fn from_input(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<PropertyEnum<'a>> {
        let attrs = attr::parse(
            cx,
            &input.attrs,
            ENUM_KEYS,
            "a property enum",
            "#[telemetry(rename_all = \"kebab-case\")]",
        );
        let mut parsed = PropertyEnum {
            input,
            rename_all: None,
            krate: None,
            variants: Vec::new(),
        };
        for entry in &attrs.entries {
            match entry.key.as_str() {
                "rename_all" => parsed.rename_all = entry.string(cx, "\"snake_case\""),
                "crate" => parsed.krate = crate_path(cx, entry),
                _ => {}
            }
        }
        let data = match &input.data {
            Data::Enum(e) => e,
            Data::Struct(s) => {
                cx.error_spanned_by(
                    s.struct_token,
                    "`TelemetryProperty` can be derived only for an enum whose variants have no fields; for an event, derive `TelemetryEvent`",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "`TelemetryProperty` can be derived only for an enum whose variants have no fields",
                );
                return None;
            }
        };
        for variant in &data.variants {
            if !matches!(variant.fields, Fields::Unit) {
                cx.error_spanned_by(
                    &variant.fields,
                    format!(
                        "variant `{}` has fields, but a property enum is a string with a fixed set of values; remove the fields, or send them as separate event properties",
                        variant.ident
                    ),
                );
            }
            let mut v = Variant {
                ident: &variant.ident,
                rename: None,
            };
            for entry in attr::parse(
                cx,
                &variant.attrs,
                VARIANT_KEYS,
                "an enum variant",
                "#[telemetry(rename = \"cash_on_delivery\")]",
            )
            .entries
            {
                if entry.key == "rename" {
                    v.rename = entry.string(cx, "\"cash_on_delivery\"");
                }
            }
            parsed.variants.push(v);
        }
        if data.variants.is_empty() {
            cx.error_spanned_by(
                &input.ident,
                "a property enum needs at least one variant: its values are the allowed values of the property",
            );
        }
        Some(parsed)
    }
}

fn crate_path(cx: &mut Ctxt, entry: &attr::Entry) -> Option<Path> {
    let lit = entry.string(cx, "\"my_reexport::telemetry_core\"")?;
    match lit.parse::<Path>() {
        Ok(p) => Some(p),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                "`crate` takes a path in a string, e.g. `crate = \"my_app::telemetry_core\"`",
            );
            None
        }
    }
}
