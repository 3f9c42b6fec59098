use actix_web::{HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::{CreateWebhookEndpointRequest, CreatedWebhookEndpoint};

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::app_changes;
use crate::state::AppState;

/// Registers an endpoint for the key's environment. The signing secret is in this answer only:
/// every delivery carries `Tandem-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
/// "<t>.<body>")>`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = [])),
    request_body = CreateWebhookEndpointRequest,
    responses((status = 201, body = CreatedWebhookEndpoint), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    app: AppPrincipal,
    body: JsonBody<CreateWebhookEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = app_changes::create_endpoint(&state.db, &state.vault, (&app).into(), body.0).await?;
    Ok(HttpResponse::Created().json(created))
}
