//! Operator support (the admin UI issue's support flow): one search across tenants by tenant,
//! email, the app's id, the CRM's id, a run id or a failed record's id; support staff read what
//! they find and replay or ignore failed records with a reason that goes to the audit log, but
//! change no setting; tenant admins cannot search; no response support staff read holds a secret.

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::RecordEvent;
use tandem_shared::api::support::{SupportHit, SupportHitKind};

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(support_finds_across_tenants_acts_with_a_reason_and_sees_no_secret);

async fn support_finds_across_tenants_acts_with_a_reason_and_sees_no_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Initech Support", "hubspot").await;
    let other = Synced::new(&app, "Umbrella Support", "hubspot").await;
    t.push(
        "contact",
        json!([
            { "external_id": "s-good", "data": { "email": "Milton@Initech.example", "last_name": "Waddams" } },
            { "external_id": "s-bad", "data": { "email": "bob@initech.example", "last_name": "Slydell", "phone": "call me" } },
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
    let run = t.last_run(&pipeline).await;
    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/s-good")).await;
    let crm_id = history[0].target_id.clone().expect("created in HubSpot");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed.len(), 1);

    let support = app.staff("support").await;
    let search = |q: &str| {
        let path = format!("/api/v1/support/search?q={}", urlencoding(q));
        let support = &support;
        async move { support.get_ok::<Vec<SupportHit>>(&path).await }
    };
    let kinds = |hits: &[SupportHit]| hits.iter().map(|h| (h.kind, h.tenant_id)).collect::<Vec<_>>();

    let by_tenant = search("initech").await;
    assert_eq!(kinds(&by_tenant), [(SupportHitKind::Tenant, t.tenant.id)]);
    // Emails as typed in any case; the app's record, and nothing of the other tenant.
    let by_email = search("milton@initech.EXAMPLE").await;
    assert_eq!(kinds(&by_email), [(SupportHitKind::AppRecord, t.tenant.id)]);
    assert_eq!(by_email[0].record_id.as_deref(), Some("s-good"));
    let by_app_id = search("s-bad").await;
    assert!(
        by_app_id
            .iter()
            .any(|h| h.kind == SupportHitKind::FailedRecord && h.failed_record_id == Some(failed[0].id)),
        "{by_app_id:?}"
    );
    let by_crm_id = search(&crm_id).await;
    assert_eq!(kinds(&by_crm_id), [(SupportHitKind::CrmRecord, t.tenant.id)]);
    assert!(by_crm_id[0].detail.contains("s-good"), "{:?}", by_crm_id[0]);
    let by_run = search(&run.id.to_string()).await;
    assert_eq!(kinds(&by_run), [(SupportHitKind::Run, t.tenant.id)]);
    assert_eq!(by_run[0].pipeline_id, Some(pipeline.id));
    assert!(search("nobody@nowhere.example").await.is_empty());
    // Wildcards are just characters.
    assert!(search("%_%").await.is_empty());
    let short = support.get("/api/v1/support/search?q=a").await;
    let body = expect_error(short, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("q"));
    // A tenant's own admin searches nothing.
    let forbidden = t.admin.get("/api/v1/support/search?q=initech").await;
    expect_error(forbidden, StatusCode::FORBIDDEN, "forbidden").await;

    // Replaying takes a reason from support, which the audit log keeps.
    let replay_path = t.path("failed-records/replay");
    let ids = json!([failed[0].id]);
    let refused = support.post(&replay_path, &json!({ "ids": ids })).await;
    let body = expect_error(refused, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("reason"));
    let replayed = support
        .post(
            &replay_path,
            &json!({ "ids": ids, "reason": "customer fixed the number, ticket 4711" }),
        )
        .await;
    let _: Value = expect_json(replayed, StatusCode::OK).await;
    app.run_jobs().await;
    let ignored = support
        .post(
            &t.path("failed-records/ignore"),
            &json!({ "ids": ids, "reason": "test record, ticket 4712" }),
        )
        .await;
    let _: Value = expect_json(ignored, StatusCode::OK).await;
    let audit: Value = t.admin.get_ok(&t.path("audit")).await;
    let text = audit.to_string();
    assert!(text.contains("customer fixed the number, ticket 4711"), "{text}");
    assert!(text.contains("test record, ticket 4712"));

    // No setting changes: the pipeline, its mapping, a run, the connection.
    let pipeline_path = t.path(&format!("pipelines/{}", pipeline.id));
    for (method, path, body) in [
        ("PATCH", pipeline_path.clone(), json!({ "status": "paused" })),
        ("POST", format!("{pipeline_path}/run"), json!({})),
        (
            "PUT",
            format!("{pipeline_path}/mappings/forward"),
            json!({ "config": pipeline.forward_mapping.clone().unwrap().config }),
        ),
        (
            "DELETE",
            t.path(&format!("connections/{}", t.connection.id)),
            json!(null),
        ),
    ] {
        let response = support
            .request(method.parse().unwrap(), &path, (method != "DELETE").then_some(&body))
            .await;
        expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }

    // Everything support read here, and the tenant's pages, hold no secret.
    let sealed = app
        .state
        .vault
        .get(t.tenant.id, &t.connection.id.to_string(), "oauth_tokens")
        .await
        .unwrap()
        .unwrap();
    let oauth: Value = serde_json::from_str(sealed.expose_secret()).unwrap();
    let secrets = [
        t.key.clone(),
        other.key.clone(),
        oauth["access_token"].as_str().unwrap().to_string(),
        oauth["refresh_token"].as_str().unwrap().to_string(),
    ];
    let mut read = vec![
        serde_json::to_string(&by_tenant).unwrap(),
        serde_json::to_string(&by_crm_id).unwrap(),
        serde_json::to_string(&by_run).unwrap(),
    ];
    for path in [
        t.path("connections"),
        t.path(&format!("connections/{}/callouts", t.connection.id)),
        t.path("pipelines"),
        t.path(&format!("runs/{}", run.id)),
        t.path(&format!("runs/{}/callouts", run.id)),
        t.path("failed-records"),
        t.path("api-keys"),
        t.path("audit"),
        "/api/v1/audit".to_string(),
    ] {
        let response = support.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        read.push(response.text().await.unwrap());
    }
    for body in &read {
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "a secret in what support read: {body}");
        }
    }
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
