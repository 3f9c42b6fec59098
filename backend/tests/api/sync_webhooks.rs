//! CRM webhooks start runs (PRODUCT.md flow 9): a change in the HubSpot sandbox arrives at
//! Tandem's webhook URL signed with its app's secret, and the pipelines reading that object from
//! the account run at once, with the trigger `webhook`; requests that are not signed by a known
//! app, or are stale, are refused and start nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind};
use tandem_sandbox::hubspot::webhooks::sign_v3;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::api::runs::{Run, RunTrigger};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::sync::Synced;

db_tests!(hubspot_webhooks_start_the_pipelines_that_read_the_change);

/// Runs due jobs until the pipeline has `count` runs (the webhook is on its way), or panics.
async fn wait_for_runs(app: &TestApp, t: &Synced, pipeline: &Pipeline, count: usize) -> Vec<Run> {
    for _ in 0..100 {
        app.run_jobs().await;
        let runs = t.runs(pipeline).await;
        if runs.len() >= count {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the pipeline never reached {count} runs: {:?}", t.runs(pipeline).await);
}

async fn hubspot_webhooks_start_the_pipelines_that_read_the_change(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.sandbox.webhook_interval_ms = 100).await;
    let t = Synced::new(&app, "Acme Hooks", "hubspot").await;
    let from_hubspot = |name: &str| {
        json!({
            "name": name,
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
            "settings": { "trigger": { "webhooks": true, "poll_every_minutes": 60 } },
        })
    };
    let pipeline = t.create_pipeline(from_hubspot("Contacts from HubSpot")).await;
    // Another tenant's pipeline on its own account: a webhook for this account never runs it.
    let other = Synced::new(&app, "Other Hooks", "hubspot").await;
    let other_pipeline = other
        .create_pipeline(json!({
            "name": "Their contacts",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": other.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    assert_eq!(t.runs(&pipeline).await.len(), 1, "the initial run");
    assert_eq!(other.runs(&other_pipeline).await.len(), 1);

    // A change in HubSpot: its webhook starts a run that brings it to the app.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let some = hubspot
        .changes(&credential, ObjectKind::Contact, None, &["email".into()], 1)
        .await
        .unwrap();
    let crm_id = some.records[0].id.clone();
    let update = BTreeMap::from([("jobtitle".to_string(), json!("Webhook Tester"))]);
    hubspot
        .update(&credential, ObjectKind::Contact, &[(crm_id.clone(), update)])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let runs = wait_for_runs(&app, &t, &pipeline, 2).await;
    let run = &runs[0];
    assert_eq!(run.trigger, RunTrigger::Webhook, "{run:?}");
    assert_eq!((run.counts.updated, run.counts.created), (1, 0), "{run:?}");
    let stored: Value = crate::helpers::expect_json(
        t.app_get(&format!("records/contact/hubspot-{crm_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["data"]["job_title"], "Webhook Tester");
    assert_eq!(
        other.runs(&other_pipeline).await.len(),
        1,
        "the other tenant's pipeline did not run"
    );

    // Requests HubSpot did not sign are refused, and start nothing.
    let url = format!("{}/api/v1/crm-webhooks/hubspot", app.address);
    let body = json!([{ "eventId": 9, "portalId": t.connection.account_id.parse::<u64>().unwrap(),
        "subscriptionType": "contact.propertyChange", "objectId": crm_id.parse::<u64>().unwrap() }])
    .to_string();
    let http = reqwest::Client::new();
    let send = |signature: Option<String>, timestamp: i64| {
        let mut request = http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hubspot-request-timestamp", timestamp.to_string())
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header("x-hubspot-signature-v3", signature);
        }
        request.send()
    };
    let now = chrono::Utc::now().timestamp_millis();
    let forged = send(Some(sign_v3("not-the-app-secret", "POST", &url, &body, now)), now)
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let error: Value = forged.json().await.unwrap();
    assert_eq!(error["code"], "unauthenticated");
    assert!(error["message"].as_str().unwrap().contains("signature"), "{error}");
    let unsigned = send(None, now).await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let secret = app.state.crm.targets.sandbox_apps["hubspot"].client_secret.clone();
    let old = now - 10 * 60 * 1000;
    let stale = send(
        Some(sign_v3(
            secrecy::ExposeSecret::expose_secret(&secret),
            "POST",
            &url,
            &body,
            old,
        )),
        old,
    )
    .await
    .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    assert!(stale.text().await.unwrap().contains("too old"));
    app.run_jobs().await;
    assert_eq!(t.runs(&pipeline).await.len(), 2, "no run for refused requests");

    // Signed right (as HubSpot would), it is taken; a malformed body is named.
    let signed = send(
        Some(sign_v3(
            secrecy::ExposeSecret::expose_secret(&secret),
            "POST",
            &url,
            &body,
            now,
        )),
        now,
    )
    .await
    .unwrap();
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    let bad_body = "{\"not\": \"events\"}";
    let malformed = http
        .post(&url)
        .header("x-hubspot-request-timestamp", now.to_string())
        .header(
            "x-hubspot-signature-v3",
            sign_v3(
                secrecy::ExposeSecret::expose_secret(&secret),
                "POST",
                &url,
                bad_body,
                now,
            ),
        )
        .body(bad_body)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let error: Value = malformed.json().await.unwrap();
    assert_eq!(error["field"], "body", "{error}");
}
