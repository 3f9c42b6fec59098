//! Pipedrive (crm-apis.md §4; official-clients.md, Pipedrive), against a company's `api_domain`:
//! API v2 for records, search and deal products, v1 where Pipedrive has nothing newer (the
//! user, field definitions, recents). OAuth tokens go as `Authorization: Bearer`, personal API
//! tokens as `x-api-token`.
//!
//! Tandem's field names for Pipedrive are its own keys, flattened: a person's primary email and
//! phone are `email` and `phone`; custom fields are their 40-character hash keys, as Pipedrive
//! names them everywhere; option fields carry option ids (as text, like picklist values).
//!
//! Pipedrive writes one record a call: batches are sent a few calls at once, within the
//! connection's limiter. It has no upsert: the sync key is a custom field, searched first.
//! Changes are read with `updated_since` (whole seconds, inclusive), sorted by update time then
//! id, and resumed past the cursor's (time, id); records a page re-reads are skipped.

mod errors;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::stream::{self, StreamExt};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::callout::CallKind;
use super::catalogue::{PIPEDRIVE, Provider};
use super::{APPOINTMENT_CONTACT, DEAL_LINE_ITEMS};
use super::{
    AccountIdentity, ChangeCursor, ChangePage, Connector, ConnectorError, Credential, FieldMeta, FieldType, Fields,
    ObjectKind, ObjectMeta, PicklistOption, Record, TokenKind, WriteResults, Written,
};

/// The most records a v2 list returns in one page.
const LIST_MAX: usize = 500;
/// The most ids one `ids=` filter takes.
const IDS_MAX: usize = 100;
/// Calls a batch sends at once (Pipedrive has no batch writes).
const CONCURRENT_WRITES: usize = 8;
/// The custom field Tandem writes its sync key into.
pub const SYNC_KEY_NAME: &str = "Tandem ID";
/// A line item's product, by its code (the product's `code`), as Tandem names it.
pub const PRODUCT_CODE: &str = "product_code";
/// Field definitions are read again after this long (they change when an admin adds a field).
const FIELDS_TTL: Duration = Duration::from_secs(300);

pub fn entity(kind: ObjectKind) -> Result<&'static str, ConnectorError> {
    match kind {
        ObjectKind::Contact => Ok("persons"),
        ObjectKind::Company => Ok("organizations"),
        ObjectKind::Deal => Ok("deals"),
        ObjectKind::Product => Ok("products"),
        ObjectKind::Appointment => Ok("activities"),
        ObjectKind::LineItem => Err(ConnectorError::Validation {
            field: None,
            code: "UNSUPPORTED".into(),
            message: "Pipedrive keeps line items as a deal's products: sync them with the deal".into(),
        }),
    }
}

fn fields_endpoint(entity: &str) -> &'static str {
    match entity {
        "persons" => "personFields",
        "organizations" => "organizationFields",
        "deals" => "dealFields",
        "products" => "productFields",
        _ => "activityFields",
    }
}

/// A field definition, as `/v1/<entity>Fields` gives it.
#[derive(Clone, Debug)]
struct FieldDef {
    key: String,
    name: String,
    field_type: String,
    options: Vec<(String, String)>,
    custom: bool,
    mandatory: bool,
}

type FieldCache = HashMap<(String, &'static str), (Instant, Arc<Vec<FieldDef>>)>;

pub struct PipedriveConnector {
    http: reqwest::Client,
    fields: Mutex<FieldCache>,
}

fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .ok()
}

fn id_text(value: &Value) -> Option<String> {
    value
        .as_u64()
        .map(|n| n.to_string())
        .or_else(|| value.as_str().map(str::to_string))
}

/// The primary (else the first) value of a `[{value, primary}]` list, or of a list of strings.
fn primary(list: Option<&Value>) -> Value {
    let Some(list) = list.and_then(Value::as_array) else {
        return Value::Null;
    };
    let pick = list
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| list.first());
    match pick {
        Some(Value::String(s)) => json!(s),
        Some(entry) => entry.get("value").cloned().unwrap_or(Value::Null),
        None => Value::Null,
    }
}

/// Option ids as text, so that they compare with picklist values.
fn option_text(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.to_string()),
        Value::Array(list) => Value::Array(list.iter().map(option_text).collect()),
        other => other.clone(),
    }
}

