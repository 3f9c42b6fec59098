//! Records pushed by the operator's app with a tenant API key: parsed into the unified model,
//! stored per environment with a content hash. Pushing the same content again changes nothing,
//! so it will cost no CRM call; a batch is written in one transaction, and a bad record fails
//! alone, with every field at fault named.

use serde_json::Value;
use tandem_shared::api::records::{
    BatchPush, BatchPushResult, MAX_BATCH, PushOutcome, PushResult, RecordFieldError, StoredRecord,
};
use tandem_shared::model::AppObject;

use super::ServiceError;
use crate::auth::AppPrincipal;
use crate::domain::match_keys::match_keys;
use crate::domain::{AppRecord, FieldError};
use crate::repo::app_records::{self, Upsert};
use crate::repo::change_sequences;
use crate::repo::{Db, Tx, now_ms};

fn check_external_id(external_id: &str) -> Result<(), RecordFieldError> {
    let problem = if external_id.trim().is_empty() {
        Some("is required")
    } else if external_id.chars().count() > 255 {
        Some("is longer than 255 characters")
    } else if external_id.chars().any(char::is_control) {
        Some("contains control characters")
    } else {
        None
    };
    match problem {
        Some(message) => Err(RecordFieldError {
            field: "external_id".into(),
            message: message.into(),
        }),
        None => Ok(()),
    }
}

/// A record that passed validation, ready to store.
struct Valid<'a> {
    external_id: &'a str,
    payload: Value,
    hash: String,
}

fn invalid(external_id: &str, errors: Vec<RecordFieldError>) -> PushResult {
    PushResult {
        external_id: external_id.to_string(),
        outcome: PushOutcome::Invalid,
        version: None,
        errors,
    }
}

fn validate<'a>(object: AppObject, external_id: &'a str, data: &Value) -> Result<Valid<'a>, PushResult> {
    check_external_id(external_id).map_err(|error| invalid(external_id, vec![error]))?;
    let record = AppRecord::parse(object, data).map_err(|errors| invalid(external_id, errors))?;
    Ok(Valid {
        external_id,
        payload: record.to_json(),
        hash: record.content_hash(),
    })
}

/// Stores one valid record if new or changed, under change number `change_seq`.
async fn store(
    tx: &mut Tx,
    app: &AppPrincipal,
    object: AppObject,
    record: &Valid<'_>,
    change_seq: i64,
) -> Result<PushResult, ServiceError> {
    let version = app_records::upsert_if_changed(
        &mut **tx,
        Upsert {
            tenant_id: app.tenant_id,
            environment_id: app.environment_id,
            object,
            external_id: record.external_id,
            payload: &record.payload,
            content_hash: &record.hash,
            change_seq,
            now_ms: now_ms(),
        },
    )
    .await?;
    if version.is_some() {
        let keys: Vec<String> = match_keys(object, &record.payload).iter().map(|k| k.text()).collect();
        app_records::set_keys(tx, app.environment_id, object, record.external_id, &keys).await?;
    }
    let outcome = match version {
        Some(1) => PushOutcome::Created,
        Some(_) => PushOutcome::Updated,
        None => PushOutcome::Unchanged,
    };
    metrics::counter!("app_records_pushed_total", "object" => object.as_str(), "outcome" => outcome_name(outcome))
        .increment(1);
    Ok(PushResult {
        external_id: record.external_id.to_string(),
        outcome,
        version,
        errors: Vec::new(),
    })
}

fn outcome_name(outcome: PushOutcome) -> &'static str {
    match outcome {
        PushOutcome::Created => "created",
        PushOutcome::Updated => "updated",
        PushOutcome::Unchanged => "unchanged",
        PushOutcome::Deleted => "deleted",
        PushOutcome::Invalid => "invalid",
    }
}

