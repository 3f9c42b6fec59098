//! An org in memory: one table of records per object, typed field values, the indexes that keep
//! External ID and unique fields fast (upserts against a million contacts), and what the org's
//! API answers look like (records with `attributes`, fields in order).
//!
//! Behaviour follows Salesforce's REST API documentation and jsforce 3.10.16: see
//! ../shared/docs/crm-apis.md §1 and official-clients.md §2.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;

use super::ids::{base62, make_id, parse_id};
use super::query::Cursors;
use super::schema::{FieldType, SObject};
use crate::clock::Clock;
use crate::faults::Faults;
use crate::limits::{LimitSettings, Limits};

/// A field value, typed as the field is.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Num(f64),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

impl Val {
    pub fn to_json(&self) -> Value {
        match self {
            Val::Str(s) => Value::String(s.clone()),
            Val::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Val::Int(i) => Value::from(*i),
            Val::Bool(b) => Value::Bool(*b),
            Val::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
            Val::DateTime(t) => Value::String(sf_datetime(*t)),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// Dates and times as instants (dates at midnight UTC), for comparisons.
    pub fn as_instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Val::DateTime(t) => Some(*t),
            Val::Date(d) => d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t)),
            _ => None,
        }
    }

    /// As it reads in an error message.
    pub fn display(&self) -> String {
        match self.to_json() {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

/// Salesforce prints times with milliseconds and `+0000`: `2024-05-01T10:00:00.000+0000`.
pub fn sf_datetime(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// One record. `Id` and `IsDeleted` are not stored: they follow from `seq` and `deleted_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub seq: u64,
    /// Set fields by schema index, sorted; a field without a value is null.
    pub fields: Vec<(u16, Val)>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Record {
    pub fn new(seq: u64) -> Record {
        Record {
            seq,
            fields: Vec::new(),
            deleted_at: None,
        }
    }

    pub fn get(&self, index: u16) -> Option<&Val> {
        self.fields
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|at| &self.fields[at].1)
    }

    pub fn set(&mut self, index: u16, value: Option<Val>) {
        match (self.fields.binary_search_by_key(&index, |(i, _)| *i), value) {
            (Ok(at), Some(value)) => self.fields[at].1 = value,
            (Ok(at), None) => {
                self.fields.remove(at);
            }
            (Err(at), Some(value)) => self.fields.insert(at, (index, value)),
            (Err(_), None) => {}
        }
    }

    pub fn str(&self, index: u16) -> Option<&str> {
        self.get(index).and_then(Val::as_str)
    }

    pub fn num(&self, index: u16) -> Option<f64> {
        self.get(index).and_then(Val::as_f64)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// The records of one object, with indexes on its External ID and unique fields (live records
/// only: deleted ones neither match an upsert nor block a unique value).
#[derive(Debug)]
pub struct Table {
    pub sobject: SObject,
    pub records: BTreeMap<u64, Record>,
    indexed: Vec<u16>,
    index: HashMap<u16, HashMap<String, BTreeSet<u64>>>,
}

fn index_key(value: &Val) -> Option<String> {
    value.as_str().map(str::to_lowercase)
}

impl Table {
    pub fn new(sobject: SObject) -> Table {
        let indexed = sobject
            .def()
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| (f.unique || f.external_id) && f.ftype.is_text())
            .map(|(i, _)| i as u16)
            .collect();
        Table {
            sobject,
            records: BTreeMap::new(),
            indexed,
            index: HashMap::new(),
        }
    }

    fn unindex(&mut self, record: &Record) {
        if record.is_deleted() {
            return;
        }
        for field in &self.indexed {
            if let Some(key) = record.get(*field).and_then(index_key)
                && let Some(entries) = self.index.get_mut(field)
                && let Some(seqs) = entries.get_mut(&key)
            {
                seqs.remove(&record.seq);
                if seqs.is_empty() {
                    entries.remove(&key);
                }
            }
        }
    }

    fn reindex(&mut self, record: &Record) {
        if record.is_deleted() {
            return;
        }
        for field in &self.indexed {
            if let Some(key) = record.get(*field).and_then(index_key) {
                self.index
                    .entry(*field)
                    .or_default()
                    .entry(key)
                    .or_default()
                    .insert(record.seq);
            }
        }
    }

    /// Stores the record, returning what it replaced.
    pub fn put(&mut self, record: Record) -> Option<Record> {
        let old = self.records.remove(&record.seq);
        if let Some(old) = &old {
            self.unindex(old);
        }
        self.reindex(&record);
        self.records.insert(record.seq, record);
        old
    }

    /// Takes a record out entirely (rolling back its creation).
    pub fn remove(&mut self, seq: u64) -> Option<Record> {
        let old = self.records.remove(&seq)?;
        self.unindex(&old);
        Some(old)
    }

    /// Live records whose indexed text field equals `value`, case-insensitively.
    pub fn find(&self, field: u16, value: &str) -> Vec<u64> {
        self.index
            .get(&field)
            .and_then(|entries| entries.get(&value.to_lowercase()))
            .map(|seqs| seqs.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn is_indexed(&self, field: u16) -> bool {
        self.indexed.contains(&field)
    }

    pub fn live(&self) -> impl Iterator<Item = &Record> {
        self.records.values().filter(|r| !r.is_deleted())
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.index.clear();
    }
}

/// What an id in a request refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Live(u64),
    Deleted(u64),
    /// Well-formed, but no record of that object in this org.
    Missing,
    Malformed,
}

/// One Salesforce org and everything in it.
#[derive(Debug)]
pub struct Org {
    pub key: String,
    pub org_id: String,
    /// The instance characters in every id of this org.
    pub pod: String,
    pub name: String,
    /// The user tokens act as (the org's admin).
    pub admin_user: u64,
    pub created_at: DateTime<Utc>,
    tables: Vec<Table>,
    pub next_seq: u64,
    pub clock: Clock,
    pub limits: Limits,
    pub faults: Faults,
    pub cursors: Cursors,
}

/// A Salesforce Enterprise Edition org's daily API allocation; there is no per-second window.
pub fn default_limits() -> LimitSettings {
    LimitSettings {
        per_window: 0,
        window_ms: 0,
        daily: 100_000,
    }
}

pub fn org_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The first number handed out for records (ids look lived-in, not `…000000001`).
pub const FIRST_SEQ: u64 = 3_000_000;

/// The org's instance characters and 18-character org id, which follow from its key.
pub fn org_identity(key: &str) -> (String, String) {
    let hash = org_hash(key);
    let pod = base62(hash % (62 * 62), 2);
    let org_id = make_id("00D", &pod, 1_000_000 + (hash >> 16) % 1_000_000);
    (pod, org_id)
}

impl Org {
    pub fn empty(key: &str) -> Org {
        let (pod, org_id) = org_identity(key);
        // Salesforce keeps times to the second.
        let mut clock = Clock::default();
        clock.granularity_ms = 1000;
        Org {
            key: key.to_string(),
            org_id,
            pod,
            name: format!("{key} (sandbox)"),
            admin_user: 0,
            created_at: Utc::now(),
            tables: SObject::ALL.iter().map(|o| Table::new(*o)).collect(),
            next_seq: FIRST_SEQ,
            clock,
            limits: Limits::new(default_limits()),
            faults: Faults::default(),
            cursors: Cursors::default(),
        }
    }

    pub fn table(&self, object: SObject) -> &Table {
        &self.tables[object.index()]
    }

    pub fn table_mut(&mut self, object: SObject) -> &mut Table {
        &mut self.tables[object.index()]
    }

    pub fn clear_data(&mut self) {
        for table in &mut self.tables {
            table.clear();
        }
        self.cursors = Cursors::default();
    }

    pub fn allocate(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    pub fn id_of(&self, object: SObject, seq: u64) -> String {
        make_id(object.key_prefix(), &self.pod, seq)
    }

    pub fn admin_id(&self) -> String {
        self.id_of(SObject::User, self.admin_user)
    }

    pub fn record(&self, object: SObject, seq: u64) -> Option<&Record> {
        self.table(object).records.get(&seq)
    }

    /// Which record of which object an id names, whatever the object.
    pub fn locate(&self, id: &str) -> Option<(SObject, u64)> {
        let parsed = parse_id(id)?;
        let object = SObject::from_prefix(&parsed.prefix)?;
        (parsed.pod == self.pod).then_some((object, parsed.seq))
    }

    /// What an id names among the records of `object`.
    pub fn lookup(&self, object: SObject, id: &str) -> Lookup {
        let Some(parsed) = parse_id(id) else {
            return Lookup::Malformed;
        };
        if parsed.prefix != object.key_prefix() || parsed.pod != self.pod {
            return Lookup::Missing;
        }
        match self.record(object, parsed.seq) {
            Some(record) if record.is_deleted() => Lookup::Deleted(parsed.seq),
            Some(_) => Lookup::Live(parsed.seq),
            None => Lookup::Missing,
        }
    }

    /// A field's value, including the ones not stored (`Id`, `IsDeleted`).
    pub fn value<'a>(&self, object: SObject, record: &'a Record, index: u16) -> Option<Cow<'a, Val>> {
        match object.def().get(index)?.name {
            "Id" => Some(Cow::Owned(Val::Str(self.id_of(object, record.seq)))),
            "IsDeleted" => Some(Cow::Owned(Val::Bool(record.is_deleted()))),
            _ => record.get(index).map(Cow::Borrowed),
        }
    }

    /// `attributes` of a record in an answer.
    pub fn attributes(&self, object: SObject, seq: u64, version: &str) -> Obj {
        Obj::new().with("type", Value::String(object.name().to_string())).with(
            "url",
            Value::String(format!(
                "/services/data/v{version}/sobjects/{}/{}",
                object.name(),
                self.id_of(object, seq)
            )),
        )
    }

    /// A record as a retrieve returns it: `attributes`, then every field (or the ones asked
    /// for) in schema order, null where empty.
    pub fn render(&self, object: SObject, record: &Record, fields: Option<&[u16]>, version: &str) -> Obj {
        let def = object.def();
        let mut obj = Obj::new().with("attributes", self.attributes(object, record.seq, version));
        for (index, field) in def.fields.iter().enumerate() {
            let index = index as u16;
            if fields.is_some_and(|wanted| !wanted.contains(&index) && field.name != "Id") {
                continue;
            }
            let value = self.value(object, record, index).map_or(Value::Null, |v| v.to_json());
            obj.push(field.name, value);
        }
        obj
    }
}

/// A field type's values in error messages and JSON parsing: what Salesforce's parser calls it.
pub fn parser_type_name(ftype: FieldType) -> &'static str {
    match ftype {
        FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
        FieldType::Int => "int",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "datetime",
        _ => "string",
    }
}

/// A JSON object that keeps its keys in the order they were added (Salesforce puts
/// `attributes` first, then the fields as selected).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj(pub Vec<(String, Node)>);

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Value(Value),
    Obj(Obj),
    List(Vec<Node>),
}

impl From<Value> for Node {
    fn from(value: Value) -> Node {
        Node::Value(value)
    }
}

impl From<Obj> for Node {
    fn from(obj: Obj) -> Node {
        Node::Obj(obj)
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj(Vec::new())
    }

    pub fn with(mut self, key: &str, value: impl Into<Node>) -> Obj {
        self.push(key, value);
        self
    }

    pub fn push(&mut self, key: &str, value: impl Into<Node>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// As a plain JSON value (key order lost), for tests and inspection.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Obj {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Value(value) => value.serialize(serializer),
            Node::Obj(obj) => obj.serialize(serializer),
            Node::List(items) => items.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_fields_sorted_and_indexes_follow_writes() {
        let mut record = Record::new(7);
        record.set(5, Some(Val::Str("b".into())));
        record.set(2, Some(Val::Int(1)));
        record.set(9, None);
        assert_eq!(record.fields.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [2, 5]);
        record.set(2, None);
        assert_eq!(record.get(2), None);

        let mut table = Table::new(SObject::Contact);
        let field = SObject::Contact.def().idx("Tandem_Id__c");
        let mut contact = Record::new(1);
        contact.set(field, Some(Val::Str("ABC".into())));
        table.put(contact.clone());
        assert_eq!(table.find(field, "abc"), [1]);
        contact.deleted_at = Some(Utc::now());
        table.put(contact);
        assert!(table.find(field, "abc").is_empty(), "deleted records leave the index");
        table.remove(1);
        assert!(table.records.is_empty());
    }

    #[test]
    fn ordered_objects_serialise_in_order() {
        let obj = Obj::new()
            .with("attributes", Obj::new().with("type", Value::String("Contact".into())))
            .with("LastName", Value::String("Lovelace".into()))
            .with("Id", Value::Null);
        assert_eq!(
            serde_json::to_string(&obj).unwrap(),
            r#"{"attributes":{"type":"Contact"},"LastName":"Lovelace","Id":null}"#
        );
        assert_eq!(
            sf_datetime(Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()),
            "2024-05-01T10:00:00.000+0000"
        );
    }
}
