use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::tenants::{CreateTenantRequest, Tenant};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::tenants;
use crate::state::AppState;

/// Create a tenant with its sandbox and production environments. Operator admins create any
/// tenant; sales staff demo tenants only.
#[utoipa::path(
    tag = "tenants",
    security(("session" = [])),
    request_body = CreateTenantRequest,
    responses(
        (status = 201, body = Tenant),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
    )
)]
#[post("/tenants")]
pub async fn create_tenant(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<CreateTenantRequest>,
) -> Result<HttpResponse, ApiError> {
    let tenant = tenants::create(&state.db, &principal, &actor(&req, &principal), body.0).await?;
    Ok(HttpResponse::Created().json(tenant))
}
