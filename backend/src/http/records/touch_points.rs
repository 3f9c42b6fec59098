use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::records::ContactTouchPoints;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::touch_points;
use crate::state::AppState;

/// How many emails and calls each CRM the contact is synced with has logged with it, read live
/// from the CRMs (one or two calls each).
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(("external_id" = String, Path, description = "The app's id of the contact")),
    responses((status = 200, body = ContactTouchPoints), (status = 404, body = ErrorBody))
)]
#[get("/records/contact/{external_id}/touch-points")]
pub async fn contact_touch_points(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<String>,
) -> Result<web::Json<ContactTouchPoints>, ApiError> {
    let external_id = path.into_inner();
    Ok(web::Json(touch_points::for_contact(&state, &app, &external_id).await?))
}
