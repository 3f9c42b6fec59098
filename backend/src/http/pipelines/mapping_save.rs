use actix_web::{HttpRequest, put, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::MappingVersion;
use tandem_shared::api::pipelines::SaveMappingRequest;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::{pipelines, sync_history};
use crate::state::AppState;

/// Saves a new version of the mapping once it validates against both sides' live field lists; the
/// next run uses it.
#[utoipa::path(
    tag = "mappings",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), ("flow" = String, Path, description = "forward or reverse")),
    request_body = SaveMappingRequest,
    responses((status = 200, body = MappingVersion), (status = 400, description = "`field` names the first problem; `message` lists all", body = ErrorBody), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[put("/tenants/{tenant_id}/pipelines/{pipeline_id}/mappings/{flow}")]
pub async fn mapping_save(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId, String)>,
    body: JsonBody<SaveMappingRequest>,
) -> Result<web::Json<MappingVersion>, ApiError> {
    let (tenant_id, id, flow) = path.into_inner();
    let flow = sync_history::flow(&flow)?;
    Ok(web::Json(
        pipelines::save_mapping(
            &state,
            &principal,
            &actor(&req, &principal),
            tenant_id,
            id,
            flow,
            body.0,
        )
        .await?,
    ))
}
