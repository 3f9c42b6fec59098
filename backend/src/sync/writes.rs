//! Writing a page's records to the other side: a CRM in batches up to its maximum (creates as
//! upserts by Tandem's sync key, so a retry cannot double them; updates by id), or the app's store
//! (validated into the app's model, announced on the change feed at commit).

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tandem_shared::api::changes::ChangeKind;
use tandem_shared::api::failed_records::FailureReason;
use tandem_shared::api::pipelines::Flow;

use super::crm::{CallError, RecordError};
use super::matching::{self, Twin};
use super::outcome::{AppWrite, Incoming, PageOutput, reason_from_connector};
use super::page::{Abort, PageCtx, Pending, fail_all};
use super::plan::{CrmSide, SideHandle};
use crate::connectors::{ConnectorError, DEAL_LINE_ITEMS, Fields, ObjectKind, Record, Written};
use crate::domain::AppRecord;
use crate::repo::app_records::{self, ChangedRecord};

/// The value Tandem writes into a CRM's sync-key field for the record whose id on the other side
/// is `id`: the id itself, or a digest of it when it does not fit (Salesforce allows 64 characters).
pub fn sync_key(id: &str) -> String {
    if id.len() <= 64 {
        return id.to_string();
    }
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("h-{}", &hex[..62])
}

pub fn incoming_from_crm(record: Record) -> Incoming {
    Incoming {
        id: record.id,
        fields: Value::Object(record.fields.into_iter().collect()),
        modified_at: record.modified_at.timestamp_millis(),
        deleted: record.deleted,
        app_version: None,
    }
}

pub fn incoming_from_app(record: &ChangedRecord) -> Incoming {
    Incoming {
        id: record.record.external_id.clone(),
        fields: record.record.data.clone(),
        modified_at: record.record.updated_at.timestamp_millis(),
        deleted: record.record.deleted,
        app_version: Some(record.record.version),
    }
}

/// The fields written to the CRM record itself: a deal's line items are records of their own,
/// written after it (see [`finish`]).
fn fields_of(kind: ObjectKind, mapped: &Value) -> Fields {
    mapped
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !(kind == ObjectKind::Deal && k.as_str() == DEAL_LINE_ITEMS))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A mapped deal's line items, when the mapping writes them.
fn line_items_of(kind: ObjectKind, mapped: &Value) -> Option<Vec<Fields>> {
    if kind != ObjectKind::Deal {
        return None;
    }
    let items = mapped.get(DEAL_LINE_ITEMS)?.as_array()?;
    Some(
        items
            .iter()
            .map(|item| {
                item.as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default()
            })
            .collect(),
    )
}

