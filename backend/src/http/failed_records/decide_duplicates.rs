use actix_web::{HttpRequest, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::failed_records::{DecideDuplicatesRequest, FailedRecordsActed};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::sync_history;
use crate::state::AppState;

/// Decides duplicate candidates (open failed records of kind `duplicate`): `link` them to the
/// twin each names, with the `leading` side's values winning, or `create_new` records after all.
/// A replay applies the decision at once. Audited.
#[utoipa::path(
    tag = "failed records",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = DecideDuplicatesRequest,
    responses((status = 200, body = FailedRecordsActed), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/failed-records/duplicates/decide")]
pub async fn decide_duplicates(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<DecideDuplicatesRequest>,
) -> Result<web::Json<FailedRecordsActed>, ApiError> {
    Ok(web::Json(
        sync_history::decide_duplicates(&state, &principal, &actor(&req, &principal), path.into_inner(), body.0)
            .await?,
    ))
}
