//! Every CRM change arrives (PRODUCT.md flow 15), through the engine and the HubSpot sandbox on
//! both databases: thousands of records on one timestamp read over many slices, more than a page
//! changed inside the re-read window, changes and deletions landing while a run reads. The read
//! path's invariant itself is property-tested in `connectors::hubspot::changes`.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind, http_client};
use tandem_shared::api::connections::Connection;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::api::runs::{Run, RunStatus};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, expect_json, spawn_app_with};
use crate::sync::Synced;

db_tests!(
    thousands_of_contacts_on_one_timestamp_all_arrive_over_several_slices,
    more_than_a_page_changed_at_once_arrives_run_after_run,
    changes_and_deletions_made_while_a_run_reads_all_arrive,
    a_reconciliation_proves_every_record_read_and_repairs_what_was_missed,
    a_small_accounts_reconciliation_reads_every_version_again,
    a_reconciliation_that_cannot_prove_completeness_says_so,
    a_salesforce_reconciliation_counts_with_soql,
    the_change_feed_pages_through_changes_written_while_it_is_read,
    app_pushes_made_while_a_run_reads_all_reach_hubspot
);

/// A test server that re-reads 5 s like production and cuts runs into short slices.
async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.sync.lookback_ms = 5_000;
        settings.sync.slice_ms = 500;
    })
    .await
}

/// Raises the HubSpot account's limits and the connection's to 100 searches a second: the read
/// is what these tests are about, not the wait.
async fn raise_limits(t: &Synced) {
    t.sandbox
        .control(
            "PUT",
            &format!("/hubspot/accounts/{}/limits", t.account),
            json!({ "per_window": 0, "window_ms": 10_000, "daily": 0, "search": { "per_window": 100, "window_ms": 1_000 } }),
        )
        .await;
    let raised: Connection = expect_json(
        t.admin
            .patch(
                &t.path(&format!("connections/{}", t.connection.id)),
                &json!({ "requests_per_second": 500, "search_requests_per_second": 100 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(raised.limits.search_requests_per_second, Some(100.0));
    assert_eq!(raised.limits.default_search_requests_per_second, Some(5.0));
}

/// A tenant on HubSpot with raised limits and a pipeline reading contacts into the app.
async fn hubspot_to_app(app: &TestApp, name: &str) -> (Synced, Pipeline) {
    let t = Synced::new(app, name, "hubspot").await;
    raise_limits(&t).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts from HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null }, "deletes": { "propagate": true } },
        }))
        .await;
    (t, pipeline)
}

/// The app's contacts as the app reads them: every change in the feed, the last one per record
/// (HubSpot id → its first name, or `None` once deleted).
async fn app_view(t: &Synced) -> BTreeMap<String, Option<String>> {
    let mut view = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page: Value = expect_json(
            t.app_get(&format!("changes?limit=1000&object=contact&after={cursor}"))
                .await,
            StatusCode::OK,
        )
        .await;
        for change in page["changes"].as_array().unwrap() {
            let name = (change["change"] != "deleted")
                .then(|| change["record"]["first_name"].as_str().unwrap_or("").to_string());
            view.insert(change["crm_id"].as_str().unwrap().to_string(), name);
        }
        match page["next_cursor"].as_str() {
            Some(next) if !page["changes"].as_array().unwrap().is_empty() => cursor = next.to_string(),
            _ => return view,
        }
    }
}

/// HubSpot's contacts as they are: id → first name, archived ones left out.
async fn hubspot_view(t: &Synced) -> BTreeMap<String, Option<String>> {
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = t.hubspot().await;
    let mut view = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = connector
            .changes(
                &credential,
                ObjectKind::Contact,
                cursor.as_ref(),
                &["firstname".into()],
                200,
            )
            .await
            .unwrap();
        for record in page.records {
            let name = record
                .fields
                .get("firstname")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            view.insert(record.id, Some(name));
        }
        cursor = page.cursor;
        if !page.more {
            return view;
        }
    }
}

