//! What happened, per tenant: runs and their per-record events and callouts, conflicts, held
//! deletions (approve or reject), failed records (replay or ignore, audited), alerts.

use chrono::{DateTime, Utc};
use serde_json::json;
use tandem_shared::api::alerts::Alert;
use tandem_shared::api::failed_records::{
    DecideDuplicatesRequest, DuplicateDecision, FailedRecord, FailedRecordSelection, FailedRecordStatus,
    FailedRecordsActed, IgnoreRequest, ReplayRequest,
};
use tandem_shared::api::pipelines::Flow;
use tandem_shared::api::runs::{
    Callout, Conflict, DailyCounts, DecideHeldDeletesRequest, HeldDelete, HeldDeleteStatus, RecordEvent, Run,
    RunTrigger,
};
use tandem_shared::ids::{AlertId, ConnectionId, FailedRecordId, PipelineId, RunId, TenantId};
use tandem_shared::model::AppObject;
use tandem_shared::roles::Role;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::Principal;
use crate::domain::FieldError;
use crate::repo::failed_records::{self as failed_repo, DuplicateChoice, Filter};
use crate::repo::{alerts, now_ms, pipelines, sync_history};
use crate::state::AppState;
use crate::sync::jobs as sync_jobs;

/// At most this many items per list answer.
pub const LIST_MAX: i64 = 500;

fn limit(requested: Option<i64>) -> i64 {
    requested.unwrap_or(100).clamp(1, LIST_MAX)
}

async fn pipeline_of(state: &AppState, tenant_id: TenantId, id: PipelineId) -> Result<(), ServiceError> {
    pipelines::get(state.db.pool(), tenant_id, id)
        .await?
        .map(|_| ())
        .ok_or(ServiceError::NotFound("pipeline"))
}

pub async fn runs(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    requested: Option<i64>,
) -> Result<Vec<Run>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    pipeline_of(state, tenant.id, pipeline_id).await?;
    Ok(sync_history::list_runs(state.db.pool(), tenant.id, pipeline_id, limit(requested)).await?)
}

/// The last `days` UTC days (today included, 1 to 90, default 14) of a pipeline's runs, every day
/// present (zeros where nothing ran), oldest first.
pub async fn daily(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    requested: Option<i64>,
) -> Result<Vec<DailyCounts>, ServiceError> {
    let days = requested.unwrap_or(14);
    if !(1..=90).contains(&days) {
        return Err(FieldError::new("days", format!("{days} is not between 1 and 90")).into());
    }
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    pipeline_of(state, tenant.id, pipeline_id).await?;
    const DAY_MS: i64 = 86_400_000;
    let today = now_ms() / DAY_MS;
    let first = today - (days - 1);
    let rows = sync_history::daily_counts(state.db.pool(), tenant.id, pipeline_id, first * DAY_MS).await?;
    Ok((first..=today)
        .map(|day| {
            let (synced, failed, runs) = rows
                .iter()
                .find(|row| row.0 == day)
                .map_or((0, 0, 0), |row| (row.1, row.2, row.3));
            DailyCounts {
                day: crate::repo::to_datetime(day * DAY_MS).format("%Y-%m-%d").to_string(),
                synced,
                failed,
                runs,
            }
        })
        .collect())
}

async fn run_of(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    run_id: RunId,
) -> Result<(TenantId, Run), ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    let run = sync_history::get_run(state.db.pool(), tenant.id, run_id)
        .await?
        .ok_or(ServiceError::NotFound("run"))?;
    Ok((tenant.id, run))
}

pub async fn run(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    run_id: RunId,
) -> Result<Run, ServiceError> {
    Ok(run_of(state, principal, tenant_id, run_id).await?.1)
}

pub async fn run_events(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    run_id: RunId,
    requested: Option<i64>,
) -> Result<Vec<RecordEvent>, ServiceError> {
    let (tenant_id, _) = run_of(state, principal, tenant_id, run_id).await?;
    Ok(sync_history::run_events(state.db.pool(), tenant_id, run_id, limit(requested)).await?)
}

