//! Who is calling: sessions for people (cookie + CSRF token), API keys for the operator's app,
//! passwords and login throttling.

pub mod api_key;
pub mod password;
pub mod principal;
pub mod session;
pub mod throttle;
pub mod token;

pub use api_key::AppPrincipal;
pub use principal::Principal;

use crate::repo::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error("no session or API key was presented")]
    Unauthenticated,
    #[error("the session has expired or was ended")]
    SessionExpired,
    #[error("the API key is not valid")]
    InvalidApiKey,
    #[error("the API key was revoked")]
    ApiKeyRevoked,
    #[error("the X-CSRF-Token header is missing or does not match the session")]
    CsrfMismatch,
    /// A webhook request whose signature does not check out.
    #[error("the webhook signature was not accepted: {0}")]
    BadSignature(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}
