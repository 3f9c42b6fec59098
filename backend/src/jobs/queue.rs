//! The queue: enqueue, claim, heartbeat, finish, cancel, prune.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::AnyConnection;
use tandem_shared::ids::TenantId;
use tokio::sync::Notify;

use super::clock::Clock;
use super::handler::{JobError, JobKind, JobOutcome};
use super::metrics;
use super::millis;
use super::retry::retry_delay;
use crate::repo::jobs::{self as rows, Claimed, InsertJob, JobId, JobStatus, Lease, StoredJob};
use crate::repo::{Db, RepoError, new_id};

/// Attempts a job gets unless it says otherwise. With full-jitter backoff from 1 s the eight
/// attempts span up to about two minutes (1 + 2 + … + 64 s), enough to ride out a short outage.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// How many tenants one claim tries, in round-robin order, before giving up. More than one
/// matters only on PostgreSQL, where every due job of the first tenant may be locked by other
/// instances' claims at that instant.
const TENANTS_PER_CLAIM: i64 = 8;

/// Stored error messages are cut to this many characters.
const MAX_ERROR_CHARS: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("job payload: {0}")]
    Payload(#[from] serde_json::Error),
}

impl From<sqlx::Error> for QueueError {
    fn from(error: sqlx::Error) -> QueueError {
        QueueError::Repo(RepoError::Database(error))
    }
}

impl QueueError {
    /// A database that could not be reached or answered with an error: trying again may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, QueueError::Repo(RepoError::Database(_)))
    }
}

/// Which jobs go first among one tenant's due jobs; higher first. Across tenants the round-robin
/// decides (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority(pub i16);

impl Priority {
    /// Initial loads, reconciliations.
    pub const BACKFILL: Priority = Priority(-10);
    pub const NORMAL: Priority = Priority(0);
    /// Webhook-triggered and user-triggered work.
    pub const REALTIME: Priority = Priority(10);
}

#[derive(Clone, Debug)]
enum When {
    Now,
    AtMs(i64),
    After(Duration),
}

/// A job to enqueue: `NewJob::new(kind, payload)` (or `NewJob::of(&typed)`), then options.
#[derive(Clone, Debug)]
pub struct NewJob {
    tenant_id: Option<TenantId>,
    kind: String,
    payload: Value,
    when: When,
    priority: Priority,
    dedupe_key: Option<String>,
    max_attempts: u32,
}

impl NewJob {
    /// A system job (no tenant) until `.tenant(…)` says otherwise.
    pub fn new(kind: impl Into<String>, payload: Value) -> NewJob {
        NewJob {
            tenant_id: None,
            kind: kind.into(),
            payload,
            when: When::Now,
            priority: Priority::NORMAL,
            dedupe_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn of<J: JobKind>(job: &J) -> Result<NewJob, QueueError> {
        Ok(NewJob::new(J::KIND, serde_json::to_value(job)?))
    }

    pub fn tenant(mut self, tenant_id: TenantId) -> NewJob {
        self.tenant_id = Some(tenant_id);
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> NewJob {
        self.when = When::AtMs(at.timestamp_millis());
        self
    }

    pub fn run_at_ms(mut self, at_ms: i64) -> NewJob {
        self.when = When::AtMs(at_ms);
        self
    }

    pub fn delay(mut self, delay: Duration) -> NewJob {
        self.when = When::After(delay);
        self
    }

    pub fn priority(mut self, priority: Priority) -> NewJob {
        self.priority = priority;
        self
    }

    /// While a queued or running job of the same tenant and kind has this key, enqueueing
    /// another is a no-op that returns `Enqueued::Duplicate` with the pending job's id.
    pub fn dedupe_key(mut self, key: impl Into<String>) -> NewJob {
        self.dedupe_key = Some(key.into());
        self
    }

    /// At least 1.
    pub fn max_attempts(mut self, attempts: u32) -> NewJob {
        self.max_attempts = attempts.max(1);
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Created(JobId),
    /// A job with the same dedupe key was pending: this is its id, and nothing was added.
    Duplicate(JobId),
}

impl Enqueued {
    pub fn id(self) -> JobId {
        match self {
            Enqueued::Created(id) | Enqueued::Duplicate(id) => id,
        }
    }

    pub fn is_created(self) -> bool {
        matches!(self, Enqueued::Created(_))
    }
}

/// A job a worker holds under a lease.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: Value,
    /// 1 on the first attempt.
    pub attempt: u32,
    pub max_attempts: u32,
    /// Who holds the lease.
    pub owner: String,
    lease_id: String,
}

/// What became of a claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finished {
    Succeeded,
    /// `RetryAfter`: queued again for `run_at`, the attempt not counted.
    Rescheduled {
        run_at: i64,
    },
    /// A retryable error with attempts left: queued again for `run_at` (backoff).
    Retrying {
        run_at: i64,
    },
    /// A permanent error.
    Failed,
    /// A retryable error on the last attempt.
    Dead,
    /// Given back unfinished (worker stopping): queued to run now, the attempt not counted.
    Released,
    /// The lease had expired and the job was taken over (or deleted): nothing was recorded.
    LeaseLost,
}

impl Finished {
    /// The `outcome` label of `jobs_finished_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Finished::Succeeded => "succeeded",
            Finished::Rescheduled { .. } => "rescheduled",
            Finished::Retrying { .. } => "retrying",
            Finished::Failed => "failed",
            Finished::Dead => "dead",
            Finished::Released => "released",
            Finished::LeaseLost => "lease_lost",
        }
    }
}

