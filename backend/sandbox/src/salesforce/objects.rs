//! `/sobjects/…`: describeGlobal and describe, create, retrieve, update, delete, retrieve and
//! upsert by External ID (201 / 200 or 204 / 300, `updateOnly`), and the replication calls
//! `updated/` and `deleted/`.

use actix_web::HttpResponse;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Map, Value, json};

use super::errors::{SfError, json_response};
use super::model::{Lookup, Obj, Org, Val, sf_datetime};
use super::ops::{Changes, KeyMatch, Tx, convert, parse_datetime, parse_fields};
use super::rest::Ctx;
use super::schema::SObject;

/// The most ids `updated/` returns.
const MAX_UPDATED_IDS: usize = 600_000;
/// How far back `updated/` and `deleted/` reach.
const REPLICATION_DAYS: i64 = 30;

pub fn describe_global(ctx: &Ctx) -> HttpResponse {
    let sobjects: Vec<Value> = SObject::ALL.iter().map(|o| o.def().summary(&ctx.version)).collect();
    json_response(
        200,
        &json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects }),
    )
}

/// A request body that must be a JSON object.
pub fn body_object(body: &[u8]) -> Result<Map<String, Value>, SfError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| SfError::json_parser(format!("{e} at [line:{}, column:{}]", e.line(), e.column())))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(SfError::json_parser(format!(
            "Cannot deserialize instance of object from {} value",
            if other.is_array() {
                "START_ARRAY"
            } else {
                "VALUE_STRING"
            }
        ))),
    }
}

fn no_such_column(object: SObject, name: &str) -> SfError {
    SfError::new(
        400,
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append \
             the '__c' after the custom field name. Please reference your WSDL or the describe call for the \
             appropriate names.",
            object.name()
        ),
    )
}

/// `fields=A,B` as field indexes.
pub fn field_list(object: SObject, names: &[&str]) -> Result<Vec<u16>, SfError> {
    names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|name| {
            object
                .def()
                .field(name)
                .map(|(i, _)| i)
                .ok_or_else(|| no_such_column(object, name))
        })
        .collect()
}

/// A path segment that should be a record id but is not one: Salesforce reads it as an
/// External ID field name.
fn not_an_id(segment: &str) -> SfError {
    SfError::new(
        404,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {segment}"),
    )
}

pub fn save_result(id: &str, created: Option<bool>) -> Obj {
    let mut result = Obj::new()
        .with("id", Value::String(id.to_string()))
        .with("success", Value::Bool(true))
        .with("errors", Value::Array(Vec::new()));
    if let Some(created) = created {
        result.push("created", Value::Bool(created));
    }
    result
}

/// Runs one write in its own transaction: all of it or nothing.
pub fn atomic<T>(org: &mut Org, write: impl FnOnce(&mut Org, &mut Tx) -> Result<T, SfError>) -> Result<T, SfError> {
    let mut tx = Tx::default();
    match write(org, &mut tx) {
        Ok(value) => Ok(value),
        Err(error) => {
            org.rollback(tx);
            Err(error)
        }
    }
}

pub fn route(
    org: &mut Org,
    ctx: &Ctx,
    method: &str,
    object: SObject,
    rest: &[&str],
    body: &[u8],
) -> Result<HttpResponse, SfError> {
    match (method, rest) {
        ("GET", []) => Ok(json_response(
            200,
            &json!({ "objectDescribe": object.def().summary(&ctx.version), "recentItems": [] }),
        )),
        ("POST", []) => create(org, ctx, object, body),
        ("GET", ["describe"]) => Ok(json_response(200, &object.def().describe(&ctx.version))),
        ("GET", ["updated"]) => updated(org, ctx, object),
        ("GET", ["deleted"]) => deleted(org, ctx, object),
        ("GET", [id]) => retrieve(org, ctx, object, id),
        ("PATCH", [id]) => update(org, ctx, object, id, body),
        ("DELETE", [id]) => delete(org, ctx, object, id),
        ("GET", [field, value]) => by_external_id(org, ctx, object, field, value),
        ("PATCH", [field, value]) => upsert(org, ctx, object, field, value, body),
        (_, []) => Err(SfError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are HEAD,GET,POST"),
        )),
        (_, ["describe" | "updated" | "deleted"]) => Err(SfError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are HEAD,GET"),
        )),
        (_, [_]) => Err(SfError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are HEAD,GET,PATCH,DELETE"),
        )),
        _ => Err(SfError::not_found()),
    }
}

