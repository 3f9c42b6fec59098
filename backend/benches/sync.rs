//! The sync engine's figures, in one run: `cargo bench -p tandem --bench sync`.
//!
//! Everything goes through Tandem's real interfaces — the app's API key on `/api/v1/records`, an
//! admin session for connections and pipelines, the job workers of a running server — against
//! the HubSpot sandbox enforcing the limits set for it. It prints:
//!
//! 1. an initial push of 100,000 contacts to HubSpot limited to 10 requests a second: records a
//!    second against the ceiling of 1,000 (10 requests × 100 per batch), API calls per record;
//! 2. the same records sent by a naive loop of one call per record, at the same limit;
//! 3. a delta run on a 1,000,000-contact account after 100 changes: API calls and seconds;
//! 4. mapping throughput, one core, the 20-field contact mapping;
//! 5. ingest API throughput and p99 latency, on SQLite and on PostgreSQL.
//!
//! Sizes can be lowered for a quick look: `TANDEM_BENCH_CONTACTS=20000 TANDEM_BENCH_ACCOUNT=100000`.
//! PostgreSQL is used at `TANDEM_BENCH_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! in a database the bench creates and drops; without one that part is skipped, saying so.

mod support;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{PgDatabase, Server, Tenant, env_usize};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind};
use tandem::mapping::{Mapping, bench as fixtures, content_hash};

/// HubSpot's batch maximum, and the limit the bench gives the sandbox.
const BATCH: usize = 100;
const REQUESTS_PER_SECOND: f64 = 10.0;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

async fn run() {
    let contacts = env_usize("TANDEM_BENCH_CONTACTS", 100_000);
    let account_size = env_usize("TANDEM_BENCH_ACCOUNT", 1_000_000);
    println!(
        "Tandem sync benchmark ({} build)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );

    let server = Server::start(None).await;
    initial_push(&server, contacts).await;
    naive_loop(&server).await;
    delta_run(&server, account_size).await;
    mapping_throughput();
    ingest(&server, "SQLite").await;
    drop(server);

    let admin_url =
        std::env::var("TANDEM_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    match PgDatabase::create(&admin_url).await {
        Ok(database) => {
            let server = Server::start(Some(database.url.clone())).await;
            ingest(&server, "PostgreSQL").await;
            drop(server);
            database.drop().await;
        }
        Err(error) => println!("\n5b. ingest on PostgreSQL: SKIPPED, no PostgreSQL at {admin_url}: {error}"),
    }
}

fn contact(i: usize, tag: &str) -> Value {
    json!({ "external_id": format!("{tag}-{i}"), "data": {
        "first_name": format!("Bench{i}"), "last_name": format!("{tag}{i}"),
        "email": format!("bench{i}.{tag}@bench.example"),
        "phone": format!("030 {:08}", i),
        "status": if i.is_multiple_of(3) { "customer" } else { "lead" },
    }})
}

/// Limits the HubSpot sandbox account to 10 requests a second, and Tandem's connection to match.
async fn limit_to_ten_a_second(server: &Server, tenant: &Tenant) {
    server
        .control(
            reqwest::Method::PUT,
            &format!("/hubspot/accounts/{}/limits", tenant.account),
            json!({ "per_window": (REQUESTS_PER_SECOND * 10.0) as u32, "window_ms": 10_000, "daily": 0 }),
        )
        .await;
    server
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/v1/tenants/{}/connections/{}", tenant.id, tenant.connection_id),
            json!({ "requests_per_second": REQUESTS_PER_SECOND }),
        )
        .await;
}

