//! Field mappings: how one system's record becomes another's.
//!
//! A [`MappingConfig`] is plain JSON the admin edits in the UI. It names, per target field, where
//! the value comes from ([`Source`]) and which [`Transform`]s turn it into what the target accepts.
//! Value tables translate spellings (statuses, deal stages, currencies, product ids), several
//! source values to one target value where the models differ.
//!
//! ```json
//! {
//!   "object": "contact",
//!   "fields": [
//!     {"target": "email", "source": "email", "transforms": [{"kind": "email"}], "required": true},
//!     {"target": "firstname", "source": "name", "transforms": [{"kind": "split_name", "part": "first"}]},
//!     {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
//!     {"target": "lifecyclestage", "source": "status",
//!      "transforms": [{"kind": "value_table", "table": "statuses"}]}
//!   ],
//!   "value_tables": {
//!     "statuses": {"entries": [{"from": ["new", "open"], "to": "lead"}], "default": "subscriber"}
//!   }
//! }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tenant's mapping of one object for one pipeline direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// The object mapped: `contact`, `company`, `deal`, `appointment`.
    pub object: String,
    /// Which way records flow. Informational: the rules read the source and write the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<MappingDirection>,
    /// Which CRM's email syntax the `email` transform, and every email target field, checks.
    #[serde(default)]
    pub email_rules: EmailRules,
    /// One rule per target field, applied in order.
    pub fields: Vec<FieldRule>,
    /// Named value tables that `value_table` transforms refer to.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub value_tables: BTreeMap<String, ValueTable>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MappingDirection {
    /// The operator's app to a CRM.
    AppToCrm,
    /// A CRM to the operator's app.
    CrmToApp,
    /// One CRM to another (migrations).
    CrmToCrm,
}

/// How one target field gets its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The target field, with the target system's name. A dotted path (`address.city`) writes
    /// into a nested object.
    pub target: String,
    /// Where the value comes from; absent when a `constant` or `default` transform provides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Applied in order to the source value; none means the value is copied as it is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    /// The record fails with `missing_required` when the value is empty after the transforms.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// When the value is empty, write `null` (clearing the target field) instead of leaving the
    /// field out of the target record (which leaves the target's value as it is).
    #[serde(default, skip_serializing_if = "is_false")]
    pub clear_if_empty: bool,
    /// Makes this a list rule: the source is a list of objects (deal line items) and each element
    /// becomes one target object through these rules. Errors name the element:
    /// `line_items[2].unit_price`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub items: Vec<FieldRule>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One source field (`"email"`), or several (`["first_name", "last_name"]`) that a `join`,
/// `coalesce` or `multiply` transform combines. A field is a name or a dotted path into nested
/// objects and lists: `address.city`, `emails[0].value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Source {
    Field(String),
    Fields(Vec<String>),
}

impl Source {
    /// The source fields, in order.
    pub fn fields(&self) -> &[String] {
        match self {
            Source::Field(field) => std::slice::from_ref(field),
            Source::Fields(fields) => fields,
        }
    }
}

