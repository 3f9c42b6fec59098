//! Tenant API keys for the operator's app: `tdm_<test|live>_<43 random characters>`.
//! Only a SHA-256 fingerprint is stored; the first characters are kept to recognise a key.

use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{ApiKeyId, EnvironmentId, TenantId};

use super::AuthError;
use super::token::{fingerprint, random_token};
use crate::repo::{Db, api_keys, now_ms};

const PREFIX_LEN: usize = 13;

/// The operator's app, acting for one tenant environment through an API key.
#[derive(Clone, Debug)]
pub struct AppPrincipal {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub environment_id: EnvironmentId,
    pub environment: EnvironmentKind,
    pub key_id: ApiKeyId,
    pub key_prefix: String,
}

/// A fresh key: (the full secret, its visible prefix, its fingerprint).
pub fn generate(environment: EnvironmentKind) -> (String, String, String) {
    let label = match environment {
        EnvironmentKind::Sandbox => "test",
        EnvironmentKind::Production => "live",
    };
    let secret = format!("tdm_{label}_{}", random_token(32));
    let prefix = secret.chars().take(PREFIX_LEN).collect();
    let hash = fingerprint(&secret);
    (secret, prefix, hash)
}

pub async fn authenticate(db: &Db, presented: &str) -> Result<AppPrincipal, AuthError> {
    if !presented.starts_with("tdm_") {
        return Err(AuthError::InvalidApiKey);
    }
    let Some((key, tenant_name)) = api_keys::find_by_hash(db.pool(), &fingerprint(presented)).await? else {
        return Err(AuthError::InvalidApiKey);
    };
    if key.revoked_at.is_some() {
        return Err(AuthError::ApiKeyRevoked);
    }
    api_keys::touch(db.pool(), key.id, now_ms()).await?;
    Ok(AppPrincipal {
        tenant_id: key.tenant_id,
        tenant_name,
        environment_id: key.environment_id,
        environment: key.environment,
        key_id: key.id,
        key_prefix: key.prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_their_environment_and_a_short_prefix() {
        let (secret, prefix, hash) = generate(EnvironmentKind::Production);
        assert!(secret.starts_with("tdm_live_"));
        assert_eq!(secret.len(), 9 + 43);
        assert_eq!(prefix.len(), 13);
        assert!(secret.starts_with(&prefix));
        assert_eq!(hash.len(), 64);
        assert!(generate(EnvironmentKind::Sandbox).0.starts_with("tdm_test_"));
    }
}
