//! What HubSpot does on a write: validate every property against its definition, keep unique
//! values unique, stamp ids and times, record webhook events. And how records look on the wire.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::errors::{HsError, InvalidProperty};
use super::model::{Account, ChangeEvent, ObjectType, PropertyType, Record, parse_datetime, value_to_string};
use crate::clock::iso;

/// Input property values, validated and normalised: `None` clears a property.
type Changes = BTreeMap<String, Option<String>>;

impl Account {
    fn prepare(&self, object: ObjectType, input: &Map<String, Value>) -> Result<Changes, HsError> {
        let mut invalid = Vec::new();
        let mut changes = Changes::new();
        for (name, raw) in input {
            let Some(property) = self.property(object, name) else {
                invalid.push(InvalidProperty {
                    name: name.clone(),
                    code: "PROPERTY_DOESNT_EXIST",
                    message: format!("Property \"{name}\" does not exist"),
                });
                continue;
            };
            if property.modification_metadata.read_only_value {
                invalid.push(InvalidProperty {
                    name: name.clone(),
                    code: "READ_ONLY_VALUE",
                    message: format!("{name} is a read only property; its value cannot be set."),
                });
                continue;
            }
            let Some(value) = value_to_string(raw).filter(|v| !v.is_empty()) else {
                changes.insert(name.clone(), None);
                continue;
            };
            match normalise(object, property, &value) {
                Ok(normalised) => {
                    changes.insert(name.clone(), Some(normalised));
                }
                Err((code, message)) => invalid.push(InvalidProperty {
                    name: name.clone(),
                    code,
                    message,
                }),
            }
        }
        if invalid.is_empty() {
            Ok(changes)
        } else {
            Err(HsError::invalid_properties(invalid))
        }
    }

    /// A deal's stage must belong to its pipeline; a missing pipeline or stage gets the default.
    fn check_pipeline(&self, object: ObjectType, merged: &mut BTreeMap<String, String>) -> Result<(), HsError> {
        if object != ObjectType::Deals {
            return Ok(());
        }
        let pipeline_id = merged
            .entry("pipeline".into())
            .or_insert_with(|| "default".into())
            .clone();
        let Some(pipeline) = self.pipelines.iter().find(|p| p.id == pipeline_id) else {
            return Err(HsError::invalid_properties(vec![InvalidProperty {
                name: "pipeline".into(),
                code: "INVALID_OPTION",
                message: format!("{pipeline_id} is not a valid pipeline"),
            }]));
        };
        let first_stage = pipeline.stages.first().map(|s| s.id.clone()).unwrap_or_default();
        let stage = merged.entry("dealstage".into()).or_insert(first_stage).clone();
        if !pipeline.stages.iter().any(|s| s.id == stage) {
            return Err(HsError::invalid_properties(vec![InvalidProperty {
                name: "dealstage".into(),
                code: "INVALID_OPTION",
                message: format!("{stage} is not a valid deal stage of pipeline {pipeline_id}"),
            }]));
        }
        Ok(())
    }

    /// A record (other than `except`) that already has one of the unique values.
    fn check_unique(
        &self,
        object: ObjectType,
        values: &BTreeMap<String, String>,
        except: Option<u64>,
    ) -> Result<(), HsError> {
        for (name, value) in values {
            let unique = self.property(object, name).is_some_and(|p| p.has_unique_value);
            if !unique {
                continue;
            }
            let existing = self
                .find_unique(object, name, value)
                .filter(|id| Some(*id) != except)
                .and_then(|id| self.records(object).get(&id));
            if let Some(existing) = existing {
                let message = if object == ObjectType::Contacts && name == "email" {
                    format!("Contact already exists. Existing ID: {}", existing.id)
                } else {
                    format!(
                        "A {} with {name} {value} already exists. Existing ID: {}",
                        object.singular(),
                        existing.id
                    )
                };
                return Err(HsError::conflict(message));
            }
        }
        Ok(())
    }

    /// The properties a new record would get, checked but not written.
    pub fn validate_create(
        &self,
        object: ObjectType,
        input: &Map<String, Value>,
    ) -> Result<BTreeMap<String, String>, HsError> {
        let changes = self.prepare(object, input)?;
        let mut properties: BTreeMap<String, String> = changes
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect();
        self.check_pipeline(object, &mut properties)?;
        self.check_unique(object, &properties, None)?;
        Ok(properties)
    }

