use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::api_keys::AppIdentity;

use crate::auth::AppPrincipal;

/// Which tenant and environment the presented API key acts for: a quick check that a key works.
#[utoipa::path(
    tag = "app",
    security(("api_key" = [])),
    responses(
        (status = 200, body = AppIdentity),
        (status = 401, description = "Missing, unknown or revoked key", body = ErrorBody),
    )
)]
#[get("/app/whoami")]
pub async fn whoami(app: AppPrincipal) -> web::Json<AppIdentity> {
    web::Json(AppIdentity {
        tenant_id: app.tenant_id,
        tenant_name: app.tenant_name,
        environment_id: app.environment_id,
        environment: app.environment,
        key_id: app.key_id,
        key_prefix: app.key_prefix,
    })
}
