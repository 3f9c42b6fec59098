//! Connected CRM accounts: list, connect (start and complete the OAuth flow), test, reconnect,
//! disconnect. Every change is audited; tokens go to the vault only.

use std::time::Instant;

use secrecy::ExposeSecret;
use serde_json::json;
use tandem_shared::api::connections::{
    AuthorizeRedirect, ConnectWithCredentialsRequest, Connection, ConnectionCheck, ConnectionLimits, ConnectionStatus,
    CredentialFieldInfo, ProviderInfo, StartConnectRequest, UpdateConnectionRequest,
};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::{ConnectionId, TenantId};

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::Principal;
use crate::connectors::ConnectorError;
use crate::connectors::catalogue::{self, AuthKind, Availability, Provider, WebhookScheme};
use crate::domain::FieldError;
use crate::oauth::CrmAccess;
use crate::oauth::client;
use crate::oauth::flow::{self, Authorized, CallbackError, StartError};
use crate::oauth::targets::TargetError;
use crate::oauth::tokens::{CredentialError, StoredTokens, TOKENS_PURPOSE};
use crate::repo::connections::{self, Connected, LimitOverrides, StoredConnection};
use crate::repo::{Db, connection_usage, environments, new_id, now_ms, users};
use crate::sync::budget::window_start;
use crate::sync::plan::limits_of;
use crate::vault::Vault;

/// The eight CRMs, as the connections page lists them.
pub fn catalogue() -> Vec<ProviderInfo> {
    catalogue::PROVIDERS
        .iter()
        .map(|p| ProviderInfo {
            id: p.id.into(),
            name: p.name.into(),
            available: p.availability == Availability::Available,
            auth: match p.auth {
                AuthKind::OAuth2 { .. } => "oauth2".into(),
                AuthKind::Credentials => "credentials".into(),
            },
            objects: p.capabilities.objects.iter().map(|o| o.as_str().to_string()).collect(),
            batch_max: p.capabilities.batch_max,
            webhooks: p.capabilities.webhooks != WebhookScheme::None,
            credential_fields: p
                .entered
                .map(|e| e.fields)
                .unwrap_or_default()
                .iter()
                .map(|f| CredentialFieldInfo {
                    name: f.name.into(),
                    label: f.label.into(),
                    secret: f.secret,
                    hint: f.hint.into(),
                })
                .collect(),
        })
        .collect()
}

/// The API view: the CRM's display name, and the limits in force with today's usage.
async fn view(db: &Db, mut stored: StoredConnection) -> Result<Connection, ServiceError> {
    if let Some(provider) = catalogue::provider(&stored.connection.provider) {
        stored.connection.provider_name = provider.name.to_string();
        let limits = limits_of(provider, stored.overrides);
        let used = connection_usage::get(db.pool(), stored.connection.id, window_start(chrono::Utc::now())).await?;
        stored.connection.limits = ConnectionLimits {
            requests_per_second: limits.requests_per_second,
            daily_quota: limits.requests_per_day,
            requests_per_second_override: stored.overrides.requests_per_second,
            daily_quota_override: stored.overrides.daily_quota.map(|q| q.max(0) as u64),
            used_today: used.max(0) as u64,
            default_requests_per_second: provider.capabilities.requests_per_second,
            default_daily_quota: provider.capabilities.requests_per_day,
            search_requests_per_second: limits.search_per_second,
            search_requests_per_second_override: provider
                .capabilities
                .search_requests_per_second
                .and(stored.overrides.search_requests_per_second),
            default_search_requests_per_second: provider.capabilities.search_requests_per_second,
        };
    }
    Ok(stored.connection)
}

pub async fn list(db: &Db, principal: &Principal, tenant_id: TenantId) -> Result<Vec<Connection>, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Read).await?;
    let mut listed = Vec::new();
    for stored in connections::list(db.pool(), tenant.id).await? {
        listed.push(view(db, stored).await?);
    }
    Ok(listed)
}

