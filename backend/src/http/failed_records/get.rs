use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::ids::{FailedRecordId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::sync_history;
use crate::state::AppState;

#[utoipa::path(
    tag = "failed records",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("failed_record_id" = FailedRecordId, Path)),
    responses((status = 200, body = FailedRecord), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/failed-records/{failed_record_id}")]
pub async fn get_failed_record(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, FailedRecordId)>,
) -> Result<web::Json<FailedRecord>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::failed_record(&state, &principal, tenant_id, id).await?,
    ))
}
