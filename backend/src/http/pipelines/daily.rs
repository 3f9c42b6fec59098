use actix_web::{get, web};
use serde::Deserialize;
use tandem_shared::ErrorBody;
use tandem_shared::api::runs::DailyCounts;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::sync_history;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Days {
    /// How many UTC days back, today included (1 to 90, default 14).
    pub days: Option<i64>,
}

/// Records synced and failed per UTC day, oldest first, every day present.
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path), Days),
    responses((status = 200, body = Vec<DailyCounts>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/daily")]
pub async fn daily_counts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
    query: QueryParams<Days>,
) -> Result<web::Json<Vec<DailyCounts>>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    Ok(web::Json(
        sync_history::daily(&state, &principal, tenant_id, id, query.0.days).await?,
    ))
}
