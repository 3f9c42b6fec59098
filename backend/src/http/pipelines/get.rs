use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::pipelines;
use crate::state::AppState;

#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    responses((status = 200, body = Pipeline), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}")]
pub async fn get_pipeline(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
) -> Result<web::Json<Pipeline>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(pipelines::get(&state, &principal, tenant_id, id).await?))
}
