//! The sync engine through its real interfaces: the app pushes records with its API key, an admin
//! creates a pipeline over HTTP, the run's jobs go to the sandbox CRM, and history shows what
//! happened to each record.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::Connector;
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Credential, ObjectKind};
use tandem_shared::api::api_keys::CreatedApiKey;
use tandem_shared::api::connections::Connection;
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::api::runs::{Callout, DailyCounts, RecordEvent, RecordOutcome, Run, RunStatus, RunTrigger};
use tandem_shared::api::tenants::Tenant;

use crate::db_tests;
use crate::helpers::{Backend, Client, SandboxServer, TestApp, WebhookSink, connect_sandbox, expect_json, spawn_app};

db_tests!(
    app_contacts_reach_hubspot_once_and_unchanged_pushes_cost_nothing,
    bad_records_fail_with_their_reason_and_replay_after_a_fix,
    crm_changes_reach_the_app_by_feed_and_signed_webhooks
);

/// A tenant with a connected HubSpot sandbox account and an app key, ready to sync.
pub struct Synced {
    pub tenant: Tenant,
    pub admin: Client,
    pub connection: Connection,
    pub key: String,
    pub sandbox: SandboxServer,
    pub account: String,
    http: reqwest::Client,
    base: String,
}

impl Synced {
    pub async fn new(app: &TestApp, name: &str, provider: &str) -> Synced {
        let (tenant, admin) = app.tenant_with_admin(name).await;
        let connection = connect_sandbox(&admin, tenant.id, provider, "sandbox").await;
        let key: CreatedApiKey = admin
            .post_ok(
                &format!("/api/v1/tenants/{}/api-keys", tenant.id),
                &json!({ "name": "app", "environment": "sandbox" }),
            )
            .await;
        Synced {
            account: format!("{}-sandbox", tenant.slug),
            tenant,
            admin,
            connection,
            key: key.secret,
            sandbox: SandboxServer {
                base: format!("{}/sandbox", app.address),
            },
            http: reqwest::Client::new(),
            base: app.address.clone(),
        }
    }

    pub async fn push(&self, object: &str, records: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v1/records/{object}/batch", self.base))
            .bearer_auth(&self.key)
            .json(&json!({ "records": records }))
            .send()
            .await
            .unwrap();
        expect_json(response, StatusCode::OK).await
    }

    pub async fn create_pipeline(&self, body: Value) -> Pipeline {
        let response = self
            .admin
            .post(&format!("/api/v1/tenants/{}/pipelines", self.tenant.id), &body)
            .await;
        expect_json(response, StatusCode::CREATED).await
    }

    pub async fn runs(&self, pipeline: &Pipeline) -> Vec<Run> {
        self.admin
            .get_ok(&format!(
                "/api/v1/tenants/{}/pipelines/{}/runs",
                self.tenant.id, pipeline.id
            ))
            .await
    }

    pub async fn last_run(&self, pipeline: &Pipeline) -> Run {
        self.runs(pipeline).await.into_iter().next().expect("a run")
    }

    pub async fn run_now(&self, pipeline: &Pipeline) {
        let response = self
            .admin
            .post(
                &format!("/api/v1/tenants/{}/pipelines/{}/run", self.tenant.id, pipeline.id),
                &json!({}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{}",
            response.text().await.unwrap()
        );
    }

    pub async fn hubspot(&self) -> Credential {
        self.sandbox.hubspot_credential(&self.account).await
    }

    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/tenants/{}/{rest}", self.tenant.id)
    }
}

fn contacts(range: std::ops::Range<usize>, tag: &str) -> Value {
    Value::Array(
        range
            .map(|i| {
                json!({
                    "external_id": format!("app-{i}"),
                    "data": {
                        "first_name": format!("Person{i}"),
                        "last_name": format!("{tag}{i}"),
                        "email": format!("person{i}.{tag}@tandem-test.example"),
                        "phone": format!("030 1234 {:04}", i),
                        "status": if i % 2 == 0 { "customer" } else { "lead" },
                    }
                })
            })
            .collect(),
    )
}

