use actix_web::cookie::time;
use actix_web::{HttpRequest, HttpResponse, post, web};
use secrecy::SecretString;
use tandem_shared::ErrorBody;
use tandem_shared::api::auth::{LoginRequest, SessionInfo};

use crate::auth::session;
use crate::http::error::ApiError;
use crate::http::extract::JsonBody;
use crate::state::AppState;

/// Log in with email and password. Sets the session cookie and returns the CSRF token to send
/// with every write. A wrong email and a wrong password give the same answer; repeated failures
/// are throttled.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the `tandem_session` cookie is set", body = SessionInfo),
        (status = 400, description = "The body is not a login request", body = ErrorBody),
        (status = 401, description = "Email or password is incorrect", body = ErrorBody),
        (status = 429, description = "Too many failed logins; see `Retry-After`", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody(request) = body;
    let client_ip = req.peer_addr().map(|addr| addr.ip().to_string());
    let issued = session::login(
        &state.db,
        &state.settings.auth,
        &request.email,
        &SecretString::from(request.password),
        client_ip.as_deref(),
    )
    .await?;
    let max_age = time::Duration::minutes(state.settings.auth.session_ttl_minutes);
    let cookie = super::session_cookie(&req, &state.settings, issued.token, Some(max_age));
    Ok(HttpResponse::Ok().cookie(cookie).json(issued.info))
}
