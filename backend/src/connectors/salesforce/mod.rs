//! Salesforce REST API (crm-apis.md §1; official-clients.md §2), against an org's instance URL.
//!
//! Changes are read with SOQL on `queryAll` (so deletions come too), ordered by
//! `SystemModstamp, Id` and resumed after `(stamp, id)`: a complete order, so ties are safe.
//! Writes go through sObject Collections (200 records a call, one result per record).

mod errors;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::catalogue::{Provider, SALESFORCE};
use super::{APPOINTMENT_CONTACT, DEAL_LINE_ITEMS};
use super::{
    AccountIdentity, ChangeCursor, ChangePage, Connector, ConnectorError, Credential, FieldMeta, FieldType, Fields,
    ObjectKind, ObjectMeta, PicklistOption, Record, WriteResults, Written,
};

pub const API_VERSION: &str = "v62.0";
const COLLECTION_MAX: usize = 200;
const QUERY_MAX: usize = 2000;
/// The External ID field Tandem writes its sync key into.
pub const SYNC_KEY_FIELD: &str = "Tandem_Id__c";

pub struct SalesforceConnector {
    http: reqwest::Client,
}

pub fn object_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Contact => "Contact",
        ObjectKind::Company => "Account",
        ObjectKind::Deal => "Opportunity",
        ObjectKind::Product => "Product2",
        ObjectKind::LineItem => "OpportunityLineItem",
        ObjectKind::Appointment => "Event",
    }
}

/// Salesforce prints times as `2024-05-01T10:00:00.000+0000`.
fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn to_record(json: &Value) -> Result<Record, ConnectorError> {
    let object = json
        .as_object()
        .ok_or_else(|| ConnectorError::protocol("a Salesforce record that is not an object"))?;
    let id = object
        .get("Id")
        .and_then(Value::as_str)
        .ok_or_else(|| ConnectorError::protocol("a Salesforce record without Id"))?;
    let modified_at = object
        .get("SystemModstamp")
        .or_else(|| object.get("LastModifiedDate"))
        .and_then(parse_time)
        .ok_or_else(|| ConnectorError::protocol(format!("Salesforce record {id} has no SystemModstamp")))?;
    let deleted = object.get("IsDeleted").and_then(Value::as_bool).unwrap_or(false);
    let fields = object
        .iter()
        .filter(|(k, _)| *k != "attributes")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Record {
        id: id.to_string(),
        fields,
        modified_at,
        deleted,
    })
}

/// A SOQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Field names go into SOQL as they are: refuse anything that is not a plain field name.
fn check_field(name: &str) -> Result<&str, ConnectorError> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        Ok(name)
    } else {
        Err(ConnectorError::Validation {
            field: Some(name.into()),
            code: "INVALID_FIELD".into(),
            message: format!("{name:?} is not a field name"),
        })
    }
}

fn select_list(kind: ObjectKind, fields: &[String]) -> Result<String, ConnectorError> {
    let mut names: Vec<&str> = vec!["Id", "SystemModstamp", "IsDeleted"];
    for field in fields {
        // An event's contact is its `WhoId`, whose details `with_contacts` fills in.
        let field = if kind == ObjectKind::Appointment && field == APPOINTMENT_CONTACT {
            "WhoId"
        } else if kind == ObjectKind::Deal && field == DEAL_LINE_ITEMS {
            // Read from the opportunity's line items by `with_line_items`.
            continue;
        } else {
            check_field(field)?
        };
        if !names.contains(&field) {
            names.push(field);
        }
    }
    Ok(names.join(", "))
}

fn with_type(kind: ObjectKind, fields: &Fields) -> Value {
    let mut record: Map<String, Value> = fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    record.insert("attributes".into(), json!({ "type": object_name(kind) }));
    Value::Object(record)
}

/// One result per record of a collection call.
fn collection_results(json: &Value, count: usize, upsert: bool) -> Result<WriteResults, ConnectorError> {
    let results = json
        .as_array()
        .ok_or_else(|| ConnectorError::protocol("a collection call answered without a result list"))?;
    if results.len() != count {
        return Err(ConnectorError::protocol(format!(
            "{count} records sent, {} results received",
            results.len()
        )));
    }
    Ok(results
        .iter()
        .map(|result| {
            if result.get("success").and_then(Value::as_bool) == Some(true) {
                let id = result
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ConnectorError::protocol("a success without an id"))?;
                let created = if upsert {
                    result.get("created").and_then(Value::as_bool).unwrap_or(false)
                } else {
                    true
                };
                Ok(Written {
                    id: id.to_string(),
                    created,
                })
            } else {
                let error = result.pointer("/errors/0").cloned().unwrap_or(Value::Null);
                Err(errors::from_entry(
                    error
                        .get("statusCode")
                        .and_then(Value::as_str)
                        .unwrap_or("UNKNOWN_EXCEPTION"),
                    error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("the record was not saved"),
                    error.get("fields"),
                    400,
                ))
            }
        })
        .collect())
}

