//! Tenant users: create (generated or chosen password), list, change role, remove.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::auth::SessionInfo;
use tandem_shared::api::users::{CreatedUser, User};
use tandem_shared::roles::Role;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};

db_tests!(
    an_admin_manages_the_users_of_their_tenant,
    bad_user_input_names_the_field_and_stores_nothing,
    the_last_admin_cannot_be_demoted_or_removed,
);

async fn an_admin_manages_the_users_of_their_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Acme GmbH").await;
    let users = format!("/api/v1/tenants/{}/users", tenant.id);

    // Without a password, one is generated and shown once.
    let created: CreatedUser = expect_json(
        admin
            .post(
                &users,
                &json!({ "email": "Grace@Example.com", "name": "Grace Hopper", "role": "viewer" }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created.user.email, "grace@example.com");
    assert_eq!(created.user.role, Role::Viewer);
    assert_eq!(created.user.tenant_id, Some(tenant.id));
    let password = created.generated_password.expect("a generated password");
    assert!(password.len() >= 20);

    let mut grace = app.client();
    let session = grace.login_ok("grace@example.com", &password).await;
    assert_eq!(session.user.tenant_id, Some(tenant.id));

    let listed: Vec<User> = admin.get_ok(&users).await;
    assert_eq!(
        listed.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["admin@acme-gmbh.example.com", "grace@example.com"]
    );
    assert!(
        serde_json::to_string(&listed).unwrap().find("password").is_none(),
        "no hashes in listings"
    );

    // A viewer reads but cannot change anything.
    let _: Vec<User> = grace.get_ok(&users).await;
    expect_error(
        grace
            .post(
                &users,
                &json!({ "email": "x@example.com", "name": "X", "role": "viewer" }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Promote, rename.
    let grace_path = format!("{users}/{}", created.user.id);
    let updated: User = expect_json(
        admin
            .patch(&grace_path, &json!({ "role": "admin", "name": "Rear Admiral Hopper" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated.role, Role::Admin);
    assert_eq!(updated.name, "Rear Admiral Hopper");
    // Role changes apply to the existing session at once.
    let session: SessionInfo = grace.get_ok("/api/v1/auth/session").await;
    assert_eq!(session.user.role, Role::Admin);

    // Remove: the user's session ends immediately.
    let response = admin.delete(&grace_path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expect_error(
        grace.get("/api/v1/auth/session").await,
        StatusCode::UNAUTHORIZED,
        "session_expired",
    )
    .await;
    expect_error(admin.delete(&grace_path).await, StatusCode::NOT_FOUND, "not_found").await;
    let listed: Vec<User> = admin.get_ok(&users).await;
    assert_eq!(listed.len(), 1);
}

async fn bad_user_input_names_the_field_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Initech").await;
    let users = format!("/api/v1/tenants/{}/users", tenant.id);
    let cases = [
        (
            json!({ "email": "not an email", "name": "X", "role": "viewer" }),
            "email",
        ),
        (
            json!({ "email": "x@localhost", "name": "X", "role": "viewer" }),
            "email",
        ),
        (
            json!({ "email": "x@example.com", "name": "   ", "role": "viewer" }),
            "name",
        ),
        (
            json!({ "email": "x@example.com", "name": "X", "role": "viewer", "password": "short" }),
            "password",
        ),
    ];
    for (body, field) in cases {
        let error = expect_error(
            admin.post(&users, &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(error.field.as_deref(), Some(field), "{body}");
        assert!(error.message.starts_with(field), "{}", error.message);
    }
    // Staff roles cannot be given inside a tenant.
    let error = expect_error(
        admin
            .post(
                &users,
                &json!({ "email": "x@example.com", "name": "X", "role": "operator_admin" }),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("role"));
    // The email is taken, in any tenant.
    let error = expect_error(
        admin
            .post(
                &users,
                &json!({ "email": "ADMIN@initech.example.com", "name": "Dup", "role": "viewer" }),
            )
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("email"));
    let listed: Vec<Value> = admin.get_ok(&users).await;
    assert_eq!(listed.len(), 1, "nothing was stored: {listed:?}");
}

async fn the_last_admin_cannot_be_demoted_or_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Umbrella").await;
    let session: SessionInfo = admin.get_ok("/api/v1/auth/session").await;
    let me = format!("/api/v1/tenants/{}/users/{}", tenant.id, session.user.id);
    let error = expect_error(
        admin.patch(&me, &json!({ "role": "viewer" })).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("role"));
    expect_error(admin.delete(&me).await, StatusCode::CONFLICT, "conflict").await;
    // With a second admin, the first may step down.
    let created: CreatedUser = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/users", tenant.id),
            &json!({ "email": "second@umbrella.example.com", "name": "Second", "role": "admin" }),
        )
        .await;
    assert_eq!(created.user.role, Role::Admin);
    let updated: User = expect_json(admin.patch(&me, &json!({ "role": "viewer" })).await, StatusCode::OK).await;
    assert_eq!(updated.role, Role::Viewer);
}
