//! Triggers and deletions (PRODUCT.md flow 9, and the delete policy): a scheduled poll
//! reads what changed in HubSpot since its cursor — archived records included — and a daily
//! reconciliation compares everything again; a poll that sees more deletions than the pipeline
//! allows holds them for a person to approve or reject.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind, Record};
use tandem::repo::{now_ms, pipelines};
use tandem_shared::api::pipelines::{Pipeline, PipelineStatus};
use tandem_shared::api::runs::{HeldDelete, HeldDeleteStatus, RunStatus, RunTrigger};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, crm_records, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(
    polls_and_reconciliations_run_on_schedule_and_mass_deletes_wait_for_approval,
    a_pipeline_created_paused_runs_once_resumed
);

/// Makes the pipeline's poll (or its reconciliation) due now and lets the scheduler start it.
async fn tick(app: &TestApp, pipeline: &Pipeline, reconcile: bool) {
    let now = now_ms();
    let (poll, reconcile) = if reconcile {
        (Some(now + 3_600_000), Some(now - 1))
    } else {
        (Some(now - 1), None)
    };
    pipelines::schedule(app.state.db.pool(), pipeline.id, poll, reconcile)
        .await
        .unwrap();
    let started = tandem::sync::jobs::schedule_due(&app.state.db, &app.state.queue)
        .await
        .unwrap();
    assert_eq!(started, 1);
    app.run_jobs().await;
}

async fn all_contacts(t: &Synced) -> Vec<Record> {
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    crm_records(&hubspot, &credential, ObjectKind::Contact, &["email"]).await
}

async fn archive(t: &Synced, ids: &[String]) {
    let credential = t.hubspot().await;
    HubSpotConnector::new(reqwest::Client::new())
        .delete(&credential, ObjectKind::Contact, ids)
        .await
        .unwrap();
}

async fn app_record(t: &Synced, crm_id: &str) -> Value {
    expect_json(
        t.app_get(&format!("records/contact/hubspot-{crm_id}")).await,
        StatusCode::OK,
    )
    .await
}

