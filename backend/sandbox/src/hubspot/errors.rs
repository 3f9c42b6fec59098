//! HubSpot's error responses: `{"status": "error", "message", "correlationId", "category",
//! "errors"?, "context"?}` with the status code that goes with the category.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct HsError {
    pub status: u16,
    pub category: &'static str,
    pub message: String,
    pub errors: Vec<Value>,
    pub context: Option<Value>,
}

/// One rejected property value, as HubSpot lists them inside the message.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidProperty {
    pub name: String,
    pub code: &'static str,
    pub message: String,
}

impl HsError {
    pub fn new(status: u16, category: &'static str, message: impl Into<String>) -> HsError {
        HsError {
            status,
            category,
            message: message.into(),
            errors: Vec::new(),
            context: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> HsError {
        HsError::new(400, "VALIDATION_ERROR", message)
    }

    /// `Property values were not valid: [...]`, the way HubSpot reports rejected values: the
    /// details both embedded in the message and listed in `errors`.
    pub fn invalid_properties(invalid: Vec<InvalidProperty>) -> HsError {
        let embedded: Vec<Value> = invalid
            .iter()
            .map(|p| {
                json!({
                    "isValid": false,
                    "message": p.message,
                    "error": p.code,
                    "name": p.name,
                    "localizedErrorMessage": p.message,
                })
            })
            .collect();
        let errors = invalid
            .iter()
            .map(|p| json!({ "message": p.message, "code": p.code, "context": { "propertyName": [p.name] } }))
            .collect();
        HsError {
            errors,
            ..HsError::bad_request(format!("Property values were not valid: {}", Value::Array(embedded)))
        }
    }

    pub fn not_found(id: &str) -> HsError {
        HsError {
            context: Some(json!({ "id": [id] })),
            ..HsError::new(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
            )
        }
    }

    pub fn conflict(message: impl Into<String>) -> HsError {
        HsError::new(409, "CONFLICT", message)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "status": "error",
            "message": self.message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
            "category": self.category,
        });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors.clone());
        }
        if let Some(context) = &self.context {
            body["context"] = context.clone();
        }
        body
    }

    pub fn response(&self) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST))
            .content_type("application/json;charset=utf-8")
            .body(self.body().to_string())
    }
}

impl actix_web::ResponseError for HsError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}

impl std::fmt::Display for HsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.category, self.message)
    }
}

/// The body of an unparseable request.
pub fn invalid_json(error: &serde_json::Error) -> HsError {
    HsError::bad_request(format!(
        "Invalid input JSON on line {}, column {}: {error}",
        error.line(),
        error.column()
    ))
}
