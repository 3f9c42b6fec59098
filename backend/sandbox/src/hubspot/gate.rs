//! What stands in front of every CRM API call: the bearer token must belong to the account in
//! the path; injected faults and the account's limits apply; every answer carries the
//! `X-HubSpot-RateLimit-*` headers.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::json;

use super::HubSpot;
use super::errors::HsError;
use crate::faults::FaultOutcome;
use crate::limits::{Usage, Verdict};
use crate::oauth::AccessError;

/// The account a request was authenticated for.
#[derive(Clone, Debug)]
pub struct AuthedAccount {
    pub key: String,
}

impl FromRequest for AuthedAccount {
    type Error = HsError;
    type Future = std::future::Ready<Result<Self, HsError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<AuthedAccount>()
                .cloned()
                .ok_or_else(|| HsError::new(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")),
        )
    }
}

fn bearer(req: &ServiceRequest) -> Option<String> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
}

fn unauthenticated(error: AccessError) -> HsError {
    match error {
        AccessError::Expired { ago } => HsError::new(
            401,
            "EXPIRED_AUTHENTICATION",
            format!(
                "The OAuth token used to make this call expired {} minute(s) ago.",
                ago.as_secs() / 60
            ),
        ),
        AccessError::Missing | AccessError::Unknown | AccessError::Revoked => HsError::new(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more \
             details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ),
    }
}

pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(hubspot) = req.app_data::<web::Data<HubSpot>>().cloned() else {
        return Ok(req.into_response(HsError::new(500, "INTERNAL_ERROR", "sandbox not configured").response()));
    };
    let key = req.match_info().get("account").unwrap_or_default().to_string();
    if !super::valid_account_key(&key) {
        return Ok(req.into_response(HsError::new(404, "OBJECT_NOT_FOUND", "No such account").response()));
    }
    let token = bearer(&req);
    match hubspot.oauth.authenticate(token.as_deref()) {
        Ok(access) if access.grant.account == key => {}
        Ok(_) => {
            let error = HsError::new(
                401,
                "INVALID_AUTHENTICATION",
                format!("This token does not belong to account {key}."),
            );
            return Ok(req.into_response(error.response()));
        }
        Err(error) => return Ok(req.into_response(unauthenticated(error).response())),
    }

    let is_search = req.path().ends_with("/search");
    let (decision, verdict, usage) = hubspot.with_account(&key, |account| {
        let decision = account.faults.decide();
        let verdict = match decision.outcome {
            FaultOutcome::Proceed if is_search => account.search_limits.check(),
            FaultOutcome::Proceed => account.limits.check(),
            _ => Verdict::Allowed,
        };
        (decision, verdict, account.limits.usage())
    });
    if decision.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    let refusal = match (decision.outcome, verdict) {
        (FaultOutcome::Drop, _) => return Ok(req.into_response(crate::dropped_connection())),
        (FaultOutcome::Status(status), _) => Some(injected_error(status)),
        (FaultOutcome::RateLimited, _) | (_, Verdict::WindowExceeded { .. }) => Some(rate_limited(if is_search {
            ("secondly", "SECONDLY")
        } else {
            ("ten_secondly_rolling", "TEN_SECONDLY_ROLLING")
        })),
        (_, Verdict::DailyExceeded) => Some(rate_limited(("daily", "DAILY"))),
        (FaultOutcome::Proceed, Verdict::Allowed) => None,
    };
    if let Some(response) = refusal {
        let mut response = req.into_response(response);
        if !is_search {
            rate_limit_headers(response.headers_mut(), &usage);
        }
        return Ok(response);
    }

    req.extensions_mut().insert(AuthedAccount { key });
    let mut response = next.call(req).await?.map_into_boxed_body();
    if !is_search {
        rate_limit_headers(response.headers_mut(), &usage);
    }
    Ok(response)
}

/// HubSpot's 429 body: `errorType: RATE_LIMIT` and the policy that was hit.
fn rate_limited((limit, policy): (&str, &str)) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .content_type("application/json;charset=utf-8")
        .body(
            json!({
                "status": "error",
                "message": format!("You have reached your {limit} limit."),
                "errorType": "RATE_LIMIT",
                "correlationId": uuid::Uuid::new_v4().to_string(),
                "policyName": policy,
                "requestId": uuid::Uuid::new_v4().to_string(),
            })
            .to_string(),
        )
}

fn injected_error(status: u16) -> HttpResponse {
    let category = match status {
        401 => "EXPIRED_AUTHENTICATION",
        403 => "MISSING_SCOPES",
        404 => "OBJECT_NOT_FOUND",
        409 => "CONFLICT",
        429 => return rate_limited(("ten_secondly_rolling", "TEN_SECONDLY_ROLLING")),
        400..=499 => "VALIDATION_ERROR",
        _ => "INTERNAL_ERROR",
    };
    HsError::new(status, category, format!("Injected fault: HTTP {status}")).response()
}

fn rate_limit_headers(headers: &mut actix_web::http::header::HeaderMap, usage: &Usage) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("x-hubspot-ratelimit-daily", usage.daily_max.to_string());
    set("x-hubspot-ratelimit-daily-remaining", usage.daily_remaining.to_string());
    set("x-hubspot-ratelimit-interval-milliseconds", usage.window_ms.to_string());
    set("x-hubspot-ratelimit-max", usage.window_max.to_string());
    set("x-hubspot-ratelimit-remaining", usage.window_remaining.to_string());
}

pub async fn unknown_endpoint(req: HttpRequest) -> HttpResponse {
    HsError::new(
        404,
        "OBJECT_NOT_FOUND",
        format!("No HubSpot endpoint at {} {}", req.method(), req.path()),
    )
    .response()
}

/// `properties` (and similar) query parameters: repeated keys and comma-joined values alike.
pub fn query_list(req: &HttpRequest, name: &str) -> Option<Vec<String>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let values: Vec<String> = pairs
        .into_iter()
        .filter(|(key, _)| key == name)
        .flat_map(|(_, value)| value.split(',').map(|v| v.trim().to_string()).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect();
    (!values.is_empty()).then_some(values)
}

pub fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HsError> {
    serde_json::from_slice(body).map_err(|e| super::errors::invalid_json(&e))
}

pub fn object_type(name: &str) -> Result<super::ObjectType, HsError> {
    super::ObjectType::parse(name)
        .ok_or_else(|| HsError::bad_request(format!("Unable to infer object type from: {name}")))
}
