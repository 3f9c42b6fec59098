//! Salesforce's OAuth 2.0 web-server flow for one org: the consent page
//! (`/services/oauth2/authorize`, with PKCE), `/services/oauth2/token` for codes and refresh
//! tokens (no `expires_in`, a `signature` over `id` + `issued_at`), revocation, and the identity
//! URL and userinfo endpoint that tell a client who it is connected as.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::errors::{CONTENT_TYPE, json_response};
use super::gate::bearer;
use super::ids::parse_id;
use super::model::{Obj, Org};
use super::schema::SObject;
use super::{Salesforce, instance_url, valid_account_key};
use crate::consent::{ConsentPage, consent_page, error_page, redirect_with};
use crate::oauth::{AccessToken, Grant, OAuthError, Pkce};

/// Scopes granted when the request names none (what a typical connected app is set up with).
const DEFAULT_SCOPES: &[&str] = &["api", "refresh_token"];

#[derive(Deserialize)]
pub struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// Only in the consent form's answer.
    decision: Option<String>,
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn refuse(message: &str) -> HttpResponse {
    html(
        StatusCode::BAD_REQUEST,
        error_page("Salesforce", "This app cannot be connected", message),
    )
}

/// Checks the request: (client_id, redirect_uri, app name), or why the page cannot go on (an
/// unknown app or unregistered redirect URI is never redirected to).
fn check(
    salesforce: &Salesforce,
    account: &str,
    request: &AuthorizeRequest,
) -> Result<(String, String, String), &'static str> {
    if !valid_account_key(account) {
        return Err("There is no such Salesforce org.");
    }
    let (Some(client_id), Some(redirect_uri)) = (&request.client_id, &request.redirect_uri) else {
        return Err("error=invalid_request: the request has no client_id or redirect_uri.");
    };
    match salesforce.oauth.check_authorize(client_id, redirect_uri) {
        Ok(app) => Ok((client_id.clone(), redirect_uri.clone(), app.name)),
        Err(OAuthError::UnknownClient) => Err("error=invalid_client_id: client identifier invalid"),
        Err(_) => Err("error=redirect_uri_mismatch: redirect_uri must match configuration"),
    }
}

fn scopes(request: &AuthorizeRequest) -> Vec<String> {
    let requested: Vec<String> = request
        .scope
        .iter()
        .flat_map(|s| s.split([' ', '+']).map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| (*s).to_string()).collect()
    } else {
        requested
    }
}

/// Problems that go back to the app as `error=…` on its redirect URI.
fn redirect_error(request: &AuthorizeRequest) -> Option<(&'static str, &'static str)> {
    if request.response_type.as_deref() != Some("code") {
        return Some(("unsupported_response_type", "response type not supported"));
    }
    if request.code_challenge_method.as_deref().is_some_and(|m| m != "S256") {
        return Some(("invalid_request", "code_challenge_method must be S256"));
    }
    if request.code_challenge_method.is_some() && request.code_challenge.is_none() {
        return Some(("invalid_request", "missing required code challenge"));
    }
    None
}

pub async fn authorize_page(
    req: HttpRequest,
    salesforce: web::Data<Salesforce>,
    path: web::Path<String>,
    query: web::Query<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, redirect_uri, app_name) = match check(&salesforce, &account, &query) {
        Ok(checked) => checked,
        Err(message) => return refuse(message),
    };
    let state = query.state.clone().unwrap_or_default();
    if let Some((error, description)) = redirect_error(&query) {
        return redirect_with(
            &redirect_uri,
            &[("error", error), ("error_description", description), ("state", &state)],
        );
    }
    let (name, user) = salesforce.with_org(&account, |org| (org.name.clone(), username(org)));
    let scopes = scopes(&query);
    let hidden = [
        ("response_type", "code".to_string()),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", query.scope.clone().unwrap_or_default()),
        ("state", state),
        ("code_challenge", query.code_challenge.clone().unwrap_or_default()),
        (
            "code_challenge_method",
            query.code_challenge_method.clone().unwrap_or_default(),
        ),
    ];
    html(
        StatusCode::OK,
        consent_page(&ConsentPage {
            crm: "Salesforce",
            app_name: &app_name,
            account_name: &name,
            user: &user,
            scopes: &scopes,
            action: req.path(),
            hidden: &hidden,
        }),
    )
}

fn username(org: &Org) -> String {
    let def = SObject::User.def();
    org.record(SObject::User, org.admin_user)
        .and_then(|r| r.str(def.idx("Username")))
        .unwrap_or_default()
        .to_string()
}

