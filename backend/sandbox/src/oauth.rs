//! An OAuth 2.0 authorization server, as each emulated CRM runs one: registered apps, single-use
//! authorization codes (with PKCE where the CRM supports it), access tokens that expire, refresh
//! tokens, revocation. The CRM modules put their own URLs, token formats and error bodies on it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// An application registered with the CRM (Tandem's, in practice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Redirects go only to one of these (exact match, as the CRMs require).
    pub redirect_uris: Vec<String>,
    /// HubSpot: where the app's webhook subscriptions are delivered.
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// Who granted what to which app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub account: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub user: String,
}

#[derive(Clone, Debug)]
pub struct TokenPolicy {
    /// How long an access token lives.
    pub access_ttl: Duration,
    /// Whether token responses say so (`expires_in`): HubSpot does, Salesforce does not.
    pub report_expiry: bool,
    pub access_prefix: &'static str,
    /// When set, access tokens start with what this gives for the account instead (Salesforce:
    /// the org id and `!`).
    pub account_access_prefix: Option<fn(&str) -> String>,
    pub refresh_prefix: &'static str,
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub grant: Grant,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<Instant>,
    pub refresh_token: Option<String>,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
struct RefreshToken {
    grant: Grant,
    revoked: bool,
}

#[derive(Clone, Debug)]
struct IssuedCode {
    grant: Grant,
    redirect_uri: String,
    pkce: Option<Pkce>,
    issued: Instant,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    pub challenge: String,
    /// `S256` or `plain`.
    pub method: String,
}

/// The result of a successful token request.
#[derive(Clone, Debug)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Option<u64>,
    pub issued_at: DateTime<Utc>,
    pub grant: Grant,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("unknown client_id")]
    UnknownClient,
    #[error("the client secret does not match")]
    BadClientSecret,
    #[error("redirect_uri is not registered for this app")]
    BadRedirectUri,
    #[error("the authorization code is missing, unknown, expired or already used")]
    BadCode,
    #[error("code_verifier does not match the code_challenge")]
    BadCodeVerifier,
    #[error("the refresh token is missing, unknown or revoked")]
    BadRefreshToken,
    #[error("unsupported grant_type {0:?}")]
    UnsupportedGrantType(String),
    #[error("{0} is required")]
    Missing(&'static str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessError {
    Missing,
    Unknown,
    Expired { ago: Duration },
    Revoked,
}

#[derive(Default)]
struct Tokens {
    codes: HashMap<String, IssuedCode>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
}

pub struct OAuthServer {
    policy: TokenPolicy,
    apps: RwLock<HashMap<String, OAuthApp>>,
    tokens: Mutex<Tokens>,
    /// Refresh-token grants answered, so that tests can count refreshes where they happen.
    refreshes: std::sync::atomic::AtomicU64,
}

/// A random token with a recognisable prefix.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(raw))
}