fn to_record(json: &Value, defs: &[FieldDef]) -> Result<Record, ConnectorError> {
    let object = json
        .as_object()
        .ok_or_else(|| ConnectorError::protocol("a Pipedrive item that is not an object"))?;
    let id = object
        .get("id")
        .and_then(id_text)
        .ok_or_else(|| ConnectorError::protocol("a Pipedrive item without id"))?;
    let modified_at = object
        .get("update_time")
        .and_then(parse_time)
        .ok_or_else(|| ConnectorError::protocol(format!("Pipedrive item {id} has no update_time")))?;
    let deleted = object.get("is_deleted").and_then(Value::as_bool).unwrap_or(false)
        || object.get("active_flag").and_then(Value::as_bool) == Some(false);
    let option_keys: Vec<&str> = defs
        .iter()
        .filter(|d| matches!(d.field_type.as_str(), "enum" | "set"))
        .map(|d| d.key.as_str())
        .collect();
    let mut fields = BTreeMap::new();
    for (key, value) in object {
        match key.as_str() {
            "emails" | "email" => {
                fields.insert("email".to_string(), primary(Some(value)));
            }
            "phones" | "phone" => {
                fields.insert("phone".to_string(), primary(Some(value)));
            }
            "custom_fields" => {
                for (k, v) in value.as_object().into_iter().flatten() {
                    let v = if option_keys.contains(&k.as_str()) {
                        option_text(v)
                    } else {
                        v.clone()
                    };
                    fields.insert(k.clone(), v);
                }
            }
            "label_ids" => {
                fields.insert(key.clone(), option_text(value));
            }
            _ => {
                fields.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Record {
        id,
        fields,
        modified_at,
        deleted,
    })
}

fn is_custom_key(key: &str) -> bool {
    key.len() == 40 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A number from what a mapping gives (`"12"`, `12`, `12.5`).
fn number(value: &Value) -> Option<Value> {
    match value {
        Value::Number(_) => Some(value.clone()),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .map(|n| json!(n))
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|n| json!(n)))
        }
        _ => None,
    }
}

