//! What Pipedrive still serves from API v1 only: the user and company (`/users/me`), field
//! definitions (`/personFields`, … with custom fields' hash keys and options), recent changes
//! (`/recents`, which names deleted items too), webhooks; plus v1 record reads (`start`/`limit`
//! paging) for older clients, and pipelines and stages in both versions.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::Pipedrive;
use super::errors::PdError;
use super::gate::{Authed, parse_body, query_value};
use super::model::{Entity, Webhook, v1_time};
use super::records::entity;

fn ok(status: u16, data: Value, additional: Value) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json; charset=utf-8")
        .body(json!({ "success": true, "data": data, "additional_data": additional }).to_string())
}

/// v1's `start`/`limit` (at most 500).
fn window(req: &HttpRequest) -> Result<(usize, usize), PdError> {
    let start = query_value(req, "start").map_or(Ok(0), |s| {
        s.parse::<usize>()
            .map_err(|_| PdError::bad_request("start must be a non-negative integer"))
    })?;
    let limit = query_value(req, "limit").map_or(Ok(100), |s| match s.parse::<usize>() {
        Ok(n) if (1..=500).contains(&n) => Ok(n),
        _ => Err(PdError::bad_request("limit must be an integer from 1 to 500")),
    })?;
    Ok((start, limit))
}

fn pagination(start: usize, limit: usize, total: usize) -> Value {
    let more = start + limit < total;
    let mut out = json!({ "start": start, "limit": limit, "more_items_in_collection": more });
    if more {
        out["next_start"] = json!(start + limit);
    }
    json!({ "pagination": out })
}

fn user_json(account: &super::model::Account) -> Value {
    json!({
        "id": account.user_id,
        "name": account.user_name,
        "email": account.user_email,
        "default_currency": "USD",
        "locale": "en_US",
        "lang": 1,
        "phone": null,
        "activated": true,
        "last_login": v1_time(Utc::now()),
        "created": "2024-01-15 09:00:00",
        "modified": "2024-01-15 09:00:00",
        "has_created_company": true,
        "access": [{ "app": "sales", "admin": true, "permission_set_id": "1" }],
        "active_flag": true,
        "timezone_name": "UTC",
        "timezone_offset": "+00:00",
        "role_id": 1,
        "icon_url": null,
        "is_you": true,
        "is_deleted": false,
    })
}

/// `GET /v1/users/me`: the user, with the company the token belongs to.
pub async fn me(pipedrive: web::Data<Pipedrive>, auth: Authed) -> HttpResponse {
    let data = pipedrive.with_account(&auth.key, |a| {
        let mut user = user_json(a);
        user["company_id"] = json!(a.company_id);
        user["company_name"] = json!(a.company_name);
        user["company_domain"] = json!(a.key);
        user["company_country"] = json!("US");
        user["company_industry"] = json!("Software");
        user
    });
    ok(200, data, Value::Null)
}

/// `GET /v1/users`.
pub async fn users(pipedrive: web::Data<Pipedrive>, auth: Authed) -> HttpResponse {
    let data = pipedrive.with_account(&auth.key, |a| json!([user_json(a)]));
    ok(200, data, Value::Null)
}

/// `GET /v1/<entity>Fields`.
pub async fn fields(
    req: HttpRequest,
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = Entity::parse_fields(&path.1).ok_or_else(|| PdError::not_found("Endpoint"))?;
    let (start, limit) = window(&req)?;
    let (data, total) = pipedrive.with_account(&auth.key, |a| {
        let all = a.fields_of(entity);
        (
            all.iter().skip(start).take(limit).map(|f| f.json()).collect::<Vec<_>>(),
            all.len(),
        )
    });
    Ok(ok(200, json!(data), pagination(start, limit, total)))
}

const FIELD_TYPES: &[&str] = &[
    "address",
    "date",
    "daterange",
    "double",
    "enum",
    "monetary",
    "org",
    "people",
    "phone",
    "set",
    "text",
    "time",
    "timerange",
    "user",
    "varchar",
    "varchar_auto",
    "visible_to",
];

