use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::RecordEvent;
use tandem_shared::ids::{RunId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::sync_history;
use crate::state::AppState;

/// What happened to each record of the run that mattered (unchanged records are only counted).
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("run_id" = RunId, Path), Limit),
    responses((status = 200, body = Vec<RecordEvent>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/runs/{run_id}/events")]
pub async fn run_events(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, RunId)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<RecordEvent>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::run_events(&state, &principal, tenant_id, id, query.0.limit).await?,
    ))
}
