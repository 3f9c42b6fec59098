use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::tenants::EnvironmentKind;
use crate::ids::{ConnectionId, EnvironmentId, TenantId};

/// One CRM Tandem knows, as the connections page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderInfo {
    /// `hubspot`, `salesforce`, …
    pub id: String,
    pub name: String,
    /// False while the connector is not available yet.
    pub available: bool,
    /// `oauth2` or `credentials`.
    pub auth: String,
    pub objects: Vec<String>,
    pub batch_max: usize,
    pub webhooks: bool,
    /// What an admin can enter instead of going through the CRM's consent page (Pipedrive's
    /// API token); empty where the CRM connects with OAuth only.
    #[serde(default)]
    pub credential_fields: Vec<CredentialFieldInfo>,
}

/// One field of the form for entered credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialFieldInfo {
    /// The key in `ConnectWithCredentialsRequest::credentials`.
    pub name: String,
    pub label: String,
    /// Shown as a password field; never shown back.
    pub secret: bool,
    /// Where to find it in the CRM.
    pub hint: String,
}

/// Connects a CRM with credentials an admin entered (an API token). They are checked against
/// the CRM before anything is stored; entering new ones for a connected CRM replaces them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectWithCredentialsRequest {
    pub provider: String,
    pub environment: EnvironmentKind,
    /// By the CRM's `credential_fields` names: `{"api_token": "…"}`.
    pub credentials: std::collections::BTreeMap<String, String>,
}

/// Whether a connection talks to Tandem's emulation of the CRM or to the real one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionTarget {
    Sandbox,
    Live,
}

impl ConnectionTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionTarget::Sandbox => "sandbox",
            ConnectionTarget::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ConnectionTarget::Sandbox, ConnectionTarget::Live]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Tokens work.
    Healthy,
    /// The CRM revoked access (or the grant expired): an admin must connect again. Syncs pause.
    NeedsReauth,
    /// The last check failed for another reason; see `last_error`.
    Error,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Healthy => "healthy",
            ConnectionStatus::NeedsReauth => "needs_reauth",
            ConnectionStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ConnectionStatus::Healthy,
            ConnectionStatus::NeedsReauth,
            ConnectionStatus::Error,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A connected CRM account. Tokens are never part of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Connection {
    pub id: ConnectionId,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub environment: EnvironmentKind,
    pub provider: String,
    pub provider_name: String,
    pub target: ConnectionTarget,
    pub status: ConnectionStatus,
    /// HubSpot hub id, Salesforce organization id.
    pub account_id: String,
    pub account_name: String,
    pub account_user: Option<String>,
    pub scopes: Vec<String>,
    pub connected_by: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// What Tandem may spend on this account's API, and what it spent today.
    #[serde(default)]
    pub limits: ConnectionLimits,
}

/// A connection's API budget: the CRM's defaults, or what an admin set instead. Syncs keep to
/// it: requests are spaced to the rate, and stop for the day when the quota is spent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionLimits {
    /// In force: the connection's own value, else the CRM's default.
    pub requests_per_second: f64,
    /// Calls a UTC day, in force.
    pub daily_quota: u64,
    /// Set by an admin (`null`: the CRM's default applies).
    pub requests_per_second_override: Option<f64>,
    pub daily_quota_override: Option<u64>,
    /// Calls made today against the quota.
    pub used_today: u64,
    /// The CRM's own defaults, in force where no override is set.
    #[serde(default)]
    pub default_requests_per_second: f64,
    #[serde(default)]
    pub default_daily_quota: u64,
    /// CRMs whose search API has a rate of its own (HubSpot): the rate in force, the admin's
    /// override and the CRM's default. `null` for the others.
    #[serde(default)]
    pub search_requests_per_second: Option<f64>,
    #[serde(default)]
    pub search_requests_per_second_override: Option<f64>,
    #[serde(default)]
    pub default_search_requests_per_second: Option<f64>,
}

/// `PATCH /api/v1/tenants/{tenant_id}/connections/{connection_id}`: the connection's own limits;
/// `null` (or leaving one out) goes back to the CRM's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateConnectionRequest {
    /// Requests a second, above 0 and at most 1000 (for an account with a raised limit, say, or
    /// to leave room for other integrations).
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// Calls a UTC day, at least 1: the share of the account's daily allowance Tandem may use.
    #[serde(default)]
    pub daily_quota: Option<u64>,
    /// Searches a second, above 0 and at most 1000, for CRMs whose search API has a rate of its
    /// own (HubSpot's is 5 a second unless raised for the account). Reads of changes go through
    /// search there, so this sets how fast they can go.
    #[serde(default)]
    pub search_requests_per_second: Option<f64>,
}

/// `POST /api/v1/tenants/{tenant_id}/connections/authorize`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConnectRequest {
    pub provider: String,
    pub environment: EnvironmentKind,
}

/// Where to send the person's browser: the CRM's consent page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeRedirect {
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
}

/// The outcome of `POST …/connections/{connection_id}/test`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionCheck {
    pub ok: bool,
    pub connection: Connection,
    pub latency_ms: u64,
    pub message: String,
}
