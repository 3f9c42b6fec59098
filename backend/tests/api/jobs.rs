//! The durable job queue: enqueue, claim and finish; retries with backoff until dead; rate-limit
//! waits that do not use up attempts; dedupe keys; leases that expire, heartbeats that keep them,
//! and old workers that cannot overwrite; two instances racing over one queue; round-robin
//! fairness over tenants; graceful stop; pruning.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem::jobs::retry::backoff_ceiling;
use tandem::jobs::{
    ClaimedJob, Enqueued, Finished, JobContext, JobError, JobHandler, JobId, JobKind, JobOutcome, JobStatus,
    ManualClock, NewJob, Priority, Queue, Registry, TypedHandler, Worker, WorkerConfig, run_pending_jobs,
};
use tandem::repo::{Db, new_id};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

use crate::db_tests;
use crate::helpers::{Backend, TestApp, spawn_app};

db_tests!(
    enqueue_claim_and_complete,
    retryable_errors_back_off_then_the_job_is_dead,
    retry_after_does_not_use_up_attempts,
    a_dedupe_key_keeps_one_pending_job,
    an_expired_lease_is_taken_over_and_the_old_worker_cannot_overwrite,
    two_instances_racing_over_500_jobs_run_each_exactly_once,
    a_tenant_backlog_does_not_delay_another_tenant,
    graceful_stop_leaves_no_job_running,
    a_heartbeat_keeps_a_long_job_and_a_lost_lease_stops_it,
    prune_deletes_old_finished_jobs_only,
);

// ---------------------------------------------------------------------------------------------
// Helpers

async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    let tenant = Tenant {
        id: TenantId(new_id()),
        slug: slug.to_string(),
        name: slug.to_string(),
        is_demo: false,
        created_at: chrono::Utc::now(),
    };
    tandem::repo::tenants::insert(app.db().pool(), &tenant).await.unwrap();
    tenant.id
}

/// A second connection pool on the same database: what another `tandem serve` would have.
async fn second_instance(app: &TestApp) -> Db {
    Db::connect(&SecretString::from(app.database.url.clone()), 5)
        .await
        .unwrap()
}

/// A handler whose answer is a closure of the context and payload.
struct Scripted<F> {
    kind: &'static str,
    answer: F,
}

#[async_trait]
impl<F> JobHandler for Scripted<F>
where
    F: Fn(&JobContext, Value) -> Result<JobOutcome, JobError> + Send + Sync + 'static,
{
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, ctx: &JobContext, payload: Value) -> Result<JobOutcome, JobError> {
        (self.answer)(ctx, payload)
    }
}

