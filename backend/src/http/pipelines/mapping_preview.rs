use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::mappings::PreviewMappingRequest;
use tandem_shared::api::mappings::PreviewResult;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::{pipelines, sync_history};
use crate::state::AppState;

/// Applies a (possibly unsaved) mapping to a real record of the side it reads — the one named, or
/// the most recently synced — and returns the result or every field error.
#[utoipa::path(
    tag = "mappings",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), ("flow" = String, Path, description = "forward or reverse")),
    request_body = PreviewMappingRequest,
    responses((status = 200, body = PreviewResult), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/pipelines/{pipeline_id}/mappings/{flow}/preview")]
pub async fn mapping_preview(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId, String)>,
    body: JsonBody<PreviewMappingRequest>,
) -> Result<web::Json<PreviewResult>, ApiError> {
    let (tenant_id, id, flow) = path.into_inner();
    let flow = sync_history::flow(&flow)?;
    Ok(web::Json(
        pipelines::preview(&state, &principal, tenant_id, id, flow, body.0).await?,
    ))
}
