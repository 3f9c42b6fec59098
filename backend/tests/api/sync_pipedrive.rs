//! Every pipeline kind with Pipedrive, through Tandem's API against the Pipedrive sandbox,
//! connected on its consent page: app → Pipedrive contacts (matched, created once, unchanged
//! pushes cost nothing), Pipedrive → app, deals with their products, and HubSpot → Pipedrive.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::pipedrive::PipedriveConnector;
use tandem::connectors::{Connector, Credential, ObjectKind, Record, TokenKind};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::RunStatus;

use crate::db_tests;
use crate::helpers::{Backend, connect_sandbox, crm_records, spawn_app};
use crate::sync::Synced;

db_tests!(
    app_contacts_reach_pipedrive_once_and_changes_come_back,
    app_deals_reach_pipedrive_with_their_products,
    hubspot_contacts_move_to_pipedrive
);

/// The Pipedrive company of a tenant's sandbox, through its user's API token.
async fn pipedrive(t: &Synced) -> Credential {
    let token = t
        .sandbox
        .control(
            "POST",
            &format!("/pipedrive/accounts/{}/tokens/static", t.account),
            Value::Null,
        )
        .await;
    Credential {
        access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
        base_url: format!("{}/pipedrive/{}", t.sandbox.base, t.account),
        kind: TokenKind::ApiToken,
    }
}

fn by_email(records: &[Record], email: &str) -> Option<Record> {
    records
        .iter()
        .find(|r| r.fields.get("email") == Some(&json!(email)))
        .cloned()
}

