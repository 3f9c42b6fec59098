//! API v2 records: list (cursor paging, `updated_since`, sorting), get, create, update (PATCH),
//! delete, search; deal products. Writes are validated as Pipedrive's v2 schema does, and
//! refused with `Validation failed: <field>: <reason>`.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::Pipedrive;
use super::errors::PdError;
use super::gate::{Authed, parse_body, query_value};
use super::model::{Account, Entity, Item};

pub const MAX_LIMIT: usize = 500;

pub fn entity(segment: &str) -> Result<Entity, PdError> {
    Entity::parse(segment).ok_or_else(|| PdError::not_found("Endpoint"))
}

fn ok(data: Value, additional: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(json!({ "success": true, "data": data, "additional_data": additional }).to_string())
}

fn limit_of(req: &HttpRequest) -> Result<usize, PdError> {
    match query_value(req, "limit") {
        None => Ok(100),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(PdError::validation(
                "limit",
                &format!("must be an integer from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

fn time_param(req: &HttpRequest, name: &str) -> Result<Option<DateTime<Utc>>, PdError> {
    query_value(req, name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(&raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| PdError::validation(name, "must be an RFC 3339 date-time, e.g. 2025-01-01T10:20:00Z"))
        })
        .transpose()
}

/// The position after the last item of a page, in the listing's order.
#[derive(serde::Serialize, serde::Deserialize)]
struct Position {
    /// The sort value of the last item (milliseconds for times, the id for `id`).
    k: i64,
    id: u64,
}

fn encode(position: &Position) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

fn decode(cursor: &str) -> Result<Position, PdError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| PdError::validation("cursor", "is not a valid cursor"))
}

fn sort_value(item: &Item, sort_by: &str) -> i64 {
    match sort_by {
        "update_time" => item.update_time.timestamp_millis(),
        "add_time" => item.add_time.timestamp_millis(),
        _ => item.id as i64,
    }
}

fn number_list(req: &HttpRequest, name: &str) -> Result<Option<Vec<u64>>, PdError> {
    query_value(req, name)
        .map(|raw| {
            raw.split(',')
                .map(|s| s.trim().parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| PdError::validation(name, "must be a comma-separated list of integers"))
        })
        .transpose()
}

/// `GET /api/v2/<entity>`.
pub async fn list(
    req: HttpRequest,
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let limit = limit_of(&req)?;
    let sort_by = query_value(&req, "sort_by").unwrap_or_else(|| "id".into());
    if !["id", "update_time", "add_time"].contains(&sort_by.as_str()) {
        return Err(PdError::validation(
            "sort_by",
            "must be one of id, update_time, add_time",
        ));
    }
    let descending = match query_value(&req, "sort_direction").as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(PdError::validation("sort_direction", "must be asc or desc")),
    };
    let since = time_param(&req, "updated_since")?;
    let until = time_param(&req, "updated_until")?;
    let ids = number_list(&req, "ids")?;
    let after = query_value(&req, "cursor")
        .filter(|c| !c.is_empty())
        .map(|c| decode(&c))
        .transpose()?;
    let status = query_value(&req, "status");
    let owner = query_value(&req, "owner_id").and_then(|v| v.parse::<u64>().ok());
    let person = query_value(&req, "person_id").and_then(|v| v.parse::<u64>().ok());
    let org = query_value(&req, "org_id").and_then(|v| v.parse::<u64>().ok());
    let deal = query_value(&req, "deal_id").and_then(|v| v.parse::<u64>().ok());
    let (data, next) = pipedrive.with_account(&auth.key, |account| {
        let mut items: Vec<&Item> = account
            .table(entity)
            .values()
            .filter(|i| match (entity, status.as_deref()) {
                // Deleted deals are listed when asked for by status; other deleted items never.
                (Entity::Deals, Some("deleted")) => i.deleted_at.is_some(),
                (Entity::Deals, Some(wanted)) => i.deleted_at.is_none() && i.text("status") == Some(wanted),
                _ => i.deleted_at.is_none(),
            })
            .filter(|i| since.is_none_or(|t| i.update_time >= t))
            .filter(|i| until.is_none_or(|t| i.update_time < t))
            .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
            .filter(|i| owner.is_none_or(|o| i.fields.get("owner_id") == Some(&json!(o))))
            .filter(|i| person.is_none_or(|p| i.fields.get("person_id") == Some(&json!(p))))
            .filter(|i| org.is_none_or(|o| i.fields.get("org_id") == Some(&json!(o))))
            .filter(|i| deal.is_none_or(|d| i.fields.get("deal_id") == Some(&json!(d))))
            .collect();
        items.sort_by_key(|i| (sort_value(i, &sort_by), i.id));
        if descending {
            items.reverse();
        }
        if let Some(after) = &after {
            let mark = (after.k, after.id);
            items.retain(|i| {
                let key = (sort_value(i, &sort_by), i.id);
                if descending { key < mark } else { key > mark }
            });
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let next = more.then(|| items.last()).flatten().map(|last| {
            encode(&Position {
                k: sort_value(last, &sort_by),
                id: last.id,
            })
        });
        (items.iter().map(|i| i.v2(entity)).collect::<Vec<_>>(), next)
    });
    Ok(ok(json!(data), json!({ "next_cursor": next })))
}

fn id_of(raw: &str, entity: Entity) -> Result<u64, PdError> {
    raw.parse::<u64>()
        .map_err(|_| PdError::validation("id", &format!("the {} id must be an integer", entity.singular())))
}

fn missing(entity: Entity) -> PdError {
    let name = entity.singular();
    let mut chars = name.chars();
    let title = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default();
    PdError::not_found(&title)
}

/// `GET /api/v2/<entity>/<id>`.
pub async fn get(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let id = id_of(&path.2, entity)?;
    let item = pipedrive.with_account(&auth.key, |a| a.get_live(entity, id).map(|i| i.v2(entity)));
    item.map(|data| ok(data, Value::Null)).ok_or_else(|| missing(entity))
}

/// Keys a v2 write accepts besides the entity's fields.
fn extra_keys(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Persons => &[
            "emails",
            "phones",
            "visible_to",
            "label_ids",
            "marketing_status",
            "add_time",
        ],
        Entity::Organizations => &["visible_to", "label_ids", "add_time"],
        Entity::Deals => &["visible_to", "label_ids", "add_time", "close_time", "is_archived"],
        Entity::Products => &["visible_to", "is_linkable", "billing_frequency", "category"],
        Entity::Activities => &["participants", "attendees", "busy", "public_description", "priority"],
    }
}

fn contact_list(field: &str, value: &Value) -> Result<Value, PdError> {
    let Some(list) = value.as_array() else {
        return Err(PdError::validation(
            field,
            "must be an array of {value, primary, label} objects",
        ));
    };
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let Some(text) = entry.get("value").and_then(Value::as_str) else {
            return Err(PdError::validation(
                &format!("{field}[{i}].value"),
                "is required and must be a string",
            ));
        };
        out.push(json!({
            "value": text,
            "primary": entry.get("primary").and_then(Value::as_bool).unwrap_or(i == 0),
            "label": entry.get("label").and_then(Value::as_str).unwrap_or("work"),
        }));
    }
    Ok(Value::Array(out))
}