fn scripted<F>(kind: &'static str, answer: F) -> Scripted<F>
where
    F: Fn(&JobContext, Value) -> Result<JobOutcome, JobError> + Send + Sync + 'static,
{
    Scripted { kind, answer }
}

/// Sets its flag when dropped: tells whether a run was stopped (its future dropped).
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Sleeps for `run_for` (forever when `None`), counting starts and completions.
struct Slow {
    kind: &'static str,
    run_for: Option<Duration>,
    started: Arc<AtomicUsize>,
    completed: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Slow {
    fn new(kind: &'static str, run_for: Option<Duration>) -> Slow {
        Slow {
            kind,
            run_for,
            started: Arc::default(),
            completed: Arc::default(),
            dropped: Arc::default(),
        }
    }
}

#[async_trait]
impl JobHandler for Slow {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, _ctx: &JobContext, _payload: Value) -> Result<JobOutcome, JobError> {
        let flag = DropFlag(self.dropped.clone());
        self.started.fetch_add(1, Ordering::SeqCst);
        match self.run_for {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending::<()>().await,
        }
        self.completed.fetch_add(1, Ordering::SeqCst);
        std::mem::forget(flag);
        Ok(JobOutcome::Done)
    }
}

async fn count(queue: &Queue, status: JobStatus) -> i64 {
    queue
        .count_by_status()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| n)
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn claim(queue: &Queue, kinds: &[&str], owner: &str) -> Option<ClaimedJob> {
    queue.claim(kinds, owner, Duration::from_secs(30)).await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[derive(Serialize, Deserialize)]
struct Greet {
    name: String,
}

impl JobKind for Greet {
    const KIND: &'static str = "test_greet";
}

struct GreetHandler(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl TypedHandler<Greet> for GreetHandler {
    async fn run(&self, _ctx: &JobContext, job: Greet) -> Result<JobOutcome, JobError> {
        self.0.lock().unwrap().push(job.name);
        Ok(JobOutcome::Done)
    }
}

async fn enqueue_claim_and_complete(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let other = tenant(&app, "other").await;
    let clock = ManualClock::new();
    let queue = Queue::with_clock(app.db().clone(), clock.clone().into());

    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let greeted = Arc::new(Mutex::new(Vec::new()));
    let registry = Registry::new()
        .register(scripted("test_basic", move |ctx, payload| {
            recorder
                .lock()
                .unwrap()
                .push((ctx.job_id, ctx.tenant_id, ctx.attempt, ctx.max_attempts, payload));
            Ok(JobOutcome::Done)
        }))
        .register_typed(GreetHandler(greeted.clone()));

    let tenant_job = queue
        .enqueue(
            NewJob::new("test_basic", json!({ "pipeline": "p1" }))
                .tenant(acme)
                .max_attempts(3),
        )
        .await
        .unwrap();
    assert!(tenant_job.is_created());
    let system_job = queue
        .enqueue(NewJob::new("test_basic", json!(null)))
        .await
        .unwrap()
        .id();
    let later = queue
        .enqueue(
            NewJob::new("test_basic", json!("later"))
                .tenant(acme)
                .delay(Duration::from_secs(60)),
        )
        .await
        .unwrap()
        .id();
    queue
        .enqueue(NewJob::of(&Greet { name: "Ada".into() }).unwrap().tenant(acme))
        .await
        .unwrap();

    let stored = queue.get(Some(acme), tenant_job.id()).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Queued);
    assert_eq!(stored.kind, "test_basic");
    assert_eq!(stored.payload, json!({ "pipeline": "p1" }));
    assert_eq!((stored.attempts, stored.max_attempts), (0, 3));
    assert_eq!(stored.run_at, clock.now_ms());
    // Tenant isolation: another tenant, or the system scope, does not see it.
    assert!(queue.get(Some(other), tenant_job.id()).await.unwrap().is_none());
    assert!(queue.get(None, tenant_job.id()).await.unwrap().is_none());
    assert!(queue.get(None, system_job).await.unwrap().is_some());

    let report = run_pending_jobs(&queue, &registry).await.unwrap();
    assert_eq!(report.runs.len(), 3, "{report:?}");
    assert_eq!(report.count("succeeded"), 3);
    assert_eq!(*greeted.lock().unwrap(), ["Ada"]);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        let run = seen.iter().find(|r| r.0 == tenant_job.id()).unwrap();
        assert_eq!((run.1, run.2, run.3), (Some(acme), 1, 3));
        assert_eq!(run.4, json!({ "pipeline": "p1" }));
        assert!(seen.iter().any(|r| r.0 == system_job && r.1.is_none()));
    }

    let done = queue.get(Some(acme), tenant_job.id()).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 1);
    assert_eq!(done.finished_at, Some(clock.now_ms()));
    assert_eq!(done.lease_expires_at, None);
    assert_eq!(done.lease_owner.as_deref(), Some("run_pending_jobs"));
    assert_eq!(done.last_error, None);

    // The delayed job is not due yet; once it is, it runs.
    assert_eq!(
        queue.get(Some(acme), later).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert!(run_pending_jobs(&queue, &registry).await.unwrap().runs.is_empty());
    clock.advance(Duration::from_secs(60));
    let report = run_pending_jobs(&queue, &registry).await.unwrap();
    assert_eq!(report.runs.len(), 1);
    assert_eq!(report.runs[0].0, later);

    // Jobs of kinds this registry does not run are left for a worker that does.
    queue.enqueue(NewJob::new("test_unknown", json!({}))).await.unwrap();
    assert!(run_pending_jobs(&queue, &registry).await.unwrap().runs.is_empty());
    assert_eq!(count(&queue, JobStatus::Queued).await, 1);

    let metrics = app.state.metrics.render();
    assert!(
        metrics.contains(r#"jobs_claimed_total{kind="test_basic"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"jobs_finished_total{kind="test_greet",outcome="succeeded"}"#),
        "{metrics}"
    );
}

async fn retryable_errors_back_off_then_the_job_is_dead(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let clock = ManualClock::new();
    let queue = Queue::with_clock(app.db().clone(), clock.clone().into());
    let kinds = ["test_flaky"];

    let id = queue
        .enqueue(NewJob::new("test_flaky", json!({})).tenant(acme).max_attempts(4))
        .await
        .unwrap()
        .id();
    for attempt in 1..=4u32 {
        let job = claim(&queue, &kinds, "w1").await.expect("the job is due");
        assert_eq!((job.id, job.attempt, job.max_attempts), (id, attempt, 4));
        let now = clock.now_ms();
        let finished = queue
            .finish(
                &job,
                Err(JobError::retryable(format!("CRM timed out (attempt {attempt})"))),
            )
            .await
            .unwrap();
        let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, i64::from(attempt));
        assert_eq!(
            stored.last_error.as_deref(),
            Some(format!("CRM timed out (attempt {attempt})").as_str())
        );
        if attempt < 4 {
            let Finished::Retrying { run_at } = finished else {
                panic!("attempt {attempt}: {finished:?}");
            };
            // Full jitter: anywhere from now to the ceiling, which doubles each attempt.
            let wait = run_at - now;
            let ceiling = backoff_ceiling(attempt).as_millis() as i64;
            assert!((0..=ceiling).contains(&wait), "attempt {attempt}: waits {wait} ms");
            assert_eq!(ceiling, 1000_i64 << (attempt - 1));
            assert_eq!((stored.status, stored.run_at), (JobStatus::Queued, run_at));
            assert_eq!(stored.lease_expires_at, None);
            if wait > 0 {
                assert!(claim(&queue, &kinds, "w1").await.is_none(), "not before its time");
            }
            clock.set_ms(run_at);
        } else {
            assert_eq!(finished, Finished::Dead);
            assert_eq!(stored.status, JobStatus::Dead);
            assert_eq!(stored.finished_at, Some(now));
        }
    }
    clock.advance(Duration::from_secs(3600));
    assert!(claim(&queue, &kinds, "w1").await.is_none(), "a dead job stays dead");

    // A permanent error fails the job at once, with attempts to spare.
    let id = queue
        .enqueue(NewJob::new("test_flaky", json!({})).tenant(acme))
        .await
        .unwrap()
        .id();
    let job = claim(&queue, &kinds, "w1").await.unwrap();
    let finished = queue
        .finish(&job, Err(JobError::permanent("Email: invalid address")))
        .await
        .unwrap();
    assert_eq!(finished, Finished::Failed);
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.attempts), (JobStatus::Failed, 1));
    assert_eq!(stored.last_error.as_deref(), Some("Email: invalid address"));

    // Through `run_pending_jobs`, with a handler that panics: each run is a retryable failure,
    // the test moves the clock past each backoff, and the job ends dead after its attempts.
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let registry = Registry::new().register(scripted("test_panics", move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        panic!("index out of bounds");
    }));
    let id = queue
        .enqueue(NewJob::new("test_panics", json!({})).max_attempts(3))
        .await
        .unwrap()
        .id();
    for _ in 0..10 {
        run_pending_jobs(&queue, &registry).await.unwrap();
        clock.advance(Duration::from_secs(300));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let stored = queue.get(None, id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Dead);
    assert!(
        stored
            .last_error
            .as_deref()
            .unwrap()
            .contains("panicked: index out of bounds"),
        "{stored:?}"
    );
}

