//! Operator staff roles: operator admins do everything, support reads everything and changes
//! nothing, sales staff work with demo tenants only.

use reqwest::StatusCode;
use serde_json::json;
use tandem_shared::api::tenants::Tenant;
use tandem_shared::api::users::User;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};

db_tests!(
    support_reads_everything_and_changes_nothing,
    sales_staff_manage_demo_tenants_only,
    only_operator_admins_create_real_tenants
);

async fn support_reads_everything_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, _admin) = app.tenant_with_admin("Cyberdyne").await;
    let support = app.staff("support").await;
    let tenants: Vec<Tenant> = support.get_ok("/api/v1/tenants").await;
    assert!(tenants.iter().any(|t| t.id == tenant.id) && tenants.iter().any(|t| t.id == app.demo_tenant.id));
    let base = format!("/api/v1/tenants/{}", tenant.id);
    let users: Vec<User> = support.get_ok(&format!("{base}/users")).await;
    assert_eq!(users.len(), 1);
    let _: serde_json::Value = support.get_ok(&format!("{base}/api-keys")).await;
    let _: serde_json::Value = support.get_ok(&format!("{base}/environments")).await;

    for (method, path, body) in [
        (
            "POST",
            format!("{base}/users"),
            json!({ "email": "s@example.com", "name": "S", "role": "viewer" }),
        ),
        (
            "PATCH",
            format!("{base}/users/{}", users[0].id),
            json!({ "role": "viewer" }),
        ),
        ("DELETE", format!("{base}/users/{}", users[0].id), json!(null)),
        (
            "POST",
            format!("{base}/api-keys"),
            json!({ "name": "S", "environment": "sandbox" }),
        ),
        ("PATCH", base.clone(), json!({ "name": "Renamed" })),
        ("POST", "/api/v1/tenants".to_string(), json!({ "name": "Support Co" })),
    ] {
        let response = match method {
            "POST" => support.post(&path, &body).await,
            "PATCH" => support.patch(&path, &body).await,
            _ => support.delete(&path).await,
        };
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let unchanged: Vec<User> = support.get_ok(&format!("{base}/users")).await;
    assert_eq!(unchanged, users);
}

async fn sales_staff_manage_demo_tenants_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let (customer, _admin) = app.tenant_with_admin("Real Customer").await;
    let sales = app.staff("sales").await;
    let visible: Vec<Tenant> = sales.get_ok("/api/v1/tenants").await;
    assert!(visible.iter().all(|t| t.is_demo), "{visible:?}");
    assert!(visible.iter().any(|t| t.id == app.demo_tenant.id));
    expect_error(
        sales.get(&format!("/api/v1/tenants/{}/users", customer.id)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let demo: Tenant = expect_json(
        sales
            .post(
                "/api/v1/tenants",
                &json!({ "name": "Trade Show Demo", "is_demo": true }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(demo.is_demo);
    let _: serde_json::Value = sales
        .post_ok(
            &format!("/api/v1/tenants/{}/users", demo.id),
            &json!({ "email": "prospect@example.com", "name": "Prospect", "role": "admin" }),
        )
        .await;
    let error = expect_error(
        sales.post("/api/v1/tenants", &json!({ "name": "Not A Demo" })).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(error.message.contains("demo"));
}

async fn only_operator_admins_create_real_tenants(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.admin().await;
    let tenant: Tenant = expect_json(
        operator
            .post("/api/v1/tenants", &json!({ "name": "Müller & Söhne GmbH" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(tenant.slug, "m-ller-s-hne-gmbh");
    assert!(!tenant.is_demo);
    let environments: Vec<serde_json::Value> = operator
        .get_ok(&format!("/api/v1/tenants/{}/environments", tenant.id))
        .await;
    assert_eq!(
        environments.len(),
        2,
        "every tenant gets a sandbox and a production environment"
    );

    let error = expect_error(
        operator
            .post("/api/v1/tenants", &json!({ "name": "Again", "slug": tenant.slug }))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("slug"));
    let error = expect_error(
        operator
            .post("/api/v1/tenants", &json!({ "name": "Bad", "slug": "Bad Slug" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("slug"));

    let renamed: Tenant = expect_json(
        operator
            .patch(
                &format!("/api/v1/tenants/{}", tenant.id),
                &json!({ "name": "Müller GmbH" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed.name, "Müller GmbH");
    assert_eq!(renamed.slug, tenant.slug, "the slug stays");

    let (_, tenant_admin) = app.tenant_with_admin("Small Shop").await;
    expect_error(
        tenant_admin.post("/api/v1/tenants", &json!({ "name": "Sneaky" })).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let own: Vec<Tenant> = tenant_admin.get_ok("/api/v1/tenants").await;
    assert_eq!(own.len(), 1);
}
