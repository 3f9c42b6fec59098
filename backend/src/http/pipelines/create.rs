use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::pipelines::{CreatePipelineRequest, Pipeline};
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, actor};
use crate::services::pipelines;
use crate::state::AppState;

/// Creates a pipeline and starts its initial run. Each mapping is validated against the live
/// field lists of both sides (left out, Tandem's suggested mapping is used).
#[utoipa::path(
    tag = "pipelines",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    request_body = CreatePipelineRequest,
    responses(
        (status = 201, body = Pipeline),
        (status = 400, description = "`field` names the problem: a setting, a side, or a mapping's field", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The name is taken in this environment", body = ErrorBody),
        (status = 502, description = "A CRM's field list could not be read", body = ErrorBody),
    )
)]
#[post("/tenants/{tenant_id}/pipelines")]
pub async fn create_pipeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
    body: JsonBody<CreatePipelineRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = pipelines::create(&state, &principal, &actor(&req, &principal), path.into_inner(), body.0).await?;
    Ok(HttpResponse::Created().json(created))
}