/// One step that turns a value into another. A value is *empty* when it is missing, `null`, an
/// empty or blank string, or an empty list; unless said otherwise, a transform passes an empty
/// value on unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Always this value, whatever the source holds.
    Constant { value: Value },
    /// This value when the value so far is empty.
    Default { value: Value },
    /// Removes leading and trailing whitespace.
    Trim,
    /// Changes letter case: `lower`, `upper`, or `title` (first letter of each word upper case,
    /// the rest lower case).
    Case { to: LetterCase },
    /// Cuts text to at most `max_chars` characters.
    Truncate { max_chars: usize },
    /// One part of a full name: `Ada Lovelace` and `Lovelace, Ada` give first `Ada`, last
    /// `Lovelace`; particles stay with the last name (`Ludwig van Beethoven` → `van Beethoven`); a
    /// single word is a last name.
    SplitName { part: NamePart },
    /// Joins the non-empty values of several source fields with `separator`.
    Join { separator: String },
    /// The first non-empty value of several source fields.
    Coalesce,
    /// Checks an email address against `email_rules` (the mapping's when absent) and writes it
    /// trimmed and in lower case; fails with `invalid_email`.
    Email {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rules: Option<EmailRules>,
    },
    /// A phone number in E.164 form (`+493012345678`). Numbers without a country code are read
    /// as numbers of `default_region` (ISO 3166-1 alpha-2, `DE`); extensions are dropped. Fails
    /// with `invalid_phone` for numbers that do not exist.
    PhoneE164 {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_region: Option<String>,
    },
    /// Reads and writes dates and times. `from` and `to` are `iso` (RFC 3339; `from: iso` also
    /// reads `2024-05-01T10:00:00` without offset, Salesforce's `+0000` and plain dates),
    /// `epoch_ms`, `epoch_s`, `date` (`2024-05-01`), or a `strftime` pattern (`%d.%m.%Y %H:%M`).
    /// `time_zone` (IANA, `Europe/Berlin`; default UTC) is where the output is written;
    /// `source_time_zone` (default: `time_zone`) is how times without an offset are read. A
    /// local time that does not exist (skipped by a daylight-saving change) fails with
    /// `invalid_date`; an ambiguous one (repeated) is read as the earlier. A plain date written
    /// as `date` is not shifted between zones.
    Datetime {
        #[serde(default = "iso", skip_serializing_if = "is_iso")]
        from: String,
        #[serde(default = "iso", skip_serializing_if = "is_iso")]
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source_time_zone: Option<String>,
    },
    /// An exact decimal, written as text (`"19.90"`), never a float. `scale` rounds half away
    /// from zero to that many decimal places and pads to them. With `decimal_comma`, `1.234,5`
    /// reads as 1234.5. Fails with `not_a_number`.
    Decimal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
        #[serde(default, skip_serializing_if = "is_false")]
        decimal_comma: bool,
    },
    /// Writes a decimal as a JSON number, for APIs that want numbers; fails with
    /// `precision_loss` when the number cannot be written exactly (more than 15 significant
    /// digits).
    Number,
    /// An ISO 4217 currency code, upper case (`eur` → `EUR`); fails with `unknown_currency`.
    /// Use a value table for symbols and other spellings (`€`).
    Currency,
    /// Converts between percentages (`19` means 19 %) and fractions (`0.19`). A value ending in
    /// `%` is always read as a percentage. Fails with `not_a_number`.
    Percent {
        #[serde(default)]
        from: PercentForm,
        #[serde(default)]
        to: PercentForm,
    },
    /// Multiplies the decimal values of several source fields exactly (unit price × quantity);
    /// empty when one is empty. `scale` rounds as `decimal` does.
    Multiply {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u32>,
    },
    /// `true`/`false` from booleans, `1`/`0`, and `true`, `yes`, `y`, `on`, `false`, `no`, `n`,
    /// `off` in any case; fails with `not_a_bool`.
    Bool,
    /// Looks the value up in the value table `table`: several source values can map to one target
    /// value; a value in no entry gets the table's default, or fails with `unknown_value`.
    ValueTable { table: String },
}

fn iso() -> String {
    "iso".to_string()
}

fn is_iso(s: &str) -> bool {
    s == "iso"
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LetterCase {
    Lower,
    Upper,
    Title,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NamePart {
    First,
    Last,
}

/// How a percentage is written: `percent` (19) or `fraction` (0.19).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PercentForm {
    #[default]
    Percent,
    Fraction,
}

/// Which email syntax a target accepts. `strict` (the default) accepts only what every supported
/// CRM accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmailRules {
    #[default]
    Strict,
    /// One `@`, a local part, a domain with a dot, no whitespace.
    Hubspot,
    /// Local part of letters, digits and ``!#$%&'*+/=?^_`{|}~.-`` (no leading or trailing dot), a
    /// domain of dot-separated labels of letters, digits and hyphens, at most 80 characters.
    Salesforce,
}

/// Translates values: each entry maps several source values to one target value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ValueTable {
    pub entries: Vec<ValueTableEntry>,
    /// For values in no entry; without it they fail with `unknown_value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether `Won` matches an entry for `won`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub case_insensitive: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ValueTableEntry {
    /// Source values (several to one).
    pub from: Vec<String>,
    pub to: String,
}

