//! Checks a mapping when it is saved, against the target's live metadata: every target field
//! exists and can be written, the transforms produce what the field takes, every value the
//! mapping can write into a picklist is one of its options, required fields are covered, and
//! every value table referred to exists. Each error names the field.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use tandem_shared::api::mappings::{ConfigError, ConfigErrorCode, FieldErrorCode, FieldRule, MappingConfig, Transform};

use super::guard::Guard;
use super::path::FieldPath;
use super::transforms::{Step, Tables, TimeFormat, compile_tables};
use crate::connectors::{FieldMeta, FieldType, ObjectMeta};

/// Every problem of `config` for writing `target`, in rule order. `source_fields`, when given,
/// lists the fields the source has (its top-level names), so rules reading other fields are
/// reported too. Empty means the mapping is good to save.
///
/// A list rule (`items`) names a related collection, not a field of `target` (HubSpot and
/// Salesforce keep line items as objects of their own): its element rules are checked only for
/// themselves here; [`validate_with_lists`] checks them against the element object's metadata.
pub fn validate(config: &MappingConfig, target: &ObjectMeta, source_fields: Option<&[String]>) -> Vec<ConfigError> {
    validate_with_lists(config, target, &BTreeMap::new(), source_fields)
}

/// [`validate`], with the metadata of the objects that list rules write, by the list rule's
/// target (`line_items` → the CRM's line item object).
pub fn validate_with_lists(
    config: &MappingConfig,
    target: &ObjectMeta,
    lists: &BTreeMap<String, ObjectMeta>,
    source_fields: Option<&[String]>,
) -> Vec<ConfigError> {
    let tables = compile_tables(config);
    let mut validator = Validator {
        config,
        tables: &tables,
        lists,
        source_fields,
        errors: Vec::new(),
    };
    validator.value_tables();
    let top = Level {
        prefix: String::new(),
        meta: Some(target),
        top: true,
    };
    validator.rules(&config.fields, &top);
    validator.errors
}

struct Validator<'a> {
    config: &'a MappingConfig,
    tables: &'a Tables,
    lists: &'a BTreeMap<String, ObjectMeta>,
    source_fields: Option<&'a [String]>,
    errors: Vec<ConfigError>,
}

/// The rules of one object: the target itself, or a list's elements (`prefix` `line_items[].`).
struct Level<'a> {
    prefix: String,
    /// What the object's fields are, where known.
    meta: Option<&'a ObjectMeta>,
    /// Whether the source is the record itself (whose fields `source_fields` lists).
    top: bool,
}

impl<'a> Validator<'a> {
    fn error(&mut self, field: &str, code: ConfigErrorCode, reason: impl AsRef<str>) {
        self.errors.push(ConfigError {
            field: field.to_string(),
            code,
            message: format!("{field}: {}", reason.as_ref()),
        });
    }

    fn value_tables(&mut self) {
        for (name, table) in &self.config.value_tables {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for entry in &table.entries {
                for from in &entry.from {
                    let key = if table.case_insensitive {
                        from.trim().to_lowercase()
                    } else {
                        from.trim().to_string()
                    };
                    match seen.get(&key) {
                        Some(to) if *to != entry.to => {
                            let reason = format!("{from:?} maps to both {to:?} and {:?}", entry.to);
                            self.error(
                                &format!("value_tables.{name}"),
                                ConfigErrorCode::AmbiguousValueTable,
                                reason,
                            );
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(key, &entry.to);
                        }
                    }
                }
            }
        }
    }

    fn rules(&mut self, rules: &[FieldRule], level: &Level<'a>) {
        let mut targets = HashSet::new();
        for rule in rules {
            let field = format!("{}{}", level.prefix, rule.target);
            if !targets.insert(rule.target.as_str()) {
                self.error(&field, ConfigErrorCode::DuplicateTarget, "two rules write this field");
            }
            self.rule(rule, &field, level);
        }
        if let Some(meta) = level.meta {
            self.required_fields(rules, meta, &level.prefix);
        }
    }

    fn rule(&mut self, rule: &FieldRule, field: &str, level: &Level<'a>) {
        let is_list = !rule.items.is_empty();
        let meta = match FieldPath::target(&rule.target) {
            Err(reason) => {
                self.error(field, ConfigErrorCode::InvalidPath, reason);
                None
            }
            Ok(path) => match level.meta {
                Some(object) if !is_list => self.target_field(object, &path, field),
                _ => None,
            },
        };
        self.sources(rule, field, level.top);
        let steps_ok = self.transforms(rule, field);
        if is_list {
            if !rule.transforms.is_empty() {
                self.error(
                    field,
                    ConfigErrorCode::TransformsOnList,
                    "a list rule maps its elements with `items`; put transforms on the element rules",
                );
            }
            let elements = Level {
                prefix: format!("{field}[]."),
                meta: if level.top { self.lists.get(&rule.target) } else { None },
                top: false,
            };
            self.rules(&rule.items, &elements);
            return;
        }
        if let (Some(meta), true) = (meta, steps_ok) {
            self.compatible(rule, field, meta);
        }
    }

