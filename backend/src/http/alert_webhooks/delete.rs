use actix_web::{HttpRequest, HttpResponse, delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{TenantId, WebhookEndpointId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::app_changes;
use crate::state::AppState;

/// Removes an endpoint of the environment (and its signing secret).
#[utoipa::path(
    tag = "webhooks",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("environment" = String, Path, description = "sandbox or production"), ("endpoint_id" = WebhookEndpointId, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/tenants/{tenant_id}/environments/{environment}/webhooks/{endpoint_id}")]
pub async fn delete_environment_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, String, WebhookEndpointId)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, environment, id) = path.into_inner();
    let environment = super::environment(&environment)?;
    app_changes::delete_endpoint_for(
        &state.db,
        &state.vault,
        &principal,
        &actor(&req, &principal),
        tenant_id,
        environment,
        id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
