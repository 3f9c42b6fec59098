use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::Conflict;
use tandem_shared::ids::{PipelineId, TenantId};

use super::Limit;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::sync_history;
use crate::state::AppState;

/// Two-way conflicts the pipeline resolved, newest first, with each field's values and winner.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), Limit),
    responses((status = 200, body = Vec<Conflict>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<Conflict>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::conflicts(&state, &principal, tenant_id, id, query.0.limit).await?,
    ))
}
