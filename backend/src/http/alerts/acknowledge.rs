use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::alerts::Alert;
use tandem_shared::ids::{AlertId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::sync_history;
use crate::state::AppState;

#[utoipa::path(
    tag = "alerts",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("alert_id" = AlertId, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/tenants/{tenant_id}/alerts/{alert_id}/acknowledge")]
pub async fn acknowledge_alert(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, AlertId)>,
) -> Result<web::Json<Alert>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::acknowledge_alert(&state, &principal, tenant_id, id).await?,
    ))
}
