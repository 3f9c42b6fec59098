//! sObject Collections (`/composite/sobjects`): create, update, upsert, retrieve and delete up
//! to 200 records in one call. A malformed request is a 400; otherwise the answer is 200 with
//! one result per input, in order. With `allOrNone` one failure rolls every write back and the
//! others report `ALL_OR_NONE_OPERATION_ROLLED_BACK`.

use std::collections::HashMap;

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::errors::{SfError, json_response};
use super::model::{Lookup, Node, Obj, Org};
use super::objects::{body_object, field_list, save_result};
use super::ops::{Changes, KeyMatch, Tx, parse_fields};
use super::rest::Ctx;
use super::schema::SObject;

pub const MAX_RECORDS: usize = 200;
const MAX_RETRIEVE: usize = 2000;

fn too_many() -> SfError {
    SfError::new(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

fn rolled_back() -> SfError {
    SfError::dml(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        &[],
    )
}

fn invalid_cross_reference() -> SfError {
    SfError::dml("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", &[])
}

struct Request {
    all_or_none: bool,
    records: Vec<Map<String, Value>>,
}

fn parse_request(body: &[u8]) -> Result<Request, SfError> {
    let map = body_object(body)?;
    let all_or_none = match map.get("allOrNone") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let Some(Value::Array(items)) = map.get("records") else {
        return Err(SfError::json_parser("Cannot deserialize request: records is required"));
    };
    if items.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let records = items
        .iter()
        .map(|item| match item {
            Value::Object(record) => Ok(record.clone()),
            _ => Err(SfError::json_parser(
                "Cannot deserialize instance of SObject from a value that is not an object",
            )),
        })
        .collect::<Result<_, _>>()?;
    Ok(Request { all_or_none, records })
}

/// The record's `attributes.type`, or the object its id names.
fn record_type(record: &Map<String, Value>, id: Option<&str>, org: &Org) -> Result<SObject, SfError> {
    match record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
    {
        Some(name) => SObject::parse(name)
            .ok_or_else(|| SfError::new(400, "INVALID_TYPE", format!("sObject type '{name}' is not supported."))),
        None => id
            .and_then(|id| org.locate(id))
            .map(|(object, _)| object)
            .ok_or_else(|| SfError::new(400, "INVALID_TYPE", "Must send a concrete entity type.")),
    }
}

fn id_of(record: &Map<String, Value>) -> Option<String> {
    record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("id"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

/// One input, ready to run.
struct Job {
    /// The id its result names even when it fails (updates and deletes).
    id: Option<String>,
    object: SObject,
    changes: Changes,
    /// Found while reading the request: the input fails without running.
    error: Option<SfError>,
    /// Upserts: the key value.
    key: Option<String>,
}

enum Outcome {
    Saved { id: String, created: Option<bool> },
    Failed { id: Option<String>, error: SfError },
}

type Step<'a> = dyn Fn(&mut Org, &mut Tx, &Job) -> Result<(String, Option<bool>), SfError> + 'a;

fn run(org: &mut Org, all_or_none: bool, jobs: &[Job], step: &Step<'_>) -> Vec<Outcome> {
    let mut shared = Tx::default();
    let mut outcomes = Vec::new();
    for job in jobs {
        if let Some(error) = &job.error {
            outcomes.push(Outcome::Failed {
                id: job.id.clone(),
                error: error.clone(),
            });
            continue;
        }
        let result = if all_or_none {
            step(org, &mut shared, job)
        } else {
            let mut tx = Tx::default();
            let result = step(org, &mut tx, job);
            if result.is_err() {
                org.rollback(tx);
            }
            result
        };
        outcomes.push(match result {
            Ok((id, created)) => Outcome::Saved { id, created },
            Err(error) => Outcome::Failed {
                id: job.id.clone(),
                error,
            },
        });
    }
    if all_or_none && outcomes.iter().any(|o| matches!(o, Outcome::Failed { .. })) {
        org.rollback(shared);
        for (outcome, job) in outcomes.iter_mut().zip(jobs) {
            if matches!(outcome, Outcome::Saved { .. }) {
                *outcome = Outcome::Failed {
                    id: job.id.clone(),
                    error: rolled_back(),
                };
            }
        }
    }
    outcomes
}

fn respond(outcomes: Vec<Outcome>) -> HttpResponse {
    let results: Vec<Obj> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Outcome::Saved { id, created } => save_result(&id, created),
            Outcome::Failed { id, error } => {
                let mut result = Obj::new();
                if let Some(id) = id {
                    result.push("id", Value::String(id));
                }
                result
                    .with("success", Value::Bool(false))
                    .with("errors", Node::List(vec![Node::Obj(error.save_error())]))
            }
        })
        .collect();
    json_response(200, &results)
}

pub fn route(org: &mut Org, ctx: &Ctx, method: &str, rest: &[&str], body: &[u8]) -> Result<HttpResponse, SfError> {
    match (method, rest) {
        ("POST", []) => create(org, ctx, body),
        ("PATCH", []) => update(org, ctx, body),
        ("DELETE", []) => delete(org, ctx),
        ("GET" | "POST", [name]) => {
            let object = SObject::parse(name).ok_or_else(SfError::not_found)?;
            retrieve(org, ctx, method, object, body)
        }
        ("PATCH", [name, field]) => {
            let object = SObject::parse(name).ok_or_else(SfError::not_found)?;
            upsert(org, ctx, object, field, body)
        }
        (_, []) => Err(SfError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are POST,PATCH,DELETE"),
        )),
        _ => Err(SfError::not_found()),
    }
}

fn create(org: &mut Org, ctx: &Ctx, body: &[u8]) -> Result<HttpResponse, SfError> {
    let request = parse_request(body)?;
    let mut jobs = Vec::new();
    for record in &request.records {
        let object = record_type(record, None, org)?;
        let changes = parse_fields(object, record, &["id"])?;
        let error = id_of(record)
            .is_some()
            .then(|| SfError::dml("INVALID_FIELD", "cannot specify Id in an insert call", &["Id"]));
        jobs.push(Job {
            id: None,
            object,
            changes,
            error,
            key: None,
        });
    }
    let outcomes = run(org, request.all_or_none, &jobs, &|org, tx, job| {
        let seq = org.insert(tx, job.object, &job.changes, &ctx.user)?;
        Ok((org.id_of(job.object, seq), None))
    });
    Ok(respond(outcomes))
}

/// A record of `object` an update or delete may touch.
fn live(org: &Org, object: SObject, id: &str) -> Result<u64, SfError> {
    match org.lookup(object, id) {
        Lookup::Live(seq) => Ok(seq),
        Lookup::Deleted(_) => Err(SfError::dml("ENTITY_IS_DELETED", "entity is deleted", &[])),
        Lookup::Missing => Err(invalid_cross_reference()),
        Lookup::Malformed => Err(SfError::dml(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {id}", object.name()),
            &["Id"],
        )),
    }
}

fn update(org: &mut Org, ctx: &Ctx, body: &[u8]) -> Result<HttpResponse, SfError> {
    let request = parse_request(body)?;
    let mut jobs = Vec::new();
    for record in &request.records {
        let id = id_of(record);
        let object = record_type(record, id.as_deref(), org)?;
        let changes = parse_fields(object, record, &["id"])?;
        let error = id
            .is_none()
            .then(|| SfError::dml("MISSING_ARGUMENT", "Id not specified in an update call", &[]));
        let id = id.map(|id| super::ids::parse_id(&id).map_or(id, |p| p.id18));
        jobs.push(Job {
            id,
            object,
            changes,
            error,
            key: None,
        });
    }
    let outcomes = run(org, request.all_or_none, &jobs, &|org, tx, job| {
        let id = job.id.clone().unwrap_or_default();
        let seq = live(org, job.object, &id)?;
        org.update(tx, job.object, seq, &job.changes, &ctx.user)?;
        Ok((org.id_of(job.object, seq), None))
    });
    Ok(respond(outcomes))
}

fn delete(org: &mut Org, ctx: &Ctx) -> Result<HttpResponse, SfError> {
    let ids: Vec<String> = ctx
        .param("ids")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(SfError::new(400, "MISSING_ARGUMENT", "ids parameter is required"));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let jobs: Vec<Job> = ids
        .iter()
        .map(|id| match (super::ids::parse_id(id), org.locate(id)) {
            (Some(parsed), Some((object, _))) => Job {
                id: Some(parsed.id18),
                object,
                changes: Vec::new(),
                error: None,
                key: None,
            },
            (Some(parsed), None) => Job {
                id: Some(parsed.id18),
                object: SObject::Account,
                changes: Vec::new(),
                error: Some(invalid_cross_reference()),
                key: None,
            },
            (None, _) => Job {
                id: None,
                object: SObject::Account,
                changes: Vec::new(),
                error: Some(SfError::dml("MALFORMED_ID", format!("malformed id {id}"), &[])),
                key: None,
            },
        })
        .collect();
    let outcomes = run(org, ctx.flag("allOrNone"), &jobs, &|org, tx, job| {
        let id = job.id.clone().unwrap_or_default();
        let seq = live(org, job.object, &id)?;
        org.delete(tx, job.object, seq, &ctx.user)?;
        Ok((id, None))
    });
    Ok(respond(outcomes))
}

fn retrieve(org: &mut Org, ctx: &Ctx, method: &str, object: SObject, body: &[u8]) -> Result<HttpResponse, SfError> {
    let (ids, fields): (Vec<String>, Option<Vec<String>>) = if method == "GET" {
        let split = |v: &str| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        (
            ctx.param("ids").map(split).unwrap_or_default(),
            ctx.param("fields").map(split),
        )
    } else {
        let map = body_object(body)?;
        let strings = |key: &str| {
            map.get(key).and_then(Value::as_array).map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
        };
        (strings("ids").unwrap_or_default(), strings("fields"))
    };
    if ids.is_empty() {
        return Err(SfError::new(400, "MISSING_ARGUMENT", "ids parameter is required"));
    }
    if ids.len() > MAX_RETRIEVE {
        return Err(SfError::new(
            400,
            "EXCEEDED_ID_LIMIT",
            format!("cannot retrieve more than {MAX_RETRIEVE} records in one call"),
        ));
    }
    let fields = fields
        .map(|names| field_list(object, &names.iter().map(String::as_str).collect::<Vec<_>>()))
        .transpose()?;
    let records: Vec<Node> = ids
        .iter()
        .map(|id| match org.lookup(object, id) {
            Lookup::Live(seq) => org.record(object, seq).map_or(Node::Value(Value::Null), |r| {
                Node::Obj(org.render(object, r, fields.as_deref(), &ctx.version))
            }),
            _ => Node::Value(Value::Null),
        })
        .collect();
    Ok(json_response(200, &records))
}

/// `PATCH /composite/sobjects/{Type}/{ExtField}`: each record carries its key value.
fn upsert(org: &mut Org, ctx: &Ctx, object: SObject, field: &str, body: &[u8]) -> Result<HttpResponse, SfError> {
    let (index, key_field) = object
        .def()
        .field(field)
        .filter(|(_, f)| f.external_id)
        .ok_or_else(|| {
            SfError::new(
                400,
                "INVALID_FIELD",
                format!(
                    "Field name provided, {field} is not an External ID or indexed field for {}",
                    object.name()
                ),
            )
        })?;
    let request = parse_request(body)?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut jobs = Vec::new();
    for record in &request.records {
        let changes = parse_fields(object, record, &[])?;
        let key = changes
            .iter()
            .find(|(i, _)| *i == index)
            .and_then(|(_, v)| v.as_ref())
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let error = match &key {
            None => Some(SfError::dml(
                "MISSING_ARGUMENT",
                format!("{} not specified", key_field.name),
                &[],
            )),
            Some(value) => {
                *seen.entry(value.to_lowercase()).or_default() += 1;
                None
            }
        };
        jobs.push(Job {
            id: None,
            object,
            changes,
            error,
            key,
        });
    }
    for job in &mut jobs {
        if let Some(key) = &job.key
            && seen.get(&key.to_lowercase()).copied().unwrap_or(0) > 1
        {
            job.error = Some(SfError::dml(
                "DUPLICATE_EXTERNAL_ID",
                format!("Duplicate external id specified: {key}"),
                &[key_field.name],
            ));
        }
    }
    let outcomes = run(org, request.all_or_none, &jobs, &|org, tx, job| {
        let key = job.key.clone().unwrap_or_default();
        match org.match_key(object, index, &key) {
            KeyMatch::None => {
                let seq = org.insert(tx, object, &job.changes, &ctx.user)?;
                Ok((org.id_of(object, seq), Some(true)))
            }
            KeyMatch::One(seq) => {
                org.update(tx, object, seq, &job.changes, &ctx.user)?;
                Ok((org.id_of(object, seq), Some(false)))
            }
            KeyMatch::Many(seqs) => Err(SfError::dml(
                "DUPLICATE_EXTERNAL_ID",
                format!(
                    "{}: more than one record found for external id field: [{}]",
                    key_field.name,
                    seqs.iter()
                        .map(|s| org.id_of(object, *s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[],
            )),
        }
    });
    Ok(respond(outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::rest::read as body;
    use crate::salesforce::seed;
    use serde_json::json;

    fn org() -> Org {
        let mut org = Org::empty("collections");
        seed::populate(&mut org);
        org
    }

    fn ctx(org: &Org, params: &[(&str, &str)]) -> Ctx {
        Ctx::for_tests(org, "62.0", params)
    }

    fn contacts(all_or_none: bool, last_names: &[Option<&str>]) -> Vec<u8> {
        let records: Vec<Value> = last_names
            .iter()
            .map(|name| json!({ "attributes": { "type": "Contact" }, "LastName": name, "Email": "ok@example.com" }))
            .collect();
        serde_json::to_vec(&json!({ "allOrNone": all_or_none, "records": records })).unwrap()
    }

    #[test]
    fn per_record_results_and_all_or_none_rollback() {
        let mut org = org();
        let context = ctx(&org, &[]);
        let before = org.table(SObject::Contact).records.len();
        let (status, results) = body(
            route(
                &mut org,
                &context,
                "POST",
                &[],
                &contacts(false, &[Some("A"), None, Some("C")]),
            )
            .unwrap(),
        );
        assert_eq!(status, 200);
        assert_eq!(results[0]["success"], true);
        assert!(results[0]["id"].as_str().unwrap().starts_with("003"));
        assert_eq!(results[1]["success"], false);
        assert!(results[1].get("id").is_none());
        assert_eq!(results[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
        assert_eq!(results[1]["errors"][0]["fields"], json!(["LastName"]));
        assert_eq!(results[2]["success"], true);
        assert_eq!(org.table(SObject::Contact).records.len(), before + 2);

        let (_, results) = body(
            route(
                &mut org,
                &context,
                "POST",
                &[],
                &contacts(true, &[Some("D"), None, Some("F")]),
            )
            .unwrap(),
        );
        assert_eq!(
            results[0]["errors"][0]["statusCode"],
            "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        );
        assert_eq!(results[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
        assert_eq!(
            results[2]["errors"][0]["statusCode"],
            "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        );
        assert_eq!(org.table(SObject::Contact).records.len(), before + 2, "nothing kept");

        let names: Vec<Option<&str>> = vec![Some("X"); 201];
        let err = route(&mut org, &context, "POST", &[], &contacts(false, &names)).unwrap_err();
        assert_eq!((err.status, err.code), (400, "EXCEEDED_ID_LIMIT"));
        let unknown = json!({ "records": [{ "attributes": { "type": "Contact" }, "LastName": "A", "Foo": 1 }] });
        let err = route(&mut org, &context, "POST", &[], &serde_json::to_vec(&unknown).unwrap()).unwrap_err();
        assert_eq!((err.status, err.code), (400, "INVALID_FIELD"));
    }

    #[test]
    fn updates_deletes_retrieves_and_upserts() {
        let mut org = org();
        let context = ctx(&org, &[]);
        let ids: Vec<String> = org
            .table(SObject::Contact)
            .live()
            .take(2)
            .map(|r| org.id_of(SObject::Contact, r.seq))
            .collect();
        let update = json!({ "allOrNone": false, "records": [
            { "id": ids[0], "attributes": { "type": "Contact" }, "Title": "Boss" },
            { "id": "003000000000000AAA", "attributes": { "type": "Contact" }, "Title": "Ghost" },
        ]});
        let (_, results) =
            body(route(&mut org, &context, "PATCH", &[], &serde_json::to_vec(&update).unwrap()).unwrap());
        assert_eq!(results[0], json!({ "id": ids[0], "success": true, "errors": [] }));
        assert_eq!(results[1]["success"], false);
        assert_eq!(results[1]["id"], "003000000000000AAA");

        let retrieve = json!({ "ids": [ids[0], "003000000000000AAA"], "fields": ["Title", "LastName"] });
        let (_, records) = body(
            route(
                &mut org,
                &context,
                "POST",
                &["Contact"],
                &serde_json::to_vec(&retrieve).unwrap(),
            )
            .unwrap(),
        );
        assert_eq!(records[0]["Title"], "Boss");
        assert_eq!(records[0]["attributes"]["type"], "Contact");
        assert_eq!(records[1], Value::Null);

        let upsert = json!({ "allOrNone": false, "records": [
            { "attributes": { "type": "Contact" }, "Tandem_Id__c": "u-1", "LastName": "New" },
            { "attributes": { "type": "Contact" }, "Legacy_Id__c": "LEG-SHARED", "LastName": "Two" },
        ]});
        let (_, results) = body(
            route(
                &mut org,
                &context,
                "PATCH",
                &["Contact", "Tandem_Id__c"],
                &serde_json::to_vec(&upsert).unwrap(),
            )
            .unwrap(),
        );
        assert_eq!(results[0]["created"], true);
        assert_eq!(results[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
        let (_, results) = body(
            route(
                &mut org,
                &context,
                "PATCH",
                &["Contact", "Legacy_Id__c"],
                &serde_json::to_vec(&upsert).unwrap(),
            )
            .unwrap(),
        );
        assert_eq!(
            results[1]["errors"][0]["statusCode"], "DUPLICATE_EXTERNAL_ID",
            "{results}"
        );

        let joined = format!("{},{},garbage", ids[0], ids[1]);
        let deleting = ctx(&org, &[("ids", &joined)]);
        let (_, results) = body(route(&mut org, &deleting, "DELETE", &[], &[]).unwrap());
        assert_eq!(results[0]["success"], true);
        assert_eq!(results[1]["success"], true);
        assert_eq!(results[2]["errors"][0]["statusCode"], "MALFORMED_ID");
        let (_, again) = body(route(&mut org, &deleting, "DELETE", &[], &[]).unwrap());
        assert_eq!(again[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    }
}
