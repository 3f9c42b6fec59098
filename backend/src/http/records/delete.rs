use actix_web::{delete, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::records::PushResult;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::services::records;
use crate::state::AppState;

/// Marks a record deleted in the app; pipelines propagate the deletion per their delete policy.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(("object" = String, Path), ("external_id" = String, Path)),
    responses((status = 200, body = PushResult), (status = 404, body = ErrorBody))
)]
#[delete("/records/{object}/{external_id}")]
pub async fn delete_record(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<(String, String)>,
) -> Result<web::Json<PushResult>, ApiError> {
    let (object, external_id) = path.into_inner();
    let object = records::object(&object)?;
    Ok(web::Json(records::delete(&state.db, &app, object, &external_id).await?))
}