async fn app_contacts_reach_hubspot_once_and_unchanged_pushes_cost_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Sync", "hubspot").await;
    let pushed = t.push("contact", contacts(0..30, "once")).await;
    assert_eq!(pushed["created"], 30);

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
    assert_eq!(
        pipeline
            .forward_mapping
            .as_ref()
            .expect("the suggested mapping")
            .version,
        1
    );

    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.trigger, RunTrigger::Initial);
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!((run.counts.created, run.counts.failed), (30, 0), "{run:?}");
    assert_eq!(run.progress.total, Some(30));
    // The history chart's days: today holds the run, the days before are zeros.
    let daily: Vec<DailyCounts> = t
        .admin
        .get_ok(&t.path(&format!("pipelines/{}/daily?days=7", pipeline.id)))
        .await;
    assert_eq!(daily.len(), 7);
    let run_day = run.started_at.format("%Y-%m-%d").to_string();
    let of_run = daily.iter().find(|d| d.day == run_day).expect("the run's day");
    assert_eq!((of_run.synced, of_run.failed, of_run.runs), (30, 0, 1));
    assert_eq!(daily.iter().map(|d| d.runs).sum::<i64>(), 1);
    let response = t
        .admin
        .get(&t.path(&format!("pipelines/{}/daily?days=91", pipeline.id)))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        run.api_calls <= 6,
        "30 contacts in a handful of calls, not {}",
        run.api_calls
    );
    let callouts: Vec<Callout> = t.admin.get_ok(&t.path(&format!("runs/{}/callouts", run.id))).await;
    assert_eq!(callouts.len() as i64, run.api_calls);
    assert!(
        callouts
            .iter()
            .any(|c| c.path.ends_with("/batch/upsert") && c.status == Some(200)),
        "{callouts:?}"
    );

    // In HubSpot: every contact once, mapped, with Tandem's key.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let emails: Vec<String> = (0..30).map(|i| format!("person{i}.once@tandem-test.example")).collect();
    let fields = ["email", "phone", "lifecyclestage", "tandem_id"].map(String::from);
    let found = hubspot
        .find_by(&credential, ObjectKind::Contact, "email", &emails, &fields)
        .await
        .unwrap();
    assert_eq!(found.len(), 30);
    let first = found
        .iter()
        .find(|r| r.fields["email"] == "person0.once@tandem-test.example")
        .unwrap();
    assert_eq!(first.fields["phone"], "+493012340000", "E.164");
    assert_eq!(first.fields["lifecyclestage"], "customer");
    assert_eq!(first.fields["tandem_id"], "app-0");

    // The same content again: nothing changes, no CRM call.
    let again = t.push("contact", contacts(0..30, "once")).await;
    assert_eq!(again["unchanged"], 30);
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.trigger, RunTrigger::Manual);
    assert_eq!(
        (run.counts.created, run.counts.updated, run.api_calls),
        (0, 0, 0),
        "{run:?}"
    );

    // Two changed: two updates in one call, by the stored link.
    let mut changed = contacts(0..2, "once");
    for record in changed.as_array_mut().unwrap() {
        record["data"]["job_title"] = json!("Head of Sync");
    }
    t.push("contact", changed).await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(
        (run.counts.updated, run.counts.created, run.api_calls),
        (2, 0, 1),
        "{run:?}"
    );
    let events: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/app-1")).await;
    assert_eq!(
        events.iter().map(|e| e.outcome).collect::<Vec<_>>(),
        [RecordOutcome::Updated, RecordOutcome::Created]
    );
    let updated = hubspot
        .get(
            &credential,
            ObjectKind::Contact,
            events[0].target_id.as_deref().unwrap(),
            &["jobtitle".to_string()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.fields["jobtitle"], "Head of Sync");
    assert_eq!(t.runs(&pipeline).await.len(), 3);
}

