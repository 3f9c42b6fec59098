//! Sync history: runs, per-record events, conflicts, callouts and held deletions.

use serde_json::Value;
use tandem_shared::api::pipelines::{Flow, Side};
use tandem_shared::api::runs::{
    Callout, Conflict, ConflictField, HeldDelete, HeldDeleteStatus, RecordEvent, RecordOutcome, Run, RunCounts,
    RunProgress, RunStatus, RunTrigger,
};
use tandem_shared::ids::{ConnectionId, HeldDeleteId, PipelineId, RunId, TenantId};

use super::{Exec, RepoError, Tx, new_id, parse_id, to_datetime};

fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Corrupt(format!("{what} {value:?}"))
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    pipeline_id: String,
    trigger_kind: String,
    status: String,
    created: i64,
    updated: i64,
    deleted: i64,
    unchanged: i64,
    skipped: i64,
    failed: i64,
    conflicts: i64,
    held: i64,
    api_calls: i64,
    retries: i64,
    progress_done: i64,
    progress_total: Option<i64>,
    estimated_finish_at: Option<i64>,
    waiting_until: Option<i64>,
    error: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
    reconciliation: Option<String>,
}

impl TryFrom<RunRow> for Run {
    type Error = RepoError;
    fn try_from(row: RunRow) -> Result<Self, RepoError> {
        Ok(Run {
            id: parse_id(&row.id, "run id")?,
            pipeline_id: parse_id(&row.pipeline_id, "pipeline id")?,
            trigger: RunTrigger::parse(&row.trigger_kind).ok_or_else(|| corrupt("run trigger", &row.trigger_kind))?,
            status: RunStatus::parse(&row.status).ok_or_else(|| corrupt("run status", &row.status))?,
            counts: RunCounts {
                created: row.created,
                updated: row.updated,
                deleted: row.deleted,
                unchanged: row.unchanged,
                skipped: row.skipped,
                failed: row.failed,
                conflicts: row.conflicts,
                held: row.held,
            },
            api_calls: row.api_calls,
            retries: row.retries,
            progress: RunProgress {
                done: row.progress_done,
                total: row.progress_total,
                estimated_finish_at: row.estimated_finish_at.map(to_datetime),
                waiting_until: row.waiting_until.map(to_datetime),
            },
            error: row.error,
            started_at: to_datetime(row.started_at),
            finished_at: row.finished_at.map(to_datetime),
            duration_ms: row.finished_at.map(|f| f - row.started_at),
            // While a reconciliation runs the column holds its progress, not a report (and still
            // does on a run that was interrupted): only a report reads as one.
            reconciliation: row
                .reconciliation
                .filter(|_| row.finished_at.is_some())
                .and_then(|r| serde_json::from_str(&r).ok()),
        })
    }
}

const RUN_COLUMNS: &str = "id, pipeline_id, trigger_kind, status, created, updated, deleted, unchanged, skipped, failed, \
                           conflicts, held, api_calls, retries, progress_done, progress_total, estimated_finish_at, \
                           waiting_until, error, started_at, finished_at, reconciliation";

pub async fn start_run<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    trigger: RunTrigger,
    now_ms: i64,
) -> Result<RunId, RepoError> {
    let id = RunId(new_id());
    sqlx::query(
        "INSERT INTO sync_runs (id, tenant_id, pipeline_id, trigger_kind, status, started_at) \
         VALUES ($1, $2, $3, $4, 'running', $5)",
    )
    .bind(id.to_string())
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(trigger.as_str())
    .bind(now_ms)
    .execute(exec)
    .await?;
    Ok(id)
}

pub async fn get_run<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: RunId) -> Result<Option<Run>, RepoError> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND id = $2");
    let row: Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(Run::try_from).transpose()
}

/// A pipeline's runs, newest first.
pub async fn list_runs<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    limit: i64,
) -> Result<Vec<Run>, RepoError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND pipeline_id = $2 \
         ORDER BY started_at DESC, id DESC LIMIT $3"
    );
    let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(pipeline_id.to_string())
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(Run::try_from).collect()
}

