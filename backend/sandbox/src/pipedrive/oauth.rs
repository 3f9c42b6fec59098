//! Pipedrive's OAuth 2.0 endpoints (oauth.pipedrive.com, here under the account's path): the
//! consent page, `POST /oauth/token` (client credentials by HTTP Basic, or in the form) whose
//! answer carries `api_domain`, the company's API address that clients use from then on, and
//! `POST /oauth/revoke`.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::Pipedrive;
use crate::consent::{ConsentPage, consent_page, error_page, redirect_with};
use crate::hubspot::valid_account_key;
use crate::oauth::{Grant, OAuthError};

#[derive(Deserialize)]
pub struct AuthorizeRequest {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    decision: Option<String>,
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn check(
    pipedrive: &Pipedrive,
    account: &str,
    request: &AuthorizeRequest,
) -> Result<(String, String, String), &'static str> {
    if !valid_account_key(account) {
        return Err("There is no such Pipedrive company.");
    }
    let (Some(client_id), Some(redirect_uri)) = (&request.client_id, &request.redirect_uri) else {
        return Err("The request has no client_id or redirect_uri.");
    };
    match pipedrive.oauth.check_authorize(client_id, redirect_uri) {
        Ok(app) => Ok((client_id.clone(), redirect_uri.clone(), app.name)),
        Err(OAuthError::UnknownClient) => Err("No app has this client_id."),
        Err(_) => Err("The redirect_uri does not match the callback URL registered for this app."),
    }
}

fn scopes(request: &AuthorizeRequest) -> Vec<String> {
    request
        .scope
        .iter()
        .flat_map(|s| s.split([' ', ',']).map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

pub async fn authorize_page(
    req: HttpRequest,
    pipedrive: web::Data<Pipedrive>,
    path: web::Path<String>,
    query: web::Query<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, redirect_uri, app_name) = match check(&pipedrive, &account, &query) {
        Ok(checked) => checked,
        Err(message) => {
            return html(
                actix_web::http::StatusCode::BAD_REQUEST,
                error_page("Pipedrive", "This app cannot be installed", message),
            );
        }
    };
    let (company, user) = pipedrive.with_account(&account, |a| (a.company_name.clone(), a.user_email.clone()));
    let hidden = [
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", query.scope.clone().unwrap_or_default()),
        ("state", query.state.clone().unwrap_or_default()),
    ];
    html(
        actix_web::http::StatusCode::OK,
        consent_page(&ConsentPage {
            crm: "Pipedrive",
            app_name: &app_name,
            account_name: &company,
            user: &user,
            scopes: &scopes(&query),
            action: req.path(),
            hidden: &hidden,
        }),
    )
}

pub async fn authorize_decision(
    pipedrive: web::Data<Pipedrive>,
    path: web::Path<String>,
    form: web::Form<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, redirect_uri, _) = match check(&pipedrive, &account, &form) {
        Ok(checked) => checked,
        Err(message) => {
            return html(
                actix_web::http::StatusCode::BAD_REQUEST,
                error_page("Pipedrive", "This app cannot be installed", message),
            );
        }
    };
    let state = form.state.clone().unwrap_or_default();
    if form.decision.as_deref() != Some("approve") {
        return redirect_with(&redirect_uri, &[("error", "user_denied"), ("state", &state)]);
    }
    let user = pipedrive.with_account(&account, |a| a.user_email.clone());
    let grant = Grant {
        account,
        client_id,
        scopes: scopes(&form),
        user,
    };
    let code = pipedrive.oauth.issue_code(grant, &redirect_uri, None);
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state)])
}

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    token: Option<String>,
}

/// Client credentials from `Authorization: Basic`, else from the form.
fn client_credentials(req: &HttpRequest, form: &TokenRequest) -> (String, Option<String>) {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => (form.client_id.clone().unwrap_or_default(), form.client_secret.clone()),
    }
}

fn token_error(status: u16, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "success": false, "error": error, "error_description": description }))
}

/// This account's API address, as the token response's `api_domain` gives it: where the
/// request came in, up to the account.
fn api_domain(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let path = req.path();
    let root = path.find("/oauth/").map_or(path, |at| &path[..at]);
    format!("{}://{}{root}", info.scheme(), info.host())
}

pub async fn token(req: HttpRequest, pipedrive: web::Data<Pipedrive>, form: web::Form<TokenRequest>) -> HttpResponse {
    let (client_id, client_secret) = client_credentials(&req, &form);
    let result = match form.grant_type.as_deref() {
        Some("authorization_code") => pipedrive.oauth.exchange_code(
            &client_id,
            client_secret.as_deref(),
            form.redirect_uri.as_deref(),
            form.code.as_deref().unwrap_or_default(),
            None,
        ),
        Some("refresh_token") => pipedrive.oauth.refresh(
            &client_id,
            client_secret.as_deref(),
            form.refresh_token.as_deref().unwrap_or_default(),
        ),
        other => Err(OAuthError::UnsupportedGrantType(other.unwrap_or_default().to_string())),
    };
    match result {
        Ok(tokens) => HttpResponse::Ok().json(json!({
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in.unwrap_or(3599),
            "refresh_token": tokens.refresh_token,
            "scope": tokens.grant.scopes.join(","),
            "api_domain": api_domain(&req),
        })),
        Err(OAuthError::UnknownClient | OAuthError::BadClientSecret | OAuthError::Missing("client_secret")) => {
            token_error(401, "invalid_client", "Invalid client credentials")
        }
        Err(OAuthError::BadRefreshToken) => token_error(400, "invalid_grant", "Invalid refresh token"),
        Err(OAuthError::BadCode | OAuthError::BadRedirectUri) => {
            token_error(400, "invalid_grant", "Invalid grant: authorization code is invalid")
        }
        Err(OAuthError::UnsupportedGrantType(grant)) => token_error(
            400,
            "unsupported_grant_type",
            &format!("Unsupported grant type {grant:?}"),
        ),
        Err(other) => token_error(400, "invalid_request", &other.to_string()),
    }
}

/// `POST /oauth/revoke` with `token` (and `token_type_hint`): the grant ends.
pub async fn revoke(req: HttpRequest, pipedrive: web::Data<Pipedrive>, form: web::Form<TokenRequest>) -> HttpResponse {
    let (client_id, client_secret) = client_credentials(&req, &form);
    match pipedrive.oauth.app(&client_id) {
        Some(app) if Some(&app.client_secret) == client_secret.as_ref() => {}
        _ => return token_error(401, "invalid_client", "Invalid client credentials"),
    }
    pipedrive.oauth.revoke(form.token.as_deref().unwrap_or_default());
    HttpResponse::Ok().finish()
}