/// `PUT /records/{object}/{external_id}`: an invalid record is refused with its first field named
/// and every problem in the message.
pub async fn push(
    db: &Db,
    app: &AppPrincipal,
    object: AppObject,
    external_id: &str,
    data: &Value,
) -> Result<PushResult, ServiceError> {
    let valid = match validate(object, external_id, data) {
        Ok(valid) => valid,
        Err(mut result) => return Err(refusal(&mut result.errors)),
    };
    let mut tx = db.begin().await?;
    let change_seq = change_sequences::take(&mut *tx, app.environment_id, change_sequences::APP_RECORDS, 1).await?;
    let mut result = store(&mut tx, app, object, &valid, change_seq).await?;
    tx.commit().await?;
    if result.version.is_none() {
        result.version = app_records::get(db.pool(), app.environment_id, object, external_id)
            .await?
            .map(|r| r.version);
    }
    Ok(result)
}

/// A single record's refusal: its first field named, every problem in the message.
fn refusal(errors: &mut Vec<RecordFieldError>) -> ServiceError {
    let first = errors.remove(0);
    let rest: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
    let message = if rest.is_empty() {
        first.message
    } else {
        format!("{}; also {}", first.message, rest.join("; "))
    };
    FieldError::new(first.field, message).into()
}

pub async fn push_batch(
    db: &Db,
    app: &AppPrincipal,
    object: AppObject,
    batch: BatchPush,
) -> Result<BatchPushResult, ServiceError> {
    if batch.records.len() > MAX_BATCH {
        return Err(FieldError::new(
            "records",
            format!("a batch holds at most {MAX_BATCH} records, not {}", batch.records.len()),
        )
        .into());
    }
    // Validate everything before taking the environment's change numbers, which are held until commit.
    let mut seen = std::collections::HashSet::new();
    let checked: Vec<Result<Valid, PushResult>> = batch
        .records
        .iter()
        .map(|record| {
            if !seen.insert(record.external_id.as_str()) {
                let error = RecordFieldError {
                    field: "external_id".into(),
                    message: "appears more than once in this batch".into(),
                };
                return Err(invalid(&record.external_id, vec![error]));
            }
            validate(object, &record.external_id, &record.data)
        })
        .collect();
    let valid_count = checked.iter().filter(|c| c.is_ok()).count() as i64;
    let mut results = Vec::with_capacity(checked.len());
    let mut tx = db.begin().await?;
    let mut change_seq = if valid_count > 0 {
        change_sequences::take(&mut *tx, app.environment_id, change_sequences::APP_RECORDS, valid_count).await?
            - valid_count
    } else {
        0
    };
    for record in checked {
        match record {
            Ok(valid) => {
                change_seq += 1;
                results.push(store(&mut tx, app, object, &valid, change_seq).await?);
            }
            Err(refused) => results.push(refused),
        }
    }
    tx.commit().await?;
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    Ok(BatchPushResult {
        created: count(PushOutcome::Created),
        updated: count(PushOutcome::Updated),
        unchanged: count(PushOutcome::Unchanged),
        invalid: count(PushOutcome::Invalid),
        results,
    })
}

pub async fn get(
    db: &Db,
    app: &AppPrincipal,
    object: AppObject,
    external_id: &str,
) -> Result<StoredRecord, ServiceError> {
    app_records::get(db.pool(), app.environment_id, object, external_id)
        .await?
        .ok_or(ServiceError::NotFound("record"))
}

pub async fn delete(
    db: &Db,
    app: &AppPrincipal,
    object: AppObject,
    external_id: &str,
) -> Result<PushResult, ServiceError> {
    let mut tx = db.begin().await?;
    let change_seq = change_sequences::take(&mut *tx, app.environment_id, change_sequences::APP_RECORDS, 1).await?;
    let version = app_records::mark_deleted(&mut *tx, app.environment_id, object, external_id, change_seq, now_ms())
        .await?
        .ok_or(ServiceError::NotFound("record"))?;
    app_records::set_keys(&mut tx, app.environment_id, object, external_id, &[]).await?;
    tx.commit().await?;
    Ok(PushResult {
        external_id: external_id.to_string(),
        outcome: PushOutcome::Deleted,
        version: Some(version),
        errors: Vec::new(),
    })
}

/// The object named in the path.
pub fn object(name: &str) -> Result<AppObject, ServiceError> {
    AppObject::parse(name).ok_or_else(|| {
        FieldError::new(
            "object",
            format!("{name:?} is not one of contact, company, deal, appointment"),
        )
        .into()
    })
}
