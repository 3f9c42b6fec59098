use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, UserId};
use crate::roles::{Role, TenantRole};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub tenant_id: Option<TenantId>,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/tenants/{tenant_id}/users`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    pub role: TenantRole,
    /// At least 12 characters. When absent, a password is generated and returned once.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedUser {
    pub user: User,
    /// Present only when the password was generated; it is shown this once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// `PATCH /api/v1/tenants/{tenant_id}/users/{user_id}`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub role: Option<TenantRole>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The shortest password Tandem accepts.
pub const MIN_PASSWORD_LEN: usize = 12;