/// A reconciliation run's state: its progress while it runs, its report once it ended.
pub async fn set_reconciliation<'c>(exec: impl Exec<'c>, run_id: RunId, value: &Value) -> Result<(), RepoError> {
    sqlx::query("UPDATE sync_runs SET reconciliation = $1 WHERE id = $2")
        .bind(value.to_string())
        .bind(run_id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn reconciliation_state<'c>(exec: impl Exec<'c>, run_id: RunId) -> Result<Option<Value>, RepoError> {
    let text: Option<Option<String>> = sqlx::query_scalar("SELECT reconciliation FROM sync_runs WHERE id = $1")
        .bind(run_id.to_string())
        .fetch_optional(exec)
        .await?;
    text.flatten()
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| RepoError::Corrupt(format!("run reconciliation: {e}")))
}

/// The pipeline's last finished reconciliation run.
pub async fn last_reconciliation<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
) -> Result<Option<Run>, RepoError> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant_id = $1 AND pipeline_id = $2 \
         AND trigger_kind = 'reconciliation' AND status IN ('succeeded', 'incomplete') \
         AND finished_at IS NOT NULL AND reconciliation IS NOT NULL \
         ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let row: Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(pipeline_id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(Run::try_from).transpose()
}

/// What one batch adds to a run's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunDelta {
    pub counts: RunCounts,
    pub api_calls: i64,
    pub retries: i64,
    pub progress_done: i64,
}

pub async fn add_to_run<'c>(exec: impl Exec<'c>, id: RunId, delta: &RunDelta) -> Result<(), RepoError> {
    let c = &delta.counts;
    sqlx::query(
        "UPDATE sync_runs SET created = created + $1, updated = updated + $2, deleted = deleted + $3, \
           unchanged = unchanged + $4, skipped = skipped + $5, failed = failed + $6, conflicts = conflicts + $7, \
           held = held + $8, api_calls = api_calls + $9, retries = retries + $10, \
           progress_done = progress_done + $11 WHERE id = $12",
    )
    .bind(c.created)
    .bind(c.updated)
    .bind(c.deleted)
    .bind(c.unchanged)
    .bind(c.skipped)
    .bind(c.failed)
    .bind(c.conflicts)
    .bind(c.held)
    .bind(delta.api_calls)
    .bind(delta.retries)
    .bind(delta.progress_done)
    .bind(id.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn set_progress<'c>(
    exec: impl Exec<'c>,
    id: RunId,
    total: Option<i64>,
    estimated_finish_at: Option<i64>,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE sync_runs SET progress_total = $1, estimated_finish_at = $2 WHERE id = $3")
        .bind(total)
        .bind(estimated_finish_at)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// Marks the run as waiting for the daily API quota until `until_ms`, or (None) as going on.
pub async fn set_waiting<'c>(exec: impl Exec<'c>, id: RunId, until_ms: Option<i64>) -> Result<(), RepoError> {
    sqlx::query("UPDATE sync_runs SET waiting_until = $1 WHERE id = $2")
        .bind(until_ms)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn finish_run<'c>(
    exec: impl Exec<'c>,
    id: RunId,
    status: RunStatus,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE sync_runs SET status = $1, error = $2, finished_at = $3, waiting_until = NULL \
         WHERE id = $4 AND status = 'running'",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// Runs of the pipeline still marked running other than `except`: their process stopped.
pub async fn interrupt_stale_runs<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    except: Option<RunId>,
    now_ms: i64,
) -> Result<u64, RepoError> {
    Ok(sqlx::query(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = $1, \
           error = 'the process stopped during the run; the next run went on from the last saved point' \
         WHERE pipeline_id = $2 AND status = 'running' AND id <> $3",
    )
    .bind(now_ms)
    .bind(pipeline_id.to_string())
    .bind(except.map(|r| r.to_string()).unwrap_or_default())
    .execute(exec)
    .await?
    .rows_affected())
}

pub async fn set_active_run<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    run_id: Option<RunId>,
    next_trigger: Option<RunTrigger>,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET active_run_id = $1, next_trigger = $2 WHERE id = $3")
        .bind(run_id.map(|r| r.to_string()))
        .bind(next_trigger.map(|t| t.as_str()))
        .bind(pipeline_id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// The pipeline's run in progress, and the trigger asked for next.
pub async fn active_run<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
) -> Result<(Option<RunId>, Option<RunTrigger>), RepoError> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT active_run_id, next_trigger FROM pipelines WHERE id = $1")
            .bind(pipeline_id.to_string())
            .fetch_optional(exec)
            .await?;
    let Some((run, trigger)) = row else {
        return Ok((None, None));
    };
    Ok((
        run.map(|r| parse_id(&r, "run id")).transpose()?,
        trigger.and_then(|t| RunTrigger::parse(&t)),
    ))
}