fn check_custom(account: &Account, entity: Entity, key: &str, value: &Value) -> Result<Value, PdError> {
    let field = account
        .field(entity, key)
        .filter(|f| f.edit_flag)
        .ok_or_else(|| PdError::validation(&format!("custom_fields.{key}"), "is not a custom field of this item"))?;
    if value.is_null() {
        return Ok(Value::Null);
    }
    let name = format!("custom_fields.{key}");
    let option = |v: &Value| -> Result<u64, PdError> {
        let id = v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
        id.filter(|id| field.options.iter().any(|o| o.id == *id))
            .ok_or_else(|| PdError::validation(&name, &format!("{v} is not an option id of \"{}\"", field.name)))
    };
    match field.field_type {
        "enum" => option(value).map(|id| json!(id)),
        "set" => {
            let list = value
                .as_array()
                .ok_or_else(|| PdError::validation(&name, "must be an array of option ids"))?;
            list.iter()
                .map(option)
                .collect::<Result<Vec<_>, _>>()
                .map(|ids| json!(ids))
        }
        "double" | "int" | "monetary" => value
            .as_f64()
            .map(|n| json!(n))
            .ok_or_else(|| PdError::validation(&name, "must be a number")),
        "date" => value
            .as_str()
            .filter(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
            .map(|s| json!(s))
            .ok_or_else(|| PdError::validation(&name, "must be a date as YYYY-MM-DD")),
        _ => value
            .as_str()
            .map(|s| json!(s))
            .ok_or_else(|| PdError::validation(&name, "must be a string")),
    }
}

/// A write body's standard fields, and its custom fields' values by key.
type Checked = (Map<String, Value>, Map<String, Value>);

/// Checks a v2 write body and splits it into standard fields and custom field values.
fn checked(account: &Account, entity: Entity, body: Map<String, Value>, creating: bool) -> Result<Checked, PdError> {
    let mut fields = Map::new();
    let mut custom = Map::new();
    for (key, value) in body {
        if key.contains('\0') || value.as_str().is_some_and(|s| s.contains('\0')) {
            return Err(PdError::validation(&key, "must not contain NUL characters"));
        }
        match key.as_str() {
            "custom_fields" => {
                let Value::Object(values) = value else {
                    return Err(PdError::validation(
                        "custom_fields",
                        "must be an object keyed by field key",
                    ));
                };
                for (k, v) in values {
                    custom.insert(k.clone(), check_custom(account, entity, &k, &v)?);
                }
            }
            "emails" | "phones" => {
                fields.insert(key.clone(), contact_list(&key, &value)?);
            }
            "id" | "update_time" | "is_deleted" => {}
            "org_id" | "person_id" | "owner_id" | "stage_id" | "pipeline_id" | "deal_id" => {
                if !value.is_null() && value.as_u64().is_none() {
                    return Err(PdError::validation(&key, "must be an integer"));
                }
                let exists = match (key.as_str(), value.as_u64()) {
                    (_, None) => true,
                    ("org_id", Some(id)) => account.get_live(Entity::Organizations, id).is_some(),
                    ("person_id", Some(id)) => account.get_live(Entity::Persons, id).is_some(),
                    ("deal_id", Some(id)) => account.get_live(Entity::Deals, id).is_some(),
                    ("stage_id", Some(id)) => account.stages.iter().any(|s| s.id == id),
                    ("owner_id", Some(id)) => id == account.user_id,
                    _ => true,
                };
                if !exists {
                    return Err(PdError::bad_request(format!("{key} {} does not exist", value)));
                }
                fields.insert(key, value);
            }
            "status" if entity == Entity::Deals => {
                if !["open", "won", "lost"].contains(&value.as_str().unwrap_or_default()) {
                    return Err(PdError::validation("status", "must be one of open, won, lost"));
                }
                fields.insert(key, value);
            }
            "value" | "probability" | "tax" => {
                if !value.is_null() && value.as_f64().is_none() {
                    return Err(PdError::validation(&key, "must be a number"));
                }
                fields.insert(key, value);
            }
            "expected_close_date" | "due_date" => {
                if !value.is_null()
                    && value
                        .as_str()
                        .is_none_or(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err())
                {
                    return Err(PdError::validation(&key, "must be a date as YYYY-MM-DD"));
                }
                fields.insert(key, value);
            }
            other => {
                let known =
                    account.field(entity, other).is_some_and(|f| !f.edit_flag) || extra_keys(entity).contains(&other);
                if !known || other == "email" || other == "phone" {
                    return Err(PdError::validation(other, "is not a property of this item"));
                }
                fields.insert(key, value);
            }
        }
    }
    let required = entity.required();
    let given = fields.get(required).and_then(Value::as_str).map(str::trim);
    if given == Some("") || (creating && given.is_none()) {
        return Err(PdError::validation(required, "is required"));
    }
    if let Some(text) = fields.get(required)
        && text.as_str().is_some_and(|s| s.chars().count() > 255)
    {
        return Err(PdError::validation(required, "must be at most 255 characters"));
    }
    Ok((fields, custom))
}

fn defaults(account: &Account, entity: Entity, fields: &mut Map<String, Value>) {
    let mut default = |key: &str, value: Value| {
        fields.entry(key.to_string()).or_insert(value);
    };
    default("owner_id", json!(account.user_id));
    default("visible_to", json!(3));
    match entity {
        Entity::Persons => {
            default("emails", json!([]));
            default("phones", json!([]));
            default("org_id", Value::Null);
            default("label_ids", json!([]));
            default("first_name", Value::Null);
            default("last_name", Value::Null);
        }
        Entity::Deals => {
            default("status", json!("open"));
            default("stage_id", json!(1));
            default("pipeline_id", json!(1));
            default("currency", json!("USD"));
            default("value", json!(0));
            default("person_id", Value::Null);
            default("org_id", Value::Null);
        }
        Entity::Activities => {
            default("type", json!("task"));
            default("done", json!(false));
        }
        _ => {}
    }
}

/// `POST /api/v2/<entity>`.
pub async fn create(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let body = parse_body(&body)?;
    let data = pipedrive.with_account(&auth.key, |account| {
        let (mut fields, custom) = checked(account, entity, body, true)?;
        defaults(account, entity, &mut fields);
        let id = account.take_id();
        let now = account.clock.tick();
        let item = Item {
            id,
            add_time: now,
            update_time: now,
            deleted_at: None,
            fields,
            custom: custom.into_iter().collect(),
        };
        let data = item.v2(entity);
        account.table_mut(entity).insert(id, item);
        account.record_event("create", entity, id, data.clone(), Value::Null);
        Ok::<_, PdError>(data)
    })?;
    Ok(ok(data, Value::Null))
}

/// `PATCH /api/v2/<entity>/<id>`.
pub async fn update(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let id = id_of(&path.2, entity)?;
    let body = parse_body(&body)?;
    let data = pipedrive.with_account(&auth.key, |account| {
        if account.get_live(entity, id).is_none() {
            return Err(missing(entity));
        }
        let (fields, custom) = checked(account, entity, body, false)?;
        let now = account.clock.tick();
        let Some(item) = account.table_mut(entity).get_mut(&id) else {
            return Err(missing(entity));
        };
        let previous = item.v2(entity);
        item.fields.extend(fields);
        item.custom.extend(custom);
        item.update_time = now;
        let data = item.v2(entity);
        account.record_event("change", entity, id, data.clone(), previous);
        Ok(data)
    })?;
    Ok(ok(data, Value::Null))
}

/// `DELETE /api/v2/<entity>/<id>`: marks it deleted (Pipedrive keeps deleted items 30 days).
pub async fn delete(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let id = id_of(&path.2, entity)?;
    pipedrive.with_account(&auth.key, |account| {
        let now = account.clock.tick();
        let Some(item) = account
            .table_mut(entity)
            .get_mut(&id)
            .filter(|i| i.deleted_at.is_none())
        else {
            return Err(missing(entity));
        };
        item.deleted_at = Some(now);
        item.update_time = now;
        let previous = item.v2(entity);
        account.record_event("delete", entity, id, Value::Null, previous);
        Ok(())
    })?;
    Ok(ok(json!({ "id": id }), Value::Null))
}

/// What search looks in, by the `fields` names it accepts.
fn search_fields(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Persons => &["custom_fields", "email", "notes", "phone", "name"],
        Entity::Organizations => &["address", "custom_fields", "notes", "name"],
        Entity::Deals => &["custom_fields", "notes", "title"],
        Entity::Products => &["code", "custom_fields", "name"],
        Entity::Activities => &[],
    }
}

