//! Pipedrive's answers, classified (crm-apis.md §4.6, §4.7): `{success: false, error,
//! error_info, code}`; 429 with `retry-after` / `x-ratelimit-reset`; API v2 names the refused
//! field in `Validation failed: <field>: <reason>`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::connectors::ConnectorError;

/// A wait longer than this is the daily budget, not the 2-second window.
const DAILY_AFTER: Duration = Duration::from_secs(3_600);

fn header_seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The field a refusal names: `Validation failed: custom_fields.abc: …`, `org_id 5 does not
/// exist`, `emails[0].value: …`.
fn field_of(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Validation failed: ").unwrap_or(message);
    let candidate = rest.split([':', ' ']).next()?.trim();
    let candidate = candidate.strip_prefix("custom_fields.").unwrap_or(candidate);
    let candidate = candidate.split('[').next().unwrap_or(candidate);
    let looks_like_field = !candidate.is_empty()
        && candidate
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && (message.starts_with("Validation failed: ") || message.contains(" does not exist"));
    looks_like_field.then(|| match candidate {
        "emails" => "email".to_string(),
        "phones" => "phone".to_string(),
        other => other.to_string(),
    })
}

pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = json
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
    let code = json.get("code").and_then(Value::as_str).unwrap_or_default().to_string();
    match status.as_u16() {
        400 | 422 => ConnectorError::Validation {
            field: field_of(&message),
            code: if code.is_empty() { "INVALID".into() } else { code },
            message,
        },
        401 => ConnectorError::Unauthorized { message },
        402 | 403 => ConnectorError::Rejected {
            status: status.as_u16(),
            message: if code.is_empty() {
                message
            } else {
                format!("{message} ({code})")
            },
        },
        404 | 410 => ConnectorError::NotFound { message },
        409 => ConnectorError::Conflict {
            message,
            existing_id: None,
        },
        429 => {
            let wait = header_seconds(headers, "retry-after")
                .or_else(|| header_seconds(headers, "x-ratelimit-reset"))
                .unwrap_or(Duration::from_secs(2))
                .max(Duration::from_millis(100));
            ConnectorError::RateLimited {
                daily: wait > DAILY_AFTER || message.to_lowercase().contains("daily"),
                wait,
                message,
            }
        }
        500..=599 => ConnectorError::Retryable {
            status: Some(status.as_u16()),
            message,
        },
        other => ConnectorError::Rejected { status: other, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &str) -> Vec<u8> {
        serde_json::json!({ "success": false, "error": error, "error_info": "", "data": null })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn refusals_name_their_field_and_limits_their_wait() {
        let none = HeaderMap::new();
        let refused = classify(
            StatusCode::BAD_REQUEST,
            &none,
            &body("Validation failed: name: is required"),
        );
        assert!(
            matches!(refused, ConnectorError::Validation { field: Some(ref f), .. } if f == "name"),
            "{refused:?}"
        );
        let custom = classify(
            StatusCode::BAD_REQUEST,
            &none,
            &body(
                "Validation failed: custom_fields.0123456789abcdef0123456789abcdef01234567: \"x\" is not an option id",
            ),
        );
        assert!(
            matches!(custom, ConnectorError::Validation { field: Some(ref f), .. } if f == "0123456789abcdef0123456789abcdef01234567"),
            "{custom:?}"
        );
        let org = classify(StatusCode::BAD_REQUEST, &none, &body("org_id 99 does not exist"));
        assert!(matches!(org, ConnectorError::Validation { field: Some(ref f), .. } if f == "org_id"));
        let email = classify(
            StatusCode::BAD_REQUEST,
            &none,
            &body("Validation failed: emails[0].value: is required"),
        );
        assert!(matches!(email, ConnectorError::Validation { field: Some(ref f), .. } if f == "email"));

        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &headers, &body("Request over limit")),
            ConnectorError::RateLimited { daily: false, wait, .. } if wait == Duration::from_secs(2)
        ));
        headers.insert("retry-after", "40000".parse().unwrap());
        assert!(matches!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &headers,
                &body("Daily API token budget spent")
            ),
            ConnectorError::RateLimited { daily: true, .. }
        ));
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, &body("unauthorized access")),
            ConnectorError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &none, b"<html>"),
            ConnectorError::Retryable { status: Some(502), .. }
        ));
    }
}
