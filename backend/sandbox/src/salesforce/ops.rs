//! What Salesforce does on a write: parse the JSON body against the object's fields (unknown
//! fields and values of the wrong type fail the whole request), then check and save each record
//! the way the org would (read-only fields, required fields, e-mail format, restricted picklists,
//! lookups, unique values), derive the fields Salesforce computes (names, stage flags, line item
//! totals and the opportunity amount they roll up to, event durations), stamp the audit fields,
//! and soft-delete with cascades. Writes go through a [`Tx`] so that an all-or-none
//! Collections request can take them back.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

use super::errors::SfError;
use super::ids::parse_id;
use super::model::{Lookup, Org, Record, Val, parser_type_name};
use super::schema::{FieldDef, FieldType, SObject, STAGES, cascades};

/// Field values from a request body, by field index; `None` clears the field.
pub type Changes = Vec<(u16, Option<Val>)>;

/// The writes of one request, newest last, with what each replaced.
#[derive(Debug, Default)]
pub struct Tx {
    undo: Vec<(SObject, u64, Option<Record>)>,
}

fn json_token(raw: &Value) -> &'static str {
    match raw {
        Value::String(_) => "VALUE_STRING",
        Value::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Value::Number(_) => "VALUE_NUMBER_INT",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::Null => "VALUE_NULL",
    }
}

fn cannot_deserialize(field: &FieldDef, raw: &Value) -> SfError {
    let shown = match raw {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    SfError::json_parser(format!(
        "Cannot deserialize instance of {} from {} value {shown} or request may be missing a required field",
        parser_type_name(field.ftype),
        json_token(raw)
    ))
}

/// Times as Salesforce accepts them: ISO-8601 with `Z`, `+01:00` or `+0100`, or none (UTC).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(Utc.from_utc_datetime(&time));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().or_else(|| {
        text.contains('T')
            .then(|| parse_datetime(text))
            .flatten()
            .map(|t| t.date_naive())
    })
}

