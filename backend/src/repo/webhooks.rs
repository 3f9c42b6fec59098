//! The app's webhook endpoints and what was delivered to them. Signing secrets are in the vault,
//! under the endpoint id.

use serde_json::Value;
use tandem_shared::api::changes::{DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use tandem_shared::ids::{EnvironmentId, TenantId, WebhookDeliveryId, WebhookEndpointId};

use super::{Exec, RepoError, Tx, new_id, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    url: String,
    events: String,
    active: i64,
    created_at: i64,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = RepoError;
    fn try_from(row: EndpointRow) -> Result<Self, RepoError> {
        Ok(WebhookEndpoint {
            id: parse_id(&row.id, "webhook endpoint id")?,
            url: row.url,
            events: serde_json::from_str(&row.events)
                .map_err(|e| RepoError::Corrupt(format!("webhook events: {e}")))?,
            active: row.active != 0,
            created_at: to_datetime(row.created_at),
        })
    }
}

pub async fn insert_endpoint<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    environment_id: EnvironmentId,
    url: &str,
    events: &[String],
    now_ms: i64,
) -> Result<WebhookEndpointId, RepoError> {
    let id = WebhookEndpointId(new_id());
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, tenant_id, environment_id, url, events, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
    )
    .bind(id.to_string())
    .bind(tenant_id.to_string())
    .bind(environment_id.to_string())
    .bind(url)
    .bind(serde_json::to_string(events).unwrap_or_else(|_| "[]".into()))
    .bind(now_ms)
    .execute(exec)
    .await?;
    Ok(id)
}

