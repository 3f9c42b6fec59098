//! Transforms, compiled once per mapping ([`Step`]) and run per value.
//!
//! Each transform lives in the module of its concern; this one turns the configuration into steps
//! (resolving time zones, regions, formats and value tables once, not per record) and dispatches.

mod currency;
mod datetime;
mod email;
mod number;
mod phone;
mod table;
mod text;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tandem_shared::api::mappings::{
    ConfigErrorCode, EmailRules, FieldErrorCode, LetterCase, MappingConfig, NamePart, PercentForm, Transform,
};

pub use datetime::{TimeFormat, is_date_text, is_datetime_text, time_zone};
pub use email::check as check_email;
pub use number::{MAX_SCALE, is_decimal_text};
pub use table::Table;

/// Why a value could not be transformed: a stable code and a reason that names the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fail {
    pub code: FieldErrorCode,
    pub reason: String,
}

impl Fail {
    pub fn new(code: FieldErrorCode, reason: impl Into<String>) -> Fail {
        Fail {
            code,
            reason: reason.into(),
        }
    }
}

pub type Outcome = Result<Value, Fail>;

/// Why a transform's settings are unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupError {
    pub code: ConfigErrorCode,
    pub reason: String,
}

impl SetupError {
    fn new(code: ConfigErrorCode, reason: impl Into<String>) -> SetupError {
        SetupError {
            code,
            reason: reason.into(),
        }
    }
}

/// Value tables by name, compiled.
pub type Tables = BTreeMap<String, Arc<Table>>;

pub fn compile_tables(config: &MappingConfig) -> Tables {
    config
        .value_tables
        .iter()
        .map(|(name, table)| (name.clone(), Arc::new(Table::new(name, table))))
        .collect()
}

/// One transform, ready to run.
#[derive(Clone, Debug)]
pub enum Step {
    Constant(Value),
    Default(Value),
    Trim,
    Case(LetterCase),
    Truncate(usize),
    SplitName(NamePart),
    Join(String),
    Coalesce,
    Email(EmailRules),
    Phone(Option<phonenumber::country::Id>),
    Datetime(Box<datetime::DatetimeStep>),
    Decimal { scale: Option<u32>, decimal_comma: bool },
    Number,
    Currency,
    Percent { from: PercentForm, to: PercentForm },
    Multiply { scale: Option<u32> },
    Bool,
    ValueTable(Arc<Table>),
}

impl Step {
    pub fn compile(transform: &Transform, config: &MappingConfig, tables: &Tables) -> Result<Step, SetupError> {
        Ok(match transform {
            Transform::Constant { value } => Step::Constant(value.clone()),
            Transform::Default { value } => Step::Default(value.clone()),
            Transform::Trim => Step::Trim,
            Transform::Case { to } => Step::Case(*to),
            Transform::Truncate { max_chars: 0 } => {
                return Err(SetupError::new(
                    ConfigErrorCode::InvalidTransform,
                    "truncate needs max_chars of at least 1",
                ));
            }
            Transform::Truncate { max_chars } => Step::Truncate(*max_chars),
            Transform::SplitName { part } => Step::SplitName(*part),
            Transform::Join { separator } => Step::Join(separator.clone()),
            Transform::Coalesce => Step::Coalesce,
            Transform::Email { rules } => Step::Email(rules.unwrap_or(config.email_rules)),
            Transform::PhoneE164 { default_region } => Step::Phone(compile_region(default_region.as_deref())?),
            Transform::Datetime {
                from,
                to,
                time_zone,
                source_time_zone,
            } => Step::Datetime(Box::new(compile_datetime(
                from,
                to,
                time_zone.as_deref(),
                source_time_zone.as_deref(),
            )?)),
            Transform::Decimal { scale, decimal_comma } => Step::Decimal {
                scale: compile_scale(*scale)?,
                decimal_comma: *decimal_comma,
            },
            Transform::Number => Step::Number,
            Transform::Currency => Step::Currency,
            Transform::Percent { from, to } => Step::Percent { from: *from, to: *to },
            Transform::Multiply { scale } => Step::Multiply {
                scale: compile_scale(*scale)?,
            },
            Transform::Bool => Step::Bool,
            Transform::ValueTable { table } => Step::ValueTable(tables.get(table).cloned().ok_or_else(|| {
                SetupError::new(
                    ConfigErrorCode::UnknownValueTable,
                    format!("there is no value table {table:?}"),
                )
            })?),
        })
    }

    /// Runs the step. Empty values pass through all but `constant`, `default` and the steps that
    /// combine several source values.
    pub fn run(&self, value: Value) -> Outcome {
        match self {
            Step::Constant(constant) => return Ok(constant.clone()),
            Step::Default(default) if crate::mapping::value::is_empty(&value) => return Ok(default.clone()),
            Step::Join(separator) => return text::join(value, separator),
            Step::Coalesce => return text::coalesce(value),
            Step::Multiply { scale } => return number::multiply(value, *scale),
            _ if crate::mapping::value::is_empty(&value) => return Ok(value),
            _ => {}
        }
        match self {
            Step::Trim => text::trim(value),
            Step::Case(to) => text::change_case(value, *to),
            Step::Truncate(max_chars) => text::truncate(value, *max_chars),
            Step::SplitName(part) => text::split_name(value, *part),
            Step::Email(rules) => email::email(value, *rules),
            Step::Phone(region) => phone::phone_e164(value, *region),
            Step::Datetime(step) => step.run(value),
            Step::Decimal { scale, decimal_comma } => number::decimal(value, *scale, *decimal_comma),
            Step::Number => number::number(value),
            Step::Currency => currency::currency(value),
            Step::Percent { from, to } => number::percent(value, *from, *to),
            Step::Bool => number::boolean(value),
            Step::ValueTable(table) => table.translate(value),
            Step::Default(_) | Step::Constant(_) | Step::Join(_) | Step::Coalesce | Step::Multiply { .. } => Ok(value),
        }
    }
}

