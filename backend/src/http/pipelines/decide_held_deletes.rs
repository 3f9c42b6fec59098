use actix_web::{HttpRequest, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::{DecideHeldDeletesRequest, HeldDelete};
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::sync_history;
use crate::state::AppState;

/// Approves (applied by a run started at once) or rejects held deletions.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    request_body = DecideHeldDeletesRequest,
    responses((status = 200, body = Vec<HeldDelete>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/pipelines/{pipeline_id}/held-deletes/decide")]
pub async fn decide_held_deletes(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    body: JsonBody<DecideHeldDeletesRequest>,
) -> Result<web::Json<Vec<HeldDelete>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::decide_held_deletes(&state, &principal, &actor(&req, &principal), tenant_id, id, body.0).await?,
    ))
}
