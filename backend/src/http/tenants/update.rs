use actix_web::{HttpRequest, patch, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::tenants::{Tenant, UpdateTenantRequest};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::tenants;
use crate::state::AppState;

/// Rename a tenant.
#[utoipa::path(
    tag = "tenants",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = UpdateTenantRequest,
    responses(
        (status = 200, body = Tenant),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[patch("/tenants/{tenant_id}")]
pub async fn update_tenant(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<UpdateTenantRequest>,
) -> Result<web::Json<Tenant>, ApiError> {
    let tenant = tenants::rename(
        &state.db,
        &principal,
        &actor(&req, &principal),
        path.into_inner(),
        body.0,
    )
    .await?;
    Ok(web::Json(tenant))
}
