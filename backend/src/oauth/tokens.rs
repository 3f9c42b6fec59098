//! Valid access tokens for connections: refreshed ahead of expiry and after a 401, one refresh
//! at a time per connection. In this process a lock per connection makes concurrent callers wait
//! for the one refresh; across instances the connection's token version is claimed first, so two
//! instances never refresh (and overwrite each other's rotated refresh tokens) at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tandem_shared::api::connections::ConnectionStatus;
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::ConnectionId;

use super::client::{self, OAuthEndpoints, TokenError};
use super::targets::Targets;
use crate::connectors::catalogue;
use crate::connectors::{Credential, TokenKind};
use crate::repo::connections::{self, StoredConnection};
use crate::repo::{Db, RepoError, audit, now_ms};
use crate::vault::{Vault, VaultError};

pub const TOKENS_PURPOSE: &str = "oauth_tokens";
/// Refresh when less than this is left of an access token's life.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// What the vault holds for a connection (as one sealed JSON value).
#[derive(Serialize, Deserialize)]
pub struct StoredTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// An OAuth access token, or a token the admin entered (kept as entered, never refreshed).
    #[serde(default)]
    pub kind: TokenKind,
}

impl StoredTokens {
    pub fn seal(&self) -> SecretString {
        SecretString::from(serde_json::to_string(self).unwrap_or_default())
    }

