use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::WebhookEndpoint;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::app_changes;
use crate::state::AppState;

#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = [])),
    responses((status = 200, body = Vec<WebhookEndpoint>), (status = 401, body = ErrorBody))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    app: AppPrincipal,
) -> Result<web::Json<Vec<WebhookEndpoint>>, ApiError> {
    Ok(web::Json(app_changes::list_endpoints(&state.db, (&app).into()).await?))
}
