//! Parsed, always-valid values. Raw input becomes one of these at the edge, or a `FieldError`
//! that names the field and says what is wrong.

mod app_record;
mod email;
pub mod match_keys;
mod name;
mod password;
mod slug;

pub use app_record::AppRecord;
pub use email::Email;
pub use name::Name;
pub use password::NewPassword;
pub use slug::Slug;

/// A value that was rejected, with the field it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}