fn create(org: &mut Org, ctx: &Ctx, object: SObject, body: &[u8]) -> Result<HttpResponse, SfError> {
    let input = body_object(body)?;
    if let Some(key) = input.keys().find(|k| k.eq_ignore_ascii_case("Id")) {
        return Err(SfError::dml(
            "INVALID_FIELD",
            "cannot specify Id in an insert call",
            &[key.as_str()],
        ));
    }
    let changes = parse_fields(object, &input, &[])?;
    let seq = atomic(org, |org, tx| org.insert(tx, object, &changes, &ctx.user))?;
    Ok(json_response(201, &save_result(&org.id_of(object, seq), None)))
}

fn live_record(org: &Org, object: SObject, id: &str) -> Result<u64, SfError> {
    match org.lookup(object, id) {
        Lookup::Live(seq) => Ok(seq),
        Lookup::Deleted(_) => Err(SfError::entity_is_deleted()),
        Lookup::Missing => Err(SfError::not_found()),
        Lookup::Malformed => Err(not_an_id(id)),
    }
}

fn retrieve(org: &mut Org, ctx: &Ctx, object: SObject, id: &str) -> Result<HttpResponse, SfError> {
    let fields = ctx
        .param("fields")
        .map(|f| field_list(object, &f.split(',').collect::<Vec<_>>()))
        .transpose()?;
    let seq = match org.lookup(object, id) {
        Lookup::Live(seq) => seq,
        Lookup::Deleted(_) | Lookup::Missing => return Err(SfError::not_found()),
        Lookup::Malformed => return Err(not_an_id(id)),
    };
    let record = org.record(object, seq).ok_or_else(SfError::not_found)?;
    Ok(json_response(
        200,
        &org.render(object, record, fields.as_deref(), &ctx.version),
    ))
}

fn update(org: &mut Org, ctx: &Ctx, object: SObject, id: &str, body: &[u8]) -> Result<HttpResponse, SfError> {
    let input = body_object(body)?;
    let changes = parse_fields(object, &input, &["Id"])?;
    let seq = live_record(org, object, id)?;
    atomic(org, |org, tx| org.update(tx, object, seq, &changes, &ctx.user))?;
    Ok(HttpResponse::NoContent().finish())
}

fn delete(org: &mut Org, ctx: &Ctx, object: SObject, id: &str) -> Result<HttpResponse, SfError> {
    let seq = live_record(org, object, id)?;
    atomic(org, |org, tx| org.delete(tx, object, seq, &ctx.user))?;
    Ok(HttpResponse::NoContent().finish())
}

/// An External ID field of the object (or `Id`), as an upsert or lookup path names it.
fn key_field(object: SObject, name: &str) -> Option<u16> {
    object
        .def()
        .field(name)
        .filter(|(_, f)| f.external_id || f.name == "Id")
        .map(|(i, _)| i)
}

/// `300 Multiple Choices`: the URLs of the records a key matched.
fn multiple_choices(org: &Org, ctx: &Ctx, object: SObject, seqs: &[u64]) -> HttpResponse {
    let urls: Vec<String> = seqs
        .iter()
        .map(|s| {
            format!(
                "/services/data/v{}/sobjects/{}/{}",
                ctx.version,
                object.name(),
                org.id_of(object, *s)
            )
        })
        .collect();
    json_response(300, &urls)
}

fn match_key(org: &Org, object: SObject, field: u16, value: &str) -> KeyMatch {
    if object.def().get(field).is_some_and(|f| f.name == "Id") {
        return match org.lookup(object, value) {
            Lookup::Live(seq) => KeyMatch::One(seq),
            _ => KeyMatch::None,
        };
    }
    org.match_key(object, field, value)
}

fn by_external_id(
    org: &mut Org,
    ctx: &Ctx,
    object: SObject,
    field: &str,
    value: &str,
) -> Result<HttpResponse, SfError> {
    let index = key_field(object, field).ok_or_else(SfError::not_found)?;
    let fields = ctx
        .param("fields")
        .map(|f| field_list(object, &f.split(',').collect::<Vec<_>>()))
        .transpose()?;
    match match_key(org, object, index, value) {
        KeyMatch::None => Err(SfError::not_found()),
        KeyMatch::Many(seqs) => Ok(multiple_choices(org, ctx, object, &seqs)),
        KeyMatch::One(seq) => {
            let record = org.record(object, seq).ok_or_else(SfError::not_found)?;
            Ok(json_response(
                200,
                &org.render(object, record, fields.as_deref(), &ctx.version),
            ))
        }
    }
}

