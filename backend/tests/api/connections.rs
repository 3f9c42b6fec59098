//! Connecting a CRM: the OAuth flow through the sandbox CRMs' consent pages, refresh, revoked
//! grants, reconnect and disconnect.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::repo::{now_ms, vault_secrets};
use tandem_shared::api::audit::AuditPage;
use tandem_shared::api::connections::{Connection, ConnectionCheck, ConnectionStatus, ConnectionTarget, ProviderInfo};

use crate::db_tests;
use crate::helpers::{Backend, approve_consent, connect_sandbox, expect_error, spawn_app};

db_tests!(
    connecting_hubspot_through_the_consent_page,
    connecting_salesforce_with_pkce,
    denied_unknown_replayed_and_expired_authorizations_store_nothing,
    a_grant_revoked_at_the_crm_needs_reauth_until_reconnected,
    fifty_callers_at_expiry_cause_one_refresh,
    disconnect_revokes_at_the_crm_and_deletes_the_tokens,
);

async fn connecting_hubspot_through_the_consent_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Acme").await;

    let catalogue: Vec<ProviderInfo> = admin.get_ok("/api/v1/catalogue").await;
    assert_eq!(catalogue.len(), 8);
    assert!(catalogue.iter().any(|p| p.id == "hubspot" && p.available && p.webhooks));
    assert!(catalogue.iter().any(|p| p.id == "netsuite" && !p.available));

    let started: Value = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
            &json!({ "provider": "hubspot", "environment": "sandbox" }),
        )
        .await;
    let url = started["authorize_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/sandbox/hubspot/acme-sandbox/oauth/authorize?",
            app.address
        )),
        "{url}"
    );
    for part in [
        "client_id=tandem-hubspot",
        "state=",
        "redirect_uri=",
        "crm.objects.contacts.write",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }

    let callback = approve_consent(url, "approve").await;
    assert!(
        callback.starts_with(&format!("{}/api/v1/oauth/callback?", app.address)),
        "{callback}"
    );
    let page = reqwest::get(&callback).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("HubSpot connected") && html.contains(&format!("/t/{}/connections?connected=hubspot", tenant.id)),
        "{html}"
    );

    let connections: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    let connection = &connections[0];
    assert_eq!(connection.status, ConnectionStatus::Healthy);
    assert_eq!(connection.target, ConnectionTarget::Sandbox);
    assert_eq!(connection.provider_name, "HubSpot");
    assert_eq!(connection.account_name, "acme-sandbox.sandbox.hubspot.test");
    assert_eq!(connection.connected_by.as_deref(), Some("admin@acme.example.com"));
    assert!(connection.access_expires_at.is_some());
    assert!(connection.scopes.contains(&"crm.objects.contacts.read".to_string()));

    // The same link again: used once, refused.
    let replay = reqwest::get(&callback).await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already used"));

    let audit: AuditPage = admin.get_ok(&format!("/api/v1/tenants/{}/audit", tenant.id)).await;
    assert_eq!(audit.entries[0].action, "connection.connected");
    assert_eq!(audit.entries[0].actor, "admin@acme.example.com");
    // Tokens are in the vault, sealed; the listing never shows them.
    assert!(
        vault_secrets::get(app.db().pool(), tenant.id, &connection.id.to_string(), "oauth_tokens")
            .await
            .unwrap()
            .is_some()
    );
    let listing = admin
        .get(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(!listing.contains("token\"") && !listing.contains("\"CO"), "{listing}");

    // Test connection: a real call to the sandbox HubSpot with the stored token.
    let check: ConnectionCheck = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/{}/test", tenant.id, connection.id),
            &json!({}),
        )
        .await;
    assert!(check.ok, "{}", check.message);
    assert!(check.connection.last_checked_at.is_some());

    // Production has no operator app configured: a clear refusal naming the settings.
    let error = expect_error(
        admin
            .post(
                &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
                &json!({ "provider": "hubspot", "environment": "production" }),
            )
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("environment"));
    assert!(
        error.message.contains("TANDEM_CRM__HUBSPOT__PRODUCTION__CLIENT_ID"),
        "{}",
        error.message
    );
    let error = expect_error(
        admin
            .post(
                &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
                &json!({ "provider": "netsuite", "environment": "sandbox" }),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("provider"));

    // Viewers see connections but cannot connect.
    let viewer = app.user_in(tenant.id, "viewer").await;
    let seen: Vec<Connection> = viewer
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert_eq!(seen.len(), 1);
    expect_error(
        viewer
            .post(
                &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
                &json!({ "provider": "hubspot", "environment": "sandbox" }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

async fn denied_unknown_replayed_and_expired_authorizations_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Initech").await;
    let start = || async {
        let started: Value = admin
            .post_ok(
                &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
                &json!({ "provider": "hubspot", "environment": "sandbox" }),
            )
            .await;
        started["authorize_url"].as_str().unwrap().to_string()
    };

    let denied = approve_consent(&start().await, "deny").await;
    assert!(denied.contains("error=access_denied"));
    let page = reqwest::get(&denied).await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("Access was denied at HubSpot"));

    let unknown = reqwest::get(format!("{}/api/v1/oauth/callback?state=forged&code=x", app.address))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("unknown"));
    let missing = reqwest::get(format!("{}/api/v1/oauth/callback?code=x", app.address))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    let callback = approve_consent(&start().await, "approve").await;
    sqlx::query("UPDATE oauth_states SET expires_at = $1")
        .bind(now_ms() - 1)
        .execute(app.db().pool())
        .await
        .unwrap();
    let expired = reqwest::get(&callback).await.unwrap();
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert!(expired.text().await.unwrap().contains("expired"));

    // A code the CRM does not know: the exchange fails, nothing is stored.
    let url = start().await;
    let state: Vec<(String, String)> = serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let state = &state.iter().find(|(k, _)| k == "state").unwrap().1;
    let bad_code = reqwest::get(format!(
        "{}/api/v1/oauth/callback?state={state}&code=not-a-code",
        app.address
    ))
    .await
    .unwrap();
    assert_eq!(bad_code.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad_code
            .text()
            .await
            .unwrap()
            .contains("did not accept the authorization")
    );

    let connections: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert!(connections.is_empty());
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_secrets")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(secrets, 0, "no tokens, no leftover PKCE verifiers");
}

async fn a_grant_revoked_at_the_crm_needs_reauth_until_reconnected(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Globex").await;
    let connection = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let base = format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id);

    // The customer uninstalls the app in HubSpot, and the access token runs out.
    let control = format!("{}/sandbox/_control/hubspot/accounts/globex-sandbox", app.address);
    reqwest::Client::new()
        .post(format!("{control}/tokens/revoke"))
        .send()
        .await
        .unwrap();
    sqlx::query("UPDATE connections SET access_expires_at = $1")
        .bind(now_ms())
        .execute(app.db().pool())
        .await
        .unwrap();

    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(!check.ok);
    assert_eq!(check.connection.status, ConnectionStatus::NeedsReauth);
    assert!(
        check
            .connection
            .last_error
            .as_deref()
            .unwrap()
            .contains("connect again"),
        "{:?}",
        check.connection.last_error
    );
    let audit: AuditPage = admin.get_ok(&format!("/api/v1/tenants/{}/audit", tenant.id)).await;
    assert!(
        audit
            .entries
            .iter()
            .any(|e| e.action == "connection.needs_reauth" && e.actor_kind == "system")
    );

    let again: Value = admin.post_ok(&format!("{base}/reconnect"), &json!({})).await;
    let callback = approve_consent(again["authorize_url"].as_str().unwrap(), "approve").await;
    assert_eq!(reqwest::get(&callback).await.unwrap().status(), StatusCode::OK);
    let connections: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert_eq!(connections.len(), 1, "reconnecting keeps one connection");
    assert_eq!(connections[0].id, connection.id);
    assert_eq!(connections[0].status, ConnectionStatus::Healthy);
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(check.ok, "{}", check.message);
}

