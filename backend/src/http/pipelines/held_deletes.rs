use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::HeldDelete;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::sync_history;
use crate::state::AppState;

/// Deletions held for approval (and those already decided), newest first.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    responses((status = 200, body = Vec<HeldDelete>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/held-deletes")]
pub async fn list_held_deletes(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
) -> Result<web::Json<Vec<HeldDelete>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::held_deletes(&state, &principal, tenant_id, id).await?,
    ))
}
