use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, UserId};
use crate::roles::Role;

/// `POST /api/v1/auth/login`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The person behind a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// `None` for operator staff.
    pub tenant_id: Option<TenantId>,
}

/// Returned by login and by `GET /api/v1/auth/session`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub user: CurrentUser,
    /// Send this back as the `X-CSRF-Token` header on every write made with the session cookie.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
