use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::ConnectionCheck;
use tandem_shared::ids::{ConnectionId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::connections;
use crate::state::AppState;

/// Calls the CRM with the connection (refreshing its token if due) and reports what happened;
/// the connection's status follows the outcome.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("connection_id" = ConnectionId, Path)),
    responses((status = 200, body = ConnectionCheck), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/connections/{connection_id}/test")]
pub async fn test_connection(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ConnectionId)>,
) -> Result<web::Json<ConnectionCheck>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        connections::test(&state.db, &state.crm, &principal, tenant_id, id).await?,
    ))
}
