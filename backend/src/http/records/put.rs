use actix_web::{put, web};
use serde_json::Value;
use tandem_shared::ErrorBody;
use tandem_shared::api::records::PushResult;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::records;
use crate::state::AppState;

/// Creates or updates one record of the app's, by the app's own id. Pushing the same content
/// again changes nothing (`unchanged`) and costs no CRM call. The body is the record in the
/// unified model (`Contact`, `Company`, `Deal` or `Appointment`).
#[utoipa::path(
    tag = "records",
    security(("api_key" = [])),
    params(
        ("object" = String, Path, description = "contact, company, deal or appointment"),
        ("external_id" = String, Path, description = "The app's id of the record"),
    ),
    request_body(content = Object, description = "The record: see the Contact, Company, Deal and Appointment schemas"),
    responses(
        (status = 200, body = PushResult),
        (status = 400, description = "The record is invalid: `field` names the first problem, `message` lists all", body = ErrorBody),
        (status = 401, body = ErrorBody),
    )
)]
#[put("/records/{object}/{external_id}")]
pub async fn put_record(
    state: web::Data<AppState>,
    app: AppPrincipal,
    path: web::Path<(String, String)>,
    body: JsonBody<Value>,
) -> Result<web::Json<PushResult>, ApiError> {
    let (object, external_id) = path.into_inner();
    let object = records::object(&object)?;
    Ok(web::Json(
        records::push(&state.db, &app, object, &external_id, &body.0).await?,
    ))
}
