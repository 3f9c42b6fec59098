//! Talking to a CRM's OAuth endpoints: authorization URLs with state and PKCE, code exchange,
//! refresh and revocation. The `oauth2` crate does the protocol; a small adapter lets it use our
//! reqwest 0.13 client (its own adapter targets reqwest 0.12).

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::targets::{AppCredentials, Revoke};

/// Token response fields some CRMs add: Salesforce's `instance_url` and identity `id`,
/// Pipedrive's and Zoho's `api_domain`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ProviderFields {
    #[serde(default)]
    pub instance_url: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub api_domain: Option<String>,
}

impl ExtraTokenFields for ProviderFields {}

type ProviderTokenResponse = StandardTokenResponse<ProviderFields, BasicTokenType>;
type OAuthClient = Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Tokens as a CRM issued them.
pub struct IssuedTokens {
    pub access_token: SecretString,
    /// Absent when the CRM keeps the old one (no rotation).
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<std::time::Duration>,
    pub scopes: Vec<String>,
    pub fields: ProviderFields,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The CRM says the grant is gone: `invalid_grant`, HubSpot's `BAD_REFRESH_TOKEN`.
    #[error("the CRM no longer accepts this grant: {0}")]
    Revoked(String),
    #[error("the CRM refused the token request: {0}")]
    Refused(String),
    #[error("the CRM could not be reached: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Configuration(String),
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

pub struct OAuthEndpoints<'a> {
    pub authorize_url: &'a str,
    pub token_url: &'a str,
    pub redirect_uri: &'a str,
}

fn client(app: &AppCredentials, endpoints: &OAuthEndpoints<'_>) -> Result<OAuthClient, TokenError> {
    let invalid =
        |what: &str, e: oauth2::url::ParseError| TokenError::Configuration(format!("{what} is not a valid URL: {e}"));
    Ok(Client::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.expose_secret().to_string()))
        .set_auth_uri(AuthUrl::new(endpoints.authorize_url.to_string()).map_err(|e| invalid("the authorize URL", e))?)
        .set_token_uri(TokenUrl::new(endpoints.token_url.to_string()).map_err(|e| invalid("the token URL", e))?)
        .set_redirect_uri(
            RedirectUrl::new(endpoints.redirect_uri.to_string()).map_err(|e| invalid("the redirect URI", e))?,
        )
        // HubSpot and Salesforce both take the client credentials in the form body.
        .set_auth_type(AuthType::RequestBody))
}

/// The consent page URL for `state`, and the PKCE verifier to keep when the CRM supports it.
pub fn authorize_url(
    app: &AppCredentials,
    endpoints: &OAuthEndpoints<'_>,
    scopes: &[&str],
    state: &str,
    pkce: bool,
) -> Result<(String, Option<SecretString>), TokenError> {
    let client = client(app, endpoints)?;
    let state = state.to_string();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())));
    let verifier = if pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(SecretString::from(verifier.secret().clone()))
    } else {
        None
    };
    let (url, _) = request.url();
    Ok((url.to_string(), verifier))
}

fn http_adapter(
    http: &reqwest::Client,
) -> impl Fn(oauth2::HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send>>
+ '_ {
    move |request: oauth2::HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
            let response = http.execute(request).await.map_err(|e| HttpError(e.to_string()))?;
            let mut builder = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(|e| HttpError(e.to_string()))?;
            builder.body(body.to_vec()).map_err(|e| HttpError(e.to_string()))
        })
    }
}

fn classify(error: RequestTokenError<HttpError, BasicErrorResponse>) -> TokenError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let description = response
                .error_description()
                .cloned()
                .unwrap_or_else(|| response.error().to_string());
            if *response.error() == BasicErrorResponseType::InvalidGrant {
                TokenError::Revoked(description)
            } else {
                TokenError::Refused(format!("{}: {description}", response.error()))
            }
        }
        RequestTokenError::Parse(_, body) => {
            // HubSpot answers `{"status": "BAD_REFRESH_TOKEN", "message": …}`, not RFC 6749's shape.
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|json| json.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            if crate::connectors::hubspot::token_error_is_revoked(&body) {
                TokenError::Revoked(message)
            } else {
                TokenError::Refused(message)
            }
        }
        RequestTokenError::Request(error) => TokenError::Unreachable(error.to_string()),
        RequestTokenError::Other(message) => TokenError::Refused(message),
    }
}

fn issued(response: ProviderTokenResponse) -> IssuedTokens {
    IssuedTokens {
        access_token: SecretString::from(response.access_token().secret().clone()),
        refresh_token: response.refresh_token().map(|t| SecretString::from(t.secret().clone())),
        expires_in: response.expires_in(),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
        fields: response.extra_fields().clone(),
    }
}

pub async fn exchange_code(
    http: &reqwest::Client,
    app: &AppCredentials,
    endpoints: &OAuthEndpoints<'_>,
    code: &str,
    verifier: Option<SecretString>,
) -> Result<IssuedTokens, TokenError> {
    let client = client(app, endpoints)?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_string()));
    }
    request
        .request_async(&http_adapter(http))
        .await
        .map(issued)
        .map_err(classify)
}

pub async fn refresh(
    http: &reqwest::Client,
    app: &AppCredentials,
    endpoints: &OAuthEndpoints<'_>,
    refresh_token: &SecretString,
) -> Result<IssuedTokens, TokenError> {
    let client = client(app, endpoints)?;
    client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose_secret().to_string()))
        .request_async(&http_adapter(http))
        .await
        .map(issued)
        .map_err(classify)
}

/// Gives the grant back to the CRM where it has a way to; best effort.
pub async fn revoke(http: &reqwest::Client, revoke: &Revoke, refresh_token: &SecretString) -> Result<(), TokenError> {
    let response = match revoke {
        Revoke::None => return Ok(()),
        Revoke::DeleteRefreshToken { api_base } => {
            let url = format!(
                "{}/oauth/v1/refresh-tokens/{}",
                api_base.trim_end_matches('/'),
                refresh_token.expose_secret()
            );
            http.delete(url).send().await
        }
        Revoke::PostToken { url, client } => {
            let request = http.post(url).form(&[("token", refresh_token.expose_secret())]);
            let request = match client {
                Some(app) => request.basic_auth(&app.client_id, Some(app.client_secret.expose_secret())),
                None => request,
            };
            request.send().await
        }
    };
    let response = response.map_err(|e| TokenError::Unreachable(e.to_string()))?;
    // A token the CRM no longer knows is as revoked as it gets.
    if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND {
        Ok(())
    } else {
        Err(TokenError::Refused(format!("HTTP {}", response.status())))
    }
}
