use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::{CreateWebhookEndpointRequest, CreatedWebhookEndpoint};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::app_changes;
use crate::state::AppState;

/// Registers an endpoint for the environment. The signing secret is in this answer only.
#[utoipa::path(
    tag = "webhooks",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("environment" = String, Path, description = "sandbox or production")),
    request_body = CreateWebhookEndpointRequest,
    responses((status = 201, body = CreatedWebhookEndpoint), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/environments/{environment}/webhooks")]
pub async fn create_environment_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, String)>,
    body: JsonBody<CreateWebhookEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, environment) = path.into_inner();
    let environment = super::environment(&environment)?;
    let created = app_changes::create_endpoint_for(
        &state.db,
        &state.vault,
        &principal,
        &actor(&req, &principal),
        tenant_id,
        environment,
        body.0,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}
