//! A HubSpot account (portal) in memory: objects with their properties, property definitions,
//! deal pipelines and associations. Property values are strings, as in HubSpot.
//!
//! Behaviour follows HubSpot's CRM v3 documentation and the official Python client's models
//! (hubspot-api-client 12): see ../shared/docs/crm-apis.md §2 and official-clients.md §1.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, iso};
use crate::faults::Faults;
use crate::limits::{LimitSettings, Limits};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    Contacts,
    Companies,
    Deals,
    Products,
    LineItems,
    Meetings,
    Calls,
    Emails,
}

impl ObjectType {
    pub const ALL: [ObjectType; 8] = [
        ObjectType::Contacts,
        ObjectType::Companies,
        ObjectType::Deals,
        ObjectType::Products,
        ObjectType::LineItems,
        ObjectType::Meetings,
        ObjectType::Calls,
        ObjectType::Emails,
    ];

    /// By path name (`contacts`) or object type id (`0-1`).
    pub fn parse(name: &str) -> Option<ObjectType> {
        Some(match name {
            "contacts" | "contact" | "0-1" => ObjectType::Contacts,
            "companies" | "company" | "0-2" => ObjectType::Companies,
            "deals" | "deal" | "0-3" => ObjectType::Deals,
            "products" | "product" | "0-7" => ObjectType::Products,
            "line_items" | "line_item" | "0-8" => ObjectType::LineItems,
            "meetings" | "meeting" | "0-47" => ObjectType::Meetings,
            "calls" | "call" | "0-48" => ObjectType::Calls,
            "emails" | "email" | "0-49" => ObjectType::Emails,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
            ObjectType::Deals => "deals",
            ObjectType::Products => "products",
            ObjectType::LineItems => "line_items",
            ObjectType::Meetings => "meetings",
            ObjectType::Calls => "calls",
            ObjectType::Emails => "emails",
        }
    }

    /// As webhook subscription types and error messages spell it (`contact`, `CONTACT`).
    pub fn singular(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contact",
            ObjectType::Companies => "company",
            ObjectType::Deals => "deal",
            ObjectType::Products => "product",
            ObjectType::LineItems => "line_item",
            ObjectType::Meetings => "meeting",
            ObjectType::Calls => "call",
            ObjectType::Emails => "email",
        }
    }

