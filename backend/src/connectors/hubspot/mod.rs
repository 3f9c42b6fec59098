//! HubSpot CRM v3 (crm-apis.md §2; official-clients.md §1).
//!
//! Changes are read with the search API (`changes`); archived records, which search never
//! returns, from the archived list (`deletions`).

pub mod changes;
mod errors;
pub mod webhook;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub use errors::token_error_is_revoked;

use super::callout::CallKind;
use super::catalogue::{HUBSPOT, Provider};
use super::{APPOINTMENT_CONTACT, DEAL_LINE_ITEMS};
use super::{
    AccountIdentity, ChangeCursor, ChangePage, Connector, ConnectorError, Credential, FieldMeta, FieldType, Fields,
    ObjectKind, ObjectMeta, PicklistOption, Record, WriteResults, Written,
};
use changes::SEARCH_MAX;

const BATCH_MAX: usize = 100;
/// Inputs of one v4 association batch read.
const ASSOCIATIONS_MAX: usize = 1_000;
/// How far before the last check archived records are looked for: the archived list can show a
/// record a few moments after its archive time.
const ARCHIVE_LOOKBACK_MS: i64 = 60_000;
/// HubSpot's default association type from a line item to its deal.
const LINE_ITEM_TO_DEAL: u32 = 20;
/// The unique property Tandem creates on each object for its sync key.
pub const SYNC_KEY_PROPERTY: &str = "tandem_id";

pub struct HubSpotConnector {
    http: reqwest::Client,
}

fn object_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Contact => "contacts",
        ObjectKind::Company => "companies",
        ObjectKind::Deal => "deals",
        ObjectKind::Product => "products",
        ObjectKind::LineItem => "line_items",
        ObjectKind::Appointment => "meetings",
    }
}

/// Contacts keep `lastmodifieddate`; every other object `hs_lastmodifieddate`.
pub fn modified_property(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Contact => "lastmodifieddate",
        _ => "hs_lastmodifieddate",
    }
}

fn parse_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    if let Ok(ms) = text.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

fn to_record(json: &Value, kind: ObjectKind) -> Result<Record, ConnectorError> {
    let id = json
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .ok_or_else(|| ConnectorError::protocol("a HubSpot object without an id"))?;
    let fields: BTreeMap<String, Value> = json
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| props.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let modified_at = parse_time(fields.get(modified_property(kind)))
        .or_else(|| parse_time(json.get("updatedAt")))
        .ok_or_else(|| ConnectorError::protocol(format!("HubSpot object {id} has no modification time")))?;
    let deleted = json.get("archived").and_then(Value::as_bool).unwrap_or(false);
    Ok(Record {
        id,
        fields,
        modified_at,
        deleted,
    })
}

/// Properties to ask for: the caller's, plus the id and time stamp the cursor needs.
fn with_cursor_fields(kind: ObjectKind, fields: &[String]) -> Vec<String> {
    // `contact` and `line_items` are filled from associated records, not read as properties.
    let mut all: Vec<String> = fields
        .iter()
        .filter(|f| *f != APPOINTMENT_CONTACT && *f != DEAL_LINE_ITEMS)
        .cloned()
        .collect();
    for needed in ["hs_object_id", modified_property(kind)] {
        if !all.iter().any(|f| f == needed) {
            all.push(needed.to_string());
        }
    }
    all
}

/// A HubSpot id as the number it is; the empty id of a cursor (before every record at its time)
/// as 0, below every id HubSpot gives.
fn id_number(id: &str) -> Result<u64, ConnectorError> {
    if id.is_empty() {
        return Ok(0);
    }
    id.parse()
        .map_err(|_| ConnectorError::protocol(format!("HubSpot ids are numbers, not {id:?}")))
}

impl HubSpotConnector {
    pub fn new(http: reqwest::Client) -> HubSpotConnector {
        HubSpotConnector { http }
    }

