//! The worker pool: claims jobs while it has free slots, runs each under a lease that a heartbeat
//! extends, records the outcome, and stops gracefully.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use super::handler::{JobContext, JobError, JobOutcome, Registry, join_error, spawn_run};
use super::metrics;
use super::queue::{ClaimedJob, Finished, Queue, QueueError};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Written into the jobs it holds (`lease_owner`); unique per worker.
    pub id: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a claim lasts without a heartbeat. A worker killed mid-job holds it this long.
    pub lease: Duration,
    /// How often a running job's lease is extended; well under `lease`.
    pub heartbeat: Duration,
    /// How long an idle worker waits before looking for work again (enqueues in this process
    /// wake it sooner).
    pub poll_interval: Duration,
    /// How often to refresh the `jobs_queued` gauge; `None`: never.
    pub stats_interval: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            id: default_worker_id(),
            concurrency: 4,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
            stats_interval: Some(Duration::from_secs(30)),
        }
    }
}

/// `host:pid:random`, so that a job's `lease_owner` says which process holds it.
pub fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tandem".to_string());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

/// A running worker pool. `stop` it to shut down; dropping it stops claiming but lets the jobs in
/// flight finish in the background.
pub struct Worker {
    id: String,
    stop: watch::Sender<bool>,
    abort: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts claiming jobs of the registry's kinds.
    pub fn start(queue: Queue, registry: Registry, config: WorkerConfig) -> Worker {
        metrics::describe();
        let (stop, stop_rx) = watch::channel(false);
        let (abort, abort_rx) = watch::channel(false);
        let id = config.id.clone();
        let span = tracing::info_span!("job_worker", worker.id = %id);
        let task =
            tokio::spawn(claim_loop(queue, Arc::new(registry), Arc::new(config), stop_rx, abort_rx).instrument(span));
        Worker { id, stop, abort, task }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stops claiming and waits up to `grace` for the jobs in flight to finish. Jobs still
    /// running after that are interrupted and given back to the queue (queued, the attempt not
    /// counted), so that no job is left running with nobody behind its lease.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!(worker.id = %self.id, "jobs still running after the grace period: giving them back");
            let _ = self.abort.send(true);
            let _ = task.await;
        }
        tracing::info!(worker.id = %self.id, "job worker stopped");
    }
}

/// Resolves once the flag is set, or its sender is gone when `gone_means_set`.
async fn flag_set(flag: &mut watch::Receiver<bool>, gone_means_set: bool) {
    if flag.wait_for(|set| *set).await.is_err() && !gone_means_set {
        std::future::pending::<()>().await;
    }
}

async fn claim_loop(
    queue: Queue,
    registry: Arc<Registry>,
    config: Arc<WorkerConfig>,
    mut stop: watch::Receiver<bool>,
    abort: watch::Receiver<bool>,
) {
    let kinds = registry.kinds();
    tracing::info!(kinds = ?kinds, concurrency = config.concurrency, "job worker started");
    if config.heartbeat >= config.lease {
        tracing::warn!(lease = ?config.lease, heartbeat = ?config.heartbeat,
            "the heartbeat is not shorter than the lease: long jobs will lose their lease");
    }
    let stats = config.stats_interval.map(|every| {
        let (queue, kinds, mut stop) = (queue.clone(), kinds.clone(), stop.clone());
        tokio::spawn(
            async move {
                loop {
                    update_queued_gauge(&queue, &kinds).await;
                    tokio::select! {
                        () = flag_set(&mut stop, true) => break,
                        () = tokio::time::sleep(every) => {}
                    }
                }
            }
            .in_current_span(),
        )
    });
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let permit = tokio::select! {
            biased;
            () = flag_set(&mut stop, true) => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        match queue.claim(&kinds, &config.id, config.lease).await {
            Ok(Some(job)) => {
                running.spawn(execute(
                    queue.clone(),
                    registry.clone(),
                    config.clone(),
                    job,
                    stop.clone(),
                    abort.clone(),
                    permit,
                ));
                continue;
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "claiming a job failed"),
        }
        drop(permit);
        tokio::select! {
            () = flag_set(&mut stop, true) => break,
            () = tokio::time::sleep(config.poll_interval) => {}
            () = queue.wake().notified() => {}
        }
    }
    while running.join_next().await.is_some() {}
    if let Some(stats) = stats {
        let _ = stats.await;
    }
}

