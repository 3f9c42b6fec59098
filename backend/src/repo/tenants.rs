use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

use super::{Exec, RepoError, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    is_demo: i64,
    created_at: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = RepoError;
    fn try_from(row: TenantRow) -> Result<Self, RepoError> {
        Ok(Tenant {
            id: parse_id(&row.id, "tenant id")?,
            slug: row.slug,
            name: row.name,
            is_demo: row.is_demo != 0,
            created_at: to_datetime(row.created_at),
        })
    }
}

macro_rules! select_tenants {
    ($rest:literal) => {
        concat!("SELECT id, slug, name, is_demo, created_at FROM tenants ", $rest)
    };
}

pub async fn insert<'c>(exec: impl Exec<'c>, tenant: &Tenant) -> Result<(), RepoError> {
    sqlx::query("INSERT INTO tenants (id, slug, name, is_demo, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(tenant.id.to_string())
        .bind(&tenant.slug)
        .bind(&tenant.name)
        .bind(i64::from(tenant.is_demo))
        .bind(tenant.created_at.timestamp_millis())
        .execute(exec)
        .await
        .map_err(|e| RepoError::duplicate_as(e, "a tenant with this slug"))?;
    Ok(())
}

pub async fn get<'c>(exec: impl Exec<'c>, id: TenantId) -> Result<Option<Tenant>, RepoError> {
    let row: Option<TenantRow> = sqlx::query_as(select_tenants!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(Tenant::try_from).transpose()
}

pub async fn find_by_slug<'c>(exec: impl Exec<'c>, slug: &str) -> Result<Option<Tenant>, RepoError> {
    let row: Option<TenantRow> = sqlx::query_as(select_tenants!("WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(exec)
        .await?;
    row.map(Tenant::try_from).transpose()
}

/// Which tenants a listing covers.
#[derive(Clone, Copy, Debug)]
pub enum TenantFilter {
    All,
    DemoOnly,
    Only(TenantId),
}

pub async fn list<'c>(exec: impl Exec<'c>, filter: TenantFilter) -> Result<Vec<Tenant>, RepoError> {
    let rows: Vec<TenantRow> = match filter {
        TenantFilter::All => {
            sqlx::query_as(select_tenants!("ORDER BY name, id"))
                .fetch_all(exec)
                .await?
        }
        TenantFilter::DemoOnly => {
            sqlx::query_as(select_tenants!("WHERE is_demo = 1 ORDER BY name, id"))
                .fetch_all(exec)
                .await?
        }
        TenantFilter::Only(id) => {
            sqlx::query_as(select_tenants!("WHERE id = $1"))
                .bind(id.to_string())
                .fetch_all(exec)
                .await?
        }
    };
    rows.into_iter().map(Tenant::try_from).collect()
}

pub async fn rename<'c>(exec: impl Exec<'c>, id: TenantId, name: &str) -> Result<bool, RepoError> {
    let done = sqlx::query("UPDATE tenants SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count<'c>(exec: impl Exec<'c>) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(exec)
        .await?)
}

/// Removes the tenant; everything it owns goes with it (`ON DELETE CASCADE`).
pub async fn delete<'c>(exec: impl Exec<'c>, id: TenantId) -> Result<bool, RepoError> {
    let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}
