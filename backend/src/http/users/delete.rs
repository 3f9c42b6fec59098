use actix_web::{HttpRequest, HttpResponse, delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{TenantId, UserId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::users;
use crate::state::AppState;

/// Remove a user from the tenant; their sessions end at once.
#[utoipa::path(
    tag = "users",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("user_id" = UserId, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "This is the last admin", body = ErrorBody),
    )
)]
#[delete("/tenants/{tenant_id}/users/{user_id}")]
pub async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, user_id) = path.into_inner();
    users::remove(&state.db, &principal, &actor(&req, &principal), tenant_id, user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
