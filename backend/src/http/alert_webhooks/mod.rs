//! A tenant environment's webhook endpoints, for people (the admin UI's "where alerts go"); the
//! app manages the same endpoints with its API key under `/webhooks`.

pub mod create;
pub mod delete;
pub mod list;

use tandem_shared::api::tenants::EnvironmentKind;

use crate::domain::FieldError;
use crate::http::error::ApiError;

/// `sandbox` or `production`, from the path.
fn environment(raw: &str) -> Result<EnvironmentKind, ApiError> {
    EnvironmentKind::parse(raw)
        .ok_or_else(|| FieldError::new("environment", format!("{raw:?} is not sandbox or production")).into())
}
