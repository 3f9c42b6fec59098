//! `/crm/v4/objects/{from}/{id}/associations/...`: read, create (default type) and remove; and
//! `/crm/v4/associations/{from}/{to}/batch/read` for up to 1,000 records at once.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::HubSpot;
use super::errors::HsError;
use super::gate::{AuthedAccount, object_type};
use super::model::default_association_type;
use super::objects::ok;

fn id(value: &str) -> Result<u64, HsError> {
    value.parse().map_err(|_| HsError::not_found(value))
}

pub async fn list(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, from, from_id, to) = path.into_inner();
    let (from, to, from_id) = (object_type(&from)?, object_type(&to)?, id(&from_id)?);
    let results: Vec<Value> = hubspot.with_account(&authed.key, |account| {
        account
            .associations
            .iter()
            .filter(|a| a.from == (from, from_id) && a.to.0 == to)
            .map(|a| {
                json!({
                    "toObjectId": a.to.1,
                    "associationTypes": [{ "category": "HUBSPOT_DEFINED", "typeId": a.type_id, "label": Value::Null }],
                })
            })
            .collect()
    });
    Ok(ok(json!({ "results": results })))
}

#[derive(serde::Deserialize)]
struct BatchRead {
    inputs: Vec<BatchInput>,
}

#[derive(serde::Deserialize)]
struct BatchInput {
    id: Value,
}

/// `POST /crm/v4/associations/{from}/{to}/batch/read`: `{"inputs": [{"id": "123"}]}` →
/// `{"status": "COMPLETE", "results": [{"from": {"id"}, "to": [{"toObjectId", "associationTypes"}]}]}`;
/// records without associations of that type are left out, as HubSpot does.
pub async fn batch_read(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    const MAX_INPUTS: usize = 1_000;
    let (_, from, to) = path.into_inner();
    let (from, to) = (object_type(&from)?, object_type(&to)?);
    let request: BatchRead = super::gate::parse_body(&body)?;
    if request.inputs.len() > MAX_INPUTS {
        return Err(HsError::bad_request(format!(
            "Batch requests take at most {MAX_INPUTS} inputs; this one has {}",
            request.inputs.len()
        )));
    }
    let ids: Vec<u64> = request
        .inputs
        .iter()
        .map(|i| match &i.id {
            Value::String(s) => id(s),
            other => id(&other.to_string()),
        })
        .collect::<Result<_, _>>()?;
    let results: Vec<Value> = hubspot.with_account(&authed.key, |account| {
        ids.iter()
            .filter_map(|from_id| {
                let targets: Vec<Value> = account
                    .associations
                    .iter()
                    .filter(|a| a.from == (from, *from_id) && a.to.0 == to)
                    .map(|a| {
                        json!({
                            "toObjectId": a.to.1,
                            "associationTypes": [{ "category": "HUBSPOT_DEFINED", "typeId": a.type_id, "label": Value::Null }],
                        })
                    })
                    .collect();
                (!targets.is_empty()).then(|| json!({ "from": { "id": from_id.to_string() }, "to": targets }))
            })
            .collect()
    });
    let now = chrono::Utc::now().to_rfc3339();
    Ok(ok(
        json!({ "status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now }),
    ))
}

pub async fn create_default(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, from, from_id, to, to_id) = path.into_inner();
    let (from, to) = (object_type(&from)?, object_type(&to)?);
    let (from_id, to_id) = (id(&from_id)?, id(&to_id)?);
    if default_association_type(from, to).is_none() {
        return Err(HsError::bad_request(format!(
            "{} cannot be associated with {}",
            from.name(),
            to.name()
        )));
    }
    hubspot.with_account(&authed.key, |account| {
        for (object, record) in [(from, from_id), (to, to_id)] {
            let live = account
                .records(object)
                .get(&record)
                .is_some_and(|r| r.archived_at.is_none());
            if !live {
                return Err(HsError::not_found(&record.to_string()));
            }
        }
        super::seed::associate(account, (from, from_id), (to, to_id));
        Ok(ok(json!({
            "status": "COMPLETE",
            "results": [{
                "fromObjectTypeId": from.name(), "fromObjectId": from_id,
                "toObjectTypeId": to.name(), "toObjectId": to_id,
                "labels": [],
            }],
        })))
    })
}

pub async fn remove(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse, HsError> {
    let (_, from, from_id, to, to_id) = path.into_inner();
    let (from, to) = (object_type(&from)?, object_type(&to)?);
    let (from_id, to_id) = (id(&from_id)?, id(&to_id)?);
    hubspot.with_account(&authed.key, |account| {
        account.associations.retain(|a| {
            let forward = a.from == (from, from_id) && a.to == (to, to_id);
            let backward = a.from == (to, to_id) && a.to == (from, from_id);
            !(forward || backward)
        });
    });
    Ok(HttpResponse::NoContent().finish())
}
