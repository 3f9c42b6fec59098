use actix_web::{HttpRequest, patch, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::{Connection, UpdateConnectionRequest};
use tandem_shared::ids::{ConnectionId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::connections;
use crate::state::AppState;

/// Sets the connection's own API limits: requests a second and calls a day (the share of the
/// account's allowance Tandem may use). `null` goes back to the CRM's default.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("connection_id" = ConnectionId, Path)),
    request_body = UpdateConnectionRequest,
    responses((status = 200, body = Connection), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/tenants/{tenant_id}/connections/{connection_id}")]
pub async fn update_connection(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ConnectionId)>,
    body: JsonBody<UpdateConnectionRequest>,
) -> Result<web::Json<Connection>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let actor = actor(&req, &principal);
    Ok(web::Json(
        connections::update(&state.db, &state.queue, &principal, &actor, tenant_id, id, body.0).await?,
    ))
}
