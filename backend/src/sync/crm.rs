//! One connection, as the engine calls it: every call waits for the connection's budget, uses a
//! valid token (refreshed once on a 401), is retried on 5xx, timeouts, dropped connections and
//! 429 with exponential backoff and jitter (a 429's own wait when it gives one), and is recorded
//! with its attempt number in the call scope the engine stores as callouts.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tandem_shared::api::tenants::Tenant;

use super::budget::Budget;
use crate::connectors::callout::{CallRecord, CallScope};
use crate::connectors::{Connector, ConnectorError, Credential};
use crate::oauth::CrmAccess;
use crate::oauth::tokens::CredentialError;
use crate::repo::connections::StoredConnection;
use crate::repo::sync_history::{self, NewCallout};
use crate::repo::{Db, RepoError};

/// How often and how patiently a call is retried within a run. What still fails after that is
/// the job's to retry (reads) or a failed record (writes).
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: usize,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The CRM refused for a reason retrying does not fix (validation, not found, conflict…).
    #[error(transparent)]
    Refused(ConnectorError),
    /// Still failing after every retry.
    #[error("{0} (after {1} attempts)")]
    Exhausted(ConnectorError, usize),
    /// The grant is gone: the connection needs an admin to connect it again.
    #[error("the connection needs to be authorized again: {0}")]
    NeedsReauth(String),
    /// Tandem's share of the day's quota is spent.
    #[error("the daily API quota is spent; it resets in {} minutes", .0.as_secs() / 60)]
    QuotaSpent(Duration),
    /// The token endpoint failed: try the run again later.
    #[error("the CRM's token endpoint failed: {0}")]
    TokenUnavailable(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl CallError {
    /// The connector error behind it, for records' failure reasons.
    pub fn connector_error(&self) -> Option<&ConnectorError> {
        match self {
            CallError::Refused(e) | CallError::Exhausted(e, _) => Some(e),
            _ => None,
        }
    }
}

pub struct CrmClient {
    pub connection: StoredConnection,
    pub connector: Arc<dyn Connector>,
    pub budget: Arc<Budget>,
    tenant: Tenant,
    access: Arc<CrmAccess>,
    scope: CallScope,
    retry: RetryPolicy,
}

impl CrmClient {
    pub fn new(
        connection: StoredConnection,
        connector: Arc<dyn Connector>,
        budget: Arc<Budget>,
        tenant: Tenant,
        access: Arc<CrmAccess>,
        retry: RetryPolicy,
    ) -> CrmClient {
        let scope = CallScope::new(Some(budget.clone()));
        CrmClient {
            connection,
            connector,
            budget,
            tenant,
            access,
            scope,
            retry,
        }
    }

    pub fn provider(&self) -> &'static str {
        self.connector.provider().id
    }

    /// The requests made since the last call, for the callout history.
    pub fn take_calls(&self) -> Vec<CallRecord> {
        self.scope.take()
    }

    /// The requests made since the last call, as callout rows.
    pub fn take_callouts(&self) -> Vec<NewCallout> {
        self.take_calls()
            .into_iter()
            .map(|c| NewCallout {
                connection_id: self.connection.connection.id,
                method: c.method,
                error_kind: callout_error_kind(c.status),
                path: c.path,
                status: c.status,
                duration_ms: c.duration.as_millis() as i64,
                attempt: i64::from(c.attempt),
                at_ms: c.at_ms,
            })
            .collect()
    }

    /// Stores the calls made outside any run (reading a CRM's fields for a mapping, say) in the
    /// callout history, and the connection's usage.
    pub async fn keep_calls(&self, db: &Db) -> Result<(), RepoError> {
        let callouts = self.take_callouts();
        if !callouts.is_empty() {
            let mut tx = db.begin().await?;
            sync_history::insert_callouts(&mut tx, self.tenant.id, None, &callouts).await?;
            tx.commit().await.map_err(RepoError::from)?;
        }
        self.budget.save(db).await
    }

    /// A valid credential (refreshed ahead of expiry by the token manager), and the connection
    /// state it was read with.
    async fn credential(&self) -> Result<(Credential, StoredConnection), CallError> {
        self.access
            .tokens
            .credential_and_state(&self.tenant, self.connection.connection.id)
            .await
            .map_err(credential_error)
    }

    /// Runs `op` with retries (see the module documentation).
    pub async fn call<T, F, Fut>(&self, op: F) -> Result<T, CallError>
    where
        F: Fn(Credential) -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.retry.first_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts.saturating_sub(1))
            .with_jitter()
            .build();
        let mut attempt = 1usize;
        let mut refreshed = false;
        loop {
            let (credential, state) = self.credential().await?;
            let error = match self.scope.at_attempt(attempt as u32).run(op(credential)).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match error {
                ConnectorError::RateLimited { daily: true, wait, .. } => return Err(CallError::QuotaSpent(wait)),
                ConnectorError::Unauthorized { .. } if !refreshed => {
                    refreshed = true;
                    self.access
                        .tokens
                        .after_unauthorized(&self.tenant, &state)
                        .await
                        .map_err(credential_error)?;
                    attempt += 1;
                }
                ConnectorError::GrantRevoked { message } => {
                    let error = self.access.tokens.mark_needs_reauth(&self.connection, &message).await;
                    return Err(credential_error(error));
                }
                error if error.is_retryable() => {
                    let Some(delay) = delays.next() else {
                        return Err(CallError::Exhausted(error, attempt));
                    };
                    // A 429 says how long to wait (Retry-After, or the CRM's window), at most the
                    // policy's longest delay; the backoff's jitter still spreads callers.
                    let wait = match &error {
                        ConnectorError::RateLimited { wait, .. } => (*wait).max(delay / 4).min(self.retry.max_delay),
                        _ => delay,
                    };
                    tracing::debug!(attempt, ?wait, error = %error, "retrying a CRM call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                error => return Err(CallError::Refused(error)),
            }
        }
    }

    /// Runs a call that answers one result per input (a batch write) and sends again, with the
    /// same backoff as whole calls, the inputs whose own result is retryable (a 5xx, 429 or
    /// dropped connection of that record's request: CRMs without batch writes send a request
    /// per record). A record still failing after the last attempt answers
    /// `RecordError::Exhausted`; others as the CRM refused them.
    pub async fn call_each<I, T, F, Fut>(&self, inputs: &[I], op: F) -> Result<Vec<Result<T, RecordError>>, CallError>
    where
        I: Clone,
        F: Fn(Credential, Vec<I>) -> Fut,
        Fut: Future<Output = Result<Vec<Result<T, ConnectorError>>, ConnectorError>>,
    {
        let mut results: Vec<Option<Result<T, RecordError>>> = inputs.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..inputs.len()).collect();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.retry.first_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.attempts.saturating_sub(1))
            .with_jitter()
            .build();
        let mut round = 1usize;
        while !pending.is_empty() {
            let batch: Vec<I> = pending.iter().map(|&i| inputs[i].clone()).collect();
            let answers = self.call(|credential| op(credential, batch.clone())).await?;
            if answers.len() != batch.len() {
                return Err(CallError::Refused(ConnectorError::protocol(format!(
                    "{} inputs sent, {} results received",
                    batch.len(),
                    answers.len()
                ))));
            }
            let delay = delays.next();
            let mut again = Vec::new();
            let mut wait = Duration::ZERO;
            for (&i, answer) in pending.iter().zip(answers) {
                match answer {
                    Err(error) if error.is_retryable() && delay.is_some() => {
                        if let ConnectorError::RateLimited { wait: asked, .. } = &error {
                            wait = wait.max(*asked);
                        }
                        again.push(i);
                    }
                    Err(error) if error.is_retryable() => results[i] = Some(Err(RecordError::Exhausted(error, round))),
                    Err(error) => results[i] = Some(Err(RecordError::Refused(error))),
                    Ok(value) => results[i] = Some(Ok(value)),
                }
            }
            if let (false, Some(delay)) = (again.is_empty(), delay) {
                tokio::time::sleep(wait.max(delay).min(self.retry.max_delay)).await;
            }
            pending = again;
            round += 1;
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(RecordError::Lost)))
            .collect())
    }
}