/// `PATCH /sobjects/{Type}/{ExtField}/{value}`.
fn upsert(
    org: &mut Org,
    ctx: &Ctx,
    object: SObject,
    field: &str,
    value: &str,
    body: &[u8],
) -> Result<HttpResponse, SfError> {
    let index = key_field(object, field).ok_or_else(SfError::not_found)?;
    let def = object.def();
    let key_name = def.get(index).map_or(field, |f| f.name);
    let input = body_object(body)?;
    // The key belongs in the URL; the body may repeat it only unchanged.
    for (name, raw) in &input {
        if !name.eq_ignore_ascii_case(key_name) && !name.eq_ignore_ascii_case("Id") {
            continue;
        }
        let same = raw.as_str().is_some_and(|v| v.eq_ignore_ascii_case(value));
        if !same {
            return Err(SfError::dml(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!("Unable to create/update fields: {name}. The upsert key is given in the URL."),
                &[name.as_str()],
            ));
        }
    }
    let mut changes: Changes = parse_fields(object, &input, &[key_name, "Id"])?;
    let created_flag = ctx.major >= 46;
    match match_key(org, object, index, value) {
        KeyMatch::Many(seqs) => Ok(multiple_choices(org, ctx, object, &seqs)),
        KeyMatch::One(seq) => {
            atomic(org, |org, tx| org.update(tx, object, seq, &changes, &ctx.user))?;
            if created_flag {
                Ok(json_response(200, &save_result(&org.id_of(object, seq), Some(false))))
            } else {
                Ok(HttpResponse::NoContent().finish())
            }
        }
        KeyMatch::None if ctx.flag("updateOnly") || key_name == "Id" => Err(SfError::not_found()),
        KeyMatch::None => {
            let key = def.get(index).ok_or_else(SfError::not_found)?;
            changes.push((index, convert(key, &Value::String(value.to_string()))?));
            let seq = atomic(org, |org, tx| org.insert(tx, object, &changes, &ctx.user))?;
            Ok(json_response(
                201,
                &save_result(&org.id_of(object, seq), created_flag.then_some(true)),
            ))
        }
    }
}

fn floor_minute(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(Duration::minutes(1)).unwrap_or(time)
}

fn replication_date(ctx: &Ctx, name: &str) -> Result<DateTime<Utc>, SfError> {
    let raw = ctx.param(name).ok_or_else(|| {
        SfError::new(
            400,
            "MISSING_ARGUMENT",
            format!("Missing required query parameter: {name}"),
        )
    })?;
    // An unencoded `+01:00` arrives as ` 01:00`.
    parse_datetime(&raw.replace(' ', "+"))
        .map(floor_minute)
        .ok_or_else(|| SfError::new(400, "INVALID_REPLICATION_DATE", format!("Cannot parse {name}: {raw}")))
}

/// Start, end and `latestDateCovered` of a replication call.
type Window = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

/// `start`/`end` of a replication call, seconds dropped (Salesforce ignores them), checked.
fn replication_window(ctx: &Ctx) -> Result<Window, SfError> {
    let start = replication_date(ctx, "start")?;
    let end = replication_date(ctx, "end")?;
    let now = floor_minute(Utc::now());
    if end < start {
        return Err(SfError::new(
            400,
            "INVALID_REPLICATION_DATE",
            "EndDate before StartDate",
        ));
    }
    if start < now - Duration::days(REPLICATION_DAYS) {
        return Err(SfError::new(
            400,
            "INVALID_REPLICATION_DATE",
            format!("startDate cannot be more than {REPLICATION_DAYS} days ago"),
        ));
    }
    Ok((start, end, end.min(now)))
}

/// `GET /sobjects/{Type}/updated/?start=&end=`: ids of live records whose SystemModstamp falls
/// in the window.
fn updated(org: &mut Org, ctx: &Ctx, object: SObject) -> Result<HttpResponse, SfError> {
    let (start, end, latest) = replication_window(ctx)?;
    let stamp = object.def().idx("SystemModstamp");
    let ids: Vec<String> = org
        .table(object)
        .live()
        .filter(|r| {
            r.get(stamp)
                .and_then(Val::as_instant)
                .is_some_and(|t| start <= t && t < end)
        })
        .map(|r| org.id_of(object, r.seq))
        .collect();
    if ids.len() > MAX_UPDATED_IDS {
        return Err(SfError::new(
            400,
            "EXCEEDED_ID_LIMIT",
            format!("too many ids: more than {MAX_UPDATED_IDS} records were updated in this window"),
        ));
    }
    Ok(json_response(
        200,
        &Obj::new()
            .with("ids", Value::from(ids))
            .with("latestDateCovered", Value::String(sf_datetime(latest))),
    ))
}