async fn retry_after_does_not_use_up_attempts(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let clock = ManualClock::new();
    let queue = Queue::with_clock(app.db().clone(), clock.clone().into());
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    // Rate limited three times, then through.
    let registry = Registry::new().register(scripted("test_limited", move |ctx, _| {
        assert_eq!(ctx.attempt, 1, "waiting never counts as an attempt");
        if counter.fetch_add(1, Ordering::SeqCst) < 3 {
            Ok(JobOutcome::RetryAfter(Duration::from_secs(30)))
        } else {
            Ok(JobOutcome::Done)
        }
    }));
    // One attempt only: a rate-limit wait must not use it up.
    let id = queue
        .enqueue(NewJob::new("test_limited", json!({})).tenant(acme).max_attempts(1))
        .await
        .unwrap()
        .id();
    for wait in 1..=3 {
        let report = run_pending_jobs(&queue, &registry).await.unwrap();
        assert_eq!(report.runs.len(), 1, "wait {wait}");
        let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
        assert_eq!(stored.status, JobStatus::Queued);
        assert_eq!(stored.attempts, 0);
        assert_eq!(stored.run_at, clock.now_ms() + 30_000);
        assert_eq!(
            report.runs[0].2,
            Finished::Rescheduled {
                run_at: clock.now_ms() + 30_000
            }
        );
        // Not before the wait is over.
        clock.advance(Duration::from_secs(29));
        assert!(run_pending_jobs(&queue, &registry).await.unwrap().runs.is_empty());
        clock.advance(Duration::from_secs(1));
    }
    let report = run_pending_jobs(&queue, &registry).await.unwrap();
    assert_eq!(report.count("succeeded"), 1);
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.attempts), (JobStatus::Succeeded, 1));
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