fn searchable_values(item: &Item, field: &str) -> Vec<String> {
    match field {
        "email" => item.values_of("emails"),
        "phone" => item.values_of("phones"),
        "custom_fields" => item
            .custom
            .values()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        other => item.text(other).map(str::to_string).into_iter().collect(),
    }
}

fn search_item(account: &Account, entity: Entity, item: &Item) -> Value {
    let org = item
        .fields
        .get("org_id")
        .and_then(Value::as_u64)
        .and_then(|id| account.get_live(Entity::Organizations, id))
        .map(|o| json!({ "id": o.id, "name": o.text("name"), "address": null }));
    let custom: Vec<Value> = item
        .custom
        .values()
        .filter(|v| !v.is_null())
        .map(|v| json!(v.to_string().trim_matches('"')))
        .collect();
    let mut out = json!({
        "id": item.id,
        "type": entity.singular(),
        "owner": { "id": item.fields.get("owner_id").cloned().unwrap_or(Value::Null) },
        "visible_to": item.fields.get("visible_to").cloned().unwrap_or(json!(3)),
        "custom_fields": custom,
        "notes": [],
        "update_time": super::model::rfc3339(item.update_time),
    });
    match entity {
        Entity::Persons => {
            out["name"] = json!(item.text("name"));
            out["emails"] = json!(item.values_of("emails"));
            out["phones"] = json!(item.values_of("phones"));
            out["organization"] = org.unwrap_or(Value::Null);
        }
        Entity::Organizations => {
            out["name"] = json!(item.text("name"));
            out["address"] = item.fields.get("address").cloned().unwrap_or(Value::Null);
        }
        Entity::Deals => {
            out["title"] = json!(item.text("title"));
            out["value"] = item.fields.get("value").cloned().unwrap_or(Value::Null);
            out["currency"] = item.fields.get("currency").cloned().unwrap_or(Value::Null);
            out["status"] = item.fields.get("status").cloned().unwrap_or(Value::Null);
            out["stage"] = json!({ "id": item.fields.get("stage_id") });
            out["organization"] = org.unwrap_or(Value::Null);
        }
        _ => {
            out["name"] = json!(item.text("name"));
            out["code"] = item.fields.get("code").cloned().unwrap_or(Value::Null);
        }
    }
    out
}

