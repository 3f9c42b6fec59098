use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::api_keys::ApiKey;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::api_keys;
use crate::state::AppState;

/// The tenant's API keys (never the secrets), active ones first.
#[utoipa::path(
    tag = "api-keys",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Vec<ApiKey>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    Ok(web::Json(
        api_keys::list(&state.db, &principal, path.into_inner()).await?,
    ))
}