async fn a_dedupe_key_keeps_one_pending_job(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let other = tenant(&app, "other").await;
    let queue = Queue::new(app.db().clone());
    let poll = |tenant: TenantId| NewJob::new("test_poll", json!({})).tenant(tenant).dedupe_key("poll:p1");

    let first = queue.enqueue(poll(acme)).await.unwrap();
    assert!(first.is_created());
    assert_eq!(
        queue.enqueue(poll(acme)).await.unwrap(),
        Enqueued::Duplicate(first.id())
    );
    // The key belongs to a tenant and a kind.
    assert!(queue.enqueue(poll(other)).await.unwrap().is_created());
    assert!(
        queue
            .enqueue(NewJob::new("test_push", json!({})).tenant(acme).dedupe_key("poll:p1"))
            .await
            .unwrap()
            .is_created()
    );
    assert!(
        queue
            .enqueue(NewJob::new("test_poll", json!({})).dedupe_key("poll:p1"))
            .await
            .unwrap()
            .is_created(),
        "system jobs have a scope of their own"
    );
    // Jobs without a key are never duplicates.
    for _ in 0..2 {
        assert!(
            queue
                .enqueue(NewJob::new("test_poll", json!({})).tenant(acme))
                .await
                .unwrap()
                .is_created()
        );
    }

    // Within a batch, too.
    let batch = queue
        .enqueue_batch(vec![
            NewJob::new("test_poll", json!({})).tenant(acme).dedupe_key("poll:p2"),
            NewJob::new("test_poll", json!({})).tenant(acme).dedupe_key("poll:p2"),
        ])
        .await
        .unwrap();
    assert!(batch[0].is_created());
    assert_eq!(batch[1], Enqueued::Duplicate(batch[0].id()));

    // While the job runs, it is still pending: no second run of the same logical job.
    let job = loop {
        let job = claim(&queue, &["test_poll"], "w1").await.unwrap();
        if job.id == first.id() {
            break job;
        }
        queue.finish(&job, Ok(JobOutcome::Done)).await.unwrap();
    };
    assert_eq!(
        queue.enqueue(poll(acme)).await.unwrap(),
        Enqueued::Duplicate(first.id())
    );
    // Back in the queue for a retry: still the same job.
    assert!(matches!(
        queue.finish(&job, Err(JobError::retryable("timeout"))).await.unwrap(),
        Finished::Retrying { .. }
    ));
    assert_eq!(
        queue.enqueue(poll(acme)).await.unwrap(),
        Enqueued::Duplicate(first.id())
    );
    // Once it is finished (here: cancelled), the key is free again.
    assert!(queue.cancel(Some(acme), first.id()).await.unwrap());
    let next = queue.enqueue(poll(acme)).await.unwrap();
    assert!(next.is_created());
    assert_ne!(next.id(), first.id());
}

