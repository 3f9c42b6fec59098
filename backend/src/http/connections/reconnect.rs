use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::AuthorizeRedirect;
use tandem_shared::ids::{ConnectionId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::connections;
use crate::state::AppState;

/// Authorizes an existing connection again (after the CRM revoked access): returns the consent
/// page to send the person to.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("connection_id" = ConnectionId, Path)),
    responses((status = 200, body = AuthorizeRedirect), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/connections/{connection_id}/reconnect")]
pub async fn reconnect(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ConnectionId)>,
) -> Result<web::Json<AuthorizeRedirect>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        connections::reconnect(&state.db, &state.vault, &state.crm, &principal, tenant_id, id).await?,
    ))
}
