use actix_web::{HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{WebhookDeliveryId, WebhookEndpointId};

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::app_changes;
use crate::state::AppState;

/// Sends a delivery again, with the same `Tandem-Delivery` id.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = [])),
    params(("endpoint_id" = WebhookEndpointId, Path), ("delivery_id" = WebhookDeliveryId, Path)),
    responses((status = 202), (status = 404, body = ErrorBody))
)]
#[post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<(WebhookEndpointId, WebhookDeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint_id, delivery_id) = path.into_inner();
    app_changes::replay_delivery(&state.db, &state.queue, &app, endpoint_id, delivery_id).await?;
    Ok(HttpResponse::Accepted().finish())
}
