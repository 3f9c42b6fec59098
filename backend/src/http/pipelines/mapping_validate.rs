use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::mappings::MappingValidation;
use tandem_shared::api::pipelines::SaveMappingRequest;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::{pipelines, sync_history};
use crate::state::AppState;

/// Checks a mapping against both sides' live field lists without saving it: every problem, each
/// naming its field.
#[utoipa::path(
    tag = "mappings",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), ("flow" = String, Path, description = "forward or reverse")),
    request_body = SaveMappingRequest,
    responses((status = 200, body = MappingValidation), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/pipelines/{pipeline_id}/mappings/{flow}/validate")]
pub async fn mapping_validate(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId, String)>,
    body: JsonBody<SaveMappingRequest>,
) -> Result<web::Json<MappingValidation>, ApiError> {
    let (tenant_id, id, flow) = path.into_inner();
    let flow = sync_history::flow(&flow)?;
    Ok(web::Json(
        pipelines::validate_mapping(&state, &principal, tenant_id, id, flow, body.0).await?,
    ))
}