impl SalesforceConnector {
    pub fn new(http: reqwest::Client) -> SalesforceConnector {
        SalesforceConnector { http }
    }

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
        let super::callout::Answer {
            status,
            headers,
            body: bytes,
        } = super::callout::exchange("salesforce", super::callout::CallKind::Standard, &method, path, request).await?;
        if let Some(usage) = headers.get("sforce-limit-info").and_then(|v| v.to_str().ok()) {
            tracing::debug!(usage, "Salesforce API usage");
        }
        if status.is_success() {
            let json = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Value::Null)
            };
            return Ok((status, json));
        }
        Err(errors::classify(status, &bytes))
    }

    /// The opportunities' line items (with `fields`), by opportunity id, oldest first.
    async fn line_items_of(
        &self,
        credential: &Credential,
        opportunities: &[String],
        fields: &[String],
    ) -> Result<BTreeMap<String, Vec<Record>>, ConnectorError> {
        let mut by_opportunity: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        if opportunities.is_empty() {
            return Ok(by_opportunity);
        }
        let mut fields = fields.to_vec();
        fields.push("OpportunityId".into());
        for item in self
            .find_by(
                credential,
                ObjectKind::LineItem,
                "OpportunityId",
                opportunities,
                &fields,
            )
            .await?
        {
            if let Some(opportunity) = item.fields.get("OpportunityId").and_then(Value::as_str) {
                by_opportunity.entry(opportunity.to_string()).or_default().push(item);
            }
        }
        Ok(by_opportunity)
    }

    fn data(path: &str) -> String {
        format!("/services/data/{API_VERSION}{path}")
    }
}

