//! Sales demos: `/api/v1/demos`.

use tandem_shared::api::demo::{DemoDashboard, StartDemoRequest};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

use super::{ApiFailure, get, post, post_empty};

/// Starts a new demo tenant, connected to these CRMs, seeded and changing; returns it.
pub async fn start(request: &StartDemoRequest) -> Result<Tenant, ApiFailure> {
    post("/demos", request).await
}

/// Removes the demo tenant and starts a fresh one; returns the new one.
pub async fn reset(id: TenantId) -> Result<Tenant, ApiFailure> {
    post_empty(&format!("/demos/{id}/reset")).await
}

pub async fn dashboard(id: TenantId) -> Result<DemoDashboard, ApiFailure> {
    get(&format!("/demos/{id}")).await
}