    pub fn open(secret: &SecretString) -> Result<StoredTokens, CredentialError> {
        serde_json::from_str(secret.expose_secret()).map_err(|_| CredentialError::Corrupt)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("connection not found")]
    NotFound,
    #[error("the connection needs to be authorized again: {0}")]
    NeedsReauth(String),
    #[error("the CRM's token endpoint failed: {0}")]
    Unavailable(String),
    #[error("the stored tokens cannot be read")]
    Corrupt,
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

pub struct TokenManager {
    db: Db,
    vault: Vault,
    http: reqwest::Client,
    targets: Arc<Targets>,
    locks: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl TokenManager {
    pub fn new(db: Db, vault: Vault, http: reqwest::Client, targets: Arc<Targets>) -> TokenManager {
        TokenManager {
            db,
            vault,
            http,
            targets,
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, id: ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_default()
            .clone()
    }

    async fn load(&self, tenant: &Tenant, id: ConnectionId) -> Result<StoredConnection, CredentialError> {
        connections::get(self.db.pool(), tenant.id, id)
            .await?
            .ok_or(CredentialError::NotFound)
    }

    /// A credential that works for at least `REFRESH_MARGIN`, refreshing first when needed.
    pub async fn credential(&self, tenant: &Tenant, id: ConnectionId) -> Result<Credential, CredentialError> {
        Ok(self.credential_and_state(tenant, id).await?.0)
    }

    /// The credential, and the connection as it was read with it: hand that to
    /// `after_unauthorized` if the CRM refuses the credential.
    pub async fn credential_and_state(
        &self,
        tenant: &Tenant,
        id: ConnectionId,
    ) -> Result<(Credential, StoredConnection), CredentialError> {
        let stored = self.load(tenant, id).await?;
        if stored.connection.status == ConnectionStatus::NeedsReauth {
            return Err(CredentialError::NeedsReauth(
                stored.connection.last_error.unwrap_or_default(),
            ));
        }
        let expiring = stored
            .connection
            .access_expires_at
            .is_some_and(|at| at.timestamp_millis() - now_ms() < REFRESH_MARGIN.as_millis() as i64);
        let stored = if expiring {
            self.refresh(tenant, &stored).await?
        } else {
            stored
        };
        let credential = self.read(tenant, &stored).await?;
        Ok((credential, stored))
    }

    /// After the CRM refused an access token: refresh (unless someone already did since
    /// `used` was read) and return the new credential.
    pub async fn after_unauthorized(
        &self,
        tenant: &Tenant,
        used: &StoredConnection,
    ) -> Result<Credential, CredentialError> {
        let stored = self.refresh(tenant, used).await?;
        self.read(tenant, &stored).await
    }

    async fn read(&self, tenant: &Tenant, stored: &StoredConnection) -> Result<Credential, CredentialError> {
        let secret = self
            .vault
            .get(tenant.id, &stored.connection.id.to_string(), TOKENS_PURPOSE)
            .await?
            .ok_or_else(|| CredentialError::NeedsReauth("no tokens are stored for this connection".into()))?;
        let tokens = StoredTokens::open(&secret)?;
        Ok(Credential {
            access_token: SecretString::from(tokens.access_token),
            base_url: stored.base_url.clone(),
            kind: tokens.kind,
        })
    }

    /// Refreshes the tokens `seen` was read with, unless they changed meanwhile.
    pub async fn refresh(&self, tenant: &Tenant, seen: &StoredConnection) -> Result<StoredConnection, CredentialError> {
        let id = seen.connection.id;
        let lock = self.lock_for(id);
        let _guard = lock.lock().await;
        let current = self.load(tenant, id).await?;
        if current.token_version != seen.token_version {
            // Someone refreshed while we waited: use theirs.
            return Ok(current);
        }
        if !connections::claim_refresh(self.db.pool(), id, current.token_version, now_ms()).await? {
            // Another instance is refreshing; its tokens will be in the vault when it is done.
            return self.load(tenant, id).await;
        }
        let secret = self
            .vault
            .get(tenant.id, &id.to_string(), TOKENS_PURPOSE)
            .await?
            .ok_or_else(|| CredentialError::NeedsReauth("no tokens are stored for this connection".into()))?;
        let tokens = StoredTokens::open(&secret)?;
        if tokens.kind == TokenKind::ApiToken {
            // Nothing to refresh: the CRM refused the token itself (revoked, or replaced).
            return Err(self
                .mark_needs_reauth(&current, "the API token was refused; enter a new one")
                .await);
        }
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(self
                .mark_needs_reauth(&current, "the CRM gave no refresh token; connect again")
                .await);
        };
        let provider = catalogue::provider(&current.connection.provider).ok_or(CredentialError::NotFound)?;
        let resolved = self
            .targets
            .resolve_for(
                provider,
                tenant,
                current.connection.environment,
                current.connection.target,
            )
            .map_err(|e| CredentialError::Unavailable(e.to_string()))?;
        let endpoints = OAuthEndpoints {
            authorize_url: &resolved.authorize_url,
            token_url: &resolved.token_url,
            redirect_uri: &self.targets.callback_url,
        };
        match client::refresh(
            &self.http,
            &resolved.app,
            &endpoints,
            &SecretString::from(refresh_token.clone()),
        )
        .await
        {
            Ok(issued) => {
                // The rotated refresh token (if any) is stored before the new access token is used.
                let renewed = StoredTokens {
                    access_token: issued.access_token.expose_secret().to_string(),
                    refresh_token: issued
                        .refresh_token
                        .map(|t| t.expose_secret().to_string())
                        .or(Some(refresh_token)),
                    kind: TokenKind::OAuth,
                };
                self.vault
                    .put(tenant.id, &id.to_string(), TOKENS_PURPOSE, &renewed.seal())
                    .await?;
                let expires_at = issued.expires_in.map(|d| now_ms() + d.as_millis() as i64);
                connections::complete_refresh(self.db.pool(), id, expires_at, now_ms()).await?;
                metrics::counter!("oauth_refreshes_total", "provider" => provider.id).increment(1);
                tracing::info!(connection_id = %id, provider = provider.id, "refreshed the access token");
                self.load(tenant, id).await
            }
            Err(TokenError::Revoked(message)) => Err(self.mark_needs_reauth(&current, &message).await),
            Err(other) => {
                let message = other.to_string();
                connections::set_status(self.db.pool(), id, ConnectionStatus::Error, Some(&message), now_ms()).await?;
                Err(CredentialError::Unavailable(message))
            }
        }
    }

    /// The grant is gone: the connection waits for an admin to connect again.
    pub async fn mark_needs_reauth(&self, stored: &StoredConnection, reason: &str) -> CredentialError {
        let name =
            catalogue::provider(&stored.connection.provider).map_or(stored.connection.provider.as_str(), |p| p.name);
        let message = format!("{name} revoked access ({reason}); an admin must connect again");
        let id = stored.connection.id;
        let now = now_ms();
        if let Err(error) =
            connections::set_status(self.db.pool(), id, ConnectionStatus::NeedsReauth, Some(&message), now).await
        {
            return error.into();
        }
        let entry = audit::NewAuditEntry {
            tenant_id: Some(stored.connection.tenant_id),
            actor_kind: "system",
            actor: "token refresh",
            action: "connection.needs_reauth",
            target_kind: "connection",
            target_id: Some(id.to_string()),
            details: serde_json::json!({ "provider": stored.connection.provider, "reason": reason }),
            request_id: None,
            now_ms: now,
        };
        if let Err(error) = audit::insert(self.db.pool(), entry).await {
            return error.into();
        }
        tracing::warn!(connection_id = %id, provider = %stored.connection.provider, "connection needs re-authorization");
        CredentialError::NeedsReauth(message)
    }
}
