//! The one error shape every API response uses, and the codes the frontend turns into messages.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable reason for a failed request. New codes may be added; existing ones
/// never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON or does not have the expected shape.
    MalformedBody,
    /// A field has a value that is not acceptable; `field` names it.
    InvalidField,
    /// A path or query parameter is not valid; `field` names it.
    InvalidParameter,
    /// No valid session or API key was presented.
    Unauthenticated,
    /// Email or password is wrong (deliberately not saying which).
    InvalidCredentials,
    /// The session has expired or was ended; log in again.
    SessionExpired,
    /// The API key was revoked.
    ApiKeyRevoked,
    /// A cookie-authenticated write came without the matching `X-CSRF-Token` header.
    CsrfTokenMismatch,
    /// The caller is known but may not do this.
    Forbidden,
    /// Nothing with that id exists, or it belongs to someone else.
    NotFound,
    /// The HTTP method is not supported on this path.
    MethodNotAllowed,
    /// The request conflicts with existing data (a duplicate email, say).
    Conflict,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body's content type is not `application/json`.
    UnsupportedMediaType,
    /// Too many requests (or failed logins); retry after `Retry-After` seconds.
    TooManyRequests,
    /// The server is not ready (its database cannot be reached, say).
    Unavailable,
    /// A connected CRM could not be reached, or refused what Tandem needed from it; the message
    /// says which and why.
    CrmUnavailable,
    /// Something went wrong on the server; the request id identifies it in the logs.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedBody => "malformed_body",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::ApiKeyRevoked => "api_key_revoked",
            ErrorCode::CsrfTokenMismatch => "csrf_token_mismatch",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::CrmUnavailable => "crm_unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedBody | ErrorCode::InvalidField | ErrorCode::InvalidParameter => 400,
            ErrorCode::Unauthenticated
            | ErrorCode::InvalidCredentials
            | ErrorCode::SessionExpired
            | ErrorCode::ApiKeyRevoked => 401,
            ErrorCode::CsrfTokenMismatch | ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::CrmUnavailable => 502,
        }
    }

    /// The code a bare HTTP status stands for, used when something other than a handler
    /// (the router, a body limit) produced the error.
    pub fn for_status(status: u16) -> ErrorCode {
        match status {
            400 => ErrorCode::MalformedBody,
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::TooManyRequests,
            502 => ErrorCode::CrmUnavailable,
            503 => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }

    /// What a person should read, and what they can do about it.
    pub fn user_message(self) -> &'static str {
        match self {
            ErrorCode::MalformedBody => "The request could not be read. Reload the page and try again.",
            ErrorCode::InvalidField => "Please correct the highlighted field.",
            ErrorCode::InvalidParameter => "The address contains an invalid value. Check the link.",
            ErrorCode::Unauthenticated => "Please log in to continue.",
            ErrorCode::InvalidCredentials => "Email or password is incorrect.",
            ErrorCode::SessionExpired => "Your session has ended. Please log in again.",
            ErrorCode::ApiKeyRevoked => "This API key was revoked. Create a new key.",
            ErrorCode::CsrfTokenMismatch => "Your session is out of date. Reload the page and try again.",
            ErrorCode::Forbidden => "Your role does not allow this. Ask an administrator.",
            ErrorCode::NotFound => "This item does not exist or you do not have access to it.",
            ErrorCode::MethodNotAllowed => "This action is not supported here.",
            ErrorCode::Conflict => "This conflicts with something that already exists.",
            ErrorCode::PayloadTooLarge => "The request is too large.",
            ErrorCode::UnsupportedMediaType => "The request must be sent as JSON.",
            ErrorCode::TooManyRequests => "Too many attempts. Wait a moment and try again.",
            ErrorCode::Unavailable => "Tandem is temporarily unavailable. Try again in a minute.",
            ErrorCode::CrmUnavailable => "The connected CRM could not be reached or refused the request.",
            ErrorCode::Internal => {
                "Something went wrong on our side. Try again; if it persists, quote the request id to support."
            }
        }
    }
}

/// The body of every error response: `{code, message, field?, request_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A human-readable explanation, specific to this request.
    pub message: String,
    /// The field or parameter at fault, as a dotted path (`email`, `items.2.price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Identifies the request in the server's logs.
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_names() {
        for code in [
            ErrorCode::MalformedBody,
            ErrorCode::InvalidCredentials,
            ErrorCode::CsrfTokenMismatch,
            ErrorCode::TooManyRequests,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn field_is_omitted_when_absent() {
        let body = ErrorBody {
            code: ErrorCode::NotFound,
            message: "no such tenant".into(),
            field: None,
            request_id: "r1".into(),
        };
        let json = serde_json::to_value(&body).expect("serialise");
        assert!(json.get("field").is_none());
        assert_eq!(json["code"], "not_found");
    }
}
