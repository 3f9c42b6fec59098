use actix_web::{HttpRequest, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::failed_records::{FailedRecordsActed, IgnoreRequest};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::sync_history;
use crate::state::AppState;

/// Marks the selected open failures as ignored, with the reason. Audited.
#[utoipa::path(
    tag = "failed records",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = IgnoreRequest,
    responses((status = 200, body = FailedRecordsActed), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/failed-records/ignore")]
pub async fn ignore_failed_records(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<IgnoreRequest>,
) -> Result<web::Json<FailedRecordsActed>, ApiError> {
    Ok(web::Json(
        sync_history::ignore(&state, &principal, &actor(&req, &principal), path.into_inner(), body.0).await?,
    ))
}