#[async_trait]
impl Connector for SalesforceConnector {
    fn provider(&self) -> &'static Provider {
        &SALESFORCE
    }

    async fn identity(&self, credential: &Credential) -> Result<AccountIdentity, ConnectorError> {
        let (_, json) = self
            .call(credential, Method::GET, "/services/oauth2/userinfo", &[], None)
            .await?;
        let org = json
            .get("organization_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectorError::protocol("userinfo without organization_id"))?;
        let username = json.get("preferred_username").and_then(Value::as_str);
        // The org's "My Domain" part of the username is the most recognisable name userinfo gives.
        let name = username
            .and_then(|u| u.split_once('@'))
            .map_or_else(|| format!("Salesforce org {org}"), |(_, d)| d.to_string());
        Ok(AccountIdentity {
            account_id: org.to_string(),
            account_name: name,
            user: username.map(str::to_string),
        })
    }

    async fn describe(&self, credential: &Credential, kind: ObjectKind) -> Result<ObjectMeta, ConnectorError> {
        let path = Self::data(&format!("/sobjects/{}/describe", object_name(kind)));
        let (_, json) = self.call(credential, Method::GET, &path, &[], None).await?;
        let flag = |f: &Value, name: &str| f.get(name).and_then(Value::as_bool).unwrap_or(false);
        let fields = json
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::protocol("describe without fields"))?
            .iter()
            .map(|f| FieldMeta {
                name: f.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                label: f.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                field_type: match f.get("type").and_then(Value::as_str).unwrap_or_default() {
                    "email" => FieldType::Email,
                    "phone" => FieldType::Phone,
                    "double" | "int" | "long" => FieldType::Number,
                    "currency" => FieldType::Currency,
                    "percent" => FieldType::Percent,
                    "date" => FieldType::Date,
                    "datetime" => FieldType::DateTime,
                    "boolean" => FieldType::Bool,
                    "picklist" => FieldType::Picklist,
                    "multipicklist" => FieldType::MultiPicklist,
                    "reference" => FieldType::Reference,
                    "id" => FieldType::Id,
                    _ => FieldType::Text,
                },
                required: !flag(f, "nillable") && flag(f, "createable") && !flag(f, "defaultedOnCreate"),
                read_only: !flag(f, "createable") && !flag(f, "updateable"),
                unique: flag(f, "unique") || flag(f, "externalId"),
                custom: flag(f, "custom"),
                options: f
                    .get("picklistValues")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|o| PicklistOption {
                        value: o.get("value").and_then(Value::as_str).unwrap_or_default().to_string(),
                        label: o.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                        active: o.get("active").and_then(Value::as_bool).unwrap_or(true),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let mut fields = fields;
        match kind {
            ObjectKind::Appointment => fields.push(super::appointment_contact_field()),
            ObjectKind::Deal => fields.push(super::deal_line_items_field()),
            ObjectKind::LineItem => {
                // Salesforce derives a line item's ProductCode from its product; Tandem writes it
                // by finding the product with that code (see `write_line_items`).
                if let Some(code) = fields.iter_mut().find(|f| f.name == "ProductCode") {
                    code.read_only = false;
                    code.label = "Product Code (Tandem links the product with this code)".into();
                }
                // And sets the opportunity itself: mappings do not name it.
                if let Some(parent) = fields.iter_mut().find(|f| f.name == "OpportunityId") {
                    parent.required = false;
                }
            }
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
        let path = Self::data(&format!("/sobjects/{}/{}", object_name(kind), check_field(id)?));
        let query = [("fields", select_list(kind, fields)?.replace(' ', ""))];
        match self.call(credential, Method::GET, &path, &query, None).await {
            Ok((_, json)) => to_record(&json).map(Some),
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
        let ids = ids
            .iter()
            .map(|id| check_field(id).map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        self.find_by(credential, kind, "Id", &ids, fields).await
    }

    async fn find_by(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        field: &str,
        values: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError> {
        let field = check_field(field)?;
        let mut records = Vec::new();
        // 200 literals keep the query well inside Salesforce's URL and SOQL length limits.
        for chunk in values.chunks(COLLECTION_MAX) {
            let list: Vec<String> = chunk.iter().map(|v| quote(v)).collect();
            let soql = format!(
                "SELECT {} FROM {} WHERE {field} IN ({}) ORDER BY Id ASC",
                select_list(kind, fields)?,
                object_name(kind),
                list.join(", ")
            );
            let (_, mut json) = self
                .call(credential, Method::GET, &Self::data("/query"), &[("q", soql)], None)
                .await?;
            loop {
                for record in json.get("records").and_then(Value::as_array).into_iter().flatten() {
                    records.push(to_record(record)?);
                }
                let next = json.get("nextRecordsUrl").and_then(Value::as_str).map(str::to_string);
                match next {
                    Some(next) if json.get("done").and_then(Value::as_bool) == Some(false) => {
                        json = self.call(credential, Method::GET, &next, &[], None).await?.1;
                    }
                    _ => break,
                }
            }
        }
        Ok(records)
    }

    async fn prepare_sync_key(&self, credential: &Credential, kind: ObjectKind) -> Result<String, ConnectorError> {
        // Salesforce fields are made in Setup (or by a managed package), not by this API.
        let meta = self.describe(credential, kind).await?;
        match meta.field(SYNC_KEY_FIELD) {
            Some(field) if field.unique => Ok(SYNC_KEY_FIELD.to_string()),
            _ => Err(ConnectorError::Validation {
                field: Some(SYNC_KEY_FIELD.into()),
                code: "SYNC_KEY_FIELD_MISSING".into(),
                message: format!(
                    "{} has no External ID field {SYNC_KEY_FIELD}: add a Text(64) field named Tandem_Id, marked \
                     External ID and Unique, in Setup > Object Manager (or install Tandem's package)",
                    object_name(kind)
                ),
            }),
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
        let limit = page_size.clamp(1, QUERY_MAX);
        let filter = match since {
            None => String::new(),
            // The start of a time (no id yet): `Id > ''` is not valid SOQL.
            Some(cursor) if cursor.id.is_empty() => {
                format!(
                    " WHERE SystemModstamp >= {}",
                    cursor.modified_at.format("%Y-%m-%dT%H:%M:%SZ")
                )
            }
            Some(cursor) => {
                // SystemModstamp has whole seconds in Salesforce, so a literal to the second is exact.
                let at = cursor.modified_at.format("%Y-%m-%dT%H:%M:%SZ");
                format!(
                    " WHERE SystemModstamp > {at} OR (SystemModstamp = {at} AND Id > {})",
                    quote(&cursor.id)
                )
            }
        };
        let soql = format!(
            "SELECT {} FROM {}{filter} ORDER BY SystemModstamp ASC, Id ASC LIMIT {limit}",
            select_list(kind, fields)?,
            object_name(kind)
        );
        let (_, json) = self
            .call(credential, Method::GET, &Self::data("/queryAll"), &[("q", soql)], None)
            .await?;
        let records = json
            .get("records")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::protocol("a query answered without records"))?
            .iter()
            .map(to_record)
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = records.last().map(ChangeCursor::of);
        let more = records.len() == limit;
        Ok(ChangePage {
            cursor: cursor.or_else(|| since.cloned()),
            records,
            more,
        })
    }

    async fn count(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Option<u64>, ConnectorError> {
        // SystemModstamp has whole seconds; so do the bounds a reconciliation cuts at.
        let mut conditions = Vec::new();
        if let Some(from) = from {
            conditions.push(format!("SystemModstamp >= {}", from.format("%Y-%m-%dT%H:%M:%SZ")));
        }
        if let Some(to) = to {
            conditions.push(format!("SystemModstamp < {}", to.format("%Y-%m-%dT%H:%M:%SZ")));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        // `query`, not `queryAll`: live records only.
        let soql = format!("SELECT COUNT() FROM {}{filter}", object_name(kind));
        let (_, json) = self
            .call(credential, Method::GET, &Self::data("/query"), &[("q", soql)], None)
            .await?;
        json.get("totalSize")
            .and_then(Value::as_u64)
            .map(Some)
            .ok_or_else(|| ConnectorError::protocol("a count answered without totalSize"))
    }

    async fn create(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(COLLECTION_MAX) {
            let body =
                json!({ "allOrNone": false, "records": chunk.iter().map(|f| with_type(kind, f)).collect::<Vec<_>>() });
            let (_, json) = self
                .call(
                    credential,
                    Method::POST,
                    &Self::data("/composite/sobjects"),
                    &[],
                    Some(&body),
                )
                .await?;
            results.extend(collection_results(&json, chunk.len(), false)?);
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
        for chunk in records.chunks(COLLECTION_MAX) {
            let body = json!({
                "allOrNone": false,
                "records": chunk.iter().map(|(id, f)| {
                    let mut record = with_type(kind, f);
                    record["id"] = json!(id);
                    record
                }).collect::<Vec<_>>(),
            });
            let (_, json) = self
                .call(
                    credential,
                    Method::PATCH,
                    &Self::data("/composite/sobjects"),
                    &[],
                    Some(&body),
                )
                .await?;
            results.extend(
                collection_results(&json, chunk.len(), false)?
                    .into_iter()
                    .map(|r| r.map(|w| Written { created: false, ..w })),
            );
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
        let path = Self::data(&format!(
            "/composite/sobjects/{}/{}",
            object_name(kind),
            check_field(key_field)?
        ));
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(COLLECTION_MAX) {
            let body =
                json!({ "allOrNone": false, "records": chunk.iter().map(|f| with_type(kind, f)).collect::<Vec<_>>() });
            let (_, json) = self.call(credential, Method::PATCH, &path, &[], Some(&body)).await?;
            results.extend(collection_results(&json, chunk.len(), true)?);
        }
        Ok(results)
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
        // Contacts' ids start with 003; a WhoId may also name a lead (00Q).
        let who = |r: &Record| {
            r.fields
                .get("WhoId")
                .and_then(Value::as_str)
                .filter(|id| id.starts_with("003"))
                .map(str::to_string)
        };
        let mut ids: Vec<String> = records.iter().filter_map(who).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let fields = ["Email", "FirstName", "LastName", "Phone"].map(String::from);
        let contacts: std::collections::BTreeMap<String, Record> = self
            .get_many(credential, ObjectKind::Contact, &ids, &fields)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        for record in records.iter_mut() {
            if let Some(contact) = who(record).and_then(|id| contacts.get(&id)) {
                let f = |name: &str| contact.fields.get(name);
                record.fields.insert(
                    APPOINTMENT_CONTACT.to_string(),
                    super::contact_details(&contact.id, f("Email"), f("FirstName"), f("LastName"), f("Phone")),
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
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let items = self.line_items_of(credential, &ids, item_fields).await?;
        for deal in records.iter_mut() {
            let list: Vec<Value> = items
                .get(&deal.id)
                .into_iter()
                .flatten()
                .map(|item| {
                    item_fields
                        .iter()
                        .filter_map(|f| Some((f.clone(), item.fields.get(f)?.clone())))
                        .collect::<Map<String, Value>>()
                        .into()
                })
                .collect();
            deal.fields.insert(DEAL_LINE_ITEMS.to_string(), Value::Array(list));
        }
        Ok(())
    }

    /// The new line items are created on the opportunity with the product whose ProductCode they
    /// carry (Salesforce picks the price book entry of the opportunity's price book and currency),
    /// then the old ones deleted. An opportunity whose new items fail keeps its old ones.
    async fn write_line_items(
        &self,
        credential: &Credential,
        deals: &[(String, Vec<Fields>)],
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let codes = super::line_items::product_numbers(deals, "ProductCode", |_| false);
        let products: BTreeMap<String, String> = if codes.is_empty() {
            BTreeMap::new()
        } else {
            self.find_by(
                credential,
                ObjectKind::Product,
                "ProductCode",
                &codes,
                &["ProductCode".into()],
            )
            .await?
            .into_iter()
            .filter_map(|p| Some((p.fields.get("ProductCode")?.as_str()?.to_string(), p.id)))
            .collect()
        };
        let plan = super::line_items::Replacement::plan(
            deals,
            "ProductCode",
            "Salesforce",
            &products,
            |_| false,
            |deal_id, item, product| {
                // ProductCode is the product's, not writable on the line item: the product is.
                let mut fields = item.clone();
                fields.remove("ProductCode");
                if let Some(product) = product {
                    fields.insert("Product2Id".into(), json!(product));
                }
                fields.insert("OpportunityId".into(), json!(deal_id));
                fields
            },
        );
        let writable: Vec<String> = plan.writable(deals).into_iter().map(str::to_string).collect();
        let old = self.line_items_of(credential, &writable, &[]).await?;
        let created = self.create(credential, ObjectKind::LineItem, &plan.inputs).await?;
        let (results, delete) = plan.settle(created, deals, |deal| {
            old.get(deal)
                .into_iter()
                .flatten()
                .map(|item| item.id.clone())
                .collect()
        });
        self.delete(credential, ObjectKind::LineItem, &delete).await?;
        Ok(results)
    }

    /// Logged emails and calls are tasks of subtype `Email` and `Call` on the contact (`WhoId`).
    /// Counted from the rows: an aggregate query (`GROUP BY`) would be fewer bytes, but the rows
    /// are at most a page or two per 200 contacts and work on every edition.
    async fn touch_points(
        &self,
        credential: &Credential,
        contact_ids: &[String],
    ) -> Result<super::TouchPointCounts, ConnectorError> {
        let mut counts: super::TouchPointCounts = contact_ids
            .iter()
            .map(|id| (id.clone(), tandem_shared::model::TouchPoints::default()))
            .collect();
        for chunk in contact_ids.chunks(COLLECTION_MAX) {
            let list = chunk
                .iter()
                .map(|id| check_field(id).map(quote))
                .collect::<Result<Vec<_>, _>>()?;
            let soql = format!(
                "SELECT Id, WhoId, TaskSubtype FROM Task WHERE WhoId IN ({}) AND TaskSubtype IN ('Email', 'Call')",
                list.join(", ")
            );
            let (_, mut json) = self
                .call(credential, Method::GET, &Self::data("/query"), &[("q", soql)], None)
                .await?;
            loop {
                for task in json.get("records").and_then(Value::as_array).into_iter().flatten() {
                    let who = task.get("WhoId").and_then(Value::as_str).unwrap_or_default();
                    // Ids come back in their 18-character form; callers may hold either.
                    let Some(entry) = counts
                        .iter_mut()
                        .find(|(id, _)| id.as_str() == who || (id.len() == 15 && who.starts_with(id.as_str())))
                        .map(|(_, c)| c)
                    else {
                        continue;
                    };
                    match task.get("TaskSubtype").and_then(Value::as_str) {
                        Some("Email") => entry.emails += 1,
                        Some("Call") => entry.calls += 1,
                        _ => {}
                    }
                }
                let next = json.get("nextRecordsUrl").and_then(Value::as_str).map(str::to_string);
                match next {
                    Some(next) if json.get("done").and_then(Value::as_bool) == Some(false) => {
                        json = self.call(credential, Method::GET, &next, &[], None).await?.1;
                    }
                    _ => break,
                }
            }
        }
        Ok(counts)
    }

    async fn delete(&self, credential: &Credential, _kind: ObjectKind, ids: &[String]) -> Result<(), ConnectorError> {
        for chunk in ids.chunks(COLLECTION_MAX) {
            let ids = chunk
                .iter()
                .map(|id| check_field(id).map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?
                .join(",");
            let query = [("ids", ids), ("allOrNone", "false".to_string())];
            let (_, json) = self
                .call(
                    credential,
                    Method::DELETE,
                    &Self::data("/composite/sobjects"),
                    &query,
                    None,
                )
                .await?;
            for result in collection_results(&json, chunk.len(), false)? {
                // Already gone is as deleted as it gets.
                match result {
                    Ok(_) | Err(ConnectorError::NotFound { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(())
    }
}
