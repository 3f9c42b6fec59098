//! `/api/v1/tenants/{tenant_id}/audit` and `/api/v1/audit`

use tandem_shared::api::audit::AuditPage;
use tandem_shared::ids::{AuditEntryId, TenantId};

use super::{ApiFailure, get};

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;

fn query(before: Option<AuditEntryId>) -> String {
    match before {
        Some(before) => format!("?limit={PAGE_SIZE}&before={before}"),
        None => format!("?limit={PAGE_SIZE}"),
    }
}

/// One tenant's log, newest first. `before` is the previous page's `next_before`.
pub async fn tenant_page(tenant_id: TenantId, before: Option<AuditEntryId>) -> Result<AuditPage, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/audit{}", query(before))).await
}

/// The whole log (operator admins and support).
pub async fn everything_page(before: Option<AuditEntryId>) -> Result<AuditPage, ApiFailure> {
    get(&format!("/audit{}", query(before))).await
}
