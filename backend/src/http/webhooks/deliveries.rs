use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::WebhookDelivery;
use tandem_shared::ids::WebhookEndpointId;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::app_changes;
use crate::state::AppState;

/// The delivery log: every webhook sent to the endpoint, newest first, with each attempt.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = [])),
    params(("endpoint_id" = WebhookEndpointId, Path), Limit),
    responses((status = 200, body = Vec<WebhookDelivery>), (status = 404, body = ErrorBody))
)]
#[get("/webhooks/{endpoint_id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<WebhookEndpointId>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<WebhookDelivery>>, ApiError> {
    Ok(web::Json(
        app_changes::deliveries(&state.db, &app, path.into_inner(), query.0.limit).await?,
    ))
}