/// A v2 write body from Tandem's field names.
fn to_body(kind: ObjectKind, fields: &Fields, defs: &[FieldDef], creating: bool) -> Value {
    let type_of = |key: &str| defs.iter().find(|d| d.key == key).map(|d| d.field_type.as_str());
    let mut body = Map::new();
    let mut custom = Map::new();
    for (key, value) in fields {
        let converted = match type_of(key) {
            Some("enum" | "double" | "monetary" | "int" | "org" | "people" | "user" | "stage") if !value.is_null() => {
                number(value).unwrap_or_else(|| value.clone())
            }
            Some("set") => match value {
                Value::Array(list) => {
                    Value::Array(list.iter().map(|v| number(v).unwrap_or_else(|| v.clone())).collect())
                }
                Value::Null => json!([]),
                single => json!([number(single).unwrap_or_else(|| single.clone())]),
            },
            _ => value.clone(),
        };
        match key.as_str() {
            "email" | "phone" if kind == ObjectKind::Contact => {
                let list = match value.as_str().map(str::trim) {
                    Some(text) if !text.is_empty() => json!([{ "value": text, "primary": true, "label": "work" }]),
                    _ => json!([]),
                };
                body.insert(format!("{key}s"), list);
            }
            "id" | "add_time" | "update_time" | "is_deleted" | "custom_fields" => {}
            key if is_custom_key(key) => {
                custom.insert(key.to_string(), converted);
            }
            _ => {
                body.insert(key.clone(), converted);
            }
        }
    }
    // Pipedrive wants a person's full name; it shows first and last names from it.
    if kind == ObjectKind::Contact
        && creating
        && body
            .get("name")
            .is_none_or(|n| n.as_str().is_none_or(|s| s.trim().is_empty()))
    {
        let part = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let name = [part("first_name"), part("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = if name.is_empty() {
            part("email").unwrap_or_default().to_string()
        } else {
            name
        };
        if !name.is_empty() {
            body.insert("name".into(), json!(name));
        }
    }
    if !custom.is_empty() {
        body.insert("custom_fields".into(), Value::Object(custom));
    }
    Value::Object(body)
}

fn field_type(def: &FieldDef) -> FieldType {
    match (def.key.as_str(), def.field_type.as_str()) {
        ("email", _) => FieldType::Email,
        ("phone", _) | (_, "phone") => FieldType::Phone,
        ("id", _) => FieldType::Id,
        ("add_time" | "update_time" | "won_time" | "close_time", _) => FieldType::DateTime,
        (_, "double" | "int") => FieldType::Number,
        (_, "monetary") => FieldType::Currency,
        (_, "date") => FieldType::Date,
        (_, "enum" | "status" | "stage" | "visible_to") => FieldType::Picklist,
        (_, "set") => FieldType::MultiPicklist,
        (_, "org" | "people" | "user") => FieldType::Reference,
        _ => FieldType::Text,
    }
}

impl PipedriveConnector {
    pub fn new(http: reqwest::Client) -> PipedriveConnector {
        PipedriveConnector {
            http,
            fields: Mutex::new(HashMap::new()),
        }
    }

    async fn call(
        &self,
        credential: &Credential,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let kind = if path.ends_with("/search") {
            CallKind::Search
        } else {
            CallKind::Standard
        };
        let url = format!("{}{path}", credential.base_url.trim_end_matches('/'));
        let mut request = self.http.request(method.clone(), &url).query(query);
        request = match credential.kind {
            TokenKind::OAuth => request.bearer_auth(credential.access_token.expose_secret()),
            TokenKind::ApiToken => request.header("x-api-token", credential.access_token.expose_secret()),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let super::callout::Answer {
            status,
            headers,
            body: bytes,
        } = super::callout::exchange("pipedrive", kind, &method, path, request).await?;
        if status.is_success() {
            let json: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ConnectorError::protocol(format!("Pipedrive answered {status} without JSON: {e}")))?;
            if json.get("success").and_then(Value::as_bool) == Some(false) {
                return Err(errors::classify(StatusCode::BAD_REQUEST, &headers, &bytes));
            }
            return Ok(json);
        }
        Err(errors::classify(status, &headers, &bytes))
    }

    /// The entity's field definitions, read at most every few minutes per account.
    async fn defs(&self, credential: &Credential, entity: &'static str) -> Result<Arc<Vec<FieldDef>>, ConnectorError> {
        let key = (credential.base_url.clone(), entity);
        if let Some((at, defs)) = self.fields.lock().unwrap_or_else(PoisonError::into_inner).get(&key)
            && at.elapsed() < FIELDS_TTL
        {
            return Ok(defs.clone());
        }
        let defs = Arc::new(self.read_defs(credential, entity).await?);
        self.fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (Instant::now(), defs.clone()));
        Ok(defs)
    }

    async fn read_defs(&self, credential: &Credential, entity: &'static str) -> Result<Vec<FieldDef>, ConnectorError> {
        let path = format!("/api/v1/{}", fields_endpoint(entity));
        let mut defs = Vec::new();
        let mut start = 0u64;
        loop {
            let json = self
                .call(
                    credential,
                    Method::GET,
                    &path,
                    &[("start", start.to_string()), ("limit", "500".into())],
                    None,
                )
                .await?;
            for def in json.get("data").and_then(Value::as_array).into_iter().flatten() {
                let Some(key) = def.get("key").and_then(Value::as_str) else {
                    continue;
                };
                defs.push(FieldDef {
                    key: key.to_string(),
                    name: def.get("name").and_then(Value::as_str).unwrap_or(key).to_string(),
                    field_type: def
                        .get("field_type")
                        .and_then(Value::as_str)
                        .unwrap_or("varchar")
                        .to_string(),
                    options: def
                        .get("options")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|o| Some((id_text(o.get("id")?)?, o.get("label")?.as_str()?.to_string())))
                        .collect(),
                    custom: def.get("edit_flag").and_then(Value::as_bool).unwrap_or(false),
                    mandatory: def.get("mandatory_flag").and_then(Value::as_bool).unwrap_or(false),
                });
            }
            let pagination = json.pointer("/additional_data/pagination");
            match pagination.and_then(|p| p.get("next_start")).and_then(Value::as_u64) {
                Some(next) if pagination.and_then(|p| p.get("more_items_in_collection")) == Some(&json!(true)) => {
                    start = next;
                }
                _ => return Ok(defs),
            }
        }
    }

    fn forget_defs(&self, credential: &Credential, entity: &'static str) {
        self.fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(credential.base_url.clone(), entity));
    }

    fn records(json: &Value, defs: &[FieldDef]) -> Result<Vec<Record>, ConnectorError> {
        json.get("data")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|i| to_record(i, defs)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    async fn create_one(
        &self,
        credential: &Credential,
        entity: &'static str,
        body: &Value,
    ) -> Result<Written, ConnectorError> {
        let json = self
            .call(credential, Method::POST, &format!("/api/v2/{entity}"), &[], Some(body))
            .await?;
        let id = json
            .pointer("/data/id")
            .and_then(id_text)
            .ok_or_else(|| ConnectorError::protocol("a create answered without the new id"))?;
        Ok(Written { id, created: true })
    }

    async fn update_one(
        &self,
        credential: &Credential,
        entity: &'static str,
        id: &str,
        body: &Value,
    ) -> Result<Written, ConnectorError> {
        check_id(id)?;
        self.call(
            credential,
            Method::PATCH,
            &format!("/api/v2/{entity}/{id}"),
            &[],
            Some(body),
        )
        .await?;
        Ok(Written {
            id: id.to_string(),
            created: false,
        })
    }

    /// Ids of the records whose `field` is exactly `value` (search: `fields`, `exact_match`).
    async fn search_ids(
        &self,
        credential: &Credential,
        entity: &'static str,
        field: &str,
        value: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        Ok(self
            .search(credential, entity, field, value)
            .await?
            .iter()
            .filter_map(|item| item.get("id").and_then(id_text))
            .collect())
    }

    /// The search result items (`data.items[].item`) for `field` = `value`.
    async fn search(
        &self,
        credential: &Credential,
        entity: &'static str,
        field: &str,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        // Search finds whole values exactly; a first or last name is a word of the full name.
        let (search_field, exact) = match field {
            "email" | "phone" | "name" | "title" | "code" | "address" => (field, true),
            "first_name" | "last_name" => ("name", false),
            key if is_custom_key(key) => ("custom_fields", true),
            other => {
                return Err(ConnectorError::Validation {
                    field: Some(other.into()),
                    code: "NOT_SEARCHABLE".into(),
                    message: format!("Pipedrive cannot search {entity} by {other}"),
                });
            }
        };
        let value = value.trim();
        if value.is_empty() || (!exact && value.chars().count() < 2) {
            return Ok(Vec::new());
        }
        let json = self
            .call(
                credential,
                Method::GET,
                &format!("/api/v2/{entity}/search"),
                &[
                    ("term", value.to_string()),
                    ("fields", search_field.to_string()),
                    ("exact_match", exact.to_string()),
                    ("limit", "100".into()),
                ],
                None,
            )
            .await?;
        Ok(json
            .pointer("/data/items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|hit| hit.get("item").cloned())
            .collect())
    }

    async fn deal_products(&self, credential: &Credential, deal: &str) -> Result<Vec<Value>, ConnectorError> {
        check_id(deal)?;
        let json = self
            .call(
                credential,
                Method::GET,
                &format!("/api/v2/deals/{deal}/products"),
                &[("limit", "500".into())],
                None,
            )
            .await?;
        Ok(json.get("data").and_then(Value::as_array).cloned().unwrap_or_default())
    }
}

/// A deal's products, as `/v2/deals/{id}/products` gives them (Pipedrive lists no fields for
/// them), and the product's code by which Tandem names the product.
fn deal_product_fields() -> ObjectMeta {
    let field = |name: &str, label: &str, field_type: FieldType, required: bool| FieldMeta {
        name: name.into(),
        label: label.into(),
        field_type,
        required,
        read_only: false,
        unique: false,
        custom: false,
        options: Vec::new(),
    };
    ObjectMeta {
        kind: ObjectKind::LineItem,
        crm_name: "deal products".into(),
        fields: vec![
            field(PRODUCT_CODE, "Product code (names the product)", FieldType::Text, true),
            field("product_id", "Product", FieldType::Reference, false),
            field("name", "Name", FieldType::Text, false),
            field("item_price", "Item price", FieldType::Currency, true),
            field("quantity", "Quantity", FieldType::Number, true),
            field("discount", "Discount (percent)", FieldType::Percent, false),
            field("tax", "Tax (percent)", FieldType::Percent, false),
            field("comments", "Comments", FieldType::Text, false),
        ],
    }
}

/// Runs calls a few at once (Pipedrive writes one record a call): one result each, in order.
async fn all_of<T, F: Future<Output = T>>(calls: Vec<F>) -> Vec<T> {
    stream::iter(calls).buffered(CONCURRENT_WRITES).collect().await
}

/// Ids go into paths: Pipedrive's are numbers.
fn check_id(id: &str) -> Result<(), ConnectorError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ConnectorError::NotFound {
            message: format!("{id:?} is not a Pipedrive id"),
        })
    }
}

