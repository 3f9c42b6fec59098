//! What the operator's app receives, with its API key: the change feed (CRM-side changes after a
//! cursor), and the webhook endpoints it registers, with their delivery log and replay.

use secrecy::SecretString;
use tandem_shared::api::changes::{
    ChangePage, CreateWebhookEndpointRequest, CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint,
};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{EnvironmentId, TenantId, WebhookDeliveryId, WebhookEndpointId};
use tandem_shared::model::AppObject;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::token::random_token;
use crate::auth::{AppPrincipal, Principal};
use crate::domain::FieldError;
use crate::jobs::{NewJob, Queue};
use crate::repo::{Db, change_feed, environments, now_ms, webhooks};
use crate::sync::notify::{DELIVERY_ATTEMPTS, DeliverWebhook};
use crate::sync::webhooks::SECRET_PURPOSE;
use crate::vault::Vault;

pub const FEED_MAX: i64 = 1000;
const EVENTS: [&str; 2] = ["changes", "alerts"];

/// Changes after `after` (a cursor from this feed; none: from the start).
pub async fn feed(
    db: &Db,
    app: &AppPrincipal,
    after: Option<&str>,
    object: Option<&str>,
    limit: Option<i64>,
) -> Result<ChangePage, ServiceError> {
    let after_text = after.map(str::trim).filter(|a| !a.is_empty());
    let after_seq = match after_text {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| FieldError::new("after", format!("{text:?} is not a cursor of this feed")))?,
    };
    let object = match object.map(str::trim).filter(|o| !o.is_empty()) {
        None => None,
        Some(name) => Some(AppObject::parse(name).ok_or_else(|| {
            FieldError::new(
                "object",
                format!("{name:?} is not one of contact, company, deal, appointment"),
            )
        })?),
    };
    let limit = limit.unwrap_or(100);
    if !(1..=FEED_MAX).contains(&limit) {
        return Err(FieldError::new("limit", format!("{limit} is not between 1 and {FEED_MAX}")).into());
    }
    let mut changes = change_feed::after(db.pool(), app.environment_id, after_seq, object, limit + 1).await?;
    let has_more = changes.len() as i64 > limit;
    changes.truncate(limit as usize);
    let next_cursor = changes
        .last()
        .map(|c| c.cursor.clone())
        .unwrap_or_else(|| after_seq.to_string());
    Ok(ChangePage {
        changes,
        next_cursor,
        has_more,
    })
}

fn check_url(url: &str) -> Result<String, FieldError> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| FieldError::new("url", format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(FieldError::new("url", "must be an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new("url", "has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FieldError::new(
            "url",
            "must not carry credentials; webhooks are signed instead",
        ));
    }
    Ok(parsed.to_string())
}

/// Whose webhook endpoints: one environment of one tenant (the app's key's, or a person's choice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointScope {
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
}

impl From<&AppPrincipal> for EndpointScope {
    fn from(app: &AppPrincipal) -> EndpointScope {
        EndpointScope {
            tenant_id: app.tenant_id,
            environment_id: app.environment_id,
        }
    }
}

/// A person's view of a tenant environment's endpoints (the admin UI sets where alerts go).
pub async fn scope_for(
    db: &Db,
    principal: &Principal,
    tenant_id: TenantId,
    environment: EnvironmentKind,
    need: Need,
) -> Result<EndpointScope, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, need).await?;
    let environment = environments::get_by_kind(db.pool(), tenant.id, environment)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    Ok(EndpointScope {
        tenant_id: tenant.id,
        environment_id: environment.id,
    })
}

/// Registers an endpoint from the admin UI, audited.
pub async fn create_endpoint_for(
    db: &Db,
    vault: &Vault,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    environment: EnvironmentKind,
    request: CreateWebhookEndpointRequest,
) -> Result<CreatedWebhookEndpoint, ServiceError> {
    let scope = scope_for(db, principal, tenant_id, environment, Need::Write).await?;
    let created = create_endpoint(db, vault, scope, request).await?;
    audit::record(
        db.pool(),
        actor,
        Change {
            tenant_id: Some(scope.tenant_id),
            action: "webhook_endpoint.created",
            target_kind: "webhook_endpoint",
            target_id: Some(created.endpoint.id.to_string()),
            details: serde_json::json!({ "url": created.endpoint.url, "events": created.endpoint.events, "environment": environment }),
        },
    )
    .await?;
    Ok(created)
}

