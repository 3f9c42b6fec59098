//! Value tables: several source values to one target value, with an optional default.

use std::collections::HashMap;

use serde_json::Value;
use tandem_shared::api::mappings::{FieldErrorCode, ValueTable};

use super::{Fail, Outcome};
use crate::mapping::value::{scalar_text, show};

/// A value table ready for lookups.
#[derive(Clone, Debug)]
pub struct Table {
    name: String,
    entries: HashMap<String, String>,
    default: Option<String>,
    case_insensitive: bool,
}

impl Table {
    /// Source values are matched trimmed (and case-folded when the table says so). When a value
    /// appears in several entries the first wins; validation reports the conflict.
    pub fn new(name: &str, table: &ValueTable) -> Table {
        let mut entries = HashMap::new();
        for entry in &table.entries {
            for from in &entry.from {
                entries
                    .entry(key(from, table.case_insensitive))
                    .or_insert_with(|| entry.to.clone());
            }
        }
        Table {
            name: name.to_string(),
            entries,
            default: table.default.clone(),
            case_insensitive: table.case_insensitive,
        }
    }

    pub fn lookup(&self, value: &str) -> Option<&str> {
        self.entries
            .get(key(value, self.case_insensitive).as_str())
            .or(self.default.as_ref())
            .map(String::as_str)
    }

    /// Translates a scalar, or each element of a list (multi-select values).
    pub fn translate(&self, value: Value) -> Outcome {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| self.translate(item))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Null => Ok(Value::Null),
            scalar => {
                let text = scalar_text(&scalar).ok_or_else(|| {
                    Fail::new(
                        FieldErrorCode::UnexpectedType,
                        format!("{} cannot be looked up in a value table", show(&scalar)),
                    )
                })?;
                match self.lookup(&text) {
                    Some(to) => Ok(Value::String(to.to_string())),
                    None => Err(Fail::new(
                        FieldErrorCode::UnknownValue,
                        format!(
                            "{} is not in value table {:?}, which has no default",
                            show(&scalar),
                            self.name
                        ),
                    )),
                }
            }
        }
    }
}

fn key(value: &str, case_insensitive: bool) -> String {
    let trimmed = value.trim();
    if case_insensitive {
        trimmed.to_lowercase()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tandem_shared::api::mappings::ValueTableEntry;

    fn stages(default: Option<&str>, case_insensitive: bool) -> Table {
        let entry = |from: &[&str], to: &str| ValueTableEntry {
            from: from.iter().map(|s| s.to_string()).collect(),
            to: to.to_string(),
        };
        Table::new(
            "deal_stages",
            &ValueTable {
                entries: vec![
                    entry(
                        &["appointmentscheduled", "qualifiedtobuy", "presentationscheduled"],
                        "open",
                    ),
                    entry(&["closedwon"], "won"),
                    entry(&["closedlost", "closedwon"], "lost"),
                ],
                default: default.map(str::to_string),
                case_insensitive,
            },
        )
    }

    #[test]
    fn maps_many_to_one() {
        let table = stages(None, false);
        for stage in ["appointmentscheduled", "qualifiedtobuy", " presentationscheduled "] {
            assert_eq!(table.translate(json!(stage)).ok(), Some(json!("open")), "{stage}");
        }
        // The first entry wins for a value listed twice.
        assert_eq!(table.translate(json!("closedwon")).ok(), Some(json!("won")));
        assert_eq!(
            table.translate(json!(["closedlost", "qualifiedtobuy"])).ok(),
            Some(json!(["lost", "open"]))
        );
    }

    #[test]
    fn unknown_values_get_the_default_or_fail() {
        assert_eq!(
            stages(Some("open"), false).translate(json!("negotiation")).ok(),
            Some(json!("open"))
        );
        let fail = stages(None, false)
            .translate(json!("negotiation"))
            .expect_err("unknown");
        assert_eq!(fail.code, FieldErrorCode::UnknownValue);
        assert_eq!(
            fail.reason,
            "\"negotiation\" is not in value table \"deal_stages\", which has no default"
        );
    }

    #[test]
    fn case_sensitivity_is_the_tables_choice() {
        assert!(stages(None, false).translate(json!("ClosedWon")).is_err());
        assert_eq!(
            stages(None, true).translate(json!("ClosedWon")).ok(),
            Some(json!("won"))
        );
    }

    #[test]
    fn numbers_are_looked_up_as_text() {
        let table = Table::new(
            "products",
            &ValueTable {
                entries: vec![ValueTableEntry {
                    from: vec!["4711".into()],
                    to: "SKU-4711".into(),
                }],
                default: None,
                case_insensitive: false,
            },
        );
        assert_eq!(table.translate(json!(4711)).ok(), Some(json!("SKU-4711")));
        assert!(table.translate(json!({"id": 1})).is_err());
    }
}