impl OAuthServer {
    pub fn new(policy: TokenPolicy) -> OAuthServer {
        OAuthServer {
            policy,
            apps: RwLock::new(HashMap::new()),
            tokens: Mutex::new(Tokens::default()),
            refreshes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn register_app(&self, app: OAuthApp) {
        self.apps
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app.client_id.clone(), app);
    }

    pub fn app(&self, client_id: &str) -> Option<OAuthApp> {
        self.apps
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .cloned()
    }

    pub fn apps(&self) -> Vec<OAuthApp> {
        self.apps
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Checks an authorization request before the consent page is shown.
    pub fn check_authorize(&self, client_id: &str, redirect_uri: &str) -> Result<OAuthApp, OAuthError> {
        let app = self.app(client_id).ok_or(OAuthError::UnknownClient)?;
        if !app.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return Err(OAuthError::BadRedirectUri);
        }
        Ok(app)
    }

    /// The person approved: a single-use code for the redirect.
    pub fn issue_code(&self, grant: Grant, redirect_uri: &str, pkce: Option<Pkce>) -> String {
        let code = random_token("", 24);
        let issued = IssuedCode {
            grant,
            redirect_uri: redirect_uri.to_string(),
            pkce,
            issued: Instant::now(),
        };
        self.tokens().codes.insert(code.clone(), issued);
        code
    }

    fn client(&self, client_id: &str, client_secret: Option<&str>) -> Result<OAuthApp, OAuthError> {
        let app = self.app(client_id).ok_or(OAuthError::UnknownClient)?;
        match client_secret {
            Some(secret) if secret == app.client_secret => Ok(app),
            Some(_) => Err(OAuthError::BadClientSecret),
            None => Err(OAuthError::Missing("client_secret")),
        }
    }

    pub fn exchange_code(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
        redirect_uri: Option<&str>,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        self.client(client_id, client_secret)?;
        // A code is consumed by the first attempt to use it, successful or not.
        let issued = self.tokens().codes.remove(code).ok_or(OAuthError::BadCode)?;
        if issued.issued.elapsed() > CODE_LIFETIME || issued.grant.client_id != client_id {
            return Err(OAuthError::BadCode);
        }
        if redirect_uri != Some(issued.redirect_uri.as_str()) {
            return Err(OAuthError::BadRedirectUri);
        }
        if let Some(pkce) = &issued.pkce {
            let verifier = code_verifier.ok_or(OAuthError::Missing("code_verifier"))?;
            let computed = match pkce.method.as_str() {
                "plain" => verifier.to_string(),
                _ => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            };
            if computed != pkce.challenge {
                return Err(OAuthError::BadCodeVerifier);
            }
        }
        let refresh_token = random_token(self.policy.refresh_prefix, 24);
        self.tokens().refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                grant: issued.grant.clone(),
                revoked: false,
            },
        );
        Ok(self.issue_access(issued.grant, refresh_token))
    }

    pub fn refresh(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
        refresh_token: &str,
    ) -> Result<TokenSet, OAuthError> {
        self.client(client_id, client_secret)?;
        let grant = {
            let tokens = self.tokens();
            let stored = tokens.refresh.get(refresh_token).ok_or(OAuthError::BadRefreshToken)?;
            if stored.revoked || stored.grant.client_id != client_id {
                return Err(OAuthError::BadRefreshToken);
            }
            stored.grant.clone()
        };
        self.refreshes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.issue_access(grant, refresh_token.to_string()))
    }

    /// How many refresh-token grants were answered.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn issue_access(&self, grant: Grant, refresh_token: String) -> TokenSet {
        let prefix = self
            .policy
            .account_access_prefix
            .map_or_else(|| self.policy.access_prefix.to_string(), |f| f(&grant.account));
        let access_token = random_token(&prefix, 32);
        let issued_at = Utc::now();
        let token = AccessToken {
            grant: grant.clone(),
            issued_at,
            expires_at: Some(Instant::now() + self.policy.access_ttl),
            refresh_token: Some(refresh_token.clone()),
            revoked: false,
        };
        self.tokens().access.insert(access_token.clone(), token);
        TokenSet {
            access_token,
            refresh_token,
            expires_in: self.policy.report_expiry.then_some(self.policy.access_ttl.as_secs()),
            issued_at,
            grant,
        }
    }

    /// A token that never expires (HubSpot private apps, tests).
    pub fn issue_static_token(&self, grant: Grant, prefix: &str) -> String {
        let token = random_token(prefix, 24);
        let access = AccessToken {
            grant,
            issued_at: Utc::now(),
            expires_at: None,
            refresh_token: None,
            revoked: false,
        };
        self.tokens().access.insert(token.clone(), access);
        token
    }

    pub fn authenticate(&self, token: Option<&str>) -> Result<AccessToken, AccessError> {
        let token = token.ok_or(AccessError::Missing)?;
        let tokens = self.tokens();
        let access = tokens.access.get(token).ok_or(AccessError::Unknown)?;
        if access.revoked {
            return Err(AccessError::Revoked);
        }
        if let Some(expires_at) = access.expires_at {
            let now = Instant::now();
            if now >= expires_at {
                return Err(AccessError::Expired { ago: now - expires_at });
            }
        }
        Ok(access.clone())
    }

    pub fn access_info(&self, token: &str) -> Option<AccessToken> {
        self.tokens().access.get(token).cloned()
    }

    pub fn refresh_grant(&self, token: &str) -> Option<Grant> {
        let tokens = self.tokens();
        tokens
            .refresh
            .get(token)
            .filter(|r| !r.revoked)
            .map(|r| r.grant.clone())
    }

    /// Revokes an access or refresh token; a refresh token takes its access tokens with it.
    pub fn revoke(&self, token: &str) -> bool {
        let mut tokens = self.tokens();
        if let Some(refresh) = tokens.refresh.get_mut(token) {
            refresh.revoked = true;
            for access in tokens.access.values_mut() {
                if access.refresh_token.as_deref() == Some(token) {
                    access.revoked = true;
                }
            }
            return true;
        }
        if let Some(access) = tokens.access.get_mut(token) {
            access.revoked = true;
            return true;
        }
        false
    }

    /// Makes every access token of the account expire now (to exercise refreshing).
    pub fn expire_account_tokens(&self, account: &str) -> usize {
        let now = Instant::now();
        let mut tokens = self.tokens();
        let expiring = tokens
            .access
            .values_mut()
            .filter(|a| a.grant.account == account && a.expires_at.is_some());
        let mut count = 0;
        for access in expiring {
            access.expires_at = Some(now);
            count += 1;
        }
        count
    }

    /// Revokes every grant of the account, as when an admin uninstalls the app in the CRM.
    pub fn revoke_account(&self, account: &str) -> usize {
        let mut tokens = self.tokens();
        let mut count = 0;
        for refresh in tokens
            .refresh
            .values_mut()
            .filter(|r| r.grant.account == account && !r.revoked)
        {
            refresh.revoked = true;
            count += 1;
        }
        for access in tokens.access.values_mut().filter(|a| a.grant.account == account) {
            access.revoked = true;
        }
        count
    }

    /// Apps with a live grant in the account (whose webhooks it sends, say).
    pub fn installed_apps(&self, account: &str) -> Vec<String> {
        let tokens = self.tokens();
        let mut apps: Vec<String> = tokens
            .refresh
            .values()
            .filter(|r| r.grant.account == account && !r.revoked)
            .map(|r| r.grant.client_id.clone())
            .collect();
        apps.sort();
        apps.dedup();
        apps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(ttl: Duration) -> OAuthServer {
        let server = OAuthServer::new(TokenPolicy {
            access_ttl: ttl,
            report_expiry: true,
            access_prefix: "at-",
            account_access_prefix: None,
            refresh_prefix: "rt-",
        });
        server.register_app(OAuthApp {
            client_id: "app".into(),
            client_secret: "secret".into(),
            name: "Test".into(),
            redirect_uris: vec!["http://localhost/callback".into()],
            webhook_url: None,
        });
        server
    }

    fn grant() -> Grant {
        Grant {
            account: "acct".into(),
            client_id: "app".into(),
            scopes: vec!["crm".into()],
            user: "u@example.com".into(),
        }
    }

    #[test]
    fn a_code_works_once_and_the_tokens_authenticate() {
        let server = server(Duration::from_secs(60));
        let code = server.issue_code(grant(), "http://localhost/callback", None);
        let tokens = server
            .exchange_code("app", Some("secret"), Some("http://localhost/callback"), &code, None)
            .expect("exchange");
        assert!(tokens.access_token.starts_with("at-") && tokens.refresh_token.starts_with("rt-"));
        assert_eq!(tokens.expires_in, Some(60));
        assert_eq!(
            server.authenticate(Some(&tokens.access_token)).expect("valid").grant,
            grant()
        );
        assert_eq!(
            server
                .exchange_code("app", Some("secret"), Some("http://localhost/callback"), &code, None)
                .unwrap_err(),
            OAuthError::BadCode,
            "codes are single-use"
        );
        assert_eq!(server.installed_apps("acct"), vec!["app"]);
    }

    #[test]
    fn client_secret_redirect_and_pkce_are_checked() {
        let server = server(Duration::from_secs(60));
        let code = server.issue_code(grant(), "http://localhost/callback", None);
        assert_eq!(
            server
                .exchange_code("app", Some("wrong"), Some("http://localhost/callback"), &code, None)
                .unwrap_err(),
            OAuthError::BadClientSecret
        );
        let code = server.issue_code(grant(), "http://localhost/callback", None);
        assert_eq!(
            server
                .exchange_code("app", Some("secret"), Some("http://evil/callback"), &code, None)
                .unwrap_err(),
            OAuthError::BadRedirectUri
        );
        let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let pkce = Pkce {
            challenge,
            method: "S256".into(),
        };
        let code = server.issue_code(grant(), "http://localhost/callback", Some(pkce.clone()));
        assert_eq!(
            server
                .exchange_code(
                    "app",
                    Some("secret"),
                    Some("http://localhost/callback"),
                    &code,
                    Some("nope")
                )
                .unwrap_err(),
            OAuthError::BadCodeVerifier
        );
        let code = server.issue_code(grant(), "http://localhost/callback", Some(pkce));
        assert!(
            server
                .exchange_code(
                    "app",
                    Some("secret"),
                    Some("http://localhost/callback"),
                    &code,
                    Some(verifier)
                )
                .is_ok()
        );
        assert_eq!(
            server
                .check_authorize("nobody", "http://localhost/callback")
                .unwrap_err(),
            OAuthError::UnknownClient
        );
    }

    #[test]
    fn tokens_expire_refresh_and_revoke() {
        let server = server(Duration::from_millis(0));
        let code = server.issue_code(grant(), "http://localhost/callback", None);
        let tokens = server
            .exchange_code("app", Some("secret"), Some("http://localhost/callback"), &code, None)
            .expect("exchange");
        assert!(matches!(
            server.authenticate(Some(&tokens.access_token)),
            Err(AccessError::Expired { .. })
        ));
        let renewed = server
            .refresh("app", Some("secret"), &tokens.refresh_token)
            .expect("refresh");
        assert_eq!(
            renewed.refresh_token, tokens.refresh_token,
            "refresh tokens are not rotated"
        );
        assert!(server.revoke(&tokens.refresh_token));
        assert_eq!(
            server
                .refresh("app", Some("secret"), &tokens.refresh_token)
                .unwrap_err(),
            OAuthError::BadRefreshToken
        );
        assert_eq!(
            server.authenticate(Some(&renewed.access_token)).unwrap_err(),
            AccessError::Revoked
        );
        assert_eq!(server.authenticate(None).unwrap_err(), AccessError::Missing);
        assert!(server.installed_apps("acct").is_empty());
    }
}
