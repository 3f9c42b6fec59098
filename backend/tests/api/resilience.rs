//! Work survives (SYNC-DESIGN.md, "Work, leases and fairness"): a `tandem serve` killed with
//! SIGKILL in the middle of a two-way run resumes after a restart and ends with every record
//! exactly once on the other side; two instances sharing one PostgreSQL database share the work
//! and end the same way. Both use sandbox CRMs in a process of their own (`tandem sandbox all`),
//! which outlive Tandem's restarts as a real CRM would.

use std::collections::{BTreeMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{ChangeCursor, Connector, ConnectorError, ObjectKind};
use tandem::repo::Db;
use tandem_shared::api::api_keys::CreatedApiKey;
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::api::runs::{Run, RunStatus};
use tandem_shared::api::tenants::{EnvironmentKind, Tenant};
use tandem_shared::model::AppObject;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::db_tests;
use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Client, SandboxServer, TestDatabase, connect_sandbox, postgres_available,
    spawn_sandbox, test_settings,
};

db_tests!(a_server_killed_mid_run_resumes_and_nothing_is_lost_or_doubled);

const FROM_APP: usize = 2_000;
const FROM_HUBSPOT: usize = 2_000;
/// The sandbox account's own sample contacts.
const SEEDED: usize = 24;

/// A child process, killed when dropped; what it prints is read until the line that starts
/// with `ready`, then drained so it never blocks on a full pipe.
struct Process {
    child: Child,
    /// The URL printed on the ready line.
    url: String,
}

async fn start(args: &[&str], env: &[(String, String)], ready: &str) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix(ready) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("`tandem {}` ended before saying {ready:?}", args.join(" "));
    })
    .await
    .expect("the process started in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Process { child, url }
}

