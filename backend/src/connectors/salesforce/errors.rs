//! Salesforce's answers, classified (crm-apis.md §1.6, §1.7; official-clients.md §2.4). Error
//! bodies are arrays of `{message, errorCode, fields}`; per-record results in sObject Collections
//! carry `{statusCode, message, fields}`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::connectors::ConnectorError;

/// Salesforce gives no reset time for its rolling 24-hour allocation: try again in a while.
const QUOTA_WAIT: Duration = Duration::from_secs(15 * 60);

/// One error entry, from a response body or a collection result.
pub fn from_entry(code: &str, message: &str, fields: Option<&Value>, status: u16) -> ConnectorError {
    let field = fields
        .and_then(Value::as_array)
        .and_then(|f| f.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = message.to_string();
    match code {
        "INVALID_SESSION_ID" => ConnectorError::Unauthorized { message },
        "REQUEST_LIMIT_EXCEEDED" => ConnectorError::RateLimited {
            wait: QUOTA_WAIT,
            daily: true,
            message,
        },
        "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE" | "UNKNOWN_EXCEPTION" | "ALL_OR_NONE_OPERATION_ROLLED_BACK" => {
            ConnectorError::Retryable {
                status: Some(status),
                message,
            }
        }
        "NOT_FOUND" | "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" => ConnectorError::NotFound { message },
        "DUPLICATE_VALUE" | "DUPLICATE_EXTERNAL_ID" | "MULTIPLE_CHOICES" | "DUPLICATES_DETECTED" => {
            ConnectorError::Conflict {
                message,
                existing_id: None,
            }
        }
        "MALFORMED_QUERY" | "INVALID_TYPE" | "JSON_PARSER_ERROR" => ConnectorError::Rejected { status, message },
        _ => ConnectorError::Validation {
            field,
            code: code.to_string(),
            message,
        },
    }
}

pub fn classify(status: StatusCode, body: &[u8]) -> ConnectorError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let entry = json
        .as_array()
        .and_then(|a| a.first())
        .or(Some(&json))
        .filter(|e| e.is_object());
    let code = entry
        .and_then(|e| e.get("errorCode"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = entry
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
    match status.as_u16() {
        300 => ConnectorError::Conflict {
            message: format!("the key matches several records: {message}"),
            existing_id: None,
        },
        401 => ConnectorError::Unauthorized { message },
        // The identity service (userinfo, /id) answers a bad session with a plain-text 403.
        403 if message.starts_with("Bad_OAuth_Token") || message.starts_with("Missing_OAuth_Token") => {
            ConnectorError::Unauthorized { message }
        }
        429 => ConnectorError::RateLimited {
            wait: Duration::from_secs(1),
            daily: false,
            message,
        },
        500..=599 => ConnectorError::Retryable {
            status: Some(status.as_u16()),
            message,
        },
        other if !code.is_empty() => from_entry(code, &message, entry.and_then(|e| e.get("fields")), other),
        404 => ConnectorError::NotFound { message },
        other => ConnectorError::Rejected { status: other, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> Vec<u8> {
        format!(r#"[{{"message":"m","errorCode":"{code}","fields":["Email"]}}]"#).into_bytes()
    }

    #[test]
    fn each_error_gets_its_class() {
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &body("INVALID_SESSION_ID")),
            ConnectorError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &body("REQUEST_LIMIT_EXCEEDED")),
            ConnectorError::RateLimited { daily: true, .. }
        ));
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, &body("INVALID_EMAIL_ADDRESS")),
            ConnectorError::Validation {
                field: Some("Email".into()),
                code: "INVALID_EMAIL_ADDRESS".into(),
                message: "m".into()
            }
        );
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, &body("NOT_FOUND")),
            ConnectorError::NotFound { .. }
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, b"Bad_OAuth_Token"),
            ConnectorError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(StatusCode::MULTIPLE_CHOICES, b"[\"/a\",\"/b\"]"),
            ConnectorError::Conflict { .. }
        ));
        assert!(classify(StatusCode::SERVICE_UNAVAILABLE, b"oops").is_retryable());
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &body("MALFORMED_QUERY")),
            ConnectorError::Rejected { .. }
        ));
        assert!(matches!(
            from_entry("DUPLICATE_VALUE", "dup", None, 400),
            ConnectorError::Conflict { .. }
        ));
        assert!(from_entry("UNABLE_TO_LOCK_ROW", "busy", None, 400).is_retryable());
    }
}