async fn an_expired_lease_is_taken_over_and_the_old_worker_cannot_overwrite(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let clock = ManualClock::new();
    let queue = Queue::with_clock(app.db().clone(), clock.clone().into());
    let kinds = ["test_sync"];
    let id = queue
        .enqueue(NewJob::new("test_sync", json!({})).tenant(acme))
        .await
        .unwrap()
        .id();

    // Worker 1 claims the job and is killed (it never heartbeats or finishes).
    let first = claim(&queue, &kinds, "worker-1").await.unwrap();
    assert_eq!(first.id, id);
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert_eq!(stored.lease_owner.as_deref(), Some("worker-1"));
    assert_eq!(stored.lease_expires_at, Some(clock.now_ms() + 30_000));

    // While the lease holds, nobody else gets the job.
    clock.advance(Duration::from_secs(29));
    assert!(claim(&queue, &kinds, "worker-2").await.is_none());

    // Once it expires, the next claim takes it back and hands it out again.
    clock.advance(Duration::from_secs(2));
    let second = claim(&queue, &kinds, "worker-2")
        .await
        .expect("the expired job is reclaimed");
    assert_eq!((second.id, second.attempt), (id, 2));
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert_eq!(stored.lease_owner.as_deref(), Some("worker-2"));
    let error = stored.last_error.unwrap();
    assert!(error.contains("lease expired") && error.contains("worker-1"), "{error}");

    // Worker 1 comes back to life: its heartbeat and its result are refused.
    assert!(!queue.heartbeat(&first, Duration::from_secs(30)).await.unwrap());
    assert_eq!(
        queue.finish(&first, Err(JobError::permanent("stale"))).await.unwrap(),
        Finished::LeaseLost
    );
    assert_eq!(queue.release(&first).await.unwrap(), Finished::LeaseLost);
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.lease_owner.as_deref()),
        (JobStatus::Running, Some("worker-2"))
    );
    // Worker 2's result counts.
    assert!(queue.heartbeat(&second, Duration::from_secs(30)).await.unwrap());
    assert_eq!(
        queue.finish(&second, Ok(JobOutcome::Done)).await.unwrap(),
        Finished::Succeeded
    );
    assert_eq!(
        queue.get(Some(acme), id).await.unwrap().unwrap().status,
        JobStatus::Succeeded
    );

    // A job that keeps killing its worker is dead once its attempts are used up.
    let id = queue
        .enqueue(NewJob::new("test_sync", json!({})).tenant(acme).max_attempts(2))
        .await
        .unwrap()
        .id();
    for attempt in 1..=2 {
        let job = claim(&queue, &kinds, "doomed").await.unwrap();
        assert_eq!((job.id, job.attempt), (id, attempt));
        clock.advance(Duration::from_secs(31));
    }
    assert!(claim(&queue, &kinds, "doomed").await.is_none());
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Dead);
    assert!(stored.last_error.unwrap().contains("lease expired"));
}

/// Records every run by job id.
struct Tally {
    kind: &'static str,
    runs: Arc<Mutex<HashMap<JobId, u32>>>,
    by_this_worker: Arc<AtomicUsize>,
}

#[async_trait]
impl JobHandler for Tally {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn run(&self, ctx: &JobContext, _payload: Value) -> Result<JobOutcome, JobError> {
        *self.runs.lock().unwrap().entry(ctx.job_id).or_default() += 1;
        self.by_this_worker.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(JobOutcome::Done)
    }
}