    /// One HTTP call, logged as a callout (method, path template, status, duration; never the
    /// token or query), with the answer classified.
    async fn call(
        &self,
        credential: &Credential,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), ConnectorError> {
        let url = format!("{}{path}", credential.base_url.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(credential.access_token.expose_secret())
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let kind = if path.ends_with("/search") {
            CallKind::Search
        } else {
            CallKind::Standard
        };
        let super::callout::Answer {
            status,
            headers,
            body: bytes,
        } = super::callout::exchange("hubspot", kind, &method, path, request).await?;
        if status.is_success() || status == StatusCode::MULTI_STATUS {
            let json = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            };
            return Ok((status, json));
        }
        Err(errors::classify(status, &headers, &bytes))
    }

    async fn search(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        body: Value,
    ) -> Result<Vec<Record>, ConnectorError> {
        let path = format!("/crm/v3/objects/{}/search", object_name(kind));
        let (_, json) = self.call(credential, Method::POST, &path, &[], Some(&body)).await?;
        json.get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::protocol("search answered without results"))?
            .iter()
            .map(|r| to_record(r, kind))
            .collect()
    }

    /// The ids of the `to` records associated with each `from` record (v4 batch read, one call per
    /// 1,000 records), in id order.
    async fn associated(
        &self,
        credential: &Credential,
        from: &str,
        to: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, ConnectorError> {
        let path = format!("/crm/v4/associations/{from}/{to}/batch/read");
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut associated: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for chunk in ids.chunks(ASSOCIATIONS_MAX) {
            let inputs: Vec<Value> = chunk.iter().map(|id| json!({ "id": id })).collect();
            let (_, json) = self
                .call(credential, Method::POST, &path, &[], Some(&json!({ "inputs": inputs })))
                .await?;
            for result in json.get("results").and_then(Value::as_array).into_iter().flatten() {
                let Some(from_id) = result.pointer("/from/id").map(text) else {
                    continue;
                };
                let mut targets: Vec<String> = result
                    .get("to")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("toObjectId").map(text))
                    .collect();
                targets.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
                associated.entry(from_id).or_default().extend(targets);
            }
        }
        Ok(associated)
    }

    /// Records archived after `after`, as deleted records stamped with their archive time. The
    /// archived list cannot be filtered by time, so it is read whole: HubSpot keeps archived
    /// records for 90 days, which bounds it (one call per 100 of them).
    async fn archived_since(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        after: DateTime<Utc>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let path = format!("/crm/v3/objects/{}", object_name(kind));
        let mut deleted = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![
                ("archived", "true".to_string()),
                ("limit", BATCH_MAX.to_string()),
                ("properties", "hs_object_id".to_string()),
            ];
            if let Some(cursor) = &cursor {
                query.push(("after", cursor.clone()));
            }
            let (_, json) = self.call(credential, Method::GET, &path, &query, None).await?;
            for result in json.get("results").and_then(Value::as_array).into_iter().flatten() {
                let Some(at) = parse_time(result.get("archivedAt")) else {
                    continue;
                };
                if at <= after {
                    continue;
                }
                let mut record = to_record(result, kind)?;
                record.modified_at = at;
                record.deleted = true;
                deleted.push(record);
            }
            cursor = json.pointer("/paging/next/after").and_then(|a| {
                a.as_str()
                    .map(str::to_string)
                    .or_else(|| a.as_u64().map(|n| n.to_string()))
            });
            if cursor.is_none() {
                break;
            }
        }
        deleted.sort_by_key(|r| (r.modified_at, r.id.parse::<u64>().unwrap_or(0)));
        Ok(deleted)
    }

    /// The product ids of the given SKUs (`hs_sku`), in one search per 100 SKUs.
    async fn products_by_sku(
        &self,
        credential: &Credential,
        skus: Vec<String>,
    ) -> Result<BTreeMap<String, String>, ConnectorError> {
        if skus.is_empty() {
            return Ok(BTreeMap::new());
        }
        let products = self
            .find_by(
                credential,
                ObjectKind::Product,
                "hs_sku",
                &skus,
                &["hs_sku".to_string()],
            )
            .await?;
        Ok(products
            .into_iter()
            .filter_map(|p| Some((p.fields.get("hs_sku")?.as_str()?.to_string(), p.id)))
            .collect())
    }

    /// Sends one batch; on a rejected batch (HubSpot fails the whole batch for one bad value)
    /// splits it, so that only the bad inputs fail.
    async fn write_batch(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        operation: &str,
        inputs: Vec<Value>,
        key_of: &(dyn Fn(&Value) -> Option<String> + Sync),
    ) -> Result<WriteResults, ConnectorError> {
        let path = format!("/crm/v3/objects/{}/batch/{operation}", object_name(kind));
        let body = json!({ "inputs": inputs });
        match self.call(credential, Method::POST, &path, &[], Some(&body)).await {
            Ok((_, json)) => Ok(match_results(&inputs, &json, operation, key_of)),
            // A refused input is that record's result alone.
            Err(error @ (ConnectorError::Validation { .. } | ConnectorError::Conflict { .. })) if inputs.len() == 1 => {
                Ok(vec![Err(error)])
            }
            // HubSpot refuses the whole batch for one bad input without saying which: halve it
            // until the culprits stand alone, so that the rest is written in a few calls (one
            // bad record in 100 costs about 14, not 100).
            Err(ConnectorError::Validation { .. } | ConnectorError::Conflict { .. }) => {
                let mut left = inputs;
                let right = left.split_off(left.len() / 2);
                let mut results = Box::pin(self.write_batch(credential, kind, operation, left, key_of)).await?;
                results.extend(Box::pin(self.write_batch(credential, kind, operation, right, key_of)).await?);
                Ok(results)
            }
            Err(error) => Err(error),
        }
    }
}