/// Records the trigger for the next run unless a stronger one is already waiting (a manual or
/// reconciliation run is not downgraded to a poll).
pub async fn request_trigger<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    trigger: RunTrigger,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE pipelines SET next_trigger = $1 WHERE id = $2 \
         AND (next_trigger IS NULL OR next_trigger IN ('poll', 'webhook') OR $1 = 'reconciliation')",
    )
    .bind(trigger.as_str())
    .bind(pipeline_id.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// One per-record event, as the engine produces it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub flow: Flow,
    pub source_id: Option<String>,
    pub target_id: Option<String>,
    pub outcome: RecordOutcome,
    pub detail: Value,
}

pub async fn insert_events(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    run_id: RunId,
    events: &[NewEvent],
    now_ms: i64,
) -> Result<(), RepoError> {
    // One statement per hundred events: a page's outcomes in one or two round trips.
    for chunk in events.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=10).map(|c| format!("${}", i * 10 + c)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO sync_record_events (id, tenant_id, pipeline_id, run_id, direction, source_id, target_id, \
                                             outcome, detail, created_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for event in chunk {
            query = query
                .bind(new_id().to_string())
                .bind(tenant_id.to_string())
                .bind(pipeline_id.to_string())
                .bind(run_id.to_string())
                .bind(event.flow.as_str())
                .bind(event.source_id.clone())
                .bind(event.target_id.clone())
                .bind(event.outcome.as_str())
                .bind(event.detail.to_string())
                .bind(now_ms);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    run_id: String,
    pipeline_id: String,
    direction: String,
    source_id: Option<String>,
    target_id: Option<String>,
    outcome: String,
    detail: String,
    created_at: i64,
}

impl TryFrom<EventRow> for RecordEvent {
    type Error = RepoError;
    fn try_from(row: EventRow) -> Result<Self, RepoError> {
        Ok(RecordEvent {
            run_id: parse_id(&row.run_id, "run id")?,
            pipeline_id: parse_id(&row.pipeline_id, "pipeline id")?,
            flow: Flow::parse(&row.direction).ok_or_else(|| corrupt("event direction", &row.direction))?,
            source_id: row.source_id,
            target_id: row.target_id,
            outcome: RecordOutcome::parse(&row.outcome).ok_or_else(|| corrupt("event outcome", &row.outcome))?,
            detail: serde_json::from_str(&row.detail).map_err(|e| RepoError::Corrupt(format!("event detail: {e}")))?,
            at: to_datetime(row.created_at),
        })
    }
}

/// The events of a run, in order.
pub async fn run_events<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    run_id: RunId,
    limit: i64,
) -> Result<Vec<RecordEvent>, RepoError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT run_id, pipeline_id, direction, source_id, target_id, outcome, detail, created_at \
         FROM sync_record_events WHERE tenant_id = $1 AND run_id = $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(run_id.to_string())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(RecordEvent::try_from).collect()
}

/// Everything that happened to one record, by its id on either side, newest first.
pub async fn record_events<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    record_id: &str,
    limit: i64,
) -> Result<Vec<RecordEvent>, RepoError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT run_id, pipeline_id, direction, source_id, target_id, outcome, detail, created_at \
         FROM sync_record_events WHERE tenant_id = $1 AND (source_id = $2 OR target_id = $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(record_id)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(RecordEvent::try_from).collect()
}

/// One CRM call, as the engine keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCallout {
    pub connection_id: ConnectionId,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub error_kind: Option<String>,
    pub duration_ms: i64,
    pub attempt: i64,
    pub at_ms: i64,
}