pub async fn authorize_decision(
    salesforce: web::Data<Salesforce>,
    path: web::Path<String>,
    form: web::Form<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let mut form = form.into_inner();
    // Empty hidden fields mean "not given".
    for field in [
        &mut form.code_challenge,
        &mut form.code_challenge_method,
        &mut form.scope,
    ] {
        if field.as_deref() == Some("") {
            *field = None;
        }
    }
    let (client_id, redirect_uri, _) = match check(&salesforce, &account, &form) {
        Ok(checked) => checked,
        Err(message) => return refuse(message),
    };
    let state = form.state.clone().unwrap_or_default();
    if let Some((error, description)) = redirect_error(&form) {
        return redirect_with(
            &redirect_uri,
            &[("error", error), ("error_description", description), ("state", &state)],
        );
    }
    if form.decision.as_deref() != Some("approve") {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "end-user denied authorization"),
                ("state", &state),
            ],
        );
    }
    let user = salesforce.with_org(&account, |org| org.admin_id());
    let grant = Grant {
        account,
        client_id,
        scopes: scopes(&form),
        user,
    };
    // Salesforce supports S256 only.
    let pkce = form.code_challenge.clone().map(|challenge| Pkce {
        challenge,
        method: "S256".into(),
    });
    let code = salesforce.oauth.issue_code(grant, &redirect_uri, pkce);
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state)])
}

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

/// `{"error", "error_description"}`, status 400.
fn token_error(error: &str, description: &str) -> HttpResponse {
    json_response(
        400,
        &Obj::new()
            .with("error", Value::String(error.to_string()))
            .with("error_description", Value::String(description.to_string())),
    )
}

/// Client credentials from the form or from HTTP Basic authentication (whose parts are
/// form-encoded, RFC 6749 §2.3.1, as OAuth client libraries send them).
fn client_credentials(headers: &HeaderMap, form: &TokenRequest) -> (String, Option<String>) {
    let decode = |part: &str| super::rest::percent_decode(&part.replace('+', " "));
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| BASE64.decode(encoded.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(id, secret)| (decode(id), decode(secret))));
    let (basic_id, basic_secret) = basic.unzip();
    let id = form.client_id.clone().or(basic_id).unwrap_or_default();
    (id, form.client_secret.clone().or(basic_secret))
}

/// Base64 HMAC-SHA256 of `id` + `issued_at`, keyed with the client secret: what lets a client
/// check that the token response came from Salesforce.
pub fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

pub async fn token(
    req: HttpRequest,
    salesforce: web::Data<Salesforce>,
    path: web::Path<String>,
    form: web::Form<TokenRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, client_secret) = client_credentials(req.headers(), &form);
    let grant_type = form.grant_type.clone().unwrap_or_default();
    let result = match grant_type.as_str() {
        "authorization_code" => salesforce.oauth.exchange_code(
            &client_id,
            client_secret.as_deref(),
            form.redirect_uri.as_deref(),
            form.code.as_deref().unwrap_or_default(),
            form.code_verifier.as_deref(),
        ),
        "refresh_token" => salesforce.oauth.refresh(
            &client_id,
            client_secret.as_deref(),
            form.refresh_token.as_deref().unwrap_or_default(),
        ),
        other => Err(OAuthError::UnsupportedGrantType(other.to_string())),
    };
    let tokens = match result {
        // A code or refresh token from another org's login is not valid here.
        Ok(tokens) if tokens.grant.account != account => {
            return token_error("invalid_grant", "authentication failure");
        }
        Ok(tokens) => tokens,
        Err(OAuthError::UnknownClient) => return token_error("invalid_client_id", "client identifier invalid"),
        Err(OAuthError::BadClientSecret | OAuthError::Missing("client_secret")) => {
            return token_error("invalid_client", "invalid client credentials");
        }
        Err(OAuthError::BadRedirectUri) => {
            return token_error("redirect_uri_mismatch", "redirect_uri must match configuration");
        }
        Err(OAuthError::BadCode) => return token_error("invalid_grant", "invalid authorization code"),
        Err(OAuthError::BadCodeVerifier | OAuthError::Missing("code_verifier")) => {
            return token_error("invalid_grant", "invalid code verifier");
        }
        Err(OAuthError::BadRefreshToken) => return token_error("invalid_grant", "expired access/refresh token"),
        Err(OAuthError::UnsupportedGrantType(_)) => {
            return token_error("unsupported_grant_type", "grant type not supported");
        }
        Err(OAuthError::Missing(what)) => return token_error("invalid_request", &format!("{what} is required")),
    };
    let instance = instance_url(&req, &account);
    let org_id = salesforce.with_org(&account, |org| org.org_id.clone());
    let id = format!("{instance}/id/{org_id}/{}", tokens.grant.user);
    let issued_at = tokens.issued_at.timestamp_millis().to_string();
    let secret = salesforce
        .oauth
        .app(&client_id)
        .map(|app| app.client_secret)
        .unwrap_or_default();
    let mut body = Obj::new().with("access_token", Value::String(tokens.access_token));
    // A refresh token comes with the code exchange when the scopes allow it; refreshing does
    // not rotate it, so the refresh answer has none.
    let offline = tokens
        .grant
        .scopes
        .iter()
        .any(|s| matches!(s.as_str(), "refresh_token" | "offline_access" | "full"));
    if grant_type == "authorization_code" && offline {
        body.push("refresh_token", Value::String(tokens.refresh_token));
    }
    body.push("signature", Value::String(signature(&secret, &id, &issued_at)));
    body.push("scope", Value::String(tokens.grant.scopes.join(" ")));
    body.push("instance_url", Value::String(instance));
    body.push("id", Value::String(id));
    body.push("token_type", Value::String("Bearer".into()));
    body.push("issued_at", Value::String(issued_at));
    json_response(200, &body)
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
}