async fn two_instances_racing_over_500_jobs_run_each_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut tenants = Vec::new();
    for n in 0..5 {
        tenants.push(tenant(&app, &format!("tenant-{n}")).await);
    }
    // Two instances: two pools on one database, each with its own queue and worker pool.
    let queues = [
        Queue::new(second_instance(&app).await),
        Queue::new(second_instance(&app).await),
    ];
    let jobs: Vec<NewJob> = (0..500)
        .map(|n| NewJob::new("test_race", json!({ "n": n })).tenant(tenants[n % 5]))
        .collect();
    let ids: Vec<JobId> = queues[0]
        .enqueue_batch(jobs)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id())
        .collect();

    let runs = Arc::new(Mutex::new(HashMap::new()));
    let per_worker = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let workers: Vec<Worker> = (0..2)
        .map(|n| {
            let registry = Registry::new().register(Tally {
                kind: "test_race",
                runs: runs.clone(),
                by_this_worker: per_worker[n].clone(),
            });
            let config = WorkerConfig {
                id: format!("instance-{n}"),
                concurrency: 4,
                poll_interval: Duration::from_millis(10),
                ..WorkerConfig::default()
            };
            Worker::start(queues[n].clone(), registry, config)
        })
        .collect();

    let queue = &queues[0];
    wait_for("500 jobs to succeed", Duration::from_secs(120), async || {
        count(queue, JobStatus::Succeeded).await == 500
    })
    .await;
    for worker in workers {
        worker.stop(Duration::from_secs(10)).await;
    }

    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 500, "every job ran");
    assert!(ids.iter().all(|id| runs.get(id) == Some(&1)), "no job ran twice");
    assert_eq!(queue.count_by_status().await.unwrap(), [(JobStatus::Succeeded, 500)]);
    let (a, b) = (
        per_worker[0].load(Ordering::SeqCst),
        per_worker[1].load(Ordering::SeqCst),
    );
    assert_eq!(a + b, 500);
    assert!(a > 0 && b > 0, "both instances took part: {a} and {b}");
}

async fn a_tenant_backlog_does_not_delay_another_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = tenant(&app, "big").await;
    let b = tenant(&app, "small").await;
    let c = tenant(&app, "late").await;
    let queue = Queue::new(app.db().clone());
    let kinds = ["test_page"];

    // Tenant A's initial load: a thousand page jobs. Then tenant B's small sync: three.
    let backlog: Vec<NewJob> = (0..1000)
        .map(|page| {
            NewJob::new("test_page", json!({ "page": page }))
                .tenant(a)
                .priority(Priority::BACKFILL)
        })
        .collect();
    let a_ids: Vec<JobId> = queue
        .enqueue_batch(backlog)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id())
        .collect();
    for page in 0..3 {
        queue
            .enqueue(NewJob::new("test_page", json!({ "page": page })).tenant(b))
            .await
            .unwrap();
    }

    let mut order = Vec::new();
    let next = async || {
        let job = claim(&queue, &kinds, "w").await.unwrap();
        queue.finish(&job, Ok(JobOutcome::Done)).await.unwrap();
        (job.tenant_id, job.id)
    };
    for _ in 0..6 {
        order.push(next().await);
    }
    let tenants: Vec<Option<TenantId>> = order.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        tenants.iter().filter(|t| **t == Some(b)).count(),
        3,
        "B's three jobs ran within the first six claims, alternating with A: {tenants:?}"
    );
    assert!(tenants.windows(2).all(|w| w[0] != w[1]), "{tenants:?}");
    // A's own jobs come out in order.
    let a_done: Vec<JobId> = order.iter().filter(|(t, _)| *t == Some(a)).map(|(_, id)| *id).collect();
    assert_eq!(a_done, a_ids[..3]);

    // With only A left, A runs back to back; a tenant that arrives later is served next.
    for _ in 0..10 {
        assert_eq!(next().await.0, Some(a));
    }
    let late = queue
        .enqueue(NewJob::new("test_page", json!({})).tenant(c))
        .await
        .unwrap()
        .id();
    assert_eq!(next().await, (Some(c), late));
    // System jobs take their turn like a tenant's.
    let system = queue.enqueue(NewJob::new("test_page", json!({}))).await.unwrap().id();
    assert_eq!(next().await, (None, system));

    // Within a tenant, real-time work goes before backfill.
    let urgent = queue
        .enqueue(
            NewJob::new("test_page", json!({ "webhook": true }))
                .tenant(a)
                .priority(Priority::REALTIME),
        )
        .await
        .unwrap()
        .id();
    assert_eq!(next().await, (Some(a), urgent));
}