pub async fn insert_callouts(
    tx: &mut Tx,
    tenant_id: TenantId,
    run_id: Option<RunId>,
    callouts: &[NewCallout],
) -> Result<(), RepoError> {
    for callout in callouts {
        sqlx::query(
            "INSERT INTO callouts (id, tenant_id, connection_id, run_id, method, path, status, error_kind, \
                                   duration_ms, attempt, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id().to_string())
        .bind(tenant_id.to_string())
        .bind(callout.connection_id.to_string())
        .bind(run_id.map(|r| r.to_string()))
        .bind(&callout.method)
        .bind(&callout.path)
        .bind(callout.status.map(i64::from))
        .bind(&callout.error_kind)
        .bind(callout.duration_ms)
        .bind(callout.attempt)
        .bind(callout.at_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CalloutRow {
    run_id: Option<String>,
    connection_id: String,
    method: String,
    path: String,
    status: Option<i64>,
    error_kind: Option<String>,
    duration_ms: i64,
    attempt: i64,
    created_at: i64,
}

/// A run's CRM calls, in order.
pub async fn run_callouts<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    run_id: RunId,
    limit: i64,
) -> Result<Vec<Callout>, RepoError> {
    let rows: Vec<CalloutRow> = sqlx::query_as(
        "SELECT run_id, connection_id, method, path, status, error_kind, duration_ms, attempt, created_at \
         FROM callouts WHERE tenant_id = $1 AND run_id = $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(run_id.to_string())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(callout).collect()
}

/// A connection's latest CRM calls, in runs or not, newest first.
pub async fn connection_callouts<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    connection_id: ConnectionId,
    limit: i64,
) -> Result<Vec<Callout>, RepoError> {
    let rows: Vec<CalloutRow> = sqlx::query_as(
        "SELECT run_id, connection_id, method, path, status, error_kind, duration_ms, attempt, created_at \
         FROM callouts WHERE tenant_id = $1 AND connection_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(connection_id.to_string())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(callout).collect()
}

fn callout(row: CalloutRow) -> Result<Callout, RepoError> {
    Ok(Callout {
        run_id: row.run_id.map(|r| parse_id(&r, "run id")).transpose()?,
        connection_id: parse_id(&row.connection_id, "connection id")?,
        method: row.method,
        path: row.path,
        status: row.status.and_then(|s| u16::try_from(s).ok()),
        error_kind: row.error_kind,
        duration_ms: row.duration_ms,
        attempt: row.attempt,
        at: to_datetime(row.created_at),
    })
}

pub struct NewConflict {
    pub source_id: String,
    pub target_id: String,
    pub policy: String,
    pub fields: Vec<ConflictField>,
}

pub async fn insert_conflicts(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    run_id: RunId,
    conflicts: &[NewConflict],
    now_ms: i64,
) -> Result<(), RepoError> {
    for conflict in conflicts {
        sqlx::query(
            "INSERT INTO sync_conflicts (id, tenant_id, pipeline_id, run_id, source_id, target_id, policy, fields, \
                                         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id().to_string())
        .bind(tenant_id.to_string())
        .bind(pipeline_id.to_string())
        .bind(run_id.to_string())
        .bind(&conflict.source_id)
        .bind(&conflict.target_id)
        .bind(&conflict.policy)
        .bind(serde_json::to_string(&conflict.fields).unwrap_or_else(|_| "[]".into()))
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A pipeline's resolved conflicts, newest first.
pub async fn list_conflicts<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    limit: i64,
) -> Result<Vec<Conflict>, RepoError> {
    let rows: Vec<(String, String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT run_id, pipeline_id, source_id, target_id, policy, fields, created_at FROM sync_conflicts \
         WHERE tenant_id = $1 AND pipeline_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter()
        .map(|(run_id, pipeline_id, source_id, target_id, policy, fields, at)| {
            Ok(Conflict {
                run_id: parse_id(&run_id, "run id")?,
                pipeline_id: parse_id(&pipeline_id, "pipeline id")?,
                source_id,
                target_id,
                policy,
                fields: serde_json::from_str(&fields).map_err(|e| RepoError::Corrupt(format!("conflict: {e}")))?,
                at: to_datetime(at),
            })
        })
        .collect()
}

/// A deletion seen by a run, pending until the run has counted them all.
pub struct NewHeldDelete {
    pub source_id: String,
    pub target_id: String,
    /// Where the record was deleted.
    pub side: Side,
}

pub async fn insert_pending_deletes(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    run_id: RunId,
    deletes: &[NewHeldDelete],
    now_ms: i64,
) -> Result<(), RepoError> {
    for delete in deletes {
        sqlx::query(
            // A deletion seen again (a read's lookback, a reconciliation) while it waits for a
            // decision, or after it was rejected, is the same deletion: not counted twice.
            "INSERT INTO held_deletes (id, tenant_id, pipeline_id, run_id, source_id, target_id, side, status, \
                                       created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, 'pending', $8 \
             WHERE NOT EXISTS (SELECT 1 FROM held_deletes WHERE pipeline_id = $3 AND source_id = $5 \
                               AND target_id = $6 AND side = $7 \
                               AND status IN ('pending', 'held', 'approved', 'rejected'))",
        )
        .bind(new_id().to_string())
        .bind(tenant_id.to_string())
        .bind(pipeline_id.to_string())
        .bind(run_id.to_string())
        .bind(&delete.source_id)
        .bind(&delete.target_id)
        .bind(delete.side.as_str())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    id: String,
    pipeline_id: String,
    run_id: String,
    source_id: String,
    target_id: String,
    side: String,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<HeldRow> for HeldDelete {
    type Error = RepoError;
    fn try_from(row: HeldRow) -> Result<Self, RepoError> {
        let side = Side::parse(&row.side).ok_or_else(|| corrupt("held delete side", &row.side))?;
        Ok(HeldDelete {
            id: parse_id(&row.id, "held delete id")?,
            pipeline_id: parse_id(&row.pipeline_id, "pipeline id")?,
            run_id: parse_id(&row.run_id, "run id")?,
            side,
            record_id: match side {
                Side::Source => row.source_id,
                Side::Target => row.target_id,
            },
            status: HeldDeleteStatus::parse(&row.status).ok_or_else(|| corrupt("held delete status", &row.status))?,
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(to_datetime),
            at: to_datetime(row.created_at),
        })
    }
}

/// A held (or pending) deletion with both ids of its link.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredHeldDelete {
    pub held: HeldDelete,
    pub source_id: String,
    pub target_id: String,
}

const HELD_COLUMNS: &str =
    "id, pipeline_id, run_id, source_id, target_id, side, status, decided_by, decided_at, created_at";

fn stored(row: HeldRow) -> Result<StoredHeldDelete, RepoError> {
    let (source_id, target_id) = (row.source_id.clone(), row.target_id.clone());
    Ok(StoredHeldDelete {
        held: HeldDelete::try_from(row)?,
        source_id,
        target_id,
    })
}

/// The deletions of a run in `status`.
pub async fn run_deletes<'c>(
    exec: impl Exec<'c>,
    run_id: RunId,
    status: &str,
) -> Result<Vec<StoredHeldDelete>, RepoError> {
    let sql = format!("SELECT {HELD_COLUMNS} FROM held_deletes WHERE run_id = $1 AND status = $2 ORDER BY id");
    let rows: Vec<HeldRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(run_id.to_string())
        .bind(status)
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(stored).collect()
}

/// A pipeline's deletions held for approval (or all, with `status` None), newest first.
pub async fn list_held<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    status: Option<HeldDeleteStatus>,
) -> Result<Vec<StoredHeldDelete>, RepoError> {
    let sql = format!(
        "SELECT {HELD_COLUMNS} FROM held_deletes WHERE tenant_id = $1 AND pipeline_id = $2 \
         AND status <> 'pending' AND status <> 'applied' AND ($3 = '' OR status = $3) ORDER BY id DESC"
    );
    let rows: Vec<HeldRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(pipeline_id.to_string())
        .bind(status.map_or("", HeldDeleteStatus::as_str))
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(stored).collect()
}

pub async fn set_delete_status<'c>(
    exec: impl Exec<'c>,
    id: HeldDeleteId,
    from: &str,
    to: &str,
    decided_by: Option<&str>,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let changed = sqlx::query(
        "UPDATE held_deletes SET status = $1, decided_by = COALESCE($2, decided_by), \
           decided_at = CASE WHEN $2 IS NULL THEN decided_at ELSE $3 END WHERE id = $4 AND status = $5",
    )
    .bind(to)
    .bind(decided_by)
    .bind(now_ms)
    .bind(id.to_string())
    .bind(from)
    .execute(exec)
    .await?
    .rows_affected();
    Ok(changed > 0)
}

/// Per UTC day since `since_ms` (days without runs left out): records synced (created, updated
/// or deleted), records failed, and runs.
pub async fn daily_counts<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    since_ms: i64,
) -> Result<Vec<(i64, i64, i64, i64)>, RepoError> {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT started_at / 86400000 AS day, CAST(SUM(created + updated + deleted) AS BIGINT), \
                CAST(SUM(failed) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM sync_runs WHERE tenant_id = $1 AND pipeline_id = $2 AND started_at >= $3 \
         GROUP BY started_at / 86400000 ORDER BY day",
    )
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(since_ms)
    .fetch_all(exec)
    .await?;
    Ok(rows)
}