/// `GET /sobjects/{Type}/deleted/?start=&end=`: records moved to the recycle bin in the window.
fn deleted(org: &mut Org, ctx: &Ctx, object: SObject) -> Result<HttpResponse, SfError> {
    let (start, end, latest) = replication_window(ctx)?;
    let table = org.table(object);
    let deleted: Vec<Value> = table
        .records
        .values()
        .filter_map(|r| r.deleted_at.map(|at| (r, at)))
        .filter(|(_, at)| start <= *at && *at < end)
        .map(|(r, at)| json!({ "id": org.id_of(object, r.seq), "deletedDate": sf_datetime(at) }))
        .collect();
    let earliest = table
        .records
        .values()
        .filter_map(|r| r.deleted_at)
        .min()
        .map_or(org.created_at, |oldest| oldest.min(org.created_at));
    Ok(json_response(
        200,
        &Obj::new()
            .with("deletedRecords", Value::Array(deleted))
            .with(
                "earliestDateAvailable",
                Value::String(sf_datetime(floor_minute(earliest))),
            )
            .with("latestDateCovered", Value::String(sf_datetime(latest))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::rest::read;
    use crate::salesforce::seed;

    fn org() -> Org {
        let mut org = Org::empty("objects");
        seed::populate(&mut org);
        org
    }

    fn call(org: &mut Org, ctx: &Ctx, method: &str, rest: &[&str], body: Value) -> (u16, Value) {
        let body = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).unwrap()
        };
        match route(org, ctx, method, SObject::Contact, rest, &body) {
            Ok(response) => read(response),
            Err(error) => read(error.response()),
        }
    }

    #[test]
    fn upsert_inserts_updates_and_answers_300_on_several_matches() {
        let mut org = org();
        let ctx = Ctx::for_tests(&org, "62.0", &[]);
        let (status, body) = call(
            &mut org,
            &ctx,
            "PATCH",
            &["Tandem_Id__c", "T-9"],
            json!({ "LastName": "Nine" }),
        );
        assert_eq!(status, 201);
        assert_eq!(
            (body["success"].clone(), body["created"].clone()),
            (json!(true), json!(true))
        );
        let id = body["id"].as_str().unwrap().to_string();
        let (status, body) = call(
            &mut org,
            &ctx,
            "PATCH",
            &["tandem_id__c", "t-9"],
            json!({ "Title": "CEO" }),
        );
        assert_eq!(
            (status, body),
            (
                200,
                json!({ "id": id, "success": true, "errors": [], "created": false })
            )
        );
        let (status, body) = call(
            &mut org,
            &ctx,
            "PATCH",
            &["Legacy_Id__c", "LEG-SHARED"],
            json!({ "Title": "x" }),
        );
        assert_eq!(status, 300);
        let urls = body.as_array().unwrap();
        assert_eq!(urls.len(), 2);
        assert!(
            urls[0]
                .as_str()
                .unwrap()
                .starts_with("/services/data/v62.0/sobjects/Contact/003")
        );
        let (status, body) = call(&mut org, &ctx, "GET", &["Legacy_Id__c", "LEG-SHARED"], Value::Null);
        assert_eq!((status, body.as_array().map(Vec::len)), (300, Some(2)));

        let only = Ctx::for_tests(&org, "62.0", &[("updateOnly", "true")]);
        let (status, body) = call(
            &mut org,
            &only,
            "PATCH",
            &["Tandem_Id__c", "nobody"],
            json!({ "LastName": "N" }),
        );
        assert_eq!((status, body[0]["errorCode"].clone()), (404, json!("NOT_FOUND")));
        let (status, _) = call(&mut org, &ctx, "PATCH", &["Email", "a@b.c"], json!({ "LastName": "N" }));
        assert_eq!(status, 404, "not an External ID field");
        let (status, body) = call(
            &mut org,
            &ctx,
            "PATCH",
            &["Tandem_Id__c", "T-10"],
            json!({ "Tandem_Id__c": "T-11", "LastName": "N" }),
        );
        assert_eq!(
            (status, body[0]["errorCode"].clone()),
            (400, json!("INVALID_FIELD_FOR_INSERT_UPDATE"))
        );

        // Before API 46.0 an update answered 204 and an insert had no `created`.
        let old = Ctx::for_tests(&org, "45.0", &[]);
        let (status, _) = call(
            &mut org,
            &old,
            "PATCH",
            &["Tandem_Id__c", "T-9"],
            json!({ "Title": "CFO" }),
        );
        assert_eq!(status, 204);
        let (status, body) = call(
            &mut org,
            &old,
            "PATCH",
            &["Tandem_Id__c", "T-12"],
            json!({ "LastName": "Twelve" }),
        );
        assert_eq!(status, 201);
        assert!(body.get("created").is_none());
    }

    #[test]
    fn crud_answers_like_salesforce() {
        let mut org = org();
        let ctx = Ctx::for_tests(&org, "62.0", &[]);
        let (status, created) = call(
            &mut org,
            &ctx,
            "POST",
            &[],
            json!({ "LastName": "Crud", "Email": "crud@example.com" }),
        );
        assert_eq!(status, 201);
        let id = created["id"].as_str().unwrap().to_string();
        let (status, record) = call(&mut org, &ctx, "GET", &[&id], Value::Null);
        assert_eq!(status, 200);
        assert_eq!(record["attributes"]["type"], "Contact");
        assert_eq!(record["IsDeleted"], false);
        assert!(record["SystemModstamp"].as_str().unwrap().ends_with(".000+0000"));
        assert_eq!(record["MobilePhone"], Value::Null, "every field, null when empty");
        let some = Ctx::for_tests(&org, "62.0", &[("fields", "Email,LastName")]);
        let (_, record) = call(&mut org, &some, "GET", &[&id], Value::Null);
        let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "attributes, Id and the two asked for: {keys:?}");
        let bad = Ctx::for_tests(&org, "62.0", &[("fields", "Emial")]);
        let (status, body) = call(&mut org, &bad, "GET", &[&id], Value::Null);
        assert_eq!((status, body[0]["errorCode"].clone()), (400, json!("INVALID_FIELD")));

        let (status, _) = call(&mut org, &ctx, "PATCH", &[&id], json!({ "Title": "Tester" }));
        assert_eq!(status, 204);
        let (status, body) = call(&mut org, &ctx, "PATCH", &[&id], json!({ "LastName": null }));
        assert_eq!(
            (status, body[0]["errorCode"].clone()),
            (400, json!("REQUIRED_FIELD_MISSING"))
        );
        let (status, body) = call(&mut org, &ctx, "GET", &["nonsense"], Value::Null);
        assert_eq!((status, body[0]["errorCode"].clone()), (404, json!("NOT_FOUND")));
        let (status, body) = call(&mut org, &ctx, "POST", &[], json!({ "Id": id, "LastName": "Again" }));
        assert_eq!((status, body[0]["errorCode"].clone()), (400, json!("INVALID_FIELD")));

        let (status, _) = call(&mut org, &ctx, "DELETE", &[&id], Value::Null);
        assert_eq!(status, 204);
        let (status, body) = call(&mut org, &ctx, "DELETE", &[&id], Value::Null);
        assert_eq!(
            (status, body[0]["errorCode"].clone()),
            (404, json!("ENTITY_IS_DELETED"))
        );
        let (status, _) = call(&mut org, &ctx, "GET", &[&id], Value::Null);
        assert_eq!(status, 404);
        let (status, body) = call(&mut org, &ctx, "PUT", &[&id], Value::Null);
        assert_eq!(
            (status, body[0]["errorCode"].clone()),
            (405, json!("METHOD_NOT_ALLOWED"))
        );

        let start = sf_datetime(Utc::now() - Duration::hours(1));
        let end = sf_datetime(Utc::now() + Duration::minutes(2));
        let window = Ctx::for_tests(&org, "62.0", &[("start", &start), ("end", &end)]);
        let (status, deleted) = call(&mut org, &window, "GET", &["deleted"], Value::Null);
        assert_eq!(status, 200);
        assert_eq!(deleted["deletedRecords"][0]["id"], id.as_str());
        assert!(deleted["earliestDateAvailable"].as_str().unwrap() < start.as_str());
        let (_, updated) = call(&mut org, &window, "GET", &["updated"], Value::Null);
        assert!(
            updated["ids"].as_array().unwrap().iter().all(|i| i != id.as_str()),
            "deleted ids are not updated ids"
        );
        let seeded = Ctx::for_tests(
            &org,
            "62.0",
            &[("start", &sf_datetime(Utc::now() - Duration::days(29))), ("end", &end)],
        );
        let (_, updated) = call(&mut org, &seeded, "GET", &["updated"], Value::Null);
        assert_eq!(updated["ids"].as_array().unwrap().len(), 24, "the sample contacts");
        let backwards = Ctx::for_tests(&org, "62.0", &[("start", &end), ("end", &start)]);
        let (status, body) = call(&mut org, &backwards, "GET", &["updated"], Value::Null);
        assert_eq!(
            (status, body[0]["errorCode"].clone()),
            (400, json!("INVALID_REPLICATION_DATE"))
        );
    }
}