/// The durable job queue. Cheap to clone; clones share the database pool, the clock and the
/// wake-up signal of the workers in this process.
#[derive(Clone, Debug)]
pub struct Queue {
    db: Db,
    clock: Clock,
    wake: Arc<Notify>,
}

fn truncate(message: &str) -> &str {
    match message.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => &message[..cut],
        None => message,
    }
}

fn to_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

impl Queue {
    pub fn new(db: Db) -> Queue {
        Queue::with_clock(db, Clock::System)
    }

    pub fn with_clock(db: Db, clock: Clock) -> Queue {
        Queue {
            db,
            clock,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.wake
    }

    /// Adds a job. A worker of this process waiting for work is woken at once; other instances
    /// find it at their next poll.
    pub async fn enqueue(&self, job: NewJob) -> Result<Enqueued, QueueError> {
        let mut conn = self.db.pool().acquire().await?;
        let enqueued = self.enqueue_in(&mut conn, job).await?;
        if enqueued.is_created() {
            self.wake.notify_one();
        }
        Ok(enqueued)
    }

    /// Adds jobs in one transaction: all or none (a big load split into page-sized jobs, say).
    pub async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<Enqueued>, QueueError> {
        let mut tx = self.db.begin().await?;
        let mut enqueued = Vec::with_capacity(jobs.len());
        for job in jobs {
            enqueued.push(self.enqueue_in(&mut tx, job).await?);
        }
        tx.commit().await?;
        if enqueued.iter().any(|e| e.is_created()) {
            self.wake.notify_one();
        }
        Ok(enqueued)
    }

    /// Adds a job on the caller's connection or transaction (`&mut *tx`), so that the job exists
    /// if and only if the caller's other writes commit.
    pub async fn enqueue_in(&self, conn: &mut AnyConnection, job: NewJob) -> Result<Enqueued, QueueError> {
        let now = self.clock.now_ms();
        let run_at = match job.when {
            When::Now => now,
            When::AtMs(at) => at,
            When::After(delay) => now.saturating_add(millis(delay)),
        };
        let payload = job.payload.to_string();
        // A duplicate whose pending job finishes between the insert and the look-up: try again.
        for _ in 0..3 {
            let inserted = rows::insert(
                &mut *conn,
                InsertJob {
                    id: JobId(new_id()),
                    tenant_id: job.tenant_id,
                    kind: &job.kind,
                    payload: &payload,
                    priority: i64::from(job.priority.0),
                    run_at,
                    max_attempts: i64::from(job.max_attempts),
                    dedupe_key: job.dedupe_key.as_deref(),
                    now_ms: now,
                },
            )
            .await?;
            if let Some(id) = inserted {
                // After the insert, so the tenant is in the round-robin whenever its job is.
                rows::ensure_turn(&mut *conn, &rows::tenant_key(job.tenant_id)).await?;
                tracing::debug!(job.id = %id, job.kind = %job.kind, tenant.id = ?job.tenant_id, run_at, "job enqueued");
                return Ok(Enqueued::Created(id));
            }
            let key = job.dedupe_key.as_deref().unwrap_or_default();
            if let Some(pending) = rows::find_pending(&mut *conn, job.tenant_id, &job.kind, key).await? {
                return Ok(Enqueued::Duplicate(pending));
            }
        }
        Err(QueueError::Repo(RepoError::Duplicate {
            what: "a job with this dedupe key",
        }))
    }

    /// Cancels a queued job of a tenant (`None`: a system job). False when there is no such
    /// queued job; a running job is not interrupted.
    pub async fn cancel(&self, tenant_id: Option<TenantId>, id: JobId) -> Result<bool, QueueError> {
        Ok(rows::cancel(self.db.pool(), tenant_id, id, self.clock.now_ms()).await?)
    }

    /// Makes the queued job holding `dedupe_key` due now if it waits for later (a backoff, a
    /// spent quota). False: there is no such waiting job. Wakes this process's workers.
    pub async fn bring_forward(
        &self,
        tenant_id: Option<TenantId>,
        kind: &str,
        dedupe_key: &str,
    ) -> Result<bool, QueueError> {
        let moved = rows::bring_forward(self.db.pool(), tenant_id, kind, dedupe_key, self.clock.now_ms()).await?;
        if moved {
            self.wake.notify_one();
        }
        Ok(moved)
    }

    /// A tenant's job (`None`: a system job).
    pub async fn get(&self, tenant_id: Option<TenantId>, id: JobId) -> Result<Option<StoredJob>, QueueError> {
        Ok(rows::get(self.db.pool(), tenant_id, id).await?)
    }

    /// Claims the next job of one of `kinds` for `owner`, with a lease of `lease`. First takes
    /// back jobs whose lease expired. See the module documentation for the order.
    pub async fn claim(&self, kinds: &[&str], owner: &str, lease: Duration) -> Result<Option<ClaimedJob>, QueueError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let now = self.clock.now_ms();
        self.requeue_expired(now).await?;

        let lease_id = new_id().to_string();
        let lease = Lease {
            owner,
            id: &lease_id,
            expires_at: now.saturating_add(millis(lease)),
        };
        let backend = self.db.backend();
        let mut tx = self.db.begin().await?;
        let line = rows::tenants_in_line(&mut *tx, kinds, now, TENANTS_PER_CLAIM).await?;
        for tenant_key in &line {
            let Some(claimed) = rows::claim_next(&mut *tx, backend, tenant_key, kinds, &lease, now).await? else {
                continue;
            };
            rows::take_turn(&mut *tx, tenant_key).await?;
            tx.commit().await?;
            let Claimed {
                id,
                tenant_id,
                kind,
                payload,
                attempts,
                max_attempts,
            } = claimed;
            ::metrics::counter!(metrics::JOBS_CLAIMED, "kind" => kind.clone()).increment(1);
            return Ok(Some(ClaimedJob {
                id,
                tenant_id,
                kind,
                payload,
                attempt: to_u32(attempts),
                max_attempts: to_u32(max_attempts),
                owner: owner.to_string(),
                lease_id,
            }));
        }
        tx.commit().await?;
        Ok(None)
    }

