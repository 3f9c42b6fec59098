//! One page of changes read from one side, turned into writes on the other: the core of a run.
//!
//! One-way: each changed record is mapped; if its link says the same content was already
//! written, it is unchanged; otherwise it updates its linked twin, or — after matching against
//! existing records — is created. Two-way (the app is one side): a record whose twin is linked is
//! merged with it field by field (see `merge`), and each side gets what it lacks.
//!
//! Nothing here writes to the database: the page's `PageOutput` is committed by the engine in one
//! transaction, together with the cursor. CRM writes are idempotent (updates by id, creates as
//! upserts by Tandem's sync key), so a page that is processed again after a crash changes nothing
//! twice.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use tandem_shared::api::changes::ChangeKind;
use tandem_shared::api::failed_records::FailureReason;
use tandem_shared::api::pipelines::{Flow, Side};
use tandem_shared::api::runs::RecordOutcome;
use tandem_shared::model::AppObject;

use super::crm::CallError;
use super::matching;
use super::merge::{self, MergeRules};
use super::outcome::{AppWrite, Incoming, PageOutput, reason_from_call};
use super::plan::{FlowMapping, Plan, SideHandle};
use super::writes;
use crate::domain::AppRecord;
use crate::mapping::FieldError;
use crate::repo::failed_records::DuplicateChoice;
use crate::repo::sync_history::{NewConflict, NewHeldDelete};
use crate::repo::sync_links::{self, Link};
use crate::repo::{Db, RepoError, app_records};

/// Why a page stops without being committed (the slice stops too).
#[derive(Debug, thiserror::Error)]
pub enum Abort {
    #[error("waiting {0:?} for the API quota")]
    Wait(Duration),
    #[error("the connection needs to be authorized again: {0}")]
    NeedsReauth(String),
    #[error("{0}")]
    Retry(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<CallError> for Abort {
    fn from(error: CallError) -> Abort {
        match error {
            CallError::QuotaSpent(wait) => Abort::Wait(wait),
            CallError::NeedsReauth(message) => Abort::NeedsReauth(message),
            CallError::Repo(error) => Abort::Repo(error),
            other => Abort::Retry(other.to_string()),
        }
    }
}

pub struct PageCtx<'a> {
    pub db: &'a Db,
    pub plan: &'a Plan,
    pub flow: Flow,
    pub now_ms: i64,
    /// People's decisions about duplicates, for the records a replay sends again.
    pub decisions: Option<&'a HashMap<String, DuplicateChoice>>,
}

impl PageCtx<'_> {
    /// What a person decided about this record as a duplicate, if it is replayed with a decision.
    pub fn decision(&self, record_id: &str) -> Option<&DuplicateChoice> {
        self.decisions?.get(record_id)
    }

    pub fn from_side(&self) -> Side {
        self.flow.from_side()
    }

    pub fn to_side(&self) -> Side {
        self.flow.from_side().other()
    }

    pub fn mapping(&self) -> &FlowMapping {
        self.plan.mapping(self.flow).unwrap_or(&self.plan.forward)
    }

    /// The link's id on the side being read, and on the other.
    pub fn ids_of<'l>(&self, link: &'l Link) -> (&'l str, &'l str) {
        match self.flow {
            Flow::Forward => (&link.source_id, &link.target_id),
            Flow::Reverse => (&link.target_id, &link.source_id),
        }
    }

    /// A link between a record read (`from_id`) and its twin (`to_id`).
    pub fn link(&self, from_id: &str, to_id: &str, previous: Option<&Link>) -> Link {
        let (source_id, target_id) = match self.flow {
            Flow::Forward => (from_id, to_id),
            Flow::Reverse => (to_id, from_id),
        };
        let mut link = previous.cloned().unwrap_or(Link {
            source_id: String::new(),
            target_id: String::new(),
            forward_hash: None,
            reverse_hash: None,
            base: None,
            crm_base: None,
            app_version: None,
            source_modified_at: None,
            target_modified_at: None,
            deleted_at: None,
        });
        link.source_id = source_id.to_string();
        link.target_id = target_id.to_string();
        link.deleted_at = None;
        link
    }

    /// Notes on a link what was just synced from `record`, whose mapped content hashes to `hash`.
    pub fn synced(&self, link: &mut Link, record: &Incoming, hash: &str) {
        match self.flow {
            Flow::Forward => {
                link.forward_hash = Some(hash.to_string());
                link.source_modified_at = Some(record.modified_at);
            }
            Flow::Reverse => {
                link.reverse_hash = Some(hash.to_string());
                link.target_modified_at = Some(record.modified_at);
            }
        }
        if record.app_version.is_some() {
            link.app_version = record.app_version;
        }
    }
}

