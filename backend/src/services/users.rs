use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tandem_shared::api::users::{CreateUserRequest, CreatedUser, UpdateUserRequest, User};
use tandem_shared::ids::{TenantId, UserId};
use tandem_shared::roles::Role;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::{Principal, password};
use crate::domain::{Email, Name, NewPassword};
use crate::repo::{Db, Tx, new_id, now_ms, sessions, to_datetime, users};

pub async fn list(db: &Db, principal: &Principal, tenant_id: TenantId) -> Result<Vec<User>, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Read).await?;
    Ok(users::list(db.pool(), tenant.id).await?)
}

/// A person to create, already validated. `password` is `None` when one must be generated.
pub struct NewUser {
    pub tenant_id: Option<TenantId>,
    pub email: Email,
    pub name: Name,
    pub role: Role,
    pub password: Option<NewPassword>,
}

pub async fn create(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: CreateUserRequest,
) -> Result<CreatedUser, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let new = NewUser {
        tenant_id: Some(tenant.id),
        email: Email::parse("email", &request.email)?,
        name: Name::parse("name", &request.name)?,
        role: request.role.into(),
        password: request
            .password
            .map(|p| NewPassword::parse("password", SecretString::from(p)))
            .transpose()?,
    };
    let mut tx = db.begin().await?;
    let created = insert(&mut tx, actor, new).await?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts a user (tenant user or operator staff) inside `tx`, audited. Also used by the CLI and
/// the first-run bootstrap.
pub async fn insert(tx: &mut Tx, actor: &Actor, new: NewUser) -> Result<CreatedUser, ServiceError> {
    if new.role.is_operator_staff() != new.tenant_id.is_none() {
        return Err(ServiceError::Invalid(crate::domain::FieldError::new(
            "role",
            if new.tenant_id.is_some() {
                "tenant users are admin or viewer"
            } else {
                "operator staff are operator_admin, support or sales"
            },
        )));
    }
    let (password, generated) = match new.password {
        Some(password) => (password, false),
        None => (NewPassword::generate(), true),
    };
    let hash = password::hash(password.secret()).await?;
    let user = User {
        id: UserId(new_id()),
        tenant_id: new.tenant_id,
        email: new.email.to_string(),
        name: new.name.as_str().to_string(),
        role: new.role,
        created_at: to_datetime(now_ms()),
    };
    users::insert(&mut **tx, &user, &hash)
        .await
        .map_err(ServiceError::duplicate_field("email"))?;
    audit::record(
        &mut **tx,
        actor,
        Change {
            tenant_id: user.tenant_id,
            action: "user.created",
            target_kind: "user",
            target_id: Some(user.id.to_string()),
            details: json!({ "email": user.email, "name": user.name, "role": user.role }),
        },
    )
    .await?;
    Ok(CreatedUser {
        user,
        generated_password: generated.then(|| password.secret().expose_secret().to_string()),
    })
}

pub async fn update(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    user_id: UserId,
    request: UpdateUserRequest,
) -> Result<User, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let name = request.name.as_deref().map(|n| Name::parse("name", n)).transpose()?;
    let mut tx = db.begin().await?;
    let user = users::get(&mut *tx, tenant.id, user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let role: Role = request.role.map(Role::from).unwrap_or(user.role);
    let name = name.map_or_else(|| user.name.clone(), |n| n.as_str().to_string());
    if user.role == Role::Admin && role != Role::Admin {
        ensure_another_admin(&mut tx, tenant.id, "role").await?;
    }
    users::update(&mut *tx, tenant.id, user.id, &name, role).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "user.updated",
            target_kind: "user",
            target_id: Some(user.id.to_string()),
            details: json!({
                "email": user.email,
                "role": { "from": user.role, "to": role },
                "name": { "from": user.name, "to": name },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(User { name, role, ..user })
}

pub async fn remove(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    user_id: UserId,
) -> Result<(), ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let mut tx = db.begin().await?;
    let user = users::get(&mut *tx, tenant.id, user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if user.role == Role::Admin {
        ensure_another_admin(&mut tx, tenant.id, "user_id").await?;
    }
    sessions::delete_for_user(&mut *tx, user.id).await?;
    users::delete(&mut *tx, tenant.id, user.id).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "user.removed",
            target_kind: "user",
            target_id: Some(user.id.to_string()),
            details: json!({ "email": user.email, "role": user.role }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A tenant must keep at least one admin, or nobody could manage it.
async fn ensure_another_admin(tx: &mut Tx, tenant_id: TenantId, field: &str) -> Result<(), ServiceError> {
    if users::count_admins(&mut **tx, tenant_id).await? <= 1 {
        return Err(ServiceError::conflict(
            field,
            "this is the tenant's last admin; make someone else admin first",
        ));
    }
    Ok(())
}

/// Sets a user's password by email (CLI). Ends their sessions.
pub async fn set_password(db: &Db, actor: &Actor, email: &Email, password: NewPassword) -> Result<(), ServiceError> {
    let hash = password::hash(password.secret()).await?;
    let mut tx = db.begin().await?;
    let Some(credentials) = users::find_credentials_by_email(&mut *tx, email.as_str()).await? else {
        return Err(ServiceError::NotFound("user"));
    };
    users::set_password_hash(&mut *tx, email.as_str(), &hash).await?;
    sessions::delete_for_user(&mut *tx, credentials.user.id).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: credentials.user.tenant_id,
            action: "user.password_set",
            target_kind: "user",
            target_id: Some(credentials.user.id.to_string()),
            details: json!({ "email": email.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