/// Why one record of a batch call failed.
#[derive(Debug)]
pub enum RecordError {
    /// The CRM refused it (validation, not found, conflict…): as the CRM said.
    Refused(ConnectorError),
    /// Still failing with a retryable error after this many attempts.
    Exhausted(ConnectorError, usize),
    /// No answer was kept for it (cannot happen: every input is answered or retried).
    Lost,
}

/// How a callout failed, for filtering the history.
fn callout_error_kind(status: Option<u16>) -> Option<String> {
    match status {
        None => Some("transport".into()),
        Some(429) => Some("rate_limited".into()),
        Some(401) => Some("unauthorized".into()),
        Some(s) if s >= 500 => Some("server_error".into()),
        Some(s) if s >= 400 => Some("rejected".into()),
        _ => None,
    }
}

fn credential_error(error: CredentialError) -> CallError {
    match error {
        CredentialError::NeedsReauth(message) => CallError::NeedsReauth(message),
        CredentialError::NotFound => CallError::NeedsReauth("the connection was removed".into()),
        CredentialError::Unavailable(message) => CallError::TokenUnavailable(message),
        CredentialError::Corrupt => CallError::NeedsReauth("the stored tokens cannot be read".into()),
        CredentialError::Repo(error) => CallError::Repo(error),
        CredentialError::Vault(error) => CallError::TokenUnavailable(error.to_string()),
    }
}
