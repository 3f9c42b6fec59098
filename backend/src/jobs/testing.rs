//! Running jobs on demand in tests, without workers and without sleeping (in the manner of
//! crates.io's `run_pending_background_jobs()`).

use std::time::Duration;

use tokio::sync::watch;

use super::handler::{JobContext, Registry, join_error, spawn_run};
use super::queue::{Finished, Queue, QueueError};
use crate::repo::jobs::JobId;

/// More runs than this in one call means a job keeps rescheduling itself to run at once.
const MAX_RUNS: usize = 100_000;

/// What `run_pending_jobs` ran, in order.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub runs: Vec<(JobId, String, Finished)>,
}

impl RunReport {
    /// How many runs ended with this outcome label (`Finished::label`).
    pub fn count(&self, outcome: &str) -> usize {
        self.runs.iter().filter(|(_, _, f)| f.label() == outcome).count()
    }
}

/// Claims and runs due jobs of the registry's kinds one at a time, in claim order, until none is
/// due (by the queue's clock). Jobs rescheduled into the future (backoff, `RetryAfter`) are left
/// for a later call, after the test has moved its clock. A handler that panics counts as a
/// retryable error, as in a worker.
pub async fn run_pending_jobs(queue: &Queue, registry: &Registry) -> Result<RunReport, QueueError> {
    let kinds = registry.kinds();
    let (_stop, stopping) = watch::channel(false);
    let mut report = RunReport::default();
    for _ in 0..MAX_RUNS {
        let Some(job) = queue
            .claim(&kinds, "run_pending_jobs", Duration::from_secs(3600))
            .await?
        else {
            return Ok(report);
        };
        let Some(handler) = registry.get(&job.kind) else {
            unreachable!("only registered kinds are claimed");
        };
        let ctx = JobContext::new(&job, queue.clone(), stopping.clone());
        let run = {
            let _span = super::job_span(&job).entered();
            spawn_run(handler, ctx, job.payload.clone())
        };
        let result = run.await.unwrap_or_else(|e| Err(join_error(e)));
        let finished = queue.finish(&job, result).await?;
        report.runs.push((job.id, job.kind, finished));
    }
    panic!("run_pending_jobs ran {MAX_RUNS} jobs: does a handler keep answering RetryAfter(Duration::ZERO)?");
}
