use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::RecordEvent;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::sync_history;
use crate::state::AppState;

/// Everything that happened to one record, by its id on either side (the app's id or the CRM's),
/// newest first.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("record_id" = String, Path), Limit),
    responses((status = 200, body = Vec<RecordEvent>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/record-history/{record_id}")]
pub async fn record_history(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, String)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<RecordEvent>>, ApiError> {
    let (tenant_id, record_id) = path.into_inner();
    Ok(web::Json(
        sync_history::record_history(&state, &principal, tenant_id, &record_id, query.0.limit).await?,
    ))
}
