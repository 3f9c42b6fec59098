use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::Callout;
use tandem_shared::ids::{RunId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::sync_history;
use crate::state::AppState;

/// Every CRM call the run made: method, path, status, duration, attempt.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("run_id" = RunId, Path), Limit),
    responses((status = 200, body = Vec<Callout>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/runs/{run_id}/callouts")]
pub async fn run_callouts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, RunId)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<Callout>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::run_callouts(&state, &principal, tenant_id, id, query.0.limit).await?,
    ))
}
