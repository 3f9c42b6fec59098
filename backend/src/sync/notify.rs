//! What leaves Tandem for the operator's app: change-feed entries and alerts, each delivered as a
//! signed webhook to the endpoints subscribed to it (one delivery row and one job per endpoint,
//! written in the caller's transaction so nothing is announced that did not commit).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_shared::api::changes::{Change, WebhookEndpoint};
use tandem_shared::ids::{EnvironmentId, PipelineId, TenantId, WebhookDeliveryId};

use crate::jobs::{JobKind, NewJob, Queue};
use crate::repo::{RepoError, Tx, alerts, webhooks};

/// Delivers one webhook.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery_id: WebhookDeliveryId,
}

impl JobKind for DeliverWebhook {
    const KIND: &'static str = "webhook.deliver";
}

/// Attempts per delivery before it is marked failed (the queue backs off up to 5 minutes).
pub const DELIVERY_ATTEMPTS: u32 = 8;

#[allow(clippy::too_many_arguments)]
async fn deliver(
    tx: &mut Tx,
    queue: &Queue,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    subscription: &str,
    event_type: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<(), RepoError> {
    let endpoints = webhooks::list_endpoints(&mut **tx, environment_id).await?;
    deliver_to(
        tx,
        queue,
        tenant_id,
        &endpoints,
        subscription,
        event_type,
        payload,
        now_ms,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn deliver_to(
    tx: &mut Tx,
    queue: &Queue,
    tenant_id: TenantId,
    endpoints: &[WebhookEndpoint],
    subscription: &str,
    event_type: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<(), RepoError> {
    for endpoint in endpoints
        .iter()
        .filter(|e| e.active && e.events.iter().any(|s| s == subscription))
    {
        let delivery_id = webhooks::insert_delivery(tx, tenant_id, endpoint.id, event_type, payload, now_ms).await?;
        let job = NewJob::of(&DeliverWebhook { delivery_id })
            .map_err(|e| RepoError::Corrupt(e.to_string()))?
            .tenant(tenant_id)
            .dedupe_key(delivery_id.to_string())
            .max_attempts(DELIVERY_ATTEMPTS);
        queue
            .enqueue_in(tx, job)
            .await
            .map_err(|e| RepoError::Corrupt(format!("enqueueing a webhook delivery: {e}")))?;
    }
    Ok(())
}

/// Announces a change-feed entry to the app's `changes` endpoints.
pub async fn change(
    tx: &mut Tx,
    queue: &Queue,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    change: &Change,
    now_ms: i64,
) -> Result<(), RepoError> {
    let payload = json!({ "type": "change", "data": change });
    deliver(
        tx,
        queue,
        tenant_id,
        environment_id,
        "changes",
        "change",
        &payload,
        now_ms,
    )
    .await
}

/// Announces change-feed entries to the environment's `changes` endpoints (`endpoints`, read
/// once for a page of them).
pub async fn changes_to(
    tx: &mut Tx,
    queue: &Queue,
    tenant_id: TenantId,
    endpoints: &[WebhookEndpoint],
    changes: &[Change],
    now_ms: i64,
) -> Result<(), RepoError> {
    if !endpoints
        .iter()
        .any(|e| e.active && e.events.iter().any(|s| s == "changes"))
    {
        return Ok(());
    }
    for change in changes {
        let payload = json!({ "type": "change", "data": change });
        deliver_to(tx, queue, tenant_id, endpoints, "changes", "change", &payload, now_ms).await?;
    }
    Ok(())
}

/// Raises an alert: stored, and sent to the app's `alerts` endpoints of the environment.
#[allow(clippy::too_many_arguments)]
pub async fn alert(
    tx: &mut Tx,
    queue: &Queue,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    pipeline_id: Option<PipelineId>,
    kind: &str,
    message: &str,
    detail: Value,
    now_ms: i64,
) -> Result<(), RepoError> {
    let id = alerts::insert(&mut **tx, tenant_id, pipeline_id, kind, message, &detail, now_ms).await?;
    tracing::warn!(tenant.id = %tenant_id, pipeline.id = ?pipeline_id, kind, message, "alert");
    metrics::counter!("alerts_raised_total", "kind" => kind.to_string()).increment(1);
    let payload = json!({
        "type": "alert",
        "data": { "id": id, "pipeline_id": pipeline_id, "kind": kind, "message": message, "detail": detail },
    });
    deliver(
        tx,
        queue,
        tenant_id,
        environment_id,
        "alerts",
        "alert",
        &payload,
        now_ms,
    )
    .await
}
