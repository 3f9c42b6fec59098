//! Two things a person settles: a failed record ignored with a reason (kept, audited, no longer
//! open), and a grant revoked at the CRM, which pauses the connection's pipelines as *needs
//! re-auth* with an alert, until the connection is authorized again.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem::repo::now_ms;
use tandem_shared::api::audit::AuditPage;
use tandem_shared::api::failed_records::{FailedRecord, FailedRecordStatus};
use tandem_shared::api::pipelines::{Pipeline, PipelineStatus};
use tandem_shared::api::runs::RunStatus;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, spawn_app};
use crate::sync::Synced;

db_tests!(ignored_records_keep_their_reason_and_a_revoked_grant_pauses_the_pipelines);

async fn ignored_records_keep_their_reason_and_a_revoked_grant_pauses_the_pipelines(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Reauth", "hubspot").await;
    t.push(
        "contact",
        json!([
            { "external_id": "ok-1", "data": { "email": "ok1@reauth.example" } },
            { "external_id": "bad-1", "data": { "email": "bad1@reauth.example", "phone": "call me" } },
        ]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts to HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    assert_eq!(t.last_run(&pipeline).await.counts.failed, 1);

    // Ignoring needs a reason; with one, the record is set aside and the audit log says who.
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    let ignore = t.path("failed-records/ignore");
    let refused = t
        .admin
        .request(
            Method::POST,
            &ignore,
            Some(&json!({ "ids": [failed[0].id], "reason": " " })),
        )
        .await;
    let error = expect_error(refused, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(error.field.as_deref(), Some("reason"), "{error:?}");
    let acted: Value = t
        .admin
        .post_ok(
            &ignore,
            &json!({ "ids": [failed[0].id], "reason": "test data, not a customer" }),
        )
        .await;
    assert_eq!(acted["count"], 1);
    let open: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert!(open.is_empty(), "{open:?}");
    let ignored: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?status=ignored")).await;
    assert_eq!(ignored[0].status, FailedRecordStatus::Ignored);
    assert_eq!(ignored[0].ignored_reason.as_deref(), Some("test data, not a customer"));
    let audit: AuditPage = t.admin.get_ok(&t.path("audit")).await;
    assert!(
        audit.entries.iter().any(|e| e.action == "failed_records.ignored"),
        "{:?}",
        audit.entries.iter().map(|e| &e.action).collect::<Vec<_>>()
    );

    // The customer uninstalls the app in HubSpot; the access token runs out.
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/tokens/revoke", t.account),
            Value::Null,
        )
        .await;
    sqlx::query("UPDATE connections SET access_expires_at = $1")
        .bind(now_ms())
        .execute(app.db().pool())
        .await
        .unwrap();
    t.push(
        "contact",
        json!([{ "external_id": "ok-2", "data": { "email": "ok2@reauth.example" } }]),
    )
    .await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let paused: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    assert_eq!(paused.status, PipelineStatus::NeedsReauth, "{paused:?}");
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    assert!(alerts.iter().any(|a| a["kind"] == "needs_reauth"), "{alerts:?}");

    // It cannot be resumed or run until the connection is authorized again.
    let resume = t
        .admin
        .request(
            Method::PATCH,
            &t.path(&format!("pipelines/{}", pipeline.id)),
            Some(&json!({ "status": "active" })),
        )
        .await;
    let error = expect_error(resume, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(error.field.as_deref(), Some("status"));
    let run = t
        .admin
        .request(
            Method::POST,
            &t.path(&format!("pipelines/{}/run", pipeline.id)),
            Some(&json!({})),
        )
        .await;
    assert_eq!(run.status(), StatusCode::CONFLICT);
}
