use actix_web::{HttpRequest, patch, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::users::{UpdateUserRequest, User};
use tandem_shared::ids::{TenantId, UserId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::users;
use crate::state::AppState;

/// Change a user's role or name. The tenant's last admin cannot be demoted.
#[utoipa::path(
    tag = "users",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("user_id" = UserId, Path)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = User),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "This is the last admin", body = ErrorBody),
    )
)]
#[patch("/tenants/{tenant_id}/users/{user_id}")]
pub async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, UserId)>,
    body: JsonBody<UpdateUserRequest>,
) -> Result<web::Json<User>, ApiError> {
    let (tenant_id, user_id) = path.into_inner();
    let user = users::update(
        &state.db,
        &principal,
        &actor(&req, &principal),
        tenant_id,
        user_id,
        body.0,
    )
    .await?;
    Ok(web::Json(user))
}
