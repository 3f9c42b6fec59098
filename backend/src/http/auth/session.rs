use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::auth::SessionInfo;

use crate::auth::Principal;

/// The current session: who is logged in, their role and tenant, and the CSRF token.
#[utoipa::path(
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "No valid session", body = ErrorBody),
    )
)]
#[get("/auth/session")]
pub async fn current_session(principal: Principal) -> web::Json<SessionInfo> {
    web::Json(principal.session)
}
