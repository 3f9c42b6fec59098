//! Where a tenant's alerts (and changes) are delivered, set by a person in the admin UI: the same
//! endpoints the app manages with its API key, per environment; the signing secret is shown once;
//! support staff can look but not change them; every change is audited.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::changes::{CreatedWebhookEndpoint, WebhookEndpoint};

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(people_set_where_alerts_go_per_environment);

async fn people_set_where_alerts_go_per_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Hooli Alerts", "hubspot").await;
    let base = t.path("environments/sandbox/webhooks");
    let created: CreatedWebhookEndpoint = expect_json(
        t.admin
            .post(
                &base,
                &json!({ "url": "https://ops.hooli.example/tandem", "events": ["alerts"] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(created.secret.starts_with("whsec_"));
    assert_eq!(created.endpoint.events, ["alerts"]);

    // Listed without the secret; the app's key sees the same endpoint; production has none.
    let listed = t.admin.get(&base).await;
    let text = listed.text().await.unwrap();
    assert!(!text.contains(&created.secret));
    let listed: Vec<WebhookEndpoint> = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], created.endpoint);
    let by_key: Vec<WebhookEndpoint> = expect_json(
        reqwest::Client::new()
            .get(format!("{}/api/v1/webhooks", app.address))
            .bearer_auth(&t.key)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_key, listed);
    let production: Vec<WebhookEndpoint> = t.admin.get_ok(&t.path("environments/production/webhooks")).await;
    assert!(production.is_empty());

    // Bad input names the field; an unknown environment too.
    let bad = t.admin.post(&base, &json!({ "url": "ftp://ops.hooli.example" })).await;
    let body = expect_error(bad, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("url"));
    let nowhere = t.admin.get(&t.path("environments/staging/webhooks")).await;
    let body = expect_error(nowhere, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("environment"));

    // Support looks, but cannot change where alerts go.
    let support = app.staff("support").await;
    let seen: Vec<WebhookEndpoint> = support.get_ok(&base).await;
    assert_eq!(seen.len(), 1);
    let refused = support
        .post(&base, &json!({ "url": "https://support.example/hook" }))
        .await;
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden").await;

    let removed = t.admin.delete(&format!("{base}/{}", created.endpoint.id)).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let after: Vec<WebhookEndpoint> = t.admin.get_ok(&base).await;
    assert!(after.is_empty());
    let audit: Value = t.admin.get_ok(&t.path("audit")).await;
    let text = audit.to_string();
    assert!(text.contains("webhook_endpoint.created") && text.contains("webhook_endpoint.deleted"));
    assert!(!text.contains(&created.secret));
}
