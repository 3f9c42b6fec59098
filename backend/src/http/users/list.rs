use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::users::User;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::users;
use crate::state::AppState;

#[utoipa::path(
    tag = "users",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Vec<User>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Vec<User>>, ApiError> {
    Ok(web::Json(users::list(&state.db, &principal, path.into_inner()).await?))
}
