use actix_web::{HttpRequest, HttpResponse, post, web};
use tandem_shared::ErrorBody;

use crate::http::error::ApiError;
use crate::services::crm_webhooks::{self, SignedRequest};
use crate::state::AppState;

fn header<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// HubSpot's webhook URL for Tandem's app: events (signed v3 with the app's client secret) make
/// the pipelines reading the changed objects from that account run now. Register
/// `<public URL>/api/v1/crm-webhooks/hubspot` as the app's target URL.
#[utoipa::path(
    tag = "connections",
    request_body(content = Vec<Object>, description = "HubSpot's webhook events, as HubSpot sends them"),
    responses(
        (status = 204, description = "Taken; the affected pipelines run soon"),
        (status = 400, body = ErrorBody),
        (status = 401, description = "The signature is missing, stale or wrong", body = ErrorBody)
    )
)]
#[post("/crm-webhooks/hubspot")]
pub async fn hubspot_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // HubSpot signs the URL it called, which is the public one (behind a proxy, not ours).
    let mut url = format!("{}{}", state.crm.targets.public_url, req.path());
    if !req.query_string().is_empty() {
        url.push('?');
        url.push_str(req.query_string());
    }
    let request = SignedRequest {
        url,
        method: req.method().as_str(),
        body: &body,
        signature: header(&req, "x-hubspot-signature-v3"),
        timestamp: header(&req, "x-hubspot-request-timestamp"),
    };
    crm_webhooks::hubspot(&state, request).await?;
    Ok(HttpResponse::NoContent().finish())
}