/// Changes the first name of the given contacts in HubSpot, in batches of 100.
async fn rename(t: &Synced, ids: &[String], name: &str) {
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = t.hubspot().await;
    let updates: Vec<(String, tandem::connectors::Fields)> = ids
        .iter()
        .map(|id| (id.clone(), BTreeMap::from([("firstname".to_string(), json!(name))])))
        .collect();
    for result in connector
        .update(&credential, ObjectKind::Contact, &updates)
        .await
        .unwrap()
    {
        result.unwrap();
    }
}

fn live(view: &BTreeMap<String, Option<String>>) -> BTreeMap<String, Option<String>> {
    view.iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn assert_same(t: &Synced, run: &Run) {
    let crm = hubspot_view(t).await;
    let app = live(&app_view(t).await);
    let missing: Vec<_> = crm.keys().filter(|id| !app.contains_key(*id)).take(5).collect();
    let stale: Vec<_> = crm
        .iter()
        .filter(|(id, v)| app.get(*id).is_some_and(|a| a != *v))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty() && app.len() == crm.len(),
        "HubSpot has {} contacts, the app {}; missing {missing:?}, stale {stale:?}; {run:?}",
        crm.len(),
        app.len()
    );
}

async fn thousands_of_contacts_on_one_timestamp_all_arrive_over_several_slices(backend: Backend) {
    let app = spawn(backend).await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Ties").await;
    // Ids cross from four digits to five on the way.
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 10_000, "timestamps": "shared" }),
        )
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.counts.created, 10_024, "{run:?}");
    assert!(
        run.api_calls <= 10_024 / 200 + 10,
        "one search a page and a few more: {} calls",
        run.api_calls
    );
    let runs = t.runs(&pipeline).await;
    assert_eq!(runs.len(), 1, "one run, over several slices");
    assert_same(&t, &run).await;
}

async fn more_than_a_page_changed_at_once_arrives_run_after_run(backend: Backend) {
    let app = spawn(backend).await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Bursts").await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 1_000 }),
        )
        .await;
    app.run_jobs().await;
    let first = t.last_run(&pipeline).await;
    assert_eq!(
        (first.status, first.counts.created),
        (RunStatus::Succeeded, 1_024),
        "{first:?}"
    );
    let ids: Vec<String> = hubspot_view(&t).await.into_keys().collect();

    // Three rounds of 450 changes made in one moment by a workflow: more than two pages, all
    // inside the window a run reads again. Every round arrives, in a run of its own.
    for round in 0..3 {
        let changed: Vec<String> = ids.iter().skip(round * 150).take(450).cloned().collect();
        rename(&t, &changed, &format!("Round{round}")).await;
        t.run_now(&pipeline).await;
        app.run_jobs().await;
        let run = t.last_run(&pipeline).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        assert_eq!(run.counts.updated, 450, "round {round}: {run:?}");
        assert_same(&t, &run).await;
    }
    // Nothing changed: a run reads again what changed while the last one ran, and writes nothing.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let quiet = t.last_run(&pipeline).await;
    assert_eq!((quiet.counts.created, quiet.counts.updated), (0, 0), "{quiet:?}");
}

