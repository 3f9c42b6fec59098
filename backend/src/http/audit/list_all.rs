use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::audit::AuditPage;

use super::AuditQuery;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::audit;
use crate::state::AppState;

/// The whole audit log, every tenant and the operator's own changes. Operator admins and support.
#[utoipa::path(
    tag = "audit",
    security(("session" = [])),
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/audit")]
pub async fn list_all_audit(
    state: web::Data<AppState>,
    principal: Principal,
    query: QueryParams<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let QueryParams(query) = query;
    Ok(web::Json(
        audit::list_everything(&state.db, &principal, query.before, query.limit()).await?,
    ))
}
