use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::tenants::Environment;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::environments;
use crate::state::AppState;

/// The tenant's sandbox and production environments.
#[utoipa::path(
    tag = "environments",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = Vec<Environment>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/environments")]
pub async fn list_environments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<Vec<Environment>>, ApiError> {
    Ok(web::Json(
        environments::list(&state.db, &principal, path.into_inner()).await?,
    ))
}
