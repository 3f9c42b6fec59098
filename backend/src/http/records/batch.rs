use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::records::{BatchPush, BatchPushResult};

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::records;
use crate::state::AppState;

/// Pushes up to 500 records of one object in one call. Each gets its own result: invalid records
/// are reported with every field at fault, and the others are stored all the same.
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(("object" = String, Path, description = "contact, company, deal or appointment")),
    request_body = BatchPush,
    responses((status = 200, body = BatchPushResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[post("/records/{object}/batch")]
pub async fn push_batch(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<String>,
    body: JsonBody<BatchPush>,
) -> Result<web::Json<BatchPushResult>, ApiError> {
    let object = records::object(&path.into_inner())?;
    Ok(web::Json(records::push_batch(&state.db, &app, object, body.0).await?))
}
