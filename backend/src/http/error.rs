//! The one place where errors become HTTP responses.
//!
//! Handlers return `ApiError`; every module error converts into it here, once. The
//! `shape_errors` middleware then guarantees that *every* 4xx/5xx response — including the
//! router's own 404 and 405 and anything produced by actix itself — has the body
//! `{code, message, field?, request_id}`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use tandem_shared::{ErrorBody, ErrorCode};
use tracing_actix_web::RequestId;

use crate::auth::AuthError;
use crate::domain::FieldError;
use crate::services::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub retry_after_secs: Option<i64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// An unexpected failure: logged in full, reported without internals.
    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "request failed");
        ApiError::new(
            ErrorCode::Internal,
            "an internal error occurred; the request id identifies it in the logs",
        )
    }

    fn body(&self, request_id: String) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            field: self.field.clone(),
            request_id,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if matches!(self.code, ErrorCode::Unauthenticated | ErrorCode::ApiKeyRevoked) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        // `shape_errors` fills in the request id.
        response.json(self.body(String::new()))
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::new(ErrorCode::InvalidField, format!("{}: {}", error.field, error.message)).with_field(error.field)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials, error.to_string()),
            AuthError::Throttled { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(ErrorCode::TooManyRequests, error.to_string())
            },
            AuthError::Unauthenticated | AuthError::InvalidApiKey | AuthError::BadSignature(_) => {
                ApiError::new(ErrorCode::Unauthenticated, error.to_string())
            }
            AuthError::SessionExpired => ApiError::new(ErrorCode::SessionExpired, error.to_string()),
            AuthError::ApiKeyRevoked => ApiError::new(ErrorCode::ApiKeyRevoked, error.to_string()),
            AuthError::CsrfMismatch => ApiError::new(ErrorCode::CsrfTokenMismatch, error.to_string()),
            AuthError::Repo(_) | AuthError::Hashing(_) => ApiError::internal(&error),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(_) => ApiError::new(ErrorCode::NotFound, error.to_string()),
            ServiceError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            ServiceError::Invalid(field_error) => field_error.into(),
            ServiceError::Conflict { field, message } => ApiError {
                field,
                ..ApiError::new(ErrorCode::Conflict, message)
            },
            ServiceError::Auth(auth) => auth.into(),
            ServiceError::Crm(message) => ApiError::new(ErrorCode::CrmUnavailable, message),
            ServiceError::Vault(_) | ServiceError::Repo(_) => ApiError::internal(&error),
        }
    }
}

/// Middleware: gives every error response the JSON error shape and the request id, and puts the
/// request id in an `X-Request-Id` header on every response.
pub async fn shape_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    // The sandbox CRMs are other companies' servers: their errors keep the CRM's own shape.
    let foreign = request
        .path()
        .strip_prefix(super::SANDBOX_PREFIX)
        .is_some_and(|rest| rest.starts_with('/'));
    // (The request must not be cloned before routing: actix needs sole ownership to route it.)
    let response = match next.call(request).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            // Rare: an inner service failed instead of answering. Shape its response all the same.
            let status = error.as_response_error().status_code();
            let mut shaped = HttpResponse::build(status);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                shaped.insert_header((header::HeaderName::from_static("x-request-id"), value));
            }
            let shaped = shaped.json(default_body(status, request_id));
            return Err(actix_web::error::InternalError::from_response(error.to_string(), shaped).into());
        }
    };
    let status = response.status();
    // Pages meant for a person's browser (the OAuth callback's) stay HTML.
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let mut response = if !foreign && !html && (status.is_client_error() || status.is_server_error()) {
        let body = match response.response().error().and_then(|e| e.as_error::<ApiError>()) {
            Some(api_error) => api_error.body(request_id.clone()),
            None => default_body(status, request_id.clone()),
        };
        response.map_body(|head, _old_body| {
            head.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            head.headers_mut().remove(header::CONTENT_LENGTH);
            serde_json::to_vec(&body).unwrap_or_default().boxed()
        })
    } else {
        response
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

fn default_body(status: StatusCode, request_id: String) -> ErrorBody {
    let code = ErrorCode::for_status(status.as_u16());
    let message = match code {
        ErrorCode::NotFound => "there is nothing at this address".to_string(),
        ErrorCode::MethodNotAllowed => "this HTTP method is not supported at this address".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    ErrorBody {
        code,
        message,
        field: None,
        request_id,
    }
}