/// `POST /services/oauth2/revoke` (`token=`): an access token ends its session, a refresh token
/// the whole grant.
pub async fn revoke(
    salesforce: web::Data<Salesforce>,
    path: web::Path<String>,
    query: web::Query<RevokeRequest>,
    body: web::Bytes,
) -> HttpResponse {
    let account = path.into_inner();
    let form: RevokeRequest = serde_urlencoded::from_bytes(&body).unwrap_or(RevokeRequest { token: None });
    let Some(token) = form.token.or_else(|| query.into_inner().token) else {
        return token_error("invalid_request", "token is required");
    };
    let ours = salesforce
        .oauth
        .refresh_grant(&token)
        .map(|g| g.account)
        .or_else(|| salesforce.oauth.access_info(&token).map(|a| a.grant.account))
        .is_some_and(|a| a == account);
    if ours && salesforce.oauth.revoke(&token) {
        HttpResponse::Ok().finish()
    } else {
        token_error("invalid_token", "invalid token")
    }
}

/// Identity errors are plain words, not JSON.
fn identity_error(status: StatusCode, word: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain;charset=UTF-8")
        .body(word.to_string())
}

/// The session of an identity request, or the word the identity service answers with.
fn session(salesforce: &Salesforce, account: &str, token: Option<String>) -> Result<AccessToken, &'static str> {
    let Some(token) = token else {
        return Err("Missing_OAuth_Token");
    };
    match salesforce.oauth.authenticate(Some(&token)) {
        Ok(access) if access.grant.account == account => Ok(access),
        _ => Err("Bad_OAuth_Token"),
    }
}

/// Who a token acts as, in the identity service's words.
fn identity_body(org: &Org, instance: &str, user_id: &str) -> Obj {
    let def = SObject::User.def();
    let record = org.locate(user_id).and_then(|(_, seq)| org.record(SObject::User, seq));
    let field = |name: &str| {
        record
            .and_then(|r| r.str(def.idx(name)))
            .map_or(Value::Null, |v| Value::String(v.to_string()))
    };
    let org15 = &org.org_id[..15];
    let rest = format!("{instance}/services/data/v{{version}}/");
    let urls = Obj::new()
        .with(
            "enterprise",
            Value::String(format!("{instance}/services/Soap/c/{{version}}/{org15}")),
        )
        .with(
            "metadata",
            Value::String(format!("{instance}/services/Soap/m/{{version}}/{org15}")),
        )
        .with(
            "partner",
            Value::String(format!("{instance}/services/Soap/u/{{version}}/{org15}")),
        )
        .with("rest", Value::String(rest.clone()))
        .with("sobjects", Value::String(format!("{rest}sobjects/")))
        .with("search", Value::String(format!("{rest}search/")))
        .with("query", Value::String(format!("{rest}query/")))
        .with("recent", Value::String(format!("{rest}recent/")))
        .with("tooling_rest", Value::String(format!("{rest}tooling/")))
        .with("profile", Value::String(format!("{instance}/{user_id}")))
        .with("custom_domain", Value::String(instance.to_string()));
    Obj::new()
        .with("id", Value::String(format!("{instance}/id/{}/{user_id}", org.org_id)))
        .with("asserted_user", Value::Bool(true))
        .with("user_id", Value::String(user_id.to_string()))
        .with("organization_id", Value::String(org.org_id.clone()))
        .with("username", field("Username"))
        .with("nick_name", field("Alias"))
        .with("display_name", field("Name"))
        .with("email", field("Email"))
        .with("email_verified", Value::Bool(true))
        .with("first_name", field("FirstName"))
        .with("last_name", field("LastName"))
        .with("timezone", field("TimeZoneSidKey"))
        .with("active", Value::Bool(true))
        .with("user_type", Value::String("STANDARD".into()))
        .with("language", Value::String("en_US".into()))
        .with("locale", Value::String("en_US".into()))
        .with("utcOffset", Value::from(3_600_000))
        .with("urls", urls)
        .with("is_app_installed", Value::Bool(true))
}