async fn app_contacts_reach_pipedrive_once_and_changes_come_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Pipedrive", "pipedrive").await;
    assert_eq!(t.connection.provider_name, "Pipedrive");
    let contact = |i: usize, status: &str| {
        json!({ "external_id": format!("p-{i}"), "data": {
            "first_name": format!("Person{i}"), "last_name": "Piped",
            "email": format!("person{i}@pipedrive-test.example"), "phone": format!("030 5555 {i:04}"),
            "status": status,
        } })
    };
    let mut records: Vec<Value> = (0..30)
        .map(|i| contact(i, if i % 3 == 0 { "customer" } else { "lead" }))
        .collect();
    // Pipedrive needs a person's name: a contact with an email alone fails, naming it.
    records.push(json!({ "external_id": "p-nameless", "data": { "email": "nameless@pipedrive-test.example" } }));
    t.push("contact", Value::Array(records)).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts to Pipedrive",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    // Both ways: 30 contacts to Pipedrive, its 20 sample persons to the app.
    assert_eq!((run.counts.created, run.counts.failed), (50, 1), "{run:?}");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed[0].record_id, "p-nameless", "{failed:?}");
    assert_eq!(failed[0].reason.field.as_deref(), Some("name"), "{failed:?}");

    let credential = pipedrive(&t).await;
    let connector = PipedriveConnector::new(reqwest::Client::new());
    let persons = crm_records(&connector, &credential, ObjectKind::Contact, &[]).await;
    let ada = by_email(&persons, "person3@pipedrive-test.example").expect("in Pipedrive");
    assert_eq!(
        ada.fields["name"],
        json!("Person3 Piped"),
        "the full name Pipedrive wants"
    );
    assert_eq!(ada.fields["phone"], json!("+493055550003"));
    assert_eq!(ada.fields["label_ids"], json!(["1"]), "a customer is labelled Customer");
    let created: usize = persons
        .iter()
        .filter(|p| {
            p.fields["email"]
                .as_str()
                .is_some_and(|e| e.ends_with("@pipedrive-test.example"))
        })
        .count();
    assert_eq!(created, 30, "each once");

    // Pushing the same again costs no write.
    t.push(
        "contact",
        Value::Array(
            (0..30)
                .map(|i| contact(i, if i % 3 == 0 { "customer" } else { "lead" }))
                .collect(),
        ),
    )
    .await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.created, run.counts.updated), (0, 0), "{run:?}");

    // A change made in Pipedrive comes back to the app.
    connector
        .update(
            &credential,
            ObjectKind::Contact,
            &[(
                ada.id.clone(),
                BTreeMap::from([("last_name".to_string(), json!("Changed"))]),
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let record: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/records/contact/p-3", app.address))
        .bearer_auth(&t.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(record["data"]["last_name"], json!("Changed"), "{record}");
}

async fn app_deals_reach_pipedrive_with_their_products(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Pipedrive Deals", "pipedrive").await;
    let item = |code: &str, quantity: &str, price: &str| {
        json!({ "product_number": code, "name": format!("Item {code}"), "quantity": quantity, "unit_price": price,
                "currency": "USD", "discount_percent": "0" })
    };
    t.push(
        "deal",
        json!([
            { "external_id": "d-1", "data": { "name": "Seats for Initech", "status": "won", "amount": "980", "currency": "USD",
              "close_date": "2026-12-20", "line_items": [item("SEAT", "20", "49.00")] } },
            { "external_id": "d-2", "data": { "name": "Unknown product", "status": "open", "currency": "USD",
              "line_items": [item("NOPE-1", "1", "5")] } },
        ]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Deals to Pipedrive",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.created, run.counts.failed), (1, 1), "{run:?}");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert!(failed[0].reason.message.contains("NOPE-1"), "{failed:?}");

    let credential = pipedrive(&t).await;
    let connector = PipedriveConnector::new(reqwest::Client::new());
    let deals = crm_records(&connector, &credential, ObjectKind::Deal, &[]).await;
    let mut deal: Vec<Record> = deals
        .into_iter()
        .filter(|d| d.fields["title"] == json!("Seats for Initech"))
        .collect();
    assert_eq!(deal.len(), 1);
    assert_eq!(deal[0].fields["status"], json!("won"));
    assert_eq!(deal[0].fields["value"].as_f64(), Some(980.0));
    connector
        .with_line_items(
            &credential,
            ObjectKind::Deal,
            &mut deal,
            &["quantity".into(), "item_price".into()],
        )
        .await
        .unwrap();
    let items = deal[0].fields["line_items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["product_code"], json!("SEAT"));
    assert_eq!(items[0]["quantity"].as_f64(), Some(20.0));
    assert_eq!(items[0]["item_price"].as_f64(), Some(49.0));
}

async fn hubspot_contacts_move_to_pipedrive(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Move", "hubspot").await;
    let pipedrive_connection = connect_sandbox(&t.admin, t.tenant.id, "pipedrive", "sandbox").await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "HubSpot contacts to Pipedrive",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "connection", "connection_id": pipedrive_connection.id },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
            "forward_mapping": {
                "object": "contact", "direction": "crm_to_crm",
                "fields": [
                    { "target": "email", "source": "email", "transforms": [{ "kind": "email" }] },
                    { "target": "name", "source": ["firstname", "lastname"], "required": true, "transforms": [{ "kind": "join", "separator": " " }] },
                    { "target": "first_name", "source": "firstname" },
                    { "target": "last_name", "source": "lastname" },
                ],
            },
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert!(run.counts.created >= 20, "{run:?}");

    let credential = pipedrive(&t).await;
    let connector = PipedriveConnector::new(reqwest::Client::new());
    let persons = crm_records(&connector, &credential, ObjectKind::Contact, &[]).await;
    let hubspot = tandem::connectors::hubspot::HubSpotConnector::new(reqwest::Client::new());
    let contacts = crm_records(&hubspot, &t.hubspot().await, ObjectKind::Contact, &["email"]).await;
    for contact in contacts
        .iter()
        .filter(|c| c.fields.get("email").is_some_and(|e| e.is_string()))
    {
        let email = contact.fields["email"].as_str().unwrap();
        assert!(by_email(&persons, email).is_some(), "{email} moved");
    }
    // A second run moves nothing again.
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let again = t.last_run(&pipeline).await;
    assert_eq!((again.counts.created, again.counts.updated), (0, 0), "{again:?}");
}
