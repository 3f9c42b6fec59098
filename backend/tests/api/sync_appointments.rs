//! Appointments (PRODUCT.md flow 4): a meeting a sales rep sets in HubSpot, or an event in
//! Salesforce, reaches the app as a calendar event with the customer's name, email and phone —
//! taken from the contact the meeting is with, since the meeting itself does not carry them — and
//! its time.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::runs::{Callout, RunStatus};

use crate::db_tests;
use crate::helpers::{Backend, connect_sandbox, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(meetings_reach_the_app_with_their_contacts_details);

async fn feed(t: &Synced) -> Vec<Value> {
    let page: Value = expect_json(t.app_get("changes?object=appointment&limit=1000").await, StatusCode::OK).await;
    page["changes"].as_array().unwrap().clone()
}

async fn meetings_reach_the_app_with_their_contacts_details(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Calendar", "hubspot").await;
    let salesforce = connect_sandbox(&t.admin, t.tenant.id, "salesforce", "sandbox").await;
    let mut pipelines = Vec::new();
    for (name, connection) in [
        ("Meetings from HubSpot", t.connection.id),
        ("Events from Salesforce", salesforce.id),
    ] {
        pipelines.push(
            t.create_pipeline(json!({
                "name": name,
                "environment": "sandbox",
                "object": "appointment",
                "source": { "kind": "connection", "connection_id": connection },
                "target": { "kind": "app" },
                "direction": "one_way",
            }))
            .await,
        );
    }
    app.run_jobs().await;

    for (pipeline, provider) in pipelines.iter().zip(["hubspot", "salesforce"]) {
        let run = t.last_run(pipeline).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
        assert!(run.counts.created > 0 && run.counts.failed == 0, "{provider}: {run:?}");
        let events: Vec<Value> = feed(&t)
            .await
            .into_iter()
            .filter(|c| c["provider"] == provider)
            .collect();
        assert_eq!(
            events.len() as i64,
            run.counts.created,
            "{provider}: every event reached the app"
        );
        let with_contact: Vec<&Value> = events.iter().filter(|e| e["record"]["email"].is_string()).collect();
        assert!(!with_contact.is_empty(), "{provider}: {events:?}");
        for event in &with_contact {
            let record = &event["record"];
            assert!(record["email"].as_str().unwrap().contains('@'), "{record}");
            assert!(
                record["customer_name"].as_str().is_some_and(|n| n.contains(' ')),
                "first and last name: {record}"
            );
            assert!(record["start"].is_string() && record["end"].is_string(), "{record}");
        }
        // The contacts came in a batch or two, not one call per meeting.
        let callouts: Vec<Callout> = t.admin.get_ok(&t.path(&format!("runs/{}/callouts", run.id))).await;
        assert!(
            (callouts.len() as i64) < 10,
            "{provider}: {} events in {} calls: {callouts:?}",
            events.len(),
            callouts.len()
        );
    }

    // The HubSpot side, checked against the meeting's own contact.
    let credential = t.hubspot().await;
    let http = reqwest::Client::new();
    let token = secrecy::ExposeSecret::expose_secret(&credential.access_token).to_string();
    let event = feed(&t)
        .await
        .into_iter()
        .find(|c| c["provider"] == "hubspot" && c["record"]["email"].is_string())
        .unwrap();
    let meeting = event["crm_id"].as_str().unwrap();
    let associations: Value = http
        .get(format!(
            "{}/crm/v4/objects/meetings/{meeting}/associations/contacts",
            credential.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contact_id = associations["results"][0]["toObjectId"].to_string();
    let contact: Value = http
        .get(format!(
            "{}/crm/v3/objects/contacts/{contact_id}?properties=email,firstname,lastname",
            credential.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let properties: BTreeMap<String, Value> = serde_json::from_value(contact["properties"].clone()).unwrap();
    assert_eq!(event["record"]["email"], properties["email"]);
    assert_eq!(
        event["record"]["customer_name"],
        format!(
            "{} {}",
            properties["firstname"].as_str().unwrap(),
            properties["lastname"].as_str().unwrap()
        )
    );
}
