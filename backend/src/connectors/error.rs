//! Every CRM error, classified once, in the connector, by what the caller should do about it.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// 5xx, timeouts, dropped connections: try again later.
    #[error("the CRM is unavailable ({message}); retry later")]
    Retryable { status: Option<u16>, message: String },
    /// Too many requests: wait this long (from `Retry-After` or the CRM's window).
    #[error("rate limited by the CRM ({message}); retry in {wait:?}")]
    RateLimited {
        wait: Duration,
        daily: bool,
        message: String,
    },
    /// The access token was refused: refresh it and try once more.
    #[error("the CRM refused the access token: {message}")]
    Unauthorized { message: String },
    /// The grant itself is gone (revoked, expired refresh token): the connection needs re-auth.
    #[error("the CRM revoked access: {message}")]
    GrantRevoked { message: String },
    /// The CRM rejected the data: its field and its own message. Not retried.
    #[error("the CRM rejected {}: {message}", field.as_deref().unwrap_or("the record"))]
    Validation {
        field: Option<String>,
        code: String,
        message: String,
    },
    #[error("not found in the CRM: {message}")]
    NotFound { message: String },
    /// A duplicate, or a key that matches several records.
    #[error("conflict in the CRM: {message}")]
    Conflict {
        message: String,
        existing_id: Option<String>,
    },
    /// Any other refusal (4xx): recorded, not retried.
    #[error("the CRM refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    /// The answer was not what the CRM's API documents.
    #[error("unexpected answer from the CRM: {message}")]
    Protocol { message: String },
}

impl ConnectorError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Retryable { .. } | ConnectorError::RateLimited { .. }
        )
    }

    /// A stable name for logs, metrics and failed-record filters.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectorError::Retryable { .. } => "retryable",
            ConnectorError::RateLimited { .. } => "rate_limited",
            ConnectorError::Unauthorized { .. } => "unauthorized",
            ConnectorError::GrantRevoked { .. } => "grant_revoked",
            ConnectorError::Validation { .. } => "validation",
            ConnectorError::NotFound { .. } => "not_found",
            ConnectorError::Conflict { .. } => "conflict",
            ConnectorError::Rejected { .. } => "rejected",
            ConnectorError::Protocol { .. } => "protocol",
        }
    }

    pub fn transport(error: &reqwest::Error) -> ConnectorError {
        ConnectorError::Retryable {
            status: None,
            message: error.without_url_message(),
        }
    }

    pub fn protocol(message: impl Into<String>) -> ConnectorError {
        ConnectorError::Protocol {
            message: message.into(),
        }
    }
}

/// A transport error's message without the URL, which may carry tokens in its query.
trait WithoutUrl {
    fn without_url_message(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_message(&self) -> String {
        let kind = if self.is_timeout() {
            "timed out"
        } else if self.is_connect() {
            "could not connect"
        } else if self.is_body() || self.is_decode() {
            "the response broke off"
        } else {
            "the request failed"
        };
        let mut source = std::error::Error::source(self);
        let mut detail = String::new();
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        if detail.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}: {detail}")
        }
    }
}
