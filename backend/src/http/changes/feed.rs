use actix_web::{get, web};
use serde::Deserialize;
use tandem_shared::ErrorBody;
use tandem_shared::api::changes::ChangePage;

use crate::auth::AppPrincipal;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::services::app_changes;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next_cursor` of the previous page; none: from the first change.
    pub after: Option<String>,
    /// contact, company, deal or appointment; none: all.
    pub object: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// Changes the CRMs made to records, in the order they were recorded, after a cursor. Keep
/// `next_cursor` and pass it as `after` next time: nothing is skipped or repeated.
#[utoipa::path(
    tag = "changes",
    security(("api_key" = [])),
    params(FeedQuery),
    responses((status = 200, body = ChangePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/changes")]
pub async fn change_feed(
    state: web::Data<AppState>,
    app: AppPrincipal,
    query: QueryParams<FeedQuery>,
) -> Result<web::Json<ChangePage>, ApiError> {
    let q = query.0;
    Ok(web::Json(
        app_changes::feed(&state.db, &app, q.after.as_deref(), q.object.as_deref(), q.limit).await?,
    ))
}