/// `POST /v1/<entity>Fields`: a custom field, keyed by a new 40-character hash.
pub async fn add_field(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PdError> {
    let entity = Entity::parse_fields(&path.1).ok_or_else(|| PdError::not_found("Endpoint"))?;
    let body = parse_body(&body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| PdError::bad_request("Field name must be given."))?
        .to_string();
    let field_type = body.get("field_type").and_then(Value::as_str).unwrap_or_default();
    let Some(field_type) = FIELD_TYPES.iter().find(|t| **t == field_type) else {
        return Err(PdError::bad_request(format!(
            "Field type must be one of: {}",
            FIELD_TYPES.join(", ")
        )));
    };
    let options: Vec<String> = body
        .get("options")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|o| o.get("label").and_then(Value::as_str).or_else(|| o.as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if matches!(*field_type, "enum" | "set") && options.is_empty() {
        return Err(PdError::bad_request("Options must be given for this field type."));
    }
    let def = pipedrive.with_account(&auth.key, |a| {
        if a.fields_of(entity)
            .iter()
            .any(|f| f.edit_flag && f.name.eq_ignore_ascii_case(&name))
        {
            // Pipedrive allows two custom fields of one name; each gets its own key.
            let suffix = a.fields_of(entity).len();
            let labels: Vec<&str> = options.iter().map(String::as_str).collect();
            return a.add_custom_field(entity, &format!("{name}\u{200b}{suffix}"), field_type, &labels);
        }
        let labels: Vec<&str> = options.iter().map(String::as_str).collect();
        a.add_custom_field(entity, &name, field_type, &labels)
    });
    let mut json = def.json();
    json["name"] = json!(name);
    Ok(ok(201, json, Value::Null))
}

/// `GET /v1/pipelines` and `/api/v2/pipelines`.
pub async fn pipelines() -> HttpResponse {
    ok(
        200,
        json!([{ "id": 1, "name": "Sales pipeline", "order_nr": 1, "active": true, "deal_probability": true,
                 "add_time": "2024-01-15 09:00:00", "update_time": "2024-01-15 09:00:00", "selected": true }]),
        Value::Null,
    )
}

/// `GET /v1/stages?pipeline_id=` and `/api/v2/stages`.
pub async fn stages(req: HttpRequest, pipedrive: web::Data<Pipedrive>, auth: Authed) -> HttpResponse {
    let pipeline = query_value(&req, "pipeline_id").and_then(|p| p.parse::<u64>().ok());
    let data = pipedrive.with_account(&auth.key, |a| {
        a.stages
            .iter()
            .filter(|s| pipeline.is_none_or(|p| s.pipeline_id == p))
            .map(|s| {
                json!({ "id": s.id, "name": s.name, "pipeline_id": s.pipeline_id, "order_nr": s.order_nr,
                        "deal_probability": s.deal_probability, "active_flag": true, "rotten_flag": false,
                        "rotten_days": null, "pipeline_name": "Sales pipeline" })
            })
            .collect::<Vec<_>>()
    });
    ok(200, json!(data), Value::Null)
}

/// `GET /v1/<entity>?start=&limit=` (v1 shape).
pub async fn list(
    req: HttpRequest,
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let (start, limit) = window(&req)?;
    let (data, total) = pipedrive.with_account(&auth.key, |a| {
        let live: Vec<Value> = a.live(entity).map(|i| i.v1(entity)).collect();
        let total = live.len();
        (live.into_iter().skip(start).take(limit).collect::<Vec<_>>(), total)
    });
    let data = if data.is_empty() { Value::Null } else { json!(data) };
    Ok(ok(200, data, pagination(start, limit, total)))
}

/// `GET /v1/<entity>/<id>` (v1 shape).
pub async fn get(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, PdError> {
    let entity = entity(&path.1)?;
    let id = path
        .2
        .parse::<u64>()
        .map_err(|_| PdError::bad_request("id must be an integer"))?;
    let title = match entity {
        Entity::Persons => "Person",
        Entity::Organizations => "Organization",
        Entity::Deals => "Deal",
        Entity::Products => "Product",
        Entity::Activities => "Activity",
    };
    pipedrive
        .with_account(&auth.key, |a| a.get_live(entity, id).map(|i| i.v1(entity)))
        .map(|data| ok(200, data, Value::Null))
        .ok_or_else(|| PdError::not_found(title))
}

/// `GET /v1/recents?since_timestamp=YYYY-MM-DD HH:MM:SS&items=person,…`: what changed since
/// then, deleted items included (`active_flag: false`), oldest first.
pub async fn recents(req: HttpRequest, pipedrive: web::Data<Pipedrive>, auth: Authed) -> Result<HttpResponse, PdError> {
    let since =
        query_value(&req, "since_timestamp").ok_or_else(|| PdError::bad_request("since_timestamp must be given"))?;
    let since = NaiveDateTime::parse_from_str(&since, "%Y-%m-%d %H:%M:%S")
        .map_err(|_| PdError::bad_request("since_timestamp must be in the format YYYY-MM-DD HH:MM:SS"))?
        .and_utc();
    let kinds: Vec<Entity> = match query_value(&req, "items") {
        None => Entity::ALL.to_vec(),
        Some(raw) => raw
            .split(',')
            .map(|s| match s.trim() {
                "person" => Ok(Entity::Persons),
                "organization" => Ok(Entity::Organizations),
                "deal" => Ok(Entity::Deals),
                "product" => Ok(Entity::Products),
                "activity" => Ok(Entity::Activities),
                other => Err(PdError::bad_request(format!("items: unknown item type {other}"))),
            })
            .collect::<Result<_, _>>()?,
    };
    let (start, limit) = window(&req)?;
    let (data, total, last) = pipedrive.with_account(&auth.key, |a| {
        let mut changed: Vec<(chrono::DateTime<Utc>, Entity, u64, Value)> = kinds
            .iter()
            .flat_map(|kind| {
                a.table(*kind)
                    .values()
                    .filter(|i| i.update_time >= since)
                    .map(|i| (i.update_time, *kind, i.id, i.v1(*kind)))
                    .collect::<Vec<_>>()
            })
            .collect();
        changed.sort_by_key(|(t, _, id, _)| (*t, *id));
        let total = changed.len();
        let page: Vec<_> = changed.into_iter().skip(start).take(limit).collect();
        let last = page.last().map(|(t, ..)| v1_time(*t));
        let data: Vec<Value> = page
            .into_iter()
            .map(|(_, kind, id, data)| json!({ "item": kind.singular(), "id": id, "data": data }))
            .collect();
        (data, total, last)
    });
    let mut additional = pagination(start, limit, total);
    additional["since_timestamp"] = json!(v1_time(since));
    additional["last_timestamp_on_page"] = json!(last);
    Ok(ok(200, json!(data), additional))
}

/// `GET /v1/webhooks`.
pub async fn webhooks(pipedrive: web::Data<Pipedrive>, auth: Authed) -> HttpResponse {
    let data = pipedrive.with_account(&auth.key, |a| {
        a.webhooks
            .iter()
            .map(|w| w.json(a.company_id, a.user_id))
            .collect::<Vec<_>>()
    });
    HttpResponse::Ok().json(json!({ "status": "ok", "success": true, "data": data }))
}

const EVENT_ACTIONS: &[&str] = &["create", "change", "delete", "*"];
const EVENT_OBJECTS: &[&str] = &[
    "activity",
    "deal",
    "lead",
    "note",
    "organization",
    "person",
    "pipeline",
    "product",
    "stage",
    "user",
    "*",
];

/// `POST /v1/webhooks`: `{subscription_url, event_action, event_object, http_auth_user,
/// http_auth_password, version}` (version 2.0 by default).
pub async fn add_webhook(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    body: web::Bytes,
) -> Result<HttpResponse, PdError> {
    let body = parse_body(&body)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let url = text("subscription_url").ok_or_else(|| PdError::bad_request("subscription_url must be given"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(PdError::bad_request("subscription_url must be a valid URL"));
    }
    let action = text("event_action").unwrap_or_default();
    if !EVENT_ACTIONS.contains(&action.as_str()) {
        return Err(PdError::bad_request(format!(
            "event_action must be one of: {}",
            EVENT_ACTIONS.join(", ")
        )));
    }
    let object = text("event_object").unwrap_or_default();
    if !EVENT_OBJECTS.contains(&object.as_str()) {
        return Err(PdError::bad_request(format!(
            "event_object must be one of: {}",
            EVENT_OBJECTS.join(", ")
        )));
    }
    let version = text("version").unwrap_or_else(|| "2.0".into());
    if version != "1.0" && version != "2.0" {
        return Err(PdError::bad_request("version must be 1.0 or 2.0"));
    }
    let data = pipedrive.with_account(&auth.key, |a| {
        let webhook = Webhook {
            id: a.take_id(),
            subscription_url: url,
            event_action: action,
            event_object: object,
            http_auth_user: text("http_auth_user"),
            http_auth_password: text("http_auth_password"),
            version,
            add_time: Utc::now(),
            last_delivery: None,
        };
        let json = webhook.json(a.company_id, a.user_id);
        a.webhooks.push(webhook);
        json
    });
    Ok(HttpResponse::Created().json(json!({ "status": "ok", "success": true, "data": data })))
}

/// `DELETE /v1/webhooks/<id>`.
pub async fn remove_webhook(
    pipedrive: web::Data<Pipedrive>,
    auth: Authed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PdError> {
    let id = path
        .1
        .parse::<u64>()
        .map_err(|_| PdError::bad_request("id must be an integer"))?;
    let removed = pipedrive.with_account(&auth.key, |a| {
        let before = a.webhooks.len();
        a.webhooks.retain(|w| w.id != id);
        a.webhooks.len() != before
    });
    if !removed {
        return Err(PdError::not_found("Webhook"));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "success": true })))
}
