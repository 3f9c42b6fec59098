use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::Connection;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::connections;
use crate::state::AppState;

/// The tenant's connected CRM accounts, both environments. Tokens are never part of them.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Vec<Connection>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/connections")]
pub async fn list_connections(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Vec<Connection>>, ApiError> {
    Ok(web::Json(
        connections::list(&state.db, &principal, path.into_inner()).await?,
    ))
}