async fn bad_records_fail_with_their_reason_and_replay_after_a_fix(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Failures", "hubspot").await;
    let mut records = contacts(0..3, "fail");
    records[1]["data"]["phone"] = json!("12");
    t.push("contact", records).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.created, run.counts.failed), (2, 1), "{run:?}");

    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed.len(), 1);
    let failure = &failed[0];
    assert_eq!(failure.record_id, "app-1");
    assert_eq!(failure.reason.kind, "mapping");
    assert_eq!(failure.reason.field.as_deref(), Some("phone"));
    assert!(failure.reason.message.contains("12"), "{}", failure.reason.message);
    assert_eq!(failure.source_payload["phone"], "12");
    assert_eq!(
        failure.record_email.as_deref(),
        Some("person1.fail@tandem-test.example")
    );
    // Support finds it by email.
    let by_email: Vec<FailedRecord> = t
        .admin
        .get_ok(&t.path("failed-records?q=person1.fail@tandem-test.example"))
        .await;
    assert_eq!(by_email.len(), 1);
    // By object and by when it failed.
    let count = |path: String| {
        let admin = &t.admin;
        async move { admin.get_ok::<Vec<FailedRecord>>(&path).await.len() }
    };
    assert_eq!(count(t.path("failed-records?object=contact")).await, 1);
    assert_eq!(count(t.path("failed-records?object=deal")).await, 0);
    let failed_at = failure.updated_at;
    let at = |offset_secs: i64| {
        (failed_at + chrono::Duration::seconds(offset_secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .replace('+', "%2B")
    };
    assert_eq!(count(t.path(&format!("failed-records?since={}", at(-60)))).await, 1);
    assert_eq!(count(t.path(&format!("failed-records?since={}", at(60)))).await, 0);
    assert_eq!(
        count(t.path(&format!("failed-records?since={}&until={}", at(-60), at(60)))).await,
        1
    );
    assert_eq!(count(t.path(&format!("failed-records?until={}", at(-60)))).await, 0);
    for (query, field) in [
        ("object=planet", "object"),
        ("since=yesterday", "since"),
        (&*format!("since={}&until={}", at(60), at(-60)), "until"),
    ] {
        let response = t.admin.get(&t.path(&format!("failed-records?{query}"))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}: {body}");
    }

    // Fix the mapping (drop the phone rule), then replay the failure.
    let mut config = pipeline.forward_mapping.clone().unwrap().config;
    config.fields.retain(|f| f.target != "phone");
    let saved: Value = t
        .admin
        .request(
            reqwest::Method::PUT,
            &t.path(&format!("pipelines/{}/mappings/forward", pipeline.id)),
            Some(&json!({ "config": config })),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["version"], 2, "{saved}");
    let acted: Value = t
        .admin
        .post_ok(&t.path("failed-records/replay"), &json!({ "ids": [failure.id] }))
        .await;
    assert_eq!(acted["count"], 1);
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.trigger, RunTrigger::Replay);
    assert_eq!((run.counts.created, run.counts.failed), (1, 0), "{run:?}");
    let open: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert!(open.is_empty(), "{open:?}");
    let resolved: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?status=resolved")).await;
    assert_eq!(resolved.len(), 1);
    let audit: Value = t.admin.get_ok(&t.path("audit")).await;
    assert!(
        audit.to_string().contains("failed_records.replayed"),
        "the replay is audited"
    );
}

