//! Login sessions. Only the SHA-256 of the session token is stored.

use tandem_shared::api::auth::CurrentUser;
use tandem_shared::ids::UserId;
use tandem_shared::roles::Role;

use super::{Exec, RepoError, parse_id};

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub now_ms: i64,
    pub expires_at_ms: i64,
}

/// A stored session with its user, as the principal extractor needs it.
pub struct SessionRecord {
    pub user: CurrentUser,
    pub csrf_token: String,
    pub last_seen_at_ms: i64,
    pub expires_at_ms: i64,
}

pub async fn insert<'c>(exec: impl Exec<'c>, session: NewSession<'_>) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(session.token_hash)
    .bind(session.user_id.to_string())
    .bind(session.csrf_token)
    .bind(session.now_ms)
    .bind(session.expires_at_ms)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn find<'c>(exec: impl Exec<'c>, token_hash: &str) -> Result<Option<SessionRecord>, RepoError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: String,
        csrf_token: String,
        last_seen_at: i64,
        expires_at: i64,
        email: String,
        name: String,
        role: String,
        tenant_id: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.email, u.name, u.role, u.tenant_id \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(exec)
    .await?;
    row.map(|row| {
        Ok(SessionRecord {
            user: CurrentUser {
                id: parse_id(&row.user_id, "user id")?,
                email: row.email,
                name: row.name,
                role: Role::parse(&row.role)
                    .ok_or_else(|| RepoError::Corrupt(format!("unknown role {:?}", row.role)))?,
                tenant_id: row.tenant_id.as_deref().map(|t| parse_id(t, "tenant id")).transpose()?,
            },
            csrf_token: row.csrf_token,
            last_seen_at_ms: row.last_seen_at,
            expires_at_ms: row.expires_at,
        })
    })
    .transpose()
}

pub async fn touch<'c>(exec: impl Exec<'c>, token_hash: &str, now_ms: i64) -> Result<(), RepoError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now_ms)
        .bind(token_hash)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete<'c>(exec: impl Exec<'c>, token_hash: &str) -> Result<(), RepoError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete_for_user<'c>(exec: impl Exec<'c>, user_id: UserId) -> Result<u64, RepoError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}

/// Removes sessions past their absolute expiry or idle for longer than `idle_ms`.
pub async fn delete_expired<'c>(exec: impl Exec<'c>, now_ms: i64, idle_ms: i64) -> Result<u64, RepoError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now_ms)
        .bind(now_ms - idle_ms)
        .execute(exec)
        .await?;
    Ok(done.rows_affected())
}
