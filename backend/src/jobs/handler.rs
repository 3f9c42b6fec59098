//! What a job does: handlers, registered by kind, and what they may answer.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tandem_shared::ids::TenantId;
use tokio::sync::watch;

use super::queue::{ClaimedJob, Queue};
use crate::repo::RepoError;
use crate::repo::jobs::JobId;

/// How a run ended well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// The job is done.
    Done,
    /// Not now: run again after this long. The attempt does not count (rate limited, quota
    /// window, a resource busy); this is waiting, not failing.
    RetryAfter(Duration),
}

/// How a run ended badly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Might work next time (timeout, 5xx, connection): retried with backoff while attempts
    /// remain, then the job is dead.
    #[error("{0}")]
    Retryable(String),
    /// Will not work next time (invalid payload, validation): the job fails at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn retryable(error: impl std::fmt::Display) -> JobError {
        JobError::Retryable(error.to_string())
    }

    pub fn permanent(error: impl std::fmt::Display) -> JobError {
        JobError::Permanent(error.to_string())
    }
}

/// A database error inside a handler is worth another attempt.
impl From<RepoError> for JobError {
    fn from(error: RepoError) -> JobError {
        JobError::Retryable(format!("database: {error}"))
    }
}

/// Runs the jobs of one kind. The handler holds what it needs (services, connectors); the
/// context says which job this is.
///
/// A run may be interrupted at any await point (its worker died, or lost its lease, or was told
/// to stop and the grace period ran out) and run again from the start, possibly on another
/// instance: effects must be idempotent.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    async fn run(&self, ctx: &JobContext, payload: Value) -> Result<JobOutcome, JobError>;
}

/// What a handler knows about the run.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub job_id: JobId,
    /// `None` for system jobs.
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    /// 1 on the first attempt. Runs that answered `RetryAfter` are not counted.
    pub attempt: u32,
    pub max_attempts: u32,
    /// To enqueue follow-up work (the next page of a load, for example).
    pub queue: Queue,
    stopping: watch::Receiver<bool>,
}

impl JobContext {
    pub(crate) fn new(job: &ClaimedJob, queue: Queue, stopping: watch::Receiver<bool>) -> JobContext {
        JobContext {
            job_id: job.id,
            tenant_id: job.tenant_id,
            kind: job.kind.clone(),
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            queue,
            stopping,
        }
    }

    /// Whether a retryable error now makes the job dead.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    /// Whether the worker is shutting down. A long handler can check this between pages and
    /// answer `RetryAfter(Duration::ZERO)` to hand the rest to the next worker.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}

/// A job payload with a kind of its own: `NewJob::of(&payload)` to enqueue it, and a
/// `TypedHandler` (registered with `Registry::register_typed`) to run it.
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: &'static str;
}

/// A handler that receives its payload parsed. A payload that does not parse fails the job
/// (permanently: parsing again would not help).
#[async_trait]
pub trait TypedHandler<J: JobKind>: Send + Sync + 'static {
    async fn run(&self, ctx: &JobContext, job: J) -> Result<JobOutcome, JobError>;
}

struct Typed<J, H> {
    handler: H,
    payload: PhantomData<fn() -> J>,
}

#[async_trait]
impl<J: JobKind, H: TypedHandler<J>> JobHandler for Typed<J, H> {
    fn kind(&self) -> &'static str {
        J::KIND
    }

    async fn run(&self, ctx: &JobContext, payload: Value) -> Result<JobOutcome, JobError> {
        let job: J = serde_json::from_value(payload)
            .map_err(|e| JobError::Permanent(format!("the payload is not a valid {} job: {e}", J::KIND)))?;
        self.handler.run(ctx, job).await
    }
}

/// The handlers a worker runs, by kind. A worker claims only jobs of the kinds it has, so
/// instances running different versions can share one queue.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a handler. Two handlers for one kind is a wiring mistake: it panics.
    pub fn register(mut self, handler: impl JobHandler) -> Registry {
        let kind = handler.kind();
        assert!(!kind.is_empty(), "a job kind cannot be empty");
        let previous = self.handlers.insert(kind, Arc::new(handler));
        assert!(previous.is_none(), "two handlers are registered for job kind {kind:?}");
        self
    }

    pub fn register_typed<J: JobKind>(self, handler: impl TypedHandler<J>) -> Registry {
        self.register(Typed {
            handler,
            payload: PhantomData::<fn() -> J>,
        })
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("kinds", &self.kinds()).finish()
    }
}

/// Runs a handler in a task of its own, so that a panic becomes a retryable error instead of
/// taking the worker down, and so that the worker can abort the run.
pub(crate) fn spawn_run(
    handler: Arc<dyn JobHandler>,
    ctx: JobContext,
    payload: Value,
) -> tokio::task::JoinHandle<Result<JobOutcome, JobError>> {
    use tracing::Instrument;
    tokio::spawn(async move { handler.run(&ctx, payload).await }.in_current_span())
}

/// What a handler task that did not return means for its job.
pub(crate) fn join_error(error: tokio::task::JoinError) -> JobError {
    if error.is_panic() {
        let panic = error.into_panic();
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic".to_string());
        JobError::Retryable(format!("the handler panicked: {message}"))
    } else {
        JobError::Retryable("the handler was cancelled".to_string())
    }
}
