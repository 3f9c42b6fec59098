//! A Pipedrive company account in memory: persons, organizations, deals (with their products),
//! products and activities; field definitions with custom fields keyed by 40-character hashes;
//! pipelines and stages; users; webhooks.
//!
//! Records are kept in API v2's shape (`emails`/`phones` as lists of `{value, primary, label}`,
//! custom field values under `custom_fields`, RFC 3339 times); v1 answers are made from them.
//! Wire facts: ../shared/docs/crm-apis.md §4, official-clients.md (Pipedrive).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::limits::{LimitSettings, Limits};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Persons,
    Organizations,
    Deals,
    Products,
    Activities,
}

impl Entity {
    pub const ALL: [Entity; 5] = [
        Entity::Persons,
        Entity::Organizations,
        Entity::Deals,
        Entity::Products,
        Entity::Activities,
    ];

    /// By the path segment (`persons`).
    pub fn parse(segment: &str) -> Option<Entity> {
        Some(match segment {
            "persons" => Entity::Persons,
            "organizations" => Entity::Organizations,
            "deals" => Entity::Deals,
            "products" => Entity::Products,
            "activities" => Entity::Activities,
            _ => return None,
        })
    }

    /// By the fields endpoint's name (`personFields`).
    pub fn parse_fields(segment: &str) -> Option<Entity> {
        Some(match segment {
            "personFields" => Entity::Persons,
            "organizationFields" => Entity::Organizations,
            "dealFields" => Entity::Deals,
            "productFields" => Entity::Products,
            "activityFields" => Entity::Activities,
            _ => return None,
        })
    }

    pub fn segment(self) -> &'static str {
        match self {
            Entity::Persons => "persons",
            Entity::Organizations => "organizations",
            Entity::Deals => "deals",
            Entity::Products => "products",
            Entity::Activities => "activities",
        }
    }

    /// As webhooks and errors name it (`person`).
    pub fn singular(self) -> &'static str {
        match self {
            Entity::Persons => "person",
            Entity::Organizations => "organization",
            Entity::Deals => "deal",
            Entity::Products => "product",
            Entity::Activities => "activity",
        }
    }

    /// The field every create needs.
    pub fn required(self) -> &'static str {
        match self {
            Entity::Persons | Entity::Organizations | Entity::Products => "name",
            Entity::Deals => "title",
            Entity::Activities => "subject",
        }
    }

    /// Whether the v2 search endpoint exists for it.
    pub fn searchable(self) -> bool {
        !matches!(self, Entity::Activities)
    }
}

/// One record. `fields` holds everything but the id, the times and `custom_fields`.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: u64,
    pub add_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub fields: Map<String, Value>,
    /// By the field's hash key.
    pub custom: BTreeMap<String, Value>,
}

