use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::alerts::Alert;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::pipelines::Limit;
use crate::services::sync_history;
use crate::state::AppState;

/// The tenant's alerts, newest first, with whether they reached the alert webhooks.
#[utoipa::path(
    tag = "alerts",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), Limit),
    responses((status = 200, body = Vec<Alert>), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/alerts")]
pub async fn list_alerts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    query: QueryParams<Limit>,
) -> Result<web::Json<Vec<Alert>>, ApiError> {
    Ok(web::Json(
        sync_history::alerts(&state, &principal, path.into_inner(), query.0.limit).await?,
    ))
}
