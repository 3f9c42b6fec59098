use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;

use crate::auth::{Principal, session};
use crate::http::error::ApiError;
use crate::state::AppState;

/// End the current session. The cookie is cleared and the session can no longer be used.
#[utoipa::path(
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = ErrorBody),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    session::end(&state.db, &principal.token_hash).await?;
    let cookie = super::session_cookie(&req, &state.settings, String::new(), None);
    Ok(HttpResponse::NoContent().cookie(cookie).finish())
}