/// A record on its way to the other side.
pub struct Pending {
    pub record: Incoming,
    /// In the other side's field names.
    pub mapped: Value,
    pub hash: String,
    pub link: Option<Link>,
    /// The twin's id, when known (an update).
    pub to_id: Option<String>,
    /// Why it is linked to an existing twin (a matched duplicate), for the history.
    pub matched: Option<Value>,
    /// For two-way pipelines: the app-side record that becomes the link's base once written.
    pub base: Option<Value>,
}

fn mapping_reason(errors: &[FieldError]) -> FailureReason {
    let first = errors.first();
    FailureReason {
        kind: "mapping".into(),
        field: first.map(|e| e.field.clone()),
        message: errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
        crm_error: None,
    }
}

/// Whether a contact is held back by the pipeline's "confirmed emails only" rule.
fn unconfirmed(ctx: &PageCtx<'_>, record: &Incoming) -> bool {
    ctx.plan.stored.pipeline.settings.confirmed_emails_only
        && ctx.plan.stored.pipeline.object == AppObject::Contact
        && ctx.plan.side(ctx.from_side()).is_app()
        && record.fields.get("email_confirmed").and_then(Value::as_bool) != Some(true)
}

/// Why records of this page cannot be written: the mapping no longer fits the CRM (schema
/// drift found at the run's start). A two-way page writes both ways, so either way's drift counts.
fn drift(ctx: &PageCtx<'_>) -> Option<FailureReason> {
    let warnings = &ctx.plan.stored.pipeline.warnings;
    let first = warnings.iter().find(|w| w.flow == ctx.flow || ctx.plan.two_way())?;
    Some(FailureReason {
        kind: "schema_drift".into(),
        field: Some(first.field.clone()),
        message: format!(
            "the mapping no longer fits the CRM's fields ({}); fix the mapping and save it, then replay",
            warnings
                .iter()
                .map(|w| w.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        crm_error: None,
    })
}

/// Processes one page read on `ctx.flow`'s side.
pub async fn process(ctx: &PageCtx<'_>, records: Vec<Incoming>) -> Result<PageOutput, Abort> {
    let pipeline_id = ctx.plan.stored.pipeline.id;
    let mut out = PageOutput::default();
    let mut records = records;
    if let Some(reason) = drift(ctx) {
        // Deletions need no mapping: they go on as usual.
        let (deleted, changed): (Vec<Incoming>, Vec<Incoming>) = records.into_iter().partition(|r| r.deleted);
        for record in &changed {
            out.failed(ctx.flow, record, None, reason.clone());
        }
        records = deleted;
    }
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let links = sync_links::by_ids(ctx.db.pool(), pipeline_id, ctx.from_side(), &ids).await?;
    let mut fresh = Vec::new();
    let mut pairs = Vec::new();
    for record in records {
        let link = links.get(&record.id).cloned();
        if record.deleted {
            deleted(ctx, &mut out, &record, link.as_ref());
            continue;
        }
        if let (Some(link), Some(version)) = (&link, record.app_version)
            && link.app_version == Some(version)
            && link.deleted_at.is_none()
        {
            // This version was already synced (or written by Tandem itself).
            out.unchanged();
            continue;
        }
        if unconfirmed(ctx, &record) {
            let to = link.as_ref().map(|l| ctx.ids_of(l).1.to_string());
            out.skipped(ctx.flow, &record.id, to.as_deref(), "email_not_confirmed", json!({}));
            continue;
        }
        match link {
            Some(link) if ctx.plan.two_way() && link.deleted_at.is_none() => pairs.push((record, link)),
            link => fresh.push((record, link)),
        }
    }
    one_way(ctx, &mut out, fresh).await?;
    if !pairs.is_empty() {
        two_way(ctx, &mut out, pairs).await?;
    }
    Ok(out)
}

/// A record deleted on the side being read.
fn deleted(ctx: &PageCtx<'_>, out: &mut PageOutput, record: &Incoming, link: Option<&Link>) {
    let Some(link) = link.filter(|l| l.deleted_at.is_none()) else {
        // Never synced, or its deletion already was: nothing to do.
        return;
    };
    let (_, to_id) = ctx.ids_of(link);
    if ctx.plan.stored.pipeline.settings.deletes.propagate {
        out.pending_deletes.push(NewHeldDelete {
            source_id: link.source_id.clone(),
            target_id: link.target_id.clone(),
            side: ctx.from_side(),
        });
    } else {
        out.skipped(
            ctx.flow,
            &record.id,
            Some(to_id),
            "deletes_not_propagated",
            json!({ "message": "deleted here; this pipeline does not propagate deletions" }),
        );
        let mut link = link.clone();
        link.deleted_at = Some(ctx.now_ms);
        out.links.push(link);
    }
}

/// Records without a live twin (or in a one-way pipeline): map, skip if unchanged, match, write.
async fn one_way(ctx: &PageCtx<'_>, out: &mut PageOutput, records: Vec<(Incoming, Option<Link>)>) -> Result<(), Abort> {
    let mapping = ctx.mapping();
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (record, link) in records {
        let mapped = match mapping.compiled.apply(&record.fields) {
            Ok(mapped) => mapped,
            Err(errors) => {
                out.failed(ctx.flow, &record, None, mapping_reason(&errors));
                continue;
            }
        };
        let hash = mapping.compiled.content_hash(&mapped);
        let live = link.as_ref().filter(|l| l.deleted_at.is_none());
        if let Some(link) = live {
            let last = match ctx.flow {
                Flow::Forward => link.forward_hash.as_deref(),
                Flow::Reverse => link.reverse_hash.as_deref(),
            };
            if last == Some(hash.as_str()) {
                out.unchanged();
                if record.app_version.is_some() && link.app_version != record.app_version {
                    let mut link = link.clone();
                    link.app_version = record.app_version;
                    out.links.push(link);
                }
                continue;
            }
        }
        let to_id = live.map(|l| ctx.ids_of(l).1.to_string());
        let base = (ctx.plan.two_way() && ctx.plan.side(ctx.from_side()).is_app()).then(|| record.fields.clone());
        let pending = Pending {
            record,
            mapped,
            hash,
            link,
            to_id,
            matched: None,
            base,
        };
        if pending.to_id.is_some() {
            updates.push(pending);
        } else {
            creates.push(pending);
        }
    }
    let creates = matching::resolve(ctx, out, creates, &mut updates).await?;
    match ctx.plan.side(ctx.to_side()) {
        SideHandle::Crm(crm) => writes::to_crm(ctx, crm, out, creates, updates).await,
        SideHandle::App(_) => {
            writes::to_app(ctx, out, creates, updates).await?;
            Ok(())
        }
    }
}

/// The two mappings of a two-way pipeline, by what they turn into what.
pub(crate) struct TwoWayMappings<'a> {
    pub app_to_crm: &'a FlowMapping,
    pub crm_to_app: &'a FlowMapping,
}

pub(crate) fn two_way_mappings<'a>(plan: &'a Plan) -> Option<TwoWayMappings<'a>> {
    let reverse = plan.reverse.as_ref()?;
    Some(match plan.app_side()? {
        Side::Source => TwoWayMappings {
            app_to_crm: &plan.forward,
            crm_to_app: reverse,
        },
        Side::Target => TwoWayMappings {
            app_to_crm: reverse,
            crm_to_app: &plan.forward,
        },
    })
}

