//! Records that could not be synced. While a record's failure is open (or being replayed) it has
//! one row per pipeline and direction, updated at each new attempt.

use serde_json::Value;
use tandem_shared::api::failed_records::{FailedRecord, FailedRecordStatus, FailureReason};
use tandem_shared::api::pipelines::{Flow, Side};
use tandem_shared::ids::{FailedRecordId, PipelineId, RunId, TenantId};
use tandem_shared::model::AppObject;

use super::{Exec, RepoError, Tx, new_id, parse_id, to_datetime};

/// A failure as the engine reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFailure {
    pub flow: Flow,
    pub record_id: String,
    pub record_email: Option<String>,
    pub source_payload: Value,
    pub mapped_payload: Option<Value>,
    pub reason: FailureReason,
}

/// A person's decision about a duplicate, as the replay it queues reads it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateChoice {
    /// Link to this twin (what matched, as `email:…`); the leading side's values win.
    Link {
        twin_id: String,
        key: String,
        leading: Side,
    },
    /// Create it on the other side without looking for a twin.
    CreateNew,
}

/// Records the failure: a new open row, or one more attempt on the record's open row.
pub async fn record(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    run_id: RunId,
    failure: &NewFailure,
    now_ms: i64,
) -> Result<(), RepoError> {
    let crm_error = failure.reason.crm_error.as_ref().map(Value::to_string);
    let mapped = failure.mapped_payload.as_ref().map(Value::to_string);
    let updated = sqlx::query(
        "UPDATE failed_records SET run_id = $1, source_payload = $2, mapped_payload = $3, error_kind = $4, \
           error_field = $5, error_message = $6, crm_error = $7, attempts = attempts + 1, status = 'open', \
           record_email = $8, updated_at = $9, decision = NULL \
         WHERE pipeline_id = $10 AND direction = $11 AND record_id = $12 AND status IN ('open', 'replaying')",
    )
    .bind(run_id.to_string())
    .bind(failure.source_payload.to_string())
    .bind(&mapped)
    .bind(&failure.reason.kind)
    .bind(&failure.reason.field)
    .bind(&failure.reason.message)
    .bind(&crm_error)
    .bind(&failure.record_email)
    .bind(now_ms)
    .bind(pipeline_id.to_string())
    .bind(failure.flow.as_str())
    .bind(&failure.record_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO failed_records (id, tenant_id, pipeline_id, run_id, direction, record_id, record_email, \
                                     source_payload, mapped_payload, error_kind, error_field, error_message, \
                                     crm_error, attempts, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, 'open', $14, $14)",
    )
    .bind(new_id().to_string())
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(run_id.to_string())
    .bind(failure.flow.as_str())
    .bind(&failure.record_id)
    .bind(&failure.record_email)
    .bind(failure.source_payload.to_string())
    .bind(&mapped)
    .bind(&failure.reason.kind)
    .bind(&failure.reason.field)
    .bind(&failure.reason.message)
    .bind(&crm_error)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The record synced: its open failure (if any) is resolved.
pub async fn resolve(
    tx: &mut Tx,
    pipeline_id: PipelineId,
    flow: Flow,
    record_ids: &[String],
    now_ms: i64,
) -> Result<(), RepoError> {
    for record_id in record_ids {
        sqlx::query(
            "UPDATE failed_records SET status = 'resolved', updated_at = $1 \
             WHERE pipeline_id = $2 AND direction = $3 AND record_id = $4 AND status IN ('open', 'replaying')",
        )
        .bind(now_ms)
        .bind(pipeline_id.to_string())
        .bind(flow.as_str())
        .bind(record_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    pipeline_id: String,
    run_id: Option<String>,
    direction: String,
    record_id: String,
    record_email: Option<String>,
    source_payload: String,
    mapped_payload: Option<String>,
    error_kind: String,
    error_field: Option<String>,
    error_message: String,
    crm_error: Option<String>,
    attempts: i64,
    status: String,
    ignored_reason: Option<String>,
    decided_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn json(text: &str, what: &str) -> Result<Value, RepoError> {
    serde_json::from_str(text).map_err(|e| RepoError::Corrupt(format!("{what}: {e}")))
}

impl TryFrom<Row> for FailedRecord {
    type Error = RepoError;
    fn try_from(row: Row) -> Result<Self, RepoError> {
        Ok(FailedRecord {
            id: parse_id(&row.id, "failed record id")?,
            pipeline_id: parse_id(&row.pipeline_id, "pipeline id")?,
            run_id: row.run_id.map(|r| parse_id(&r, "run id")).transpose()?,
            flow: Flow::parse(&row.direction)
                .ok_or_else(|| RepoError::Corrupt(format!("failed record direction {:?}", row.direction)))?,
            record_id: row.record_id,
            record_email: row.record_email,
            source_payload: json(&row.source_payload, "failed record payload")?,
            mapped_payload: row
                .mapped_payload
                .map(|m| json(&m, "failed record mapped payload"))
                .transpose()?,
            reason: FailureReason {
                kind: row.error_kind,
                field: row.error_field,
                message: row.error_message,
                crm_error: row.crm_error.map(|c| json(&c, "failed record CRM error")).transpose()?,
            },
            attempts: row.attempts,
            status: FailedRecordStatus::parse(&row.status)
                .ok_or_else(|| RepoError::Corrupt(format!("failed record status {:?}", row.status)))?,
            ignored_reason: row.ignored_reason,
            decided_by: row.decided_by,
            created_at: to_datetime(row.created_at),
            updated_at: to_datetime(row.updated_at),
        })
    }
}

const COLUMNS: &str = "id, pipeline_id, run_id, direction, record_id, record_email, source_payload, mapped_payload, \
                       error_kind, error_field, error_message, crm_error, attempts, status, ignored_reason, \
                       decided_by, created_at, updated_at";

/// Which failed records to list or act on. Empty parts match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter<'a> {
    pub pipeline_id: Option<PipelineId>,
    pub status: Option<FailedRecordStatus>,
    pub error_kind: Option<&'a str>,
    /// A record id (on its side) or an email.
    pub search: Option<&'a str>,
    pub ids: Option<&'a [FailedRecordId]>,
    /// Of pipelines of this object only.
    pub object: Option<AppObject>,
    /// Last failed (`updated_at`) at or after / before these times (ms).
    pub failed_since_ms: Option<i64>,
    pub failed_until_ms: Option<i64>,
}

fn where_clause(filter: &Filter<'_>, first: usize) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let mut next = first;
    let mut param = |value: String, binds: &mut Vec<String>| {
        binds.push(value);
        let placeholder = format!("${next}");
        next += 1;
        placeholder
    };
    if let Some(pipeline_id) = filter.pipeline_id {
        clauses.push(format!("pipeline_id = {}", param(pipeline_id.to_string(), &mut binds)));
    }
    if let Some(status) = filter.status {
        clauses.push(format!("status = {}", param(status.as_str().to_string(), &mut binds)));
    }
    if let Some(kind) = filter.error_kind {
        clauses.push(format!("error_kind = {}", param(kind.to_string(), &mut binds)));
    }
    if let Some(search) = filter.search {
        let a = param(search.to_string(), &mut binds);
        let b = param(search.trim().to_lowercase(), &mut binds);
        clauses.push(format!("(record_id = {a} OR record_email = {b})"));
    }
    if let Some(object) = filter.object {
        clauses.push(format!(
            "pipeline_id IN (SELECT id FROM pipelines WHERE object = {})",
            param(object.as_str().to_string(), &mut binds)
        ));
    }
    // Binds are text: cast, so that PostgreSQL compares numbers with numbers.
    if let Some(since) = filter.failed_since_ms {
        clauses.push(format!(
            "updated_at >= CAST({} AS BIGINT)",
            param(since.to_string(), &mut binds)
        ));
    }
    if let Some(until) = filter.failed_until_ms {
        clauses.push(format!(
            "updated_at < CAST({} AS BIGINT)",
            param(until.to_string(), &mut binds)
        ));
    }
    if let Some(ids) = filter.ids {
        let list: Vec<String> = ids.iter().map(|id| param(id.to_string(), &mut binds)).collect();
        if list.is_empty() {
            clauses.push("1 = 0".to_string());
        } else {
            clauses.push(format!("id IN ({})", list.join(", ")));
        }
    }
    let sql = clauses.iter().map(|c| format!(" AND {c}")).collect::<String>();
    (sql, binds)
}

pub async fn list<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    filter: &Filter<'_>,
    limit: i64,
) -> Result<Vec<FailedRecord>, RepoError> {
    let (clause, binds) = where_clause(filter, 2);
    let sql = format!(
        "SELECT {COLUMNS} FROM failed_records WHERE tenant_id = $1{clause} ORDER BY updated_at DESC, id DESC LIMIT {}",
        limit.max(1)
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).bind(tenant_id.to_string());
    for value in binds {
        query = query.bind(value);
    }
    query
        .fetch_all(exec)
        .await?
        .into_iter()
        .map(FailedRecord::try_from)
        .collect()
}

pub async fn get<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: FailedRecordId,
) -> Result<Option<FailedRecord>, RepoError> {
    let sql = format!("SELECT {COLUMNS} FROM failed_records WHERE tenant_id = $1 AND id = $2");
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(FailedRecord::try_from).transpose()
}

/// Moves the open failures the filter selects to `replaying` (or `ignored`, with the reason);
/// returns them.
pub async fn transition(
    tx: &mut Tx,
    tenant_id: TenantId,
    filter: &Filter<'_>,
    to: FailedRecordStatus,
    ignored_reason: Option<&str>,
    decided_by: &str,
    now_ms: i64,
) -> Result<Vec<FailedRecord>, RepoError> {
    let selected = list(
        &mut **tx,
        tenant_id,
        &Filter {
            status: Some(FailedRecordStatus::Open),
            ..filter.clone()
        },
        100_000,
    )
    .await?;
    for record in &selected {
        sqlx::query(
            "UPDATE failed_records SET status = $1, ignored_reason = $2, decided_by = $3, updated_at = $4 \
             WHERE id = $5 AND status = 'open'",
        )
        .bind(to.as_str())
        .bind(ignored_reason)
        .bind(decided_by)
        .bind(now_ms)
        .bind(record.id.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(selected)
}

/// Queues one open duplicate to be replayed with a person's decision.
pub async fn decide_duplicate(
    tx: &mut Tx,
    id: FailedRecordId,
    choice: &DuplicateChoice,
    decided_by: &str,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let decision = serde_json::to_string(choice).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let updated = sqlx::query(
        "UPDATE failed_records SET status = 'replaying', decision = $1, decided_by = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'open' AND error_kind = 'duplicate'",
    )
    .bind(decision)
    .bind(decided_by)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(updated > 0)
}

/// A record of a pipeline waiting to be replayed, with the decision it carries (if any).
#[derive(Clone, Debug)]
pub struct Replay {
    pub record_id: String,
    pub decision: Option<DuplicateChoice>,
}

/// The records of a pipeline waiting to be replayed, by direction.
pub async fn replaying<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    flow: Flow,
    limit: i64,
) -> Result<Vec<Replay>, RepoError> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT record_id, decision FROM failed_records \
         WHERE pipeline_id = $1 AND direction = $2 AND status = 'replaying' ORDER BY id LIMIT $3",
    )
    .bind(pipeline_id.to_string())
    .bind(flow.as_str())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter()
        .map(|(record_id, decision)| {
            let decision = decision
                .map(|d| serde_json::from_str(&d).map_err(|e| RepoError::Corrupt(format!("decision: {e}"))))
                .transpose()?;
            Ok(Replay { record_id, decision })
        })
        .collect()
}

/// Open failures of a run's pipeline since `since_ms` (for the failure-rate check).
pub async fn count_open_since<'c>(exec: impl Exec<'c>, run_id: RunId) -> Result<i64, RepoError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM failed_records WHERE run_id = $1 AND status = 'open'")
            .bind(run_id.to_string())
            .fetch_one(exec)
            .await?,
    )
}

/// Failures of one kind a run recorded (still open).
pub async fn count_kind_in_run<'c>(exec: impl Exec<'c>, run_id: RunId, kind: &str) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM failed_records WHERE run_id = $1 AND error_kind = $2 AND status = 'open'",
    )
    .bind(run_id.to_string())
    .bind(kind)
    .fetch_one(exec)
    .await?)
}