    async fn requeue_expired(&self, now: i64) -> Result<(), QueueError> {
        let expired = rows::requeue_expired(self.db.pool(), self.db.backend(), now).await?;
        for job in expired {
            tracing::warn!(job.id = %job.id, job.kind = %job.kind, status = job.status.as_str(),
                "a job's lease expired (its worker stopped renewing it): taken back");
            ::metrics::counter!(metrics::JOBS_LEASES_EXPIRED, "kind" => job.kind.clone()).increment(1);
            if job.status == JobStatus::Dead {
                ::metrics::counter!(metrics::JOBS_FINISHED, "kind" => job.kind, "outcome" => "dead").increment(1);
            }
        }
        Ok(())
    }

    /// Extends the lease to `lease` from now. False: the lease is lost (it expired and the job
    /// was taken back, or the job was deleted); the worker should stop working on it.
    pub async fn heartbeat(&self, job: &ClaimedJob, lease: Duration) -> Result<bool, QueueError> {
        let now = self.clock.now_ms();
        Ok(rows::heartbeat(
            self.db.pool(),
            job.id,
            &job.lease_id,
            now.saturating_add(millis(lease)),
            now,
        )
        .await?)
    }

    /// Records what a run answered: done, rescheduled, retried with backoff, failed or dead.
    pub async fn finish(&self, job: &ClaimedJob, result: Result<JobOutcome, JobError>) -> Result<Finished, QueueError> {
        let now = self.clock.now_ms();
        let pool = self.db.pool();
        let (finished, recorded) = match result {
            Ok(JobOutcome::Done) => (
                Finished::Succeeded,
                rows::finish(pool, job.id, &job.lease_id, JobStatus::Succeeded, None, now).await?,
            ),
            Ok(JobOutcome::RetryAfter(wait)) => {
                let run_at = now.saturating_add(millis(wait));
                (
                    Finished::Rescheduled { run_at },
                    rows::requeue(pool, job.id, &job.lease_id, run_at, true, None, now).await?,
                )
            }
            Err(JobError::Retryable(error)) if job.attempt < job.max_attempts => {
                let run_at = now.saturating_add(millis(retry_delay(job.attempt)));
                (
                    Finished::Retrying { run_at },
                    rows::requeue(pool, job.id, &job.lease_id, run_at, false, Some(truncate(&error)), now).await?,
                )
            }
            Err(JobError::Retryable(error)) => (
                Finished::Dead,
                rows::finish(
                    pool,
                    job.id,
                    &job.lease_id,
                    JobStatus::Dead,
                    Some(truncate(&error)),
                    now,
                )
                .await?,
            ),
            Err(JobError::Permanent(error)) => (
                Finished::Failed,
                rows::finish(
                    pool,
                    job.id,
                    &job.lease_id,
                    JobStatus::Failed,
                    Some(truncate(&error)),
                    now,
                )
                .await?,
            ),
        };
        let finished = if recorded { finished } else { Finished::LeaseLost };
        self.count_finished(job, &finished);
        Ok(finished)
    }

