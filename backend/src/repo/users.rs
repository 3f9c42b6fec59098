use tandem_shared::api::users::User;
use tandem_shared::ids::{TenantId, UserId};
use tandem_shared::roles::Role;

use super::{Exec, RepoError, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    tenant_id: Option<String>,
    email: String,
    name: String,
    role: String,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(row: UserRow) -> Result<Self, RepoError> {
        Ok(User {
            id: parse_id(&row.id, "user id")?,
            tenant_id: row.tenant_id.as_deref().map(|t| parse_id(t, "tenant id")).transpose()?,
            email: row.email,
            name: row.name,
            role: Role::parse(&row.role).ok_or_else(|| RepoError::Corrupt(format!("unknown role {:?}", row.role)))?,
            created_at: to_datetime(row.created_at),
        })
    }
}

macro_rules! select_users {
    ($rest:literal) => {
        concat!("SELECT id, tenant_id, email, name, role, created_at FROM users ", $rest)
    };
}

/// A user with the hash needed to check their password: only the login path reads this.
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

pub async fn insert<'c>(exec: impl Exec<'c>, user: &User, password_hash: &str) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, name, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.id.to_string())
    .bind(user.tenant_id.map(|t| t.to_string()))
    .bind(&user.email)
    .bind(&user.name)
    .bind(password_hash)
    .bind(user.role.as_str())
    .bind(user.created_at.timestamp_millis())
    .execute(exec)
    .await
    .map_err(|e| RepoError::duplicate_as(e, "a user with this email"))?;
    Ok(())
}

pub async fn find_credentials_by_email<'c>(
    exec: impl Exec<'c>,
    email: &str,
) -> Result<Option<UserCredentials>, RepoError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, tenant_id, email, name, role, created_at, password_hash FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(exec)
    .await?;
    row.map(|row| {
        Ok(UserCredentials {
            user: User::try_from(row.user)?,
            password_hash: row.password_hash,
        })
    })
    .transpose()
}

/// Any user by id, tenant or staff: only for resolving the principal of a session.
pub async fn get_for_session<'c>(exec: impl Exec<'c>, id: UserId) -> Result<Option<User>, RepoError> {
    let row: Option<UserRow> = sqlx::query_as(select_users!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn get<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: UserId) -> Result<Option<User>, RepoError> {
    let row: Option<UserRow> = sqlx::query_as(select_users!("WHERE tenant_id = $1 AND id = $2"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(User::try_from).transpose()
}

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<Vec<User>, RepoError> {
    let rows: Vec<UserRow> = sqlx::query_as(select_users!("WHERE tenant_id = $1 ORDER BY email"))
        .bind(tenant_id.to_string())
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(User::try_from).collect()
}

pub async fn count_admins<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<i64, RepoError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'admin'")
            .bind(tenant_id.to_string())
            .fetch_one(exec)
            .await?,
    )
}

pub async fn count_all<'c>(exec: impl Exec<'c>) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(exec).await?)
}

pub async fn update<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: UserId,
    name: &str,
    role: Role,
) -> Result<bool, RepoError> {
    let done = sqlx::query("UPDATE users SET name = $1, role = $2 WHERE tenant_id = $3 AND id = $4")
        .bind(name)
        .bind(role.as_str())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: UserId) -> Result<bool, RepoError> {
    let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a password by email (CLI); returns false when nobody has that email.
pub async fn set_password_hash<'c>(exec: impl Exec<'c>, email: &str, hash: &str) -> Result<bool, RepoError> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
        .bind(hash)
        .bind(email)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}
