//! Salesforce's error responses: a JSON array of `{"message", "errorCode", "fields"?}` (one
//! element in practice), with `Content-Type: application/json;charset=UTF-8` as jsforce requires.
//! Inside sObject Collections results the same error is `{"statusCode", "message", "fields"}`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::model::{Node, Obj};

/// What every Salesforce API response is labelled as.
pub const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

#[derive(Clone, Debug, PartialEq)]
pub struct SfError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// The fields a record-level (DML) error is about; absent from request-level errors.
    pub fields: Option<Vec<String>>,
}

impl SfError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> SfError {
        SfError {
            status,
            code,
            message: message.into(),
            fields: None,
        }
    }

    /// An error saving one record (status 400, with the fields it concerns).
    pub fn dml(code: &'static str, message: impl Into<String>, fields: &[&str]) -> SfError {
        SfError {
            fields: Some(fields.iter().map(|f| (*f).to_string()).collect()),
            ..SfError::new(400, code, message)
        }
    }

    pub fn not_found() -> SfError {
        SfError::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn session() -> SfError {
        SfError::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn request_limit() -> SfError {
        SfError::new(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    }

    pub fn entity_is_deleted() -> SfError {
        SfError {
            fields: Some(Vec::new()),
            ..SfError::new(404, "ENTITY_IS_DELETED", "entity is deleted")
        }
    }

    pub fn json_parser(message: impl Into<String>) -> SfError {
        SfError::new(400, "JSON_PARSER_ERROR", message)
    }

    fn element(&self) -> Obj {
        let mut element = Obj::new()
            .with("message", Value::String(self.message.clone()))
            .with("errorCode", Value::String(self.code.to_string()));
        if let Some(fields) = &self.fields {
            element.push("fields", Value::from(fields.clone()));
        }
        element
    }

    pub fn body(&self) -> Vec<Obj> {
        vec![self.element()]
    }

    /// The error as an element of a Collections result's `errors`.
    pub fn save_error(&self) -> Obj {
        Obj::new()
            .with("statusCode", Value::String(self.code.to_string()))
            .with("message", Value::String(self.message.clone()))
            .with("fields", Value::from(self.fields.clone().unwrap_or_default()))
    }

    pub fn response(&self) -> HttpResponse {
        json_response(self.status, &self.body())
    }
}

impl From<SfError> for Node {
    fn from(error: SfError) -> Node {
        Node::Obj(error.save_error())
    }
}

impl actix_web::ResponseError for SfError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}

impl std::fmt::Display for SfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// A JSON response as Salesforce labels it.
pub fn json_response(status: u16, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type(CONTENT_TYPE)
        .body(serde_json::to_string(body).unwrap_or_default())
}
