use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EnvironmentId, TenantId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    pub id: TenantId,
    /// Short, unique, URL-safe name (`acme-gmbh`).
    pub slug: String,
    pub name: String,
    /// Demo tenants are wired to sandbox CRMs only; sales staff may manage them.
    pub is_demo: bool,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/tenants`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTenantRequest {
    pub name: String,
    /// Derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub is_demo: bool,
}

/// `PATCH /api/v1/tenants/{tenant_id}`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTenantRequest {
    pub name: String,
}

/// Every tenant has exactly one of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// Where mappings are built and tested, against sandbox CRMs or CRM test accounts.
    Sandbox,
    /// Where the tenant's real data flows.
    Production,
}

impl EnvironmentKind {
    pub const ALL: [EnvironmentKind; 2] = [EnvironmentKind::Sandbox, EnvironmentKind::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentKind::Sandbox => "sandbox",
            EnvironmentKind::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            EnvironmentKind::Sandbox => "Sandbox",
            EnvironmentKind::Production => "Production",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Environment {
    pub id: EnvironmentId,
    pub tenant_id: TenantId,
    pub kind: EnvironmentKind,
    pub name: String,
    /// Active (not revoked) API keys of this environment.
    pub active_api_keys: i64,
    pub created_at: DateTime<Utc>,
}