/// `GET /api/v2/<entity>/search?term=…&fields=…&exact_match=…`.
pub async fn search(
    req: HttpRequest,
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    if !entity.searchable() {
        return Err(PdError::not_found("Endpoint"));
    }
    let exact = query_value(&req, "exact_match").is_some_and(|v| v == "true" || v == "1");
    let term = query_value(&req, "term").unwrap_or_default();
    let minimum = if exact { 1 } else { 2 };
    if term.trim().chars().count() < minimum {
        return Err(PdError::validation(
            "term",
            &format!("must be at least {minimum} characters long"),
        ));
    }
    let allowed = search_fields(entity);
    let fields: Vec<String> = match query_value(&req, "fields") {
        None => allowed.iter().map(|s| s.to_string()).collect(),
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if let Some(bad) = fields.iter().find(|f| !allowed.contains(&f.as_str())) {
        return Err(PdError::validation(
            "fields",
            &format!("{bad} is not searchable; use {}", allowed.join(", ")),
        ));
    }
    let limit = limit_of(&req)?;
    let offset = match query_value(&req, "cursor").filter(|c| !c.is_empty()) {
        Some(cursor) => decode(&cursor)?.id as usize,
        None => 0,
    };
    let term = term.trim().to_lowercase();
    let (items, next) = pipedrive.with_account(&auth.key, |account| {
        let visible_until = Utc::now() - chrono::Duration::milliseconds(account.search_lag_ms);
        let mut hits: Vec<(f64, &Item)> = account
            .live(entity)
            .filter(|i| account.search_lag_ms == 0 || i.update_time <= visible_until)
            .filter_map(|item| {
                let values: Vec<String> = fields.iter().flat_map(|f| searchable_values(item, f)).collect();
                let score = values
                    .iter()
                    .map(|v| v.to_lowercase())
                    .filter_map(|v| {
                        if v == term {
                            Some(1.0)
                        } else if !exact && v.contains(&term) {
                            Some(0.5)
                        } else {
                            None
                        }
                    })
                    .fold(None, |best: Option<f64>, s| Some(best.map_or(s, |b| b.max(s))));
                score.map(|s| (s, item))
            })
            .collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let total = hits.len();
        let page: Vec<Value> = hits
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(score, item)| json!({ "result_score": score, "item": search_item(account, entity, item) }))
            .collect();
        let next = (offset + limit < total).then(|| {
            encode(&Position {
                k: 0,
                id: (offset + limit) as u64,
            })
        });
        (page, next)
    });
    Ok(ok(json!({ "items": items }), json!({ "next_cursor": next })))
}