/// Pairs batch results with inputs. HubSpot does not promise result order, so results are
/// matched by the input's key (record id, or the upsert key) where there is one; created
/// records, which have no key yet, are taken in order.
fn match_results(
    inputs: &[Value],
    json: &Value,
    operation: &str,
    key_of: &(dyn Fn(&Value) -> Option<String> + Sync),
) -> WriteResults {
    let results: Vec<&Value> = json
        .get("results")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let missing: Vec<String> = json
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| {
            e.pointer("/context/ids")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut by_key: BTreeMap<String, &Value> = BTreeMap::new();
    for result in &results {
        if let Some(key) = key_of(result) {
            by_key.insert(key, result);
        }
    }
    let mut unkeyed = results.iter();
    inputs
        .iter()
        .map(|input| {
            let key = key_of(input);
            let result = match &key {
                Some(key) if missing.contains(key) => {
                    return Err(ConnectorError::NotFound {
                        message: format!("no HubSpot record {key}"),
                    });
                }
                Some(key) => by_key.get(key).copied(),
                None => unkeyed.next().copied(),
            };
            let result = result.ok_or_else(|| {
                ConnectorError::protocol(format!("no result for input {key:?} of a batch {operation}"))
            })?;
            let id = result
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ConnectorError::protocol("a result without an id"))?;
            let created = match operation {
                "create" => true,
                "upsert" => result.get("new").and_then(Value::as_bool).unwrap_or(false),
                _ => false,
            };
            Ok(Written {
                id: id.to_string(),
                created,
            })
        })
        .collect()
}

fn field_type(property: &Value) -> FieldType {
    let kind = property.get("type").and_then(Value::as_str).unwrap_or_default();
    let field = property.get("fieldType").and_then(Value::as_str).unwrap_or_default();
    let name = property.get("name").and_then(Value::as_str).unwrap_or_default();
    match (kind, field) {
        ("number", _) if name == "hs_object_id" => FieldType::Id,
        ("number", _) => FieldType::Number,
        ("date", _) => FieldType::Date,
        ("datetime", _) => FieldType::DateTime,
        ("bool", _) => FieldType::Bool,
        ("enumeration", "checkbox") => FieldType::MultiPicklist,
        ("enumeration", "booleancheckbox") => FieldType::Bool,
        ("enumeration", _) => FieldType::Picklist,
        (_, "phonenumber") => FieldType::Phone,
        _ if name == "email" => FieldType::Email,
        _ => FieldType::Text,
    }
}

