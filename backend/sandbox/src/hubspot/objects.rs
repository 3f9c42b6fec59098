//! `/crm/v3/objects/{object}`: list, create; `/{id}`: get, update, archive.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HubSpot;
use super::errors::HsError;
use super::gate::{AuthedAccount, object_type, parse_body, query_list, query_value};
use super::model::{Account, ObjectType, Record, default_association_type};
use super::ops::record_json;

#[derive(Deserialize)]
pub struct ObjectInput {
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub associations: Vec<AssociationInput>,
}

#[derive(Deserialize)]
pub struct AssociationInput {
    pub to: AssociationTarget,
    #[serde(default)]
    pub types: Vec<AssociationTypeInput>,
}

#[derive(Deserialize)]
pub struct AssociationTarget {
    pub id: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationTypeInput {
    /// `associationCategory` is accepted and ignored: only HubSpot-defined types exist here.
    pub association_type_id: u32,
}

fn json_response(status: u16, body: Value) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json;charset=utf-8")
        .body(body.to_string())
}

pub fn ok(body: Value) -> HttpResponse {
    json_response(200, body)
}

pub fn created(body: Value) -> HttpResponse {
    json_response(201, body)
}

/// Every property the record has a value for, for write responses.
pub fn full_record(account: &Account, object: ObjectType, record: &Record) -> Value {
    let names: Vec<String> = record.properties.keys().cloned().collect();
    record_json(object, record, Some(&names), account)
}

/// `?associations=companies,deals`: the record's associated ids by object type.
pub fn with_associations(
    mut json: Value,
    account: &Account,
    object: ObjectType,
    id: u64,
    wanted: &Option<Vec<String>>,
) -> Value {
    let Some(wanted) = wanted else { return json };
    let mut map = Map::new();
    for name in wanted {
        let Some(to) = ObjectType::parse(name) else {
            continue;
        };
        let results: Vec<Value> = account
            .associations
            .iter()
            .filter(|a| a.from == (object, id) && a.to.0 == to)
            .map(|a| json!({ "id": a.to.1.to_string(), "type": format!("{}_to_{}", object.singular(), to.singular()) }))
            .collect();
        if !results.is_empty() {
            map.insert(to.name().to_string(), json!({ "results": results }));
        }
    }
    if !map.is_empty() {
        json["associations"] = Value::Object(map);
    }
    json
}

pub async fn list(
    req: HttpRequest,
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let limit = query_value(&req, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let after = query_value(&req, "after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let archived = query_value(&req, "archived").is_some_and(|a| a == "true");
    let properties = query_list(&req, "properties");
    let associations = query_list(&req, "associations");
    let body = hubspot.with_account(&authed.key, |account| {
        let mut page: Vec<&Record> = account
            .records(object)
            .range(after..)
            .map(|(_, record)| record)
            .filter(|r| r.archived_at.is_some() == archived)
            .take(limit + 1)
            .collect();
        let next = (page.len() > limit).then(|| page.pop().map(|r| r.id)).flatten();
        let results: Vec<Value> = page
            .iter()
            .map(|r| {
                with_associations(
                    record_json(object, r, properties.as_deref(), account),
                    account,
                    object,
                    r.id,
                    &associations,
                )
            })
            .collect();
        let mut body = json!({ "results": results });
        if let Some(next) = next {
            body["paging"] = json!({ "next": {
                "after": next.to_string(),
                "link": format!("{}?after={next}", req.path()),
            }});
        }
        body
    });
    Ok(ok(body))
}

pub async fn get(
    req: HttpRequest,
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, object, id) = path.into_inner();
    let object = object_type(&object)?;
    let properties = query_list(&req, "properties");
    let associations = query_list(&req, "associations");
    let id_property = query_value(&req, "idProperty");
    let archived = query_value(&req, "archived").is_some_and(|a| a == "true");
    hubspot.with_account(&authed.key, |account| {
        let found = if archived {
            id.parse::<u64>()
                .ok()
                .filter(|n| account.records(object).get(n).is_some_and(|r| r.archived_at.is_some()))
        } else {
            account.resolve(object, &id, id_property.as_deref())?
        };
        let record = found
            .and_then(|n| account.records(object).get(&n))
            .ok_or_else(|| HsError::not_found(&id))?;
        let json = record_json(object, record, properties.as_deref(), account);
        Ok(ok(with_associations(json, account, object, record.id, &associations)))
    })
}

pub async fn create(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let input: ObjectInput = parse_body(&body)?;
    hubspot.with_account(&authed.key, |account| {
        let targets = association_targets(account, object, &input.associations)?;
        let record = account.create(object, &input.properties)?;
        for target in targets {
            super::seed::associate(account, (object, record.id), target);
        }
        Ok(created(full_record(account, object, &record)))
    })
}

/// Where create-time associations point, checked before anything is written.
pub fn association_targets(
    account: &Account,
    object: ObjectType,
    inputs: &[AssociationInput],
) -> Result<Vec<(ObjectType, u64)>, HsError> {
    inputs
        .iter()
        .map(|input| {
            let id = match &input.to.id {
                Value::String(s) => s.parse::<u64>().ok(),
                Value::Number(n) => n.as_u64(),
                _ => None,
            };
            let type_id = input.types.first().map(|t| t.association_type_id);
            let to = ObjectType::ALL
                .into_iter()
                .find(|to| type_id.is_some() && default_association_type(object, *to) == type_id)
                .ok_or_else(|| {
                    HsError::bad_request(format!("Unknown association type id {type_id:?} for {}", object.name()))
                })?;
            let id = id
                .filter(|id| account.records(to).get(id).is_some_and(|r| r.archived_at.is_none()))
                .ok_or_else(|| {
                    HsError::bad_request(format!(
                        "No {} with id {} to associate with",
                        to.singular(),
                        input.to.id
                    ))
                })?;
            Ok((to, id))
        })
        .collect()
}

pub async fn update(
    req: HttpRequest,
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let (_, object, id) = path.into_inner();
    let object = object_type(&object)?;
    let input: ObjectInput = parse_body(&body)?;
    let id_property = query_value(&req, "idProperty");
    hubspot.with_account(&authed.key, |account| {
        let found = account
            .resolve(object, &id, id_property.as_deref())?
            .ok_or_else(|| HsError::not_found(&id))?;
        let record = account.update(object, found, &input.properties)?;
        Ok(ok(full_record(account, object, &record)))
    })
}

pub async fn archive(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, object, id) = path.into_inner();
    let object = object_type(&object)?;
    hubspot.with_account(&authed.key, |account| {
        if let Ok(id) = id.parse::<u64>() {
            account.archive(object, id);
        }
    });
    // Archiving what is already gone succeeds too, as in HubSpot.
    Ok(HttpResponse::NoContent().finish())
}
