//! `/api/v1/tenants/{tenant_id}/api-keys`

use tandem_shared::api::api_keys::{ApiKey, CreateApiKeyRequest, CreatedApiKey};
use tandem_shared::ids::{ApiKeyId, TenantId};

use super::{ApiFailure, get, post, post_empty};

pub async fn list(tenant_id: TenantId) -> Result<Vec<ApiKey>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/api-keys")).await
}

pub async fn create(tenant_id: TenantId, request: &CreateApiKeyRequest) -> Result<CreatedApiKey, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/api-keys"), request).await
}

pub async fn revoke(tenant_id: TenantId, key_id: ApiKeyId) -> Result<ApiKey, ApiFailure> {
    post_empty(&format!("/tenants/{tenant_id}/api-keys/{key_id}/revoke")).await
}