/// Records the records a batch wrote, after writing the line items of the deals among them (a
/// few calls per batch): a deal whose line items the CRM refused fails with that reason, and is
/// written again, line items and all, when it is replayed.
async fn finish(
    ctx: &PageCtx<'_>,
    crm: &CrmSide,
    out: &mut PageOutput,
    written: Vec<(Pending, Written)>,
) -> Result<(), Abort> {
    let kind = crm.kind;
    let deals: Vec<(usize, (String, Vec<Fields>))> = written
        .iter()
        .enumerate()
        .filter_map(|(n, (pending, done))| Some((n, (done.id.clone(), line_items_of(kind, &pending.mapped)?))))
        .collect();
    let mut refused: HashMap<usize, FailureReason> = HashMap::new();
    if !deals.is_empty() {
        let inputs: Vec<(String, Vec<Fields>)> = deals.iter().map(|(_, d)| d.clone()).collect();
        let result = crm
            .client
            .call(|credential| {
                let connector = crm.client.connector.clone();
                let inputs = inputs.clone();
                async move { connector.write_line_items(&credential, &inputs).await }
            })
            .await;
        match result {
            Ok(results) => {
                for ((n, _), result) in deals.iter().zip(results) {
                    if let Err(error) = result {
                        refused.insert(*n, reason_from_connector(&error));
                    }
                }
            }
            Err(error) if error.connector_error().is_some() => {
                let reason = super::outcome::reason_from_call(&error);
                for (n, _) in &deals {
                    refused.insert(*n, reason.clone());
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    for (n, (pending, done)) in written.into_iter().enumerate() {
        match refused.remove(&n) {
            Some(reason) => out.failed(ctx.flow, &pending.record, Some(pending.mapped), reason),
            None => succeeded(ctx, out, &pending, &done.id, done.created),
        }
    }
    Ok(())
}

/// Records a successful write of `pending` as `written_id`.
fn succeeded(ctx: &PageCtx<'_>, out: &mut PageOutput, pending: &Pending, written_id: &str, created: bool) {
    let mut link = ctx.link(&pending.record.id, written_id, pending.link.as_ref());
    ctx.synced(&mut link, &pending.record, &pending.hash);
    if pending.base.is_some() {
        link.base = pending.base.clone();
        // What the CRM now holds, as it reads back into the app's model.
        if let Some(mappings) = super::page::two_way_mappings(ctx.plan)
            && let Ok(read_back) = mappings.crm_to_app.compiled.apply(&pending.mapped)
        {
            link.crm_base = Some(read_back);
        }
    }
    let (source, target) = (link.source_id.clone(), link.target_id.clone());
    out.links.push(link);
    out.resolved.push((ctx.flow, pending.record.id.clone()));
    let mut detail = json!({});
    if let Some(matched) = &pending.matched {
        detail["matched"] = matched.clone();
    }
    if created {
        out.created(ctx.flow, &source, &target, detail);
    } else {
        out.updated(ctx.flow, &source, &target, detail);
    }
}

fn take_chunk(list: &mut Vec<Pending>, size: usize) -> Vec<Pending> {
    let n = size.max(1).min(list.len());
    list.drain(..n).collect()
}

/// Writes to a CRM: updates first (those whose twin vanished become creates), then creates;
/// creates the CRM refused because their unique value belongs to another record go through the
/// duplicate policy, and those to be merged are written over their twin.
pub async fn to_crm(
    ctx: &PageCtx<'_>,
    crm: &CrmSide,
    out: &mut PageOutput,
    mut creates: Vec<Pending>,
    updates: Vec<Pending>,
) -> Result<(), Abort> {
    creates.extend(write_updates(ctx, crm, out, updates).await?);
    let twins = write_creates(ctx, crm, out, creates).await?;
    let merges = matching::settle_twins(ctx, out, twins).await?;
    for vanished in write_updates(ctx, crm, out, merges).await? {
        let reason = FailureReason {
            kind: "not_found".into(),
            field: None,
            message: "its twin in the CRM was deleted while it was being merged; replay it".into(),
            crm_error: None,
        };
        out.failed(ctx.flow, &vanished.record, Some(vanished.mapped), reason);
    }
    Ok(())
}

/// Updates by the CRM's id, in batches; returns the records whose twin no longer exists.
async fn write_updates(
    ctx: &PageCtx<'_>,
    crm: &CrmSide,
    out: &mut PageOutput,
    mut updates: Vec<Pending>,
) -> Result<Vec<Pending>, Abort> {
    let kind = crm.kind;
    let mut vanished = Vec::new();
    while !updates.is_empty() {
        let chunk = take_chunk(&mut updates, crm.batch_max);
        let inputs: Vec<(String, Fields)> = chunk
            .iter()
            .map(|p| (p.to_id.clone().unwrap_or_default(), fields_of(kind, &p.mapped)))
            .collect();
        let result = crm
            .client
            .call_each(&inputs, |credential, inputs| {
                let connector = crm.client.connector.clone();
                async move { connector.update(&credential, kind, &inputs).await }
            })
            .await;
        match result {
            Ok(results) => {
                let mut written_ok = Vec::new();
                for (pending, result) in chunk.into_iter().zip(results) {
                    match result {
                        Ok(written) => written_ok.push((pending, written)),
                        Err(RecordError::Refused(ConnectorError::NotFound { .. })) => {
                            vanished.push(Pending { to_id: None, ..pending })
                        }
                        Err(error) => {
                            out.failed(ctx.flow, &pending.record, Some(pending.mapped), record_reason(&error))
                        }
                    }
                }
                finish(ctx, crm, out, written_ok).await?;
            }
            Err(error) if error.connector_error().is_some() => fail_all(ctx, out, chunk, &error),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(vanished)
}

/// Creates as upserts by Tandem's sync key, in batches; returns the records refused because
/// another CRM record holds their unique value, with that record.
async fn write_creates(
    ctx: &PageCtx<'_>,
    crm: &CrmSide,
    out: &mut PageOutput,
    mut creates: Vec<Pending>,
) -> Result<Vec<(Pending, Twin)>, Abort> {
    let kind = crm.kind;
    let mut twins = Vec::new();
    if creates.is_empty() {
        return Ok(twins);
    }
    let Some(key_field) = crm.sync_key.clone() else {
        let reason = FailureReason {
            kind: "no_sync_key".into(),
            field: None,
            message: "the CRM object has no field for Tandem's sync key, so creating records could double them".into(),
            crm_error: None,
        };
        for pending in creates {
            out.failed(ctx.flow, &pending.record, Some(pending.mapped), reason.clone());
        }
        return Ok(twins);
    };
    while !creates.is_empty() {
        let chunk = take_chunk(&mut creates, crm.batch_max);
        let inputs: Vec<Fields> = chunk
            .iter()
            .map(|p| {
                let mut fields = fields_of(kind, &p.mapped);
                fields.insert(key_field.clone(), json!(sync_key(&p.record.id)));
                fields
            })
            .collect();
        let result = crm
            .client
            .call_each(&inputs, |credential, inputs| {
                let connector = crm.client.connector.clone();
                let key_field = key_field.clone();
                async move { connector.upsert(&credential, kind, &key_field, &inputs).await }
            })
            .await;
        match result {
            Ok(results) => {
                let mut written_ok = Vec::new();
                for (pending, result) in chunk.into_iter().zip(results) {
                    match result {
                        Ok(written) => written_ok.push((pending, written)),
                        Err(error) => {
                            let twin = match &error {
                                RecordError::Refused(ConnectorError::Conflict {
                                    existing_id: Some(existing),
                                    ..
                                }) => matching::twin_from_refusal(ctx, crm, &pending, existing),
                                _ => None,
                            };
                            match twin {
                                Some(twin) => twins.push((pending, twin)),
                                None => {
                                    out.failed(ctx.flow, &pending.record, Some(pending.mapped), record_reason(&error))
                                }
                            }
                        }
                    }
                }
                finish(ctx, crm, out, written_ok).await?;
            }
            Err(error) if error.connector_error().is_some() => fail_all(ctx, out, chunk, &error),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(twins)
}

/// Why one record of a batch failed, as failed records keep it.
fn record_reason(error: &RecordError) -> FailureReason {
    match error {
        RecordError::Refused(error) => reason_from_connector(error),
        RecordError::Exhausted(error, attempts) => {
            super::outcome::reason_from_call(&CallError::Exhausted(error.clone(), *attempts))
        }
        RecordError::Lost => FailureReason {
            kind: "call".into(),
            field: None,
            message: "the CRM's answer for this record was missing; replay it".into(),
            crm_error: None,
        },
    }
}

/// The app id a CRM record gets when it has none yet.
pub fn app_id_for(provider: &str, crm_id: &str) -> String {
    format!("{provider}-{crm_id}")
}

/// Writes into the app's store (at commit): each record's mapped fields over the app's record.
pub async fn to_app(
    ctx: &PageCtx<'_>,
    out: &mut PageOutput,
    creates: Vec<Pending>,
    updates: Vec<Pending>,
) -> Result<(), Abort> {
    let SideHandle::App(app) = ctx.plan.side(ctx.to_side()) else {
        return Ok(());
    };
    let provider = ctx
        .plan
        .side(ctx.from_side())
        .crm()
        .map_or("crm", |c| c.client.provider())
        .to_string();
    let object = ctx.plan.stored.pipeline.object;
    let all: Vec<Pending> = updates.into_iter().chain(creates).collect();
    let ids: Vec<String> = all
        .iter()
        .map(|p| p.to_id.clone().unwrap_or_else(|| app_id_for(&provider, &p.record.id)))
        .collect();
    let mut existing: HashMap<String, ChangedRecord> = HashMap::new();
    for chunk in ids.chunks(500) {
        for record in app_records::get_many(ctx.db.pool(), app.environment_id, object, chunk).await? {
            existing.insert(record.record.external_id.clone(), record);
        }
    }
    for (pending, external_id) in all.into_iter().zip(ids) {
        let current = existing.get(&external_id).filter(|r| !r.record.deleted);
        let mut merged: Map<String, Value> = current
            .and_then(|r| r.record.data.as_object().cloned())
            .unwrap_or_default();
        for (field, value) in pending.mapped.as_object().into_iter().flatten() {
            if value.is_null() {
                merged.remove(field);
            } else {
                merged.insert(field.clone(), value.clone());
            }
        }
        let merged = Value::Object(merged);
        let record = match AppRecord::parse(object, &merged) {
            Ok(record) => record,
            Err(errors) => {
                let reason = FailureReason {
                    kind: "app_validation".into(),
                    field: errors.first().map(|e| e.field.clone()),
                    message: errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    crm_error: None,
                };
                out.failed(ctx.flow, &pending.record, Some(pending.mapped), reason);
                continue;
            }
        };
        let payload = record.to_json();
        let created = current.is_none();
        let mut link = ctx.link(&pending.record.id, &external_id, pending.link.as_ref());
        ctx.synced(&mut link, &pending.record, &pending.hash);
        if ctx.plan.two_way() {
            link.base = Some(payload.clone());
            // Read from the CRM just now, mapped into the app's model.
            link.crm_base = Some(pending.mapped.clone());
        }
        out.app_writes.push(AppWrite {
            external_id: external_id.clone(),
            crm_id: pending.record.id.clone(),
            provider: provider.clone(),
            hash: record.content_hash(),
            payload: Some(payload),
            change: if created {
                ChangeKind::Created
            } else {
                ChangeKind::Updated
            },
            link_source_id: Some(link.source_id.clone()),
        });
        let (source, target) = (link.source_id.clone(), link.target_id.clone());
        out.links.push(link);
        out.resolved.push((ctx.flow, pending.record.id.clone()));
        let mut detail = json!({});
        if let Some(matched) = &pending.matched {
            detail["matched"] = matched.clone();
        }
        if created {
            out.created(ctx.flow, &source, &target, detail);
        } else {
            out.updated(ctx.flow, &source, &target, detail);
        }
    }
    Ok(())
}

/// Which flow reads from the side a deletion must be applied to… the other one.
pub fn flow_applying_delete(deleted_on: tandem_shared::api::pipelines::Side) -> Flow {
    match deleted_on {
        tandem_shared::api::pipelines::Side::Source => Flow::Forward,
        tandem_shared::api::pipelines::Side::Target => Flow::Reverse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_keys_fit_salesforce_external_ids() {
        assert_eq!(sync_key("c-1"), "c-1");
        let long = "x".repeat(300);
        let key = sync_key(&long);
        assert_eq!(key.len(), 64);
        assert_eq!(key, sync_key(&long), "stable");
        assert_ne!(key, sync_key(&"y".repeat(300)));
    }
}
