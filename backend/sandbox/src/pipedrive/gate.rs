//! What stands in front of every Pipedrive API call: an OAuth bearer token of this company, or
//! the user's API token (`x-api-token` header, as the official client sends it, or the
//! `api_token` query parameter); injected faults; the per-token 2-second window (search has its
//! own, lower one), the daily budget, and the API-token write cap; the `x-ratelimit-*` headers
//! on every answer.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::Pipedrive;
use super::errors::PdError;
use crate::faults::FaultOutcome;
use crate::limits::{Usage, Verdict};

/// The account a request was authenticated for.
#[derive(Clone, Debug)]
pub struct Authed {
    pub key: String,
}

impl FromRequest for Authed {
    type Error = PdError;
    type Future = std::future::Ready<Result<Self, PdError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Authed>()
                .cloned()
                .ok_or_else(PdError::unauthorized),
        )
    }
}

enum Presented {
    Bearer(String),
    ApiToken(String),
    Nothing,
}

fn presented(req: &ServiceRequest) -> Presented {
    if let Some(header) = req.headers().get("authorization").and_then(|v| v.to_str().ok())
        && let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
    {
        return Presented::Bearer(token.trim().to_string());
    }
    if let Some(token) = req.headers().get("x-api-token").and_then(|v| v.to_str().ok()) {
        return Presented::ApiToken(token.trim().to_string());
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match pairs.into_iter().find(|(k, _)| k == "api_token") {
        Some((_, token)) => Presented::ApiToken(token),
        None => Presented::Nothing,
    }
}

pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(pipedrive) = req.app_data::<web::Data<Pipedrive>>().cloned() else {
        return Ok(req.into_response(PdError::new(500, "sandbox not configured").response()));
    };
    let key = req.match_info().get("account").unwrap_or_default().to_string();
    if !crate::hubspot::valid_account_key(&key) {
        return Ok(req.into_response(PdError::not_found("Company").response()));
    }
    let with_api_token = match presented(&req) {
        Presented::Bearer(token) => match pipedrive.oauth.authenticate(Some(&token)) {
            Ok(access) if access.grant.account == key => false,
            _ => return Ok(req.into_response(PdError::unauthorized().response())),
        },
        Presented::ApiToken(token) => {
            if pipedrive.with_account(&key, |a| a.api_token != token) {
                return Ok(req.into_response(PdError::unauthorized().response()));
            }
            true
        }
        Presented::Nothing => return Ok(req.into_response(PdError::unauthorized().response())),
    };

    let is_search = req.path().ends_with("/search");
    let is_write = matches!(req.method().as_str(), "POST" | "PUT" | "PATCH");
    let (decision, verdict, usage, writes_left) = pipedrive.with_account(&key, |account| {
        let decision = account.faults.decide();
        let verdict = match decision.outcome {
            FaultOutcome::Proceed if is_search => account.search_limits.check(),
            FaultOutcome::Proceed => account.limits.check(),
            _ => Verdict::Allowed,
        };
        let usage = if is_search {
            account.search_limits.usage()
        } else {
            account.limits.usage()
        };
        let writes_left = match (with_api_token, is_write, verdict, decision.outcome) {
            (true, true, Verdict::Allowed, FaultOutcome::Proceed) => Some(account.count_token_write()),
            (true, _, _, _) => Some((true, super::model::DAILY_WRITES_WITH_API_TOKEN - account.writes_today.1)),
            _ => None,
        };
        (decision, verdict, usage, writes_left)
    });
    if decision.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    let refusal = match (decision.outcome, verdict) {
        (FaultOutcome::Drop, _) => return Ok(req.into_response(crate::dropped_connection())),
        (FaultOutcome::Status(429) | FaultOutcome::RateLimited, _) => {
            Some((over_limit("Request over limit"), usage.window_ms.div_ceil(1000).max(1)))
        }
        (FaultOutcome::Status(status), _) => Some((injected(status), 0)),
        (_, Verdict::WindowExceeded { retry_after }) => Some((
            over_limit("Request over limit"),
            retry_after.as_millis().div_ceil(1000).max(1) as u64,
        )),
        (_, Verdict::DailyExceeded) => Some((
            over_limit("Daily API token budget spent: requests are blocked until it resets"),
            seconds_to_midnight(),
        )),
        (FaultOutcome::Proceed, Verdict::Allowed) if writes_left.is_some_and(|(ok, _)| !ok) => Some((
            over_limit("Daily limit of POST/PUT requests for API tokens reached"),
            seconds_to_midnight(),
        )),
        (FaultOutcome::Proceed, Verdict::Allowed) => None,
    };
    if let Some((error, retry_after)) = refusal {
        let mut response = req.into_response(error.response());
        headers(response.headers_mut(), &usage, writes_left.map(|(_, left)| left));
        if retry_after > 0 {
            set(response.headers_mut(), "retry-after", retry_after.to_string());
        }
        return Ok(response);
    }

    req.extensions_mut().insert(Authed { key });
    let mut response = next.call(req).await?.map_into_boxed_body();
    headers(response.headers_mut(), &usage, writes_left.map(|(_, left)| left));
    Ok(response)
}

fn over_limit(message: &str) -> PdError {
    PdError::new(429, message)
}

fn injected(status: u16) -> PdError {
    match status {
        401 => PdError::unauthorized(),
        403 => PdError::new(403, "You do not have permissions to do this"),
        404 => PdError::not_found("Item"),
        400..=499 => PdError::bad_request(format!("Injected fault: HTTP {status}")),
        _ => PdError::new(status, "Internal server error").with_code("INTERNAL_ERROR"),
    }
}

fn seconds_to_midnight() -> u64 {
    let now = chrono::Utc::now();
    let midnight = (now.date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc());
    (midnight - now).num_seconds().max(1) as u64
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fn headers(headers: &mut HeaderMap, usage: &Usage, writes_left: Option<u64>) {
    set(headers, "x-ratelimit-limit", usage.window_max.to_string());
    set(headers, "x-ratelimit-remaining", usage.window_remaining.to_string());
    set(headers, "x-ratelimit-reset", usage.window_ms.div_ceil(1000).to_string());
    if let Some(left) = writes_left {
        set(headers, "x-daily-requests-left", left.to_string());
    }
}

pub fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

pub fn parse_body(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, PdError> {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(PdError::bad_request("The request body must be a JSON object")),
        Err(e) => Err(PdError::bad_request(format!("Invalid JSON in the request body: {e}"))),
    }
}

pub fn unknown_endpoint(req: &HttpRequest) -> PdError {
    PdError::new(404, format!("Unknown method: {} {}", req.method(), req.path()))
}