async fn graceful_stop_leaves_no_job_running(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let queue = Queue::new(app.db().clone());
    let config = WorkerConfig {
        concurrency: 2,
        poll_interval: Duration::from_millis(10),
        ..WorkerConfig::default()
    };

    // Jobs in flight when the stop comes finish; the others stay queued.
    let slow = Slow::new("test_slow", Some(Duration::from_millis(400)));
    let completed = slow.completed.clone();
    let jobs: Vec<NewJob> = (0..6)
        .map(|_| NewJob::new("test_slow", json!({})).tenant(acme))
        .collect();
    queue.enqueue_batch(jobs).await.unwrap();
    let worker = Worker::start(queue.clone(), Registry::new().register(slow), config.clone());
    wait_for("two running jobs", Duration::from_secs(10), async || {
        count(&queue, JobStatus::Running).await == 2
    })
    .await;
    worker.stop(Duration::from_secs(10)).await;
    assert_eq!(count(&queue, JobStatus::Running).await, 0);
    let succeeded = count(&queue, JobStatus::Succeeded).await;
    assert_eq!(succeeded, completed.load(Ordering::SeqCst) as i64);
    assert!(succeeded >= 2, "the jobs in flight finished");
    assert_eq!(succeeded + count(&queue, JobStatus::Queued).await, 6);

    // Jobs that outlast the grace period are stopped and given back, their attempt not counted.
    let stuck = Slow::new("test_stuck", None);
    let (started, dropped) = (stuck.started.clone(), stuck.dropped.clone());
    let ids: Vec<JobId> = queue
        .enqueue_batch(
            (0..2)
                .map(|_| NewJob::new("test_stuck", json!({})).tenant(acme))
                .collect(),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id())
        .collect();
    let worker = Worker::start(queue.clone(), Registry::new().register(stuck), config);
    wait_for("two stuck jobs", Duration::from_secs(10), async || {
        started.load(Ordering::SeqCst) == 2
    })
    .await;
    worker.stop(Duration::from_millis(200)).await;
    assert!(dropped.load(Ordering::SeqCst), "the runs were stopped");
    assert_eq!(count(&queue, JobStatus::Running).await, 0);
    for id in ids {
        let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.attempts), (JobStatus::Queued, 0), "{stored:?}");
        assert_eq!(stored.lease_expires_at, None);
    }
}

