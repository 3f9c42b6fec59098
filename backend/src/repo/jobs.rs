//! The job queue's rows: statements only. The protocol (claim in a transaction, round-robin over
//! tenants, retries) is in `crate::jobs`, which is the only caller.
//!
//! Every statement that changes a claimed job names it by id *and* lease id and requires it to be
//! running, so a worker whose lease expired (and whose job another worker took over) changes
//! nothing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use tandem_shared::ids::TenantId;
use uuid::Uuid;

use super::{Backend, Exec, RepoError, parse_id};

/// A job's identifier (UUIDv7 text in the database).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub Uuid);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(JobId)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    /// A permanent error: retrying would not help.
    Failed,
    /// Retryable errors until no attempts were left.
    Dead,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<JobStatus> {
        Some(match value {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "dead" => JobStatus::Dead,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// The round-robin key of a tenant's jobs, or of system jobs (`None`).
pub fn tenant_key(tenant_id: Option<TenantId>) -> String {
    tenant_id.map_or_else(|| SYSTEM_KEY.to_string(), |t| t.to_string())
}

/// `tenant_key` of jobs that belong to no tenant (see the migration's generated column).
pub const SYSTEM_KEY: &str = "system";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    tenant_id: Option<String>,
    kind: String,
    payload: String,
    status: String,
    priority: i64,
    run_at: i64,
    attempts: i64,
    max_attempts: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    last_error: Option<String>,
    dedupe_key: Option<String>,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
}

/// A job as stored, for history and inspection. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredJob {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub priority: i64,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

fn parse_payload(payload: &str) -> Result<serde_json::Value, RepoError> {
    serde_json::from_str(payload).map_err(|e| RepoError::Corrupt(format!("job payload is not JSON: {e}")))
}

fn parse_tenant(tenant_id: Option<&str>) -> Result<Option<TenantId>, RepoError> {
    tenant_id.map(|t| parse_id(t, "tenant id")).transpose()
}

impl TryFrom<JobRow> for StoredJob {
    type Error = RepoError;
    fn try_from(row: JobRow) -> Result<Self, RepoError> {
        Ok(StoredJob {
            id: parse_id(&row.id, "job id")?,
            tenant_id: parse_tenant(row.tenant_id.as_deref())?,
            kind: row.kind,
            payload: parse_payload(&row.payload)?,
            status: JobStatus::parse(&row.status)
                .ok_or_else(|| RepoError::Corrupt(format!("job status {:?}", row.status)))?,
            priority: row.priority,
            run_at: row.run_at,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            lease_owner: row.lease_owner,
            lease_expires_at: row.lease_expires_at,
            last_error: row.last_error,
            dedupe_key: row.dedupe_key,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

/// A job to insert.
pub struct InsertJob<'a> {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: &'a str,
    pub payload: &'a str,
    pub priority: i64,
    pub run_at: i64,
    pub max_attempts: i64,
    pub dedupe_key: Option<&'a str>,
    pub now_ms: i64,
}

/// Inserts a queued job. `None`: a queued or running job with the same (tenant, kind, dedupe key)
/// exists, and nothing was inserted.
pub async fn insert<'c>(exec: impl Exec<'c>, job: InsertJob<'_>) -> Result<Option<JobId>, RepoError> {
    let id: Option<String> = sqlx::query_scalar(
        "INSERT INTO jobs (id, tenant_id, kind, payload, status, priority, run_at, attempts, max_attempts, \
                           dedupe_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, 0, $7, $8, $9, $9) \
         ON CONFLICT DO NOTHING \
         RETURNING id",
    )
    .bind(job.id.to_string())
    .bind(job.tenant_id.map(|t| t.to_string()))
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.priority)
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(job.dedupe_key)
    .bind(job.now_ms)
    .fetch_optional(exec)
    .await?;
    id.map(|id| parse_id(&id, "job id")).transpose()
}

/// Puts a tenant in the round-robin (first in line) unless it is there already.
pub async fn ensure_turn<'c>(exec: impl Exec<'c>, tenant_key: &str) -> Result<(), RepoError> {
    sqlx::query("INSERT INTO job_turns (tenant_key, last_turn) VALUES ($1, 0) ON CONFLICT (tenant_key) DO NOTHING")
        .bind(tenant_key)
        .execute(exec)
        .await?;
    Ok(())
}

/// The queued or running job holding a dedupe key.
pub async fn find_pending<'c>(
    exec: impl Exec<'c>,
    tenant_id: Option<TenantId>,
    kind: &str,
    dedupe_key: &str,
) -> Result<Option<JobId>, RepoError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE tenant_key = $1 AND kind = $2 AND dedupe_key = $3 \
           AND status IN ('queued', 'running')",
    )
    .bind(tenant_key(tenant_id))
    .bind(kind)
    .bind(dedupe_key)
    .fetch_optional(exec)
    .await?;
    id.map(|id| parse_id(&id, "job id")).transpose()
}

macro_rules! select_jobs {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, kind, payload, status, priority, run_at, attempts, max_attempts, lease_owner, \
                    lease_expires_at, last_error, dedupe_key, created_at, updated_at, finished_at FROM jobs ",
            $rest
        )
    };
}