/// RFC 3339 to the second, as API v2 prints times.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), as API v1 prints times.
pub fn v1_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Item {
    /// API v2's shape.
    pub fn v2(&self, entity: Entity) -> Value {
        let mut out = self.fields.clone();
        out.insert("id".into(), json!(self.id));
        out.insert("add_time".into(), json!(rfc3339(self.add_time)));
        out.insert("update_time".into(), json!(rfc3339(self.update_time)));
        if matches!(
            entity,
            Entity::Deals | Entity::Persons | Entity::Organizations | Entity::Products
        ) {
            out.insert("is_deleted".into(), json!(self.deleted_at.is_some()));
        }
        out.insert(
            "custom_fields".into(),
            Value::Object(self.custom.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
        Value::Object(out)
    }

    /// API v1's shape: custom fields at the top level, `email`/`phone` lists, `active_flag`.
    pub fn v1(&self, entity: Entity) -> Value {
        let mut out = Map::new();
        for (key, value) in &self.fields {
            let key = match key.as_str() {
                "emails" => "email",
                "phones" => "phone",
                "owner_id" if entity == Entity::Deals => "user_id",
                other => other,
            };
            out.insert(key.to_string(), value.clone());
        }
        for (key, value) in &self.custom {
            out.insert(key.clone(), value.clone());
        }
        out.insert("id".into(), json!(self.id));
        out.insert("add_time".into(), json!(v1_time(self.add_time)));
        out.insert("update_time".into(), json!(v1_time(self.update_time)));
        out.insert("active_flag".into(), json!(self.deleted_at.is_none()));
        Value::Object(out)
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// The values of a `[{value, primary, label}]` list (`emails`, `phones`).
    pub fn values_of(&self, field: &str) -> Vec<String> {
        self.fields
            .get(field)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.get("value").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An option of an `enum` or `set` field: records store its id.
#[derive(Clone, Debug, Serialize)]
pub struct FieldOption {
    pub id: u64,
    pub label: String,
}

/// A field definition, as `/v1/personFields` lists it.
#[derive(Clone, Debug)]
pub struct FieldDef {
    pub id: u64,
    /// The standard field's name, or a custom field's 40-character hash.
    pub key: String,
    pub name: String,
    /// `varchar`, `text`, `double`, `monetary`, `int`, `date`, `enum`, `set`, `phone`, `org`,
    /// `people`, `user`, `status`, `stage`, `visible_to`, `varchar_auto`, `time`.
    pub field_type: &'static str,
    pub options: Vec<FieldOption>,
    /// Custom fields can be edited and deleted; standard ones cannot.
    pub edit_flag: bool,
    pub mandatory: bool,
}

impl FieldDef {
    pub fn json(&self) -> Value {
        let mut out = json!({
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "order_nr": self.id,
            "field_type": self.field_type,
            "edit_flag": self.edit_flag,
            "mandatory_flag": self.mandatory,
            "active_flag": true,
            "add_visible_flag": true,
            "bulk_edit_allowed": true,
            "filtering_allowed": true,
            "sortable_flag": true,
            "searchable_flag": matches!(self.field_type, "varchar" | "text" | "phone" | "varchar_auto"),
            "important_flag": false,
        });
        if !self.options.is_empty() {
            out["options"] = json!(self.options);
        }
        out
    }
}

/// A custom field's key: 40 hex characters, as Pipedrive makes them.
pub fn custom_key(account: &str, entity: Entity, name: &str) -> String {
    let digest = Sha256::digest(format!("{account}/{}/{name}", entity.segment()).as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub id: u64,
    pub name: String,
    pub pipeline_id: u64,
    pub order_nr: u64,
    pub deal_probability: u64,
}

#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: u64,
    pub subscription_url: String,
    pub event_action: String,
    pub event_object: String,
    pub http_auth_user: Option<String>,
    pub http_auth_password: Option<String>,
    pub version: String,
    pub add_time: DateTime<Utc>,
    pub last_delivery: Option<(DateTime<Utc>, u16)>,
}

impl Webhook {
    pub fn json(&self, company_id: u64, user_id: u64) -> Value {
        json!({
            "id": self.id,
            "company_id": company_id,
            "owner_id": user_id,
            "user_id": user_id,
            "event_action": self.event_action,
            "event_object": self.event_object,
            "subscription_url": self.subscription_url,
            "version": self.version,
            "is_active": 1,
            "add_time": rfc3339(self.add_time),
            "remove_time": null,
            "type": "general",
            "http_auth_user": self.http_auth_user,
            "http_auth_password": self.http_auth_password.as_ref().map(|_| "******"),
            "remove_reason": null,
            "last_delivery_time": self.last_delivery.map(|(t, _)| rfc3339(t)),
            "last_http_status": self.last_delivery.map(|(_, s)| s),
            "admin_id": user_id,
        })
    }
}

/// A webhook event waiting for delivery.
#[derive(Clone, Debug)]
pub struct Event {
    pub action: &'static str,
    pub entity: Entity,
    pub id: u64,
    pub at: DateTime<Utc>,
    pub data: Value,
    pub previous: Value,
}

pub struct Account {
    pub key: String,
    pub company_id: u64,
    pub company_name: String,
    pub user_id: u64,
    pub user_name: String,
    pub user_email: String,
    /// The personal API token of the account's user (`x-api-token`, `api_token`).
    pub api_token: String,
    pub items: BTreeMap<Entity, BTreeMap<u64, Item>>,
    pub fields: BTreeMap<Entity, Vec<FieldDef>>,
    pub stages: Vec<Stage>,
    /// A deal's products: (attachment id, deal id, product id, price, quantity, …).
    pub deal_products: BTreeMap<u64, Vec<Value>>,
    pub webhooks: Vec<Webhook>,
    pub events: Vec<Event>,
    pub next_id: u64,
    pub clock: Clock,
    pub limits: Limits,
    pub search_limits: Limits,
    pub faults: Faults,
    /// Search sees writes this long after they happen (0: at once).
    pub search_lag_ms: i64,
    /// POST and PUT/PATCH requests today with an API token (`x-daily-requests-left`).
    pub writes_today: (chrono::NaiveDate, u64),
}

/// Pipedrive's limits for an OAuth token on the Essential plan: 80 requests per 2 seconds;
/// search: 10 per 2 seconds on every plan. The daily token budget is off until set.
pub fn default_limits() -> LimitSettings {
    LimitSettings {
        per_window: 80,
        window_ms: 2_000,
        daily: 0,
    }
}

pub fn default_search_limits() -> LimitSettings {
    LimitSettings {
        per_window: 10,
        window_ms: 2_000,
        daily: 0,
    }
}

/// The fair-use cap on POST/PUT requests a day per user with an API token.
pub const DAILY_WRITES_WITH_API_TOKEN: u64 = 10_000;

impl Account {
    pub fn empty(key: &str) -> Account {
        let seed = Sha256::digest(key.as_bytes());
        let company_id = 10_000_000 + u64::from(u32::from_be_bytes([seed[0], seed[1], seed[2], seed[3]]) % 9_000_000);
        let api_token: String = seed.iter().take(20).map(|b| format!("{b:02x}")).collect();
        let mut account = Account {
            key: key.to_string(),
            company_id,
            company_name: format!("{key} (Pipedrive sandbox)"),
            user_id: 1_000_001,
            user_name: "Sandbox Admin".into(),
            user_email: format!("admin@{key}.pipedrive.test"),
            api_token,
            items: Entity::ALL.iter().map(|e| (*e, BTreeMap::new())).collect(),
            fields: BTreeMap::new(),
            stages: Vec::new(),
            deal_products: BTreeMap::new(),
            webhooks: Vec::new(),
            events: Vec::new(),
            next_id: 1,
            clock: Clock::default(),
            limits: Limits::new(default_limits()),
            search_limits: Limits::new(default_search_limits()),
            faults: Faults::new(crate::FaultPlan::default()),
            search_lag_ms: 0,
            writes_today: (Utc::now().date_naive(), 0),
        };
        // Pipedrive stamps times to the second.
        account.clock.granularity_ms = 1_000;
        account
    }

    pub fn table(&self, entity: Entity) -> &BTreeMap<u64, Item> {
        &self.items[&entity]
    }

    pub fn table_mut(&mut self, entity: Entity) -> &mut BTreeMap<u64, Item> {
        self.items.entry(entity).or_default()
    }

    pub fn live(&self, entity: Entity) -> impl Iterator<Item = &Item> {
        self.table(entity).values().filter(|i| i.deleted_at.is_none())
    }

    pub fn get_live(&self, entity: Entity, id: u64) -> Option<&Item> {
        self.table(entity).get(&id).filter(|i| i.deleted_at.is_none())
    }

    pub fn fields_of(&self, entity: Entity) -> &[FieldDef] {
        self.fields.get(&entity).map_or(&[], Vec::as_slice)
    }

    pub fn field(&self, entity: Entity, key: &str) -> Option<&FieldDef> {
        self.fields_of(entity).iter().find(|f| f.key == key)
    }

    pub fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds a custom field; its key is the hash Pipedrive would give it.
    pub fn add_custom_field(
        &mut self,
        entity: Entity,
        name: &str,
        field_type: &'static str,
        options: &[&str],
    ) -> FieldDef {
        let key = custom_key(&self.key, entity, name);
        let next = self.fields_of(entity).len() as u64 + 1;
        let option_base = 100 * (next + 10 * entity as u64);
        let def = FieldDef {
            id: 9_000 + next + 100 * entity as u64,
            key,
            name: name.to_string(),
            field_type,
            options: options
                .iter()
                .enumerate()
                .map(|(i, label)| FieldOption {
                    id: option_base + i as u64 + 1,
                    label: (*label).to_string(),
                })
                .collect(),
            edit_flag: true,
            mandatory: false,
        };
        self.fields.entry(entity).or_default().push(def.clone());
        def
    }

    pub fn record_event(&mut self, action: &'static str, entity: Entity, id: u64, data: Value, previous: Value) {
        if self.webhooks.is_empty() {
            return;
        }
        let at = Utc::now();
        self.events.push(Event {
            action,
            entity,
            id,
            at,
            data,
            previous,
        });
    }

    /// Counts a write made with an API token; false when the day's cap is spent.
    pub fn count_token_write(&mut self) -> (bool, u64) {
        let today = Utc::now().date_naive();
        if self.writes_today.0 != today {
            self.writes_today = (today, 0);
        }
        if self.writes_today.1 >= DAILY_WRITES_WITH_API_TOKEN {
            return (false, 0);
        }
        self.writes_today.1 += 1;
        (true, DAILY_WRITES_WITH_API_TOKEN - self.writes_today.1)
    }
}
