//! `/api/v1/auth/*`: log in, log out, read the current session.

use tandem_shared::api::auth::{LoginRequest, SessionInfo};

use super::{ApiFailure, Method, NO_BODY, On401, decode, send, set_csrf_token, url};

/// Logs in. A wrong password is an ordinary failure here, not a "session ended".
pub async fn login(email: &str, password: &str) -> Result<SessionInfo, ApiFailure> {
    let body = LoginRequest {
        email: email.to_string(),
        password: password.to_string(),
    };
    let response = send(Method::Post, &url("/auth/login"), Some(&body), On401::Return).await?;
    let session: SessionInfo = decode(response).await?;
    set_csrf_token(Some(session.csrf_token.clone()));
    Ok(session)
}

/// The current session, if the cookie still holds one. A 401 means "not logged in".
pub async fn current_session() -> Result<SessionInfo, ApiFailure> {
    let response = send(Method::Get, &url("/auth/session"), NO_BODY, On401::Return).await?;
    let session: SessionInfo = decode(response).await?;
    set_csrf_token(Some(session.csrf_token.clone()));
    Ok(session)
}

/// Ends the session on the server. The CSRF token is forgotten whatever the outcome.
pub async fn logout() -> Result<(), ApiFailure> {
    let result = send(Method::Post, &url("/auth/logout"), NO_BODY, On401::Return).await;
    set_csrf_token(None);
    result.map(|_| ())
}