    /// Contacts keep `lastmodifieddate`; every other object `hs_lastmodifieddate`.
    pub fn modified_property(self) -> &'static str {
        match self {
            ObjectType::Contacts => "lastmodifieddate",
            _ => "hs_lastmodifieddate",
        }
    }

    pub fn created_property(self) -> &'static str {
        match self {
            ObjectType::Meetings | ObjectType::Calls | ObjectType::Emails => "hs_createdate",
            _ => "createdate",
        }
    }

    /// Properties returned when a request names none.
    pub fn default_properties(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            ObjectType::Companies => &["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
            ObjectType::Deals => &[
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
            ObjectType::Products => &[
                "createdate",
                "description",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
                "price",
            ],
            ObjectType::LineItems => &[
                "amount",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
                "hs_product_id",
                "name",
                "price",
                "quantity",
            ],
            ObjectType::Meetings | ObjectType::Calls | ObjectType::Emails => {
                &["hs_createdate", "hs_lastmodifieddate", "hs_object_id", "hs_timestamp"]
            }
        }
    }

    /// Properties a free-text search `query` looks in.
    pub fn searchable_properties(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &["firstname", "lastname", "email", "phone", "company"],
            ObjectType::Companies => &["name", "domain", "phone"],
            ObjectType::Deals => &["dealname"],
            ObjectType::Products => &["name", "hs_sku", "description"],
            ObjectType::LineItems => &["name"],
            ObjectType::Meetings => &["hs_meeting_title", "hs_meeting_body"],
            ObjectType::Calls => &["hs_call_title", "hs_call_body"],
            ObjectType::Emails => &["hs_email_subject", "hs_email_text"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    String,
    Number,
    Date,
    Datetime,
    Enumeration,
    Bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    pub label: String,
    pub value: String,
    pub display_order: i32,
    pub hidden: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub property_type: PropertyType,
    pub field_type: String,
    pub group_name: String,
    pub description: String,
    pub options: Vec<PropertyOption>,
    pub display_order: i32,
    pub has_unique_value: bool,
    pub hidden: bool,
    pub form_field: bool,
    pub hubspot_defined: bool,
    pub calculated: bool,
    pub modification_metadata: ModificationMetadata,
    #[serde(serialize_with = "serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationMetadata {
    pub archivable: bool,
    pub read_only_definition: bool,
    pub read_only_value: bool,
}

fn serialize_time<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&iso(*time))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStage {
    pub id: String,
    pub label: String,
    pub display_order: i32,
    pub metadata: BTreeMap<String, String>,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    pub id: String,
    pub label: String,
    pub display_order: i32,
    pub stages: Vec<PipelineStage>,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Association {
    pub from: (ObjectType, u64),
    pub to: (ObjectType, u64),
    pub type_id: u32,
}

/// HubSpot-defined association type ids for each direction.
pub fn default_association_type(from: ObjectType, to: ObjectType) -> Option<u32> {
    use ObjectType::*;
    Some(match (from, to) {
        (Contacts, Companies) => 279,
        (Companies, Contacts) => 280,
        (Deals, Contacts) => 3,
        (Contacts, Deals) => 4,
        (Deals, Companies) => 341,
        (Companies, Deals) => 342,
        (LineItems, Deals) => 20,
        (Deals, LineItems) => 19,
        (Meetings, Contacts) => 200,
        (Contacts, Meetings) => 199,
        (Meetings, Deals) => 212,
        (Deals, Meetings) => 211,
        (Meetings, Companies) => 188,
        (Companies, Meetings) => 187,
        (Calls, Contacts) => 194,
        (Contacts, Calls) => 193,
        (Emails, Contacts) => 198,
        (Contacts, Emails) => 197,
        _ => return None,
    })
}

/// A change to report to subscribed apps as a webhook event.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    pub object: ObjectType,
    pub object_id: u64,
    /// `creation`, `propertyChange` or `deletion`.
    pub kind: &'static str,
    pub property: Option<(String, String)>,
    pub occurred_at: DateTime<Utc>,
}

/// One HubSpot account (portal) and everything in it.
#[derive(Debug)]
pub struct Account {
    pub key: String,
    pub hub_id: u64,
    pub name: String,
    pub domain: String,
    pub user: String,
    pub objects: HashMap<ObjectType, BTreeMap<u64, Record>>,
    pub properties: HashMap<ObjectType, Vec<Property>>,
    pub pipelines: Vec<Pipeline>,
    pub associations: Vec<Association>,
    pub next_id: u64,
    pub clock: Clock,
    pub limits: Limits,
    pub search_limits: Limits,
    pub faults: Faults,
    pub events: Vec<ChangeEvent>,
    /// Writes stay out of search results this long (HubSpot's index lags by seconds).
    pub search_lag_ms: i64,
    /// Live records by their unique properties' values: uniqueness checks and `idProperty`
    /// lookups without a scan of every record (accounts of a million contacts).
    unique: HashMap<(ObjectType, String), HashMap<String, u64>>,
}

/// HubSpot's published limits for a Professional account with a private app.
pub fn default_limits() -> LimitSettings {
    LimitSettings {
        per_window: 190,
        window_ms: 10_000,
        daily: 650_000,
    }
}

/// The search API's own, lower limit (requests per second per account).
pub fn default_search_limits() -> LimitSettings {
    LimitSettings {
        per_window: 5,
        window_ms: 1_000,
        daily: 0,
    }
}

impl Account {
    pub fn empty(key: &str) -> Account {
        Account {
            key: key.to_string(),
            hub_id: hub_id_for(key),
            name: format!("{key} (sandbox)"),
            domain: format!("{key}.sandbox.hubspot.test"),
            user: format!("owner@{key}.sandbox.hubspot.test"),
            objects: ObjectType::ALL.iter().map(|t| (*t, BTreeMap::new())).collect(),
            properties: HashMap::new(),
            pipelines: Vec::new(),
            associations: Vec::new(),
            next_id: 1001,
            clock: Clock::default(),
            limits: Limits::new(default_limits()),
            search_limits: Limits::new(default_search_limits()),
            faults: Faults::default(),
            events: Vec::new(),
            search_lag_ms: 0,
            unique: HashMap::new(),
        }
    }

    pub fn property(&self, object: ObjectType, name: &str) -> Option<&Property> {
        self.properties.get(&object)?.iter().find(|p| p.name == name)
    }

    pub fn records(&self, object: ObjectType) -> &BTreeMap<u64, Record> {
        static EMPTY: std::sync::OnceLock<BTreeMap<u64, Record>> = std::sync::OnceLock::new();
        self.objects
            .get(&object)
            .unwrap_or_else(|| EMPTY.get_or_init(BTreeMap::new))
    }

    pub fn records_mut(&mut self, object: ObjectType) -> &mut BTreeMap<u64, Record> {
        self.objects.entry(object).or_default()
    }

    fn is_unique(&self, object: ObjectType, name: &str) -> bool {
        self.property(object, name).is_some_and(|p| p.has_unique_value)
    }

    /// Stores a record (new or changed), keeping the unique-value index in step. Every write of
    /// a record's properties goes through here or `archive_record`.
    pub fn put_record(&mut self, object: ObjectType, record: Record) {
        if let Some(previous) = self.records(object).get(&record.id).cloned() {
            self.unindex(object, &previous);
        }
        if record.archived_at.is_none() {
            let unique: Vec<(String, String)> = record
                .properties
                .iter()
                .filter(|(name, _)| self.is_unique(object, name))
                .map(|(name, value)| (name.clone(), value.to_lowercase()))
                .collect();
            for (name, value) in unique {
                self.unique.entry((object, name)).or_default().insert(value, record.id);
            }
        }
        self.records_mut(object).insert(record.id, record);
    }

    /// Marks a live record archived; false when there is none.
    pub fn archive_record(&mut self, object: ObjectType, id: u64, at: DateTime<Utc>) -> bool {
        let Some(mut record) = self
            .records(object)
            .get(&id)
            .filter(|r| r.archived_at.is_none())
            .cloned()
        else {
            return false;
        };
        record.archived_at = Some(at);
        record.updated_at = at;
        self.put_record(object, record);
        true
    }

    fn unindex(&mut self, object: ObjectType, record: &Record) {
        for (name, value) in &record.properties {
            if let Some(values) = self.unique.get_mut(&(object, name.clone()))
                && values.get(&value.to_lowercase()) == Some(&record.id)
            {
                values.remove(&value.to_lowercase());
            }
        }
    }

    /// The live record whose unique property `name` has `value` (case-insensitively).
    pub fn find_unique(&self, object: ObjectType, name: &str, value: &str) -> Option<u64> {
        if !self.is_unique(object, name) {
            return None;
        }
        self.unique
            .get(&(object, name.to_string()))?
            .get(&value.to_lowercase())
            .copied()
    }

    /// Indexes the values of a property that just became unique.
    pub fn index_property(&mut self, object: ObjectType, name: &str) {
        let values: HashMap<String, u64> = self
            .records(object)
            .values()
            .filter(|r| r.archived_at.is_none())
            .filter_map(|r| r.properties.get(name).map(|v| (v.to_lowercase(), r.id)))
            .collect();
        self.unique.insert((object, name.to_string()), values);
    }

    pub fn allocate_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn record_event(&mut self, event: ChangeEvent) {
        const MAX_PENDING: usize = 50_000;
        if self.events.len() < MAX_PENDING {
            self.events.push(event);
        }
    }
}

/// A stable, HubSpot-looking portal id for an account key.
pub fn hub_id_for(key: &str) -> u64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    10_000_000 + hash % 90_000_000
}

/// Parses what HubSpot accepts for a datetime: epoch milliseconds or ISO-8601.
pub fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(ms) = value.trim().parse::<i64>() {
        return Utc.timestamp_millis_opt(ms).single();
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value.trim()) {
        return Some(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

/// A JSON property value as the string HubSpot stores.
pub fn value_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}