async fn changes_and_deletions_made_while_a_run_reads_all_arrive(backend: Backend) {
    let app = spawn(backend).await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Interleaved").await;
    // Every write in a minute shares one time, as on a CRM stamping whole seconds or minutes.
    t.sandbox
        .control(
            "PUT",
            &format!("/hubspot/accounts/{}/clock", t.account),
            json!({ "granularity_ms": 60_000 }),
        )
        .await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 3_000, "timestamps": "shared" }),
        )
        .await;
    let ids: Vec<String> = hubspot_view(&t).await.into_keys().collect();
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = t.hubspot().await;

    // The run reads a slice at a time; between slices, records it already read change (on the
    // same minute as the records it is reading) and others are deleted.
    let mut slices = 0;
    let mut deleted = Vec::new();
    loop {
        let slice = app.state.engine.run_slice(pipeline.id).await.unwrap();
        slices += 1;
        if slice == tandem::sync::Slice::Finished {
            break;
        }
        let k = slices * 40;
        rename(&t, &ids[k..k + 25], &format!("During{slices}")).await;
        connector
            .delete(&credential, ObjectKind::Contact, &ids[k + 30..k + 32])
            .await
            .unwrap();
        deleted.extend_from_slice(&ids[k + 30..k + 32]);
        assert!(slices < 500, "the run does not end");
    }
    assert!(slices > 2, "the read spread over slices ({slices})");
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    // What changed behind the read arrives with the next run, which re-reads what changed while
    // the last one ran.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let next = t.last_run(&pipeline).await;
    assert_same(&t, &next).await;
    let app_now = live(&app_view(&t).await);
    for id in &deleted {
        assert!(
            !app_now.contains_key(id),
            "contact {id}, deleted in HubSpot, is still in the app"
        );
    }
}

/// Runs the pipeline's reconciliation now and returns its run.
async fn reconcile(app: &TestApp, t: &Synced, pipeline: &Pipeline) -> Run {
    let response = t
        .admin
        .post(
            &t.path(&format!("pipelines/{}/run", pipeline.id)),
            &json!({ "reconcile": true }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    app.run_jobs().await;
    let run = t.last_run(pipeline).await;
    assert_eq!(
        run.trigger,
        tandem_shared::api::runs::RunTrigger::Reconciliation,
        "{run:?}"
    );
    run
}

/// Puts a contact straight into the sandbox account, modified at `modified` (a record an index
/// shows late, behind every cursor); returns its id.
fn put_contact(app: &TestApp, t: &Synced, name: &str, modified: Option<chrono::DateTime<chrono::Utc>>) -> String {
    use tandem_sandbox::clock::iso;
    use tandem_sandbox::hubspot::ObjectType;
    use tandem_sandbox::hubspot::model::Record;
    let sandbox = app.state.sandbox.as_ref().unwrap();
    sandbox.hubspot.with_account(&t.account, |account| {
        let id = account.next_id;
        account.next_id += 1;
        let at = modified.unwrap_or_else(chrono::Utc::now);
        let mut properties = BTreeMap::from([
            ("hs_object_id".to_string(), id.to_string()),
            ("firstname".to_string(), name.to_string()),
            ("email".to_string(), format!("{}@late.example", name.to_lowercase())),
            ("createdate".to_string(), iso(at)),
        ]);
        if modified.is_some() {
            properties.insert("lastmodifieddate".to_string(), iso(at));
        }
        account.put_record(
            ObjectType::Contacts,
            Record {
                id,
                properties,
                created_at: at,
                updated_at: at,
                archived_at: None,
            },
        );
        id.to_string()
    })
}

/// The counts-by-range comparison of large accounts (made the rule here for 3,000 contacts).
async fn a_reconciliation_proves_every_record_read_and_repairs_what_was_missed(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.sync.lookback_ms = 5_000;
        settings.sync.slice_ms = 500;
        settings.sync.reconcile_read_whole_up_to = 0;
    })
    .await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Reconciled").await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 3_000 }),
        )
        .await;
    app.run_jobs().await;
    assert_eq!(t.last_run(&pipeline).await.counts.created, 3_024);

    // Nothing was missed: the counts match range by range, and nothing is read again.
    let proven = reconcile(&app, &t, &pipeline).await;
    assert_eq!(proven.status, RunStatus::Succeeded, "{proven:?}");
    let report = proven.reconciliation.clone().expect("a report");
    let side = &report.sides[0];
    assert_eq!(
        (
            side.outcome,
            side.crm_count,
            side.seen_after,
            side.recovered,
            side.ranges_reread
        ),
        (
            tandem_shared::api::runs::ReconciliationOutcome::Proven,
            3_024,
            3_024,
            0,
            0
        ),
        "{report:?}"
    );
    assert_eq!(side.provider, "HubSpot");
    assert!(!side.read_whole);
    assert!(side.ranges_compared >= 8, "{report:?}");
    assert!(
        proven.api_calls <= 40,
        "a count a range, not a read: {} calls",
        proven.api_calls
    );
    let shown: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    let last = shown
        .last_reconciliation
        .expect("the pipeline shows its last reconciliation");
    assert_eq!((last.run_id, last.reconciliation.proven()), (proven.id, true));

    // Two changes no read can see: a contact the search index showed late, stamped a day
    // before every cursor, and one deleted for good (a GDPR deletion: not in the archive).
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let late = put_contact(&app, &t, "Late", Some(yesterday));
    let gone = hubspot_view(&t).await.into_keys().nth(17).unwrap();
    app.state
        .sandbox
        .as_ref()
        .unwrap()
        .hubspot
        .with_account(&t.account, |account| {
            account
                .records_mut(tandem_sandbox::hubspot::ObjectType::Contacts)
                .remove(&gone.parse::<u64>().unwrap())
        })
        .expect("deleted");
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    assert!(!live(&app_view(&t).await).contains_key(&late), "a poll cannot see it");

    let repaired = reconcile(&app, &t, &pipeline).await;
    assert_eq!(repaired.status, RunStatus::Succeeded, "{repaired:?}");
    let side = repaired.reconciliation.clone().unwrap().sides.remove(0);
    assert_eq!(
        side.outcome,
        tandem_shared::api::runs::ReconciliationOutcome::Repaired,
        "{side:?}"
    );
    assert_eq!((side.recovered, side.deletions_found), (1, 1), "{side:?}");
    assert_eq!((side.crm_count, side.seen_after), (3_024, 3_024), "{side:?}");
    assert!(side.ranges_reread >= 1 && side.ranges_reread <= 4, "{side:?}");
    assert_same(&t, &repaired).await;
    let view = app_view(&t).await;
    assert_eq!(view.get(&late), Some(&Some("Late".to_string())));
    assert_eq!(view.get(&gone), Some(&None), "deleted in the app too");
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    let alert = alerts
        .iter()
        .find(|a| a["kind"] == "reconciliation_repaired")
        .expect("people are told");
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("HubSpot: 1 changed records, 1 deletions"),
        "{alert}"
    );

    let again = reconcile(&app, &t, &pipeline).await;
    let side = &again.reconciliation.as_ref().unwrap().sides[0];
    assert_eq!(
        side.outcome,
        tandem_shared::api::runs::ReconciliationOutcome::Proven,
        "{again:?}"
    );
}

