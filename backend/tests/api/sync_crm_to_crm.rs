//! CRM to CRM (PRODUCT.md flow 6): a migration pipeline from HubSpot to Salesforce with a mapping
//! made by hand, in batches; a second run moves only what changed, and nothing is created twice.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::salesforce::SalesforceConnector;
use tandem::connectors::{Connector, ObjectKind, Record};
use tandem_shared::api::runs::{Callout, RunStatus};

use crate::db_tests;
use crate::helpers::{Backend, connect_sandbox, crm_records, spawn_app};
use crate::sync::Synced;

db_tests!(hubspot_contacts_migrate_to_salesforce_in_batches_once);

async fn hubspot_contacts_migrate_to_salesforce_in_batches_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Migration", "hubspot").await;
    let salesforce = connect_sandbox(&t.admin, t.tenant.id, "salesforce", "sandbox").await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "HubSpot contacts to Salesforce",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "connection", "connection_id": salesforce.id },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
            "forward_mapping": {
                "object": "contact", "direction": "crm_to_crm", "email_rules": "salesforce",
                "fields": [
                    { "target": "Email", "source": "email", "transforms": [{ "kind": "email" }] },
                    { "target": "FirstName", "source": "firstname" },
                    { "target": "LastName", "source": "lastname", "transforms": [{ "kind": "default", "value": "(unknown)" }] },
                    { "target": "Title", "source": "jobtitle" },
                ],
            },
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let hubspot_credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let contacts = crm_records(&hubspot, &hubspot_credential, ObjectKind::Contact, &["email"]).await;
    assert_eq!(run.counts.created + run.counts.failed, contacts.len() as i64, "{run:?}");
    assert!(run.counts.created >= 20, "{run:?}");

    // In Salesforce: each migrated contact once, keyed by its HubSpot id, written in batches.
    let org = format!("{}-sandbox", t.tenant.slug);
    let salesforce_credential = t.sandbox.salesforce_credential(&org).await;
    let sf = SalesforceConnector::new(reqwest::Client::new());
    let migrated: Vec<Record> = crm_records(
        &sf,
        &salesforce_credential,
        ObjectKind::Contact,
        &["Email", "Tandem_Id__c"],
    )
    .await
    .into_iter()
    .filter(|r| r.fields.get("Tandem_Id__c").is_some_and(|k| !k.is_null()))
    .collect();
    let keys: HashSet<&str> = migrated
        .iter()
        .filter_map(|r| r.fields["Tandem_Id__c"].as_str())
        .collect();
    assert_eq!(migrated.len() as i64, run.counts.created);
    assert_eq!(keys.len(), migrated.len(), "no HubSpot contact twice");
    assert!(keys.iter().all(|k| contacts.iter().any(|c| c.id == *k)));
    let callouts: Vec<Callout> = t.admin.get_ok(&t.path(&format!("runs/{}/callouts", run.id))).await;
    let writes = callouts
        .iter()
        .filter(|c| c.path.contains("/composite/sobjects") && c.method != "GET")
        .count();
    assert!(
        (1..=2).contains(&writes),
        "{} contacts in {writes} writes: {callouts:?}",
        run.counts.created
    );

    // A change in HubSpot moves alone; the rest costs no write.
    let changed = &contacts[0];
    hubspot
        .update(
            &hubspot_credential,
            ObjectKind::Contact,
            &[(
                changed.id.clone(),
                BTreeMap::from([("jobtitle".to_string(), json!("Migrated Lead"))]),
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.updated, run.counts.created), (1, 0), "{run:?}");
    let twin = migrated
        .iter()
        .find(|r| r.fields["Tandem_Id__c"] == changed.id.as_str())
        .expect("migrated");
    let in_salesforce = sf
        .get(
            &salesforce_credential,
            ObjectKind::Contact,
            &twin.id,
            &["Title".to_string()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_salesforce.fields["Title"], json!("Migrated Lead"));
}
