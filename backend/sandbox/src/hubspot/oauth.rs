//! HubSpot's OAuth 2.0 endpoints for one account: the consent page (`/oauth/authorize`; the real
//! one is at app.hubspot.com, where the person picks the account this path names),
//! `POST /oauth/v1/token` for codes and refresh tokens, token metadata, and revocation.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{HubSpot, valid_account_key};
use crate::consent::{ConsentPage, consent_page, error_page, redirect_with};
use crate::oauth::{Grant, OAuthError};

#[derive(Deserialize)]
pub struct AuthorizeRequest {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    optional_scope: Option<String>,
    state: Option<String>,
    /// Only in the consent form's answer.
    decision: Option<String>,
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn refuse(message: &str) -> HttpResponse {
    html(
        actix_web::http::StatusCode::BAD_REQUEST,
        error_page("HubSpot", "This app cannot be connected", message),
    )
}

/// Validates the request: (client_id, redirect_uri, app name), or why it cannot go on.
fn check(
    hubspot: &HubSpot,
    account: &str,
    request: &AuthorizeRequest,
) -> Result<(String, String, String), &'static str> {
    if !valid_account_key(account) {
        return Err("There is no such HubSpot account.");
    }
    let (Some(client_id), Some(redirect_uri)) = (&request.client_id, &request.redirect_uri) else {
        return Err("The request has no client_id or redirect_uri.");
    };
    match hubspot.oauth.check_authorize(client_id, redirect_uri) {
        Ok(app) => Ok((client_id.clone(), redirect_uri.clone(), app.name)),
        Err(OAuthError::UnknownClient) => Err("No app has this client_id."),
        Err(_) => {
            Err("The redirect_uri does not match one registered for this app, so HubSpot will not redirect there.")
        }
    }
}

fn scopes(request: &AuthorizeRequest) -> Vec<String> {
    [&request.scope, &request.optional_scope]
        .into_iter()
        .flatten()
        .flat_map(|s| s.split([' ', '+']).map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

pub async fn authorize_page(
    req: HttpRequest,
    hubspot: web::Data<HubSpot>,
    path: web::Path<String>,
    query: web::Query<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, redirect_uri, app_name) = match check(&hubspot, &account, &query) {
        Ok(checked) => checked,
        Err(message) => return refuse(message),
    };
    let (name, user) = hubspot.with_account(&account, |a| (a.name.clone(), a.user.clone()));
    let scopes = scopes(&query);
    let hidden = [
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", query.scope.clone().unwrap_or_default()),
        ("optional_scope", query.optional_scope.clone().unwrap_or_default()),
        ("state", query.state.clone().unwrap_or_default()),
    ];
    html(
        actix_web::http::StatusCode::OK,
        consent_page(&ConsentPage {
            crm: "HubSpot",
            app_name: &app_name,
            account_name: &name,
            user: &user,
            scopes: &scopes,
            action: req.path(),
            hidden: &hidden,
        }),
    )
}

pub async fn authorize_decision(
    hubspot: web::Data<HubSpot>,
    path: web::Path<String>,
    form: web::Form<AuthorizeRequest>,
) -> HttpResponse {
    let account = path.into_inner();
    let (client_id, redirect_uri, _) = match check(&hubspot, &account, &form) {
        Ok(checked) => checked,
        Err(message) => return refuse(message),
    };
    let state = form.state.clone().unwrap_or_default();
    if form.decision.as_deref() != Some("approve") {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied access to the app."),
                ("state", &state),
            ],
        );
    }
    let user = hubspot.with_account(&account, |a| a.user.clone());
    let grant = Grant {
        account,
        client_id,
        scopes: scopes(&form),
        user,
    };
    let code = hubspot.oauth.issue_code(grant, &redirect_uri, None);
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
}

/// HubSpot answers token errors with a status code in the `status` field.
fn token_error(status: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("application/json;charset=utf-8")
        .body(
            json!({ "status": status, "message": message, "correlationId": uuid::Uuid::new_v4().to_string() })
                .to_string(),
        )
}