    /// Gives an unfinished job back (the worker is stopping): queued to run now, the attempt not
    /// counted.
    pub async fn release(&self, job: &ClaimedJob) -> Result<Finished, QueueError> {
        let now = self.clock.now_ms();
        let recorded = rows::requeue(self.db.pool(), job.id, &job.lease_id, now, true, None, now).await?;
        let finished = if recorded {
            Finished::Released
        } else {
            Finished::LeaseLost
        };
        self.count_finished(job, &finished);
        Ok(finished)
    }

    pub(crate) fn count_finished(&self, job: &ClaimedJob, finished: &Finished) {
        ::metrics::counter!(metrics::JOBS_FINISHED, "kind" => job.kind.clone(), "outcome" => finished.label())
            .increment(1);
    }

    /// Deletes jobs that finished (succeeded, failed, dead, cancelled) more than `older_than`
    /// ago, in batches; returns how many. Queued and running jobs are never pruned.
    pub async fn prune(&self, older_than: Duration) -> Result<u64, QueueError> {
        const BATCH: i64 = 1000;
        let before = self.clock.now_ms().saturating_sub(millis(older_than));
        let mut pruned = 0;
        loop {
            let deleted = rows::prune_finished(self.db.pool(), before, BATCH).await?;
            pruned += deleted;
            if deleted < BATCH as u64 {
                break;
            }
        }
        rows::prune_turns(self.db.pool()).await?;
        Ok(pruned)
    }

    /// Queued jobs by kind.
    pub async fn queued_by_kind(&self) -> Result<Vec<(String, i64)>, QueueError> {
        Ok(rows::queued_by_kind(self.db.pool()).await?)
    }

    /// All jobs by status.
    pub async fn count_by_status(&self) -> Result<Vec<(JobStatus, i64)>, QueueError> {
        rows::count_by_status(self.db.pool())
            .await?
            .into_iter()
            .map(|(status, count)| {
                JobStatus::parse(&status)
                    .map(|s| (s, count))
                    .ok_or_else(|| QueueError::Repo(RepoError::Corrupt(format!("job status {status:?}"))))
            })
            .collect()
    }
}
