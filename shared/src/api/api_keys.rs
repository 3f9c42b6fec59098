use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::tenants::EnvironmentKind;
use crate::ids::{ApiKeyId, EnvironmentId, TenantId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub environment: EnvironmentKind,
    pub name: String,
    /// The first characters of the key, enough to recognise it (`tdm_live_3Fq9`).
    pub prefix: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/tenants/{tenant_id}/api-keys`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiKeyRequest {
    pub name: String,
    pub environment: EnvironmentKind,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// The full key. It is shown this once and cannot be retrieved again.
    pub secret: String,
}

/// `GET /api/v1/app/whoami`: what the presented API key stands for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppIdentity {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub environment_id: EnvironmentId,
    pub environment: EnvironmentKind,
    pub key_id: ApiKeyId,
    pub key_prefix: String,
}
