use actix_web::{HttpRequest, HttpResponse, delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{ConnectionId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::connections;
use crate::state::AppState;

/// Disconnects: gives access back at the CRM where it can, deletes the tokens and the connection.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("connection_id" = ConnectionId, Path)),
    responses((status = 204, description = "Disconnected"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/tenants/{tenant_id}/connections/{connection_id}")]
pub async fn disconnect(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ConnectionId)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let actor = actor(&req, &principal);
    connections::disconnect(&state.db, &state.vault, &state.crm, &principal, &actor, tenant_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
