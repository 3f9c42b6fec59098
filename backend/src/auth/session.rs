//! Login sessions: issued at login as an opaque cookie, checked on every request, ended at logout
//! or when they expire (absolute lifetime and idle timeout).

use chrono::Duration;
use secrecy::SecretString;
use tandem_shared::api::auth::{CurrentUser, SessionInfo};

use super::token::{fingerprint, random_token};
use super::{AuthError, password, throttle};
use crate::configuration::AuthSettings;
use crate::domain::Email;
use crate::repo::sessions::{self, NewSession};
use crate::repo::{Db, now_ms, to_datetime, users};

pub const SESSION_COOKIE: &str = "tandem_session";

/// A new session: the cookie value (shown to nobody but the browser) and what the client may know.
pub struct IssuedSession {
    pub token: String,
    pub info: SessionInfo,
}

/// Checks email and password, throttling repeated failures per email and per client address.
/// A wrong email and a wrong password fail the same way, in about the same time.
#[tracing::instrument(skip_all)]
pub async fn login(
    db: &Db,
    settings: &AuthSettings,
    email: &str,
    password: &SecretString,
    client_ip: Option<&str>,
) -> Result<IssuedSession, AuthError> {
    // An email that does not parse cannot belong to anyone; treat it like an unknown one.
    let email = Email::parse("email", email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let keys = throttle::Keys::new(&email, client_ip);
    throttle::ensure_not_locked(db, &keys).await?;

    let credentials = users::find_credentials_by_email(db.pool(), &email).await?;
    let stored_hash = credentials.as_ref().map(|c| c.password_hash.clone());
    if !password::verify(password, stored_hash).await? {
        throttle::record_failure(db, settings, &keys).await?;
        tracing::info!("login failed");
        return Err(AuthError::InvalidCredentials);
    }
    let Some(credentials) = credentials else {
        return Err(AuthError::InvalidCredentials);
    };
    throttle::clear(db, &keys).await?;
    let user = credentials.user;
    let current = CurrentUser {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        tenant_id: user.tenant_id,
    };
    tracing::info!(user_id = %current.id, "login succeeded");
    issue(db, settings, current).await
}

pub async fn issue(db: &Db, settings: &AuthSettings, user: CurrentUser) -> Result<IssuedSession, AuthError> {
    let token = random_token(32);
    let csrf_token = random_token(32);
    let now = now_ms();
    let expires_at = now + Duration::minutes(settings.session_ttl_minutes).num_milliseconds();
    sessions::insert(
        db.pool(),
        NewSession {
            token_hash: &fingerprint(&token),
            user_id: user.id,
            csrf_token: &csrf_token,
            now_ms: now,
            expires_at_ms: expires_at,
        },
    )
    .await?;
    Ok(IssuedSession {
        token,
        info: SessionInfo {
            user,
            csrf_token,
            expires_at: to_datetime(expires_at),
        },
    })
}

/// A session that is still valid.
pub struct ActiveSession {
    pub info: SessionInfo,
    pub token_hash: String,
}

/// Looks a session cookie up. Expired and idle sessions are deleted and reported as expired.
pub async fn resolve(db: &Db, settings: &AuthSettings, token: &str) -> Result<ActiveSession, AuthError> {
    let token_hash = fingerprint(token);
    let Some(record) = sessions::find(db.pool(), &token_hash).await? else {
        return Err(AuthError::SessionExpired);
    };
    let now = now_ms();
    let idle_limit = Duration::minutes(settings.session_idle_minutes).num_milliseconds();
    if record.expires_at_ms <= now || record.last_seen_at_ms + idle_limit <= now {
        sessions::delete(db.pool(), &token_hash).await?;
        return Err(AuthError::SessionExpired);
    }
    // Note activity at most once a minute: enough for the idle timeout, and reads stay reads.
    if now - record.last_seen_at_ms > 60_000 {
        sessions::touch(db.pool(), &token_hash, now).await?;
    }
    Ok(ActiveSession {
        info: SessionInfo {
            user: record.user,
            csrf_token: record.csrf_token,
            expires_at: to_datetime(record.expires_at_ms),
        },
        token_hash,
    })
}

pub async fn end(db: &Db, token_hash: &str) -> Result<(), AuthError> {
    sessions::delete(db.pool(), token_hash).await?;
    Ok(())
}