#[async_trait]
impl Connector for HubSpotConnector {
    fn provider(&self) -> &'static Provider {
        &HUBSPOT
    }

    async fn identity(&self, credential: &Credential) -> Result<AccountIdentity, ConnectorError> {
        // The token is part of this path: log the template, not the token.
        let url = format!(
            "{}/oauth/v1/access-tokens/{}",
            credential.base_url.trim_end_matches('/'),
            credential.access_token.expose_secret()
        );
        let super::callout::Answer {
            status,
            headers,
            body: bytes,
        } = super::callout::exchange(
            "hubspot",
            CallKind::Standard,
            &Method::GET,
            "/oauth/v1/access-tokens/{token}",
            self.http.get(url),
        )
        .await?;
        if !status.is_success() {
            return Err(match errors::classify(status, &headers, &bytes) {
                // An unknown token here means the token is no good.
                ConnectorError::NotFound { message } => ConnectorError::Unauthorized { message },
                other => other,
            });
        }
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| ConnectorError::protocol(e.to_string()))?;
        let hub_id = json
            .get("hub_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| ConnectorError::protocol("token info without hub_id"))?;
        let domain = json.get("hub_domain").and_then(Value::as_str).unwrap_or_default();
        Ok(AccountIdentity {
            account_id: hub_id.to_string(),
            account_name: if domain.is_empty() {
                format!("HubSpot portal {hub_id}")
            } else {
                domain.to_string()
            },
            user: json.get("user").and_then(Value::as_str).map(str::to_string),
        })
    }

    async fn describe(&self, credential: &Credential, kind: ObjectKind) -> Result<ObjectMeta, ConnectorError> {
        let path = format!("/crm/v3/properties/{}", object_name(kind));
        let (_, json) = self.call(credential, Method::GET, &path, &[], None).await?;
        let fields = json
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::protocol("properties answered without results"))?
            .iter()
            .filter(|p| !p.get("hidden").and_then(Value::as_bool).unwrap_or(false))
            .map(|p| FieldMeta {
                name: p.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                label: p.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                field_type: field_type(p),
                required: false,
                read_only: p
                    .pointer("/modificationMetadata/readOnlyValue")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                unique: p.get("hasUniqueValue").and_then(Value::as_bool).unwrap_or(false),
                custom: !p.get("hubspotDefined").and_then(Value::as_bool).unwrap_or(true),
                options: p
                    .get("options")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|o| PicklistOption {
                        value: o.get("value").and_then(Value::as_str).unwrap_or_default().to_string(),
                        label: o.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                        active: !o.get("hidden").and_then(Value::as_bool).unwrap_or(false),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let mut fields = fields;
        match kind {
            ObjectKind::Appointment => fields.push(super::appointment_contact_field()),
            ObjectKind::Deal => fields.push(super::deal_line_items_field()),
            _ => {}
        }
        Ok(ObjectMeta {
            kind,
            crm_name: object_name(kind).to_string(),
            fields,
        })
    }

    async fn get(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        id: &str,
        fields: &[String],
    ) -> Result<Option<Record>, ConnectorError> {
        let path = format!("/crm/v3/objects/{}/{}", object_name(kind), id_number(id)?);
        let query = [("properties", with_cursor_fields(kind, fields).join(","))];
        match self.call(credential, Method::GET, &path, &query, None).await {
            Ok((_, json)) => to_record(&json, kind).map(Some),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn get_many(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        ids: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let path = format!("/crm/v3/objects/{}/batch/read", object_name(kind));
        let properties = with_cursor_fields(kind, fields);
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_MAX) {
            let inputs = chunk
                .iter()
                .map(|id| Ok(json!({ "id": id_number(id)?.to_string() })))
                .collect::<Result<Vec<_>, ConnectorError>>()?;
            let body = json!({ "inputs": inputs, "properties": properties, "archived": false });
            // Unknown ids come back as errors of a 207 answer: they are simply not there.
            let (_, json) = self.call(credential, Method::POST, &path, &[], Some(&body)).await?;
            for result in json.get("results").and_then(Value::as_array).into_iter().flatten() {
                records.push(to_record(result, kind)?);
            }
        }
        Ok(records)
    }

    async fn find_by(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        field: &str,
        values: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let properties = with_cursor_fields(kind, fields);
        let mut records = Vec::new();
        // HubSpot takes at most 100 values in one IN filter.
        for chunk in values.chunks(BATCH_MAX) {
            let mut after: Option<String> = None;
            loop {
                let mut body = json!({
                    "filterGroups": [{"filters": [{"propertyName": field, "operator": "IN", "values": chunk}]}],
                    "properties": properties,
                    "limit": SEARCH_MAX,
                });
                if let Some(after) = &after {
                    body["after"] = json!(after);
                }
                let path = format!("/crm/v3/objects/{}/search", object_name(kind));
                let (_, json) = self.call(credential, Method::POST, &path, &[], Some(&body)).await?;
                for result in json.get("results").and_then(Value::as_array).into_iter().flatten() {
                    records.push(to_record(result, kind)?);
                }
                after = json.pointer("/paging/next/after").and_then(|a| {
                    a.as_str()
                        .map(str::to_string)
                        .or_else(|| a.as_u64().map(|n| n.to_string()))
                });
                if after.is_none() {
                    break;
                }
            }
        }
        Ok(records)
    }

    async fn prepare_sync_key(&self, credential: &Credential, kind: ObjectKind) -> Result<String, ConnectorError> {
        let path = format!("/crm/v3/properties/{}/{SYNC_KEY_PROPERTY}", object_name(kind));
        match self.call(credential, Method::GET, &path, &[], None).await {
            Ok((_, property)) => {
                if property.get("hasUniqueValue").and_then(Value::as_bool) == Some(true) {
                    return Ok(SYNC_KEY_PROPERTY.to_string());
                }
                return Err(ConnectorError::Validation {
                    field: Some(SYNC_KEY_PROPERTY.into()),
                    code: "NOT_UNIQUE".into(),
                    message: format!(
                        "the {} property {SYNC_KEY_PROPERTY} exists but does not require unique values; \
                         Tandem needs a unique property to write its sync key",
                        object_name(kind)
                    ),
                });
            }
            Err(ConnectorError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        let body = json!({
            "name": SYNC_KEY_PROPERTY,
            "label": "Tandem ID",
            "type": "string",
            "fieldType": "text",
            "description": "Tandem's key of the record in the app it is synced with. Do not edit.",
            "hasUniqueValue": true,
        });
        let path = format!("/crm/v3/properties/{}", object_name(kind));
        match self.call(credential, Method::POST, &path, &[], Some(&body)).await {
            // Created meanwhile by another run: as good.
            Ok(_) | Err(ConnectorError::Conflict { .. }) => Ok(SYNC_KEY_PROPERTY.to_string()),
            Err(error) => Err(error),
        }
    }

    async fn changes(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        since: Option<&ChangeCursor>,
        fields: &[String],
        page_size: usize,
    ) -> Result<ChangePage, ConnectorError> {
        let properties = with_cursor_fields(kind, fields);
        changes::read(
            |body| self.search(credential, kind, body),
            kind,
            since,
            &properties,
            page_size,
        )
        .await
    }

    async fn count(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Option<u64>, ConnectorError> {
        let modified = modified_property(kind);
        let mut filters = Vec::new();
        if let Some(from) = from {
            filters.push(
                json!({"propertyName": modified, "operator": "GTE", "value": from.timestamp_millis().to_string()}),
            );
        }
        if let Some(to) = to {
            filters
                .push(json!({"propertyName": modified, "operator": "LT", "value": to.timestamp_millis().to_string()}));
        }
        let groups = if filters.is_empty() {
            json!([])
        } else {
            json!([{ "filters": filters }])
        };
        // One result is the least a search returns; `total` counts them all.
        let body = json!({ "filterGroups": groups, "properties": ["hs_object_id"], "limit": 1 });
        let path = format!("/crm/v3/objects/{}/search", object_name(kind));
        let (_, json) = self.call(credential, Method::POST, &path, &[], Some(&body)).await?;
        json.get("total")
            .and_then(Value::as_u64)
            .map(Some)
            .ok_or_else(|| ConnectorError::protocol("search answered without a total"))
    }

    async fn deletions(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let after = since - chrono::Duration::milliseconds(ARCHIVE_LOOKBACK_MS);
        self.archived_since(credential, kind, after).await
    }

    async fn create(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(BATCH_MAX) {
            let inputs = chunk.iter().map(|fields| json!({ "properties": fields })).collect();
            results.extend(self.write_batch(credential, kind, "create", inputs, &|_| None).await?);
        }
        Ok(results)
    }

    async fn update(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[(String, Fields)],
    ) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(BATCH_MAX) {
            let inputs = chunk
                .iter()
                .map(|(id, fields)| json!({ "id": id, "properties": fields }))
                .collect();
            let key = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
            results.extend(self.write_batch(credential, kind, "update", inputs, &key).await?);
        }
        Ok(results)
    }

    async fn upsert(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        key_field: &str,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(BATCH_MAX) {
            let mut inputs = Vec::with_capacity(chunk.len());
            for fields in chunk {
                let key = fields
                    .get(key_field)
                    .and_then(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .or_else(|| v.as_number().map(|n| n.to_string()))
                    })
                    .ok_or_else(|| ConnectorError::Validation {
                        field: Some(key_field.to_string()),
                        code: "MISSING_KEY".into(),
                        message: format!("every upserted record needs a value for {key_field}"),
                    })?;
                let mut properties = fields.clone();
                properties.remove(key_field);
                inputs.push(json!({ "idProperty": key_field, "id": key, "properties": properties }));
            }
            let key_field = key_field.to_string();
            // Inputs carry the key in `id`; results carry it among their properties.
            let key = move |v: &Value| {
                v.pointer(&format!("/properties/{key_field}"))
                    .or_else(|| {
                        if v.get("idProperty").is_some() {
                            v.get("id")
                        } else {
                            None
                        }
                    })
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
            };
            results.extend(self.write_batch(credential, kind, "upsert", inputs, &key).await?);
        }
        Ok(results)
    }

    async fn with_contacts(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &mut [Record],
    ) -> Result<(), ConnectorError> {
        if kind != ObjectKind::Appointment || records.is_empty() {
            return Ok(());
        }
        // Meetings to contacts: one batch read per 1,000 meetings, then the contacts in batches.
        let mut contact_of: BTreeMap<String, String> = BTreeMap::new();
        for chunk in records.chunks(ASSOCIATIONS_MAX) {
            let inputs: Vec<Value> = chunk.iter().map(|r| json!({ "id": r.id })).collect();
            let path = format!(
                "/crm/v4/associations/{}/{}/batch/read",
                object_name(kind),
                object_name(ObjectKind::Contact)
            );
            let (_, json) = self
                .call(credential, Method::POST, &path, &[], Some(&json!({ "inputs": inputs })))
                .await?;
            for result in json.get("results").and_then(Value::as_array).into_iter().flatten() {
                let from = result.pointer("/from/id").map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let to = result.pointer("/to/0/toObjectId").map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                if let (Some(from), Some(to)) = (from, to) {
                    contact_of.insert(from, to);
                }
            }
        }
        let mut ids: Vec<String> = contact_of.values().cloned().collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let fields = ["email", "firstname", "lastname", "phone"].map(String::from);
        let contacts: BTreeMap<String, Record> = self
            .get_many(credential, ObjectKind::Contact, &ids, &fields)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        for record in records.iter_mut() {
            if let Some(contact) = contact_of.get(&record.id).and_then(|id| contacts.get(id)) {
                let f = |name: &str| contact.fields.get(name);
                record.fields.insert(
                    APPOINTMENT_CONTACT.to_string(),
                    super::contact_details(&contact.id, f("email"), f("firstname"), f("lastname"), f("phone")),
                );
            }
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
        if kind != ObjectKind::Deal || records.is_empty() {
            return Ok(());
        }
        let deal_ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let items_of = self.associated(credential, "deals", "line_items", &deal_ids).await?;
        let item_ids: Vec<String> = items_of.values().flatten().cloned().collect();
        let items: BTreeMap<String, Record> = if item_ids.is_empty() {
            BTreeMap::new()
        } else {
            self.get_many(credential, ObjectKind::LineItem, &item_ids, item_fields)
                .await?
                .into_iter()
                .map(|item| (item.id.clone(), item))
                .collect()
        };
        for deal in records.iter_mut() {
            let list: Vec<Value> = items_of
                .get(&deal.id)
                .into_iter()
                .flatten()
                .filter_map(|id| items.get(id))
                .map(|item| {
                    // Only what the mapping reads: the time stamps would make every read differ.
                    item_fields
                        .iter()
                        .filter_map(|f| Some((f.clone(), item.fields.get(f)?.clone())))
                        .collect::<serde_json::Map<String, Value>>()
                        .into()
                })
                .collect();
            deal.fields.insert(DEAL_LINE_ITEMS.to_string(), Value::Array(list));
        }
        Ok(())
    }

    /// HubSpot has no key to upsert line items by, so a deal's line items are replaced as a set:
    /// the new ones are created with their association to the deal (and their product, found by
    /// SKU), then the old ones archived. A deal whose new items fail keeps its old ones.
    async fn write_line_items(
        &self,
        credential: &Credential,
        deals: &[(String, Vec<Fields>)],
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let linked = |item: &Fields| item.contains_key("hs_product_id");
        let skus = super::line_items::product_numbers(deals, "hs_sku", linked);
        let products = self.products_by_sku(credential, skus).await?;
        let plan = super::line_items::Replacement::plan(
            deals,
            "hs_sku",
            "HubSpot",
            &products,
            linked,
            |deal_id, item, product| {
                let mut properties = item.clone();
                if let Some(product) = product {
                    properties.insert("hs_product_id".into(), json!(product));
                }
                json!({
                    "properties": properties,
                    "associations": [{
                        "to": { "id": deal_id },
                        "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": LINE_ITEM_TO_DEAL }],
                    }],
                })
            },
        );
        let writable: Vec<String> = plan.writable(deals).into_iter().map(str::to_string).collect();
        let old = self.associated(credential, "deals", "line_items", &writable).await?;
        let mut created = Vec::with_capacity(plan.inputs.len());
        for chunk in plan.inputs.chunks(BATCH_MAX) {
            created.extend(
                self.write_batch(credential, ObjectKind::LineItem, "create", chunk.to_vec(), &|_| None)
                    .await?,
            );
        }
        let (results, archive) = plan.settle(created, deals, |deal| old.get(deal).cloned().unwrap_or_default());
        self.delete(credential, ObjectKind::LineItem, &archive).await?;
        Ok(results)
    }

    /// Emails and calls are engagements associated with the contact: one association read each
    /// per 1,000 contacts.
    async fn touch_points(
        &self,
        credential: &Credential,
        contact_ids: &[String],
    ) -> Result<super::TouchPointCounts, ConnectorError> {
        for id in contact_ids {
            id_number(id)?;
        }
        let emails = self.associated(credential, "contacts", "emails", contact_ids).await?;
        let calls = self.associated(credential, "contacts", "calls", contact_ids).await?;
        let count = |of: &BTreeMap<String, Vec<String>>, id: &String| {
            u32::try_from(of.get(id).map_or(0, Vec::len)).unwrap_or(u32::MAX)
        };
        Ok(contact_ids
            .iter()
            .map(|id| {
                let counts = tandem_shared::model::TouchPoints {
                    emails: count(&emails, id),
                    calls: count(&calls, id),
                };
                (id.clone(), counts)
            })
            .collect())
    }

    async fn delete(&self, credential: &Credential, kind: ObjectKind, ids: &[String]) -> Result<(), ConnectorError> {
        let path = format!("/crm/v3/objects/{}/batch/archive", object_name(kind));
        for chunk in ids.chunks(BATCH_MAX) {
            let body = json!({ "inputs": chunk.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() });
            self.call(credential, Method::POST, &path, &[], Some(&body)).await?;
        }
        Ok(())
    }
}
