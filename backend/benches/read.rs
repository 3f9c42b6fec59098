//! Reading a CRM completely, and as fast as its limits allow: `cargo bench -p tandem --bench read`.
//!
//! Through Tandem's real interfaces, against the HubSpot sandbox enforcing HubSpot's default
//! limits (search: 5 requests a second; Tandem keeps to them as it would with the real API), for
//! 10,000 and 100,000 contacts, modified over months (`spread`) and all on one timestamp
//! (`shared`, as after an import). For each it prints:
//!
//! 1. a HubSpot → app pipeline's first run: records a second against the ceiling of the limits
//!    in force (searches a second × 200 records a page), API calls per record, and that every
//!    contact arrived;
//! 2. then 100 contacts changed in one moment and a run: API calls, seconds, all 100 delivered;
//! 3. then a reconciliation: calls, seconds, its outcome;
//! 4. once more for 10,000 spread contacts with the account's and the connection's search rate
//!    raised to 50 a second: the read's pace follows the limits in force.
//!
//! `TANDEM_BENCH_READ_SIZES=10000,100000` chooses the sizes.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};
use support::{Server, Tenant};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind};

/// HubSpot's search rate (a second) and page: the ceiling of a changed-since read.
const SEARCHES_PER_SECOND: f64 = 5.0;
const PAGE: f64 = 200.0;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let sizes: Vec<usize> = std::env::var("TANDEM_BENCH_READ_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    println!(
        "Tandem read benchmark ({} build), HubSpot's default limits: {SEARCHES_PER_SECOND} searches a second, \
         {PAGE} records a page: a ceiling of {:.0} records a second",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        SEARCHES_PER_SECOND * PAGE
    );
    let server = Server::start(None).await;
    for &size in &sizes {
        for shape in ["spread", "shared"] {
            read(&server, size, shape, None).await;
        }
    }
    read(&server, 10_000, "spread", Some(50.0)).await;
}

