use actix_web::{HttpRequest, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::promotion::{PromoteRequest, PromotionResult};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::promotion;
use crate::state::AppState;

/// Promotes the sandbox's pipelines and mappings to production, exactly as the plan with this
/// `fingerprint` showed (all it creates or updates, or the pipelines named).
#[utoipa::path(
    tag = "environments",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = PromoteRequest,
    responses(
        (status = 200, body = PromotionResult),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The plan changed since it was reviewed", body = ErrorBody)
    )
)]
#[post("/tenants/{tenant_id}/promotion")]
pub async fn promote(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<PromoteRequest>,
) -> Result<web::Json<PromotionResult>, ApiError> {
    let actor = actor(&req, &principal);
    Ok(web::Json(
        promotion::promote(&state, &principal, &actor, path.into_inner(), body.0).await?,
    ))
}