/// Why one record could not be mapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The target field: `email`, `address.city`, `line_items[2].unit_price`.
    pub field: String,
    /// The source field the value came from, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_field: Option<String>,
    pub code: FieldErrorCode,
    /// Names the field and the reason, for people.
    pub message: String,
}

/// A stable reason for a [`FieldError`]. New codes may be added; existing ones keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    /// A required value is empty.
    MissingRequired,
    NotANumber,
    NotABool,
    InvalidPhone,
    InvalidEmail,
    InvalidDate,
    /// A value in no entry of a value table without a default, or not an option of a picklist.
    UnknownValue,
    UnknownCurrency,
    /// A list rule's source is not a list.
    NotAList,
    /// An element of a list is not an object.
    NotAnObject,
    /// The value has a shape the transform cannot work on (an object where text was expected).
    UnexpectedType,
    /// A decimal cannot be written as a JSON number exactly.
    PrecisionLoss,
    /// The mapping itself is broken (an unknown value table or time zone); validating the
    /// mapping names the problem.
    InvalidMapping,
}

/// What is wrong with a mapping, found when it is saved (against the CRM's live field list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigError {
    /// The target field of the rule (`lifecyclestage`, `line_items[].price`), or
    /// `value_tables.<name>`.
    pub field: String,
    pub code: ConfigErrorCode,
    /// Names the field and the reason, for people.
    pub message: String,
}

/// A stable reason for a [`ConfigError`]. New codes may be added; existing ones keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConfigErrorCode {
    /// The target has no such field.
    UnknownField,
    /// The target field cannot be written.
    ReadOnlyField,
    /// Two rules write the same target field.
    DuplicateTarget,
    /// A field path is malformed (or a target path indexes a list).
    InvalidPath,
    /// A rule has neither a source nor a `constant` or `default`.
    NoSource,
    /// The source has no such field.
    UnknownSourceField,
    /// Several source fields without `join`, `coalesce` or `multiply` to combine them.
    SourcesNotCombined,
    /// The transforms produce a kind of value the target field does not take.
    IncompatibleType,
    /// A value the mapping can write is not an (active) option of the target picklist.
    UnknownOption,
    /// A field the target requires has no rule.
    RequiredFieldUnmapped,
    /// A field the target requires has a rule that can leave it empty: mark the rule required or
    /// add a default.
    RequiredFieldMayBeEmpty,
    /// A `value_table` transform names a table that does not exist.
    UnknownValueTable,
    /// A value table maps one source value to two different values.
    AmbiguousValueTable,
    InvalidTimeZone,
    InvalidDateFormat,
    /// Not an ISO 3166-1 alpha-2 region the phone number library knows.
    InvalidRegion,
    /// A decimal scale above 28.
    InvalidScale,
    /// A transform's settings make no sense (`truncate` to 0 characters, say).
    InvalidTransform,
    /// A list rule (`items`) with transforms of its own.
    TransformsOnList,
}

/// The result of applying a mapping to one real record, for the mapping editor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewResult {
    /// The record the mapping was applied to.
    pub source: Value,
    /// The mapped record, when it mapped without errors.
    pub target: Option<Value>,
    /// Every field that failed; empty when `target` is present.
    pub errors: Vec<FieldError>,
}

/// The body of a mapping preview: the (possibly unsaved) mapping, and optionally which record to
/// apply it to (by default the most recently changed one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewMappingRequest {
    pub config: MappingConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}

/// Both sides' live field lists for one flow of a pipeline, for the mapping editor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingFields {
    /// The side the flow reads.
    pub source: SideFields,
    /// The side the flow writes.
    pub target: SideFields,
}

/// One side's fields: the app's model, or the CRM's own field list (custom fields included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideFields {
    /// Who this side is, for people: `Tandem app`, `HubSpot (Acme portal)`.
    pub system: String,
    /// The side's name for the object (`contacts`, `Contact`).
    pub object: String,
    pub fields: Vec<FieldInfo>,
}