async fn a_reconciliation_that_cannot_prove_completeness_says_so(backend: Backend) {
    // By counts (a whole read would find this record through its unfiltered first page).
    let app = spawn_app_with(backend, |settings| {
        settings.sync.lookback_ms = 5_000;
        settings.sync.reconcile_read_whole_up_to = 0;
    })
    .await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Unproven").await;
    app.run_jobs().await;
    // A contact without a modification time: HubSpot counts it, but no changed-since read can
    // ever return it.
    put_contact(&app, &t, "Timeless", None);
    let run = reconcile(&app, &t, &pipeline).await;
    assert_eq!(
        run.status,
        RunStatus::Incomplete,
        "never succeeded while it knows a record is unread: {run:?}"
    );
    let side = &run.reconciliation.as_ref().unwrap().sides[0];
    assert_eq!(side.outcome, tandem_shared::api::runs::ReconciliationOutcome::Unproven);
    assert_eq!((side.crm_count, side.seen_after), (25, 24), "{side:?}");
    assert!(
        run.error
            .as_deref()
            .unwrap()
            .contains("holds 25 live records and Tandem has read 24"),
        "{run:?}"
    );
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    assert!(alerts.iter().any(|a| a["kind"] == "read_incomplete"), "{alerts:?}");
    let shown: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    assert!(!shown.last_reconciliation.unwrap().reconciliation.proven());
}

