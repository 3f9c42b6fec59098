//! Checks a value against what the target field takes (from the CRM's live metadata), so a value
//! the CRM would reject fails here, with the field named, before any call.

use std::collections::HashSet;

use serde_json::Value;
use tandem_shared::api::mappings::{EmailRules, FieldErrorCode};

use super::transforms::{Fail, Outcome, check_email, is_date_text, is_datetime_text, is_decimal_text};
use super::value::{number_to_decimal, show};
use crate::connectors::{FieldMeta, FieldType};

/// What one target field accepts.
#[derive(Clone, Debug)]
pub struct Guard {
    /// The field's label, for messages.
    label: String,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Email(EmailRules),
    Picklist { options: HashSet<String>, listed: String },
    MultiPicklist { options: HashSet<String>, listed: String },
    Number,
    Bool,
    Date,
    DateTime,
}

impl Guard {
    /// The check for `field`, if its type has one. Picklists without options (unknown) and text,
    /// phone, reference and id fields take anything.
    pub fn for_field(field: &FieldMeta, email_rules: EmailRules) -> Option<Guard> {
        let options = || {
            let active: Vec<&str> = field
                .options
                .iter()
                .filter(|o| o.active)
                .map(|o| o.value.as_str())
                .collect();
            let mut listed = active.iter().take(8).copied().collect::<Vec<_>>().join(", ");
            if active.len() > 8 {
                listed.push_str(", …");
            }
            (active.into_iter().map(str::to_string).collect(), listed)
        };
        let kind = match field.field_type {
            FieldType::Email => Kind::Email(email_rules),
            FieldType::Picklist | FieldType::MultiPicklist if field.options.is_empty() => return None,
            FieldType::Picklist => {
                let (options, listed) = options();
                Kind::Picklist { options, listed }
            }
            FieldType::MultiPicklist => {
                let (options, listed) = options();
                Kind::MultiPicklist { options, listed }
            }
            FieldType::Number | FieldType::Currency | FieldType::Percent => Kind::Number,
            FieldType::Bool => Kind::Bool,
            FieldType::Date => Kind::Date,
            FieldType::DateTime => Kind::DateTime,
            FieldType::Text | FieldType::Phone | FieldType::Reference | FieldType::Id => return None,
        };
        Some(Guard {
            label: field.label.clone(),
            kind,
        })
    }

    /// The value as the field takes it (an email trimmed, a multi-select list joined with `;`),
    /// or why the field would reject it.
    pub fn check(&self, value: Value) -> Outcome {
        match &self.kind {
            Kind::Email(rules) => self.email(value, *rules),
            Kind::Picklist { options, listed } => self.option(value, options, listed),
            Kind::MultiPicklist { options, listed } => self.options(value, options, listed),
            Kind::Number => self.number(value),
            Kind::Bool => self.boolean(value),
            Kind::Date => self.date(value, is_date_text, "a date like 2024-05-01"),
            Kind::DateTime => self.date(value, is_datetime_text, "a date and time like 2024-05-01T10:00:00Z"),
        }
    }

    fn email(&self, value: Value, rules: EmailRules) -> Outcome {
        let checked = value
            .as_str()
            .ok_or_else(|| "it is not text".to_string())
            .and_then(|s| check_email(s.trim(), rules).map(|()| s.trim().to_string()));
        checked.map(Value::String).map_err(|why| {
            Fail::new(
                FieldErrorCode::InvalidEmail,
                format!(
                    "{} is not a valid email address for {}: {why}",
                    show(&value),
                    self.label
                ),
            )
        })
    }

    fn option(&self, value: Value, options: &HashSet<String>, listed: &str) -> Outcome {
        match value.as_str() {
            Some(s) if options.contains(s) => Ok(value),
            _ => Err(self.not_an_option(&value, listed)),
        }
    }

    fn options(&self, value: Value, options: &HashSet<String>, listed: &str) -> Outcome {
        let values: Vec<String> = match &value {
            Value::String(s) => s.split(';').map(|v| v.trim().to_string()).collect(),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => return Err(self.not_an_option(&value, listed)),
        };
        if let Some(bad) = values.iter().find(|v| !options.contains(v.as_str())) {
            return Err(self.not_an_option(&Value::String(bad.clone()), listed));
        }
        Ok(Value::String(values.join(";")))
    }

    fn not_an_option(&self, value: &Value, listed: &str) -> Fail {
        Fail::new(
            FieldErrorCode::UnknownValue,
            format!("{} is not an option of {} ({listed})", show(value), self.label),
        )
    }

    fn number(&self, value: Value) -> Outcome {
        let ok = match &value {
            Value::Number(_) => true,
            Value::String(s) => is_decimal_text(s),
            _ => false,
        };
        if ok {
            Ok(value)
        } else {
            Err(Fail::new(
                FieldErrorCode::NotANumber,
                format!("{} is not a number, which {} needs", show(&value), self.label),
            ))
        }
    }