/// Sets the connection's own rate and daily quota (or goes back to the CRM's defaults); runs
/// pick the new limits up at their next slice.
pub async fn update(
    db: &Db,
    queue: &crate::jobs::Queue,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: ConnectionId,
    request: UpdateConnectionRequest,
) -> Result<Connection, ServiceError> {
    let (tenant, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    for (field, rate) in [
        ("requests_per_second", request.requests_per_second),
        ("search_requests_per_second", request.search_requests_per_second),
    ] {
        if let Some(rate) = rate
            && !(rate > 0.0 && rate <= 1000.0)
        {
            return Err(FieldError::new(
                field,
                format!("{rate} is not above 0 and at most 1000 requests a second"),
            )
            .into());
        }
    }
    let provider = catalogue::provider(&stored.connection.provider);
    if request.search_requests_per_second.is_some()
        && provider.is_none_or(|p| p.capabilities.search_requests_per_second.is_none())
    {
        return Err(FieldError::new(
            "search_requests_per_second",
            format!(
                "{} has no separate search rate: its searches count against requests_per_second",
                provider.map_or(stored.connection.provider.as_str(), |p| p.name)
            ),
        )
        .into());
    }
    if request.daily_quota == Some(0) {
        return Err(FieldError::new("daily_quota", "must be at least 1 call a day").into());
    }
    let daily = request
        .daily_quota
        .map(|q| i64::try_from(q).map_err(|_| FieldError::new("daily_quota", format!("{q} is too large"))))
        .transpose()?;
    let mut tx = db.begin().await?;
    let overrides = LimitOverrides {
        requests_per_second: request.requests_per_second,
        daily_quota: daily,
        search_requests_per_second: request.search_requests_per_second,
    };
    connections::set_limit_overrides(&mut *tx, tenant.id, id, overrides).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "connection.limits_changed",
            target_kind: "connection",
            target_id: Some(id.to_string()),
            details: json!({
                "before": {
                    "requests_per_second": stored.overrides.requests_per_second,
                    "daily_quota": stored.overrides.daily_quota,
                    "search_requests_per_second": stored.overrides.search_requests_per_second,
                },
                "after": {
                    "requests_per_second": overrides.requests_per_second,
                    "daily_quota": overrides.daily_quota,
                    "search_requests_per_second": overrides.search_requests_per_second,
                },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    crate::sync::jobs::wake_connection(db, queue, tenant.id, id).await?;
    let updated = connections::get(db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    view(db, updated).await
}

fn provider(id: &str) -> Result<&'static Provider, ServiceError> {
    catalogue::provider(id)
        .ok_or_else(|| FieldError::new("provider", format!("{id:?} is not a CRM Tandem knows")).into())
}

fn start_error(error: StartError) -> ServiceError {
    match error {
        StartError::Target(TargetError::NotAvailable(name)) => {
            FieldError::new("provider", format!("{name} cannot be connected yet")).into()
        }
        StartError::Target(error @ (TargetError::NotConfigured { .. } | TargetError::SandboxDisabled(_))) => {
            ServiceError::conflict("environment", error.to_string())
        }
        StartError::NotOAuth(name) => FieldError::new("provider", format!("{name} does not connect with OAuth")).into(),
        StartError::Repo(error) => error.into(),
        StartError::Vault(error) => error.into(),
        StartError::Token(error) => ServiceError::conflict("provider", error.to_string()),
    }
}

/// Starts connecting: the URL of the CRM's consent page for this person to visit.
pub async fn start(
    db: &Db,
    vault: &Vault,
    crm: &CrmAccess,
    principal: &Principal,
    tenant_id: TenantId,
    request: StartConnectRequest,
) -> Result<AuthorizeRedirect, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let provider = provider(&request.provider)?;
    let environment = environments::get_by_kind(db.pool(), tenant.id, request.environment)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let started = flow::start(
        crm,
        db,
        vault,
        &tenant,
        &environment,
        provider,
        principal.session.user.id,
    )
    .await
    .map_err(start_error)?;
    Ok(AuthorizeRedirect {
        authorize_url: started.authorize_url,
        expires_at: started.expires_at,
    })
}

async fn load(
    db: &Db,
    principal: &Principal,
    tenant_id: TenantId,
    id: ConnectionId,
    need: Need,
) -> Result<(Tenant, StoredConnection), ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, need).await?;
    let stored = connections::get(db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    Ok((tenant, stored))
}

/// Connects the same CRM account again (after the CRM revoked access, say).
pub async fn reconnect(
    db: &Db,
    vault: &Vault,
    crm: &CrmAccess,
    principal: &Principal,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<AuthorizeRedirect, ServiceError> {
    let (_, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    let request = StartConnectRequest {
        provider: stored.connection.provider,
        environment: stored.connection.environment,
    };
    start(db, vault, crm, principal, tenant_id, request).await
}

/// Stores a completed authorization: the tokens in the vault, the connection (new, or the
/// existing one for this environment and CRM made healthy again), and the audit entry.
pub async fn complete(
    db: &Db,
    vault: &Vault,
    authorized: Authorized,
    request_id: Option<String>,
) -> Result<Connection, CallbackError> {
    let Authorized {
        state,
        tenant,
        environment,
        provider,
        tokens,
        identity,
        base_url,
    } = authorized;
    let existing = connections::find(db.pool(), tenant.id, environment.id, provider.id).await?;
    let id = existing
        .as_ref()
        .map_or_else(|| ConnectionId(new_id()), |c| c.connection.id);
    let sealed = StoredTokens {
        access_token: tokens.access_token.expose_secret().to_string(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose_secret().to_string()),
        kind: crate::connectors::TokenKind::OAuth,
    };
    vault
        .put(tenant.id, &id.to_string(), TOKENS_PURPOSE, &sealed.seal())
        .await?;
    let who = users::get_for_session(db.pool(), state.user_id).await?;
    let who_email = who.as_ref().map(|u| u.email.clone());
    let scopes = if tokens.scopes.is_empty() {
        provider.scopes.join(" ")
    } else {
        tokens.scopes.join(" ")
    };
    let now = now_ms();
    let mut tx = db.begin().await?;
    let id = connections::upsert(
        &mut *tx,
        Connected {
            id,
            tenant_id: tenant.id,
            environment_id: environment.id,
            provider: provider.id,
            target: state.target,
            account_id: &identity.account_id,
            account_name: &identity.account_name,
            account_user: identity.user.as_deref(),
            base_url: &base_url,
            scopes: &scopes,
            access_expires_at: tokens.expires_in.map(|d| now + d.as_millis() as i64),
            connected_by: who_email.as_deref(),
            now_ms: now,
        },
    )
    .await?;
    let actor = match &who_email {
        Some(email) => Actor::named_user(email, request_id),
        None => Actor::system("oauth callback"),
    };
    audit::record(
        &mut *tx,
        &actor,
        Change {
            tenant_id: Some(tenant.id),
            action: if existing.is_some() {
                "connection.reconnected"
            } else {
                "connection.connected"
            },
            target_kind: "connection",
            target_id: Some(id.to_string()),
            details: json!({
                "provider": provider.id,
                "environment": environment.kind,
                "target": state.target,
                "account_id": identity.account_id,
                "account_name": identity.account_name,
            }),
        },
    )
    .await?;
    tx.commit().await.map_err(|e| CallbackError::Internal(e.to_string()))?;
    let stored = connections::get(db.pool(), tenant.id, id)
        .await?
        .ok_or_else(|| CallbackError::Internal("the connection vanished".into()))?;
    view(db, stored)
        .await
        .map_err(|e| CallbackError::Internal(e.to_string()))
}

/// The most characters an entered credential may have.
const CREDENTIAL_MAX_CHARS: usize = 512;

/// Connects a CRM with credentials an admin entered (an API token): checked against the CRM
/// with an identity call first, then sealed in the vault like OAuth tokens. Entering new ones
/// for a CRM already connected in the environment replaces the old ones. A refusal stores
/// nothing and says why in the CRM's words.
pub async fn connect_with_credentials(
    db: &Db,
    vault: &Vault,
    crm: &CrmAccess,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: ConnectWithCredentialsRequest,
) -> Result<Connection, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let provider = provider(&request.provider)?;
    let Some(entered) = provider.entered else {
        return Err(FieldError::new(
            "provider",
            format!(
                "{} connects through its consent page, not with entered credentials",
                provider.name
            ),
        )
        .into());
    };
    if let Some(unknown) = request
        .credentials
        .keys()
        .find(|k| !entered.fields.iter().any(|f| f.name == k.as_str()))
    {
        return Err(FieldError::new(
            format!("credentials.{unknown}"),
            format!("{} takes no credential named {unknown:?}", provider.name),
        )
        .into());
    }
    let mut values = std::collections::BTreeMap::new();
    for field in entered.fields {
        let name = format!("credentials.{}", field.name);
        let value = request
            .credentials
            .get(field.name)
            .map(|v| v.trim())
            .unwrap_or_default();
        if value.is_empty() {
            return Err(FieldError::new(name, format!("enter the {}", field.label)).into());
        }
        if value.chars().count() > CREDENTIAL_MAX_CHARS {
            return Err(FieldError::new(name, format!("is longer than {CREDENTIAL_MAX_CHARS} characters")).into());
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(name, "contains control characters; paste the value alone").into());
        }
        values.insert(field.name, secrecy::SecretString::from(value.to_string()));
    }
    let environment = environments::get_by_kind(db.pool(), tenant.id, request.environment)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let (target, base_url) = crm
        .targets
        .entered(provider, &tenant, request.environment)
        .map_err(|e| match e {
            TargetError::SandboxDisabled(_) => ServiceError::conflict("environment", e.to_string()),
            other => FieldError::new("provider", other.to_string()).into(),
        })?;
    let connector = crm
        .connectors
        .get(provider.id)
        .ok_or(ServiceError::NotFound("connector"))?;
    let credential = connector
        .credential_from(&base_url, &values)
        .map_err(|e| FieldError::new("credentials", e.to_string()))?;
    let first_field = format!("credentials.{}", entered.fields[0].name);
    let identity = match connector.identity(&credential).await {
        Ok(identity) => identity,
        Err(ConnectorError::Unauthorized { message } | ConnectorError::GrantRevoked { message }) => {
            return Err(FieldError::new(first_field, format!("{} refused it: {message}", provider.name)).into());
        }
        Err(error @ (ConnectorError::Retryable { .. } | ConnectorError::RateLimited { .. })) => {
            return Err(ServiceError::Crm(format!(
                "{} could not be reached to check the credentials: {error}",
                provider.name
            )));
        }
        Err(error) => {
            return Err(FieldError::new(first_field, format!("{} refused it: {error}", provider.name)).into());
        }
    };

    let existing = connections::find(db.pool(), tenant.id, environment.id, provider.id).await?;
    let id = existing
        .as_ref()
        .map_or_else(|| ConnectionId(new_id()), |c| c.connection.id);
    let sealed = StoredTokens {
        access_token: credential.access_token.expose_secret().to_string(),
        refresh_token: None,
        kind: credential.kind,
    };
    vault
        .put(tenant.id, &id.to_string(), TOKENS_PURPOSE, &sealed.seal())
        .await?;
    let who = principal.session.user.email.clone();
    let now = now_ms();
    let mut tx = db.begin().await?;
    let id = connections::upsert(
        &mut *tx,
        Connected {
            id,
            tenant_id: tenant.id,
            environment_id: environment.id,
            provider: provider.id,
            target,
            account_id: &identity.account_id,
            account_name: &identity.account_name,
            account_user: identity.user.as_deref(),
            base_url: &base_url,
            scopes: "",
            access_expires_at: None,
            connected_by: Some(&who),
            now_ms: now,
        },
    )
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: if existing.is_some() {
                "connection.credentials_replaced"
            } else {
                "connection.connected"
            },
            target_kind: "connection",
            target_id: Some(id.to_string()),
            details: json!({
                "provider": provider.id,
                "environment": environment.kind,
                "target": target,
                "with": "entered credentials",
                "account_id": identity.account_id,
                "account_name": identity.account_name,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    let stored = connections::get(db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    view(db, stored).await
}

/// Calls the CRM with the connection's credentials (refreshing them if due) and records the
/// outcome on the connection.
pub async fn test(
    db: &Db,
    crm: &CrmAccess,
    principal: &Principal,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<ConnectionCheck, ServiceError> {
    let (tenant, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    let connector = crm
        .connectors
        .get(&stored.connection.provider)
        .ok_or(ServiceError::NotFound("connector"))?;
    let started = Instant::now();
    let outcome = match crm.tokens.credential(&tenant, id).await {
        Ok(credential) => match connector.identity(&credential).await {
            Err(ConnectorError::Unauthorized { .. }) => match crm.tokens.after_unauthorized(&tenant, &stored).await {
                Ok(credential) => connector.identity(&credential).await.map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            },
            other => other.map_err(|e| e.to_string()),
        },
        Err(CredentialError::Repo(error)) => return Err(error.into()),
        Err(CredentialError::Vault(error)) => return Err(error.into()),
        Err(error) => Err(error.to_string()),
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    let current = connections::get(db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    let (ok, message) = match outcome {
        Ok(identity) => {
            connections::set_status(db.pool(), id, ConnectionStatus::Healthy, None, now_ms()).await?;
            (
                true,
                format!(
                    "Connected to {} as {}",
                    identity.account_name,
                    identity.user.unwrap_or_else(|| "the app".into())
                ),
            )
        }
        Err(message) => {
            // A revoked grant was already marked by the token manager; keep that status.
            if current.connection.status != ConnectionStatus::NeedsReauth {
                connections::set_status(db.pool(), id, ConnectionStatus::Error, Some(&message), now_ms()).await?;
            }
            (false, message)
        }
    };
    let connection = view(
        db,
        connections::get(db.pool(), tenant.id, id)
            .await?
            .ok_or(ServiceError::NotFound("connection"))?,
    )
    .await?;
    Ok(ConnectionCheck {
        ok,
        connection,
        latency_ms,
        message,
    })
}

/// Gives access back at the CRM where it has a way to, deletes the tokens and the connection.
pub async fn disconnect(
    db: &Db,
    vault: &Vault,
    crm: &CrmAccess,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<(), ServiceError> {
    let (tenant, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    let revocation = match vault.get(tenant.id, &id.to_string(), TOKENS_PURPOSE).await {
        Ok(Some(secret)) => match (
            StoredTokens::open(&secret),
            catalogue::provider(&stored.connection.provider),
        ) {
            // The admin's own API token: Tandem forgets it; only the admin can renew it at the CRM.
            (Ok(tokens), Some(_)) if tokens.kind == crate::connectors::TokenKind::ApiToken => {
                "an entered API token: forgotten by Tandem (renew it in the CRM to end its use)".to_string()
            }
            (Ok(tokens), Some(provider)) => {
                let revoke = crm
                    .targets
                    .resolve_for(
                        provider,
                        &tenant,
                        stored.connection.environment,
                        stored.connection.target,
                    )
                    .map(|r| r.revoke);
                match (tokens.refresh_token.or(Some(tokens.access_token)), revoke) {
                    (Some(token), Ok(revoke)) => {
                        client::revoke(&crm.http, &revoke, &secrecy::SecretString::from(token))
                            .await
                            .map(|()| "revoked at the CRM".to_string())
                            .unwrap_or_else(|e| format!("not revoked at the CRM: {e}"))
                    }
                    (_, Err(e)) => format!("not revoked at the CRM: {e}"),
                    (None, _) => "no token to revoke".to_string(),
                }
            }
            _ => "stored tokens unreadable; not revoked at the CRM".to_string(),
        },
        Ok(None) => "no tokens were stored".to_string(),
        Err(error) => format!("stored tokens unreadable ({error}); not revoked at the CRM"),
    };
    vault.delete_owner(tenant.id, &id.to_string()).await?;
    let mut tx = db.begin().await?;
    connections::delete(&mut *tx, tenant.id, id).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "connection.disconnected",
            target_kind: "connection",
            target_id: Some(id.to_string()),
            details: json!({
                "provider": stored.connection.provider,
                "environment": stored.connection.environment,
                "account_name": stored.connection.account_name,
                "revocation": revocation,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
