//! `POST /crm/v3/objects/{object}/batch/{read|create|update|upsert|archive}`: up to 100 inputs.
//! Invalid values reject the whole batch (nothing is written); ids that do not exist fail only
//! their own input, answered with 207 and `numErrors`/`errors`.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HubSpot;
use super::errors::HsError;
use super::gate::{AuthedAccount, object_type, parse_body};
use super::model::{Account, ObjectType, value_to_string};
use super::objects::{AssociationInput, association_targets, full_record};
use super::ops::record_json;
use crate::clock::iso;

pub const MAX_INPUTS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRequest {
    inputs: Vec<BatchInput>,
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    id_property: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchInput {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    associations: Vec<AssociationInput>,
}

impl BatchInput {
    fn id(&self) -> Result<String, HsError> {
        self.id
            .as_ref()
            .and_then(value_to_string)
            .ok_or_else(|| HsError::bad_request("Every input needs an id"))
    }
}

/// Collects per-input failures for a 207 answer.
#[derive(Default)]
struct Failures {
    missing: Vec<String>,
}

fn respond(
    status_ok: u16,
    results: Vec<Value>,
    failures: Failures,
    object: ObjectType,
    started: chrono::DateTime<Utc>,
) -> HttpResponse {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "requestedAt": iso(started),
        "startedAt": iso(started),
        "completedAt": iso(Utc::now()),
    });
    let status = if failures.missing.is_empty() {
        status_ok
    } else {
        body["numErrors"] = json!(1);
        body["errors"] = json!([{
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": format!(
                "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
                object.singular().to_uppercase()
            ),
            "context": { "ids": failures.missing },
            "errors": [],
            "links": {},
        }]);
        207
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK))
        .content_type("application/json;charset=utf-8")
        .body(body.to_string())
}

/// Two inputs of one batch may not claim the same unique value.
fn check_batch_duplicates(
    account: &Account,
    object: ObjectType,
    inputs: &[&Map<String, Value>],
) -> Result<(), HsError> {
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (index, properties) in inputs.iter().enumerate() {
        for (name, value) in properties.iter() {
            if !account.property(object, name).is_some_and(|p| p.has_unique_value) {
                continue;
            }
            let Some(value) = value_to_string(value).map(|v| v.to_lowercase()) else {
                continue;
            };
            if let Some(first) = seen.insert((name.clone(), value.clone()), index) {
                return Err(HsError::bad_request(format!(
                    "Duplicate {name} {value} in inputs {first} and {index} of one batch"
                )));
            }
        }
    }
    Ok(())
}

pub async fn batch(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let (_, object, operation) = path.into_inner();
    let object = object_type(&object)?;
    let request: BatchRequest = parse_body(&body)?;
    if request.inputs.len() > MAX_INPUTS {
        return Err(HsError::bad_request(format!(
            "Batch requests take at most {MAX_INPUTS} inputs; this one has {}",
            request.inputs.len()
        )));
    }
    let started = Utc::now();
    hubspot.with_account(&authed.key, |account| match operation.as_str() {
        "read" => {
            let mut results = Vec::new();
            let mut failures = Failures::default();
            for input in &request.inputs {
                let id = input.id()?;
                match account.resolve(object, &id, request.id_property.as_deref())? {
                    Some(found) => {
                        let record = &account.records(object)[&found];
                        results.push(record_json(object, record, request.properties.as_deref(), account));
                    }
                    None => failures.missing.push(id),
                }
            }
            Ok(respond(200, results, failures, object, started))
        }
        "create" => {
            let all: Vec<&Map<String, Value>> = request.inputs.iter().map(|i| &i.properties).collect();
            check_batch_duplicates(account, object, &all)?;
            let mut targets = Vec::new();
            for input in &request.inputs {
                account.validate_create(object, &input.properties)?;
                targets.push(association_targets(account, object, &input.associations)?);
            }
            let mut results = Vec::new();
            for (input, targets) in request.inputs.iter().zip(targets) {
                let record = account.create(object, &input.properties)?;
                for target in targets {
                    super::seed::associate(account, (object, record.id), target);
                }
                results.push(full_record(account, object, &record));
            }
            Ok(respond(201, results, Failures::default(), object, started))
        }
        "update" => {
            let all: Vec<&Map<String, Value>> = request.inputs.iter().map(|i| &i.properties).collect();
            check_batch_duplicates(account, object, &all)?;
            let mut found = Vec::new();
            let mut failures = Failures::default();
            for input in &request.inputs {
                let id = input.id()?;
                match account.resolve(
                    object,
                    &id,
                    input.id_property.as_deref().or(request.id_property.as_deref()),
                )? {
                    Some(record_id) => {
                        account.validate_update(object, record_id, &input.properties)?;
                        found.push((record_id, &input.properties));
                    }
                    None => failures.missing.push(id),
                }
            }
            let mut results = Vec::new();
            for (record_id, properties) in found {
                let record = account.update(object, record_id, properties)?;
                results.push(full_record(account, object, &record));
            }
            Ok(respond(200, results, failures, object, started))
        }
        "upsert" => {
            let all: Vec<&Map<String, Value>> = request.inputs.iter().map(|i| &i.properties).collect();
            check_batch_duplicates(account, object, &all)?;
            let mut plan = Vec::new();
            for input in &request.inputs {
                let id = input.id()?;
                let id_property = input
                    .id_property
                    .clone()
                    .or_else(|| request.id_property.clone())
                    .ok_or_else(|| {
                        HsError::bad_request("Upsert inputs need an idProperty (a property with unique values)")
                    })?;
                let existing = account.resolve(object, &id, Some(&id_property))?;
                let mut properties = input.properties.clone();
                match existing {
                    Some(record_id) => {
                        account.validate_update(object, record_id, &properties)?;
                    }
                    None => {
                        properties.insert(id_property.clone(), Value::String(id.clone()));
                        account.validate_create(object, &properties)?;
                    }
                }
                plan.push((existing, properties));
            }
            let mut results = Vec::new();
            for (existing, properties) in plan {
                let (record, new) = match existing {
                    Some(record_id) => (account.update(object, record_id, &properties)?, false),
                    None => (account.create(object, &properties)?, true),
                };
                let mut json = full_record(account, object, &record);
                json["new"] = Value::Bool(new);
                results.push(json);
            }
            Ok(respond(200, results, Failures::default(), object, started))
        }
        "archive" => {
            for input in &request.inputs {
                if let Ok(id) = input.id()?.parse::<u64>() {
                    account.archive(object, id);
                }
            }
            Ok(HttpResponse::NoContent().finish())
        }
        other => Err(HsError::new(
            404,
            "OBJECT_NOT_FOUND",
            format!("No batch operation {other}"),
        )),
    })
}
