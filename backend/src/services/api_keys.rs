use serde_json::json;
use tandem_shared::api::api_keys::{ApiKey, CreateApiKeyRequest, CreatedApiKey};
use tandem_shared::ids::{ApiKeyId, TenantId};

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::{Principal, api_key};
use crate::domain::Name;
use crate::repo::api_keys::{self, NewApiKey};
use crate::repo::{Db, environments, new_id, now_ms};

pub async fn list(db: &Db, principal: &Principal, tenant_id: TenantId) -> Result<Vec<ApiKey>, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Read).await?;
    Ok(api_keys::list(db.pool(), tenant.id).await?)
}

/// Creates a key for one of the tenant's environments. The secret is in the result and nowhere
/// else: only its fingerprint is stored.
pub async fn create(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: CreateApiKeyRequest,
) -> Result<CreatedApiKey, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let name = Name::parse("name", &request.name)?;
    let mut tx = db.begin().await?;
    let environment = environments::get_by_kind(&mut *tx, tenant.id, request.environment)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let (secret, prefix, hash) = api_key::generate(environment.kind);
    let id = ApiKeyId(new_id());
    api_keys::insert(
        &mut *tx,
        NewApiKey {
            id,
            tenant_id: tenant.id,
            environment_id: environment.id,
            name: name.as_str(),
            prefix: &prefix,
            key_hash: &hash,
            created_by: Some(principal.email()),
            created_at_ms: now_ms(),
        },
    )
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "api_key.created",
            target_kind: "api_key",
            target_id: Some(id.to_string()),
            details: json!({ "name": name.as_str(), "prefix": prefix, "environment": environment.kind }),
        },
    )
    .await?;
    let key = api_keys::get(&mut *tx, tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("api key"))?;
    tx.commit().await?;
    Ok(CreatedApiKey { key, secret })
}

/// Revokes a key at once: the next request with it gets 401. Revoking twice changes nothing.
pub async fn revoke(
    db: &Db,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    key_id: ApiKeyId,
) -> Result<ApiKey, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let mut tx = db.begin().await?;
    let revoked_now = api_keys::revoke(&mut *tx, tenant.id, key_id, now_ms()).await?;
    let key = api_keys::get(&mut *tx, tenant.id, key_id)
        .await?
        .ok_or(ServiceError::NotFound("api key"))?;
    if revoked_now {
        audit::record(
            &mut *tx,
            actor,
            Change {
                tenant_id: Some(tenant.id),
                action: "api_key.revoked",
                target_kind: "api_key",
                target_id: Some(key_id.to_string()),
                details: json!({ "name": key.name, "prefix": key.prefix }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(key)
}
