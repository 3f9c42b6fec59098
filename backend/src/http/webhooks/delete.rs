use actix_web::{HttpResponse, delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::WebhookEndpointId;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::app_changes;
use crate::state::AppState;

#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = [])),
    params(("endpoint_id" = WebhookEndpointId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
#[delete("/webhooks/{endpoint_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    app_changes::delete_endpoint(&state.db, &state.vault, (&app).into(), path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