async fn read(server: &Server, size: usize, shape: &str, searches_per_second: Option<f64>) {
    let rate = searches_per_second.unwrap_or(SEARCHES_PER_SECOND);
    println!("\n{size} contacts, timestamps {shape}, {rate} searches a second");
    let tenant = server.tenant(&format!("Bench Read {size} {shape} {rate}")).await;
    if let Some(rate) = searches_per_second {
        server
            .control(
                reqwest::Method::PUT,
                &format!("/hubspot/accounts/{}/limits", tenant.account),
                json!({ "per_window": 0, "window_ms": 10_000, "daily": 0,
                        "search": { "per_window": rate as u32, "window_ms": 1_000 } }),
            )
            .await;
        server
            .admin(
                reqwest::Method::PATCH,
                &format!("/api/v1/tenants/{}/connections/{}", tenant.id, tenant.connection_id),
                json!({ "requests_per_second": 100, "search_requests_per_second": rate }),
            )
            .await;
    }
    server
        .control(
            reqwest::Method::POST,
            &format!("/hubspot/accounts/{}/generate", tenant.account),
            json!({ "contacts": size, "timestamps": shape }),
        )
        .await;
    let total = size + 24;
    let pipeline = server
        .pipeline(
            &tenant,
            json!({
                "name": "Contacts from HubSpot", "environment": "sandbox", "object": "contact",
                "source": { "kind": "connection", "connection_id": tenant.connection_id },
                "target": { "kind": "app" },
                "direction": "one_way",
                "settings": {
                    "trigger": { "poll_every_minutes": 600, "webhooks": false },
                    "matching": { "fuzzy_threshold": null },
                },
            }),
        )
        .await;
    let first = server.finished_run(&tenant, &pipeline, "initial").await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let created = first["counts"]["created"].as_u64().unwrap_or(0);
    assert_eq!(created as usize, total, "every contact arrived: {first}");
    let seconds = first["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0;
    let calls = first["api_calls"].as_f64().unwrap_or(0.0);
    println!(
        "   first run: {created} contacts in {seconds:.1} s = {:.0} records/s ({:.0} % of the ceiling); \
         {calls} API calls = {:.4} a record",
        created as f64 / seconds,
        created as f64 / seconds / (rate * PAGE) * 100.0,
        calls / created as f64
    );

    // 100 contacts across the account change in one moment.
    let credential = credential(server, &tenant).await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let ids = some_ids(server, &tenant, total, 100).await;
    let updates: Vec<(String, BTreeMap<String, Value>)> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                BTreeMap::from([("firstname".to_string(), json!("Changed"))]),
            )
        })
        .collect();
    for chunk in updates.chunks(100) {
        for result in hubspot
            .update(&credential, ObjectKind::Contact, chunk)
            .await
            .expect("updates")
        {
            result.expect("updated");
        }
    }
    let started = Instant::now();
    server
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/{}/pipelines/{pipeline}/run", tenant.id),
            json!({}),
        )
        .await;
    let run = server.finished_run(&tenant, &pipeline, "manual").await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(run["status"], "succeeded", "{run}");
    let updated = run["counts"]["updated"].as_u64().unwrap_or(0);
    let delivered = delivered(server, &tenant, &ids).await;
    println!(
        "   100 changes: {updated} updated, {delivered} of 100 delivered, in {seconds:.2} s (the run: {} ms), {} API calls",
        run["duration_ms"], run["api_calls"],
    );
    assert_eq!(delivered, 100, "every change delivered");

    let started = Instant::now();
    server
        .admin(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/{}/pipelines/{pipeline}/run", tenant.id),
            json!({ "reconcile": true }),
        )
        .await;
    let reconciliation = server.finished_run(&tenant, &pipeline, "reconciliation").await;
    let side = &reconciliation["reconciliation"]["sides"][0];
    println!(
        "   reconciliation: {} ({} in HubSpot, {} read; {} ranges compared, {} re-read) in {:.2} s, {} API calls",
        side["outcome"],
        side["crm_count"],
        side["seen_after"],
        side["ranges_compared"],
        side["ranges_reread"],
        started.elapsed().as_secs_f64(),
        reconciliation["api_calls"],
    );
}

async fn credential(server: &Server, tenant: &Tenant) -> tandem::connectors::Credential {
    let token = server
        .control(
            reqwest::Method::POST,
            &format!("/hubspot/accounts/{}/tokens/static", tenant.account),
            Value::Null,
        )
        .await;
    server.sandbox_credential(&tenant.account, token["access_token"].as_str().unwrap_or_default())
}

/// `count` contact ids spread over the account, as the app's change feed has them.
async fn some_ids(server: &Server, tenant: &Tenant, total: usize, count: usize) -> Vec<String> {
    let every = (total / count).max(1);
    let mut ids = Vec::new();
    let mut cursor = String::new();
    let mut seen = 0;
    loop {
        let page: Value = server
            .http
            .get(format!("{}/api/v1/changes?limit=1000&after={cursor}", server.base))
            .bearer_auth(&tenant.key)
            .send()
            .await
            .expect("the change feed")
            .json()
            .await
            .expect("a page");
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        for change in &changes {
            if seen % every == 0 && ids.len() < count {
                ids.push(change["crm_id"].as_str().unwrap_or_default().to_string());
            }
            seen += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) if !changes.is_empty() && ids.len() < count => cursor = next.to_string(),
            _ => return ids,
        }
    }
}

/// How many of the contacts reached the app with the new name.
async fn delivered(server: &Server, tenant: &Tenant, ids: &[String]) -> usize {
    let mut delivered = 0;
    for id in ids {
        let record: Value = server
            .http
            .get(format!("{}/api/v1/records/contact/hubspot-{id}", server.base))
            .bearer_auth(&tenant.key)
            .send()
            .await
            .expect("a record")
            .json()
            .await
            .unwrap_or(Value::Null);
        if record["data"]["first_name"] == "Changed" {
            delivered += 1;
        }
    }
    delivered
}