async fn a_salesforce_reconciliation_counts_with_soql(backend: Backend) {
    let app = spawn(backend).await;
    let t = Synced::new(&app, "Acme Salesforce Counts", "salesforce").await;
    t.sandbox
        .control(
            "POST",
            &format!("/salesforce/accounts/{}/generate", t.account),
            json!({ "contacts": 500 }),
        )
        .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts from Salesforce",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
        }))
        .await;
    app.run_jobs().await;
    let initial = t.last_run(&pipeline).await;
    // Salesforce stamps whole seconds: a poll re-reads from the start of the last second read.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let poll = t.last_run(&pipeline).await;
    assert_eq!(
        (poll.status, poll.counts.created, poll.counts.updated),
        (RunStatus::Succeeded, 0, 0),
        "{poll:?}"
    );
    let run = reconcile(&app, &t, &pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let side = &run.reconciliation.as_ref().unwrap().sides[0];
    assert_eq!(side.provider, "Salesforce");
    assert_eq!(
        side.outcome,
        tandem_shared::api::runs::ReconciliationOutcome::Proven,
        "{side:?}"
    );
    assert_eq!(
        side.crm_count as i64,
        initial.counts.created + initial.counts.failed,
        "{side:?} {initial:?}"
    );
    assert_eq!(side.seen_after, side.crm_count);
}

/// Runs the pipeline's slices until its run is over, in the background.
fn run_in_background(app: &TestApp, pipeline: &Pipeline) -> tokio::task::JoinHandle<usize> {
    let engine = app.state.engine.clone();
    let id = pipeline.id;
    tokio::spawn(async move {
        let mut slices = 0;
        loop {
            slices += 1;
            match engine.run_slice(id).await.unwrap() {
                tandem::sync::Slice::Finished => return slices,
                _ => assert!(slices < 1_000, "the run does not end"),
            }
        }
    })
}

async fn the_change_feed_pages_through_changes_written_while_it_is_read(backend: Backend) {
    let app = spawn(backend).await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Feed").await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 3_000, "timestamps": "shared" }),
        )
        .await;
    // The app pages through the feed, in small pages, while the run writes it.
    let run = run_in_background(&app, &pipeline);
    let mut cursor = String::new();
    let mut seen: Vec<String> = Vec::new();
    let mut cursors: Vec<i64> = Vec::new();
    let mut finished = false;
    loop {
        let page: Value = expect_json(
            t.app_get(&format!("changes?limit=97&after={cursor}")).await,
            StatusCode::OK,
        )
        .await;
        let changes = page["changes"].as_array().unwrap();
        for change in changes {
            seen.push(change["crm_id"].as_str().unwrap().to_string());
            cursors.push(change["cursor"].as_str().unwrap().parse().unwrap());
        }
        if let Some(next) = page["next_cursor"].as_str() {
            cursor = next.to_string();
        }
        if changes.is_empty() {
            if finished {
                break;
            }
            finished = run.is_finished();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let slices = run.await.unwrap();
    assert!(slices > 1, "the run wrote the feed over several slices");
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "in order, none twice");
    let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), distinct.len()), (3_024, 3_024), "every change once");
}

