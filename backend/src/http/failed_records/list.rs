use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tandem_shared::ErrorBody;
use tandem_shared::api::failed_records::{FailedRecord, FailedRecordStatus};
use tandem_shared::ids::{PipelineId, TenantId};
use tandem_shared::model::AppObject;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::sync_history::{self, FailedQuery};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FailedRecordsQuery {
    pub pipeline_id: Option<PipelineId>,
    /// open (the default), replaying, resolved or ignored.
    pub status: Option<FailedRecordStatus>,
    /// `mapping`, `validation`, `duplicate`, `retries_exhausted`, …
    pub error_kind: Option<String>,
    /// A record's id (on its side) or its email.
    pub q: Option<String>,
    /// `contact`, `company`, `deal` or `appointment`: records of pipelines of that object.
    pub object: Option<AppObject>,
    /// Records that last failed at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// … and before this time.
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
}

/// Records that could not be synced, newest first, with payloads and the CRM's own error.
#[utoipa::path(
    tag = "failed records",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), FailedRecordsQuery),
    responses((status = 200, body = Vec<FailedRecord>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/tenants/{tenant_id}/failed-records")]
pub async fn list_failed_records(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    query: QueryParams<FailedRecordsQuery>,
) -> Result<web::Json<Vec<FailedRecord>>, ApiError> {
    let q = query.0;
    let query = FailedQuery {
        pipeline_id: q.pipeline_id,
        status: Some(q.status.unwrap_or(FailedRecordStatus::Open)),
        error_kind: q.error_kind,
        search: q.q.filter(|s| !s.trim().is_empty()),
        object: q.object,
        since: q.since,
        until: q.until,
        limit: q.limit,
    };
    Ok(web::Json(
        sync_history::failed_records(&state, &principal, path.into_inner(), query).await?,
    ))
}
