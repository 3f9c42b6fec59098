//! Duplicates (PRODUCT.md flow 8): contacts match by normalised email — found by HubSpot's own
//! refusal of a second contact with that email, so no search is spent on it — and companies by
//! VAT id; a close name and company is flagged, never merged. With *skip and notify* the twin
//! is left alone and a person decides; with *merge, the app leading* the replayed record is
//! written over its twin, and nothing is created twice.

use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Connector, ObjectKind, Record};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::{Callout, RecordEvent, RecordOutcome};

use crate::db_tests;
use crate::helpers::{Backend, crm_records, expect_error, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(twins_are_found_and_handled_by_the_duplicate_policy);

fn field<'r>(record: &'r Record, name: &str) -> &'r str {
    record.fields.get(name).and_then(Value::as_str).unwrap_or_default()
}

async fn twins_are_found_and_handled_by_the_duplicate_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Twins", "hubspot").await;
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let contacts = crm_records(
        &hubspot,
        &credential,
        ObjectKind::Contact,
        &["email", "firstname", "lastname", "company"],
    )
    .await;
    let with_company: Vec<&Record> = contacts.iter().filter(|c| !field(c, "company").is_empty()).collect();
    let (twin, lookalike) = (with_company[0], with_company[1]);

    t.push(
        "contact",
        json!([
            // The same person as a HubSpot contact, the email written differently.
            { "external_id": "dup", "data": { "email": format!("  {}  ", field(twin, "email").to_uppercase()),
                "first_name": "Renamed", "last_name": "Twin" } },
            // Another email, but the name and company of an existing contact.
            { "external_id": "lookalike", "data": { "email": "someone.else@twins.example",
                "first_name": field(lookalike, "firstname"), "last_name": field(lookalike, "lastname"),
                "company_name": field(lookalike, "company") } },
            { "external_id": "fresh", "data": { "email": "fresh@twins.example", "first_name": "Fresh", "last_name": "Face" } },
        ]),
    )
    .await;
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
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(
        (run.counts.created, run.counts.skipped, run.counts.failed),
        (2, 1, 0),
        "{run:?}"
    );

    // Skipped and kept for a person: the twin named, the twin untouched.
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        (failed[0].record_id.as_str(), failed[0].reason.kind.as_str()),
        ("dup", "duplicate")
    );
    let named = failed[0].reason.crm_error.as_ref().unwrap();
    assert_eq!(named["id"], twin.id.as_str());
    assert_eq!(named["key"], format!("email:{}", field(twin, "email").to_lowercase()));
    let untouched = hubspot
        .get(&credential, ObjectKind::Contact, &twin.id, &["firstname".into()])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.fields["firstname"], twin.fields["firstname"]);
    let alerts: Vec<Value> = t.admin.get_ok(&t.path("alerts")).await;
    assert!(alerts.iter().any(|a| a["kind"] == "duplicates"), "{alerts:?}");
    // The lookalike was created, and flagged as a possible duplicate of the existing contact.
    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/lookalike")).await;
    let flag = history
        .iter()
        .find(|e| e.outcome == RecordOutcome::PossibleDuplicate)
        .expect("flagged");
    assert_eq!(flag.detail["candidate"], lookalike.id.as_str());
    assert!(history.iter().any(|e| e.outcome == RecordOutcome::Created));
    // The email needed no search: HubSpot's refusal of the second contact found the twin.
    let callouts: Vec<Callout> = t.admin.get_ok(&t.path(&format!("runs/{}/callouts", run.id))).await;
    let searches = callouts.iter().filter(|c| c.path.ends_with("/search")).count();
    assert_eq!(searches, 1, "only the fuzzy candidates' search: {callouts:?}");
    assert!(callouts.iter().any(|c| c.status == Some(409)), "{callouts:?}");

    // Merge with the app leading, then replay: the twin takes the app's values; nothing doubles.
    let _: Value = expect_json(
        t.admin
            .patch(
                &t.path(&format!("pipelines/{}", pipeline.id)),
                &json!({ "settings": { "matching": { "duplicates": { "policy": "merge", "leading": "source" } } } }),
            )
            .await,
        reqwest::StatusCode::OK,
    )
    .await;
    let _: Value = t
        .admin
        .post_ok(&t.path("failed-records/replay"), &json!({ "ids": [failed[0].id] }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.updated, run.counts.created), (1, 0), "{run:?}");
    let merged = hubspot
        .get(
            &credential,
            ObjectKind::Contact,
            &twin.id,
            &["firstname".into(), "tandem_id".into()],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(merged.fields["firstname"], "Renamed");
    let events: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/dup")).await;
    assert_eq!(events[0].outcome, RecordOutcome::Updated);
    assert_eq!(events[0].target_id.as_deref(), Some(twin.id.as_str()));
    assert_eq!(events[0].detail["matched"]["id"], twin.id.as_str());
    let all = crm_records(&hubspot, &credential, ObjectKind::Contact, &["email"]).await;
    assert_eq!(all.len(), contacts.len() + 2, "the two new contacts, and no third");

    // Companies match by VAT id (spelled differently), found with a search.
    let companies = crm_records(&hubspot, &credential, ObjectKind::Company, &["name", "vat_id"]).await;
    let company = companies.iter().find(|c| !field(c, "vat_id").is_empty()).unwrap();
    let vat = field(company, "vat_id");
    let spaced = format!("{} {}", &vat[..2].to_lowercase(), &vat[2..]);
    t.push(
        "company",
        json!([{ "external_id": "co-dup", "data": { "name": "Another Name GmbH", "vat_id": spaced } }]),
    )
    .await;
    let companies_pipeline = t
        .create_pipeline(json!({
            "name": "Companies to HubSpot",
            "environment": "sandbox",
            "object": "company",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&companies_pipeline).await;
    assert_eq!((run.counts.created, run.counts.skipped), (0, 1), "{run:?}");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    let skipped = failed
        .iter()
        .find(|f| f.record_id == "co-dup")
        .expect("kept for a person");
    assert_eq!(skipped.reason.kind, "duplicate");
    let named = skipped.reason.crm_error.as_ref().unwrap();
    assert_eq!(named["id"], company.id.as_str());
    assert!(named["key"].as_str().unwrap().starts_with("vat:"), "{named}");
}

db_tests!(people_decide_duplicate_candidates);

/// Duplicate candidates (records skipped as twins of existing ones) decided by a person: "the
/// same record" links the two with the chosen side leading, "different records" creates a new
/// one without a second look; bad decisions are refused naming the field; each is audited.
async fn people_decide_duplicate_candidates(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Decides", "hubspot").await;
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let contacts = crm_records(&hubspot, &credential, ObjectKind::Contact, &["email", "firstname"]).await;
    let (linked_twin, led_twin) = (&contacts[0], &contacts[1]);
    let companies = crm_records(&hubspot, &credential, ObjectKind::Company, &["name", "vat_id"]).await;
    let company = companies.iter().find(|c| !field(c, "vat_id").is_empty()).unwrap();
    t.push(
        "contact",
        json!([
            { "external_id": "same-app-leads", "data": { "email": field(linked_twin, "email"), "first_name": "AppWins", "last_name": "One" } },
            { "external_id": "same-crm-leads", "data": { "email": field(led_twin, "email"), "first_name": "CrmWins", "last_name": "Two" } },
        ]),
    )
    .await;
    t.push(
        "company",
        json!([{ "external_id": "co-lookalike", "data": { "name": "A Different Firm", "vat_id": field(company, "vat_id") } }]),
    )
    .await;
    for (name, object) in [("Contacts to HubSpot", "contact"), ("Companies to HubSpot", "company")] {
        t.create_pipeline(json!({
            "name": name,
            "environment": "sandbox",
            "object": object,
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    }
    app.run_jobs().await;
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?error_kind=duplicate")).await;
    assert_eq!(failed.len(), 3, "{failed:?}");
    let id_of = |record: &str| failed.iter().find(|f| f.record_id == record).unwrap().id;
    let decide = t.path("failed-records/duplicates/decide");

    // Refused, naming the field: no side to lead, a side for a new record, a record that is not
    // a duplicate candidate.
    let resp = t
        .admin
        .post(
            &decide,
            &json!({ "ids": [id_of("same-app-leads")], "decision": "link" }),
        )
        .await;
    let body = expect_error(resp, reqwest::StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("leading"));
    let resp = t
        .admin
        .post(
            &decide,
            &json!({ "ids": [id_of("co-lookalike")], "decision": "create_new", "leading": "source" }),
        )
        .await;
    let body = expect_error(resp, reqwest::StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("leading"));
    let resp = t
        .admin
        .post(
            &decide,
            &json!({ "ids": ["00000000-0000-4000-8000-000000000000"], "decision": "create_new" }),
        )
        .await;
    let body = expect_error(resp, reqwest::StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("ids"));

    // The same person, the app leading: the twin takes the app's values.
    let acted: Value = t
        .admin
        .post_ok(
            &decide,
            &json!({ "ids": [id_of("same-app-leads")], "decision": "link", "leading": "source" }),
        )
        .await;
    assert_eq!(acted["count"], 1);
    // The same person, HubSpot leading: linked, HubSpot untouched.
    let _: Value = t
        .admin
        .post_ok(
            &decide,
            &json!({ "ids": [id_of("same-crm-leads")], "decision": "link", "leading": "target" }),
        )
        .await;
    // A different company with the same VAT id (a group's subsidiary, say): created anew.
    let _: Value = t
        .admin
        .post_ok(
            &decide,
            &json!({ "ids": [id_of("co-lookalike")], "decision": "create_new" }),
        )
        .await;
    app.run_jobs().await;

    let read = |id: String| {
        let (hubspot, credential) = (&hubspot, &credential);
        async move {
            hubspot
                .get(credential, ObjectKind::Contact, &id, &["firstname".into()])
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(read(linked_twin.id.clone()).await.fields["firstname"], "AppWins");
    assert_eq!(
        read(led_twin.id.clone()).await.fields["firstname"],
        led_twin.fields["firstname"],
        "HubSpot leads: its values stay"
    );
    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/same-crm-leads")).await;
    assert_eq!(history[0].outcome, RecordOutcome::Matched, "{history:?}");
    assert_eq!(history[0].target_id.as_deref(), Some(led_twin.id.as_str()));
    let all_contacts = crm_records(&hubspot, &credential, ObjectKind::Contact, &["email"]).await;
    assert_eq!(all_contacts.len(), contacts.len(), "linked, nothing created");
    let all_companies = crm_records(&hubspot, &credential, ObjectKind::Company, &["name"]).await;
    assert_eq!(
        all_companies.len(),
        companies.len() + 1,
        "the lookalike company created anew"
    );
    assert!(all_companies.iter().any(|c| field(c, "name") == "A Different Firm"));

    let open: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records?error_kind=duplicate")).await;
    assert!(open.is_empty(), "every candidate decided: {open:?}");
    let audit: Value = t.admin.get_ok(&t.path("audit")).await;
    let text = audit.to_string();
    assert!(
        text.contains("duplicates.linked") && text.contains("duplicates.created_new"),
        "{text}"
    );
}