/// A JSON value as the field's type, or the parser error Salesforce gives.
pub fn convert(field: &FieldDef, raw: &Value) -> Result<Option<Val>, SfError> {
    if raw.is_null() {
        return Ok(None);
    }
    let bad = || cannot_deserialize(field, raw);
    let value = match field.ftype {
        t if t.is_text() || t.is_id() => {
            let text = match raw {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad()),
            };
            // Salesforce stores an empty string as null.
            (!text.is_empty()).then_some(Val::Str(text))
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Int => {
            let number = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) if s.trim().is_empty() => return Ok(None),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or_else(bad)?;
            if field.ftype == FieldType::Int {
                if number.fract() != 0.0 {
                    return Err(bad());
                }
                Some(Val::Int(number as i64))
            } else {
                Some(Val::Num(number))
            }
        }
        FieldType::Boolean => match raw {
            Value::Bool(b) => Some(Val::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Val::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Val::Bool(false)),
            _ => return Err(bad()),
        },
        FieldType::Date => match raw {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(Val::Date(parse_date(s).ok_or_else(bad)?)),
            _ => return Err(bad()),
        },
        FieldType::DateTime => match raw {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(Val::DateTime(parse_datetime(s).ok_or_else(bad)?)),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    Ok(value)
}

/// The body's fields, checked against the object. `skip` names keys the caller handles itself
/// (`Id` of an update, say); `attributes` is always skipped.
pub fn parse_fields(object: SObject, input: &Map<String, Value>, skip: &[&str]) -> Result<Changes, SfError> {
    let def = object.def();
    let mut changes = Changes::new();
    for (name, raw) in input {
        if name == "attributes" || skip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        let (index, field) = def.field(name).ok_or_else(|| {
            SfError::new(
                400,
                "INVALID_FIELD",
                format!("No such column '{name}' on sobject of type {}", object.name()),
            )
        })?;
        changes.push((index, convert(field, raw)?));
    }
    Ok(changes)
}

/// Salesforce's e-mail check, approximately: a local part, `@`, a domain with a dot, no spaces.
pub fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    !local.is_empty()
        && local.chars().all(allowed)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn round2(n: f64) -> f64 {
    (n * 100.0).round() / 100.0
}

fn field_names(def: &'static [FieldDef], indexes: &[u16]) -> Vec<&'static str> {
    indexes
        .iter()
        .filter_map(|i| def.get(*i as usize))
        .map(|f| f.name)
        .collect()
}

/// Which upsert key matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyMatch {
    None,
    One(u64),
    Many(Vec<u64>),
}

impl Org {
    fn save(&mut self, tx: &mut Tx, object: SObject, record: Record) {
        let seq = record.seq;
        let old = self.table_mut(object).put(record);
        tx.undo.push((object, seq, old));
    }

    /// Undoes every write of the transaction, newest first.
    pub fn rollback(&mut self, tx: Tx) {
        for (object, seq, old) in tx.undo.into_iter().rev() {
            match old {
                Some(record) => {
                    self.table_mut(object).put(record);
                }
                None => {
                    self.table_mut(object).remove(seq);
                }
            }
        }
    }

    /// Live records whose External ID (or other indexed) field has this value.
    pub fn match_key(&self, object: SObject, field: u16, value: &str) -> KeyMatch {
        let mut found = self.table(object).find(field, value);
        match found.len() {
            0 => KeyMatch::None,
            1 => KeyMatch::One(found.remove(0)),
            _ => KeyMatch::Many(found),
        }
    }

    fn standard_pricebook(&self) -> Option<u64> {
        let def = SObject::Pricebook2.def();
        let standard = def.idx("IsStandard");
        self.table(SObject::Pricebook2)
            .live()
            .find(|r| r.get(standard) == Some(&Val::Bool(true)))
            .map(|r| r.seq)
    }

    /// A live record a field points at.
    fn target(&self, record: &Record, field: u16) -> Option<(SObject, &Record)> {
        let (object, seq) = self.locate(record.str(field)?)?;
        self.record(object, seq)
            .filter(|r| !r.is_deleted())
            .map(|r| (object, r))
    }

    pub fn insert(&mut self, tx: &mut Tx, object: SObject, changes: &Changes, user: &str) -> Result<u64, SfError> {
        let def = object.def();
        if !def.createable {
            return Err(SfError::dml(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be inserted: {}", def.label),
                &[],
            ));
        }
        check_access(object, changes, true)?;
        let mut record = Record::new(0);
        for (index, field) in def.fields.iter().enumerate() {
            if matches!(field.name, "Id" | "IsDeleted") {
                continue;
            }
            let default = match (field.ftype, field.default_value) {
                (FieldType::Boolean, default) => Some(Val::Bool(default == Some("true"))),
                (_, Some(default)) if !field.calculated || field.name == "CurrencyIsoCode" => {
                    Some(Val::Str(default.to_string()))
                }
                _ => None,
            };
            record.set(index as u16, default);
        }
        if let Some((owner, _)) = def.field("OwnerId") {
            record.set(owner, Some(Val::Str(user.to_string())));
        }
        apply(&mut record, object, changes);
        let explicit: Vec<u16> = changes.iter().map(|(i, _)| *i).collect();
        self.check_references(object, &mut record, &explicit)?;
        self.derive(object, &mut record, None, &explicit)?;
        self.validate(object, &record, None)?;
        let now = self.clock.tick();
        stamp(object, &mut record, now, user, true);
        record.seq = self.allocate();
        let seq = record.seq;
        self.save(tx, object, record);
        self.after_write(tx, object, seq, user);
        Ok(seq)
    }

    pub fn update(
        &mut self,
        tx: &mut Tx,
        object: SObject,
        seq: u64,
        changes: &Changes,
        user: &str,
    ) -> Result<(), SfError> {
        let def = object.def();
        if !def.updateable {
            return Err(SfError::dml(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be updated: {}", def.label),
                &[],
            ));
        }
        let before = self.record(object, seq).cloned().ok_or_else(SfError::not_found)?;
        if before.is_deleted() {
            return Err(SfError::entity_is_deleted());
        }
        check_access(object, changes, false)?;
        let mut record = before.clone();
        apply(&mut record, object, changes);
        let explicit: Vec<u16> = changes.iter().map(|(i, _)| *i).collect();
        self.check_references(object, &mut record, &explicit)?;
        self.derive(object, &mut record, Some(&before), &explicit)?;
        self.validate(object, &record, Some(seq))?;
        // Salesforce stamps every update, even one that changes nothing.
        let now = self.clock.tick();
        stamp(object, &mut record, now, user, false);
        self.save(tx, object, record);
        self.after_write(tx, object, seq, user);
        Ok(())
    }

    /// Moves the record to the recycle bin (`IsDeleted`, still visible to queryAll and
    /// getDeleted), with its cascading children.
    pub fn delete(&mut self, tx: &mut Tx, object: SObject, seq: u64, user: &str) -> Result<(), SfError> {
        if !object.def().deletable {
            return Err(SfError::dml(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on object id",
                &[],
            ));
        }
        let mut record = self.record(object, seq).cloned().ok_or_else(SfError::not_found)?;
        if record.is_deleted() {
            return Err(SfError::entity_is_deleted());
        }
        let now = self.clock.tick();
        record.deleted_at = Some(now);
        stamp(object, &mut record, now, user, false);
        self.save(tx, object, record);
        let id = self.id_of(object, seq);
        for child in SObject::ALL {
            if !cascades(child, object) {
                continue;
            }
            let def = child.def();
            let pointing: Vec<u16> = def
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.reference_to.contains(&object) && f.child_relationship.is_some())
                .map(|(i, _)| i as u16)
                .collect();
            let children: Vec<u64> = self
                .table(child)
                .live()
                .filter(|r| pointing.iter().any(|f| r.str(*f) == Some(id.as_str())))
                .map(|r| r.seq)
                .collect();
            for child_seq in children {
                self.delete(tx, child, child_seq, user)?;
            }
        }
        self.after_write(tx, object, seq, user);
        Ok(())
    }

    /// Lookups must name a live record of an allowed object; stored as 18-character ids.
    fn check_references(&self, object: SObject, record: &mut Record, explicit: &[u16]) -> Result<(), SfError> {
        let def = object.def();
        for index in explicit {
            let Some(field) = def.get(*index) else { continue };
            if field.ftype != FieldType::Reference {
                continue;
            }
            let Some(value) = record.str(*index).map(str::to_string) else {
                continue;
            };
            let Some(parsed) = parse_id(&value) else {
                return Err(SfError::dml(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {value}", field.label),
                    &[field.name],
                ));
            };
            let Some(target) = SObject::from_prefix(&parsed.prefix).filter(|t| field.reference_to.contains(t)) else {
                return Err(SfError::dml(
                    "FIELD_INTEGRITY_EXCEPTION",
                    format!("{}: id value of incorrect type: {value}", field.label),
                    &[field.name],
                ));
            };
            match self.lookup(target, &parsed.id18) {
                Lookup::Live(_) => record.set(*index, Some(Val::Str(parsed.id18))),
                Lookup::Deleted(_) => return Err(SfError::dml("ENTITY_IS_DELETED", "entity is deleted", &[])),
                Lookup::Missing | Lookup::Malformed => {
                    return Err(SfError::dml(
                        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                        format!("insufficient access rights on cross-reference id: {value}"),
                        &[],
                    ));
                }
            }
        }
        Ok(())
    }

    /// The fields Salesforce computes.
    fn derive(
        &self,
        object: SObject,
        record: &mut Record,
        before: Option<&Record>,
        explicit: &[u16],
    ) -> Result<(), SfError> {
        let def = object.def();
        let idx = |name: &str| def.idx(name);
        match object {
            SObject::Contact => {
                let name = [idx("FirstName"), idx("LastName")]
                    .iter()
                    .filter_map(|i| record.str(*i))
                    .collect::<Vec<_>>()
                    .join(" ");
                record.set(idx("Name"), (!name.is_empty()).then_some(Val::Str(name)));
            }
            SObject::Opportunity => {
                let stage_index = idx("StageName");
                let probability = idx("Probability");
                let stage = record
                    .str(stage_index)
                    .and_then(|s| STAGES.iter().find(|(name, _, _)| *name == s));
                if let Some((name, default_probability, forecast)) = stage {
                    record.set(idx("IsClosed"), Some(Val::Bool(name.starts_with("Closed"))));
                    record.set(idx("IsWon"), Some(Val::Bool(*name == "Closed Won")));
                    record.set(idx("ForecastCategoryName"), Some(Val::Str((*forecast).to_string())));
                    let stage_changed = before.is_none_or(|b| b.str(stage_index) != Some(name));
                    if !explicit.contains(&probability) && (stage_changed || record.get(probability).is_none()) {
                        record.set(probability, Some(Val::Num(f64::from(*default_probability))));
                    }
                }
                let expected = record
                    .num(idx("Amount"))
                    .zip(record.num(probability))
                    .map(|(amount, p)| Val::Num(round2(amount * p / 100.0)));
                record.set(idx("ExpectedRevenue"), expected);
            }
            SObject::OpportunityLineItem => {
                if before.is_none() {
                    self.derive_line_item(record)?;
                }
                let quantity = record.num(idx("Quantity")).unwrap_or(0.0);
                let unit = record.num(idx("UnitPrice")).unwrap_or(0.0);
                let discount = record.num(idx("Discount")).unwrap_or(0.0);
                let subtotal = round2(quantity * unit);
                record.set(idx("Subtotal"), Some(Val::Num(subtotal)));
                record.set(
                    idx("TotalPrice"),
                    Some(Val::Num(round2(subtotal * (1.0 - discount / 100.0)))),
                );
            }
            SObject::PricebookEntry if before.is_none() => {
                let product_def = SObject::Product2.def();
                if let Some((_, product)) = self.target(record, idx("Product2Id")) {
                    let name = product.get(product_def.idx("Name")).cloned();
                    let code = product.get(product_def.idx("ProductCode")).cloned();
                    record.set(idx("Name"), name);
                    record.set(idx("ProductCode"), code);
                }
                let key = |r: &Record| {
                    (
                        r.str(idx("Pricebook2Id")).map(str::to_string),
                        r.str(idx("Product2Id")).map(str::to_string),
                        r.str(idx("CurrencyIsoCode")).map(str::to_string),
                    )
                };
                let mine = key(record);
                if self.table(SObject::PricebookEntry).live().any(|r| key(r) == mine) {
                    return Err(SfError::dml(
                        "DUPLICATE_VALUE",
                        "This price definition already exists in this price book",
                        &[],
                    ));
                }
            }
            SObject::Event => derive_event(record, before, explicit)?,
            _ => {}
        }
        Ok(())
    }

    /// A new line item: its price book entry (given, or the product's in the standard price
    /// book and the opportunity's currency), prices, name and currency.
    fn derive_line_item(&self, record: &mut Record) -> Result<(), SfError> {
        let def = SObject::OpportunityLineItem.def();
        let idx = |name: &str| def.idx(name);
        let opportunity_def = SObject::Opportunity.def();
        let entry_def = SObject::PricebookEntry.def();
        let Some((_, opportunity)) = self.target(record, idx("OpportunityId")) else {
            // Missing: reported as a required field by validation.
            return Ok(());
        };
        let currency = opportunity
            .str(opportunity_def.idx("CurrencyIsoCode"))
            .unwrap_or("EUR")
            .to_string();
        let entry = if let Some((_, entry)) = self.target(record, idx("PricebookEntryId")) {
            entry.clone()
        } else if let Some(product) = record.str(idx("Product2Id")) {
            let pricebook = opportunity
                .str(opportunity_def.idx("Pricebook2Id"))
                .map(str::to_string)
                .or_else(|| self.standard_pricebook().map(|s| self.id_of(SObject::Pricebook2, s)));
            self.table(SObject::PricebookEntry)
                .live()
                .find(|e| {
                    e.str(entry_def.idx("Product2Id")) == Some(product)
                        && e.str(entry_def.idx("Pricebook2Id")) == pricebook.as_deref()
                        && e.str(entry_def.idx("CurrencyIsoCode")) == Some(currency.as_str())
                        && e.get(entry_def.idx("IsActive")) == Some(&Val::Bool(true))
                })
                .cloned()
                .ok_or_else(|| {
                    SfError::dml(
                        "FIELD_INTEGRITY_EXCEPTION",
                        "field integrity exception: Product2Id (no active price book entry for this product in the \
                         opportunity's price book and currency)",
                        &["Product2Id"],
                    )
                })?
        } else {
            return Err(SfError::dml(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [PricebookEntryId]",
                &["PricebookEntryId"],
            ));
        };
        if entry.str(entry_def.idx("CurrencyIsoCode")) != Some(currency.as_str()) {
            return Err(SfError::dml(
                "FIELD_INTEGRITY_EXCEPTION",
                "field integrity exception: PricebookEntryId (pricebook entry currency code does not match \
                 opportunity currency code)",
                &["PricebookEntryId"],
            ));
        }
        let product = entry.str(entry_def.idx("Product2Id")).map(str::to_string);
        let list_price = entry.num(entry_def.idx("UnitPrice")).unwrap_or(0.0);
        record.set(
            idx("PricebookEntryId"),
            Some(Val::Str(self.id_of(SObject::PricebookEntry, entry.seq))),
        );
        record.set(idx("Product2Id"), product.clone().map(Val::Str));
        record.set(idx("ListPrice"), Some(Val::Num(list_price)));
        if record.get(idx("UnitPrice")).is_none() {
            record.set(idx("UnitPrice"), Some(Val::Num(list_price)));
        }
        record.set(idx("CurrencyIsoCode"), Some(Val::Str(currency)));
        let product_def = SObject::Product2.def();
        let product = product
            .and_then(|p| self.locate(&p))
            .and_then(|(_, seq)| self.record(SObject::Product2, seq));
        let product_name = product.and_then(|p| p.str(product_def.idx("Name"))).unwrap_or_default();
        let opportunity_name = opportunity.str(opportunity_def.idx("Name")).unwrap_or_default();
        record.set(
            idx("Name"),
            Some(Val::Str(
                format!("{opportunity_name} {product_name}").trim().to_string(),
            )),
        );
        record.set(
            idx("ProductCode"),
            product.and_then(|p| p.get(product_def.idx("ProductCode"))).cloned(),
        );
        Ok(())
    }

    /// Everything but lookups, which [`Org::check_references`] has done.
    fn validate(&self, object: SObject, record: &Record, except: Option<u64>) -> Result<(), SfError> {
        let def = object.def();
        let missing: Vec<&str> = def
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                !f.nillable && !f.calculated && f.createable && record.get(*i as u16).is_none() && f.name != "Id"
            })
            .map(|(_, f)| f.name)
            .collect();
        if !missing.is_empty() {
            return Err(SfError::dml(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
                &missing,
            ));
        }
        for (index, value) in &record.fields {
            let Some(field) = def.get(*index) else { continue };
            match (field.ftype, value) {
                (t, Val::Str(text))
                    if t.is_text() && field.length > 0 && text.chars().count() > field.length as usize =>
                {
                    return Err(SfError::dml(
                        "STRING_TOO_LONG",
                        format!(
                            "{}: data value too large: {text} (max length={})",
                            field.label, field.length
                        ),
                        &[field.name],
                    ));
                }
                (FieldType::Email, Val::Str(text)) if !is_valid_email(text) => {
                    return Err(SfError::dml(
                        "INVALID_EMAIL_ADDRESS",
                        format!("{}: invalid email address: {text}", field.label),
                        &[field.name],
                    ));
                }
                (FieldType::Picklist, Val::Str(text))
                    if field.restricted && !field.picklist.iter().any(|(v, _)| v == text) =>
                {
                    return Err(SfError::dml(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        format!("{}: bad value for restricted picklist field: {text}", field.label),
                        &[field.name],
                    ));
                }
                (FieldType::Percent, Val::Num(n)) if !(0.0..=100.0).contains(n) => {
                    return Err(SfError::dml(
                        "NUMBER_OUTSIDE_VALID_RANGE",
                        format!(
                            "{}: value outside of valid range on numeric field: {}",
                            field.label,
                            value.display()
                        ),
                        &[field.name],
                    ));
                }
                _ => {}
            }
        }
        let table = self.table(object);
        for (index, field) in def.fields.iter().enumerate() {
            let index = index as u16;
            if !field.unique || !table.is_indexed(index) {
                continue;
            }
            let Some(value) = record.str(index) else { continue };
            if let Some(other) = table.find(index, value).into_iter().find(|s| Some(*s) != except) {
                return Err(SfError::dml(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {}",
                        field.name,
                        self.id_of(object, other)
                    ),
                    &[],
                ));
            }
        }
        Ok(())
    }

    fn after_write(&mut self, tx: &mut Tx, object: SObject, seq: u64, user: &str) {
        if object != SObject::OpportunityLineItem {
            return;
        }
        let field = SObject::OpportunityLineItem.def().idx("OpportunityId");
        let parent = self
            .record(object, seq)
            .and_then(|r| r.str(field))
            .and_then(|id| self.locate(id));
        if let Some((SObject::Opportunity, opportunity)) = parent {
            self.roll_up(tx, opportunity, user);
        }
    }

    /// An opportunity with products has the sum of their totals as its amount.
    fn roll_up(&mut self, tx: &mut Tx, opportunity: u64, user: &str) {
        let def = SObject::Opportunity.def();
        let items = SObject::OpportunityLineItem.def();
        let Some(mut record) = self
            .record(SObject::Opportunity, opportunity)
            .filter(|r| !r.is_deleted())
            .cloned()
        else {
            return;
        };
        let id = self.id_of(SObject::Opportunity, opportunity);
        let (count, total) = self
            .table(SObject::OpportunityLineItem)
            .live()
            .filter(|r| r.str(items.idx("OpportunityId")) == Some(id.as_str()))
            .fold((0, 0.0), |(n, sum), r| {
                (n + 1, sum + r.num(items.idx("TotalPrice")).unwrap_or(0.0))
            });
        record.set(def.idx("HasOpportunityLineItem"), Some(Val::Bool(count > 0)));
        if count > 0 {
            record.set(def.idx("Amount"), Some(Val::Num(round2(total))));
            if record.get(def.idx("Pricebook2Id")).is_none()
                && let Some(standard) = self.standard_pricebook()
            {
                record.set(
                    def.idx("Pricebook2Id"),
                    Some(Val::Str(self.id_of(SObject::Pricebook2, standard))),
                );
            }
        }
        let expected = record
            .num(def.idx("Amount"))
            .zip(record.num(def.idx("Probability")))
            .map(|(amount, p)| Val::Num(round2(amount * p / 100.0)));
        record.set(def.idx("ExpectedRevenue"), expected);
        let now = self.clock.tick();
        stamp(SObject::Opportunity, &mut record, now, user, false);
        self.save(tx, SObject::Opportunity, record);
    }
}

