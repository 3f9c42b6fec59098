//! Tenant API keys: shown once, stored hashed, usable as a bearer token, revocable at once.

use reqwest::StatusCode;
use serde_json::json;
use tandem_shared::api::api_keys::{ApiKey, AppIdentity, CreatedApiKey};
use tandem_shared::api::tenants::{Environment, EnvironmentKind};

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};

db_tests!(a_key_works_until_it_is_revoked, keys_are_per_environment_and_validated);

async fn whoami(address: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{address}/api/v1/app/whoami"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

async fn a_key_works_until_it_is_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Globex").await;
    let keys = format!("/api/v1/tenants/{}/api-keys", tenant.id);

    let created: CreatedApiKey = expect_json(
        admin
            .post(&keys, &json!({ "name": "Shop backend", "environment": "production" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(created.secret.starts_with("tdm_live_"));
    assert!(created.secret.starts_with(&created.key.prefix));
    assert_eq!(created.key.environment, EnvironmentKind::Production);
    assert_eq!(created.key.created_by.as_deref(), Some("admin@globex.example.com"));

    // The secret is never listed again, and is not stored.
    let listed = admin.get(&keys).await.text().await.unwrap();
    assert!(!listed.contains(&created.secret));
    assert!(listed.contains(&created.key.prefix));
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = $1 OR prefix = $1")
        .bind(&created.secret)
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let identity: AppIdentity = expect_json(whoami(&app.address, &created.secret).await, StatusCode::OK).await;
    assert_eq!(identity.tenant_id, tenant.id);
    assert_eq!(identity.environment, EnvironmentKind::Production);
    assert_eq!(identity.key_prefix, created.key.prefix);
    let listed: Vec<ApiKey> = admin.get_ok(&keys).await;
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    let revoked: ApiKey = expect_json(
        admin
            .post(&format!("{keys}/{}/revoke", created.key.id), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(revoked.revoked_at.is_some());
    expect_error(
        whoami(&app.address, &created.secret).await,
        StatusCode::UNAUTHORIZED,
        "api_key_revoked",
    )
    .await;
    // Revoking again changes nothing.
    let again: ApiKey = expect_json(
        admin
            .post(&format!("{keys}/{}/revoke", created.key.id), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again.revoked_at, revoked.revoked_at);

    // Wrong and malformed keys.
    expect_error(
        whoami(&app.address, "tdm_live_not-a-real-key").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    expect_error(
        whoami(&app.address, "something else").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // A session cookie is not an API key.
    expect_error(
        admin.get("/api/v1/app/whoami").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn keys_are_per_environment_and_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Hooli").await;
    let keys = format!("/api/v1/tenants/{}/api-keys", tenant.id);
    let sandbox: CreatedApiKey = admin
        .post_ok(&keys, &json!({ "name": "Staging", "environment": "sandbox" }))
        .await;
    assert!(sandbox.secret.starts_with("tdm_test_"));
    let identity: AppIdentity = expect_json(whoami(&app.address, &sandbox.secret).await, StatusCode::OK).await;
    assert_eq!(identity.environment, EnvironmentKind::Sandbox);

    let environments: Vec<Environment> = admin
        .get_ok(&format!("/api/v1/tenants/{}/environments", tenant.id))
        .await;
    let count = |kind| environments.iter().find(|e| e.kind == kind).unwrap().active_api_keys;
    assert_eq!(
        (count(EnvironmentKind::Sandbox), count(EnvironmentKind::Production)),
        (1, 0)
    );

    let error = expect_error(
        admin
            .post(&keys, &json!({ "name": "", "environment": "sandbox" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("name"));
    let error = expect_error(
        admin
            .post(&keys, &json!({ "name": "X", "environment": "staging" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("environment"));

    let viewer = app.user_in(tenant.id, "viewer").await;
    let _: Vec<ApiKey> = viewer.get_ok(&keys).await;
    expect_error(
        viewer
            .post(&keys, &json!({ "name": "V", "environment": "sandbox" }))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        viewer
            .post(&format!("{keys}/{}/revoke", sandbox.key.id), &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
