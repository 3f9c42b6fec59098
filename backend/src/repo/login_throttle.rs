//! Counters of failed logins, kept in the database so that every instance sees the same count.

use super::{Exec, RepoError};

/// When logins for this key are blocked until (Unix ms), if they are.
pub async fn locked_until<'c>(exec: impl Exec<'c>, key: &str) -> Result<Option<i64>, RepoError> {
    let locked: Option<Option<i64>> =
        sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(exec)
            .await?;
    Ok(locked.flatten())
}

pub struct FailurePolicy {
    pub now_ms: i64,
    pub window_ms: i64,
    pub max_failures: i64,
    pub lockout_ms: i64,
}

/// Counts one failure in the current window (starting a new window when the old one is over) and
/// locks the key when the count reaches the limit, in one atomic statement.
pub async fn record_failure<'c>(
    exec: impl Exec<'c>,
    key: &str,
    policy: &FailurePolicy,
) -> Result<Option<i64>, RepoError> {
    let locked_until: Option<i64> = sqlx::query_scalar(
        "INSERT INTO login_throttle (throttle_key, failures, window_started, locked_until) \
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $2 + $5 ELSE NULL END) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.window_started <= $2 - $3 THEN 1 \
                           ELSE login_throttle.failures + 1 END, \
           window_started = CASE WHEN login_throttle.window_started <= $2 - $3 THEN $2 \
                                 ELSE login_throttle.window_started END, \
           locked_until = CASE \
             WHEN (CASE WHEN login_throttle.window_started <= $2 - $3 THEN 1 \
                        ELSE login_throttle.failures + 1 END) >= $4 THEN $2 + $5 \
             WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
             ELSE NULL END \
         RETURNING locked_until",
    )
    .bind(key)
    .bind(policy.now_ms)
    .bind(policy.window_ms)
    .bind(policy.max_failures)
    .bind(policy.lockout_ms)
    .fetch_one(exec)
    .await?;
    Ok(locked_until)
}

pub async fn clear<'c>(exec: impl Exec<'c>, key: &str) -> Result<(), RepoError> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}