/// Linked records of a two-way pipeline: fetch each twin, merge, write what each side lacks.
async fn two_way(ctx: &PageCtx<'_>, out: &mut PageOutput, pairs: Vec<(Incoming, Link)>) -> Result<(), Abort> {
    let plan = ctx.plan;
    let (Some(app_side), Some(mappings)) = (plan.app_side(), two_way_mappings(plan)) else {
        return Err(Abort::Retry(
            "a two-way pipeline needs the app on one side and both mappings".into(),
        ));
    };
    let crm_side = app_side.other();
    let SideHandle::Crm(crm) = plan.side(crm_side) else {
        return Err(Abort::Retry("a two-way pipeline needs a CRM on one side".into()));
    };
    let SideHandle::App(app_store) = plan.side(app_side) else {
        return Err(Abort::Retry("a two-way pipeline needs the app on one side".into()));
    };
    let reading_app = ctx.from_side() == app_side;
    let twin_ids: Vec<String> = pairs.iter().map(|(_, l)| ctx.ids_of(l).1.to_string()).collect();

    // The twins: CRM records by id (one call per batch), or app records from the store.
    let mut twins: HashMap<String, Incoming> = HashMap::new();
    if reading_app {
        let mut fields: Vec<String> = mappings
            .crm_to_app
            .compiled
            .source_fields()
            .iter()
            .map(|f| f.to_string())
            .collect();
        fields.extend(
            mappings
                .app_to_crm
                .compiled
                .target_fields()
                .iter()
                .map(|f| f.to_string()),
        );
        fields.sort();
        fields.dedup();
        for chunk in twin_ids.chunks(crm.batch_max.max(1)) {
            let records = crm
                .client
                .call(|credential| {
                    let fields = fields.clone();
                    let chunk = chunk.to_vec();
                    let connector = crm.client.connector.clone();
                    let kind = crm.kind;
                    async move { connector.get_many(&credential, kind, &chunk, &fields).await }
                })
                .await?;
            let records = crm.with_related(Some(mappings.crm_to_app), records).await?;
            for record in records {
                twins.insert(record.id.clone(), writes::incoming_from_crm(record));
            }
        }
    } else {
        for chunk in twin_ids.chunks(500) {
            let records = app_records::get_many(
                ctx.db.pool(),
                app_store.environment_id,
                plan.stored.pipeline.object,
                chunk,
            )
            .await?;
            for record in records {
                twins.insert(record.record.external_id.clone(), writes::incoming_from_app(&record));
            }
        }
    }

    let crm_fields: Vec<&str> = mappings.crm_to_app.compiled.target_fields();
    let mut crm_updates = Vec::new();
    for (record, link) in pairs {
        let twin_id = ctx.ids_of(&link).1.to_string();
        let Some(twin) = twins.remove(&twin_id).filter(|t| !t.deleted) else {
            // The twin is gone: a deletion on the other side, seen from here.
            let (source_id, target_id) = (link.source_id.clone(), link.target_id.clone());
            if plan.stored.pipeline.settings.deletes.propagate {
                out.pending_deletes.push(NewHeldDelete {
                    source_id,
                    target_id,
                    side: ctx.to_side(),
                });
            } else {
                let mut link = link;
                link.deleted_at = Some(ctx.now_ms);
                out.links.push(link);
                out.skipped(ctx.flow, &record.id, Some(&twin_id), "twin_deleted", json!({}));
            }
            continue;
        };
        let (app, crm_record) = if reading_app { (record, twin) } else { (twin, record) };
        let from_crm = match mappings.crm_to_app.compiled.apply(&crm_record.fields) {
            Ok(mapped) => mapped,
            Err(errors) => {
                let flow = flow_from(plan, crm_side);
                out.failed(flow, &crm_record, None, mapping_reason(&errors));
                continue;
            }
        };
        let rules = MergeRules {
            policy: &plan.stored.pipeline.settings.conflicts,
            app_side,
            app_modified_at: app.modified_at,
            crm_modified_at: crm_record.modified_at,
        };
        let merged = merge::merge(
            &app.fields,
            &from_crm,
            link.base.as_ref(),
            link.crm_base.as_ref(),
            &crm_fields,
            &rules,
        );
        let (app_id, crm_id) = match app_side {
            Side::Source => (link.source_id.clone(), link.target_id.clone()),
            Side::Target => (link.target_id.clone(), link.source_id.clone()),
        };
        if !merged.conflicts.is_empty() {
            out.delta.counts.conflicts += 1;
            out.event(
                ctx.flow,
                Some(&link.source_id),
                Some(&link.target_id),
                RecordOutcome::Conflict,
                json!({ "policy": merge::policy_name(rules.policy), "fields": merged.conflicts }),
            );
            out.conflicts.push(NewConflict {
                source_id: link.source_id.clone(),
                target_id: link.target_id.clone(),
                policy: merge::policy_name(rules.policy),
                fields: merged.conflicts.clone(),
            });
        }
        let mut new_link = link.clone();
        new_link.base = Some(merged.record.clone());
        new_link.crm_base = Some(from_crm.clone());
        if !merged.app_changed && !merged.crm_changed {
            out.unchanged();
            new_link.app_version = app.app_version;
            out.links.push(new_link);
            continue;
        }
        if merged.app_changed {
            let record = match AppRecord::parse(plan.stored.pipeline.object, &merged.record) {
                Ok(record) => record,
                Err(errors) => {
                    let flow = flow_from(plan, crm_side);
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
                    out.failed(flow, &crm_record, Some(merged.record.clone()), reason);
                    continue;
                }
            };
            let payload = record.to_json();
            new_link.base = Some(payload.clone());
            out.app_writes.push(AppWrite {
                external_id: app_id.clone(),
                crm_id: crm_id.clone(),
                provider: crm.client.provider().to_string(),
                hash: record.content_hash(),
                payload: Some(payload),
                change: ChangeKind::Updated,
                link_source_id: Some(new_link.source_id.clone()),
            });
            out.updated(
                flow_from(plan, crm_side),
                &link.source_id,
                &link.target_id,
                json!({ "side": app_side }),
            );
        } else {
            new_link.app_version = app.app_version;
        }
        if merged.crm_changed {
            match mappings.app_to_crm.compiled.apply(&merged.record) {
                Ok(mapped) => {
                    let hash = mappings.app_to_crm.compiled.content_hash(&mapped);
                    crm_updates.push(Pending {
                        record: app.clone(),
                        mapped,
                        hash,
                        link: Some(new_link.clone()),
                        to_id: Some(crm_id.clone()),
                        matched: None,
                        base: new_link.base.clone(),
                    });
                    // The link is written with the update's result.
                    continue;
                }
                Err(errors) => {
                    out.failed(
                        flow_from(plan, app_side),
                        &app,
                        Some(merged.record.clone()),
                        mapping_reason(&errors),
                    );
                }
            }
        }
        out.links.push(new_link);
    }
    if !crm_updates.is_empty() {
        let crm_flow_ctx = PageCtx {
            db: ctx.db,
            plan,
            flow: flow_from(plan, app_side),
            now_ms: ctx.now_ms,
            decisions: None,
        };
        writes::to_crm(&crm_flow_ctx, crm, out, Vec::new(), crm_updates).await?;
    }
    Ok(())
}