async fn polls_and_reconciliations_run_on_schedule_and_mass_deletes_wait_for_approval(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Schedules", "hubspot").await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts from HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
            "settings": {
                "trigger": { "webhooks": false, "poll_every_minutes": 2, "daily_reconciliation_at": "03:00" },
                "deletes": { "propagate": true, "hold_above_count": 3, "hold_above_share": null },
            },
        }))
        .await;
    app.run_jobs().await;
    let initial = t.last_run(&pipeline).await;
    assert_eq!(initial.trigger, RunTrigger::Initial);
    let contacts = all_contacts(&t).await;
    let ids: Vec<String> = contacts.iter().map(|c| c.id.clone()).collect();
    assert_eq!(initial.counts.created as usize, ids.len(), "{initial:?}");

    // Nothing is due until the poll's time comes.
    assert_eq!(
        tandem::sync::jobs::schedule_due(&app.state.db, &app.state.queue)
            .await
            .unwrap(),
        0
    );

    // A poll reads an edit and a deletion made in HubSpot since the last run.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    hubspot
        .update(
            &credential,
            ObjectKind::Contact,
            &[(
                ids[0].clone(),
                BTreeMap::from([("firstname".to_string(), json!("Polled"))]),
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    archive(&t, &ids[1..2]).await;
    tick(&app, &pipeline, false).await;
    let poll = t.last_run(&pipeline).await;
    assert_eq!(poll.trigger, RunTrigger::Poll, "{poll:?}");
    assert_eq!(
        (poll.counts.updated, poll.counts.deleted, poll.counts.held),
        (1, 1, 0),
        "{poll:?}"
    );
    assert_eq!(app_record(&t, &ids[0]).await["data"]["first_name"], "Polled");
    assert_eq!(app_record(&t, &ids[1]).await["deleted"], true);
    // The poll moved its next time on by its interval.
    let stored = pipelines::get(app.state.db.pool(), t.tenant.id, pipeline.id)
        .await
        .unwrap()
        .unwrap();
    let next = stored.next_poll_at.unwrap() - now_ms();
    assert!((60_000..=120_000).contains(&next), "next poll in {next} ms");

    // Five deletions at once are more than the pipeline allows: held, none applied.
    archive(&t, &ids[2..7]).await;
    tick(&app, &pipeline, false).await;
    let poll = t.last_run(&pipeline).await;
    assert_eq!((poll.counts.deleted, poll.counts.held), (0, 5), "{poll:?}");
    for id in &ids[2..7] {
        assert_eq!(app_record(&t, id).await["deleted"], false);
    }
    let held_path = t.path(&format!("pipelines/{}/held-deletes", pipeline.id));
    let held: Vec<HeldDelete> = t.admin.get_ok(&held_path).await;
    let waiting: Vec<&HeldDelete> = held.iter().filter(|h| h.status == HeldDeleteStatus::Held).collect();
    assert_eq!(waiting.len(), 5, "{held:?}");

    // Two are approved (and applied at once), the rest rejected.
    let approve: Vec<_> = waiting
        .iter()
        .filter(|h| ids[2..4].contains(&h.record_id))
        .map(|h| h.id)
        .collect();
    assert_eq!(approve.len(), 2);
    let decided: Vec<HeldDelete> = t
        .admin
        .post_ok(
            &format!("{held_path}/decide"),
            &json!({ "approve": true, "ids": approve }),
        )
        .await;
    assert!(
        decided.iter().all(|h| h.status == HeldDeleteStatus::Approved),
        "{decided:?}"
    );
    app.run_jobs().await;
    let _: Vec<HeldDelete> = t
        .admin
        .post_ok(&format!("{held_path}/decide"), &json!({ "approve": false }))
        .await;
    for id in &ids[2..4] {
        assert_eq!(app_record(&t, id).await["deleted"], true);
    }
    for id in &ids[4..7] {
        assert_eq!(app_record(&t, id).await["deleted"], false, "rejected: kept");
    }
    // Seen again by the next poll (its lookback), a rejected deletion is not held again.
    tick(&app, &pipeline, false).await;
    let poll = t.last_run(&pipeline).await;
    assert_eq!(poll.counts.held, 0, "{poll:?}");
    let held: Vec<HeldDelete> = t.admin.get_ok(&held_path).await;
    assert_eq!(
        held.iter().filter(|h| h.status == HeldDeleteStatus::Held).count(),
        0,
        "{held:?}"
    );

    // The daily reconciliation compares HubSpot's counts with what was read: nothing missed,
    // nothing written.
    tick(&app, &pipeline, true).await;
    let reconciliation = t.last_run(&pipeline).await;
    assert_eq!(reconciliation.trigger, RunTrigger::Reconciliation, "{reconciliation:?}");
    assert_eq!(reconciliation.status, RunStatus::Succeeded, "{reconciliation:?}");
    assert_eq!(
        reconciliation.counts.created + reconciliation.counts.updated,
        0,
        "{reconciliation:?}"
    );
    let report = reconciliation.reconciliation.as_ref().expect("its report");
    assert!(report.proven(), "{report:?}");
    // HubSpot's live contacts: all but the six archived (whether the app kept its copy or not).
    assert_eq!(report.sides[0].crm_count as usize, ids.len() - 6, "{report:?}");
    let stored = pipelines::get(app.state.db.pool(), t.tenant.id, pipeline.id)
        .await
        .unwrap()
        .unwrap();
    let next = chrono::DateTime::from_timestamp_millis(stored.next_reconcile_at.unwrap()).unwrap();
    assert_eq!(next.format("%H:%M").to_string(), "03:00");
    assert!(next > chrono::Utc::now());
}

/// Created paused (as the activation wizard does, to check the mapping first): no run starts
/// until it is resumed, and resuming starts one that syncs what is there.
async fn a_pipeline_created_paused_runs_once_resumed(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Paused", "hubspot").await;
    t.push(
        "contact",
        json!([{ "external_id": "p-1", "data": { "email": "paused@acme.example", "last_name": "Waiting" } }]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts later",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
            "start_paused": true,
        }))
        .await;
    assert_eq!(pipeline.status, PipelineStatus::Paused);
    app.run_jobs().await;
    assert!(t.runs(&pipeline).await.is_empty());

    let resumed = t
        .admin
        .patch(
            &format!("/api/v1/tenants/{}/pipelines/{}", t.tenant.id, pipeline.id),
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(resumed.status(), StatusCode::OK);
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.created, 1, "{run:?}");
}
