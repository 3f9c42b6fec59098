//! The authorization code flow: `start` creates a single-use `state` (10 minutes, bound to
//! tenant, environment and user; with PKCE where the CRM supports it) and the consent URL;
//! `callback` checks the state, exchanges the code and reads who the account is. Storing the
//! connection is the caller's (services::connections), so that it is written with its audit entry.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tandem_shared::api::tenants::{Environment, Tenant};
use tandem_shared::ids::UserId;

use super::CrmAccess;
use super::client::{self, IssuedTokens, OAuthEndpoints, TokenError};
use super::targets::TargetError;
use crate::auth::token::{fingerprint, random_token};
use crate::connectors::catalogue::{AuthKind, Provider};
use crate::connectors::{AccountIdentity, ConnectorError, Credential};
use crate::repo::oauth_states::{self, OAuthState, Unusable};
use crate::repo::{Db, RepoError, environments, now_ms, tenants};
use crate::vault::{Vault, VaultError};

pub const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;
const VERIFIER_PURPOSE: &str = "pkce_verifier";

fn verifier_owner(state_hash: &str) -> String {
    format!("oauth-state:{state_hash}")
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0} does not connect with OAuth")]
    NotOAuth(&'static str),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

pub struct Started {
    pub authorize_url: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn start(
    crm: &CrmAccess,
    db: &Db,
    vault: &Vault,
    tenant: &Tenant,
    environment: &Environment,
    provider: &'static Provider,
    user_id: UserId,
) -> Result<Started, StartError> {
    let AuthKind::OAuth2 { pkce } = provider.auth else {
        return Err(StartError::NotOAuth(provider.name));
    };
    let resolved = crm.targets.resolve(provider, tenant, environment.kind)?;
    let state = random_token(32);
    let state_hash = fingerprint(&state);
    let endpoints = OAuthEndpoints {
        authorize_url: &resolved.authorize_url,
        token_url: &resolved.token_url,
        redirect_uri: &crm.targets.callback_url,
    };
    let (url, verifier) = client::authorize_url(&resolved.app, &endpoints, provider.scopes, &state, pkce)?;
    if let Some(verifier) = verifier {
        vault
            .put(tenant.id, &verifier_owner(&state_hash), VERIFIER_PURPOSE, &verifier)
            .await?;
    }
    let now = now_ms();
    let record = OAuthState {
        state_hash,
        tenant_id: tenant.id,
        environment_id: environment.id,
        user_id,
        provider: provider.id.to_string(),
        target: resolved.target,
        sandbox_account: resolved.sandbox_account,
        redirect_uri: crm.targets.callback_url.clone(),
        expires_at_ms: now + STATE_LIFETIME_MS,
    };
    oauth_states::insert(db.pool(), &record, now).await?;
    Ok(Started {
        authorize_url: url,
        expires_at: crate::repo::to_datetime(record.expires_at_ms),
    })
}

/// What the CRM sent back to `/api/v1/oauth/callback`.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("The link has no state parameter, so Tandem cannot tell which connection it belongs to.")]
    MissingState,
    #[error("This authorization is unknown. Start connecting again from Tandem.")]
    UnknownState,
    #[error("This authorization was already used. Start connecting again from Tandem.")]
    StateUsed,
    #[error("This authorization expired (they last 10 minutes). Start connecting again from Tandem.")]
    StateExpired,
    #[error("Access was denied at {provider}: {description}")]
    Denied { provider: String, description: String },
    #[error("{provider} sent no authorization code.")]
    MissingCode { provider: String },
    #[error("{provider} did not accept the authorization: {message}")]
    Exchange { provider: String, message: String },
    #[error("{provider} gave a token, but reading the account with it failed: {message}")]
    Identity { provider: String, message: String },
    #[error("Tandem could not complete the connection: {0}")]
    Internal(String),
}

impl From<RepoError> for CallbackError {
    fn from(error: RepoError) -> Self {
        CallbackError::Internal(error.to_string())
    }
}

impl From<VaultError> for CallbackError {
    fn from(error: VaultError) -> Self {
        CallbackError::Internal(error.to_string())
    }
}

/// A completed authorization, not yet stored.
pub struct Authorized {
    pub state: OAuthState,
    pub tenant: Tenant,
    pub environment: Environment,
    pub provider: &'static Provider,
    pub tokens: IssuedTokens,
    pub identity: AccountIdentity,
    pub base_url: String,
}

pub async fn callback(
    crm: &CrmAccess,
    db: &Db,
    vault: &Vault,
    params: CallbackParams,
) -> Result<Authorized, CallbackError> {
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(CallbackError::MissingState)?;
    let state = match oauth_states::consume(db.pool(), db.pool(), &fingerprint(state), now_ms()).await? {
        Ok(state) => state,
        Err(Unusable::Unknown) => return Err(CallbackError::UnknownState),
        Err(Unusable::AlreadyUsed) => return Err(CallbackError::StateUsed),
        Err(Unusable::Expired) => return Err(CallbackError::StateExpired),
    };
    // The verifier is single-use too: take it out of the vault whatever happens next.
    let owner = verifier_owner(&state.state_hash);
    let verifier: Option<SecretString> = vault.get(state.tenant_id, &owner, VERIFIER_PURPOSE).await?;
    vault.delete_owner(state.tenant_id, &owner).await?;

    let provider = crate::connectors::catalogue::provider(&state.provider)
        .ok_or_else(|| CallbackError::Internal(format!("unknown provider {}", state.provider)))?;
    if let Some(error) = &params.error {
        let description = params.error_description.clone().unwrap_or_else(|| error.clone());
        return Err(CallbackError::Denied {
            provider: provider.name.into(),
            description,
        });
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(CallbackError::MissingCode {
            provider: provider.name.into(),
        })?;
    let tenant = tenants::get(db.pool(), state.tenant_id)
        .await?
        .ok_or(CallbackError::UnknownState)?;
    let environment = environments::list(db.pool(), tenant.id)
        .await?
        .into_iter()
        .find(|e| e.id == state.environment_id)
        .ok_or(CallbackError::UnknownState)?;
    let resolved = crm
        .targets
        .resolve_for(provider, &tenant, environment.kind, state.target)
        .map_err(|e| CallbackError::Exchange {
            provider: provider.name.into(),
            message: e.to_string(),
        })?;
    let endpoints = OAuthEndpoints {
        authorize_url: &resolved.authorize_url,
        token_url: &resolved.token_url,
        redirect_uri: &state.redirect_uri,
    };
    let tokens = client::exchange_code(&crm.http, &resolved.app, &endpoints, code, verifier)
        .await
        .map_err(|e| CallbackError::Exchange {
            provider: provider.name.into(),
            message: e.to_string(),
        })?;
    let base_url = resolved
        .api_base
        .or_else(|| tokens.fields.instance_url.clone())
        .or_else(|| tokens.fields.api_domain.clone())
        .ok_or_else(|| CallbackError::Exchange {
            provider: provider.name.into(),
            message: "the token response does not say where the account's API is".into(),
        })?;
    let connector = crm
        .connectors
        .get(provider.id)
        .ok_or_else(|| CallbackError::Internal(format!("no connector for {}", provider.name)))?;
    let credential = Credential {
        access_token: tokens.access_token.clone(),
        base_url: base_url.clone(),
        kind: crate::connectors::TokenKind::OAuth,
    };
    let identity = connector
        .identity(&credential)
        .await
        .map_err(|e: ConnectorError| CallbackError::Identity {
            provider: provider.name.into(),
            message: e.to_string(),
        })?;
    Ok(Authorized {
        state,
        tenant,
        environment,
        provider,
        tokens,
        identity,
        base_url,
    })
}
