use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::users::{CreateUserRequest, CreatedUser};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::users;
use crate::state::AppState;

/// Add a user to the tenant. Without a password, one is generated and returned this once.
#[utoipa::path(
    tag = "users",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreatedUser),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/users")]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = users::create(
        &state.db,
        &principal,
        &actor(&req, &principal),
        path.into_inner(),
        body.0,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}