/// Removes an endpoint from the admin UI, audited.
pub async fn delete_endpoint_for(
    db: &Db,
    vault: &Vault,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    environment: EnvironmentKind,
    id: WebhookEndpointId,
) -> Result<(), ServiceError> {
    let scope = scope_for(db, principal, tenant_id, environment, Need::Write).await?;
    delete_endpoint(db, vault, scope, id).await?;
    audit::record(
        db.pool(),
        actor,
        Change {
            tenant_id: Some(scope.tenant_id),
            action: "webhook_endpoint.deleted",
            target_kind: "webhook_endpoint",
            target_id: Some(id.to_string()),
            details: serde_json::json!({ "environment": environment }),
        },
    )
    .await?;
    Ok(())
}

pub async fn create_endpoint(
    db: &Db,
    vault: &Vault,
    scope: EndpointScope,
    request: CreateWebhookEndpointRequest,
) -> Result<CreatedWebhookEndpoint, ServiceError> {
    let url = check_url(&request.url)?;
    let mut events = request.events;
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(FieldError::new("events", "name at least one of changes, alerts").into());
    }
    if let Some(unknown) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(FieldError::new("events", format!("{unknown:?} is not one of changes, alerts")).into());
    }
    let id = webhooks::insert_endpoint(
        db.pool(),
        scope.tenant_id,
        scope.environment_id,
        &url,
        &events,
        now_ms(),
    )
    .await?;
    let secret = format!("whsec_{}", random_token(32));
    vault
        .put(
            scope.tenant_id,
            &id.to_string(),
            SECRET_PURPOSE,
            &SecretString::from(secret.clone()),
        )
        .await?;
    let endpoint = webhooks::get_endpoint(db.pool(), scope.environment_id, id)
        .await?
        .ok_or(ServiceError::NotFound("webhook endpoint"))?;
    Ok(CreatedWebhookEndpoint { endpoint, secret })
}

pub async fn list_endpoints(db: &Db, scope: EndpointScope) -> Result<Vec<WebhookEndpoint>, ServiceError> {
    Ok(webhooks::list_endpoints(db.pool(), scope.environment_id).await?)
}

pub async fn delete_endpoint(
    db: &Db,
    vault: &Vault,
    scope: EndpointScope,
    id: WebhookEndpointId,
) -> Result<(), ServiceError> {
    if !webhooks::delete_endpoint(db.pool(), scope.environment_id, id).await? {
        return Err(ServiceError::NotFound("webhook endpoint"));
    }
    vault.delete_owner(scope.tenant_id, &id.to_string()).await?;
    Ok(())
}

async fn endpoint(db: &Db, app: &AppPrincipal, id: WebhookEndpointId) -> Result<WebhookEndpoint, ServiceError> {
    webhooks::get_endpoint(db.pool(), app.environment_id, id)
        .await?
        .ok_or(ServiceError::NotFound("webhook endpoint"))
}

/// The delivery log of an endpoint, newest first, with every attempt.
pub async fn deliveries(
    db: &Db,
    app: &AppPrincipal,
    id: WebhookEndpointId,
    limit: Option<i64>,
) -> Result<Vec<WebhookDelivery>, ServiceError> {
    endpoint(db, app, id).await?;
    Ok(webhooks::list_deliveries(db.pool(), app.tenant_id, id, limit.unwrap_or(100).clamp(1, 500)).await?)
}

/// Sends a delivery again (delivered or failed alike).
pub async fn replay_delivery(
    db: &Db,
    queue: &Queue,
    app: &AppPrincipal,
    endpoint_id: WebhookEndpointId,
    delivery_id: WebhookDeliveryId,
) -> Result<(), ServiceError> {
    endpoint(db, app, endpoint_id).await?;
    let belongs = webhooks::get_delivery(db.pool(), delivery_id)
        .await?
        .is_some_and(|(d, _)| d.endpoint_id == endpoint_id);
    if !belongs || !webhooks::reset_delivery(db.pool(), app.tenant_id, delivery_id).await? {
        return Err(ServiceError::NotFound("delivery"));
    }
    let job = NewJob::of(&DeliverWebhook { delivery_id })
        .map_err(|e| ServiceError::Crm(e.to_string()))?
        .tenant(app.tenant_id)
        // A replay runs now, even while an earlier attempt waits for its retry (which then finds
        // the delivery delivered and stops).
        .dedupe_key(format!("{delivery_id}:replay:{}", now_ms()))
        .max_attempts(DELIVERY_ATTEMPTS);
    queue.enqueue(job).await.map_err(|e| ServiceError::Crm(e.to_string()))?;
    Ok(())
}