pub async fn token(hubspot: web::Data<HubSpot>, form: web::Form<TokenRequest>) -> HttpResponse {
    let client_id = form.client_id.clone().unwrap_or_default();
    let result = match form.grant_type.as_deref() {
        Some("authorization_code") => hubspot.oauth.exchange_code(
            &client_id,
            form.client_secret.as_deref(),
            form.redirect_uri.as_deref(),
            form.code.as_deref().unwrap_or_default(),
            None,
        ),
        Some("refresh_token") => hubspot.oauth.refresh(
            &client_id,
            form.client_secret.as_deref(),
            form.refresh_token.as_deref().unwrap_or_default(),
        ),
        other => Err(OAuthError::UnsupportedGrantType(other.unwrap_or_default().to_string())),
    };
    match result {
        Ok(tokens) => HttpResponse::Ok().content_type("application/json;charset=utf-8").body(
            json!({
                "token_type": "bearer",
                "refresh_token": tokens.refresh_token,
                "access_token": tokens.access_token,
                "expires_in": tokens.expires_in,
            })
            .to_string(),
        ),
        Err(OAuthError::UnknownClient) => token_error("BAD_CLIENT_ID", "missing or unknown client id"),
        Err(OAuthError::BadClientSecret | OAuthError::Missing("client_secret")) => {
            token_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
        }
        Err(OAuthError::BadRedirectUri) => token_error("BAD_REDIRECT_URI", "redirect_uri does not match the one used"),
        Err(OAuthError::BadCode) => token_error("BAD_AUTH_CODE", "missing or unknown auth code"),
        Err(OAuthError::BadRefreshToken) => token_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token"),
        Err(OAuthError::UnsupportedGrantType(grant)) => {
            token_error("BAD_GRANT_TYPE", &format!("unsupported grant_type {grant:?}"))
        }
        Err(other) => token_error("BAD_REQUEST", &other.to_string()),
    }
}

fn not_found(what: &str) -> HttpResponse {
    HttpResponse::NotFound().content_type("application/json;charset=utf-8").body(
        json!({ "status": "error", "message": format!("{what} not found"), "correlationId": uuid::Uuid::new_v4().to_string() })
            .to_string(),
    )
}

fn app_id(client_id: &str) -> u64 {
    super::model::hub_id_for(client_id) % 10_000_000
}

pub async fn access_token_info(hubspot: web::Data<HubSpot>, path: web::Path<(String, String)>) -> HttpResponse {
    let (_, token) = path.into_inner();
    let Some(access) = hubspot.oauth.access_info(&token).filter(|a| !a.revoked) else {
        return not_found("access token");
    };
    let (hub_id, domain) = hubspot.with_account(&access.grant.account, |a| (a.hub_id, a.domain.clone()));
    let expires_in = access.expires_at.map_or(0, |at| {
        at.saturating_duration_since(std::time::Instant::now()).as_secs()
    });
    HttpResponse::Ok().json(json!({
        "token": token,
        "user": access.grant.user,
        "hub_domain": domain,
        "scopes": access.grant.scopes,
        "hub_id": hub_id,
        "app_id": app_id(&access.grant.client_id),
        "expires_in": expires_in,
        "user_id": 5_000_001,
        "token_type": "access",
    }))
}

pub async fn refresh_token_info(hubspot: web::Data<HubSpot>, path: web::Path<(String, String)>) -> HttpResponse {
    let (_, token) = path.into_inner();
    let Some(grant) = hubspot.oauth.refresh_grant(&token) else {
        return not_found("refresh token");
    };
    let (hub_id, domain) = hubspot.with_account(&grant.account, |a| (a.hub_id, a.domain.clone()));
    HttpResponse::Ok().json(json!({
        "token": token,
        "user": grant.user,
        "hub_domain": domain,
        "scopes": grant.scopes,
        "hub_id": hub_id,
        "client_id": grant.client_id,
        "user_id": 5_000_001,
        "token_type": "refresh",
    }))
}

/// Revokes a refresh token (and the access tokens issued from it): how an app disconnects.
pub async fn revoke_refresh_token(hubspot: web::Data<HubSpot>, path: web::Path<(String, String)>) -> HttpResponse {
    let (_, token) = path.into_inner();
    if hubspot.oauth.refresh_grant(&token).is_some() && hubspot.oauth.revoke(&token) {
        HttpResponse::NoContent().finish()
    } else {
        not_found("refresh token")
    }
}