#[async_trait]
impl Connector for PipedriveConnector {
    fn provider(&self) -> &'static Provider {
        &PIPEDRIVE
    }

    fn credential_from(
        &self,
        base_url: &str,
        entered: &std::collections::BTreeMap<&'static str, secrecy::SecretString>,
    ) -> Result<Credential, ConnectorError> {
        let token = entered.get("api_token").ok_or_else(|| ConnectorError::Validation {
            field: Some("api_token".into()),
            code: "REQUIRED".into(),
            message: "Pipedrive takes a personal API token".into(),
        })?;
        Ok(Credential {
            access_token: token.clone(),
            base_url: base_url.to_string(),
            kind: TokenKind::ApiToken,
        })
    }

    async fn identity(&self, credential: &Credential) -> Result<AccountIdentity, ConnectorError> {
        let json = self
            .call(credential, Method::GET, "/api/v1/users/me", &[], None)
            .await?;
        let data = json
            .get("data")
            .ok_or_else(|| ConnectorError::protocol("users/me answered without data"))?;
        Ok(AccountIdentity {
            account_id: data
                .get("company_id")
                .and_then(id_text)
                .ok_or_else(|| ConnectorError::protocol("users/me answered without company_id"))?,
            account_name: data
                .get("company_name")
                .and_then(Value::as_str)
                .unwrap_or("Pipedrive")
                .to_string(),
            user: data.get("email").and_then(Value::as_str).map(str::to_string),
        })
    }

    async fn describe(&self, credential: &Credential, kind: ObjectKind) -> Result<ObjectMeta, ConnectorError> {
        if kind == ObjectKind::LineItem {
            return Ok(deal_product_fields());
        }
        let entity = entity(kind)?;
        self.forget_defs(credential, entity);
        let defs = self.defs(credential, entity).await?;
        let mut fields: Vec<FieldMeta> = defs
            .iter()
            .map(|def| FieldMeta {
                name: def.key.clone(),
                label: def.name.clone(),
                field_type: field_type(def),
                required: def.mandatory,
                read_only: matches!(
                    def.key.as_str(),
                    "id" | "add_time" | "update_time" | "won_time" | "close_time"
                ),
                unique: def.custom && def.name == SYNC_KEY_NAME,
                custom: def.custom,
                options: def
                    .options
                    .iter()
                    .map(|(value, label)| PicklistOption {
                        value: value.clone(),
                        label: label.clone(),
                        active: true,
                    })
                    .collect(),
            })
            .collect();
        // A deal's status and an activity's type are stored as words, not option ids.
        for field in fields.iter_mut().filter(|f| {
            (kind == ObjectKind::Deal && f.name == "status") || (kind == ObjectKind::Appointment && f.name == "type")
        }) {
            for option in &mut field.options {
                option.value = option.label.clone();
            }
        }
        match kind {
            ObjectKind::Deal => fields.push(super::deal_line_items_field()),
            ObjectKind::Appointment => fields.push(super::appointment_contact_field()),
            _ => {}
        }
        Ok(ObjectMeta {
            kind,
            crm_name: entity.to_string(),
            fields,
        })
    }

    async fn get(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        id: &str,
        _fields: &[String],
    ) -> Result<Option<Record>, ConnectorError> {
        let entity = entity(kind)?;
        if check_id(id).is_err() {
            return Ok(None);
        }
        let defs = self.defs(credential, entity).await?;
        match self
            .call(credential, Method::GET, &format!("/api/v2/{entity}/{id}"), &[], None)
            .await
        {
            Ok(json) => {
                let data = json
                    .get("data")
                    .ok_or_else(|| ConnectorError::protocol("a get answered without data"))?;
                let record = to_record(data, &defs)?;
                Ok((!record.deleted).then_some(record))
            }
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn get_many(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        ids: &[String],
        _fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let entity = entity(kind)?;
        let defs = self.defs(credential, entity).await?;
        let ids: Vec<&String> = ids.iter().filter(|id| check_id(id).is_ok()).collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_MAX) {
            let list = chunk.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
            let json = self
                .call(
                    credential,
                    Method::GET,
                    &format!("/api/v2/{entity}"),
                    &[("ids", list), ("limit", LIST_MAX.to_string())],
                    None,
                )
                .await?;
            out.extend(Self::records(&json, &defs)?.into_iter().filter(|r| !r.deleted));
        }
        Ok(out)
    }

    async fn find_by(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        field: &str,
        values: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let entity = entity(kind)?;
        let mut items: Vec<(String, Value)> = Vec::new();
        for value in values {
            for item in self.search(credential, entity, field, value).await? {
                if let Some(id) = item.get("id").and_then(id_text)
                    && !items.iter().any(|(known, _)| *known == id)
                {
                    items.push((id, item));
                }
            }
        }
        // Search matches words and values loosely; keep exact matches of the field only.
        let wanted: Vec<String> = values.iter().map(|v| v.trim().to_lowercase()).collect();
        // A search item has a person's name, emails and phones: when that is all the caller
        // reads, it is the answer (one request a value); otherwise the records are read.
        let from_search = ["email", "phone", "name"];
        let records = if from_search.contains(&field) && fields.iter().all(|f| from_search.contains(&f.as_str())) {
            items
                .into_iter()
                .flat_map(|(id, item)| {
                    let list = |key: &str| -> Vec<String> {
                        item.get(key)
                            .and_then(Value::as_array)
                            .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                            .unwrap_or_default()
                    };
                    let (emails, phones) = (list("emails"), list("phones"));
                    let modified_at = item.get("update_time").and_then(parse_time).unwrap_or_default();
                    // One record per matching value of a list field, so that each is found.
                    let values: Vec<Option<String>> = match field {
                        "email" => emails.iter().cloned().map(Some).collect(),
                        "phone" => phones.iter().cloned().map(Some).collect(),
                        _ => vec![None],
                    };
                    values.into_iter().map(move |matched| {
                        let mut fields = BTreeMap::new();
                        fields.insert("name".to_string(), item.get("name").cloned().unwrap_or(Value::Null));
                        fields.insert(
                            "email".to_string(),
                            json!(if field == "email" {
                                matched.clone()
                            } else {
                                emails.first().cloned()
                            }),
                        );
                        fields.insert(
                            "phone".to_string(),
                            json!(if field == "phone" {
                                matched.clone()
                            } else {
                                phones.first().cloned()
                            }),
                        );
                        Record {
                            id: id.clone(),
                            fields,
                            modified_at,
                            deleted: false,
                        }
                    })
                })
                .collect()
        } else {
            let ids: Vec<String> = items.into_iter().map(|(id, _)| id).collect();
            self.get_many(credential, kind, &ids, fields).await?
        };
        Ok(records
            .into_iter()
            .filter(|r| {
                r.fields
                    .get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|v| wanted.contains(&v.trim().to_lowercase()))
            })
            .collect())
    }

    async fn prepare_sync_key(&self, credential: &Credential, kind: ObjectKind) -> Result<String, ConnectorError> {
        let entity = entity(kind)?;
        self.forget_defs(credential, entity);
        let defs = self.defs(credential, entity).await?;
        if let Some(def) = defs.iter().find(|d| d.custom && d.name == SYNC_KEY_NAME) {
            return Ok(def.key.clone());
        }
        let json = self
            .call(
                credential,
                Method::POST,
                &format!("/api/v1/{}", fields_endpoint(entity)),
                &[],
                Some(&json!({ "name": SYNC_KEY_NAME, "field_type": "varchar", "add_visible_flag": false })),
            )
            .await?;
        self.forget_defs(credential, entity);
        json.pointer("/data/key")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ConnectorError::protocol("adding a field answered without its key"))
    }

    async fn changes(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        since: Option<&ChangeCursor>,
        _fields: &[String],
        page_size: usize,
    ) -> Result<ChangePage, ConnectorError> {
        let entity = entity(kind)?;
        let defs = self.defs(credential, entity).await?;
        let limit = page_size.clamp(1, LIST_MAX);
        let mut query = vec![
            ("sort_by", "update_time".to_string()),
            ("sort_direction", "asc".to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(cursor) = since {
            // `updated_since` is inclusive and to the second: the cursor's second is read again
            // and what the cursor has passed is skipped.
            let second = cursor.modified_at.trunc_subsecs(0);
            query.push(("updated_since", second.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        }
        let mut records: Vec<Record> = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut page_query = query.clone();
            if let Some(cursor) = &next {
                page_query.push(("cursor", cursor.clone()));
            }
            let json = self
                .call(credential, Method::GET, &format!("/api/v2/{entity}"), &page_query, None)
                .await?;
            next = json
                .pointer("/additional_data/next_cursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            records.extend(
                Self::records(&json, &defs)?
                    .into_iter()
                    .filter(|r| since.is_none_or(|c| ChangeCursor::of(r) > *c)),
            );
            // A page wholly at or before the cursor (a group of records sharing its second)
            // moves nothing on: go on through the listing until something new comes.
            if !records.is_empty() || next.is_none() {
                break;
            }
        }
        records.sort_by(|a, b| ChangeCursor::of(a).cmp(&ChangeCursor::of(b)));
        let more = next.is_some() || records.len() > page_size;
        records.truncate(page_size);
        let cursor = records.last().map(ChangeCursor::of).or_else(|| since.cloned());
        Ok(ChangePage { records, cursor, more })
    }

    async fn deletions(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let entity = entity(kind)?;
        let item = match entity {
            "persons" => "person",
            "organizations" => "organization",
            "deals" => "deal",
            "products" => "product",
            _ => "activity",
        };
        let defs = self.defs(credential, entity).await?;
        let mut out = Vec::new();
        let mut start = 0u64;
        loop {
            let json = self
                .call(
                    credential,
                    Method::GET,
                    "/api/v1/recents",
                    &[
                        ("since_timestamp", since.format("%Y-%m-%d %H:%M:%S").to_string()),
                        ("items", item.to_string()),
                        ("start", start.to_string()),
                        ("limit", LIST_MAX.to_string()),
                    ],
                    None,
                )
                .await?;
            for change in json.get("data").and_then(Value::as_array).into_iter().flatten() {
                if let Some(data) = change
                    .get("data")
                    .filter(|d| d.get("active_flag") == Some(&json!(false)))
                {
                    out.push(to_record(data, &defs)?);
                }
            }
            match json
                .pointer("/additional_data/pagination/next_start")
                .and_then(Value::as_u64)
            {
                Some(next) => start = next,
                None => return Ok(out),
            }
        }
    }

    async fn create(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError> {
        let entity = entity(kind)?;
        let defs = self.defs(credential, entity).await?;
        let writes: Vec<_> = records
            .iter()
            .map(|fields| {
                let body = to_body(kind, fields, &defs, true);
                async move { self.create_one(credential, entity, &body).await }
            })
            .collect();
        Ok(all_of(writes).await)
    }

    async fn update(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[(String, Fields)],
    ) -> Result<WriteResults, ConnectorError> {
        let entity = entity(kind)?;
        let defs = self.defs(credential, entity).await?;
        let writes: Vec<_> = records
            .iter()
            .map(|(id, fields)| {
                let body = to_body(kind, fields, &defs, false);
                async move { self.update_one(credential, entity, id, &body).await }
            })
            .collect();
        Ok(all_of(writes).await)
    }

    async fn upsert(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        key_field: &str,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError> {
        let entity = entity(kind)?;
        let defs = self.defs(credential, entity).await?;
        let writes: Vec<_> = records
            .iter()
            .map(|fields| {
                let key = fields.get(key_field).and_then(Value::as_str).map(str::to_string);
                let defs = defs.clone();
                async move {
                    let Some(key) = key.filter(|k| !k.trim().is_empty()) else {
                        return Err(ConnectorError::Validation {
                            field: Some(key_field.to_string()),
                            code: "REQUIRED".into(),
                            message: format!("an upsert needs a value for {key_field}"),
                        });
                    };
                    let found = self.search_ids(credential, entity, key_field, &key).await?;
                    match found.as_slice() {
                        [] => {
                            self.create_one(credential, entity, &to_body(kind, fields, &defs, true))
                                .await
                        }
                        [id] => {
                            self.update_one(credential, entity, id, &to_body(kind, fields, &defs, false))
                                .await
                        }
                        several => Err(ConnectorError::Conflict {
                            message: format!("{} {entity} have {key_field} = {key}", several.len()),
                            existing_id: None,
                        }),
                    }
                }
            })
            .collect();
        Ok(all_of(writes).await)
    }

    async fn delete(&self, credential: &Credential, kind: ObjectKind, ids: &[String]) -> Result<(), ConnectorError> {
        let entity = entity(kind)?;
        let deletes: Vec<_> = ids
            .iter()
            .filter(|id| check_id(id).is_ok())
            .map(|id| {
                let path = format!("/api/v2/{entity}/{id}");
                async move {
                    match self.call(credential, Method::DELETE, &path, &[], None).await {
                        Ok(_) | Err(ConnectorError::NotFound { .. }) => Ok(()),
                        Err(error) => Err(error),
                    }
                }
            })
            .collect();
        all_of(deletes).await.into_iter().collect()
    }

    async fn with_contacts(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &mut [Record],
    ) -> Result<(), ConnectorError> {
        if kind != ObjectKind::Appointment {
            return Ok(());
        }
        let person_ids: Vec<String> = records
            .iter()
            .filter_map(|r| r.fields.get("person_id").and_then(id_text))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let persons = self.get_many(credential, ObjectKind::Contact, &person_ids, &[]).await?;
        let by_id: HashMap<&str, &Record> = persons.iter().map(|p| (p.id.as_str(), p)).collect();
        for record in records.iter_mut() {
            let Some(person) = record
                .fields
                .get("person_id")
                .and_then(id_text)
                .and_then(|id| by_id.get(id.as_str()).copied())
            else {
                continue;
            };
            let details = super::contact_details(
                &person.id,
                person.fields.get("email"),
                person.fields.get("first_name"),
                person.fields.get("last_name"),
                person.fields.get("phone"),
            );
            record.fields.insert(APPOINTMENT_CONTACT.into(), details);
        }
        Ok(())
    }

    async fn with_line_items(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &mut [Record],
        item_fields: &[String],
    ) -> Result<(), ConnectorError> {
        if kind != ObjectKind::Deal {
            return Ok(());
        }
        let mut attached: Vec<Vec<Value>> = Vec::with_capacity(records.len());
        for record in records.iter() {
            attached.push(self.deal_products(credential, &record.id).await?);
        }
        // Line items name their product by its code, as the app's product numbers are.
        let product_ids: Vec<String> = attached
            .iter()
            .flatten()
            .filter_map(|p| p.get("product_id").and_then(id_text))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let products = self
            .get_many(credential, ObjectKind::Product, &product_ids, &[])
            .await?;
        let codes: HashMap<&str, Value> = products
            .iter()
            .map(|p| (p.id.as_str(), p.fields.get("code").cloned().unwrap_or(Value::Null)))
            .collect();
        for (record, products) in records.iter_mut().zip(attached) {
            let items: Vec<Value> = products
                .iter()
                .map(|p| {
                    let mut item: Map<String, Value> = item_fields
                        .iter()
                        .filter_map(|f| p.get(f).map(|v| (f.clone(), v.clone())))
                        .collect();
                    if let Some(product) = p.get("product_id").and_then(id_text) {
                        item.insert(
                            PRODUCT_CODE.into(),
                            codes.get(product.as_str()).cloned().unwrap_or(Value::Null),
                        );
                        item.insert("product_id".into(), json!(product));
                    }
                    Value::Object(item)
                })
                .collect();
            record.fields.insert(DEAL_LINE_ITEMS.into(), Value::Array(items));
        }
        Ok(())
    }

    async fn write_line_items(
        &self,
        credential: &Credential,
        deals: &[(String, Vec<Fields>)],
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let mut product_ids: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for (deal, items) in deals {
            let result = async {
                // Every item's product first: a deal whose items cannot all be written keeps its old ones.
                let mut bodies = Vec::new();
                for item in items {
                    let mut body: Map<String, Value> = Map::new();
                    for (key, value) in item {
                        match key.as_str() {
                            PRODUCT_CODE => {
                                let code = value.as_str().map(str::trim).unwrap_or_default().to_string();
                                let id = match product_ids.get(&code) {
                                    Some(id) => id.clone(),
                                    None => {
                                        let found = self.search_ids(credential, "products", "code", &code).await?;
                                        let id =
                                            found.into_iter().next().ok_or_else(|| ConnectorError::Validation {
                                                field: Some(format!("{DEAL_LINE_ITEMS}.{PRODUCT_CODE}")),
                                                code: "UNKNOWN_PRODUCT".into(),
                                                message: format!("Pipedrive has no product with the code {code:?}"),
                                            })?;
                                        product_ids.insert(code, id.clone());
                                        id
                                    }
                                };
                                body.insert("product_id".into(), number(&json!(id)).unwrap_or(Value::Null));
                            }
                            "product_id" | "item_price" | "quantity" | "discount" | "tax" => {
                                body.insert(key.clone(), number(value).unwrap_or_else(|| value.clone()));
                            }
                            _ => {
                                body.insert(key.clone(), value.clone());
                            }
                        }
                    }
                    bodies.push(Value::Object(body));
                }
                let existing = self.deal_products(credential, deal).await?;
                for body in &bodies {
                    self.call(
                        credential,
                        Method::POST,
                        &format!("/api/v2/deals/{deal}/products"),
                        &[],
                        Some(body),
                    )
                    .await?;
                }
                // The old ones go once the new ones are all in.
                for old in existing {
                    if let Some(id) = old.get("id").and_then(id_text) {
                        self.call(
                            credential,
                            Method::DELETE,
                            &format!("/api/v2/deals/{deal}/products/{id}"),
                            &[],
                            None,
                        )
                        .await?;
                    }
                }
                Ok(())
            }
            .await;
            out.push(result);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<FieldDef> {
        vec![
            FieldDef {
                key: "a".repeat(40),
                name: "Lead source".into(),
                field_type: "enum".into(),
                options: vec![("12".into(), "Web".into())],
                custom: true,
                mandatory: false,
            },
            FieldDef {
                key: "label_ids".into(),
                name: "Labels".into(),
                field_type: "set".into(),
                options: vec![("1".into(), "Customer".into())],
                custom: false,
                mandatory: false,
            },
        ]
    }

    #[test]
    fn records_flatten_and_bodies_nest_again() {
        let v2 = json!({
            "id": 7, "name": "Ada Lovelace", "first_name": "Ada", "update_time": "2025-01-02T03:04:05Z",
            "emails": [{ "value": "b@x.io", "primary": false }, { "value": "ada@x.io", "primary": true }],
            "phones": [], "label_ids": [1], "is_deleted": false,
            "custom_fields": { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": 12 },
        });
        let record = to_record(&v2, &defs()).unwrap();
        assert_eq!(record.id, "7");
        assert_eq!(record.fields["email"], json!("ada@x.io"));
        assert_eq!(record.fields["phone"], Value::Null);
        assert_eq!(record.fields["label_ids"], json!(["1"]));
        assert_eq!(
            record.fields[&"a".repeat(40)],
            json!("12"),
            "option ids as picklist values"
        );

        let fields: Fields = [
            ("email".to_string(), json!("new@x.io")),
            ("first_name".to_string(), json!("Grace")),
            ("last_name".to_string(), json!("Hopper")),
            ("a".repeat(40), json!("12")),
            ("label_ids".to_string(), json!("1")),
        ]
        .into_iter()
        .collect();
        let body = to_body(ObjectKind::Contact, &fields, &defs(), true);
        assert_eq!(
            body["emails"],
            json!([{ "value": "new@x.io", "primary": true, "label": "work" }])
        );
        assert_eq!(
            body["name"],
            json!("Grace Hopper"),
            "a person's name from first and last"
        );
        assert_eq!(body["custom_fields"][&"a".repeat(40)], json!(12));
        assert_eq!(body["label_ids"], json!([1]));
        let update = to_body(ObjectKind::Contact, &fields, &defs(), false);
        assert!(update.get("name").is_none(), "an update leaves the name as it is");
    }
}
