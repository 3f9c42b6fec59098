//! Who did it, for the audit log, and reading the log back.

use serde_json::Value;
use tandem_shared::api::audit::AuditPage;
use tandem_shared::ids::{AuditEntryId, TenantId};
use tandem_shared::roles::Role;

use super::ServiceError;
use super::access::{self, Need};
use crate::auth::Principal;
use crate::repo::audit::{self, AuditScope, NewAuditEntry};
use crate::repo::{Db, Exec, RepoError, now_ms};

/// The author of a change.
#[derive(Clone, Debug)]
pub struct Actor {
    kind: &'static str,
    label: String,
    request_id: Option<String>,
}

impl Actor {
    pub fn user(principal: &Principal, request_id: Option<String>) -> Actor {
        Actor {
            kind: "user",
            label: principal.email().to_string(),
            request_id,
        }
    }

    /// A person known by email only (the OAuth callback arrives without their session).
    pub fn named_user(email: &str, request_id: Option<String>) -> Actor {
        Actor {
            kind: "user",
            label: email.to_string(),
            request_id,
        }
    }

    pub fn cli(command: &str) -> Actor {
        Actor {
            kind: "cli",
            label: command.to_string(),
            request_id: None,
        }
    }

    pub fn system(what: &str) -> Actor {
        Actor {
            kind: "system",
            label: what.to_string(),
            request_id: None,
        }
    }
}

/// One change to record: `action` is a dotted verb (`user.created`), `details` never a secret.
pub struct Change<'a> {
    pub tenant_id: Option<TenantId>,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<String>,
    pub details: Value,
}

pub async fn record<'c>(exec: impl Exec<'c>, actor: &Actor, change: Change<'_>) -> Result<(), RepoError> {
    audit::insert(
        exec,
        NewAuditEntry {
            tenant_id: change.tenant_id,
            actor_kind: actor.kind,
            actor: &actor.label,
            action: change.action,
            target_kind: change.target_kind,
            target_id: change.target_id,
            details: change.details,
            request_id: actor.request_id.as_deref(),
            now_ms: now_ms(),
        },
    )
    .await?;
    Ok(())
}

pub const MAX_PAGE: i64 = 200;

pub async fn list_for_tenant(
    db: &Db,
    principal: &Principal,
    tenant_id: TenantId,
    before: Option<AuditEntryId>,
    limit: i64,
) -> Result<AuditPage, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::ReadAudit).await?;
    page(db, AuditScope::Tenant(tenant.id), before, limit).await
}

/// Every tenant's entries and the operator's own: for operator admins and support.
pub async fn list_everything(
    db: &Db,
    principal: &Principal,
    before: Option<AuditEntryId>,
    limit: i64,
) -> Result<AuditPage, ServiceError> {
    if !matches!(principal.role(), Role::OperatorAdmin | Role::Support) {
        return Err(ServiceError::Forbidden(
            "only operator admins and support read the whole audit log".into(),
        ));
    }
    page(db, AuditScope::Everything, before, limit).await
}

async fn page(db: &Db, scope: AuditScope, before: Option<AuditEntryId>, limit: i64) -> Result<AuditPage, ServiceError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let entries = audit::list(db.pool(), scope, before, limit).await?;
    let next_before = if entries.len() as i64 == limit {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(AuditPage { entries, next_before })
}