pub async fn list_endpoints<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
) -> Result<Vec<WebhookEndpoint>, RepoError> {
    let rows: Vec<EndpointRow> = sqlx::query_as(
        "SELECT id, url, events, active, created_at FROM webhook_endpoints WHERE environment_id = $1 ORDER BY id",
    )
    .bind(environment_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(WebhookEndpoint::try_from).collect()
}

pub async fn get_endpoint<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    id: WebhookEndpointId,
) -> Result<Option<WebhookEndpoint>, RepoError> {
    let row: Option<EndpointRow> = sqlx::query_as(
        "SELECT id, url, events, active, created_at FROM webhook_endpoints WHERE environment_id = $1 AND id = $2",
    )
    .bind(environment_id.to_string())
    .bind(id.to_string())
    .fetch_optional(exec)
    .await?;
    row.map(WebhookEndpoint::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct EndpointTenantRow {
    id: String,
    url: String,
    events: String,
    active: i64,
    created_at: i64,
    tenant_id: String,
}

/// An endpoint and its tenant, for the delivery worker.
pub async fn endpoint_for_delivery<'c>(
    exec: impl Exec<'c>,
    id: WebhookEndpointId,
) -> Result<Option<(WebhookEndpoint, TenantId)>, RepoError> {
    let row: Option<EndpointTenantRow> =
        sqlx::query_as("SELECT id, url, events, active, created_at, tenant_id FROM webhook_endpoints WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(exec)
            .await?;
    row.map(|row| {
        let tenant_id = parse_id(&row.tenant_id, "tenant id")?;
        let endpoint = WebhookEndpoint::try_from(EndpointRow {
            id: row.id,
            url: row.url,
            events: row.events,
            active: row.active,
            created_at: row.created_at,
        })?;
        Ok((endpoint, tenant_id))
    })
    .transpose()
}

pub async fn delete_endpoint<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    id: WebhookEndpointId,
) -> Result<bool, RepoError> {
    let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE environment_id = $1 AND id = $2")
        .bind(environment_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub async fn insert_delivery(
    tx: &mut Tx,
    tenant_id: TenantId,
    endpoint_id: WebhookEndpointId,
    event_type: &str,
    payload: &Value,
    now_ms: i64,
) -> Result<WebhookDeliveryId, RepoError> {
    let id = WebhookDeliveryId(new_id());
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, payload, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
    )
    .bind(id.to_string())
    .bind(tenant_id.to_string())
    .bind(endpoint_id.to_string())
    .bind(event_type)
    .bind(payload.to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_type: String,
    payload: String,
    status: String,
    created_at: i64,
    delivered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeliveryAttemptsRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    attempts: i64,
}

/// A delivery and how many attempts were made (no tenant filter: for the delivery worker).
pub async fn get_delivery<'c>(
    exec: impl Exec<'c>,
    id: WebhookDeliveryId,
) -> Result<Option<(WebhookDelivery, i64)>, RepoError> {
    let row: Option<DeliveryAttemptsRow> = sqlx::query_as(
        "SELECT id, endpoint_id, event_type, payload, status, created_at, delivered_at, attempts \
         FROM webhook_deliveries WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(exec)
    .await?;
    row.map(|row| Ok((delivery(row.delivery, Vec::new())?, row.attempts)))
        .transpose()
}

fn delivery(row: DeliveryRow, attempts: Vec<DeliveryAttempt>) -> Result<WebhookDelivery, RepoError> {
    Ok(WebhookDelivery {
        id: parse_id(&row.id, "delivery id")?,
        endpoint_id: parse_id(&row.endpoint_id, "webhook endpoint id")?,
        event_type: row.event_type,
        payload: serde_json::from_str(&row.payload)
            .map_err(|e| RepoError::Corrupt(format!("delivery payload: {e}")))?,
        status: DeliveryStatus::parse(&row.status)
            .ok_or_else(|| RepoError::Corrupt(format!("delivery status {:?}", row.status)))?,
        attempts,
        created_at: to_datetime(row.created_at),
        delivered_at: row.delivered_at.map(to_datetime),
    })
}

/// The deliveries to an endpoint, newest first, with their attempts.
pub async fn list_deliveries<'c, E>(
    exec: E,
    tenant_id: TenantId,
    endpoint_id: WebhookEndpointId,
    limit: i64,
) -> Result<Vec<WebhookDelivery>, RepoError>
where
    E: Exec<'c> + Copy,
{
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, endpoint_id, event_type, payload, status, created_at, delivered_at FROM webhook_deliveries \
         WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant_id.to_string())
    .bind(endpoint_id.to_string())
    .bind(limit)
    .fetch_all(exec)
    .await?;
    let mut deliveries = Vec::with_capacity(rows.len());
    for row in rows {
        let attempts = attempts(exec, &row.id).await?;
        deliveries.push(delivery(row, attempts)?);
    }
    Ok(deliveries)
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    attempt: i64,
    status: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    created_at: i64,
}

async fn attempts<'c>(exec: impl Exec<'c>, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, RepoError> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT attempt, status, error, duration_ms, created_at FROM webhook_delivery_attempts \
         WHERE delivery_id = $1 ORDER BY attempt",
    )
    .bind(delivery_id)
    .fetch_all(exec)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| DeliveryAttempt {
            attempt: row.attempt,
            status: row.status.and_then(|s| u16::try_from(s).ok()),
            error: row.error,
            duration_ms: row.duration_ms,
            at: to_datetime(row.created_at),
        })
        .collect())
}

/// Records one attempt and its outcome on the delivery.
#[allow(clippy::too_many_arguments)]
pub async fn record_attempt(
    tx: &mut Tx,
    id: WebhookDeliveryId,
    attempt: i64,
    status: Option<u16>,
    error: Option<&str>,
    duration_ms: i64,
    outcome: DeliveryStatus,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status, error, duration_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delivery_id, attempt) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(attempt)
    .bind(status.map(i64::from))
    .bind(error)
    .bind(duration_ms)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_status = $3, last_error = $4, \
           delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END WHERE id = $6",
    )
    .bind(outcome.as_str())
    .bind(attempt)
    .bind(status.map(i64::from))
    .bind(error)
    .bind(now_ms)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Puts a delivery back to pending, for a replay. Returns false if it is not the tenant's.
pub async fn reset_delivery<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: WebhookDeliveryId,
) -> Result<bool, RepoError> {
    let changed = sqlx::query("UPDATE webhook_deliveries SET status = 'pending' WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?
        .rows_affected();
    Ok(changed > 0)
}
