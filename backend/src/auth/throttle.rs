//! Throttling of failed logins, per email and per client address.
//!
//! Written here rather than with `governor`: the count must cover failures only (a successful
//! login must not use up the allowance) and must be shared by every instance on one database,
//! while `governor` counts every call in one process's memory.

use chrono::Duration;

use super::AuthError;
use crate::configuration::AuthSettings;
use crate::repo::login_throttle::{self, FailurePolicy};
use crate::repo::{Db, now_ms};

/// A client address may fail this many times more than a single email before it is blocked, as
/// several people may log in from behind one address.
const ADDRESS_ALLOWANCE_FACTOR: i64 = 4;

pub struct Keys {
    email: String,
    address: Option<String>,
}

impl Keys {
    pub fn new(email: &str, client_ip: Option<&str>) -> Keys {
        Keys {
            email: format!("email:{email}"),
            address: client_ip.map(|ip| format!("ip:{ip}")),
        }
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.email.as_str()).chain(self.address.as_deref())
    }
}

pub async fn ensure_not_locked(db: &Db, keys: &Keys) -> Result<(), AuthError> {
    let now = now_ms();
    for key in keys.all() {
        if let Some(until) = login_throttle::locked_until(db.pool(), key).await?
            && until > now
        {
            return Err(AuthError::Throttled {
                retry_after_secs: ((until - now) / 1000).max(1),
            });
        }
    }
    Ok(())
}

pub async fn record_failure(db: &Db, settings: &AuthSettings, keys: &Keys) -> Result<(), AuthError> {
    let policy = |max_failures| FailurePolicy {
        now_ms: now_ms(),
        window_ms: Duration::seconds(settings.login_window_seconds).num_milliseconds(),
        max_failures,
        lockout_ms: Duration::seconds(settings.login_lockout_seconds).num_milliseconds(),
    };
    let locked = login_throttle::record_failure(db.pool(), &keys.email, &policy(settings.login_max_failures)).await?;
    if locked.is_some() {
        tracing::warn!("logins for an email are blocked after repeated failures");
    }
    if let Some(address) = &keys.address {
        let max = settings.login_max_failures.saturating_mul(ADDRESS_ALLOWANCE_FACTOR);
        if login_throttle::record_failure(db.pool(), address, &policy(max))
            .await?
            .is_some()
        {
            tracing::warn!(client = %address, "logins from a client address are blocked after repeated failures");
        }
    }
    Ok(())
}

/// After a successful login the email's failures are forgotten; the address's are not, so that
/// logging into one's own account does not reset a guessing attack from the same place.
pub async fn clear(db: &Db, keys: &Keys) -> Result<(), AuthError> {
    login_throttle::clear(db.pool(), &keys.email).await?;
    Ok(())
}