pub async fn run_callouts(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    run_id: RunId,
    requested: Option<i64>,
) -> Result<Vec<Callout>, ServiceError> {
    let (tenant_id, _) = run_of(state, principal, tenant_id, run_id).await?;
    Ok(sync_history::run_callouts(state.db.pool(), tenant_id, run_id, limit(requested)).await?)
}

/// A connection's latest CRM calls, newest first: those of runs and those made for people
/// (reading fields for a mapping, a preview).
pub async fn connection_callouts(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    connection_id: ConnectionId,
    requested: Option<i64>,
) -> Result<Vec<Callout>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    crate::repo::connections::get(state.db.pool(), tenant.id, connection_id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    Ok(sync_history::connection_callouts(state.db.pool(), tenant.id, connection_id, limit(requested)).await?)
}

/// Everything that happened to one record, by its id on either side.
pub async fn record_history(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    record_id: &str,
    requested: Option<i64>,
) -> Result<Vec<RecordEvent>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    let events = sync_history::record_events(state.db.pool(), tenant.id, record_id, limit(requested)).await?;
    if events.is_empty() {
        // No record by that id was ever synced here.
        return Err(ServiceError::NotFound("record history"));
    }
    Ok(events)
}

pub async fn conflicts(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    requested: Option<i64>,
) -> Result<Vec<Conflict>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    pipeline_of(state, tenant.id, pipeline_id).await?;
    Ok(sync_history::list_conflicts(state.db.pool(), tenant.id, pipeline_id, limit(requested)).await?)
}

pub async fn held_deletes(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
) -> Result<Vec<HeldDelete>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    pipeline_of(state, tenant.id, pipeline_id).await?;
    Ok(sync_history::list_held(state.db.pool(), tenant.id, pipeline_id, None)
        .await?
        .into_iter()
        .map(|h| h.held)
        .collect())
}

/// Approves (the next run applies them) or rejects held deletions.
pub async fn decide_held_deletes(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    request: DecideHeldDeletesRequest,
) -> Result<Vec<HeldDelete>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Write).await?;
    pipeline_of(state, tenant.id, pipeline_id).await?;
    let held = sync_history::list_held(state.db.pool(), tenant.id, pipeline_id, Some(HeldDeleteStatus::Held)).await?;
    let chosen: Vec<_> = match &request.ids {
        None => held,
        Some(ids) => {
            if let Some(unknown) = ids.iter().find(|id| !held.iter().any(|h| h.held.id == **id)) {
                return Err(
                    FieldError::new("ids", format!("{unknown} is not a deletion held for this pipeline")).into(),
                );
            }
            held.into_iter().filter(|h| ids.contains(&h.held.id)).collect()
        }
    };
    let to = if request.approve { "approved" } else { "rejected" };
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    for held in &chosen {
        sync_history::set_delete_status(&mut *tx, held.held.id, "held", to, Some(principal.email()), now).await?;
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: if request.approve {
                "held_deletes.approved"
            } else {
                "held_deletes.rejected"
            },
            target_kind: "pipeline",
            target_id: Some(pipeline_id.to_string()),
            details: json!({ "count": chosen.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    if request.approve && !chosen.is_empty() {
        sync_jobs::trigger(&state.db, &state.queue, tenant.id, pipeline_id, RunTrigger::Manual).await?;
    }
    let mut decided = sync_history::list_held(state.db.pool(), tenant.id, pipeline_id, None).await?;
    decided.retain(|h| chosen.iter().any(|c| c.held.id == h.held.id));
    Ok(decided.into_iter().map(|h| h.held).collect())
}

/// Query parameters of the failed-records list.
#[derive(Clone, Debug, Default)]
pub struct FailedQuery {
    pub pipeline_id: Option<PipelineId>,
    pub status: Option<FailedRecordStatus>,
    pub error_kind: Option<String>,
    /// A record id or an email.
    pub search: Option<String>,
    /// Only records of this pipelines' object.
    pub object: Option<AppObject>,
    /// Only records that last failed in this window.
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

pub async fn failed_records(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    query: FailedQuery,
) -> Result<Vec<FailedRecord>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    if let (Some(since), Some(until)) = (query.since, query.until)
        && until <= since
    {
        return Err(FieldError::new("until", format!("{until} is not after since ({since})")).into());
    }
    let filter = Filter {
        pipeline_id: query.pipeline_id,
        status: query.status,
        error_kind: query.error_kind.as_deref(),
        search: query.search.as_deref(),
        ids: None,
        object: query.object,
        failed_since_ms: query.since.map(|t| t.timestamp_millis()),
        failed_until_ms: query.until.map(|t| t.timestamp_millis()),
    };
    Ok(failed_repo::list(state.db.pool(), tenant.id, &filter, limit(query.limit)).await?)
}

pub async fn failed_record(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: FailedRecordId,
) -> Result<FailedRecord, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    failed_repo::get(state.db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("failed record"))
}

fn selection_filter(selection: &FailedRecordSelection) -> Result<Filter<'_>, ServiceError> {
    if selection.ids.is_none() && selection.error_kind.is_none() && selection.pipeline_id.is_none() {
        return Err(FieldError::new(
            "ids",
            "name the records (ids), or select them by error_kind and/or pipeline_id",
        )
        .into());
    }
    if selection.ids.as_ref().is_some_and(|ids| ids.is_empty()) {
        return Err(FieldError::new("ids", "is empty").into());
    }
    Ok(Filter {
        pipeline_id: selection.pipeline_id,
        status: None,
        error_kind: selection.error_kind.as_deref(),
        search: None,
        ids: selection.ids.as_deref(),
        ..Default::default()
    })
}