/// One job of a tenant (`None`: system jobs).
pub async fn get<'c>(
    exec: impl Exec<'c>,
    tenant_id: Option<TenantId>,
    id: JobId,
) -> Result<Option<StoredJob>, RepoError> {
    let row: Option<JobRow> = sqlx::query_as(select_jobs!("WHERE tenant_key = $1 AND id = $2"))
        .bind(tenant_key(tenant_id))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(StoredJob::try_from).transpose()
}

/// `$from, $from+1, …` for `count` values.
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn lock_clause(backend: Backend) -> &'static str {
    match backend {
        // Rows another instance is claiming are skipped, not waited for.
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        // `Db::begin()` is BEGIN IMMEDIATE: the claiming transaction is the only writer.
        Backend::Sqlite => "",
    }
}

/// A job whose worker stopped renewing its lease.
#[derive(Debug)]
pub struct Expired {
    pub id: JobId,
    pub kind: String,
    /// `Queued` again, or `Dead` when it had no attempts left.
    pub status: JobStatus,
}

/// Takes back jobs whose lease expired: queued again to run now, or dead when the lost attempt
/// was the last one.
pub async fn requeue_expired<'c>(
    exec: impl Exec<'c>,
    backend: Backend,
    now_ms: i64,
) -> Result<Vec<Expired>, RepoError> {
    let sql = format!(
        "UPDATE jobs SET \
           status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
           finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
           run_at = $1, \
           last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' stopped renewing it', \
           lease_id = NULL, lease_expires_at = NULL, updated_at = $1 \
         WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= $1{}) \
           AND status = 'running' \
         RETURNING id, kind, status",
        lock_clause(backend)
    );
    let rows: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(sql)).bind(now_ms).fetch_all(exec).await?;
    rows.into_iter()
        .map(|(id, kind, status)| {
            Ok(Expired {
                id: parse_id(&id, "job id")?,
                kind,
                status: JobStatus::parse(&status)
                    .ok_or_else(|| RepoError::Corrupt(format!("job status {status:?}")))?,
            })
        })
        .collect()
}

/// Tenants that have a due job of one of `kinds`, longest unserved first.
///
/// "Has a due job" is written as "its earliest queued job is due", a per-tenant subquery ordered
/// like the `jobs_due` index, rather than `EXISTS`: PostgreSQL turns an `EXISTS` into a semi-join
/// that reads every queued job (a seq scan of a million-job backlog per claim), while this form
/// stays one index probe per tenant in line.
pub async fn tenants_in_line<'c>(
    exec: impl Exec<'c>,
    kinds: &[&str],
    now_ms: i64,
    limit: i64,
) -> Result<Vec<String>, RepoError> {
    let sql = format!(
        "SELECT t.tenant_key FROM job_turns t \
         WHERE (SELECT j.run_at FROM jobs j \
                WHERE j.tenant_key = t.tenant_key AND j.status = 'queued' AND j.kind IN ({}) \
                ORDER BY j.run_at LIMIT 1) <= $1 \
         ORDER BY t.last_turn, t.tenant_key \
         LIMIT $2",
        placeholders(3, kinds.len())
    );
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql)).bind(now_ms).bind(limit);
    for kind in kinds {
        query = query.bind(*kind);
    }
    Ok(query.fetch_all(exec).await?)
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    tenant_id: Option<String>,
    kind: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
}

/// A job just claimed: what its worker needs.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Attempts counted so far, this one included.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// The lease a claim takes.
pub struct Lease<'a> {
    pub owner: &'a str,
    pub id: &'a str,
    pub expires_at: i64,
}

/// Claims the tenant's next due job (highest priority, then earliest `run_at`, then oldest) of one
/// of `kinds`. `None` when it has none, or (PostgreSQL) when every one is being claimed by
/// another transaction right now.
pub async fn claim_next<'c>(
    exec: impl Exec<'c>,
    backend: Backend,
    tenant_key: &str,
    kinds: &[&str],
    lease: &Lease<'_>,
    now_ms: i64,
) -> Result<Option<Claimed>, RepoError> {
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, lease_id = $2, \
                         lease_expires_at = $3, updated_at = $4 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE tenant_key = $5 AND status = 'queued' AND run_at <= $4 AND kind IN ({}) \
                     ORDER BY priority DESC, run_at, id \
                     LIMIT 1{}) \
           AND status = 'queued' \
         RETURNING id, tenant_id, kind, payload, attempts, max_attempts",
        placeholders(6, kinds.len()),
        lock_clause(backend)
    );
    let mut query = sqlx::query_as::<_, ClaimedRow>(AssertSqlSafe(sql))
        .bind(lease.owner)
        .bind(lease.id)
        .bind(lease.expires_at)
        .bind(now_ms)
        .bind(tenant_key);
    for kind in kinds {
        query = query.bind(*kind);
    }
    let Some(row) = query.fetch_optional(exec).await? else {
        return Ok(None);
    };
    Ok(Some(Claimed {
        id: parse_id(&row.id, "job id")?,
        tenant_id: parse_tenant(row.tenant_id.as_deref())?,
        kind: row.kind,
        payload: parse_payload(&row.payload)?,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
    }))
}

