//! `/api/v1/tenants/{tenant_id}/environments`

use tandem_shared::api::promotion::{PromoteRequest, PromotionPlan, PromotionResult};
use tandem_shared::api::tenants::Environment;
use tandem_shared::ids::TenantId;

use super::{ApiFailure, get, post};

pub async fn list(tenant_id: TenantId) -> Result<Vec<Environment>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/environments")).await
}

/// What promoting the sandbox's pipelines to production would do, pipeline by pipeline.
pub async fn promotion_plan(tenant_id: TenantId) -> Result<PromotionPlan, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/promotion")).await
}

/// Applies the plan that was reviewed (409 when it changed since).
pub async fn promote(tenant_id: TenantId, request: &PromoteRequest) -> Result<PromotionResult, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/promotion"), request).await
}