/// `tandem serve` on a random port, with the given database and data directory, sandbox CRMs at
/// `sandbox`, job leases short enough that a killed process's job is taken over in seconds.
async fn serve(database_url: &str, data_dir: &std::path::Path, sandbox: &str) -> Process {
    let env: Vec<(String, String)> = [
        ("TANDEM_DATABASE_URL", database_url.to_string()),
        ("TANDEM_DATA_DIR", data_dir.display().to_string()),
        ("TANDEM_SERVER__PORT", "0".into()),
        ("TANDEM_SERVER__UI_DIR", "/nonexistent-ui".into()),
        ("TANDEM_BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("TANDEM_BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("TANDEM_SANDBOX__URL", sandbox.to_string()),
        ("TANDEM_SANDBOX__APP_SECRET", "resilience-test-app-secret".into()),
        ("TANDEM_SYNC__LEASE_MS", "2000".into()),
        ("TANDEM_SYNC__SLICE_MS", "2000".into()),
        ("TANDEM_SYNC__SCHEDULER_INTERVAL_MS", "500".into()),
        ("TANDEM_SYNC__LOOKBACK_MS", "0".into()),
        ("TANDEM_LOG__FORMAT", "json".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    start(&["serve"], &env, "Tandem is running at ").await
}

/// A tenant with HubSpot connected, contacts on both sides, and a two-way contact pipeline.
struct Scenario {
    admin: Client,
    tenant: Tenant,
    account: String,
    pipeline: Pipeline,
}

async fn logged_in(base: &str) -> Client {
    let mut admin = Client {
        http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
        base: base.to_string(),
        csrf: None,
    };
    admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    admin
}

async fn prepare(base: &str, sandbox: &SandboxServer, name: &str) -> Scenario {
    let admin = logged_in(base).await;
    let tenant: Tenant = admin.post_ok("/api/v1/tenants", &json!({ "name": name })).await;
    let connection = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let account = format!("{}-sandbox", tenant.slug);
    let key: CreatedApiKey = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/api-keys", tenant.id),
            &json!({ "name": "app", "environment": "sandbox" }),
        )
        .await;
    sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{account}/generate"),
            json!({ "contacts": FROM_HUBSPOT }),
        )
        .await;
    let http = reqwest::Client::new();
    for chunk in 0..FROM_APP / 500 {
        let records: Vec<Value> = (chunk * 500..(chunk + 1) * 500)
            .map(|i| {
                json!({ "external_id": format!("app-{i}"), "data": {
                    "first_name": format!("Kept{i}"), "last_name": format!("Safe{i}"),
                    "email": format!("kept{i}@{}.example", tenant.slug),
                }})
            })
            .collect();
        let response = http
            .post(format!("{base}/api/v1/records/contact/batch"))
            .bearer_auth(&key.secret)
            .json(&json!({ "records": records }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    }
    // Slow calls, so that a run lasts long enough to be interrupted.
    sandbox
        .control(
            "PUT",
            &format!("/hubspot/accounts/{account}/faults"),
            json!({ "seed": 3, "latency_ms": [20, 60] }),
        )
        .await;
    let pipeline: Pipeline = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/pipelines", tenant.id),
            &json!({
                "name": "Contacts both ways",
                "environment": "sandbox",
                "object": "contact",
                "source": { "kind": "app" },
                "target": { "kind": "connection", "connection_id": connection.id },
                "direction": "two_way",
                "settings": { "matching": { "fuzzy_threshold": null }, "trigger": { "poll_every_minutes": 60 } },
            }),
        )
        .await;
    Scenario {
        admin,
        tenant,
        account,
        pipeline,
    }
}

impl Scenario {
    async fn runs(&self) -> Vec<Run> {
        self.admin
            .get_ok(&format!(
                "/api/v1/tenants/{}/pipelines/{}/runs",
                self.tenant.id, self.pipeline.id
            ))
            .await
    }

    /// Waits until the pipeline has a succeeded run and nothing running.
    async fn settled(&self, within: Duration) -> Vec<Run> {
        let deadline = Instant::now() + within;
        loop {
            let runs = self.runs().await;
            let running = runs.iter().any(|r| r.status == RunStatus::Running);
            if !running && runs.iter().any(|r| r.status == RunStatus::Succeeded) {
                return runs;
            }
            assert!(Instant::now() < deadline, "the pipeline did not settle: {runs:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Every app contact is in HubSpot exactly once (by Tandem's key), every HubSpot contact is
    /// in the app exactly once (its app id is derived from HubSpot's), and nothing failed.
    async fn exactly_once(&self, sandbox: &SandboxServer, db: &Db) {
        let credential = sandbox.hubspot_credential(&self.account).await;
        let hubspot = HubSpotConnector::new(reqwest::Client::new());
        let mut cursor: Option<ChangeCursor> = None;
        let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
        let fields = ["email".to_string(), "tandem_id".to_string()];
        loop {
            let page = loop {
                match hubspot
                    .changes(&credential, ObjectKind::Contact, cursor.as_ref(), &fields, 200)
                    .await
                {
                    Err(ConnectorError::RateLimited { wait, .. }) => tokio::time::sleep(wait).await,
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
        let keys: Vec<&String> = seen.values().flatten().collect();
        let unique: HashSet<&String> = keys.iter().copied().collect();
        assert_eq!(keys.len(), FROM_APP, "every app contact in HubSpot");
        assert_eq!(unique.len(), FROM_APP, "none twice");
        assert_eq!(seen.len(), SEEDED + FROM_HUBSPOT + FROM_APP, "nothing else was created");

        let environment = tandem::repo::environments::get_by_kind(db.pool(), self.tenant.id, EnvironmentKind::Sandbox)
            .await
            .unwrap()
            .unwrap();
        let live = tandem::repo::app_records::count_live(db.pool(), environment.id, AppObject::Contact)
            .await
            .unwrap();
        assert_eq!(
            live as usize,
            FROM_APP + FROM_HUBSPOT + SEEDED,
            "every HubSpot contact once in the app"
        );
        let failed: Vec<FailedRecord> = self
            .admin
            .get_ok(&format!("/api/v1/tenants/{}/failed-records", self.tenant.id))
            .await;
        assert!(failed.is_empty(), "{failed:?}");
    }
}

async fn sandbox_process() -> (Process, SandboxServer) {
    let process = start(&["sandbox", "all", "--port", "0"], &[], "Sandbox CRMs at ").await;
    let server = SandboxServer {
        base: process.url.clone(),
    };
    (process, server)
}

async fn a_server_killed_mid_run_resumes_and_nothing_is_lost_or_doubled(backend: Backend) {
    let data_dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, data_dir.path()).await;
    let (_sandbox_process, sandbox) = sandbox_process().await;
    let mut first = serve(&database.url, data_dir.path(), &sandbox.base).await;
    let scenario = prepare(&first.url, &sandbox, "Acme Crash").await;

    // Kill the server with SIGKILL once the run has done part of its work.
    let deadline = Instant::now() + Duration::from_secs(60);
    let interrupted = loop {
        let runs = scenario.runs().await;
        if let Some(run) = runs.first()
            && run.status == RunStatus::Running
            && run.progress.done >= 400
        {
            break run.clone();
        }
        assert!(Instant::now() < deadline, "the run never got going: {runs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    assert!(
        interrupted.progress.done < (FROM_APP + FROM_HUBSPOT) as i64,
        "killed mid-run: {interrupted:?}"
    );

    // The same database and data directory (its master key) on a new process.
    let second = serve(&database.url, data_dir.path(), &sandbox.base).await;
    let scenario = Scenario {
        admin: logged_in(&second.url).await,
        ..scenario
    };
    let runs = scenario.settled(Duration::from_secs(150)).await;
    let resumed = runs.iter().find(|r| r.id == interrupted.id).unwrap();
    assert_eq!(
        resumed.status,
        RunStatus::Succeeded,
        "the interrupted run resumed: {runs:?}"
    );
    assert!(resumed.progress.done >= interrupted.progress.done, "{resumed:?}");
    let db = Db::connect(&SecretString::from(database.url.clone()), 2).await.unwrap();
    scenario.exactly_once(&sandbox, &db).await;
    println!(
        "killed at {} records; after the restart the run finished: {:?} in {} API calls ({} retries)",
        interrupted.progress.done, resumed.counts, resumed.api_calls, resumed.retries
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_share_the_work_and_sync_each_record_once() {
    if !postgres_available().await {
        return;
    }
    crate::helpers::init_log_capture();
    let data_dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, data_dir.path()).await;
    let sandbox = spawn_sandbox().await;
    // Both instances share the data directory, and so the master key file the first one writes.
    let instance = || {
        let mut settings = test_settings(data_dir.path(), &database.url);
        settings.sync.workers = true;
        settings.sync.concurrency = 2;
        settings.sync.scheduler_interval_ms = 300;
        settings.sync.slice_ms = 1_500;
        settings.sandbox.url = Some(sandbox.base.clone());
        settings.sandbox.app_secret = Some(SecretString::from("two-instances-app-secret"));
        settings
    };
    let mut bases = Vec::new();
    for _ in 0..2 {
        let application = tandem::startup::Application::build(instance()).await.unwrap();
        bases.push(format!("http://127.0.0.1:{}", application.port()));
        tokio::spawn(application.run_until_stopped());
    }
    // Three tenants, so that both instances have runs to take. Connected through the instance
    // that registered Tandem's app last (its callback is the one the sandbox knows).
    let mut scenarios = Vec::new();
    for name in ["Acme One", "Acme Two", "Acme Three"] {
        scenarios.push(prepare(&bases[1], &sandbox, name).await);
    }
    for scenario in &scenarios {
        scenario.settled(Duration::from_secs(150)).await;
    }
    let db = Db::connect(&SecretString::from(database.url.clone()), 2).await.unwrap();
    for scenario in &scenarios {
        scenario.exactly_once(&sandbox, &db).await;
    }
    // Both instances ran slices of the runs: the log lines of the engine carry the worker's id.
    let workers: HashSet<String> = crate::helpers::captured_logs()
        .lines()
        .filter(|line| line.contains("run started") || line.contains("the run goes on in a next slice"))
        .filter_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            value["spans"]
                .as_array()?
                .iter()
                .find_map(|span| span["worker.id"].as_str().map(str::to_string))
        })
        .collect();
    println!("sync slices ran on workers {workers:?}");
    assert!(workers.len() >= 2, "both instances took work: {workers:?}");
}