/// One field of a side, as its system describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldInfo {
    pub name: String,
    pub label: String,
    /// `text`, `email`, `phone`, `number`, `currency`, `percent`, `date`, `date_time`, `bool`,
    /// `picklist`, `multi_picklist`, `reference` or `id`.
    pub field_type: String,
    pub required: bool,
    pub read_only: bool,
    /// Added by the customer rather than built into the system.
    pub custom: bool,
    /// A picklist's values, inactive ones included (and marked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldOption {
    pub value: String,
    pub label: String,
    pub active: bool,
}

/// The outcome of validating a mapping against the target's live field list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingValidation {
    pub valid: bool,
    pub errors: Vec<ConfigError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_documented_shape() {
        let config: MappingConfig = serde_json::from_value(json!({
            "object": "deal",
            "direction": "app_to_crm",
            "fields": [
                {"target": "dealname", "source": "name", "required": true},
                {"target": "description", "source": ["first_name", "last_name"],
                 "transforms": [{"kind": "join", "separator": " "}, {"kind": "case", "to": "title"}]},
                {"target": "pipeline", "transforms": [{"kind": "constant", "value": "default"}]},
                {"target": "closedate", "source": "close_date",
                 "transforms": [{"kind": "datetime", "from": "date", "to": "epoch_ms", "time_zone": "Europe/Berlin"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "hs_sku", "source": "product_number",
                     "transforms": [{"kind": "value_table", "table": "products"}]},
                    {"target": "price", "source": "unit_price", "transforms": [{"kind": "decimal", "scale": 2}]}
                ]}
            ],
            "value_tables": {"products": {"entries": [{"from": ["A-1", "A1"], "to": "SKU-1"}], "default": "SKU-0"}}
        }))
        .expect("valid config");
        assert_eq!(config.direction, Some(MappingDirection::AppToCrm));
        assert_eq!(config.email_rules, EmailRules::Strict);
        assert_eq!(
            config.fields[1].source,
            Some(Source::Fields(vec!["first_name".into(), "last_name".into()]))
        );
        assert_eq!(config.fields[2].source, None);
        assert_eq!(config.fields[4].items.len(), 2);
        let Transform::Datetime { from, to, .. } = &config.fields[3].transforms[0] else {
            panic!("datetime expected");
        };
        assert_eq!((from.as_str(), to.as_str()), ("date", "epoch_ms"));
        // Round trip keeps the content.
        let again: MappingConfig = serde_json::from_value(serde_json::to_value(&config).expect("json")).expect("back");
        assert_eq!(again, config);
    }

    #[test]
    fn rejects_typos_instead_of_ignoring_them() {
        let typo = json!({"object": "contact", "fields": [{"target": "email", "source": "email", "trasnforms": []}]});
        assert!(serde_json::from_value::<MappingConfig>(typo).is_err());
        let bad_option = json!({"kind": "decimal", "scael": 2});
        assert!(serde_json::from_value::<Transform>(bad_option).is_err());
        let bad_kind = json!({"kind": "uppercase"});
        assert!(serde_json::from_value::<Transform>(bad_kind).is_err());
    }

    #[test]
    fn transforms_have_the_documented_defaults() {
        let t: Transform = serde_json::from_value(json!({"kind": "datetime"})).expect("ok");
        assert_eq!(
            t,
            Transform::Datetime {
                from: "iso".into(),
                to: "iso".into(),
                time_zone: None,
                source_time_zone: None
            }
        );
        let p: Transform = serde_json::from_value(json!({"kind": "percent", "from": "fraction"})).expect("ok");
        assert_eq!(
            p,
            Transform::Percent {
                from: PercentForm::Fraction,
                to: PercentForm::Percent
            }
        );
        assert_eq!(
            serde_json::to_value(Transform::Trim).expect("json"),
            json!({"kind": "trim"})
        );
    }

    #[test]
    fn error_codes_are_snake_case() {
        assert_eq!(
            serde_json::to_value(FieldErrorCode::MissingRequired).expect("json"),
            json!("missing_required")
        );
        assert_eq!(
            serde_json::to_value(ConfigErrorCode::RequiredFieldUnmapped).expect("json"),
            json!("required_field_unmapped")
        );
    }
}
