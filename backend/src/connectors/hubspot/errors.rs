//! HubSpot's answers, classified (crm-apis.md §2.6, §2.7; official-clients.md §1.4).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::connectors::ConnectorError;

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The wait a 429 asks for: `Retry-After` if sent, else the policy's window.
fn rate_limit_wait(headers: &HeaderMap, policy: &str) -> Duration {
    if let Some(seconds) = header_number(headers, "retry-after") {
        return Duration::from_secs(seconds);
    }
    match policy {
        "SECONDLY" => Duration::from_secs(1),
        "DAILY" => {
            // The daily allowance resets at midnight (the account's time zone; UTC here).
            let now = chrono::Utc::now();
            let tomorrow = (now + chrono::Duration::days(1)).date_naive().and_hms_opt(0, 0, 0);
            tomorrow
                .map(|t| (t.and_utc() - now).to_std().unwrap_or(Duration::from_secs(3600)))
                .unwrap_or(Duration::from_secs(3600))
        }
        _ => {
            Duration::from_millis(header_number(headers, "x-hubspot-ratelimit-interval-milliseconds").unwrap_or(10_000))
        }
    }
}

/// The field a validation error blames: `errors[].context.propertyName`, else `errors[].in`,
/// else the `name` inside the embedded "Property values were not valid" list.
fn blamed_field(body: &Value) -> Option<String> {
    let first = body.get("errors")?.as_array()?.first()?;
    first
        .pointer("/context/propertyName/0")
        .or_else(|| first.get("in"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = json
        .pointer("/errors/0/message")
        .or_else(|| json.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
    let category = json.get("category").and_then(Value::as_str).unwrap_or_default();
    match status.as_u16() {
        429 => {
            let policy = json
                .get("policyName")
                .and_then(Value::as_str)
                .unwrap_or("TEN_SECONDLY_ROLLING");
            ConnectorError::RateLimited {
                wait: rate_limit_wait(headers, policy),
                daily: policy == "DAILY",
                message,
            }
        }
        401 => ConnectorError::Unauthorized { message },
        403 => ConnectorError::Rejected {
            status: 403,
            message: format!("{category}: {message}"),
        },
        404 => ConnectorError::NotFound { message },
        409 => {
            let existing_id = message
                .split("Existing ID:")
                .nth(1)
                .map(|rest| rest.trim().chars().take_while(char::is_ascii_digit).collect::<String>())
                .filter(|id| !id.is_empty());
            ConnectorError::Conflict { message, existing_id }
        }
        400 | 422 => ConnectorError::Validation {
            field: blamed_field(&json),
            code: json
                .pointer("/errors/0/code")
                .and_then(Value::as_str)
                .unwrap_or(if category.is_empty() {
                    "VALIDATION_ERROR"
                } else {
                    category
                })
                .to_string(),
            message,
        },
        500..=599 => ConnectorError::Retryable {
            status: Some(status.as_u16()),
            message,
        },
        other => ConnectorError::Rejected { status: other, message },
    }
}

/// HubSpot's token endpoint answers errors as `{"status": "BAD_REFRESH_TOKEN", …}`.
pub fn token_error_is_revoked(body: &[u8]) -> bool {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    matches!(
        json.get("status").or_else(|| json.get("error")).and_then(Value::as_str),
        Some("BAD_REFRESH_TOKEN" | "invalid_grant")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify_json(status: u16, body: Value) -> ConnectorError {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn each_status_gets_its_class() {
        let validation = classify_json(
            400,
            json!({"status": "error", "category": "VALIDATION_ERROR", "message": "Property values were not valid",
                   "errors": [{"message": "Email address x is invalid", "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}}]}),
        );
        assert_eq!(
            validation,
            ConnectorError::Validation {
                field: Some("email".into()),
                code: "INVALID_EMAIL".into(),
                message: "Email address x is invalid".into()
            }
        );
        let conflict = classify_json(
            409,
            json!({"message": "Contact already exists. Existing ID: 1234", "category": "CONFLICT"}),
        );
        assert_eq!(
            conflict,
            ConnectorError::Conflict {
                message: "Contact already exists. Existing ID: 1234".into(),
                existing_id: Some("1234".into())
            }
        );
        let limited = classify_json(
            429,
            json!({"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "message": "slow down"}),
        );
        assert!(
            matches!(limited, ConnectorError::RateLimited { wait, daily: false, .. } if wait == Duration::from_secs(10))
        );
        let daily = classify_json(
            429,
            json!({"errorType": "RATE_LIMIT", "policyName": "DAILY", "message": "daily"}),
        );
        assert!(matches!(daily, ConnectorError::RateLimited { daily: true, .. }));
        assert!(classify_json(502, json!({})).is_retryable());
        assert!(matches!(
            classify_json(401, json!({"category": "EXPIRED_AUTHENTICATION"})),
            ConnectorError::Unauthorized { .. }
        ));
        assert!(matches!(classify_json(404, json!({})), ConnectorError::NotFound { .. }));
        assert!(matches!(
            classify_json(418, json!({})),
            ConnectorError::Rejected { status: 418, .. }
        ));
    }

    #[test]
    fn retry_after_wins_over_the_policy_window() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        let error = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"policyName":"TEN_SECONDLY_ROLLING"}"#,
        );
        assert!(matches!(error, ConnectorError::RateLimited { wait, .. } if wait == Duration::from_secs(3)));
        assert!(token_error_is_revoked(
            br#"{"status":"BAD_REFRESH_TOKEN","message":"missing or unknown refresh token"}"#
        ));
        assert!(!token_error_is_revoked(br#"{"status":"BAD_CLIENT_SECRET"}"#));
    }
}
