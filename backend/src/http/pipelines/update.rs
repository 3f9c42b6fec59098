use actix_web::{HttpRequest, patch, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::{Pipeline, UpdatePipelineRequest};
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::pipelines;
use crate::state::AppState;

/// Renames, changes settings, pauses or resumes (a resumed pipeline runs at once).
#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    request_body = UpdatePipelineRequest,
    responses((status = 200, body = Pipeline), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/tenants/{tenant_id}/pipelines/{pipeline_id}")]
pub async fn update_pipeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    body: JsonBody<UpdatePipelineRequest>,
) -> Result<web::Json<Pipeline>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        pipelines::update(&state, &principal, &actor(&req, &principal), tenant_id, id, body.0).await?,
    ))
}
