use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::audit::AuditPage;
use tandem_shared::ids::TenantId;

use super::AuditQuery;
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::audit;
use crate::state::AppState;

/// Every change in the tenant: who, what, when. For tenant admins and operator staff.
#[utoipa::path(
    tag = "audit",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Viewers do not read the audit log", body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[get("/tenants/{tenant_id}/audit")]
pub async fn list_tenant_audit(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    query: QueryParams<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    let QueryParams(query) = query;
    let page = audit::list_for_tenant(&state.db, &principal, path.into_inner(), query.before, query.limit()).await?;
    Ok(web::Json(page))
}
