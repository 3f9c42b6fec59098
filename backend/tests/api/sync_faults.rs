//! Reliability shown, not claimed: 10,000 contacts sync both ways (5,000 pushed by the app, 5,000
//! made in HubSpot) while the HubSpot sandbox fails 20 % of calls with 5xx, 10 % with 429 and drops
//! 5 % of connections. Afterwards every record is in the other system exactly once, nothing is
//! lost, and the retries are in the history.

use std::collections::HashSet;

use serde_json::{Value, json};
use tandem::connectors::Connector;
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{ChangeCursor, ObjectKind};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::{Callout, RunStatus};
use tandem_shared::model::AppObject;

use crate::db_tests;
use crate::helpers::{Backend, spawn_app_with};
use crate::sync::Synced;

db_tests!(ten_thousand_contacts_sync_both_ways_through_faults_exactly_once);

const FROM_APP: usize = 5_000;
const FROM_HUBSPOT: usize = 5_000;

async fn ten_thousand_contacts_sync_both_ways_through_faults_exactly_once(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        // Enough attempts that a call failing 35 % of the time almost never runs out of them.
        settings.sync.retry_attempts = 12;
    })
    .await;
    let t = Synced::new(&app, "Acme Faults", "hubspot").await;
    // The sandbox's own windows (its search limit too) would only add waiting: this test is
    // about faults.
    let overrides = tandem::repo::connections::LimitOverrides {
        requests_per_second: Some(500.0),
        search_requests_per_second: Some(100.0),
        ..Default::default()
    };
    tandem::repo::connections::set_limit_overrides(app.db().pool(), t.tenant.id, t.connection.id, overrides)
        .await
        .unwrap();
    t.sandbox
        .control(
            "PUT",
            &format!("/hubspot/accounts/{}/limits", t.account),
            json!({ "per_window": 0, "window_ms": 10000, "daily": 0, "search": { "per_window": 0, "window_ms": 1000 } }),
        )
        .await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": FROM_HUBSPOT }),
        )
        .await;
    for chunk in 0..FROM_APP / 500 {
        let records: Vec<Value> = (chunk * 500..(chunk + 1) * 500)
            .map(|i| {
                json!({ "external_id": format!("app-{i}"), "data": {
                    "first_name": format!("App{i}"), "last_name": format!("Faulty{i}"),
                    "email": format!("app{i}@faults.example"),
                }})
            })
            .collect();
        let pushed = t.push("contact", Value::Array(records)).await;
        assert_eq!(pushed["created"], 500);
    }
    t.sandbox
        .control(
            "PUT",
            &format!("/hubspot/accounts/{}/faults", t.account),
            json!({ "seed": 42, "error_rates": { "500": 0.1, "502": 0.05, "503": 0.05, "429": 0.1 }, "drop_rate": 0.05 }),
        )
        .await;

    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts both ways",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
        }))
        .await;
    app.run_jobs().await;
    // Whatever ran out of attempts is a failed record, not lost: replay it until nothing is left.
    for _ in 0..5 {
        let open: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?limit=500")).await;
        if open.is_empty() {
            break;
        }
        assert!(open.iter().all(|f| f.reason.kind == "retries_exhausted"), "{open:?}");
        t.admin
            .post_ok::<Value>(
                &t.path("failed-records/replay"),
                &json!({ "error_kind": "retries_exhausted" }),
            )
            .await;
        app.run_jobs().await;
    }
    t.sandbox
        .control(
            "DELETE",
            &format!("/hubspot/accounts/{}/faults", t.account),
            Value::Null,
        )
        .await;

    let runs = t.runs(&pipeline).await;
    for run in &runs {
        println!(
            "run {:?}: {:?} in {:?} ms, {} calls, {} retries",
            run.trigger, run.counts, run.duration_ms, run.api_calls, run.retries
        );
    }
    assert!(runs.iter().all(|r| r.status == RunStatus::Succeeded), "{runs:?}");
    let retries: i64 = runs.iter().map(|r| r.retries).sum();
    let calls: i64 = runs.iter().map(|r| r.api_calls).sum();
    assert!(retries > 0, "the faults made retries: {runs:?}");
    let callouts: Vec<Callout> = t
        .admin
        .get_ok(&t.path(&format!("runs/{}/callouts?limit=500", runs.last().unwrap().id)))
        .await;
    let statuses: HashSet<Option<u16>> = callouts.iter().map(|c| c.status).collect();
    for fault in [Some(500), Some(429), None] {
        assert!(
            statuses.contains(&fault),
            "{fault:?} is in the callout history: {statuses:?}"
        );
    }
    assert!(callouts.iter().any(|c| c.attempt > 1));
    println!("10,000 contacts both ways through faults: {calls} API calls, {retries} of them retries");

    // HubSpot holds each app contact exactly once, under Tandem's key.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    // Change pages may repeat a record at their edges: collect by HubSpot id.
    let mut cursor: Option<ChangeCursor> = None;
    let mut seen: std::collections::BTreeMap<String, Option<String>> = Default::default();
    loop {
        let fields = ["email".to_string(), "tandem_id".to_string()];
        let page = loop {
            // Search has its own per-second limit, as in HubSpot.
            match hubspot
                .changes(&credential, ObjectKind::Contact, cursor.as_ref(), &fields, 200)
                .await
            {
                Err(tandem::connectors::ConnectorError::RateLimited { wait, .. }) => tokio::time::sleep(wait).await,
                other => break other.unwrap(),
            }
        };
        for record in &page.records {
            let key = record
                .fields
                .get("tandem_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            seen.insert(record.id.clone(), key);
        }
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let total = seen.len();
    let keys: Vec<&String> = seen.values().flatten().collect();
    let unique: HashSet<&String> = keys.iter().copied().collect();
    assert_eq!(keys.len(), FROM_APP, "every app contact in HubSpot");
    assert_eq!(unique.len(), FROM_APP, "and none twice");
    let summary = t
        .sandbox
        .control("GET", &format!("/hubspot/accounts/{}", t.account), Value::Null)
        .await;
    let seeded = 24;
    assert_eq!(total, seeded + FROM_HUBSPOT + FROM_APP, "{summary}");

    // The app holds each HubSpot contact exactly once (its id is derived from HubSpot's).
    let environment = tandem::repo::environments::get_by_kind(
        app.db().pool(),
        t.tenant.id,
        tandem_shared::api::tenants::EnvironmentKind::Sandbox,
    )
    .await
    .unwrap()
    .unwrap();
    let live = tandem::repo::app_records::count_live(app.db().pool(), environment.id, AppObject::Contact)
        .await
        .unwrap();
    let failed_seeds = runs.iter().map(|r| r.counts.failed).sum::<i64>();
    assert_eq!(
        live as usize + failed_seeds as usize,
        FROM_APP + FROM_HUBSPOT + seeded,
        "{runs:?}"
    );
}