/// `GET /api/v2/deals/<id>/products`.
pub async fn deal_products(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let deal = id_of(&path.1, Entity::Deals)?;
    let data = pipedrive.with_account(&auth.key, |account| {
        account
            .get_live(Entity::Deals, deal)
            .ok_or_else(|| missing(Entity::Deals))?;
        Ok::<_, PdError>(account.deal_products.get(&deal).cloned().unwrap_or_default())
    })?;
    Ok(ok(json!(data), json!({ "next_cursor": null })))
}

/// `POST /api/v2/deals/<id>/products`: attaches a product with its price and quantity.
pub async fn add_deal_product(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PdError> {
    let deal = id_of(&path.1, Entity::Deals)?;
    let body = parse_body(&body)?;
    let data = pipedrive.with_account(&auth.key, |account| {
        account
            .get_live(Entity::Deals, deal)
            .ok_or_else(|| missing(Entity::Deals))?;
        let product_id = body
            .get("product_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| PdError::validation("product_id", "is required"))?;
        let product = account
            .get_live(Entity::Products, product_id)
            .ok_or_else(|| PdError::bad_request(format!("product_id {product_id} does not exist")))?;
        let name = product.text("name").unwrap_or_default().to_string();
        let price = match body.get("item_price") {
            Some(v) => v
                .as_f64()
                .ok_or_else(|| PdError::validation("item_price", "must be a number"))?,
            None => return Err(PdError::validation("item_price", "is required")),
        };
        let quantity = match body.get("quantity") {
            Some(v) => v
                .as_f64()
                .ok_or_else(|| PdError::validation("quantity", "must be a number"))?,
            None => return Err(PdError::validation("quantity", "is required")),
        };
        let discount = body.get("discount").and_then(Value::as_f64).unwrap_or(0.0);
        let id = account.take_id();
        let now = super::model::rfc3339(account.clock.tick());
        let attachment = json!({
            "id": id, "deal_id": deal, "product_id": product_id, "name": name, "item_price": price,
            "quantity": quantity, "discount": discount, "discount_type": "percentage",
            "tax": body.get("tax").and_then(Value::as_f64).unwrap_or(0.0), "tax_method": "inclusive",
            "is_enabled": true, "sum": price * quantity * (1.0 - discount / 100.0), "currency": "USD",
            "comments": body.get("comments").cloned().unwrap_or(Value::Null), "add_time": now, "update_time": now,
        });
        account.deal_products.entry(deal).or_default().push(attachment.clone());
        touch(account, Entity::Deals, deal);
        Ok::<_, PdError>(attachment)
    })?;
    Ok(ok(data, Value::Null))
}

/// `DELETE /api/v2/deals/<id>/products/<attachment id>`.
pub async fn remove_deal_product(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, PdError> {
    let deal = id_of(&path.1, Entity::Deals)?;
    let attachment = path
        .2
        .parse::<u64>()
        .map_err(|_| PdError::validation("product_attachment_id", "must be an integer"))?;
    pipedrive.with_account(&auth.key, |account| {
        let list = account.deal_products.entry(deal).or_default();
        let before = list.len();
        list.retain(|p| p.get("id").and_then(Value::as_u64) != Some(attachment));
        if list.len() == before {
            return Err(PdError::not_found("Product attachment"));
        }
        touch(account, Entity::Deals, deal);
        Ok(())
    })?;
    Ok(ok(json!({ "id": attachment }), Value::Null))
}

fn touch(account: &mut Account, entity: Entity, id: u64) {
    let now = account.clock.tick();
    if let Some(item) = account.table_mut(entity).get_mut(&id) {
        item.update_time = now;
    }
}