async fn update_queued_gauge(queue: &Queue, kinds: &[&'static str]) {
    match queue.queued_by_kind().await {
        Ok(counts) => {
            for kind in kinds {
                if !counts.iter().any(|(k, _)| k == kind) {
                    ::metrics::gauge!(metrics::JOBS_QUEUED, "kind" => *kind).set(0.0);
                }
            }
            for (kind, count) in counts {
                ::metrics::gauge!(metrics::JOBS_QUEUED, "kind" => kind).set(count as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "counting queued jobs failed"),
    }
}

enum Ended {
    Returned(Result<JobOutcome, JobError>),
    LeaseLost,
    Interrupted,
}

async fn execute(
    queue: Queue,
    registry: Arc<Registry>,
    config: Arc<WorkerConfig>,
    job: ClaimedJob,
    stopping: watch::Receiver<bool>,
    mut abort: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let span = super::job_span(&job);
    async move {
        let Some(handler) = registry.get(&job.kind) else {
            // Cannot happen: only registered kinds are claimed.
            let _ = queue.release(&job).await;
            return;
        };
        let started = Instant::now();
        let ctx = JobContext::new(&job, queue.clone(), stopping);
        let mut run = spawn_run(handler, ctx, job.payload.clone());

        // The lease runs from the claim, just before this.
        let mut lease_until = started + config.lease;
        let mut heartbeat = tokio::time::interval_at(started + config.heartbeat, config.heartbeat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let ended = loop {
            tokio::select! {
                joined = &mut run => break Ended::Returned(joined.unwrap_or_else(|e| Err(join_error(e)))),
                _ = heartbeat.tick() => {
                    let sent = Instant::now();
                    match queue.heartbeat(&job, config.lease).await {
                        Ok(true) => lease_until = sent + config.lease,
                        Ok(false) => break Ended::LeaseLost,
                        Err(error) => {
                            tracing::warn!(%error, "extending the lease failed");
                            if Instant::now() >= lease_until {
                                break Ended::LeaseLost;
                            }
                        }
                    }
                }
                () = flag_set(&mut abort, false) => break Ended::Interrupted,
            }
        };
        if !matches!(ended, Ended::Returned(_)) {
            // Stop the run before anyone else may start it again.
            run.abort();
            let _ = run.await;
        }

        let finished = match ended {
            Ended::Returned(result) => {
                if let Err(error) = &result {
                    tracing::info!(%error, "job run returned an error");
                }
                let attempt = || queue.finish(&job, result.clone());
                attempt
                    .retry(
                        ExponentialBuilder::default()
                            .with_min_delay(Duration::from_millis(200))
                            .with_max_times(3)
                            .with_jitter(),
                    )
                    .when(QueueError::is_transient)
                    .await
            }
            Ended::LeaseLost => {
                let finished = Finished::LeaseLost;
                queue.count_finished(&job, &finished);
                Ok(finished)
            }
            Ended::Interrupted => queue.release(&job).await,
        };
        let elapsed = started.elapsed();
        ::metrics::histogram!(metrics::JOB_DURATION, "kind" => job.kind.clone()).record(elapsed.as_secs_f64());
        match finished {
            Ok(Finished::LeaseLost) => {
                tracing::warn!(
                    duration_ms = elapsed.as_millis() as u64,
                    "job lease lost: the run was stopped and its result dropped"
                );
            }
            Ok(finished) => {
                tracing::info!(
                    outcome = finished.label(),
                    duration_ms = elapsed.as_millis() as u64,
                    "job finished"
                );
            }
            Err(error) => {
                // The job stays running until its lease expires; then it is taken back and runs again.
                tracing::error!(%error, "recording a job's outcome failed");
            }
        }
    }
    .instrument(span)
    .await
}
