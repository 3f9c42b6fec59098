use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::Run;
use tandem_shared::ids::{RunId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::sync_history;
use crate::state::AppState;

#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("run_id" = RunId, Path)),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/runs/{run_id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, RunId)>,
) -> Result<web::Json<Run>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(sync_history::run(&state, &principal, tenant_id, id).await?))
}
