use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::WebhookEndpoint;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::access::Need;
use crate::services::app_changes;
use crate::state::AppState;

/// The environment's webhook endpoints (where changes and alerts are delivered), without secrets.
#[utoipa::path(
    tag = "webhooks",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("environment" = String, Path, description = "sandbox or production")),
    responses((status = 200, body = Vec<WebhookEndpoint>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/environments/{environment}/webhooks")]
pub async fn list_environment_webhooks(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, String)>,
) -> Result<web::Json<Vec<WebhookEndpoint>>, ApiError> {
    let (tenant_id, environment) = path.into_inner();
    let environment = super::environment(&environment)?;
    let scope = app_changes::scope_for(&state.db, &principal, tenant_id, environment, Need::Read).await?;
    Ok(web::Json(app_changes::list_endpoints(&state.db, scope).await?))
}
