use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::tenants::Tenant;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::tenants;
use crate::state::AppState;

/// The tenants the caller can see: all for operator admins and support, demo tenants for
/// sales, their own for tenant users.
#[utoipa::path(
    tag = "tenants",
    security(("session" = [])),
    responses((status = 200, body = Vec<Tenant>), (status = 401, body = ErrorBody))
)]
#[get("/tenants")]
pub async fn list_tenants(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<Vec<Tenant>>, ApiError> {
    Ok(web::Json(tenants::list(&state.db, &principal).await?))
}
