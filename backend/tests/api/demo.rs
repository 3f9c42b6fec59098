//! Sales demos (the admin UI issue's sales flow): `Start demo` makes a demo tenant connected to
//! the sandbox CRMs asked for (HubSpot and Salesforce by default) through their consent pages, seeds the app, creates the
//! pipelines, and the activity generator changes records on every side (some bad, so failed
//! records appear); the dashboard shows it; `Reset demo` starts over. Only sales staff and
//! operator admins start demos; a demo tenant's CRMs are the sandbox ones.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::ObjectKind;
use tandem::connectors::hubspot::HubSpotConnector;
use tandem_shared::api::connections::Connection;
use tandem_shared::api::demo::DemoDashboard;
use tandem_shared::api::pipelines::Pipeline;
use tandem_shared::api::tenants::Tenant;

use crate::db_tests;
use crate::helpers::{Backend, SandboxServer, crm_records, expect_error, expect_json, spawn_app};

db_tests!(sales_start_a_demo_that_moves_records_and_reset_it);

async fn sales_start_a_demo_that_moves_records_and_reset_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let sales = app.staff("sales").await;
    let support = app.staff("support").await;
    let (customer, customer_admin) = app.tenant_with_admin("Not A Demo").await;

    // Only sales staff and operator admins start demos.
    for (who, client) in [("support", &support), ("a tenant admin", &customer_admin)] {
        let resp = client.post("/api/v1/demos", &json!({})).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let demo: Tenant = expect_json(sales.post("/api/v1/demos", &json!({})).await, StatusCode::CREATED).await;
    assert!(demo.is_demo && demo.name.starts_with("Sales demo"), "{demo:?}");

    // Wired to the sandbox HubSpot and Salesforce, with four pipelines.
    let connections: Vec<Connection> = sales.get_ok(&format!("/api/v1/tenants/{}/connections", demo.id)).await;
    let mut providers: Vec<&str> = connections.iter().map(|c| c.provider.as_str()).collect();
    providers.sort();
    assert_eq!(providers, ["hubspot", "salesforce"]);
    assert!(
        connections
            .iter()
            .all(|c| c.target == tandem_shared::api::connections::ConnectionTarget::Sandbox),
        "{connections:?}"
    );
    let pipelines: Vec<Pipeline> = sales.get_ok(&format!("/api/v1/tenants/{}/pipelines", demo.id)).await;
    assert_eq!(pipelines.len(), 4, "{pipelines:?}");

    // The first runs carry the seeded records to the CRMs.
    app.run_jobs().await;
    let sandbox = SandboxServer {
        base: format!("{}/sandbox", app.address),
    };
    let credential = sandbox.hubspot_credential(&format!("{}-sandbox", demo.slug)).await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let contacts = crm_records(&hubspot, &credential, ObjectKind::Contact, &["email"]).await;
    let seeded = contacts
        .iter()
        .filter(|c| {
            c.fields["email"]
                .as_str()
                .is_some_and(|e| e.contains(".0@") || e.contains(".5@"))
        })
        .count();
    assert_eq!(seeded, 2, "seeded app contacts reached HubSpot");

    // Three rounds of activity: changes on every side, one bad contact.
    for round in 0..3 {
        let done = tandem::services::demo::activity_round(app.db(), &app.state.queue, &app.state.crm, &demo, round)
            .await
            .unwrap();
        assert!(
            done.app_changes >= 2 && done.crm_changes >= 1,
            "round {round}: {done:?}"
        );
        app.run_jobs().await;
    }
    // The next poll: a record another pipeline brought to the app in the last round (from
    // Salesforce, say) goes on to HubSpot, whichever pipeline happened to run first.
    let demo_pipelines: Vec<Pipeline> = sales.get_ok(&format!("/api/v1/tenants/{}/pipelines", demo.id)).await;
    for pipeline in &demo_pipelines {
        tandem::sync::jobs::trigger(
            app.db(),
            &app.state.queue,
            demo.id,
            pipeline.id,
            tandem_shared::api::runs::RunTrigger::Poll,
        )
        .await
        .unwrap();
    }
    app.run_jobs().await;
    let dashboard: DemoDashboard = sales.get_ok(&format!("/api/v1/demos/{}", demo.id)).await;
    assert_eq!(dashboard.pipelines.len(), 4);
    let mut crms: Vec<&str> = dashboard.pipelines.iter().map(|p| p.crm.as_str()).collect();
    crms.sort();
    assert_eq!(crms, ["HubSpot", "HubSpot", "HubSpot", "Salesforce"]);
    let created: i64 = dashboard.pipelines.iter().map(|p| p.created).sum();
    let updated: i64 = dashboard.pipelines.iter().map(|p| p.updated).sum();
    assert!(created >= 12 && updated >= 1, "{dashboard:?}");
    assert!(dashboard.open_failed >= 1, "the bad contact failed: {dashboard:?}");
    assert!(!dashboard.recent.is_empty());
    assert!(dashboard.activity_running);
    // A Salesforce contact the generator added reached the app, and from there HubSpot.
    let salesforce_born: Value = sales
        .get_ok(&format!("/api/v1/tenants/{}/failed-records?status=open", demo.id))
        .await;
    assert!(
        salesforce_born.to_string().contains("call after lunch"),
        "the bad phone number is the failure: {salesforce_born}"
    );
    let contacts_after = crm_records(&hubspot, &credential, ObjectKind::Contact, &["email"]).await;
    assert!(
        contacts_after
            .iter()
            .any(|c| c.fields["email"].as_str().is_some_and(|e| e.contains(".sf1@"))),
        "the contact created in Salesforce reached HubSpot through the app"
    );

    // Not a demo, no dashboard; another tenant's admin sees no demo.
    let resp = app.admin().await.get(&format!("/api/v1/demos/{}", customer.id)).await;
    expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    let resp = customer_admin.get(&format!("/api/v1/demos/{}", demo.id)).await;
    assert!(
        matches!(resp.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        resp.status()
    );

    // Reset: the old demo is gone with its records; a fresh one starts.
    let fresh: Tenant = expect_json(
        sales
            .post(&format!("/api/v1/demos/{}/reset", demo.id), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(fresh.id, demo.id);
    assert!(fresh.is_demo);
    let gone = sales.get(&format!("/api/v1/tenants/{}", demo.id)).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let dashboard: DemoDashboard = sales.get_ok(&format!("/api/v1/demos/{}", fresh.id)).await;
    assert_eq!(dashboard.pipelines.len(), 4);
    assert_eq!(dashboard.open_failed, 0);
    let audit: Value = app.admin().await.get_ok("/api/v1/audit").await;
    let text = audit.to_string();
    assert!(text.contains("demo.started") && text.contains("demo.reset"), "{text}");
}

db_tests!(sales_choose_the_crms_a_demo_connects);

async fn sales_choose_the_crms_a_demo_connects(backend: Backend) {
    let app = spawn_app(backend).await;
    let sales = app.staff("sales").await;
    // A CRM that is not live (or not a CRM) is refused, naming the field.
    for bad in [
        json!({ "crms": ["zoho"] }),
        json!({ "crms": ["nope"] }),
        json!({ "crm": ["hubspot"] }),
    ] {
        let refused = sales.post("/api/v1/demos", &bad).await;
        let error = expect_error(refused, StatusCode::BAD_REQUEST, "invalid_field").await;
        assert_eq!(error.field.as_deref(), Some("crms"), "{bad}: {error:?}");
    }
    let demo: Tenant = expect_json(
        sales
            .post("/api/v1/demos", &json!({ "crms": ["pipedrive", "hubspot"] }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let connections: Vec<Connection> = sales.get_ok(&format!("/api/v1/tenants/{}/connections", demo.id)).await;
    let mut providers: Vec<&str> = connections.iter().map(|c| c.provider.as_str()).collect();
    providers.sort();
    assert_eq!(providers, ["hubspot", "pipedrive"]);
    let pipelines: Vec<Pipeline> = sales.get_ok(&format!("/api/v1/tenants/{}/pipelines", demo.id)).await;
    let mut names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Appointments → Pipedrive",
            "Contacts ⇄ HubSpot",
            "Contacts ⇄ Pipedrive",
            "Deals ⇄ Pipedrive"
        ]
    );

    // The seeded contacts reach Pipedrive, and a round of activity changes a person there.
    app.run_jobs().await;
    let account = format!("{}-sandbox", demo.slug);
    let sandbox = SandboxServer {
        base: format!("{}/sandbox", app.address),
    };
    let token = sandbox
        .control(
            "POST",
            &format!("/pipedrive/accounts/{account}/tokens/static"),
            Value::Null,
        )
        .await;
    let credential = tandem::connectors::Credential {
        access_token: secrecy::SecretString::from(token["access_token"].as_str().unwrap().to_string()),
        base_url: format!("{}/pipedrive/{account}", sandbox.base),
        kind: tandem::connectors::TokenKind::ApiToken,
    };
    let pipedrive = tandem::connectors::pipedrive::PipedriveConnector::new(reqwest::Client::new());
    let persons = crm_records(&pipedrive, &credential, ObjectKind::Contact, &[]).await;
    assert!(
        persons
            .iter()
            .filter(|p| p.fields["email"]
                .as_str()
                .is_some_and(|e| e.contains(".0@") || e.contains(".5@")))
            .count()
            >= 2,
        "seeded app contacts reached Pipedrive"
    );
    let done = tandem::services::demo::activity_round(app.db(), &app.state.queue, &app.state.crm, &demo, 0)
        .await
        .unwrap();
    assert!(done.crm_changes >= 2, "HubSpot and Pipedrive both changed: {done:?}");

    // A reset connects the same CRMs again.
    let fresh: Tenant = expect_json(
        sales
            .post(&format!("/api/v1/demos/{}/reset", demo.id), &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let connections: Vec<Connection> = sales.get_ok(&format!("/api/v1/tenants/{}/connections", fresh.id)).await;
    let mut providers: Vec<&str> = connections.iter().map(|c| c.provider.as_str()).collect();
    providers.sort();
    assert_eq!(providers, ["hubspot", "pipedrive"]);
}