fn compile_region(code: Option<&str>) -> Result<Option<phonenumber::country::Id>, SetupError> {
    code.map(|code| {
        phone::region(code).ok_or_else(|| {
            SetupError::new(
                ConfigErrorCode::InvalidRegion,
                format!("{code:?} is not a region code (use ISO 3166-1 alpha-2 like DE)"),
            )
        })
    })
    .transpose()
}

fn compile_scale(scale: Option<u32>) -> Result<Option<u32>, SetupError> {
    match scale {
        Some(scale) if scale > MAX_SCALE => Err(SetupError::new(
            ConfigErrorCode::InvalidScale,
            format!("scale {scale} is above the maximum of {MAX_SCALE}"),
        )),
        other => Ok(other),
    }
}

fn compile_datetime(
    from: &str,
    to: &str,
    zone: Option<&str>,
    source_zone: Option<&str>,
) -> Result<datetime::DatetimeStep, SetupError> {
    let format =
        |spec: &str| TimeFormat::parse(spec).map_err(|e| SetupError::new(ConfigErrorCode::InvalidDateFormat, e));
    let zone_named = |name: &str| time_zone(name).map_err(|e| SetupError::new(ConfigErrorCode::InvalidTimeZone, e));
    let zone = zone.map(zone_named).transpose()?.unwrap_or(chrono_tz::UTC);
    let source_zone = source_zone.map(zone_named).transpose()?.unwrap_or(zone);
    Ok(datetime::DatetimeStep {
        from: format(from)?,
        to: format(to)?,
        zone,
        source_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> MappingConfig {
        serde_json::from_value(json!({
            "object": "deal", "fields": [], "email_rules": "hubspot",
            "value_tables": {"stages": {"entries": [{"from": ["a"], "to": "A"}]}}
        }))
        .expect("config")
    }

    fn compile(transform: Value) -> Result<Step, SetupError> {
        let config = config();
        let transform: Transform = serde_json::from_value(transform).expect("transform");
        Step::compile(&transform, &config, &compile_tables(&config))
    }

    #[test]
    fn rejects_unusable_settings_with_a_code() {
        let cases = [
            (
                json!({"kind": "truncate", "max_chars": 0}),
                ConfigErrorCode::InvalidTransform,
            ),
            (
                json!({"kind": "phone_e164", "default_region": "Germany"}),
                ConfigErrorCode::InvalidRegion,
            ),
            (
                json!({"kind": "datetime", "time_zone": "Berlin"}),
                ConfigErrorCode::InvalidTimeZone,
            ),
            (
                json!({"kind": "datetime", "source_time_zone": "CEST"}),
                ConfigErrorCode::InvalidTimeZone,
            ),
            (
                json!({"kind": "datetime", "to": "%Q"}),
                ConfigErrorCode::InvalidDateFormat,
            ),
            (json!({"kind": "decimal", "scale": 29}), ConfigErrorCode::InvalidScale),
            (json!({"kind": "multiply", "scale": 40}), ConfigErrorCode::InvalidScale),
            (
                json!({"kind": "value_table", "table": "stage"}),
                ConfigErrorCode::UnknownValueTable,
            ),
        ];
        for (transform, code) in cases {
            assert_eq!(
                compile(transform.clone()).expect_err("invalid").code,
                code,
                "{transform}"
            );
        }
    }

    #[test]
    fn email_steps_inherit_the_mappings_rules() {
        let step = compile(json!({"kind": "email"})).expect("step");
        assert!(matches!(step, Step::Email(EmailRules::Hubspot)));
        let step = compile(json!({"kind": "email", "rules": "salesforce"})).expect("step");
        assert!(matches!(step, Step::Email(EmailRules::Salesforce)));
    }

    #[test]
    fn empty_values_pass_through_most_steps() {
        let steps = [
            json!({"kind": "trim"}),
            json!({"kind": "email"}),
            json!({"kind": "phone_e164", "default_region": "DE"}),
            json!({"kind": "datetime"}),
            json!({"kind": "decimal"}),
            json!({"kind": "currency"}),
            json!({"kind": "percent"}),
            json!({"kind": "bool"}),
            json!({"kind": "value_table", "table": "stages"}),
        ];
        for transform in steps {
            let step = compile(transform.clone()).expect("step");
            assert_eq!(step.run(Value::Null).ok(), Some(Value::Null), "{transform}");
            assert_eq!(step.run(json!("")).ok(), Some(json!("")), "{transform}");
        }
    }

    #[test]
    fn constants_and_defaults() {
        let constant = compile(json!({"kind": "constant", "value": "default"})).expect("step");
        assert_eq!(constant.run(json!("anything")).ok(), Some(json!("default")));
        assert_eq!(constant.run(Value::Null).ok(), Some(json!("default")));
        let default = compile(json!({"kind": "default", "value": 0})).expect("step");
        assert_eq!(default.run(Value::Null).ok(), Some(json!(0)));
        assert_eq!(default.run(json!(" ")).ok(), Some(json!(0)));
        assert_eq!(default.run(json!(5)).ok(), Some(json!(5)));
    }
}
