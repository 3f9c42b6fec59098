//! The audit log records every change with who, what, which tenant and when.

use reqwest::StatusCode;
use serde_json::json;
use tandem_shared::api::audit::AuditPage;
use tandem_shared::api::users::CreatedUser;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, spawn_app};

db_tests!(
    changes_are_audited_and_readable_by_the_right_people,
    audit_pages_continue_where_they_left_off
);

async fn changes_are_audited_and_readable_by_the_right_people(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Stark Industries").await;
    let base = format!("/api/v1/tenants/{}", tenant.id);
    let created: CreatedUser = admin
        .post_ok(
            &format!("{base}/users"),
            &json!({ "email": "pepper@stark.example.com", "name": "Pepper", "role": "viewer" }),
        )
        .await;
    let key: serde_json::Value = admin
        .post_ok(
            &format!("{base}/api-keys"),
            &json!({ "name": "Jarvis", "environment": "sandbox" }),
        )
        .await;
    let secret = key["secret"].as_str().unwrap();

    let page: AuditPage = admin.get_ok(&format!("{base}/audit")).await;
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["api_key.created", "user.created", "user.created", "tenant.created"],
        "newest first"
    );
    let user_created = &page.entries[1];
    assert_eq!(user_created.actor, "admin@stark-industries.example.com");
    assert_eq!(user_created.actor_kind, "user");
    assert_eq!(user_created.tenant_id, Some(tenant.id));
    assert_eq!(
        user_created.target_id.as_deref(),
        Some(created.user.id.to_string().as_str())
    );
    assert_eq!(user_created.details["email"], "pepper@stark.example.com");
    assert!(user_created.request_id.is_some());
    assert!(
        !serde_json::to_string(&page).unwrap().contains(secret),
        "no key secrets in the log"
    );
    assert_eq!(
        page.entries[0].details["prefix"], key["key"]["prefix"],
        "the visible prefix identifies the key"
    );

    // Viewers do not read the audit log; tenant admins do not read other tenants' or the whole log.
    let viewer = app.user_in(tenant.id, "viewer").await;
    expect_error(
        viewer.get(&format!("{base}/audit")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(admin.get("/api/v1/audit").await, StatusCode::FORBIDDEN, "forbidden").await;
    expect_error(
        admin
            .get(&format!("/api/v1/tenants/{}/audit", app.demo_tenant.id))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Operator staff read everything, including what happened outside any tenant.
    let support = app.staff("support").await;
    let everything: AuditPage = support.get_ok("/api/v1/audit?limit=200").await;
    assert!(
        everything
            .entries
            .iter()
            .any(|e| e.tenant_id == Some(tenant.id) && e.action == "api_key.created")
    );
    assert!(
        everything
            .entries
            .iter()
            .any(|e| e.tenant_id == Some(app.demo_tenant.id))
    );
    assert!(
        everything
            .entries
            .iter()
            .any(|e| e.tenant_id.is_none() && e.action == "user.created"),
        "staff creation"
    );
    let theirs: AuditPage = support.get_ok(&format!("{base}/audit")).await;
    assert_eq!(theirs.entries.len(), 5, "the four above and the viewer added since");
}

async fn audit_pages_continue_where_they_left_off(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Wayne Enterprises").await;
    let base = format!("/api/v1/tenants/{}", tenant.id);
    for i in 0..5 {
        let _: serde_json::Value = admin
            .post_ok(
                &format!("{base}/api-keys"),
                &json!({ "name": format!("key {i}"), "environment": "sandbox" }),
            )
            .await;
    }
    // 2 (tenant, admin) + 5 keys = 7 entries, read 3 at a time.
    let mut seen = Vec::new();
    let mut path = format!("{base}/audit?limit=3");
    loop {
        let page: AuditPage = admin.get_ok(&path).await;
        seen.extend(page.entries.iter().map(|e| e.id));
        match page.next_before {
            Some(before) => path = format!("{base}/audit?limit=3&before={before}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort_by_key(|id| std::cmp::Reverse(id.to_string()));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, no repeats");
}