async fn initial_push(server: &Server, contacts: usize) {
    println!("\n1. initial push of {contacts} contacts to the HubSpot sandbox at {REQUESTS_PER_SECOND} requests/s");
    let tenant = server.tenant("Bench Push").await;
    limit_to_ten_a_second(server, &tenant).await;
    let started = Instant::now();
    for chunk in (0..contacts).collect::<Vec<_>>().chunks(500) {
        server
            .push(&tenant, chunk.iter().map(|i| contact(*i, "push")).collect())
            .await;
    }
    println!("   pushed into Tandem in {:.1?}", started.elapsed());
    let started = Instant::now();
    let pipeline = server
        .pipeline(
            &tenant,
            json!({
                "name": "Contacts to HubSpot", "environment": "sandbox", "object": "contact",
                "source": { "kind": "app" },
                "target": { "kind": "connection", "connection_id": tenant.connection_id },
                "direction": "one_way",
                "settings": { "matching": { "fuzzy_threshold": null } },
            }),
        )
        .await;
    let run = server.finished_run(&tenant, &pipeline, "initial").await;
    let seconds = started.elapsed().as_secs_f64();
    let created = run["counts"]["created"].as_u64().unwrap_or(0);
    let calls = run["api_calls"].as_u64().unwrap_or(0);
    let ceiling = REQUESTS_PER_SECOND * BATCH as f64;
    assert_eq!(run["status"], "succeeded", "{run}");
    println!(
        "   {created} created in {seconds:.1} s = {:.0} records/s ({:.0} % of the {ceiling:.0} records/s ceiling); \
         {calls} API calls = {:.4} per record; {} retries",
        created as f64 / seconds,
        100.0 * created as f64 / seconds / ceiling,
        calls as f64 / created.max(1) as f64,
        run["retries"],
    );
}

