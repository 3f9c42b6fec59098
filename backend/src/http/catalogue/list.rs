use actix_web::{get, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::ProviderInfo;

use crate::auth::Principal;
use crate::services::connections;

/// The CRMs Tandem can connect, and those coming soon.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    responses((status = 200, body = Vec<ProviderInfo>), (status = 401, body = ErrorBody))
)]
#[get("/catalogue")]
pub async fn list_providers(_principal: Principal) -> web::Json<Vec<ProviderInfo>> {
    web::Json(connections::catalogue())
}
