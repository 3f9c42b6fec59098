//! `/api/v1/demos`: sales demos — start one, read its dashboard, start it over.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use tandem_shared::ErrorBody;
use tandem_shared::api::demo::{DemoDashboard, StartDemoRequest};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::actor;
use crate::services::demo;
use crate::state::AppState;

/// Starts a demo: a new demo tenant connected to the sandbox CRMs asked for (`crms`; HubSpot and
/// Salesforce when none are), seeded, with its pipelines running and the activity generator
/// changing records on every side. Sales staff and operator admins. An empty body is as `{}`.
#[utoipa::path(
    tag = "demos",
    security(("session" = [])),
    request_body(content = Option<StartDemoRequest>),
    responses((status = 201, body = Tenant), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[post("/demos")]
pub async fn start_demo(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: StartDemoRequest = if body.iter().all(u8::is_ascii_whitespace) {
        StartDemoRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            crate::services::ServiceError::from(crate::domain::FieldError::new(
                "crms",
                format!("invalid request body: {e}"),
            ))
        })?
    };
    let tenant = demo::start(&state, &principal, &actor(&req, &principal), request).await?;
    Ok(HttpResponse::Created().json(tenant))
}

/// Starts the demo over: the demo tenant and everything in it go, a fresh one is started.
#[utoipa::path(
    tag = "demos",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 201, body = Tenant), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/demos/{tenant_id}/reset")]
pub async fn reset_demo(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<HttpResponse, ApiError> {
    let tenant = demo::reset(&state, &principal, &actor(&req, &principal), path.into_inner()).await?;
    Ok(HttpResponse::Created().json(tenant))
}

/// What the demo's pipelines moved, its latest records and the failures waiting.
#[utoipa::path(
    tag = "demos",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path)),
    responses((status = 200, body = DemoDashboard), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/demos/{tenant_id}")]
pub async fn demo_dashboard(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<TenantId>,
) -> Result<web::Json<DemoDashboard>, ApiError> {
    Ok(web::Json(demo::dashboard(&state, &principal, path.into_inner()).await?))
}
