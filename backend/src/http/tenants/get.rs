use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::tenants;
use crate::state::AppState;

#[utoipa::path(
    tag = "tenants",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Tenant), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}")]
pub async fn get_tenant(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Tenant>, ApiError> {
    Ok(web::Json(tenants::get(&state.db, &principal, path.into_inner()).await?))
}
