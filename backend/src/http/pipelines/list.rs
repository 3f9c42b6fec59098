use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::pipelines;
use crate::state::AppState;

/// The tenant's pipelines, in both environments, with the mappings in force.
#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Vec<Pipeline>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines")]
pub async fn list_pipelines(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Vec<Pipeline>>, ApiError> {
    Ok(web::Json(pipelines::list(&state, &principal, path.into_inner()).await?))
}