/// Sends the selected open failures through their pipelines again (after a mapping or data fix).
pub async fn replay(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: ReplayRequest,
) -> Result<FailedRecordsActed, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Operate).await?;
    let reason = request.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_none() && principal.role() == Role::Support {
        return Err(FieldError::new(
            "reason",
            "is required from support staff: say why these records are replayed",
        )
        .into());
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(FieldError::new("reason", "is longer than 500 characters").into());
    }
    let filter = selection_filter(&request.selection)?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let chosen = failed_repo::transition(
        &mut tx,
        tenant.id,
        &filter,
        FailedRecordStatus::Replaying,
        None,
        principal.email(),
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "failed_records.replayed",
            target_kind: "failed_record",
            target_id: None,
            details: json!({
                "count": chosen.len(),
                "ids": chosen.iter().take(100).map(|r| r.id).collect::<Vec<_>>(),
                "error_kind": request.selection.error_kind,
                "pipeline_id": request.selection.pipeline_id,
                "reason": reason,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    let mut pipelines_to_run: Vec<PipelineId> = chosen.iter().map(|r| r.pipeline_id).collect();
    pipelines_to_run.sort();
    pipelines_to_run.dedup();
    for pipeline_id in pipelines_to_run {
        sync_jobs::trigger(&state.db, &state.queue, tenant.id, pipeline_id, RunTrigger::Replay).await?;
    }
    Ok(FailedRecordsActed {
        count: chosen.len() as i64,
    })
}

/// Decides records skipped as duplicates: linked to their twin (one side leading) or created
/// anew, each by a replay that starts at once. Audited.
pub async fn decide_duplicates(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: DecideDuplicatesRequest,
) -> Result<FailedRecordsActed, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Write).await?;
    if request.ids.is_empty() {
        return Err(FieldError::new("ids", "is empty: name the duplicate candidates to decide").into());
    }
    if request.ids.len() > LIST_MAX as usize {
        return Err(FieldError::new("ids", format!("has more than {LIST_MAX} records: decide them in parts")).into());
    }
    let leading = match (request.decision, request.leading) {
        (DuplicateDecision::Link, None) => {
            return Err(FieldError::new(
                "leading",
                "is required to link: say whose values win where the two differ (source or target)",
            )
            .into());
        }
        (DuplicateDecision::CreateNew, Some(_)) => {
            return Err(FieldError::new("leading", "applies only to link: a new record has no twin to lead").into());
        }
        (_, leading) => leading,
    };
    let filter = Filter {
        pipeline_id: None,
        status: Some(FailedRecordStatus::Open),
        error_kind: Some("duplicate"),
        search: None,
        ids: Some(&request.ids),
        ..Default::default()
    };
    let candidates = failed_repo::list(state.db.pool(), tenant.id, &filter, LIST_MAX).await?;
    let mut choices = Vec::new();
    for id in &request.ids {
        let Some(candidate) = candidates.iter().find(|c| c.id == *id) else {
            return Err(
                FieldError::new("ids", format!("{id} is not an open duplicate candidate of this tenant")).into(),
            );
        };
        let choice = match leading {
            None => DuplicateChoice::CreateNew,
            Some(leading) => {
                let named = candidate.reason.crm_error.as_ref();
                let twin_id = named.and_then(|n| n["id"].as_str()).ok_or_else(|| {
                    FieldError::new("ids", format!("{id} names no twin to link to: replay it to look again"))
                })?;
                DuplicateChoice::Link {
                    twin_id: twin_id.to_string(),
                    key: named.and_then(|n| n["key"].as_str()).unwrap_or_default().to_string(),
                    leading,
                }
            }
        };
        choices.push((candidate, choice));
    }
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    for (candidate, choice) in &choices {
        failed_repo::decide_duplicate(&mut tx, candidate.id, choice, principal.email(), now).await?;
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: match request.decision {
                DuplicateDecision::Link => "duplicates.linked",
                DuplicateDecision::CreateNew => "duplicates.created_new",
            },
            target_kind: "failed_record",
            target_id: None,
            details: json!({
                "count": choices.len(),
                "ids": request.ids,
                "leading": leading,
                "twins": choices.iter().filter_map(|(_, c)| match c {
                    DuplicateChoice::Link { twin_id, .. } => Some(twin_id.clone()),
                    DuplicateChoice::CreateNew => None,
                }).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    let mut pipelines_to_run: Vec<PipelineId> = choices.iter().map(|(c, _)| c.pipeline_id).collect();
    pipelines_to_run.sort();
    pipelines_to_run.dedup();
    for pipeline_id in pipelines_to_run {
        sync_jobs::trigger(&state.db, &state.queue, tenant.id, pipeline_id, RunTrigger::Replay).await?;
    }
    Ok(FailedRecordsActed {
        count: choices.len() as i64,
    })
}

/// Marks the selected open failures as ignored, with the reason.
pub async fn ignore(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: IgnoreRequest,
) -> Result<FailedRecordsActed, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Operate).await?;
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(FieldError::new("reason", "is required: say why these records need not sync").into());
    }
    if reason.chars().count() > 500 {
        return Err(FieldError::new("reason", "is longer than 500 characters").into());
    }
    let filter = selection_filter(&request.selection)?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let chosen = failed_repo::transition(
        &mut tx,
        tenant.id,
        &filter,
        FailedRecordStatus::Ignored,
        Some(reason),
        principal.email(),
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "failed_records.ignored",
            target_kind: "failed_record",
            target_id: None,
            details: json!({
                "count": chosen.len(),
                "reason": reason,
                "ids": chosen.iter().take(100).map(|r| r.id).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(FailedRecordsActed {
        count: chosen.len() as i64,
    })
}

pub async fn alerts(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    requested: Option<i64>,
) -> Result<Vec<Alert>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    Ok(alerts::list(state.db.pool(), tenant.id, limit(requested)).await?)
}

pub async fn acknowledge_alert(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: AlertId,
) -> Result<Alert, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Write).await?;
    if !alerts::acknowledge(state.db.pool(), tenant.id, id, now_ms()).await? {
        return Err(ServiceError::NotFound("alert"));
    }
    alerts::get(state.db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("alert"))
}

/// `forward` or `reverse`, from a path.
pub fn flow(name: &str) -> Result<Flow, ServiceError> {
    Flow::parse(name).ok_or_else(|| FieldError::new("flow", format!("{name:?} is not forward or reverse")).into())
}