    /// The target field's metadata, after checking it exists and can be written. Nested targets
    /// (`Account_Name.id`) are checked by their top-level field only.
    fn target_field(&mut self, target: &'a ObjectMeta, path: &FieldPath, field: &str) -> Option<&'a FieldMeta> {
        let Some(meta) = target.field(path.root()) else {
            let hint = suggest(path.root(), target.fields.iter().flat_map(|f| [&f.name, &f.label]));
            let reason = format!("{} has no field {:?}{hint}", target.crm_name, path.root());
            self.error(field, ConfigErrorCode::UnknownField, reason);
            return None;
        };
        if meta.read_only {
            self.error(
                field,
                ConfigErrorCode::ReadOnlyField,
                format!("{} is read-only in {}", meta.label, target.crm_name),
            );
            return None;
        }
        (!path.is_nested()).then_some(meta)
    }

    fn sources(&mut self, rule: &FieldRule, field: &str, top: bool) {
        let sources = rule.source.as_ref().map(|s| s.fields()).unwrap_or_default();
        let provides_value = rule
            .transforms
            .iter()
            .any(|t| matches!(t, Transform::Constant { .. } | Transform::Default { .. }));
        if sources.is_empty() && !provides_value {
            self.error(
                field,
                ConfigErrorCode::NoSource,
                "the rule has no source field and no constant or default",
            );
        }
        for source in sources {
            match FieldPath::source(source) {
                Err(reason) => self.error(field, ConfigErrorCode::InvalidPath, reason),
                Ok(path) if top => self.known_source(&path, field),
                Ok(_) => {}
            }
        }
        let combined = rule.transforms.iter().any(|t| {
            matches!(
                t,
                Transform::Join { .. } | Transform::Coalesce | Transform::Multiply { .. } | Transform::Constant { .. }
            )
        });
        if sources.len() > 1 && !rule.items.is_empty() {
            self.error(
                field,
                ConfigErrorCode::InvalidPath,
                "a list rule reads exactly one source field",
            );
        } else if sources.len() > 1 && !combined {
            self.error(
                field,
                ConfigErrorCode::SourcesNotCombined,
                format!(
                    "{} source fields need join, coalesce or multiply to become one value",
                    sources.len()
                ),
            );
        }
    }

    fn known_source(&mut self, path: &FieldPath, field: &str) {
        let Some(known) = self.source_fields else { return };
        if !known.iter().any(|f| f == path.root()) {
            let hint = suggest(path.root(), known.iter());
            self.error(
                field,
                ConfigErrorCode::UnknownSourceField,
                format!("the source has no field {:?}{hint}", path.root()),
            );
        }
    }

    /// Compiles each transform; false when one is unusable.
    fn transforms(&mut self, rule: &FieldRule, field: &str) -> bool {
        let mut ok = true;
        for transform in &rule.transforms {
            if let Err(e) = Step::compile(transform, self.config, self.tables) {
                self.error(field, e.code, e.reason);
                ok = false;
            }
        }
        ok
    }

    fn compatible(&mut self, rule: &FieldRule, field: &str, meta: &FieldMeta) {
        let guard = Guard::for_field(meta, self.config.email_rules);
        match produces(&rule.transforms) {
            Produces::Literal(value) => self.literal(field, guard.as_ref(), value, "the constant"),
            Produces::Values(name) => {
                let Some(table) = self.config.value_tables.get(name) else {
                    return;
                };
                let what = format!("value table {name:?}");
                let mut checked = HashSet::new();
                for value in table.entries.iter().map(|e| &e.to).chain(&table.default) {
                    if checked.insert(value.as_str()) {
                        self.literal(field, guard.as_ref(), &Value::String(value.clone()), &what);
                    }
                }
            }
            kind => {
                if !kind.fits(meta.field_type) {
                    let reason = format!(
                        "the transforms produce {}, but {} is a {} field",
                        kind.describe(),
                        meta.label,
                        type_name(meta.field_type)
                    );
                    self.error(field, ConfigErrorCode::IncompatibleType, reason);
                }
            }
        }
        if let Some(Transform::Default { value }) = rule.transforms.last() {
            self.literal(field, guard.as_ref(), value, "the default");
        }
    }

    /// A value the mapping writes as it is: it must be what the field takes.
    fn literal(&mut self, field: &str, guard: Option<&Guard>, value: &Value, what: &str) {
        let Some(guard) = guard else { return };
        if let Err(fail) = guard.check(value.clone()) {
            let code = if fail.code == FieldErrorCode::UnknownValue {
                ConfigErrorCode::UnknownOption
            } else {
                ConfigErrorCode::IncompatibleType
            };
            self.error(field, code, format!("{what}: {}", fail.reason));
        }
    }

    /// Every field `target` requires has a rule that cannot leave it empty.
    fn required_fields(&mut self, rules: &[FieldRule], target: &ObjectMeta, prefix: &str) {
        for meta in target.fields.iter().filter(|f| f.required && !f.read_only) {
            let covering: Vec<&FieldRule> = rules
                .iter()
                .filter(|r| FieldPath::target(&r.target).is_ok_and(|p| p.root() == meta.name))
                .collect();
            let field = format!("{prefix}{}", meta.name);
            if covering.is_empty() {
                let reason = format!("{} requires {}, but no rule writes it", target.crm_name, meta.label);
                self.error(&field, ConfigErrorCode::RequiredFieldUnmapped, reason);
            } else if !covering.iter().any(|r| never_empty(r)) {
                let reason = format!(
                    "{} requires {}: mark the rule required or add a default, so an empty value fails here",
                    target.crm_name, meta.label
                );
                self.error(&field, ConfigErrorCode::RequiredFieldMayBeEmpty, reason);
            }
        }
    }
}

/// Whether a rule always writes a value or fails: required, or ending in a constant or default.
fn never_empty(rule: &FieldRule) -> bool {
    rule.required
        || rule
            .transforms
            .iter()
            .any(|t| matches!(t, Transform::Constant { .. } | Transform::Default { .. }))
}

/// ` (did you mean "firstname"?)` when a candidate is close enough.
fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default()
}

