//! Health, readiness, metrics and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;
use tandem_shared::api::health::Readiness;

use crate::db_tests;
use crate::helpers::{Backend, expect_json, spawn_app};

db_tests!(
    healthz_and_readyz_report_the_database,
    metrics_count_requests_by_route_and_status,
    openapi_document_covers_every_api_route
);

async fn healthz_and_readyz_report_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.client();
    let health: Value = expect_json(client.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok");
    let ready: Readiness = expect_json(client.get("/readyz").await, StatusCode::OK).await;
    assert!(ready.ready);
    assert_eq!(
        ready.database,
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    assert_eq!(ready.migrations_applied, ready.migrations_expected);
    assert!(ready.migrations_expected >= 1);

    // With the database gone, readiness fails with the error shape and says why.
    app.db().close().await;
    let response = client.get("/readyz").await;
    let body = crate::helpers::expect_error(response, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    assert!(body.message.contains("database"), "{}", body.message);
    let health: Value = expect_json(client.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(health["status"], "ok", "liveness does not depend on the database");
}

async fn metrics_count_requests_by_route_and_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.client();
    let demo = app.demo_tenant.id;
    client.get("/healthz").await;
    client.get(&format!("/api/v1/tenants/{demo}/users")).await; // 401: not logged in
    client.get("/no/such/page/api").await;

    let response = client.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    // Route patterns, not raw paths: ids never become label values.
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/api/v1/tenants/{tenant_id}/users",status="401"}"#),
        "{text}"
    );
    assert!(!text.contains(&demo.to_string()));
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "latency histogram: {text}"
    );
    assert!(text.contains("process_resident_memory_bytes"), "process basics: {text}");
    assert!(text.contains("process_cpu_seconds_total"), "process basics: {text}");
}

async fn openapi_document_covers_every_api_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = expect_json(app.client().get("/api/openapi.json").await, StatusCode::OK).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/session",
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant_id}",
        "/api/v1/tenants/{tenant_id}/environments",
        "/api/v1/tenants/{tenant_id}/users",
        "/api/v1/tenants/{tenant_id}/users/{user_id}",
        "/api/v1/tenants/{tenant_id}/api-keys",
        "/api/v1/tenants/{tenant_id}/api-keys/{key_id}/revoke",
        "/api/v1/tenants/{tenant_id}/audit",
        "/api/v1/audit",
        "/api/v1/app/whoami",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // Every documented operation answers errors with the shared error body.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody") && schemas.contains_key("ErrorCode"));
    assert!(doc["components"]["securitySchemes"]["session"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
}