impl Synced {
    pub async fn app_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    pub async fn app_post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

async fn crm_changes_reach_the_app_by_feed_and_signed_webhooks(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Inbound", "hubspot").await;
    let sink = WebhookSink::start().await;
    let hook: Value = expect_json(
        t.app_post("webhooks", &json!({ "url": sink.url, "events": ["changes"] }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = secrecy::SecretString::from(hook["secret"].as_str().unwrap().to_string());
    let endpoint_id = hook["endpoint"]["id"].as_str().unwrap().to_string();

    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts from HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let seeded = run.counts.created;
    assert_eq!(
        seeded + run.counts.failed,
        24,
        "the sandbox account's contacts: {run:?}"
    );
    assert!(seeded >= 20, "{run:?}");

    // The change feed, paged by cursor: every created contact once, in order.
    let mut cursor = String::new();
    let mut changes = Vec::new();
    loop {
        let page: Value = expect_json(
            t.app_get(&format!("changes?limit=10&after={cursor}")).await,
            StatusCode::OK,
        )
        .await;
        let batch = page["changes"].as_array().unwrap().clone();
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        changes.extend(batch);
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(changes.len() as i64, seeded);
    assert!(
        changes
            .iter()
            .all(|c| c["change"] == "created" && c["provider"] == "hubspot")
    );
    let first = &changes[0];
    let external_id = first["external_id"].as_str().unwrap().to_string();
    assert_eq!(external_id, format!("hubspot-{}", first["crm_id"].as_str().unwrap()));
    let stored: Value = expect_json(
        t.app_get(&format!("records/contact/{external_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["data"], first["record"]);
    let bad_cursor = t.app_get("changes?after=yesterday").await;
    assert_eq!(bad_cursor.status(), StatusCode::BAD_REQUEST);

    // Every change was delivered to the app's endpoint, signed.
    let received = sink.received();
    assert_eq!(received.len() as i64, seeded);
    for delivery in &received {
        let signature = &delivery.headers["tandem-signature"];
        let now = chrono::Utc::now().timestamp();
        assert!(tandem::sync::webhooks::verify(
            &secret,
            signature,
            &delivery.body,
            now,
            std::time::Duration::from_secs(300)
        ));
        assert_eq!(delivery.headers["tandem-event"], "change");
    }
    let log: Vec<Value> = expect_json(
        t.app_get(&format!("webhooks/{endpoint_id}/deliveries")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log.len() as i64, seeded);
    assert!(
        log.iter()
            .all(|d| d["status"] == "delivered" && d["attempts"][0]["status"] == 200)
    );

    // A change in HubSpot reaches the app; nothing else moves.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let crm_id = first["crm_id"].as_str().unwrap().to_string();
    let update = std::collections::BTreeMap::from([("jobtitle".to_string(), json!("Chief Synchroniser"))]);
    hubspot
        .update(&credential, ObjectKind::Contact, &[(crm_id.clone(), update)])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    sink.fail_next.lock().unwrap().push(500);
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.updated, run.counts.created), (1, 0), "{run:?}");
    let stored: Value = expect_json(
        t.app_get(&format!("records/contact/{external_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["data"]["job_title"], "Chief Synchroniser");
    let page: Value = expect_json(t.app_get(&format!("changes?after={cursor}")).await, StatusCode::OK).await;
    assert_eq!(page["changes"].as_array().unwrap().len(), 1);
    assert_eq!(page["changes"][0]["change"], "updated");

    // The endpoint failed that delivery: it is pending a retry, in the log; a replay sends it now.
    let log: Vec<Value> = expect_json(
        t.app_get(&format!("webhooks/{endpoint_id}/deliveries")).await,
        StatusCode::OK,
    )
    .await;
    // Deliveries made in the same millisecond have no order: find the one that failed.
    let latest = log
        .iter()
        .find(|d| d["attempts"][0]["status"] == 500)
        .unwrap_or_else(|| panic!("a failed delivery in {log:?}"));
    assert_eq!(latest["status"], "pending");
    assert_eq!(latest["attempts"][0]["status"], 500);
    let replay = t
        .app_post(
            &format!(
                "webhooks/{endpoint_id}/deliveries/{}/replay",
                latest["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    app.run_jobs().await;
    let log: Vec<Value> = expect_json(
        t.app_get(&format!("webhooks/{endpoint_id}/deliveries")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 2);
    let last = sink.received().pop().unwrap();
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["data"]["record"]["job_title"], "Chief Synchroniser");
}
