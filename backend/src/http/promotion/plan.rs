use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::promotion::PromotionPlan;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::promotion;
use crate::state::AppState;

/// What promoting the sandbox environment's pipelines and mappings to production would do: each
/// pipeline created, updated, unchanged or blocked, every difference by path, and why a pipeline
/// is blocked. Apply it with its `fingerprint`.
#[utoipa::path(
    tag = "environments",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = PromotionPlan), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/promotion")]
pub async fn promotion_plan(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<PromotionPlan>, ApiError> {
    Ok(web::Json(promotion::plan(&state, &principal, path.into_inner()).await?))
}