/// What kind of value a rule's transforms produce, as far as can be told without data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Produces<'a> {
    /// Copied from the source: anything, checked per record.
    Any,
    Text,
    Email,
    Phone,
    Currency,
    Decimal,
    Bool,
    Date,
    DateTime,
    Epoch,
    /// Text in a custom date pattern.
    Pattern,
    /// A value of this table.
    Values(&'a str),
    Literal(&'a Value),
}

fn produces(transforms: &[Transform]) -> Produces<'_> {
    transforms
        .iter()
        .fold(Produces::Any, |kind, transform| match transform {
            Transform::Constant { value } => Produces::Literal(value),
            Transform::Default { .. } | Transform::Coalesce => kind,
            Transform::Trim | Transform::Case { .. } | Transform::Truncate { .. } => match kind {
                Produces::Any | Produces::Email | Produces::Phone | Produces::Currency => kind,
                _ => Produces::Text,
            },
            Transform::SplitName { .. } | Transform::Join { .. } => Produces::Text,
            Transform::Email { .. } => Produces::Email,
            Transform::PhoneE164 { .. } => Produces::Phone,
            Transform::Currency => Produces::Currency,
            Transform::Datetime { to, .. } => match TimeFormat::parse(to) {
                Ok(TimeFormat::Iso) => Produces::DateTime,
                Ok(TimeFormat::EpochMs | TimeFormat::EpochS) => Produces::Epoch,
                Ok(TimeFormat::Date) => Produces::Date,
                Ok(TimeFormat::Pattern { .. }) | Err(_) => Produces::Pattern,
            },
            Transform::Decimal { .. } | Transform::Multiply { .. } | Transform::Percent { .. } | Transform::Number => {
                Produces::Decimal
            }
            Transform::Bool => Produces::Bool,
            Transform::ValueTable { table } => Produces::Values(table),
        })
}

impl Produces<'_> {
    fn fits(self, field_type: FieldType) -> bool {
        use FieldType as T;
        match self {
            Produces::Any | Produces::Values(_) | Produces::Literal(_) => true,
            Produces::Text => matches!(
                field_type,
                T::Text | T::Email | T::Phone | T::Picklist | T::MultiPicklist | T::Reference | T::Id
            ),
            Produces::Email => matches!(field_type, T::Text | T::Email),
            Produces::Phone => matches!(field_type, T::Text | T::Phone),
            Produces::Currency => matches!(field_type, T::Text | T::Picklist | T::MultiPicklist),
            Produces::Decimal => matches!(field_type, T::Text | T::Number | T::Currency | T::Percent),
            Produces::Bool => matches!(field_type, T::Text | T::Bool),
            Produces::Date => matches!(field_type, T::Text | T::Date),
            Produces::DateTime => matches!(field_type, T::Text | T::DateTime),
            Produces::Epoch => matches!(field_type, T::Text | T::Number | T::Date | T::DateTime),
            Produces::Pattern => matches!(field_type, T::Text | T::Date | T::DateTime),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Produces::Any | Produces::Values(_) | Produces::Literal(_) => "a value",
            Produces::Text => "text",
            Produces::Email => "an email address",
            Produces::Phone => "a phone number",
            Produces::Currency => "a currency code",
            Produces::Decimal => "a number",
            Produces::Bool => "true or false",
            Produces::Date => "a date",
            Produces::DateTime => "a date and time",
            Produces::Epoch => "a time in milliseconds or seconds since 1970",
            Produces::Pattern => "a formatted date",
        }
    }
}

fn type_name(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Text => "text",
        FieldType::Email => "email",
        FieldType::Phone => "phone",
        FieldType::Number => "number",
        FieldType::Currency => "currency",
        FieldType::Percent => "percent",
        FieldType::Date => "date",
        FieldType::DateTime => "date-time",
        FieldType::Bool => "yes/no",
        FieldType::Picklist => "picklist",
        FieldType::MultiPicklist => "multi-select picklist",
        FieldType::Reference => "reference",
        FieldType::Id => "id",
    }
}