async fn naive_loop(server: &Server) {
    const RECORDS: usize = 200;
    println!("\n2. the same with a naive loop: one create call per record, at {REQUESTS_PER_SECOND} requests/s");
    let tenant = server.tenant("Bench Naive").await;
    limit_to_ten_a_second(server, &tenant).await;
    let token = server
        .control(
            reqwest::Method::POST,
            &format!("/hubspot/accounts/{}/tokens/static", tenant.account),
            Value::Null,
        )
        .await;
    let credential = server.sandbox_credential(&tenant.account, token["access_token"].as_str().unwrap_or_default());
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    // Spaced as Tandem spaces its own requests (3 % under the limit), so that both meet the
    // same ceiling.
    let pace = Duration::from_secs_f64(1.0 / (REQUESTS_PER_SECOND * 0.97));
    let started = Instant::now();
    let mut calls = 0;
    for i in 0..RECORDS {
        let due = started + pace * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let fields = BTreeMap::from([
            ("email".to_string(), json!(format!("naive{i}@bench.example"))),
            ("firstname".to_string(), json!(format!("Naive{i}"))),
        ]);
        calls += 1;
        hubspot
            .create(&credential, ObjectKind::Contact, &[fields])
            .await
            .expect("a create")
            .remove(0)
            .expect("created");
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = RECORDS as f64 / seconds;
    println!(
        "   {RECORDS} records in {seconds:.1} s = {rate:.1} records/s, {:.2} API calls per record; \
         100,000 records would take {:.1} hours",
        calls as f64 / RECORDS as f64,
        100_000.0 / rate / 3600.0
    );
}

async fn delta_run(server: &Server, account_size: usize) {
    println!("\n3. delta run on a {account_size}-contact HubSpot account after 100 changes");
    let tenant = server.tenant("Bench Delta").await;
    let started = Instant::now();
    server
        .control(
            reqwest::Method::POST,
            &format!("/hubspot/accounts/{}/generate", tenant.account),
            json!({ "contacts": account_size }),
        )
        .await;
    println!("   account generated in {:.1?}", started.elapsed());
    // From HubSpot to the app, reading changes from now on (the initial load is what section 1
    // measures); the poll runs when asked.
    let pipeline = server
        .pipeline(
            &tenant,
            json!({
                "name": "Contacts from HubSpot", "environment": "sandbox", "object": "contact",
                "source": { "kind": "connection", "connection_id": tenant.connection_id },
                "target": { "kind": "app" },
                "direction": "one_way",
                "settings": { "initial_load": "changes_only", "trigger": { "poll_every_minutes": 60, "webhooks": false } },
            }),
        )
        .await;
    let first = server.finished_run(&tenant, &pipeline, "initial").await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let token = server
        .control(
            reqwest::Method::POST,
            &format!("/hubspot/accounts/{}/tokens/static", tenant.account),
            Value::Null,
        )
        .await;
    let credential = server.sandbox_credential(&tenant.account, token["access_token"].as_str().unwrap_or_default());
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    // 100 of the generated contacts get a new job title.
    let generated = loop {
        match hubspot
            .changes(&credential, ObjectKind::Contact, None, &["email".to_string()], 200)
            .await
        {
            Err(tandem::connectors::ConnectorError::RateLimited { wait, .. }) => tokio::time::sleep(wait).await,
            other => break other.expect("contacts"),
        }
    };
    let updates: Vec<(String, BTreeMap<String, Value>)> = generated
        .records
        .iter()
        .filter(|r| {
            r.fields
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|e| e.contains("generated"))
        })
        .take(100)
        .map(|r| {
            (
                r.id.clone(),
                BTreeMap::from([("jobtitle".to_string(), json!("Changed"))]),
            )
        })
        .collect();
    assert_eq!(updates.len(), 100);
    for chunk in updates.chunks(BATCH) {
        for result in hubspot
            .update(&credential, ObjectKind::Contact, chunk)
            .await
            .expect("updates")
        {
            result.expect("updated");
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
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
    println!(
        "   {} records brought to the app in {seconds:.2} s (the run itself: {} ms), {} API calls",
        run["counts"]["created"].as_u64().unwrap_or(0) + run["counts"]["updated"].as_u64().unwrap_or(0),
        run["duration_ms"],
        run["api_calls"],
    );
}

fn mapping_throughput() {
    const RECORDS: usize = 200_000;
    println!("\n4. mapping throughput, one core, 20-field contact mapping");
    let config = fixtures::twenty_field_contact_config();
    let mapping = Mapping::new(&config);
    let samples: Vec<Value> = (0..1_000).map(fixtures::sample_contact).collect();
    let fields = mapping.target_fields();
    for sample in &samples {
        mapping.apply(sample).expect("the samples map");
    }
    let started = Instant::now();
    for i in 0..RECORDS {
        let mapped = mapping.apply(black_box(&samples[i % samples.len()])).expect("maps");
        black_box(content_hash(&mapped, fields.iter().copied()));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "   {RECORDS} records mapped and hashed in {seconds:.2} s = {:.0} records/s ({:.2} µs each)",
        RECORDS as f64 / seconds,
        seconds * 1e6 / RECORDS as f64
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn ingest(server: &Server, database: &str) {
    const SINGLE: usize = 5_000;
    const CONCURRENCY: usize = 16;
    const BATCHES: usize = 40;
    println!("\n5. ingest API on {database}");
    let tenant = Arc::new(server.tenant(&format!("Bench Ingest {database}")).await);

    // One record per request, from 16 clients at once.
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CONCURRENCY {
        let (next, tenant, http, base) = (next.clone(), tenant.clone(), server.http.clone(), server.base.clone());
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= SINGLE {
                    return latencies;
                }
                let record = contact(i, "single");
                let sent = Instant::now();
                let response = http
                    .put(format!("{base}/api/v1/records/contact/single-{i}"))
                    .bearer_auth(&tenant.key)
                    .json(&record["data"])
                    .send()
                    .await
                    .expect("a put");
                assert!(response.status().is_success(), "put: {}", response.status());
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.expect("a client"));
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "   PUT one record, {CONCURRENCY} clients: {SINGLE} in {seconds:.2} s = {:.0} requests/s; \
         p50 {:.1?}, p99 {:.1?}",
        SINGLE as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Batches of 500, one after another.
    let mut latencies = Vec::new();
    let started = Instant::now();
    for b in 0..BATCHES {
        let records = (b * 500..(b + 1) * 500).map(|i| contact(i, "batch")).collect();
        latencies.push(server.push(&tenant, records).await);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "   POST batches of 500: {} records in {seconds:.2} s = {:.0} records/s; p50 {:.1?}, p99 {:.1?} per batch",
        BATCHES * 500,
        (BATCHES * 500) as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
}
