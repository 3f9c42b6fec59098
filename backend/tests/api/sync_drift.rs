//! Schema drift: a picklist value the mapping's value table writes is removed in HubSpot, then the mapped
//! property is deleted. Each time the run finds it before writing: a warning on the pipeline, an
//! alert, and records failing with that reason — not refused one by one by the CRM, not written
//! without the value. Saving a fixed mapping clears the warning and the records replay.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::pipelines::{MappingVersion, Pipeline};

use crate::db_tests;
use crate::helpers::{Backend, spawn_app_with};
use crate::sync::Synced;

db_tests!(a_mapped_field_that_changed_in_the_crm_fails_records_with_the_reason);

fn member(i: usize, title: &str) -> Value {
    json!({ "external_id": format!("m-{i}"), "data": {
        "email": format!("member{i}@drift.example"), "last_name": format!("Member{i}"), "job_title": title,
        "custom": { "loyalty": "gold" },
    }})
}

async fn a_mapped_field_that_changed_in_the_crm_fails_records_with_the_reason(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.sync.schema_check_minutes = 0).await;
    let t = Synced::new(&app, "Acme Drift", "hubspot").await;
    let credential = t.hubspot().await;
    let http = reqwest::Client::new();
    let properties = format!("{}/crm/v3/properties/contacts", credential.base_url);
    let token = secrecy::ExposeSecret::expose_secret(&credential.access_token).to_string();
    let created = http
        .post(&properties)
        .bearer_auth(&token)
        .json(
            &json!({ "name": "loyalty_tier", "label": "Loyalty tier", "type": "enumeration", "fieldType": "select",
            "options": [{ "label": "Gold", "value": "gold" }, { "label": "Silver", "value": "silver" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    t.push("contact", json!([member(1, "Buyer"), member(2, "Buyer")])).await;
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
    // The app's tiers go through a value table onto HubSpot's options.
    let mut config = serde_json::to_value(&pipeline.forward_mapping.clone().unwrap().config).unwrap();
    config["fields"].as_array_mut().unwrap().push(json!({
        "target": "loyalty_tier", "source": "custom.loyalty",
        "transforms": [{ "kind": "value_table", "table": "tiers" }],
    }));
    config["value_tables"]["tiers"] =
        json!({ "entries": [{ "from": ["gold", "vip"], "to": "gold" }], "default": "silver" });
    let mut config: tandem_shared::api::mappings::MappingConfig = serde_json::from_value(config).unwrap();
    let mapping_path = t.path(&format!("pipelines/{}/mappings/forward", pipeline.id));
    let save = |config: &tandem_shared::api::mappings::MappingConfig| {
        let body = json!({ "config": config });
        let path = mapping_path.clone();
        let admin = &t.admin;
        async move {
            let response = admin.request(reqwest::Method::PUT, &path, Some(&body)).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
            response.json::<MappingVersion>().await.unwrap()
        }
    };
    save(&config).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.created, 2, "{run:?}");

    // "gold" is no longer an option in HubSpot.
    let changed = http
        .patch(format!("{properties}/loyalty_tier"))
        .bearer_auth(&token)
        .json(
            &json!({ "options": [{ "label": "Silver", "value": "silver" }, { "label": "Bronze", "value": "bronze" }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    t.push("contact", json!([member(1, "Head Buyer")])).await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.failed, run.counts.updated), (1, 0), "{run:?}");
    let current: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    assert_eq!(current.warnings.len(), 1, "{:?}", current.warnings);
    assert_eq!(current.warnings[0].field, "loyalty_tier");
    assert!(current.warnings[0].message.contains("gold"), "{:?}", current.warnings);
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    assert!(alerts.iter().any(|a| a["kind"] == "schema_drift"), "{alerts:?}");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].reason.kind, "schema_drift");
    assert_eq!(failed[0].reason.field.as_deref(), Some("loyalty_tier"));
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let found = hubspot
        .find_by(
            &credential,
            ObjectKind::Contact,
            "email",
            &["member1@drift.example".into()],
            &["jobtitle".into()],
        )
        .await
        .unwrap();
    assert_eq!(found[0].fields["jobtitle"], "Buyer", "nothing was written");

    // Then the property is deleted altogether: the warning says so.
    let deleted = http
        .delete(format!("{properties}/loyalty_tier"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let current: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    assert_eq!(current.warnings.len(), 1, "{:?}", current.warnings);
    assert!(
        current.warnings[0].message.contains("has no field"),
        "{:?}",
        current.warnings
    );

    // The mapping fixed and saved: no warning; the failed record replays.
    config.fields.retain(|f| f.target != "loyalty_tier");
    save(&config).await;
    let current: Pipeline = t.admin.get_ok(&t.path(&format!("pipelines/{}", pipeline.id))).await;
    assert!(current.warnings.is_empty(), "{:?}", current.warnings);
    let _: Value = t
        .admin
        .post_ok(
            &t.path("failed-records/replay"),
            &json!({ "error_kind": "schema_drift" }),
        )
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.updated, run.counts.failed), (1, 0), "{run:?}");
    let found = hubspot
        .find_by(
            &credential,
            ObjectKind::Contact,
            "email",
            &["member1@drift.example".into()],
            &["jobtitle".into()],
        )
        .await
        .unwrap();
    assert_eq!(found[0].fields["jobtitle"], "Head Buyer");
}
