//! What stands in front of every REST API call (`/services/data/vXX.X/…`): the session (a
//! bearer token of this org, not expired or revoked), the API version, injected faults, the
//! org's daily request allocation, and `Sforce-Limit-Info: api-usage=N/MAX` on every answer.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::errors::SfError;
use super::{MAX_VERSION, MIN_VERSION, Salesforce};
use crate::faults::FaultOutcome;
use crate::limits::{Usage, Verdict};

/// The org and user a request was authenticated for, and the API version it asked for.
#[derive(Clone, Debug)]
pub struct AuthedOrg {
    pub key: String,
    /// The user's 18-character id.
    pub user: String,
    /// `62.0`.
    pub version: String,
}

impl FromRequest for AuthedOrg {
    type Error = SfError;
    type Future = std::future::Ready<Result<Self, SfError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<AuthedOrg>()
                .cloned()
                .ok_or_else(SfError::session),
        )
    }
}

/// The access token of `Authorization: Bearer …` (or the older `OAuth …`).
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let header = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth")).then(|| token.trim().to_string())
}

/// `v62.0` → (`62.0`, 62), for the versions this org serves.
pub fn parse_version(segment: &str) -> Option<(String, u32)> {
    let number = segment.strip_prefix('v')?;
    let (major, minor) = number.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    ((MIN_VERSION..=MAX_VERSION).contains(&major) && minor == "0").then(|| (number.to_string(), major))
}

pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(salesforce) = req.app_data::<web::Data<Salesforce>>().cloned() else {
        let error = SfError::new(500, "UNKNOWN_EXCEPTION", "sandbox not configured");
        return Ok(req.into_response(error.response()));
    };
    let key = req.match_info().get("account").unwrap_or_default().to_string();
    if !super::valid_account_key(&key) {
        return Ok(req.into_response(SfError::not_found().response()));
    }
    let token = bearer(req.headers());
    let access = match salesforce.oauth.authenticate(token.as_deref()) {
        Ok(access) if access.grant.account == key => access,
        _ => return Ok(req.into_response(SfError::session().response())),
    };
    let Some((version, _)) = parse_version(req.match_info().get("version").unwrap_or_default()) else {
        return Ok(req.into_response(SfError::not_found().response()));
    };

    let (decision, verdict, usage) = salesforce.with_org(&key, |org| {
        let decision = org.faults.decide();
        let verdict = match decision.outcome {
            FaultOutcome::Proceed => org.limits.check(),
            _ => Verdict::Allowed,
        };
        (decision, verdict, org.limits.usage())
    });
    if decision.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    let refusal = match (decision.outcome, verdict) {
        (FaultOutcome::Drop, _) => return Ok(req.into_response(crate::dropped_connection())),
        (FaultOutcome::Status(status), _) => Some(injected_error(status)),
        // Salesforce has no 429: running out of API requests is a 403.
        (FaultOutcome::RateLimited, _) | (_, Verdict::WindowExceeded { .. } | Verdict::DailyExceeded) => {
            Some(SfError::request_limit())
        }
        (FaultOutcome::Proceed, Verdict::Allowed) => None,
    };
    if let Some(error) = refusal {
        let mut response = req.into_response(error.response());
        limit_header(response.headers_mut(), &usage);
        return Ok(response);
    }

    req.extensions_mut().insert(AuthedOrg {
        key,
        user: access.grant.user,
        version,
    });
    let mut response = next.call(req).await?.map_into_boxed_body();
    limit_header(response.headers_mut(), &usage);
    Ok(response)
}

/// An injected failure in Salesforce's shape.
fn injected_error(status: u16) -> SfError {
    match status {
        401 => SfError::session(),
        403 => SfError::request_limit(),
        404 => SfError::not_found(),
        // A record lock: the transient 400 Salesforce integrations most often retry.
        400 | 409 => SfError::new(
            status,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records",
        ),
        429 => SfError::new(429, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        502..=504 => SfError::new(
            status,
            "SERVER_UNAVAILABLE",
            "Server temporarily unavailable (injected fault)",
        ),
        400..=499 => SfError::new(status, "UNKNOWN_EXCEPTION", format!("Injected fault: HTTP {status}")),
        _ => SfError::new(
            status,
            "UNKNOWN_EXCEPTION",
            format!(
                "An unexpected error occurred. Please include this ErrorId if you contact support: {}-{} \
                 (injected fault)",
                rand::random::<u32>(),
                rand::random::<u16>()
            ),
        ),
    }
}

fn limit_header(headers: &mut HeaderMap, usage: &Usage) {
    if let Ok(value) = HeaderValue::from_str(&format!("api-usage={}/{}", usage.used_today, usage.daily_max)) {
        headers.insert(HeaderName::from_static("sforce-limit-info"), value);
    }
}
