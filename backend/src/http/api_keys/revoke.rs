use actix_web::{HttpRequest, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::api_keys::ApiKey;
use tandem_shared::ids::{ApiKeyId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::api_keys;
use crate::state::AppState;

/// Revoke an API key. From now on it gets 401. Revoking a revoked key changes nothing.
#[utoipa::path(
    tag = "api-keys",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("key_id" = ApiKeyId, Path)),
    responses(
        (status = 200, body = ApiKey),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/api-keys/{key_id}/revoke")]
pub async fn revoke_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, ApiKeyId)>,
) -> Result<web::Json<ApiKey>, ApiError> {
    let (tenant_id, key_id) = path.into_inner();
    let key = api_keys::revoke(&state.db, &principal, &actor(&req, &principal), tenant_id, key_id).await?;
    Ok(web::Json(key))
}
