//! Every call to a CRM, logged and counted: method, path (a template when the path carries a
//! token; never the query), status and duration.
//!
//! A caller that wants more (the sync engine) runs connector calls inside a [`CallScope`]: each
//! request then first waits for the scope's [`Admission`] (the connection's rate limiter and
//! daily quota), and is appended to the scope's list with the attempt number the caller set.
//! The scope travels as a task-local, so connectors stay free of databases and tenants.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;

use super::ConnectorError;

/// Which of a CRM's limits a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Standard,
    /// The CRM's search API, where it has a lower limit of its own (HubSpot).
    Search,
}

/// Decides when a request may go out.
#[async_trait]
pub trait Admission: Send + Sync {
    /// Waits for a slot; a `RateLimited` error when none will come soon (the daily quota is
    /// spent), so the caller can wait outside.
    async fn admit(&self, kind: CallKind) -> Result<(), ConnectorError>;
}

/// One request, as a [`CallScope`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub duration: Duration,
    pub attempt: u32,
    pub at_ms: i64,
}

/// Collects the requests made inside it (see the module documentation). Clones share the list;
/// each keeps its own attempt number, so that calls made at once record their own.
#[derive(Clone, Default)]
pub struct CallScope {
    admission: Option<Arc<dyn Admission>>,
    calls: Arc<Mutex<Vec<CallRecord>>>,
    attempt: u32,
}

tokio::task_local! {
    static SCOPE: CallScope;
}

impl CallScope {
    pub fn new(admission: Option<Arc<dyn Admission>>) -> CallScope {
        CallScope {
            admission,
            calls: Arc::new(Mutex::new(Vec::new())),
            attempt: 1,
        }
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, Vec<CallRecord>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This scope, recording the requests made in it with attempt number `attempt` (1 for a
    /// first try).
    pub fn at_attempt(&self, attempt: u32) -> CallScope {
        CallScope {
            attempt,
            ..self.clone()
        }
    }

    /// The requests recorded so far, leaving none.
    pub fn take(&self) -> Vec<CallRecord> {
        std::mem::take(&mut *self.calls())
    }

    /// How many requests are waiting to be taken.
    pub fn pending(&self) -> usize {
        self.calls().len()
    }

    /// Runs `future` with this scope in force.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        SCOPE.scope(self.clone(), future).await
    }
}

/// Called by connectors before each request.
pub async fn admit() -> Result<(), ConnectorError> {
    admit_as(CallKind::Standard).await
}

/// Called by connectors before each request of a kind with limits of its own.
pub async fn admit_as(kind: CallKind) -> Result<(), ConnectorError> {
    let admission = SCOPE.try_with(|scope| scope.admission.clone()).ok().flatten();
    match admission {
        Some(admission) => admission.admit(kind).await,
        None => Ok(()),
    }
}

/// A CRM's answer as every connector reads it: status, headers and the whole body.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

/// Sends one request to a CRM the way every connector must: first admitted by the caller's
/// scope (the connection's limiter and quota), then timed and recorded as a callout (`path` is
/// what the history shows: never the query); no answer, or a body that breaks off, is a
/// retryable transport error. Authentication and the reading of errors stay the connector's.
pub async fn exchange(
    provider: &'static str,
    kind: CallKind,
    method: &Method,
    path: &str,
    request: reqwest::RequestBuilder,
) -> Result<Answer, ConnectorError> {
    admit_as(kind).await?;
    let started = std::time::Instant::now();
    let sent = request.send().await;
    let elapsed = started.elapsed();
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            record(provider, method, path, None, elapsed);
            return Err(ConnectorError::transport(&error));
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    match response.bytes().await {
        Ok(body) => {
            record(provider, method, path, Some(status.as_u16()), elapsed);
            Ok(Answer { status, headers, body })
        }
        Err(error) => {
            // The connection dropped mid-answer: as good as no answer.
            record(provider, method, path, None, elapsed);
            Err(ConnectorError::transport(&error))
        }
    }
}

/// Called by connectors after each request, answered or not.
pub fn record(provider: &'static str, method: &Method, path: &str, status: Option<u16>, elapsed: Duration) {
    let status_label = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    metrics::counter!("crm_callouts_total", "provider" => provider, "status" => status_label.clone()).increment(1);
    metrics::histogram!("crm_callout_duration_seconds", "provider" => provider).record(elapsed.as_secs_f64());
    tracing::info!(
        provider,
        %method,
        path,
        status = %status_label,
        duration_ms = elapsed.as_millis() as u64,
        "CRM callout"
    );
    let _outside_any_scope = SCOPE.try_with(|scope| {
        scope.calls().push(CallRecord {
            method: method.to_string(),
            path: path.to_string(),
            status,
            duration: elapsed,
            attempt: scope.attempt,
            at_ms: chrono::Utc::now().timestamp_millis(),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;

    #[async_trait]
    impl Admission for Closed {
        async fn admit(&self, _kind: CallKind) -> Result<(), ConnectorError> {
            Err(ConnectorError::RateLimited {
                wait: Duration::from_secs(60),
                daily: true,
                message: "quota".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_scope_keeps_its_calls_with_their_attempt_and_applies_its_admission() {
        let scope = CallScope::new(None);
        scope
            .run(async {
                admit().await.expect("no admission admits");
                record("hubspot", &Method::GET, "/a", Some(200), Duration::from_millis(5));
            })
            .await;
        scope
            .at_attempt(2)
            .run(async { record("hubspot", &Method::POST, "/b", None, Duration::from_millis(7)) })
            .await;
        // Outside any scope nothing is kept.
        record("hubspot", &Method::GET, "/c", Some(200), Duration::ZERO);
        let calls = scope.take();
        assert_eq!(
            calls
                .iter()
                .map(|c| (c.path.as_str(), c.status, c.attempt))
                .collect::<Vec<_>>(),
            vec![("/a", Some(200), 1), ("/b", None, 2)]
        );
        assert_eq!(scope.pending(), 0);

        let closed = CallScope::new(Some(Arc::new(Closed)));
        let refused = closed.run(admit()).await.expect_err("the quota is spent");
        assert!(matches!(refused, ConnectorError::RateLimited { daily: true, .. }));
    }
}
