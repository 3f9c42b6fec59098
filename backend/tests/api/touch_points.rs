//! Touch-points (PRODUCT.md flow 5): the app reads, per contact, how many emails and calls each
//! CRM it is synced with holds — HubSpot's email and call engagements, Salesforce's email and
//! call tasks — live, and a new one logged in the CRM shows at once.

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tandem_shared::api::records::ContactTouchPoints;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(contacts_touch_points_come_from_each_crm);

async fn touch_points(t: &Synced, external_id: &str) -> ContactTouchPoints {
    maybe_touch_points(t, external_id)
        .await
        .expect("the app has the contact")
}

/// `None` for a contact the app does not have (one that failed to sync, say).
async fn maybe_touch_points(t: &Synced, external_id: &str) -> Option<ContactTouchPoints> {
    let response = t.app_get(&format!("records/contact/{external_id}/touch-points")).await;
    if response.status() == StatusCode::NOT_FOUND {
        return None;
    }
    let json: Value = expect_json(response, StatusCode::OK).await;
    Some(serde_json::from_value(json).unwrap())
}

async fn contacts_touch_points_come_from_each_crm(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Touch", "hubspot").await;
    // HubSpot's contacts come to the app, and the app's own go to HubSpot.
    t.push(
        "contact",
        json!([{ "external_id": "app-1", "data": { "email": "new.person@touch.example", "last_name": "Person" } }]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts with HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.failed, 0, "{run:?}");
    assert!(run.counts.created > 10, "{run:?}");

    // HubSpot: the seeded contacts have between none and three emails and up to two calls.
    let hubspot = t.hubspot().await;
    let http = reqwest::Client::new();
    let contacts: Value = http
        .get(format!("{}/crm/v3/objects/contacts?limit=100", hubspot.base_url))
        .bearer_auth(hubspot.access_token.expose_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = contacts["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let (mut emails, mut calls) = (0, 0);
    for id in &ids {
        // The app's own contact is not `hubspot-…` in the app.
        let Some(answer) = maybe_touch_points(&t, &format!("hubspot-{id}")).await else {
            continue;
        };
        assert_eq!(answer.crms.len(), 1, "{answer:?}");
        assert_eq!(answer.crms[0].crm_id, *id);
        assert_eq!(answer.crms[0].provider, "hubspot");
        let counts = answer.crms[0].touch_points.expect("HubSpot answered");
        assert_eq!(answer.total, counts);
        assert!(counts.emails <= 3 && counts.calls <= 2, "{counts:?}");
        emails += counts.emails;
        calls += counts.calls;
    }
    assert!(emails > 10 && calls > 5, "{emails} emails, {calls} calls");

    // A call and two emails logged now count at once.
    let mut synced = Vec::new();
    for id in &ids {
        if maybe_touch_points(&t, &format!("hubspot-{id}")).await.is_some() {
            synced.push(id.clone());
        }
    }
    let contact = &synced[0];
    let before = touch_points(&t, &format!("hubspot-{contact}")).await.total;
    for (object, type_id, properties) in [
        (
            "emails",
            198,
            json!({ "hs_email_subject": "Quote", "hs_timestamp": "2026-11-30T10:00:00Z" }),
        ),
        (
            "emails",
            198,
            json!({ "hs_email_subject": "Re: Quote", "hs_timestamp": "2026-11-30T11:00:00Z" }),
        ),
        (
            "calls",
            194,
            json!({ "hs_call_title": "Intro", "hs_timestamp": "2026-11-30T12:00:00Z" }),
        ),
    ] {
        let response = http
            .post(format!("{}/crm/v3/objects/{object}", hubspot.base_url))
            .bearer_auth(hubspot.access_token.expose_secret())
            .json(&json!({
                "properties": properties,
                "associations": [{ "to": { "id": contact },
                    "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id }] }],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
    }
    let after = touch_points(&t, &format!("hubspot-{contact}")).await.total;
    assert_eq!((after.emails, after.calls), (before.emails + 2, before.calls + 1));

    // The contact the app pushed has none yet, in HubSpot.
    let fresh = touch_points(&t, "app-1").await;
    assert_eq!(fresh.crms.len(), 1, "{fresh:?}");
    assert_eq!(fresh.total, Default::default());

    // Salesforce (another tenant's): emails and calls are tasks on the contact; other tasks do
    // not count.
    let t = Synced::new(&app, "Acme Touch Salesforce", "salesforce").await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts from Salesforce",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    assert!(t.last_run(&pipeline).await.counts.created > 10);
    let org = t.sandbox.salesforce_credential(&t.account).await;
    let data = format!("{}/services/data/v62.0", org.base_url);
    let query = |soql: &str| {
        http.get(format!("{data}/query"))
            .query(&[("q", soql)])
            .bearer_auth(org.access_token.expose_secret())
            .send()
    };
    let sf_contacts: Value = query("SELECT Id FROM Contact").await.unwrap().json().await.unwrap();
    let mut seen = 0;
    for record in sf_contacts["records"].as_array().unwrap() {
        let id = record["Id"].as_str().unwrap();
        let count = |subtype: &'static str| {
            let soql = format!("SELECT COUNT() FROM Task WHERE WhoId = '{id}' AND TaskSubtype = '{subtype}'");
            let query = &query;
            async move {
                let answer: Value = query(&soql).await.unwrap().json().await.unwrap();
                answer["totalSize"].as_u64().unwrap() as u32
            }
        };
        let Some(answer) = maybe_touch_points(&t, &format!("salesforce-{id}")).await else {
            continue;
        };
        let counts = answer.crms[0].touch_points.expect("Salesforce answered");
        assert_eq!(answer.crms[0].provider, "salesforce");
        assert_eq!(
            (counts.emails, counts.calls),
            (count("Email").await, count("Call").await),
            "{id}"
        );
        seen += usize::from(counts.emails + counts.calls > 0);
    }
    assert!(seen > 5, "{seen} Salesforce contacts with touch-points");
    let mut first = "";
    for record in sf_contacts["records"].as_array().unwrap() {
        let id = record["Id"].as_str().unwrap();
        if maybe_touch_points(&t, &format!("salesforce-{id}")).await.is_some() {
            first = id;
            break;
        }
    }
    let before = touch_points(&t, &format!("salesforce-{first}")).await.total;
    for subtype in ["Call", "Task"] {
        let response = http
            .post(format!("{data}/sobjects/Task"))
            .bearer_auth(org.access_token.expose_secret())
            .json(&json!({ "Subject": "Logged", "TaskSubtype": subtype, "WhoId": first, "Status": "Completed" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
    }
    let after = touch_points(&t, &format!("salesforce-{first}")).await.total;
    assert_eq!((after.emails, after.calls), (before.emails, before.calls + 1));

    // A contact the app does not have is a 404 naming the record.
    let missing = t.app_get("records/contact/nobody/touch-points").await;
    expect_error(missing, StatusCode::NOT_FOUND, "not_found").await;
}