/// The flow that reads from `side`.
fn flow_from(_plan: &Plan, side: Side) -> Flow {
    match side {
        Side::Source => Flow::Forward,
        Side::Target => Flow::Reverse,
    }
}

/// Records read again for a replay: the current state of each failed record on its side.
pub async fn fetch_for_replay(ctx: &PageCtx<'_>, ids: &[String]) -> Result<Vec<Incoming>, Abort> {
    match ctx.plan.side(ctx.from_side()) {
        SideHandle::App(app) => {
            let records =
                app_records::get_many(ctx.db.pool(), app.environment_id, ctx.plan.stored.pipeline.object, ids).await?;
            Ok(records.iter().map(writes::incoming_from_app).collect())
        }
        SideHandle::Crm(crm) => {
            let fields: Vec<String> = ctx
                .mapping()
                .compiled
                .source_fields()
                .iter()
                .map(|f| f.to_string())
                .collect();
            let records = crm
                .client
                .call(|credential| {
                    let connector = crm.client.connector.clone();
                    let (ids, fields, kind) = (ids.to_vec(), fields.clone(), crm.kind);
                    async move { connector.get_many(&credential, kind, &ids, &fields).await }
                })
                .await?;
            let records = crm.with_related(Some(ctx.mapping()), records).await?;
            Ok(records.into_iter().map(writes::incoming_from_crm).collect())
        }
    }
}

/// A whole batch failed: every record in it becomes a failed record with the call's reason.
pub fn fail_all(ctx: &PageCtx<'_>, out: &mut PageOutput, pending: Vec<Pending>, error: &CallError) {
    let reason = reason_from_call(error);
    for p in pending {
        out.failed(ctx.flow, &p.record, Some(p.mapped), reason.clone());
    }
}
