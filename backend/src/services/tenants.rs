use serde_json::json;
use tandem_shared::api::tenants::{CreateTenantRequest, EnvironmentKind, Tenant, UpdateTenantRequest};
use tandem_shared::ids::{EnvironmentId, TenantId};
use tandem_shared::roles::Role;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::Principal;
use crate::domain::{FieldError, Name, Slug};
use crate::repo::tenants::TenantFilter;
use crate::repo::{Db, Tx, environments, new_id, now_ms, tenants, to_datetime};

/// A tenant to create, already validated.
pub struct NewTenant {
    pub name: Name,
    pub slug: Slug,
    pub is_demo: bool,
}

impl NewTenant {
    pub fn parse(name: &str, slug: Option<&str>, is_demo: bool) -> Result<NewTenant, FieldError> {
        let name = Name::parse("name", name)?;
        let slug = match slug.map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => Slug::parse("slug", slug)?,
            None => Slug::from_name(name.as_str()).ok_or_else(|| {
                FieldError::new(
                    "slug",
                    "cannot be derived from the name; choose one (letters, digits, dashes)",
                )
            })?,
        };
        Ok(NewTenant { name, slug, is_demo })
    }
}

pub async fn list(db: &Db, principal: &Principal) -> Result<Vec<Tenant>, ServiceError> {
    let filter = match principal.role() {
        Role::OperatorAdmin | Role::Support => TenantFilter::All,
        Role::Sales => TenantFilter::DemoOnly,
        Role::Admin | Role::Viewer => match principal.home_tenant() {
            Some(id) => TenantFilter::Only(id),
            None => return Ok(Vec::new()),
        },
    };
    Ok(tenants::list(db.pool(), filter).await?)
}

pub async fn get(db: &Db, principal: &Principal, id: TenantId) -> Result<Tenant, ServiceError> {
    access::tenant(db, principal, id, Need::Read).await
}

/// Operator admins create any tenant; sales staff create demo tenants only.
pub async fn create(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    request: CreateTenantRequest,
) -> Result<Tenant, ServiceError> {
    match principal.role() {
        Role::OperatorAdmin => {}
        Role::Sales if request.is_demo => {}
        Role::Sales => {
            return Err(ServiceError::Forbidden(
                "sales staff can create demo tenants only".into(),
            ));
        }
        _ => {
            return Err(ServiceError::Forbidden("only operator admins create tenants".into()));
        }
    }
    let new = NewTenant::parse(&request.name, request.slug.as_deref(), request.is_demo)?;
    let mut tx = db.begin().await?;
    let tenant = insert_with_environments(&mut tx, actor, new).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// Creates the tenant with its sandbox and production environments, audited, inside `tx`.
/// Also used by the CLI and the first-run bootstrap.
pub async fn insert_with_environments(tx: &mut Tx, actor: &Actor, new: NewTenant) -> Result<Tenant, ServiceError> {
    let now = now_ms();
    let tenant = Tenant {
        id: TenantId(new_id()),
        slug: new.slug.as_str().to_string(),
        name: new.name.as_str().to_string(),
        is_demo: new.is_demo,
        created_at: to_datetime(now),
    };
    tenants::insert(&mut **tx, &tenant)
        .await
        .map_err(ServiceError::duplicate_field("slug"))?;
    for kind in EnvironmentKind::ALL {
        environments::insert(&mut **tx, EnvironmentId(new_id()), tenant.id, kind, now).await?;
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "tenant.created",
            target_kind: "tenant",
            target_id: Some(tenant.id.to_string()),
            details: json!({ "name": tenant.name, "slug": tenant.slug, "is_demo": tenant.is_demo }),
        },
    )
    .await?;
    Ok(tenant)
}

pub async fn rename(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    id: TenantId,
    request: UpdateTenantRequest,
) -> Result<Tenant, ServiceError> {
    let tenant = access::tenant(db, principal, id, Need::Write).await?;
    let name = Name::parse("name", &request.name)?;
    let mut tx = db.begin().await?;
    tenants::rename(&mut *tx, tenant.id, name.as_str()).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "tenant.renamed",
            target_kind: "tenant",
            target_id: Some(tenant.id.to_string()),
            details: json!({ "from": tenant.name, "to": name.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Tenant {
        name: name.as_str().to_string(),
        ..tenant
    })
}
