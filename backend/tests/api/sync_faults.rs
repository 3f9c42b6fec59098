//! Reliability shown, not claimed: 10,000 contacts sync both ways (5,000 pushed by the app, 5,000
//! made in the CRM) while the CRM's sandbox fails 20 % of calls with 5xx, 10 % with 429 and drops
//! 5 % of connections. Afterwards every record is in the other system exactly once, nothing is
//! lost, and the retries are in the history. For each CRM: HubSpot (batch writes, upserts by a
//! unique property) and Pipedrive (a call a record, upserts by searching its Tandem ID field).

use std::collections::HashSet;

use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::{Credential, ObjectKind, TokenKind};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::{Callout, RunStatus};
use tandem_shared::model::AppObject;

use crate::db_tests;
use crate::helpers::{Backend, crm_records, spawn_app_with};
use crate::sync::Synced;

db_tests!(hubspot_through_faults, pipedrive_through_faults);

async fn hubspot_through_faults(backend: Backend) {
    contacts_sync_both_ways_through_faults_exactly_once(backend, "hubspot", 5_000).await;
}

/// Pipedrive writes a record a call and looks each one up first (search takes one term): at
/// 10,000 this takes longer than a test may, so 1,000 here; the 10,000 run is for when lookups
/// come in bulk (issue 15's notes).
async fn pipedrive_through_faults(backend: Backend) {
    contacts_sync_both_ways_through_faults_exactly_once(backend, "pipedrive", 500).await;
}

fn records_in(chunk: usize, total: usize) -> usize {
    (total - chunk * 500).min(500)
}

/// A credential for the tenant's sandbox account of the CRM, as a script would hold one.
async fn credential(t: &Synced, provider: &str) -> Credential {
    let token = t
        .sandbox
        .control(
            "POST",
            &format!("/{provider}/accounts/{}/tokens/static", t.account),
            Value::Null,
        )
        .await;
    Credential {
        access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
        base_url: format!("{}/{provider}/{}", t.sandbox.base, t.account),
        kind: if provider == "pipedrive" {
            TokenKind::ApiToken
        } else {
            TokenKind::OAuth
        },
    }
}

/// `each` contacts pushed by the app and `each` made in the CRM.
async fn contacts_sync_both_ways_through_faults_exactly_once(backend: Backend, provider: &str, each: usize) {
    let (from_app, from_crm) = (each, each);
    let app = spawn_app_with(backend, |settings| {
        // Enough attempts that a call failing 35 % of the time almost never runs out of them.
        settings.sync.retry_attempts = 12;
    })
    .await;
    let t = Synced::new(&app, "Acme Faults", provider).await;
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
            &format!("/{provider}/accounts/{}/limits", t.account),
            json!({ "per_window": 0, "window_ms": 10000, "daily": 0, "search": { "per_window": 0, "window_ms": 1000 } }),
        )
        .await;
    t.sandbox
        .control(
            "POST",
            &format!("/{provider}/accounts/{}/generate", t.account),
            json!({ "contacts": from_crm }),
        )
        .await;
    for chunk in 0..from_app.div_ceil(500) {
        let records: Vec<Value> = (chunk * 500..((chunk + 1) * 500).min(from_app))
            .map(|i| {
                json!({ "external_id": format!("app-{i}"), "data": {
                    "first_name": format!("App{i}"), "last_name": format!("Faulty{i}"),
                    "email": format!("app{i}@faults.example"),
                }})
            })
            .collect();
        let pushed = t.push("contact", Value::Array(records)).await;
        assert_eq!(pushed["created"], records_in(chunk, from_app));
    }
    t.sandbox
        .control(
            "PUT",
            &format!("/{provider}/accounts/{}/faults", t.account),
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
            &format!("/{provider}/accounts/{}/faults", t.account),
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
    println!(
        "{provider}: {} contacts both ways through faults: {calls} API calls, {retries} of them retries",
        from_app + from_crm
    );

    // The CRM holds each app contact exactly once, under Tandem's key.
    let credential = credential(&t, provider).await;
    let connector = app.state.crm.connectors.get(provider).unwrap();
    let key = connector
        .prepare_sync_key(&credential, ObjectKind::Contact)
        .await
        .unwrap();
    let records = crm_records(&*connector, &credential, ObjectKind::Contact, &["email", &key]).await;
    let seen: std::collections::BTreeMap<String, Option<String>> = records
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                r.fields.get(&key).and_then(Value::as_str).map(str::to_string),
            )
        })
        .collect();
    let total = seen.len();
    let keys: Vec<&String> = seen.values().flatten().collect();
    let unique: HashSet<&String> = keys.iter().copied().collect();
    assert_eq!(keys.len(), from_app, "every app contact in the CRM");
    assert_eq!(unique.len(), from_app, "and none twice");
    let summary = t
        .sandbox
        .control("GET", &format!("/{provider}/accounts/{}", t.account), Value::Null)
        .await;
    // The sample data each sandbox account starts with.
    let seeded = if provider == "pipedrive" { 20 } else { 24 };
    assert_eq!(total, seeded + from_crm + from_app, "{summary}");

    // The app holds each CRM contact exactly once (its id is derived from the CRM's).
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
    // Records that failed were replayed above until none was left open.
    let open: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?limit=500")).await;
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(live as usize, from_app + from_crm + seeded, "{runs:?}");
}
