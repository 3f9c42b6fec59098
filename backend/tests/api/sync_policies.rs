//! Pipeline policies through the API: only contacts with a confirmed email sync when the pipeline
//! says so (the rest skipped with the reason), and a run whose failures pass the pipeline's
//! threshold pauses it and raises an alert — stored, listed and sent to the app's alert webhook.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::pipelines::{Pipeline, PipelineStatus};
use tandem_shared::api::runs::{RecordEvent, RecordOutcome};

use crate::db_tests;
use crate::helpers::{Backend, WebhookSink, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(confirmed_emails_only_and_a_failing_run_pauses_with_an_alert);

async fn confirmed_emails_only_and_a_failing_run_pauses_with_an_alert(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Policies", "hubspot").await;
    let sink = WebhookSink::start().await;
    expect_json::<Value>(
        t.app_post("webhooks", &json!({ "url": sink.url, "events": ["alerts"] }))
            .await,
        StatusCode::CREATED,
    )
    .await;

    // Confirmed emails only: one of three goes to HubSpot.
    t.push(
        "contact",
        json!([
            { "external_id": "c-yes", "data": { "email": "yes@policies.example", "email_confirmed": true } },
            { "external_id": "c-no", "data": { "email": "no@policies.example", "email_confirmed": false } },
            { "external_id": "c-unset", "data": { "email": "unset@policies.example" } },
        ]),
    )
    .await;
    let confirmed = t
        .create_pipeline(json!({
            "name": "Confirmed contacts",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
            "settings": { "confirmed_emails_only": true },
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&confirmed).await;
    assert_eq!((run.counts.created, run.counts.skipped), (1, 2), "{run:?}");
    for skipped in ["c-no", "c-unset"] {
        let history: Vec<RecordEvent> = t.admin.get_ok(&t.path(&format!("record-history/{skipped}"))).await;
        assert_eq!(history[0].outcome, RecordOutcome::Skipped, "{history:?}");
        assert!(
            history[0].detail.to_string().contains("email_not_confirmed"),
            "{history:?}"
        );
    }

    // A run where most records fail pauses its pipeline.
    let records: Vec<Value> = (0..12)
        .map(|i| {
            let mut data = json!({ "email": format!("p{i}@policies.example"), "last_name": format!("P{i}") });
            if i < 4 {
                data["phone"] = json!("+49 30 1234567");
            }
            json!({ "external_id": format!("p-{i}"), "data": data })
        })
        .collect();
    t.push("contact", Value::Array(records)).await;
    let strict: Pipeline = t
        .create_pipeline(json!({
            "name": "Contacts with phones",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
            "settings": { "pause_above_failure_rate": 0.5 },
            "forward_mapping": {
                "object": "contact", "direction": "app_to_crm", "email_rules": "hubspot",
                "fields": [
                    { "target": "email", "source": "email", "transforms": [{ "kind": "email" }] },
                    { "target": "lastname", "source": "last_name" },
                    { "target": "phone", "source": "phone", "required": true },
                ],
            },
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&strict).await;
    // The three pushed first have no phone either.
    assert_eq!((run.counts.created, run.counts.failed), (4, 11), "{run:?}");
    let paused: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", strict.id))).await;
    assert_eq!(paused.status, PipelineStatus::Paused);
    assert!(paused.status_reason.unwrap().contains("11 of 15"));
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    let alert = alerts.iter().find(|a| a["kind"] == "failure_rate").expect("an alert");
    assert_eq!(alert["pipeline_id"], json!(strict.id));
    // Sent to the app's alert endpoint, and a paused pipeline does not run on request.
    let received = sink.received();
    assert!(
        received
            .iter()
            .any(|d| String::from_utf8_lossy(&d.body).contains("failure_rate")),
        "{:?}",
        received
            .iter()
            .map(|d| String::from_utf8_lossy(&d.body))
            .collect::<Vec<_>>()
    );
    let refused = t
        .admin
        .request(
            reqwest::Method::POST,
            &t.path(&format!("pipelines/{}/run", strict.id)),
            Some(&json!({})),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}
