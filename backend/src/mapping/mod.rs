//! Mappings: a tenant's [`MappingConfig`] turns a source record into a target record, or into a
//! list of field errors that name each field and the reason.
//!
//! Pure code: no I/O, no async, no database, so it is fast and exhaustively testable. Records
//! are JSON objects (field → value, nested objects, lists of line items) in either direction:
//! app to CRM, CRM to app, CRM to CRM.
//!
//! - [`apply`] / [`Mapping::apply`]: source record → target record, or every [`FieldError`].
//! - [`validate`]: a mapping against the target's live metadata ([`ObjectMeta`]) when it is saved.
//! - [`preview`]: a mapping applied to one real record, for the mapping editor.
//! - [`content_hash`] / [`Mapping::content_hash`]: a hash over the mapped fields, normalised.
//!
//! One module per concern: `rules` compiles a config, `eval` applies it, `transforms` holds the
//! transforms, `guard` checks values against target fields, `validate` checks configs, `hash`
//! hashes content.
//!
//! [`ObjectMeta`]: crate::connectors::ObjectMeta

pub mod bench;
mod eval;
mod guard;
mod hash;
mod path;
mod rules;
mod transforms;
mod validate;
mod value;

#[cfg(test)]
mod tests;

use serde_json::Value;
pub use tandem_shared::api::mappings::{
    ConfigError, ConfigErrorCode, EmailRules, FieldError, FieldErrorCode, FieldRule, MappingConfig, PreviewResult,
    Source, Transform, ValueTable, ValueTableEntry,
};

pub use hash::content_hash;
pub use rules::Mapping;
pub use validate::{validate, validate_with_lists};

/// Applies `config` to `source`: the target record, or every field error. To map many records,
/// build a [`Mapping`] once and call [`Mapping::apply`].
pub fn apply(config: &MappingConfig, source: &Value) -> Result<Value, Vec<FieldError>> {
    Mapping::new(config).apply(source)
}

/// Applies `config` to one real record for the mapping editor. For the checks of the target's
/// fields (picklist options, email syntax) use [`Mapping::with_target`] and [`Mapping::preview`].
pub fn preview(config: &MappingConfig, source: &Value) -> PreviewResult {
    Mapping::new(config).preview(source)
}
