//! A tenant environment's webhook endpoints, for people:
//! `/api/v1/tenants/{tenant_id}/environments/{environment}/webhooks`.

use tandem_shared::api::changes::{CreateWebhookEndpointRequest, CreatedWebhookEndpoint, WebhookEndpoint};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{TenantId, WebhookEndpointId};

use super::{ApiFailure, delete, get, post};

fn path(tenant_id: TenantId, environment: EnvironmentKind) -> String {
    format!("/tenants/{tenant_id}/environments/{}/webhooks", environment.as_str())
}

pub async fn list(tenant_id: TenantId, environment: EnvironmentKind) -> Result<Vec<WebhookEndpoint>, ApiFailure> {
    get(&path(tenant_id, environment)).await
}

/// Registers an endpoint; the answer holds its signing secret, shown this once.
pub async fn create(
    tenant_id: TenantId,
    environment: EnvironmentKind,
    request: &CreateWebhookEndpointRequest,
) -> Result<CreatedWebhookEndpoint, ApiFailure> {
    post(&path(tenant_id, environment), request).await
}

pub async fn remove(
    tenant_id: TenantId,
    environment: EnvironmentKind,
    id: WebhookEndpointId,
) -> Result<(), ApiFailure> {
    delete(&format!("{}/{id}", path(tenant_id, environment))).await
}
