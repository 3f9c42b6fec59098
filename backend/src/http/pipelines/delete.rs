use actix_web::{HttpRequest, HttpResponse, delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::pipelines;
use crate::state::AppState;

/// Deletes the pipeline with its links and history. Records already synced stay where they are.
#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/tenants/{tenant_id}/pipelines/{pipeline_id}")]
pub async fn delete_pipeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    pipelines::delete(&state, &principal, &actor(&req, &principal), tenant_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