async fn fifty_callers_at_expiry_cause_one_refresh(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Hooli").await;
    let connection = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let control = format!("{}/sandbox/_control/hubspot/accounts/hooli-sandbox", app.address);
    let refreshes = || async {
        let summary: Value = reqwest::get(&control).await.unwrap().json().await.unwrap();
        summary["token_refreshes"].as_u64().unwrap()
    };
    let before = refreshes().await;
    sqlx::query("UPDATE connections SET access_expires_at = $1")
        .bind(now_ms())
        .execute(app.db().pool())
        .await
        .unwrap();

    let tokens = &app.state.crm.tokens;
    let calls = (0..50).map(|_| tokens.credential(&tenant, connection.id));
    let credentials = futures_util::future::join_all(calls).await;
    let distinct: BTreeSet<String> = credentials
        .into_iter()
        .map(|c| secrecy::ExposeSecret::expose_secret(&c.expect("a credential").access_token).to_string())
        .collect();
    assert_eq!(distinct.len(), 1, "every caller got the one new token");
    assert_eq!(refreshes().await, before + 1, "exactly one refresh reached HubSpot");
    let refreshed: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert!(refreshed[0].last_refreshed_at > connection.last_refreshed_at);
    assert!(refreshed[0].access_expires_at.unwrap().timestamp_millis() > now_ms() + 25 * 60 * 1000);
    // And the new token works at the CRM.
    let check: ConnectionCheck = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/{}/test", tenant.id, connection.id),
            &json!({}),
        )
        .await;
    assert!(check.ok);
    assert_eq!(refreshes().await, before + 1, "a fresh token is not refreshed again");
}

