use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::api_keys::{CreateApiKeyRequest, CreatedApiKey};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::api_keys;
use crate::state::AppState;

/// Create an API key for one environment. The response holds the key; it is never shown again.
#[utoipa::path(
    tag = "api-keys",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/api-keys")]
pub async fn create_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = api_keys::create(
        &state.db,
        &principal,
        &actor(&req, &principal),
        path.into_inner(),
        body.0,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}
