use actix_web::{post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::{AuthorizeRedirect, StartConnectRequest};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::services::connections;
use crate::state::AppState;

/// Starts connecting a CRM to one environment: returns the CRM's consent page to send the
/// person to. It comes back to `/api/v1/oauth/callback` within 10 minutes, or not at all.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = StartConnectRequest,
    responses(
        (status = 200, body = AuthorizeRedirect),
        (status = 400, description = "Unknown or unavailable CRM", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The CRM is not set up for this environment", body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/connections/authorize")]
pub async fn start_connect(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<StartConnectRequest>,
) -> Result<web::Json<AuthorizeRedirect>, ApiError> {
    let redirect = connections::start(
        &state.db,
        &state.vault,
        &state.crm,
        &principal,
        path.into_inner(),
        body.0,
    )
    .await?;
    Ok(web::Json(redirect))
}