    fn boolean(&self, value: Value) -> Outcome {
        match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => Ok(value),
            _ => Err(Fail::new(
                FieldErrorCode::NotABool,
                format!("{} is not true or false, which {} needs", show(&value), self.label),
            )),
        }
    }

    fn date(&self, value: Value, valid_text: fn(&str) -> bool, expected: &str) -> Outcome {
        let ok = match &value {
            // Milliseconds since 1970, as HubSpot takes them.
            Value::Number(n) => number_to_decimal(n).is_some_and(|d| d.fract().is_zero()),
            Value::String(s) => valid_text(s.trim()),
            _ => false,
        };
        if ok {
            Ok(value)
        } else {
            Err(Fail::new(
                FieldErrorCode::InvalidDate,
                format!("{} is not {expected}, which {} needs", show(&value), self.label),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::PicklistOption;
    use serde_json::json;

    fn field(name: &str, field_type: FieldType, options: &[(&str, bool)]) -> FieldMeta {
        FieldMeta {
            name: name.to_string(),
            label: name.to_string(),
            field_type,
            required: false,
            read_only: false,
            unique: false,
            custom: false,
            options: options
                .iter()
                .map(|(value, active)| PicklistOption {
                    value: value.to_string(),
                    label: value.to_string(),
                    active: *active,
                })
                .collect(),
        }
    }

    fn guard(field_type: FieldType, options: &[(&str, bool)]) -> Guard {
        Guard::for_field(&field("f", field_type, options), EmailRules::Hubspot).expect("guarded")
    }

    #[test]
    fn picklists_take_active_options_only() {
        let g = guard(
            FieldType::Picklist,
            &[("lead", true), ("customer", true), ("old", false)],
        );
        assert_eq!(g.check(json!("lead")).ok(), Some(json!("lead")));
        let fail = g.check(json!("old")).expect_err("inactive");
        assert_eq!(fail.code, FieldErrorCode::UnknownValue);
        assert_eq!(fail.reason, "\"old\" is not an option of f (lead, customer)");
        assert!(g.check(json!("Lead")).is_err());
    }

    #[test]
    fn multi_picklists_check_every_value_and_join_them() {
        let g = guard(FieldType::MultiPicklist, &[("a", true), ("b", true)]);
        assert_eq!(g.check(json!(["a", "b"])).ok(), Some(json!("a;b")));
        assert_eq!(g.check(json!("a; b")).ok(), Some(json!("a;b")));
        assert!(g.check(json!("a;c")).expect_err("c").reason.starts_with("\"c\""));
    }

    #[test]
    fn scalar_types() {
        let number = guard(FieldType::Currency, &[]);
        assert!(number.check(json!("19.99")).is_ok() && number.check(json!(3)).is_ok());
        assert_eq!(
            number.check(json!("19,99")).expect_err("nan").code,
            FieldErrorCode::NotANumber
        );
        let boolean = guard(FieldType::Bool, &[]);
        assert!(boolean.check(json!(true)).is_ok() && boolean.check(json!("FALSE")).is_ok());
        assert_eq!(
            boolean.check(json!("yes")).expect_err("bool").code,
            FieldErrorCode::NotABool
        );
        let date = guard(FieldType::Date, &[]);
        assert!(date.check(json!("2024-05-01")).is_ok() && date.check(json!(1_714_521_600_000_i64)).is_ok());
        assert_eq!(
            date.check(json!("01.05.2024")).expect_err("date").code,
            FieldErrorCode::InvalidDate
        );
        let datetime = guard(FieldType::DateTime, &[]);
        assert!(datetime.check(json!("2024-05-01T10:00:00.000+0000")).is_ok());
        assert!(datetime.check(json!("2024-05-01")).is_err());
    }

    #[test]
    fn emails_for_the_target_crm() {
        let g = guard(FieldType::Email, &[]);
        assert_eq!(g.check(json!(" a@b.de ")).ok(), Some(json!("a@b.de")));
        let fail = g.check(json!("a@localhost")).expect_err("no dot");
        assert_eq!(fail.code, FieldErrorCode::InvalidEmail);
        assert!(fail.reason.contains("the domain needs a dot"), "{}", fail.reason);
    }

    #[test]
    fn unguarded_types() {
        for t in [FieldType::Text, FieldType::Phone, FieldType::Reference, FieldType::Id] {
            assert!(Guard::for_field(&field("f", t, &[]), EmailRules::Strict).is_none());
        }
        assert!(Guard::for_field(&field("f", FieldType::Picklist, &[]), EmailRules::Strict).is_none());
    }
}
