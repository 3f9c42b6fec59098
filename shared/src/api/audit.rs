use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AuditEntryId, TenantId};

/// One change: who did what to which thing, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub tenant_id: Option<TenantId>,
    /// `user`, `api_key`, `cli` or `system`.
    pub actor_kind: String,
    /// The user's email, the key's prefix, or the CLI command.
    pub actor: String,
    /// Dotted verb: `user.created`, `api_key.revoked`, `tenant.created` …
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    /// What changed. Never contains a secret.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` to read the next (older) page; absent on the last page.
    pub next_before: Option<AuditEntryId>,
}
