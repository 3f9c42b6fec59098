use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::Run;
use tandem_shared::ids::{PipelineId, TenantId};

use super::Limit;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::sync_history;
use crate::state::AppState;

/// The pipeline's runs, newest first: trigger, counts, API calls, duration, progress.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), Limit),
    responses((status = 200, body = Vec<Run>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/runs")]
pub async fn list_runs(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<Run>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::runs(&state, &principal, tenant_id, id, query.0.limit).await?,
    ))
}
