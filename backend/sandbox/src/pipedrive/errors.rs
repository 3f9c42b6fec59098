//! Pipedrive's error body: `{"success": false, "error", "error_info", "data": null,
//! "additional_data": null}`, with `code` where Pipedrive names one and `errorCode` (the status)
//! on authentication and limit refusals.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

pub const ERROR_INFO: &str = "Please check developers.pipedrive.com for more information about Pipedrive API.";

#[derive(Debug, Clone)]
pub struct PdError {
    pub status: u16,
    pub error: String,
    pub code: Option<&'static str>,
}

impl PdError {
    pub fn new(status: u16, error: impl Into<String>) -> PdError {
        PdError {
            status,
            error: error.into(),
            code: None,
        }
    }

    pub fn with_code(mut self, code: &'static str) -> PdError {
        self.code = Some(code);
        self
    }

    pub fn bad_request(error: impl Into<String>) -> PdError {
        PdError::new(400, error)
    }

    /// API v2's schema refusal: `Validation failed: <field>: <reason>`.
    pub fn validation(field: &str, reason: &str) -> PdError {
        PdError::new(400, format!("Validation failed: {field}: {reason}")).with_code("ERR_SCHEMA_VALIDATION_FAILED")
    }

    pub fn not_found(what: &str) -> PdError {
        PdError::new(404, format!("{what} not found"))
    }

    pub fn unauthorized() -> PdError {
        PdError::new(401, "unauthorized access")
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({
            "success": false,
            "error": self.error,
            "error_info": ERROR_INFO,
            "data": null,
            "additional_data": null,
        });
        if let Some(code) = self.code {
            body["code"] = json!(code);
        }
        if matches!(self.status, 401 | 403 | 429) {
            body["errorCode"] = json!(self.status);
        }
        HttpResponse::build(status)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string())
    }
}

impl std::fmt::Display for PdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.error)
    }
}

impl ResponseError for PdError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
