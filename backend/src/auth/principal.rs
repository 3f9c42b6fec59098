//! The authenticated person behind a request, and what they may reach.

use tandem_shared::api::auth::SessionInfo;
use tandem_shared::ids::TenantId;
use tandem_shared::roles::Role;

use super::AuthError;
use super::session::{self, ActiveSession};
use super::token::constant_time_eq;
use crate::configuration::AuthSettings;
use crate::repo::Db;

#[derive(Clone, Debug)]
pub struct Principal {
    pub session: SessionInfo,
    pub token_hash: String,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.session.user.role
    }

    pub fn email(&self) -> &str {
        &self.session.user.email
    }

    /// The tenant a tenant user belongs to; `None` for operator staff.
    pub fn home_tenant(&self) -> Option<TenantId> {
        self.session.user.tenant_id
    }
}

/// Authenticates a session cookie. For a request that changes something, the CSRF header must
/// match the session's token.
pub async fn authenticate(
    db: &Db,
    settings: &AuthSettings,
    cookie: Option<&str>,
    csrf_header: Option<&str>,
    is_write: bool,
) -> Result<Principal, AuthError> {
    let token = cookie.ok_or(AuthError::Unauthenticated)?;
    let ActiveSession { info, token_hash } = session::resolve(db, settings, token).await?;
    if is_write {
        let presented = csrf_header.ok_or(AuthError::CsrfMismatch)?;
        if !constant_time_eq(presented, &info.csrf_token) {
            return Err(AuthError::CsrfMismatch);
        }
    }
    Ok(Principal {
        session: info,
        token_hash,
    })
}
