use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::connections::{ConnectWithCredentialsRequest, Connection};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::connections;
use crate::state::AppState;

/// Connects a CRM with credentials an admin entered (Pipedrive's API token; see the catalogue's
/// `credential_fields`). They are checked against the CRM first; a refusal stores nothing and
/// names the field with the CRM's reason. Entering new ones for a connected CRM replaces them.
/// They are sealed in the vault and never shown back.
#[utoipa::path(
    tag = "connections",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = ConnectWithCredentialsRequest,
    responses(
        (status = 201, body = Connection),
        (status = 400, description = "A missing or refused credential, named", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 502, description = "The CRM could not be reached to check them", body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/connections/credentials")]
pub async fn connect_with_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<ConnectWithCredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&req, &principal);
    let connection = connections::connect_with_credentials(
        &state.db,
        &state.vault,
        &state.crm,
        &principal,
        &actor,
        path.into_inner(),
        body.0,
    )
    .await?;
    Ok(HttpResponse::Created().json(connection))
}
