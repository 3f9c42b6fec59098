//! Every error, whoever produces it, has the body `{code, message, field?, request_id}`.

use reqwest::StatusCode;
use serde_json::json;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, spawn_app};

db_tests!(
    router_errors_are_json,
    body_errors_name_the_field,
    path_and_query_errors_name_the_parameter,
    auth_errors_are_json
);

async fn router_errors_are_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.client();
    expect_error(
        client.get("/api/v1/no-such-thing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(client.get("/api/nothing").await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(
        client.delete("/healthz").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    expect_error(
        client.post("/api/v1/auth/session", &json!({})).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    expect_error(
        client.post("/no/ui/route", &json!({})).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

async fn body_errors_name_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let users = format!("/api/v1/tenants/{}/users", app.demo_tenant.id);

    // Not JSON at all.
    let response = admin
        .http
        .post(format!("{}{users}", admin.base))
        .header("X-CSRF-Token", admin.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = expect_error(response, StatusCode::BAD_REQUEST, "malformed_body").await;
    assert!(body.field.is_none());

    // Missing field, wrong type, unknown enum value: each names its field.
    let body = expect_error(
        admin.post(&users, &json!({ "name": "A", "role": "admin" })).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(body.field.as_deref(), Some("email"));
    let body = expect_error(
        admin
            .post(&users, &json!({ "email": 5, "name": "A", "role": "admin" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(body.field.as_deref(), Some("email"));
    let body = expect_error(
        admin
            .post(
                &users,
                &json!({ "email": "a@example.com", "name": "A", "role": "owner" }),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(body.field.as_deref(), Some("role"));
    assert!(
        body.message.contains("admin") && body.message.contains("viewer"),
        "{}",
        body.message
    );

    // Not JSON content type.
    let response = admin
        .http
        .post(format!("{}{users}", admin.base))
        .header("X-CSRF-Token", admin.csrf.clone().unwrap())
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;

    // Larger than the limit.
    let huge = "x".repeat(app.settings.server.max_body_bytes + 1);
    let body = expect_error(
        admin
            .post(
                &users,
                &json!({ "email": "a@example.com", "name": huge, "role": "admin" }),
            )
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    assert!(body.message.contains("larger"));

    // Nothing of it was stored.
    let listed: Vec<serde_json::Value> = admin.get_ok(&users).await;
    assert!(listed.is_empty(), "{listed:?}");
}

async fn path_and_query_errors_name_the_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let body = expect_error(
        admin.get("/api/v1/tenants/not-a-uuid/users").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body.field.as_deref(), Some("tenant_id"));
    let path = format!("/api/v1/tenants/{}/users/nope", app.demo_tenant.id);
    let body = expect_error(
        admin.patch(&path, &json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_eq!(body.field.as_deref(), Some("user_id"));
    let path = format!("/api/v1/tenants/{}/audit?limit=many", app.demo_tenant.id);
    let body = expect_error(admin.get(&path).await, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    assert_eq!(body.field.as_deref(), Some("limit"));
    let path = format!("/api/v1/tenants/{}/audit?before=yesterday", app.demo_tenant.id);
    let body = expect_error(admin.get(&path).await, StatusCode::BAD_REQUEST, "invalid_parameter").await;
    assert_eq!(body.field.as_deref(), Some("before"));
}

async fn auth_errors_are_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = app.client();
    expect_error(
        anonymous.get("/api/v1/tenants").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let response = anonymous.get("/api/v1/app/whoami").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
