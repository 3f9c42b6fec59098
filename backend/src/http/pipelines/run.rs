use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::RunPipelineRequest;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::pipelines;
use crate::state::AppState;

/// Starts a run now (`reconcile: true` for a full comparison). The run shows up in the runs list.
#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    request_body = RunPipelineRequest,
    responses((status = 202), (status = 404, body = ErrorBody), (status = 409, description = "The pipeline is paused", body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/pipelines/{pipeline_id}/run")]
pub async fn run_pipeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    body: JsonBody<RunPipelineRequest>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    pipelines::run_now(&state, &principal, &actor(&req, &principal), tenant_id, id, body.0).await?;
    Ok(HttpResponse::Accepted().finish())
}