/// Sends the tenant to the back of the line: its turn becomes the newest.
pub async fn take_turn<'c>(exec: impl Exec<'c>, tenant_key: &str) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE job_turns SET last_turn = (SELECT COALESCE(MAX(last_turn), 0) + 1 FROM job_turns) \
         WHERE tenant_key = $1",
    )
    .bind(tenant_key)
    .execute(exec)
    .await?;
    Ok(())
}

/// Extends a lease. False: the lease is gone (expired and taken over, or the job was deleted).
pub async fn heartbeat<'c>(
    exec: impl Exec<'c>,
    id: JobId,
    lease_id: &str,
    expires_at: i64,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 WHERE id = $3 AND lease_id = $4 AND status = 'running'",
    )
    .bind(expires_at)
    .bind(now_ms)
    .bind(id.to_string())
    .bind(lease_id)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a claim for good: succeeded, failed or dead. False: the lease was lost.
pub async fn finish<'c>(
    exec: impl Exec<'c>,
    id: JobId,
    lease_id: &str,
    status: JobStatus,
    error: Option<&str>,
    now_ms: i64,
) -> Result<bool, RepoError> {
    debug_assert!(status.is_finished());
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, last_error = COALESCE($2, last_error), lease_expires_at = NULL, \
                         finished_at = $3, updated_at = $3 \
         WHERE id = $4 AND lease_id = $5 AND status = 'running'",
    )
    .bind(status.as_str())
    .bind(error)
    .bind(now_ms)
    .bind(id.to_string())
    .bind(lease_id)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a claimed job again to run at `run_at`. `refund_attempt`: this claim does not count
/// (rate limited, or given back at shutdown). False: the lease was lost.
pub async fn requeue<'c>(
    exec: impl Exec<'c>,
    id: JobId,
    lease_id: &str,
    run_at: i64,
    refund_attempt: bool,
    error: Option<&str>,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = $1, attempts = attempts - $2, \
                         last_error = COALESCE($3, last_error), lease_id = NULL, lease_expires_at = NULL, \
                         updated_at = $4 \
         WHERE id = $5 AND lease_id = $6 AND status = 'running'",
    )
    .bind(run_at)
    .bind(i64::from(refund_attempt))
    .bind(error)
    .bind(now_ms)
    .bind(id.to_string())
    .bind(lease_id)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a queued job that waits for a later time (a backoff, a spent quota) due now. False: no
/// such waiting job.
pub async fn bring_forward<'c>(
    exec: impl Exec<'c>,
    tenant_id: Option<TenantId>,
    kind: &str,
    dedupe_key: &str,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE jobs SET run_at = $1, updated_at = $1 \
         WHERE tenant_key = $2 AND kind = $3 AND dedupe_key = $4 AND status = 'queued' AND run_at > $1",
    )
    .bind(now_ms)
    .bind(tenant_key(tenant_id))
    .bind(kind)
    .bind(dedupe_key)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Cancels a queued job of a tenant (`None`: system jobs). False: no such queued job (a running
/// job is not interrupted).
pub async fn cancel<'c>(
    exec: impl Exec<'c>,
    tenant_id: Option<TenantId>,
    id: JobId,
    now_ms: i64,
) -> Result<bool, RepoError> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1, updated_at = $1 \
         WHERE tenant_key = $2 AND id = $3 AND status = 'queued'",
    )
    .bind(now_ms)
    .bind(tenant_key(tenant_id))
    .bind(id.to_string())
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes up to `batch` finished jobs that finished before `before`; returns how many.
pub async fn prune_finished<'c>(exec: impl Exec<'c>, before: i64, batch: i64) -> Result<u64, RepoError> {
    let done = sqlx::query(
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}

/// Removes the round-robin places of tenants that no longer exist. (Places of live tenants are
/// kept: deleting one while a job for that tenant is being enqueued could leave the job out of
/// the round-robin.)
pub async fn prune_turns<'c>(exec: impl Exec<'c>) -> Result<u64, RepoError> {
    let done = sqlx::query(
        "DELETE FROM job_turns WHERE tenant_key <> 'system' \
           AND NOT EXISTS (SELECT 1 FROM tenants WHERE tenants.id = job_turns.tenant_key)",
    )
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}

/// Queued jobs by kind (due or not).
pub async fn queued_by_kind<'c>(exec: impl Exec<'c>) -> Result<Vec<(String, i64)>, RepoError> {
    Ok(
        sqlx::query_as("SELECT kind, COUNT(*) FROM jobs WHERE status = 'queued' GROUP BY kind ORDER BY kind")
            .fetch_all(exec)
            .await?,
    )
}

/// Jobs by status (all tenants): for operations and tests.
pub async fn count_by_status<'c>(exec: impl Exec<'c>) -> Result<Vec<(String, i64)>, RepoError> {
    Ok(
        sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
            .fetch_all(exec)
            .await?,
    )
}
