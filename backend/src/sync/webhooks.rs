//! Outbound webhooks to the operator's app, signed so that it can tell them from forgeries:
//!
//! ```text
//! Tandem-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//! Tandem-Event: change | alert
//! Tandem-Delivery: <delivery id>   (the same on every attempt: deduplicate on it)
//! ```
//!
//! Each delivery is a job: a failed attempt (no answer, or not 2xx) is retried by the queue with
//! exponential backoff and jitter, every attempt is kept in the delivery log, and after the last
//! one the delivery is `failed` and can be replayed.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tandem_shared::api::changes::DeliveryStatus;

use super::notify::DeliverWebhook;
use crate::jobs::{JobContext, JobError, JobOutcome, TypedHandler};
use crate::repo::{Db, RepoError, alerts, now_ms, webhooks};
use crate::vault::Vault;

/// The vault purpose of endpoints' signing secrets.
pub const SECRET_PURPOSE: &str = "webhook_signing_secret";

/// The `Tandem-Signature` header for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Checks a `Tandem-Signature` header in constant time, accepting timestamps within `tolerance`
/// of `now_s` (what a receiving app does; used by the tests and documented for apps).
pub fn verify(secret: &SecretString, header: &str, body: &[u8], now_s: i64, tolerance: Duration) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = Some(v),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else {
        return false;
    };
    if (now_s - timestamp).unsigned_abs() > tolerance.as_secs() {
        return false;
    }
    let expected = signature(secret, timestamp, body);
    let expected = expected.rsplit("v1=").next().unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes()).into()
}

pub struct Deliverer {
    pub db: Db,
    pub vault: Vault,
    pub http: reqwest::Client,
}

#[async_trait]
impl TypedHandler<DeliverWebhook> for Deliverer {
    async fn run(&self, ctx: &JobContext, job: DeliverWebhook) -> Result<JobOutcome, JobError> {
        let Some((delivery, attempts)) = webhooks::get_delivery(self.db.pool(), job.delivery_id).await? else {
            return Ok(JobOutcome::Done);
        };
        if delivery.status == DeliveryStatus::Delivered {
            return Ok(JobOutcome::Done);
        }
        let Some((endpoint, tenant_id)) = webhooks::endpoint_for_delivery(self.db.pool(), delivery.endpoint_id).await?
        else {
            return Ok(JobOutcome::Done);
        };
        let secret = self
            .vault
            .get(tenant_id, &endpoint.id.to_string(), SECRET_PURPOSE)
            .await
            .map_err(|e| JobError::Retryable(format!("the endpoint's secret cannot be read: {e}")))?
            .ok_or_else(|| JobError::Permanent("the endpoint has no signing secret".into()))?;
        let body = serde_json::to_vec(&delivery.payload).map_err(JobError::permanent)?;
        let timestamp = now_ms() / 1000;
        let started = Instant::now();
        let sent = self
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("tandem-signature", signature(&secret, timestamp, &body))
            .header("tandem-event", &delivery.event_type)
            .header("tandem-delivery", delivery.id.to_string())
            .timeout(Duration::from_secs(10))
            .body(body)
            .send()
            .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status, error) = match sent {
            Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("the endpoint answered HTTP {}", response.status().as_u16())),
            ),
            Err(e) => (
                None,
                Some(if e.is_timeout() {
                    "no answer within 10 seconds".to_string()
                } else {
                    "could not reach the endpoint".to_string()
                }),
            ),
        };
        let attempt = attempts + 1;
        let outcome = match (&error, ctx.is_last_attempt()) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), true) => DeliveryStatus::Failed,
            (Some(_), false) => DeliveryStatus::Pending,
        };
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        webhooks::record_attempt(
            &mut tx,
            delivery.id,
            attempt,
            status,
            error.as_deref(),
            duration_ms,
            outcome,
            now,
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        if delivery.event_type == "alert"
            && let Some(alert_id) = delivery
                .payload
                .pointer("/data/id")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
        {
            let delivered = (outcome == DeliveryStatus::Delivered).then_some(now);
            alerts::set_delivery(self.db.pool(), alert_id, delivered, error.as_deref()).await?;
        }
        metrics::counter!("webhook_deliveries_total", "outcome" => outcome.as_str()).increment(1);
        match error {
            None => Ok(JobOutcome::Done),
            Some(error) => Err(JobError::Retryable(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_does_not() {
        let secret = SecretString::from("whsec_test");
        let header = signature(&secret, 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        let tolerance = Duration::from_secs(300);
        assert!(verify(&secret, &header, b"{\"a\":1}", 1_700_000_010, tolerance));
        assert!(
            !verify(&secret, &header, b"{\"a\":2}", 1_700_000_010, tolerance),
            "another body"
        );
        assert!(!verify(
            &SecretString::from("other"),
            &header,
            b"{\"a\":1}",
            1_700_000_010,
            tolerance
        ));
        assert!(
            !verify(&secret, &header, b"{\"a\":1}", 1_700_001_000, tolerance),
            "too old"
        );
        assert!(!verify(&secret, "v1=abc", b"{}", 0, tolerance));
    }
}
