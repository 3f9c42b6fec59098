//! Pipelines run as durable jobs: one `sync.pipeline` job per pipeline at a time (its dedupe key),
//! whose slices re-queue themselves until the run is over. Triggers — polls from the scheduler,
//! CRM webhooks, people — record what kind of run they want and enqueue; a trigger that arrives
//! while a run is going asks for one more run after it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use tandem_shared::api::runs::RunTrigger;
use tandem_shared::ids::{PipelineId, TenantId};

use super::engine::{Slice, SyncEngine, SyncError};
use crate::jobs::{
    Enqueued, JobContext, JobError, JobKind, JobOutcome, JobStatus, NewJob, Priority, Queue, QueueError, TypedHandler,
};
use crate::repo::pipelines::StoredPipeline;
use crate::repo::{Db, RepoError, now_ms, pipelines, sync_history};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncPipeline {
    pub pipeline_id: PipelineId,
}

impl JobKind for SyncPipeline {
    const KIND: &'static str = "sync.pipeline";
}

pub struct SyncHandler {
    pub engine: SyncEngine,
}

#[async_trait]
impl TypedHandler<SyncPipeline> for SyncHandler {
    async fn run(&self, _ctx: &JobContext, job: SyncPipeline) -> Result<JobOutcome, JobError> {
        match self.engine.run_slice(job.pipeline_id).await {
            Ok(Slice::Finished) => Ok(JobOutcome::Done),
            // Hand over: other tenants' jobs get their turn before this run goes on.
            Ok(Slice::Continue) => Ok(JobOutcome::RetryAfter(Duration::ZERO)),
            Ok(Slice::Wait(wait)) => Ok(JobOutcome::RetryAfter(wait)),
            Err(SyncError::Retry(reason)) => Err(JobError::Retryable(reason)),
            Err(SyncError::Repo(error)) => Err(JobError::Retryable(format!("database: {error}"))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Asks for a run of the pipeline.
pub async fn trigger(
    db: &Db,
    queue: &Queue,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    trigger: RunTrigger,
) -> Result<(), TriggerError> {
    sync_history::request_trigger(db.pool(), pipeline_id, trigger).await?;
    let priority = match trigger {
        RunTrigger::Webhook | RunTrigger::Manual | RunTrigger::Replay => Priority::REALTIME,
        RunTrigger::Initial | RunTrigger::Reconciliation => Priority::BACKFILL,
        RunTrigger::Poll => Priority::NORMAL,
    };
    let job = NewJob::of(&SyncPipeline { pipeline_id })?
        .tenant(tenant_id)
        .dedupe_key(pipeline_id.to_string())
        .priority(priority)
        .max_attempts(12);
    if let Enqueued::Duplicate(id) = queue.enqueue(job).await? {
        match queue.get(Some(tenant_id), id).await? {
            // The run going on may have read past this trigger's change: one more run after it.
            Some(j) if j.status == JobStatus::Running => pipelines::request_rerun(db.pool(), pipeline_id).await?,
            // Someone asked for it now: a run waiting for a backoff or the quota tries again now.
            Some(_) if priority == Priority::REALTIME => {
                queue
                    .bring_forward(Some(tenant_id), SyncPipeline::KIND, &pipeline_id.to_string())
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Makes the waiting runs of a connection's pipelines go on now (its limits were raised, say).
pub async fn wake_connection(
    db: &Db,
    queue: &Queue,
    tenant_id: TenantId,
    connection_id: tandem_shared::ids::ConnectionId,
) -> Result<(), TriggerError> {
    for pipeline in pipelines::using_connection(db.pool(), connection_id).await? {
        queue
            .bring_forward(Some(tenant_id), SyncPipeline::KIND, &pipeline.pipeline.id.to_string())
            .await?;
    }
    Ok(())
}

/// The next time of day `at` (`HH:MM`, UTC) after `now_ms`.
pub fn next_daily(at: &str, now_ms: i64) -> Option<i64> {
    let time = NaiveTime::parse_from_str(at, "%H:%M").ok()?;
    let now = chrono::DateTime::<Utc>::from_timestamp_millis(now_ms)?;
    let today = now.date_naive().and_time(time).and_utc();
    let next = if today.timestamp_millis() > now_ms {
        today
    } else {
        today + chrono::Duration::days(1)
    };
    Some(next.timestamp_millis())
}

/// Enqueues the runs that are due: polls, and daily reconciliations. Safe to call from every
/// instance at once (each pipeline has one job at a time).
pub async fn schedule_due(db: &Db, queue: &Queue) -> Result<usize, TriggerError> {
    let now = now_ms();
    let due: Vec<StoredPipeline> = pipelines::due(db.pool(), now, 200).await?;
    for pipeline in &due {
        let settings = &pipeline.pipeline.settings.trigger;
        let reconcile = pipeline.next_reconcile_at.is_some_and(|at| at <= now);
        let kind = if reconcile {
            RunTrigger::Reconciliation
        } else {
            RunTrigger::Poll
        };
        let next_poll = now + i64::from(settings.poll_every_minutes.max(1)) * 60_000;
        let next_reconcile = match &settings.daily_reconciliation_at {
            Some(at) if reconcile || pipeline.next_reconcile_at.is_none() => next_daily(at, now),
            Some(_) => pipeline.next_reconcile_at,
            None => None,
        };
        pipelines::schedule(db.pool(), pipeline.pipeline.id, Some(next_poll), next_reconcile).await?;
        trigger(db, queue, pipeline.pipeline.tenant_id, pipeline.pipeline.id, kind).await?;
    }
    Ok(due.len())
}

/// Runs `schedule_due` every `every` until `stop` says so.
pub fn spawn_scheduler(
    db: Db,
    queue: Queue,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = schedule_due(&db, &queue).await {
                        tracing::warn!(%error, "could not schedule due pipelines");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_times_are_the_next_occurrence() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .expect("time")
            .timestamp_millis();
        let later_today = next_daily("23:30", now).expect("valid");
        assert_eq!(later_today - now, (13 * 60 + 30) * 60_000);
        let tomorrow = next_daily("03:00", now).expect("valid");
        assert_eq!(tomorrow - now, 17 * 3_600_000);
        assert!(next_daily("25:00", now).is_none());
    }
}
