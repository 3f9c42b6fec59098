//! Authorizations in progress: the `state` sent to the CRM, bound to who started it and where.

use tandem_shared::api::connections::ConnectionTarget;
use tandem_shared::ids::{EnvironmentId, TenantId, UserId};

use super::{Exec, RepoError, parse_id};

#[derive(Clone, Debug, PartialEq)]
pub struct OAuthState {
    pub state_hash: String,
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub user_id: UserId,
    pub provider: String,
    pub target: ConnectionTarget,
    pub sandbox_account: Option<String>,
    pub redirect_uri: String,
    pub expires_at_ms: i64,
}

pub async fn insert<'c>(exec: impl Exec<'c>, state: &OAuthState, now_ms: i64) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, tenant_id, environment_id, user_id, provider, target, sandbox_account, \
                                   redirect_uri, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&state.state_hash)
    .bind(state.tenant_id.to_string())
    .bind(state.environment_id.to_string())
    .bind(state.user_id.to_string())
    .bind(&state.provider)
    .bind(state.target.as_str())
    .bind(&state.sandbox_account)
    .bind(&state.redirect_uri)
    .bind(now_ms)
    .bind(state.expires_at_ms)
    .execute(exec)
    .await?;
    Ok(())
}

/// Why a state cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    AlreadyUsed,
    Expired,
}

/// Marks the state used and returns it, atomically: of two callbacks with one state, one wins.
pub async fn consume<'c, 'd>(
    read: impl Exec<'c>,
    write: impl Exec<'d>,
    state_hash: &str,
    now_ms: i64,
) -> Result<Result<OAuthState, Unusable>, RepoError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        state_hash: String,
        tenant_id: String,
        environment_id: String,
        user_id: String,
        provider: String,
        target: String,
        sandbox_account: Option<String>,
        redirect_uri: String,
        expires_at: i64,
        used_at: Option<i64>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT state_hash, tenant_id, environment_id, user_id, provider, target, sandbox_account, redirect_uri, \
                expires_at, used_at FROM oauth_states WHERE state_hash = $1",
    )
    .bind(state_hash)
    .fetch_optional(read)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Unusable::Unknown));
    };
    if row.used_at.is_some() {
        return Ok(Err(Unusable::AlreadyUsed));
    }
    if row.expires_at <= now_ms {
        return Ok(Err(Unusable::Expired));
    }
    let claimed = sqlx::query("UPDATE oauth_states SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL")
        .bind(now_ms)
        .bind(state_hash)
        .execute(write)
        .await?;
    if claimed.rows_affected() != 1 {
        return Ok(Err(Unusable::AlreadyUsed));
    }
    Ok(Ok(OAuthState {
        state_hash: row.state_hash,
        tenant_id: parse_id(&row.tenant_id, "tenant id")?,
        environment_id: parse_id(&row.environment_id, "environment id")?,
        user_id: parse_id(&row.user_id, "user id")?,
        provider: row.provider,
        target: ConnectionTarget::parse(&row.target)
            .ok_or_else(|| RepoError::Corrupt(format!("target {:?}", row.target)))?,
        sandbox_account: row.sandbox_account,
        redirect_uri: row.redirect_uri,
        expires_at_ms: row.expires_at,
    }))
}

/// Removes states older than a day, used or not.
pub async fn prune<'c>(exec: impl Exec<'c>, now_ms: i64) -> Result<u64, RepoError> {
    let done = sqlx::query("DELETE FROM oauth_states WHERE created_at < $1")
        .bind(now_ms - 24 * 3600 * 1000)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}
