//! Who may reach which tenant, and do what there.
//!
//! | role           | sees                  | may change            |
//! | -------------- | --------------------- | --------------------- |
//! | operator_admin | every tenant          | everything            |
//! | support        | every tenant          | failed records only   |
//! | sales          | demo tenants          | demo tenants          |
//! | admin          | their own tenant      | their own tenant      |
//! | viewer         | their own tenant      | nothing               |
//!
//! Support staff act on sync outcomes (replay or ignore failed records, with a reason that goes to
//! the audit log) but change no setting.
//!
//! A tenant someone cannot see is reported as not found, never as forbidden, so that ids of
//! other tenants reveal nothing.

use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;
use tandem_shared::roles::Role;

use super::ServiceError;
use crate::auth::Principal;
use crate::repo::{Db, tenants};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
    /// Reading the tenant's audit log: admins and operator staff, not viewers.
    ReadAudit,
    /// Acting on sync outcomes (replaying or ignoring failed records): who may write, and support.
    Operate,
}

pub fn can_see(principal: &Principal, tenant: &Tenant) -> bool {
    match principal.role() {
        Role::OperatorAdmin | Role::Support => true,
        Role::Sales => tenant.is_demo,
        Role::Admin | Role::Viewer => principal.home_tenant() == Some(tenant.id),
    }
}

fn allows(role: Role, need: Need) -> bool {
    match need {
        Need::Read => true,
        Need::Write => matches!(role, Role::OperatorAdmin | Role::Sales | Role::Admin),
        Need::ReadAudit => !matches!(role, Role::Viewer),
        Need::Operate => !matches!(role, Role::Viewer),
    }
}

/// The tenant, if the principal may see it and do what they need there.
pub async fn tenant(db: &Db, principal: &Principal, tenant_id: TenantId, need: Need) -> Result<Tenant, ServiceError> {
    let tenant = tenants::get(db.pool(), tenant_id)
        .await?
        .filter(|tenant| can_see(principal, tenant))
        .ok_or(ServiceError::NotFound("tenant"))?;
    if !allows(principal.role(), need) {
        return Err(ServiceError::Forbidden(format!(
            "the {} role may not {} here",
            principal.role().as_str(),
            match need {
                Need::Read => "read",
                Need::Write => "make changes",
                Need::ReadAudit => "read the audit log",
                Need::Operate => "replay or ignore records",
            }
        )));
    }
    Ok(tenant)
}
