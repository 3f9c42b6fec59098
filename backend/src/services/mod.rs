//! What the product does, independent of HTTP: each function checks what the principal may do,
//! changes data in one transaction and writes the audit entry in that same transaction.

pub mod access;
pub mod api_keys;
pub mod app_changes;
pub mod audit;
pub mod connections;
pub mod crm_webhooks;
pub mod demo;
pub mod environments;
pub mod pipelines;
pub mod promotion;
pub mod records;
pub mod support;
pub mod sync_history;
pub mod tenants;
pub mod touch_points;
pub mod users;

use crate::auth::AuthError;
use crate::domain::FieldError;
use crate::repo::RepoError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, or invisible to this principal: the two are deliberately indistinguishable.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A connected CRM could not be reached or refused (reading its fields, say).
    #[error("{0}")]
    Crm(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Repo(RepoError),
}

impl From<RepoError> for ServiceError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Duplicate { what } => ServiceError::Conflict {
                field: None,
                message: format!("{what} already exists"),
            },
            other => ServiceError::Repo(other),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        ServiceError::Repo(RepoError::Database(error))
    }
}

impl ServiceError {
    pub fn conflict(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Conflict {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// A duplicate from the repository, attributed to the field that must be unique.
    pub fn duplicate_field(field: &str) -> impl Fn(RepoError) -> ServiceError + '_ {
        move |error| match error {
            RepoError::Duplicate { what } => ServiceError::conflict(field, format!("{what} already exists")),
            other => ServiceError::from(other),
        }
    }
}
