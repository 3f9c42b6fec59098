use actix_web::{get, web};
use serde::Deserialize;
use tandem_shared::ErrorBody;
use tandem_shared::api::support::SupportHit;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::support;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A tenant's name, slug or id; an email; the app's record id; a CRM's record id; a run id;
    /// a failed record's id.
    pub q: String,
}

/// Searches every tenant (operator admins and support staff): where a tenant, an email or an id
/// appears. Hits point to the tenant's own pages; they hold no secret.
#[utoipa::path(
    tag = "support",
    security(("session" = [])),
    params(SearchQuery),
    responses((status = 200, body = Vec<SupportHit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/support/search")]
pub async fn support_search(
    state: web::Data<AppState>,
    principal: Principal,
    query: QueryParams<SearchQuery>,
) -> Result<web::Json<Vec<SupportHit>>, ApiError> {
    let QueryParams(query) = query;
    Ok(web::Json(support::search(&state.db, &principal, &query.q).await?))
}