    pub fn create(&mut self, object: ObjectType, input: &Map<String, Value>) -> Result<Record, HsError> {
        let mut properties = self.validate_create(object, input)?;
        let now = self.clock.tick();
        let id = self.allocate_id();
        derive_amount(object, &mut properties);
        properties.insert("hs_object_id".into(), id.to_string());
        properties
            .entry(object.created_property().into())
            .or_insert_with(|| iso(now));
        properties.insert(object.modified_property().into(), iso(now));
        let record = Record {
            id,
            properties,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        self.put_record(object, record.clone());
        self.record_event(ChangeEvent {
            object,
            object_id: id,
            kind: "creation",
            property: None,
            occurred_at: now,
        });
        Ok(record)
    }

    /// The record as an update would leave it (before time stamps), checked but not written.
    pub fn validate_update(
        &self,
        object: ObjectType,
        id: u64,
        input: &Map<String, Value>,
    ) -> Result<(Record, BTreeMap<String, String>), HsError> {
        let changes = self.prepare(object, input)?;
        let existing = self
            .records(object)
            .get(&id)
            .filter(|r| r.archived_at.is_none())
            .cloned()
            .ok_or_else(|| HsError::not_found(&id.to_string()))?;
        let mut merged = existing.properties.clone();
        for (name, value) in &changes {
            match value {
                Some(value) => merged.insert(name.clone(), value.clone()),
                None => merged.remove(name),
            };
        }
        self.check_pipeline(object, &mut merged)?;
        self.check_unique(object, &merged, Some(id))?;
        derive_amount(object, &mut merged);
        Ok((existing, merged))
    }

    pub fn update(&mut self, object: ObjectType, id: u64, input: &Map<String, Value>) -> Result<Record, HsError> {
        let (existing, mut merged) = self.validate_update(object, id, input)?;
        let changed: Vec<(String, String)> = merged
            .iter()
            .filter(|(name, value)| existing.properties.get(*name) != Some(*value))
            .map(|(name, value)| (name.clone(), value.clone()))
            .chain(
                existing
                    .properties
                    .keys()
                    .filter(|k| !merged.contains_key(*k))
                    .map(|k| (k.clone(), String::new())),
            )
            .collect();
        if changed.is_empty() {
            return Ok(existing);
        }
        let now = self.clock.tick();
        merged.insert(object.modified_property().into(), iso(now));
        let record = Record {
            properties: merged,
            updated_at: now,
            ..existing
        };
        self.put_record(object, record.clone());
        for (name, value) in changed {
            self.record_event(ChangeEvent {
                object,
                object_id: id,
                kind: "propertyChange",
                property: Some((name, value)),
                occurred_at: now,
            });
        }
        Ok(record)
    }

    pub fn archive(&mut self, object: ObjectType, id: u64) -> bool {
        let now = self.clock.tick();
        if !self.archive_record(object, id, now) {
            return false;
        }
        self.associations
            .retain(|a| a.from != (object, id) && a.to != (object, id));
        self.record_event(ChangeEvent {
            object,
            object_id: id,
            kind: "deletion",
            property: None,
            occurred_at: now,
        });
        true
    }

    /// The id of the live record that `key` names: the record id itself, or the value of a
    /// unique property (`idProperty`).
    pub fn resolve(&self, object: ObjectType, key: &str, id_property: Option<&str>) -> Result<Option<u64>, HsError> {
        match id_property.filter(|p| *p != "hs_object_id") {
            None => Ok(key
                .parse::<u64>()
                .ok()
                .filter(|id| self.records(object).get(id).is_some_and(|r| r.archived_at.is_none()))),
            Some(property) => {
                let unique = self.property(object, property).is_some_and(|p| p.has_unique_value);
                if !unique {
                    return Err(HsError::bad_request(format!(
                        "{property} is not a unique identifier property for {}; idProperty must have hasUniqueValue",
                        object.name()
                    )));
                }
                Ok(self.find_unique(object, property, key))
            }
        }
    }
}

/// A line item's amount is quantity × price less its discount, unless given.
fn derive_amount(object: ObjectType, properties: &mut BTreeMap<String, String>) {
    if object != ObjectType::LineItems {
        return;
    }
    let number = |name: &str| properties.get(name).and_then(|v| v.parse::<f64>().ok());
    if let (Some(quantity), Some(price)) = (number("quantity"), number("price")) {
        let discount_percent = number("hs_discount_percentage").unwrap_or(0.0);
        let discount = number("discount").unwrap_or(0.0);
        let amount = quantity * price * (1.0 - discount_percent / 100.0) - discount;
        properties.insert("amount".into(), format!("{:.2}", amount));
    }
}

fn normalise(
    object: ObjectType,
    property: &super::model::Property,
    value: &str,
) -> Result<String, (&'static str, String)> {
    match property.property_type {
        PropertyType::Number => match value.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(value.trim().to_string()),
            _ => Err(("INVALID_DECIMAL", format!("{value} was not a valid number."))),
        },
        PropertyType::Bool => match value.trim().to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => Ok(v.to_string()),
            _ => Err((
                "INVALID_BOOLEAN",
                format!("{value} was not a valid boolean (true or false)."),
            )),
        },
        PropertyType::Date => match parse_datetime(value) {
            Some(time) if time.timestamp_millis() % 86_400_000 == 0 => Ok(time.format("%Y-%m-%d").to_string()),
            Some(_) => Err((
                "INVALID_DATE",
                format!("{value} is not at midnight UTC, as date values must be."),
            )),
            None => Err(("INVALID_DATE", format!("{value} was not a valid date."))),
        },
        PropertyType::Datetime => parse_datetime(value).map(iso).ok_or((
            "INVALID_DATE",
            format!("{value} was not a valid date-time (epoch milliseconds or ISO-8601)."),
        )),
        PropertyType::Enumeration => {
            let allowed = |v: &str| property.options.iter().any(|o| o.value == v);
            let multi = property.field_type == "checkbox";
            let ok = if multi {
                value.split(';').all(allowed)
            } else {
                allowed(value)
            };
            if ok {
                Ok(value.to_string())
            } else {
                let options: Vec<String> = property
                    .options
                    .iter()
                    .map(|o| format!("[label: \"{}\" value: \"{}\"]", o.label, o.value))
                    .collect();
                Err((
                    "INVALID_OPTION",
                    format!("{value} was not one of the allowed options: {}", options.join(", ")),
                ))
            }
        }
        PropertyType::String => {
            if object == ObjectType::Contacts && property.name == "email" && !is_valid_email(value) {
                return Err(("INVALID_EMAIL", format!("Email address {value} is invalid")));
            }
            Ok(value.to_string())
        }
    }
}

