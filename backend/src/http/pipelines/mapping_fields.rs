use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::mappings::MappingFields;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::{pipelines, sync_history};
use crate::state::AppState;

/// Both sides' live field lists for the mapping in `flow`: the app's model and the CRM's own
/// fields (custom fields, types, picklist values), read from the CRM now.
#[utoipa::path(
    tag = "mappings",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), ("flow" = String, Path, description = "forward or reverse")),
    responses((status = 200, body = MappingFields), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/mappings/{flow}/fields")]
pub async fn mapping_fields(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId, String)>,
) -> Result<web::Json<MappingFields>, ApiError> {
    let (tenant_id, id, flow) = path.into_inner();
    let flow = sync_history::flow(&flow)?;
    Ok(web::Json(
        pipelines::mapping_fields(&state, &principal, tenant_id, id, flow).await?,
    ))
}
