//! Connecting a CRM with an entered API token (Pipedrive), through the HTTP API: checked with
//! the CRM before anything is stored, sealed, never shown back, replaced by entering a new one,
//! refused with the CRM's reason and the field named; a token the CRM stops accepting makes the
//! connection need a new one. Another tenant's admin cannot use the endpoint.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::connections::{Connection, ConnectionCheck, ConnectionStatus, ProviderInfo};

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};

db_tests!(an_api_token_is_checked_sealed_replaced_and_refused_when_wrong);

async fn an_api_token_is_checked_sealed_replaced_and_refused_when_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Token Co").await;
    let path = format!("/api/v1/tenants/{}/connections/credentials", tenant.id);
    let control = format!("{}/sandbox/_control/pipedrive/accounts/token-co-sandbox", app.address);
    let sandbox = reqwest::Client::new();
    let token_now = || async {
        let token: Value = sandbox
            .post(format!("{control}/tokens/static"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["access_token"].as_str().unwrap().to_string()
    };
    let connect = |token: Value| {
        let body = json!({ "provider": "pipedrive", "environment": "sandbox", "credentials": { "api_token": token } });
        let (admin, path) = (&admin, path.clone());
        async move { admin.post(&path, &body).await }
    };

    // The catalogue says what to enter and where to find it.
    let catalogue: Vec<ProviderInfo> = admin.get_ok("/api/v1/catalogue").await;
    let pipedrive = catalogue.iter().find(|p| p.id == "pipedrive").unwrap();
    assert!(pipedrive.available);
    assert_eq!(pipedrive.credential_fields[0].name, "api_token");
    assert!(pipedrive.credential_fields[0].secret && pipedrive.credential_fields[0].hint.contains("API"));

    // Bad input: named, nothing stored.
    let missing = expect_error(connect(json!("  ")).await, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(missing.field.as_deref(), Some("credentials.api_token"));
    let control_chars = expect_error(
        connect(json!("abc\u{0}def")).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert!(
        control_chars.message.contains("control characters"),
        "{control_chars:?}"
    );
    let huge = expect_error(
        connect(json!("x".repeat(10_000))).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(huge.field.as_deref(), Some("credentials.api_token"));
    let wrong = expect_error(
        connect(json!("0123456789abcdef0123456789abcdef01234567")).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(wrong.field.as_deref(), Some("credentials.api_token"));
    assert!(
        wrong.message.contains("Pipedrive refused it") && wrong.message.contains("unauthorized"),
        "{wrong:?}"
    );
    let oauth_only = admin
        .post(
            &path,
            &json!({ "provider": "hubspot", "environment": "sandbox", "credentials": { "api_token": "x" } }),
        )
        .await;
    let oauth_only = expect_error(oauth_only, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(oauth_only.field.as_deref(), Some("provider"));
    let unknown = admin
        .post(
            &path,
            &json!({ "provider": "pipedrive", "environment": "sandbox", "credentials": { "password": "x" } }),
        )
        .await;
    assert_eq!(
        expect_error(unknown, StatusCode::BAD_REQUEST, "invalid_field")
            .await
            .field
            .as_deref(),
        Some("credentials.password")
    );
    let nothing: Vec<Connection> = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert!(nothing.is_empty());
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_secrets")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(secrets, 0, "a refused token is not stored");

    // The right token: checked, stored sealed, never shown back.
    let token = token_now().await;
    let response = connect(json!(token)).await;
    let raw = response.text().await.unwrap();
    assert!(!raw.contains(&token), "the token is never shown back");
    let connection: Connection = serde_json::from_str(&raw).expect(&raw);
    assert_eq!(connection.provider, "pipedrive");
    assert_eq!(connection.status, ConnectionStatus::Healthy);
    assert!(connection.account_name.contains("Pipedrive sandbox"), "{connection:?}");
    let listed: Value = admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", tenant.id))
        .await;
    assert!(!listed.to_string().contains(&token));
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM vault_secrets")
        .fetch_all(app.db().pool())
        .await
        .unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(
        !String::from_utf8_lossy(&sealed[0]).contains(&token),
        "sealed, not in clear"
    );
    assert!(!crate::helpers::captured_logs().contains(&token), "never logged");
    let base = format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id);
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(check.ok, "{}", check.message);

    // Another tenant's admin cannot connect into this tenant.
    let (_, stranger) = app.tenant_with_admin("Other Co").await;
    let refused = stranger
        .post(
            &path,
            &json!({ "provider": "pipedrive", "environment": "sandbox", "credentials": { "api_token": token } }),
        )
        .await;
    assert!(
        matches!(refused.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        refused.status()
    );

    // The user makes a new token in Pipedrive: the old one stops working, the connection asks
    // for the new one, and entering it replaces the old in the same connection.
    sandbox.post(format!("{control}/tokens/revoke")).send().await.unwrap();
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(!check.ok);
    assert_eq!(check.connection.status, ConnectionStatus::NeedsReauth, "{check:?}");
    assert!(
        check
            .connection
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("enter a new one"),
        "{check:?}"
    );
    let replaced: Connection = expect_json(connect(json!(token_now().await)).await, StatusCode::CREATED).await;
    assert_eq!(replaced.id, connection.id, "the same connection");
    assert_eq!(replaced.status, ConnectionStatus::Healthy);
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(check.ok, "{}", check.message);
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_secrets")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(secrets, 1, "replaced, not added");

    // Disconnecting forgets the token.
    let gone = admin.delete(&base).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_secrets")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(secrets, 0);
}