async fn app_pushes_made_while_a_run_reads_all_reach_hubspot(backend: Backend) {
    let app = spawn(backend).await;
    let t = Synced::new(&app, "Acme Pushes", "hubspot").await;
    raise_limits(&t).await;
    let contact = |i: usize, name: &str| {
        json!({ "external_id": format!("push-{i}"), "data": {
            "first_name": name, "last_name": format!("Pushed{i}"), "email": format!("push{i}@interleaved.example"),
        }})
    };
    let batch = |range: std::ops::Range<usize>, name: &str| Value::Array(range.map(|i| contact(i, name)).collect());
    assert_eq!(t.push("contact", batch(0..500, "First")).await["created"], 500);
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts to HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
        }))
        .await;
    // While the run reads the app's records, the app pushes new ones and changes old ones, in
    // concurrent requests.
    let run = run_in_background(&app, &pipeline);
    let pushes: Vec<_> = (0..6)
        .map(|round| {
            let (new, changed) = (
                batch(500 + round * 100..600 + round * 100, "New"),
                batch(round * 80..round * 80 + 80, "Changed"),
            );
            let t_push = (t.key.clone(), app.address.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for records in [new, changed] {
                    let response = client
                        .post(format!("{}/api/v1/records/contact/batch", t_push.1))
                        .bearer_auth(&t_push.0)
                        .json(&json!({ "records": records }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for push in pushes {
        push.await.unwrap();
    }
    run.await.unwrap();
    // What the run could not have seen, the next run reads.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let last = t.last_run(&pipeline).await;
    assert_eq!(last.status, RunStatus::Succeeded, "{last:?}");
    let crm = hubspot_view(&t).await;
    let names: Vec<&String> = crm.values().flatten().collect();
    assert_eq!(crm.len(), 24 + 1_100, "every pushed contact once");
    assert_eq!(
        names.iter().filter(|n| n.as_str() == "Changed").count(),
        480,
        "every change"
    );
    assert_eq!(names.iter().filter(|n| n.as_str() == "New").count(), 600);
}

/// Small accounts are read again whole: a change shown late inside a range leaves the counts
/// equal, and only reading the records finds it.
async fn a_small_accounts_reconciliation_reads_every_version_again(backend: Backend) {
    let app = spawn(backend).await;
    let (t, pipeline) = hubspot_to_app(&app, "Acme Versions").await;
    t.sandbox
        .control(
            "POST",
            &format!("/hubspot/accounts/{}/generate", t.account),
            json!({ "contacts": 1_000 }),
        )
        .await;
    app.run_jobs().await;
    // A contact changed, stamped a moment after the version read, long behind every cursor (an
    // index that showed the change an hour late): counts cannot tell.
    let changed = hubspot_view(&t).await.into_keys().nth(300).unwrap();
    let sandbox = app.state.sandbox.as_ref().unwrap();
    sandbox.hubspot.with_account(&t.account, |account| {
        use tandem_sandbox::hubspot::ObjectType;
        let id: u64 = changed.parse().unwrap();
        let mut record = account.records(ObjectType::Contacts)[&id].clone();
        let later = record.updated_at + chrono::Duration::milliseconds(1);
        record.updated_at = later;
        record.properties.insert("firstname".into(), "Shown late".into());
        record
            .properties
            .insert("lastmodifieddate".into(), tandem_sandbox::clock::iso(later));
        account.put_record(ObjectType::Contacts, record);
    });
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    assert_ne!(
        app_view(&t).await.get(&changed),
        Some(&Some("Shown late".to_string())),
        "a poll cannot see it"
    );

    let run = reconcile(&app, &t, &pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let side = run.reconciliation.clone().unwrap().sides.remove(0);
    assert!(side.read_whole, "{side:?}");
    assert_eq!(
        (side.ranges_compared, side.ranges_reread),
        (1, 1),
        "once through: {side:?}"
    );
    assert!(run.api_calls <= 20, "a search a page of 200, and a few counts: {run:?}");
    assert_eq!(
        (side.outcome, side.recovered, side.deletions_found, side.crm_count),
        (tandem_shared::api::runs::ReconciliationOutcome::Repaired, 1, 0, 1_024),
        "{side:?}"
    );
    assert_eq!(run.counts.updated, 1, "{run:?}");
    assert_eq!(app_view(&t).await.get(&changed), Some(&Some("Shown late".to_string())));
    assert_same(&t, &run).await;
}
