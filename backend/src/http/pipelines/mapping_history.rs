use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::MappingVersion;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::{pipelines, sync_history};
use crate::state::AppState;

/// Every saved version of the mapping in `flow` (`forward`: source to target; `reverse`), newest first.
#[utoipa::path(
    tag = "mappings",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), ("flow" = String, Path, description = "forward or reverse")),
    responses((status = 200, body = Vec<MappingVersion>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/mappings/{flow}")]
pub async fn mapping_history(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId, String)>,
) -> Result<web::Json<Vec<MappingVersion>>, ApiError> {
    let (tenant_id, id, flow) = path.into_inner();
    let flow = sync_history::flow(&flow)?;
    Ok(web::Json(
        pipelines::mapping_history(&state, &principal, tenant_id, id, flow).await?,
    ))
}
