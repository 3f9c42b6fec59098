//! Two-way conflicts (PRODUCT.md flow 14): when the app and HubSpot both changed a contact since
//! the last sync, the pipeline's policy decides field by field — ownership per field, or the last
//! writer by each system's own time — every decision is in the conflict history, and Tandem's own
//! writes coming back change nothing.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind};
use tandem_shared::api::pipelines::Side;
use tandem_shared::api::runs::{Conflict, RecordEvent};

use crate::db_tests;
use crate::helpers::{Backend, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(
    both_sides_changed_the_policy_decides_and_it_is_recorded,
    a_lossy_mapping_does_not_rewrite_the_app
);

async fn both_sides_changed_the_policy_decides_and_it_is_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Conflicts", "hubspot").await;
    let person = |title: &str, last: &str| {
        json!([{ "external_id": "c-1", "data": {
            "email": "conflicted@acme.example", "first_name": "Conny", "last_name": last, "job_title": title,
        }}])
    };
    t.push("contact", person("Engineer", "Flict")).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts both ways",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
            "settings": {
                "matching": { "fuzzy_threshold": null },
                "conflicts": { "policy": "field_ownership", "fields": { "job_title": "target" }, "otherwise": "source" },
            },
        }))
        .await;
    app.run_jobs().await;
    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/c-1")).await;
    let crm_id = history[0].target_id.clone().expect("created in HubSpot");

    // Both sides change the title and the last name.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let crm_change = |title: &str, last: &str| {
        BTreeMap::from([
            ("jobtitle".to_string(), json!(title)),
            ("lastname".to_string(), json!(last)),
        ])
    };
    hubspot
        .update(
            &credential,
            ObjectKind::Contact,
            &[(crm_id.clone(), crm_change("CRM Title", "CrmName"))],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    t.push("contact", person("App Title", "AppName")).await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;

    // HubSpot owns the title, the app the rest: both sides end the same.
    let read = ["jobtitle".to_string(), "lastname".to_string()];
    let in_hubspot = hubspot
        .get(&credential, ObjectKind::Contact, &crm_id, &read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&in_hubspot.fields["jobtitle"], &in_hubspot.fields["lastname"]),
        (&json!("CRM Title"), &json!("AppName"))
    );
    let in_app: Value = expect_json(t.app_get("records/contact/c-1").await, StatusCode::OK).await;
    assert_eq!(
        (&in_app["data"]["job_title"], &in_app["data"]["last_name"]),
        (&json!("CRM Title"), &json!("AppName"))
    );
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.conflicts, 1, "{run:?}");
    let conflicts: Vec<Conflict> = t
        .admin
        .get_ok(&t.path(&format!("pipelines/{}/conflicts", pipeline.id)))
        .await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].policy, "field_ownership");
    let winners: BTreeMap<&str, (Side, &Value, &Value)> = conflicts[0]
        .fields
        .iter()
        .map(|f| (f.field.as_str(), (f.winner, &f.source_value, &f.target_value)))
        .collect();
    assert_eq!(
        winners["job_title"],
        (Side::Target, &json!("App Title"), &json!("CRM Title"))
    );
    assert_eq!(
        winners["last_name"],
        (Side::Source, &json!("AppName"), &json!("CrmName"))
    );

    // Tandem's own writes, read back, change nothing and cost no write.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let quiet = t.last_run(&pipeline).await;
    assert_eq!(
        (quiet.counts.updated, quiet.counts.created, quiet.counts.conflicts),
        (0, 0, 0),
        "{quiet:?}"
    );

    // Last writer wins, by each system's own clock: HubSpot first, the app a moment later.
    let _: Value = expect_json(
        t.admin
            .patch(
                &t.path(&format!("pipelines/{}", pipeline.id)),
                &json!({ "settings": { "matching": { "fuzzy_threshold": null }, "conflicts": { "policy": "last_writer_wins" } } }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    hubspot
        .update(
            &credential,
            ObjectKind::Contact,
            &[(crm_id.clone(), crm_change("Older CRM Title", "AppName"))],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    t.push("contact", person("Newer App Title", "AppName")).await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let in_hubspot = hubspot
        .get(&credential, ObjectKind::Contact, &crm_id, &read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_hubspot.fields["jobtitle"], "Newer App Title");
    let conflicts: Vec<Conflict> = t
        .admin
        .get_ok(&t.path(&format!("pipelines/{}/conflicts", pipeline.id)))
        .await;
    assert_eq!(conflicts.len(), 2, "every resolved conflict stays visible");
    assert_eq!(conflicts[0].policy, "last_writer_wins");
    assert_eq!(conflicts[0].fields[0].winner, Side::Source);
}

/// The suggested mapping sends the app's unknown status `vip` to HubSpot as `lead` (the table's
/// default), which maps back as `lead`: that is HubSpot holding what it was given, not a change,
/// so the app keeps `vip` run after run, and still after the mapping changes; a real change in
/// HubSpot still comes back, mapped.
async fn a_lossy_mapping_does_not_rewrite_the_app(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Lossy", "hubspot").await;
    t.push(
        "contact",
        json!([{ "external_id": "v-1", "data": { "email": "vip@acme.example", "last_name": "Important", "status": "vip" } }]),
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
        }))
        .await;
    app.run_jobs().await;
    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/v-1")).await;
    let crm_id = history[0].target_id.clone().expect("created in HubSpot");
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let stage = || async {
        hubspot
            .get(
                &credential,
                ObjectKind::Contact,
                &crm_id,
                &["lifecyclestage".to_string()],
            )
            .await
            .unwrap()
            .unwrap()
            .fields["lifecyclestage"]
            .clone()
    };
    assert_eq!(stage().await, json!("lead"));

    for _ in 0..2 {
        t.run_now(&pipeline).await;
        app.run_jobs().await;
        let in_app: Value = expect_json(t.app_get("records/contact/v-1").await, StatusCode::OK).await;
        assert_eq!(in_app["data"]["status"], "vip", "{in_app}");
        let run = t.last_run(&pipeline).await;
        assert_eq!((run.counts.updated, run.counts.conflicts), (0, 0), "{run:?}");
    }

    // The mapping changes (vip customers now go to HubSpot as customers) and the contact changes
    // in the app: HubSpot gets the new stage, and its old one was still no change of HubSpot's.
    let mut config = serde_json::to_value(&pipeline.forward_mapping.clone().unwrap().config).unwrap();
    let entries = config["value_tables"]["statuses"]["entries"].as_array_mut().unwrap();
    let customers = entries.iter_mut().find(|e| e["to"] == "customer").unwrap();
    customers["from"].as_array_mut().unwrap().push(json!("vip"));
    let saved = t
        .admin
        .request(
            reqwest::Method::PUT,
            &t.path(&format!("pipelines/{}/mappings/forward", pipeline.id)),
            Some(&json!({ "config": config })),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    t.push(
        "contact",
        json!([{ "external_id": "v-1", "data": { "email": "vip@acme.example", "last_name": "Important", "status": "vip", "job_title": "CEO" } }]),
    )
    .await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    assert_eq!(stage().await, json!("customer"));
    let in_app: Value = expect_json(t.app_get("records/contact/v-1").await, StatusCode::OK).await;
    assert_eq!(in_app["data"]["status"], "vip", "{in_app}");

    // A real change in HubSpot comes back, mapped (opportunity → prospect).
    hubspot
        .update(
            &credential,
            ObjectKind::Contact,
            &[(
                crm_id.clone(),
                BTreeMap::from([("lifecyclestage".to_string(), json!("opportunity"))]),
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let in_app: Value = expect_json(t.app_get("records/contact/v-1").await, StatusCode::OK).await;
    assert_eq!(in_app["data"]["status"], "prospect", "{in_app}");
    assert_eq!(stage().await, json!("opportunity"));
}