#[derive(Deserialize)]
pub struct IdentityQuery {
    oauth_token: Option<String>,
}

/// `GET <instance>/id/<orgId>/<userId>`: the Bearer header or `?oauth_token=` (jsforce sends
/// both).
pub async fn identity(
    req: HttpRequest,
    salesforce: web::Data<Salesforce>,
    path: web::Path<(String, String, String)>,
    query: web::Query<IdentityQuery>,
) -> HttpResponse {
    let (account, org_id, user_id) = path.into_inner();
    let token = bearer(req.headers()).or_else(|| query.into_inner().oauth_token);
    let access = match session(&salesforce, &account, token) {
        Ok(access) => access,
        Err(word) => return identity_error(StatusCode::FORBIDDEN, word),
    };
    let instance = instance_url(&req, &account);
    salesforce.with_org(&account, |org| {
        let same = |a: &str, b: &str| parse_id(a).is_some_and(|p| p.id18 == b);
        if !same(&org_id, &org.org_id) || !same(&user_id, &access.grant.user) {
            return identity_error(StatusCode::FORBIDDEN, "Bad_Id");
        }
        json_response(200, &identity_body(org, &instance, &access.grant.user))
    })
}

/// `GET /services/oauth2/userinfo`: the same facts as OpenID Connect claims.
pub async fn userinfo(req: HttpRequest, salesforce: web::Data<Salesforce>, path: web::Path<String>) -> HttpResponse {
    let account = path.into_inner();
    let access = match session(&salesforce, &account, bearer(req.headers())) {
        Ok(access) => access,
        Err(word) => return identity_error(StatusCode::FORBIDDEN, word),
    };
    let instance = instance_url(&req, &account);
    let identity = salesforce
        .with_org(&account, |org| identity_body(org, &instance, &access.grant.user))
        .to_value();
    let claim = |name: &str| identity.get(name).cloned().unwrap_or(Value::Null);
    let body = Obj::new()
        .with("sub", claim("id"))
        .with("user_id", claim("user_id"))
        .with("organization_id", claim("organization_id"))
        .with("preferred_username", claim("username"))
        .with("nickname", claim("nick_name"))
        .with("name", claim("display_name"))
        .with("email", claim("email"))
        .with("email_verified", Value::Bool(true))
        .with("given_name", claim("first_name"))
        .with("family_name", claim("last_name"))
        .with("zoneinfo", claim("timezone"))
        .with("urls", claim("urls"))
        .with("active", Value::Bool(true))
        .with("user_type", claim("user_type"))
        .with("language", claim("language"))
        .with("locale", claim("locale"))
        .with("utcOffset", claim("utcOffset"))
        .with("is_app_installed", Value::Bool(true));
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(serde_json::to_string(&body).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_base64_hmac_sha256_of_id_and_issued_at() {
        // Python: base64.b64encode(hmac.new(b"secret", b"https://login.salesforce.com/id/00D/005"
        //   b"1700000000000", hashlib.sha256).digest())
        let signed = signature("secret", "https://login.salesforce.com/id/00D/005", "1700000000000");
        assert_eq!(signed, "ExbGhRE1Ej+5CW2OmXALfHpj/0qZ0J0NfA6UBonAyK0=");
        assert_ne!(
            signed,
            signature("other", "https://login.salesforce.com/id/00D/005", "1700000000000")
        );
    }
}