async fn a_heartbeat_keeps_a_long_job_and_a_lost_lease_stops_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let queue = Queue::new(app.db().clone());
    let rival = Queue::new(second_instance(&app).await);
    let config = WorkerConfig {
        id: "holder".into(),
        concurrency: 1,
        lease: Duration::from_secs(1),
        heartbeat: Duration::from_millis(200),
        poll_interval: Duration::from_millis(10),
        stats_interval: None,
    };

    // A run three times longer than the lease: the heartbeat keeps it, nobody else claims it.
    let slow = Slow::new("test_long", Some(Duration::from_secs(3)));
    let (started, completed) = (slow.started.clone(), slow.completed.clone());
    let id = queue
        .enqueue(NewJob::new("test_long", json!({})).tenant(acme))
        .await
        .unwrap()
        .id();
    let worker = Worker::start(queue.clone(), Registry::new().register(slow), config.clone());
    wait_for("the run to start", Duration::from_secs(10), async || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    let first_expiry = queue
        .get(Some(acme), id)
        .await
        .unwrap()
        .unwrap()
        .lease_expires_at
        .unwrap();
    let mut last_expiry = first_expiry;
    while completed.load(Ordering::SeqCst) == 0 {
        // Another instance keeps trying; it must never get the job.
        assert!(claim(&rival, &["test_long"], "rival").await.is_none());
        let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
        if stored.status == JobStatus::Running {
            assert_eq!(stored.lease_owner.as_deref(), Some("holder"));
            last_expiry = stored.lease_expires_at.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(last_expiry >= first_expiry + 1500, "the lease moved forward");
    wait_for("the job to succeed", Duration::from_secs(10), async || {
        queue.get(Some(acme), id).await.unwrap().unwrap().status == JobStatus::Succeeded
    })
    .await;
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(stored.attempts, 1);
    assert_eq!(started.load(Ordering::SeqCst), 1);
    worker.stop(Duration::from_secs(5)).await;

    // A worker that loses its lease (here: it expired and another instance took the job) finds
    // out at its next heartbeat, stops the run and records nothing.
    let stuck = Slow::new("test_lost", None);
    let (started, dropped) = (stuck.started.clone(), stuck.dropped.clone());
    let id = queue
        .enqueue(NewJob::new("test_lost", json!({})).tenant(acme))
        .await
        .unwrap()
        .id();
    let worker = Worker::start(queue.clone(), Registry::new().register(stuck), config);
    wait_for("the run to start", Duration::from_secs(10), async || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    // Expire the lease (the holder's heartbeat may renew it in between: then try again).
    let mut taken = None;
    for _ in 0..20 {
        sqlx::query("UPDATE jobs SET lease_expires_at = 0 WHERE id = $1")
            .bind(id.to_string())
            .execute(app.db().pool())
            .await
            .unwrap();
        taken = claim(&rival, &["test_lost"], "rival").await;
        if taken.is_some() {
            break;
        }
    }
    let taken = taken.expect("the expired job is taken over");
    assert_eq!(taken.id, id);
    wait_for("the old run to stop", Duration::from_secs(10), async || {
        dropped.load(Ordering::SeqCst)
    })
    .await;
    let stored = queue.get(Some(acme), id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.lease_owner.as_deref()),
        (JobStatus::Running, Some("rival"))
    );
    assert_eq!(
        rival.finish(&taken, Ok(JobOutcome::Done)).await.unwrap(),
        Finished::Succeeded
    );
    worker.stop(Duration::from_secs(5)).await;
    assert_eq!(count(&queue, JobStatus::Running).await, 0);
}

async fn prune_deletes_old_finished_jobs_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = tenant(&app, "acme").await;
    let other = tenant(&app, "other").await;
    let clock = ManualClock::new();
    let queue = Queue::with_clock(app.db().clone(), clock.clone().into());
    let registry = Registry::new().register(scripted("test_prune", |_, payload| match payload["answer"].as_str() {
        Some("fail") => Err(JobError::permanent("no")),
        _ => Ok(JobOutcome::Done),
    }));
    let job = |answer: &str| NewJob::new("test_prune", json!({ "answer": answer })).tenant(acme);

    // Eight days ago: one succeeded, one failed, one cancelled.
    let old_ok = queue.enqueue(job("ok")).await.unwrap().id();
    let old_failed = queue.enqueue(job("fail")).await.unwrap().id();
    run_pending_jobs(&queue, &registry).await.unwrap();
    let old_cancelled = queue
        .enqueue(job("ok").delay(Duration::from_secs(3600)))
        .await
        .unwrap()
        .id();
    assert!(
        !queue.cancel(Some(other), old_cancelled).await.unwrap(),
        "another tenant's job"
    );
    assert!(queue.cancel(Some(acme), old_cancelled).await.unwrap());
    assert!(
        !queue.cancel(Some(acme), old_cancelled).await.unwrap(),
        "already cancelled"
    );
    // Still pending, however old: one queued for later, one running.
    let queued = queue
        .enqueue(job("ok").delay(Duration::from_secs(30 * 86_400)))
        .await
        .unwrap()
        .id();
    let running = queue.enqueue(job("ok")).await.unwrap().id();
    let held = claim(&queue, &["test_prune"], "w").await.unwrap();
    assert_eq!(held.id, running);
    assert!(
        !queue.cancel(Some(acme), running).await.unwrap(),
        "a running job is not cancelled"
    );

    clock.advance(Duration::from_secs(8 * 86_400));
    queue.heartbeat(&held, Duration::from_secs(30 * 86_400)).await.unwrap();
    // Yesterday: one more success.
    let recent = queue.enqueue(job("ok")).await.unwrap().id();
    run_pending_jobs(&queue, &registry).await.unwrap();
    clock.advance(Duration::from_secs(86_400));

    assert_eq!(queue.prune(Duration::from_secs(7 * 86_400)).await.unwrap(), 3);
    for gone in [old_ok, old_failed, old_cancelled] {
        assert!(queue.get(Some(acme), gone).await.unwrap().is_none());
    }
    for kept in [queued, running, recent] {
        assert!(queue.get(Some(acme), kept).await.unwrap().is_some());
    }
    assert_eq!(queue.prune(Duration::from_secs(7 * 86_400)).await.unwrap(), 0);
}
