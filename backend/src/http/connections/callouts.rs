use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::Callout;
use tandem_shared::ids::{ConnectionId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::sync_history;
use crate::state::AppState;

/// The connection's latest CRM calls, newest first — those of runs (with their `run_id`) and
/// those made while people worked (reading fields, previews): method, path, status, duration,
/// attempt.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("connection_id" = ConnectionId, Path), Limit),
    responses((status = 200, body = Vec<Callout>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/connections/{connection_id}/callouts")]
pub async fn connection_callouts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ConnectionId)>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<Callout>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::connection_callouts(&state, &principal, tenant_id, id, query.0.limit).await?,
    ))
}