/// Fields a request may not write: on create the non-createable ones, on update the
/// non-updateable ones.
fn check_access(object: SObject, changes: &Changes, insert: bool) -> Result<(), SfError> {
    let def = object.def();
    let refused: Vec<u16> = changes
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| {
            def.get(*i)
                .is_some_and(|f| if insert { !f.createable } else { !f.updateable })
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let names = field_names(&def.fields, &refused);
    Err(SfError::dml(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        format!(
            "Unable to create/update fields: {}. Please check the security settings of this field and verify that \
             it is read/write for your profile or permission set.",
            names.join(", ")
        ),
        &names,
    ))
}

fn apply(record: &mut Record, object: SObject, changes: &Changes) {
    let def = object.def();
    for (index, value) in changes {
        // A checkbox cannot be null: clearing it unchecks it.
        let value = match (def.get(*index).map(|f| f.ftype), value) {
            (Some(FieldType::Boolean), None) => Some(Val::Bool(false)),
            _ => value.clone(),
        };
        record.set(*index, value);
    }
}

fn stamp(object: SObject, record: &mut Record, now: DateTime<Utc>, user: &str, created: bool) {
    let def = object.def();
    if created {
        record.set(def.idx("CreatedDate"), Some(Val::DateTime(now)));
        record.set(def.idx("CreatedById"), Some(Val::Str(user.to_string())));
    }
    record.set(def.idx("LastModifiedDate"), Some(Val::DateTime(now)));
    record.set(def.idx("LastModifiedById"), Some(Val::Str(user.to_string())));
    record.set(def.idx("SystemModstamp"), Some(Val::DateTime(now)));
}

/// An event has a start and either an end or a duration; each follows from the other.
fn derive_event(record: &mut Record, before: Option<&Record>, explicit: &[u16]) -> Result<(), SfError> {
    let def = SObject::Event.def();
    let (start, end, duration) = (
        def.idx("StartDateTime"),
        def.idx("EndDateTime"),
        def.idx("DurationInMinutes"),
    );
    let time = |r: &Record, i: u16| match r.get(i) {
        Some(Val::DateTime(t)) => Some(*t),
        _ => None,
    };
    let Some(starts) = time(record, start) else {
        return Err(SfError::dml(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [StartDateTime]",
            &["StartDateTime"],
        ));
    };
    let minutes = match record.get(duration) {
        Some(Val::Int(m)) => Some(*m),
        _ => None,
    };
    let ends = if explicit.contains(&duration) && minutes.is_some() {
        minutes.map(|m| starts + Duration::minutes(m))
    } else if explicit.contains(&end) {
        time(record, end)
    } else if let (Some(_), Some(minutes)) = (before, minutes) {
        // An update that names neither: the event keeps its length (and moves with its start).
        Some(starts + Duration::minutes(minutes))
    } else {
        time(record, end).or_else(|| minutes.map(|m| starts + Duration::minutes(m)))
    };
    let Some(ends) = ends else {
        return Err(SfError::dml(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [DurationInMinutes]",
            &["DurationInMinutes"],
        ));
    };
    if ends < starts {
        return Err(SfError::dml(
            "FIELD_INTEGRITY_EXCEPTION",
            "field integrity exception: EndDateTime (end time must not be before start time)",
            &["EndDateTime"],
        ));
    }
    record.set(end, Some(Val::DateTime(ends)));
    record.set(duration, Some(Val::Int((ends - starts).num_minutes())));
    record.set(def.idx("ActivityDateTime"), Some(Val::DateTime(starts)));
    record.set(def.idx("ActivityDate"), Some(Val::Date(starts.date_naive())));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::seed;
    use serde_json::json;

    fn org() -> Org {
        let mut org = Org::empty("ops-test");
        seed::populate(&mut org);
        org
    }

    fn changes(object: SObject, body: Value) -> Changes {
        parse_fields(object, body.as_object().unwrap(), &[]).expect("parses")
    }

    fn insert(org: &mut Org, object: SObject, body: Value) -> Result<u64, SfError> {
        let user = org.admin_id();
        let mut tx = Tx::default();
        org.insert(&mut tx, object, &changes(object, body), &user)
    }

    #[test]
    fn validation_errors_are_salesforces() {
        let mut org = org();
        let err = insert(&mut org, SObject::Contact, json!({ "FirstName": "Ada" })).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str(), err.fields.clone()),
            (
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [LastName]",
                Some(vec!["LastName".to_string()])
            )
        );
        let err = insert(&mut org, SObject::Contact, json!({ "LastName": "L", "Email": "x" })).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("INVALID_EMAIL_ADDRESS", "Email: invalid email address: x")
        );
        assert_eq!(err.fields, Some(vec!["Email".to_string()]));
        let err = parse_fields(SObject::Contact, json!({ "Foo": 1 }).as_object().unwrap(), &[]).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("INVALID_FIELD", "No such column 'Foo' on sobject of type Contact")
        );
        let err = parse_fields(
            SObject::Opportunity,
            json!({ "Amount": "lots" }).as_object().unwrap(),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.code, "JSON_PARSER_ERROR");
        let err = insert(
            &mut org,
            SObject::Opportunity,
            json!({ "Name": "X", "StageName": "Dreaming", "CloseDate": "2024-05-01" }),
        )
        .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "Stage: bad value for restricted picklist field: Dreaming"
            )
        );
        let err = insert(&mut org, SObject::Opportunity, json!({ "Name": "X" })).unwrap_err();
        assert_eq!(err.message, "Required fields are missing: [StageName, CloseDate]");
        let err = insert(&mut org, SObject::Contact, json!({ "LastName": "L", "Name": "Full" })).unwrap_err();
        assert_eq!(
            (err.code, err.fields.clone()),
            ("INVALID_FIELD_FOR_INSERT_UPDATE", Some(vec!["Name".to_string()]))
        );
        let err = insert(
            &mut org,
            SObject::Contact,
            json!({ "LastName": "L", "AccountId": "nope" }),
        )
        .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("MALFORMED_ID", "Account ID: id value of incorrect type: nope")
        );
        let err = insert(&mut org, SObject::Contact, json!({ "LastName": "x".repeat(81) })).unwrap_err();
        assert_eq!(err.code, "STRING_TOO_LONG");
    }

    #[test]
    fn unique_external_ids_and_derived_fields() {
        let mut org = org();
        insert(
            &mut org,
            SObject::Contact,
            json!({ "LastName": "A", "Tandem_Id__c": "T-1" }),
        )
        .expect("first");
        let err = insert(
            &mut org,
            SObject::Contact,
            json!({ "LastName": "B", "Tandem_Id__c": "t-1" }),
        )
        .unwrap_err();
        assert_eq!(err.code, "DUPLICATE_VALUE");
        assert!(
            err.message
                .starts_with("duplicate value found: Tandem_Id__c duplicates value on record with id: 003")
        );

        let account = org.table(SObject::Account).live().next().unwrap().seq;
        let account_id = org.id_of(SObject::Account, account);
        let opportunity = insert(
            &mut org,
            SObject::Opportunity,
            json!({ "Name": "Deal", "StageName": "Closed Won", "CloseDate": "2024-05-01", "AccountId": account_id[..15] }),
        )
        .expect("opportunity");
        let def = SObject::Opportunity.def();
        let record = org.record(SObject::Opportunity, opportunity).unwrap().clone();
        assert_eq!(record.get(def.idx("IsWon")), Some(&Val::Bool(true)));
        assert_eq!(record.get(def.idx("Probability")), Some(&Val::Num(100.0)));
        assert_eq!(
            record.str(def.idx("AccountId")),
            Some(account_id.as_str()),
            "stored as 18 characters"
        );

        let product = org
            .table(SObject::Product2)
            .live()
            .next()
            .map(|r| org.id_of(SObject::Product2, r.seq))
            .unwrap();
        let opportunity_id = org.id_of(SObject::Opportunity, opportunity);
        let item = insert(
            &mut org,
            SObject::OpportunityLineItem,
            json!({ "OpportunityId": opportunity_id, "Product2Id": product, "Quantity": 3, "UnitPrice": 10, "Discount": 10 }),
        )
        .expect("line item");
        let items = SObject::OpportunityLineItem.def();
        let line = org.record(SObject::OpportunityLineItem, item).unwrap();
        assert_eq!(line.num(items.idx("TotalPrice")), Some(27.0));
        assert!(line.str(items.idx("PricebookEntryId")).unwrap().starts_with("01u"));
        let record = org.record(SObject::Opportunity, opportunity).unwrap();
        assert_eq!(record.num(def.idx("Amount")), Some(27.0), "rolled up");

        let user = org.admin_id();
        let mut tx = Tx::default();
        org.delete(&mut tx, SObject::Opportunity, opportunity, &user)
            .expect("delete");
        assert!(
            org.record(SObject::OpportunityLineItem, item).unwrap().is_deleted(),
            "cascades"
        );
        let err = org
            .delete(&mut tx, SObject::Opportunity, opportunity, &user)
            .unwrap_err();
        assert_eq!(err.code, "ENTITY_IS_DELETED");
    }

    #[test]
    fn a_transaction_rolls_back_every_write() {
        let mut org = org();
        let before = org.table(SObject::Contact).records.clone();
        let user = org.admin_id();
        let mut tx = Tx::default();
        let seq = org
            .insert(
                &mut tx,
                SObject::Contact,
                &changes(SObject::Contact, json!({ "LastName": "Temp", "Tandem_Id__c": "X" })),
                &user,
            )
            .expect("insert");
        let existing = *before.keys().next().unwrap();
        org.update(
            &mut tx,
            SObject::Contact,
            existing,
            &changes(SObject::Contact, json!({ "LastName": "Changed" })),
            &user,
        )
        .expect("update");
        org.delete(&mut tx, SObject::Contact, existing, &user).expect("delete");
        org.rollback(tx);
        assert_eq!(org.table(SObject::Contact).records, before);
        assert!(org.record(SObject::Contact, seq).is_none());
        assert!(
            org.table(SObject::Contact)
                .find(SObject::Contact.def().idx("Tandem_Id__c"), "X")
                .is_empty()
        );
    }

    #[test]
    fn events_derive_end_and_duration() {
        let mut org = org();
        let event = insert(
            &mut org,
            SObject::Event,
            json!({ "Subject": "Demo", "StartDateTime": "2024-05-01T10:00:00.000+0000", "DurationInMinutes": 45 }),
        )
        .expect("event");
        let def = SObject::Event.def();
        let record = org.record(SObject::Event, event).unwrap();
        assert_eq!(
            record.get(def.idx("EndDateTime")).unwrap().display(),
            "2024-05-01T10:45:00.000+0000"
        );
        let err = insert(
            &mut org,
            SObject::Event,
            json!({ "Subject": "No end", "StartDateTime": "2024-05-01T10:00:00Z" }),
        )
        .unwrap_err();
        assert_eq!(err.fields, Some(vec!["DurationInMinutes".to_string()]));
        assert!(is_valid_email("a.b+c@example.co.uk") && !is_valid_email("a@b") && !is_valid_email("a b@c.de"));
    }
}