async fn disconnect_revokes_at_the_crm_and_deletes_the_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Umbrella").await;
    let connection = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let control = format!("{}/sandbox/_control/hubspot/accounts/umbrella-sandbox", app.address);
    let installed = |summary: Value| summary["installed_apps"].as_array().unwrap().len();
    let summary: Value = reqwest::get(&control).await.unwrap().json().await.unwrap();
    assert_eq!(installed(summary), 1);

    let response = admin
        .delete(&format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let summary: Value = reqwest::get(&control).await.unwrap().json().await.unwrap();
    assert_eq!(installed(summary), 0, "the grant was revoked at HubSpot");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_secrets")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    let connections: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert!(connections.is_empty());
    let audit: AuditPage = admin.get_ok(&format!("/api/v1/tenants/{}/audit", tenant.id)).await;
    assert_eq!(audit.entries[0].action, "connection.disconnected");
    assert_eq!(audit.entries[0].details["revocation"], "revoked at the CRM");
    expect_error(
        admin
            .delete(&format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn connecting_salesforce_with_pkce(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Wayne").await;
    let started: Value = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/authorize", tenant.id),
            &json!({ "provider": "salesforce", "environment": "sandbox" }),
        )
        .await;
    let url = started["authorize_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{}/sandbox/salesforce/wayne-sandbox/services/oauth2/authorize?",
            app.address
        )),
        "{url}"
    );
    assert!(
        url.contains("code_challenge=") && url.contains("code_challenge_method=S256"),
        "PKCE: {url}"
    );

    let callback = approve_consent(url, "approve").await;
    let page = reqwest::get(&callback).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text().await.unwrap());
    let connections: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    let connection = connections
        .iter()
        .find(|c| c.provider == "salesforce")
        .expect("connected");
    assert_eq!(connection.provider_name, "Salesforce");
    assert!(connection.account_id.starts_with("00D"), "{connection:?}");
    assert_eq!(connection.status, ConnectionStatus::Healthy);
    // Salesforce does not say when a token expires: refreshed after a 401 instead.
    assert!(connection.access_expires_at.is_none());
    let check: ConnectionCheck = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/{}/test", tenant.id, connection.id),
            &json!({}),
        )
        .await;
    assert!(check.ok, "{}", check.message);

    // An expired session is refreshed on the 401, transparently.
    let control = format!("{}/sandbox/_control/salesforce/accounts/wayne-sandbox", app.address);
    reqwest::Client::new()
        .post(format!("{control}/tokens/expire"))
        .send()
        .await
        .unwrap();
    let check: ConnectionCheck = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/connections/{}/test", tenant.id, connection.id),
            &json!({}),
        )
        .await;
    assert!(check.ok, "{}", check.message);
    assert!(check.connection.last_refreshed_at > connection.last_refreshed_at);

    let response = admin
        .delete(&format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let audit: AuditPage = admin.get_ok(&format!("/api/v1/tenants/{}/audit", tenant.id)).await;
    assert_eq!(audit.entries[0].details["revocation"], "revoked at the CRM");
}
