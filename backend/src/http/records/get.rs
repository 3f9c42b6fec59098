use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::records::StoredRecord;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::records;
use crate::state::AppState;

/// The record as Tandem holds it for the key's environment.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(("object" = String, Path), ("external_id" = String, Path)),
    responses((status = 200, body = StoredRecord), (status = 404, body = ErrorBody))
)]
#[get("/records/{object}/{external_id}")]
pub async fn get_record(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<StoredRecord>, ApiError> {
    let (object, external_id) = path.into_inner();
    let object = records::object(&object)?;
    Ok(web::Json(records::get(&state.db, &app, object, &external_id).await?))
}