/// HubSpot's email check, approximately: one `@`, a local part, and a domain with a dot.
pub fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
}

/// A record as the API returns it. `requested` names the properties to include (plus the id and
/// time stamps HubSpot always adds); `None` means the object's defaults.
pub fn record_json(object: ObjectType, record: &Record, requested: Option<&[String]>, account: &Account) -> Value {
    let mut properties = Map::new();
    let mut include = |name: &str| {
        let known = account.property(object, name).is_some() || name == "hs_object_id";
        if known && !properties.contains_key(name) {
            properties.insert(
                name.to_string(),
                record
                    .properties
                    .get(name)
                    .map_or(Value::Null, |v| Value::String(v.clone())),
            );
        }
    };
    match requested {
        None => object.default_properties().iter().for_each(|name| include(name)),
        Some(names) => {
            names.iter().for_each(|name| include(name));
            for always in ["hs_object_id", object.created_property(), object.modified_property()] {
                include(always);
            }
        }
    }
    let mut json = json!({
        "id": record.id.to_string(),
        "properties": properties,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "archived": record.archived_at.is_some(),
    });
    if let Some(archived_at) = record.archived_at {
        json["archivedAt"] = Value::String(iso(archived_at));
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::seed;

    fn account() -> Account {
        let mut account = Account::empty("test");
        seed::define_schema(&mut account);
        account
    }

    fn props(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn creates_with_ids_and_times_and_validates_each_property() {
        let mut account = account();
        let contact = account
            .create(
                ObjectType::Contacts,
                &props(&[("email", json!("ada@example.com")), ("firstname", json!("Ada"))]),
            )
            .expect("create");
        assert_eq!(contact.properties["hs_object_id"], contact.id.to_string());
        assert!(contact.properties.contains_key("lastmodifieddate") && contact.properties.contains_key("createdate"));

        let err = account
            .create(
                ObjectType::Contacts,
                &props(&[
                    ("email", json!("not-an-email")),
                    ("favorite_color", json!("red")),
                    ("customer_tier", json!("platinum")),
                ]),
            )
            .expect_err("invalid");
        assert_eq!((err.status, err.category), (400, "VALIDATION_ERROR"));
        assert!(
            err.message.starts_with("Property values were not valid: ["),
            "{}",
            err.message
        );
        let codes: Vec<&str> = err.errors.iter().map(|e| e["code"].as_str().unwrap()).collect();
        assert_eq!(
            codes,
            ["INVALID_OPTION", "INVALID_EMAIL", "PROPERTY_DOESNT_EXIST"],
            "in property name order"
        );
        assert_eq!(account.records(ObjectType::Contacts).len(), 1, "nothing was created");
    }

    #[test]
    fn unique_emails_and_deal_stages_are_enforced() {
        let mut account = account();
        let first = account
            .create(ObjectType::Contacts, &props(&[("email", json!("a@example.com"))]))
            .expect("create");
        let err = account
            .create(ObjectType::Contacts, &props(&[("email", json!("A@Example.com"))]))
            .expect_err("dup");
        assert_eq!(err.status, 409);
        assert_eq!(
            err.message,
            format!("Contact already exists. Existing ID: {}", first.id)
        );

        let deal = account
            .create(ObjectType::Deals, &props(&[("dealname", json!("Big one"))]))
            .expect("deal");
        assert_eq!(deal.properties["pipeline"], "default");
        assert_eq!(deal.properties["dealstage"], "appointmentscheduled");
        let err = account
            .update(ObjectType::Deals, deal.id, &props(&[("dealstage", json!("nope"))]))
            .expect_err("stage");
        assert!(err.message.contains("dealstage") || err.errors[0]["context"]["propertyName"][0] == "dealstage");
    }

    #[test]
    fn updates_record_changes_and_archive_hides() {
        let mut account = account();
        let contact = account
            .create(ObjectType::Contacts, &props(&[("email", json!("b@example.com"))]))
            .expect("create");
        account.events.clear();
        let same = account
            .update(
                ObjectType::Contacts,
                contact.id,
                &props(&[("email", json!("b@example.com"))]),
            )
            .expect("noop");
        assert_eq!(same.updated_at, contact.updated_at, "no change, no new timestamp");
        assert!(account.events.is_empty());
        account
            .update(ObjectType::Contacts, contact.id, &props(&[("firstname", json!("Bea"))]))
            .expect("update");
        assert_eq!(account.events.len(), 1);
        assert_eq!(account.events[0].property, Some(("firstname".into(), "Bea".into())));
        assert!(account.archive(ObjectType::Contacts, contact.id));
        assert_eq!(
            account
                .resolve(ObjectType::Contacts, &contact.id.to_string(), None)
                .expect("ok"),
            None
        );
        assert_eq!(
            account
                .resolve(ObjectType::Contacts, "b@example.com", Some("email"))
                .expect("ok"),
            None
        );
        assert!(
            account.resolve(ObjectType::Contacts, "x", Some("firstname")).is_err(),
            "not a unique property"
        );
    }

    #[test]
    fn values_are_normalised_by_type() {
        let mut account = account();
        let deal = account
            .create(
                ObjectType::Deals,
                &props(&[
                    ("dealname", json!("D")),
                    ("amount", json!(1500.5)),
                    ("closedate", json!("1714521600000")),
                ]),
            )
            .expect("deal");
        assert_eq!(deal.properties["amount"], "1500.5");
        assert_eq!(deal.properties["closedate"], "2024-05-01T00:00:00.000Z");
        let err = account
            .create(ObjectType::Deals, &props(&[("amount", json!("lots"))]))
            .expect_err("number");
        assert_eq!(err.errors[0]["code"], "INVALID_DECIMAL");
        let item = account
            .create(
                ObjectType::LineItems,
                &props(&[
                    ("quantity", json!(3)),
                    ("price", json!("10")),
                    ("hs_discount_percentage", json!(10)),
                ]),
            )
            .expect("line item");
        assert_eq!(item.properties["amount"], "27.00");
    }
}
