//! The operator's app pushes records with a tenant API key: validated into the unified model,
//! stored per environment, idempotent, batchable, every invalid field named.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::api_keys::CreatedApiKey;
use tandem_shared::api::records::{BatchPushResult, PushOutcome, PushResult, StoredRecord};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, expect_error, expect_json, spawn_app};

db_tests!(
    pushing_a_record_is_idempotent_and_versioned,
    invalid_records_name_every_field_and_store_nothing,
    batches_store_the_good_and_report_the_bad,
    records_belong_to_the_keys_environment
);

struct AppClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl AppClient {
    async fn new(app: &TestApp, environment: &str) -> AppClient {
        let (tenant, admin) = app
            .tenant_with_admin(&format!("App {}", uuid::Uuid::new_v4().simple()))
            .await;
        let key: CreatedApiKey = admin
            .post_ok(
                &format!("/api/v1/tenants/{}/api-keys", tenant.id),
                &json!({ "name": "app", "environment": environment }),
            )
            .await;
        AppClient {
            http: reqwest::Client::new(),
            base: app.address.clone(),
            key: key.secret,
        }
    }

    async fn put(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .put(format!("{}/api/v1/records/{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/records/{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/v1/records/{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(format!("{}/api/v1/records/{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }
}

async fn pushing_a_record_is_idempotent_and_versioned(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = AppClient::new(&app, "production").await;
    let ada = json!({ "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "address": { "country": "gb" } });

    let created: PushResult = expect_json(client.put("contact/c-1", &ada).await, StatusCode::OK).await;
    assert_eq!((created.outcome, created.version), (PushOutcome::Created, Some(1)));
    let again: PushResult = expect_json(client.put("contact/c-1", &ada).await, StatusCode::OK).await;
    assert_eq!(
        (again.outcome, again.version),
        (PushOutcome::Unchanged, Some(1)),
        "the same content changes nothing"
    );
    // Whitespace and key order are not content.
    let same = json!({ "email": " ada@example.com", "last_name": "Lovelace ", "first_name": "Ada", "address": { "country": "GB" } });
    let same: PushResult = expect_json(client.put("contact/c-1", &same).await, StatusCode::OK).await;
    assert_eq!(same.outcome, PushOutcome::Unchanged);

    let changed: PushResult = expect_json(
        client.put("contact/c-1", &json!({ "email": "ada@lovelace.org" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((changed.outcome, changed.version), (PushOutcome::Updated, Some(2)));
    let stored: StoredRecord = expect_json(client.get("contact/c-1").await, StatusCode::OK).await;
    assert_eq!(stored.data, json!({ "email": "ada@lovelace.org" }));
    assert_eq!(stored.content_hash.len(), 64);

    let deleted: PushResult = expect_json(client.delete("contact/c-1").await, StatusCode::OK).await;
    assert_eq!((deleted.outcome, deleted.version), (PushOutcome::Deleted, Some(3)));
    let stored: StoredRecord = expect_json(client.get("contact/c-1").await, StatusCode::OK).await;
    assert!(stored.deleted);
    expect_error(client.delete("contact/c-1").await, StatusCode::NOT_FOUND, "not_found").await;
    let back: PushResult = expect_json(
        client.put("contact/c-1", &json!({ "email": "ada@lovelace.org" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (back.outcome, back.version),
        (PushOutcome::Updated, Some(4)),
        "pushing a deleted record brings it back"
    );

    // A deal keeps its decimals exact.
    let deal = json!({
        "name": "Fleet rollout", "status": "won", "currency": "eur", "amount": "1499.90",
        "line_items": [{ "product_number": "TND-1001", "quantity": "3", "unit_price": "49.90", "discount_percent": "10", "tax_percent": "19" }]
    });
    let _: PushResult = expect_json(client.put("deal/d-1", &deal).await, StatusCode::OK).await;
    let stored: StoredRecord = expect_json(client.get("deal/d-1").await, StatusCode::OK).await;
    assert_eq!(stored.data["amount"], "1499.9");
    assert_eq!(stored.data["currency"], "EUR");
    assert_eq!(stored.data["line_items"][0]["unit_price"], "49.9");
}

async fn invalid_records_name_every_field_and_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = AppClient::new(&app, "sandbox").await;
    let error = expect_error(
        client
            .put(
                "contact/c-2",
                &json!({ "email": "not an email", "address": { "country": "Germany" } }),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("email"));
    assert!(error.message.contains("also address.country"), "{}", error.message);
    let error = expect_error(
        client
            .put("contact/c-2", &json!({ "email": "a@b.co", "colour": "red" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert!(error.message.contains("unknown field `colour`"), "{}", error.message);
    let error = expect_error(
        client
            .put("deal/d-2", &json!({ "amount": 12.5, "currency": "XYZ" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("currency"));
    let error = expect_error(
        client.put("invoice/i-1", &json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("object"));
    let long = "x".repeat(256);
    let error = expect_error(
        client
            .put(&format!("contact/{long}"), &json!({ "email": "a@b.co" }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("external_id"));
    expect_error(client.get("contact/c-2").await, StatusCode::NOT_FOUND, "not_found").await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_records")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

async fn batches_store_the_good_and_report_the_bad(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = AppClient::new(&app, "production").await;
    let _: PushResult = expect_json(
        client
            .put(
                "company/co-1",
                &json!({ "name": "Acme GmbH", "vat_id": "de 123 456 789" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let result: BatchPushResult = expect_json(
        client
            .post(
                "company/batch",
                &json!({ "records": [
                    { "external_id": "co-1", "data": { "name": "Acme GmbH", "vat_id": "DE123456789" } },
                    { "external_id": "co-2", "data": { "name": "Initech" } },
                    { "external_id": "co-3", "data": { "industry": "software" } },
                    { "external_id": "co-2", "data": { "name": "Initech again" } },
                    { "external_id": "co-4", "data": { "registration_number": "HRB 1234" } }
                ]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let outcomes: Vec<PushOutcome> = result.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            PushOutcome::Unchanged,
            PushOutcome::Created,
            PushOutcome::Invalid,
            PushOutcome::Invalid,
            PushOutcome::Created
        ]
    );
    assert_eq!(
        (result.created, result.updated, result.unchanged, result.invalid),
        (2, 0, 1, 2)
    );
    assert_eq!(result.results[2].errors[0].field, "name");
    assert_eq!(
        result.results[3].errors[0].message,
        "appears more than once in this batch"
    );
    let stored: StoredRecord = expect_json(client.get("company/co-2").await, StatusCode::OK).await;
    assert_eq!(stored.data["name"], "Initech");

    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({ "external_id": format!("x{i}"), "data": { "name": "X" } }))
        .collect();
    let error = expect_error(
        client.post("company/batch", &json!({ "records": too_many })).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(error.field.as_deref(), Some("records"));
}

async fn records_belong_to_the_keys_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Two Envs").await;
    let key = |environment: &'static str| {
        let admin = &admin;
        let tenant = tenant.id;
        async move {
            let created: CreatedApiKey = admin
                .post_ok(
                    &format!("/api/v1/tenants/{tenant}/api-keys"),
                    &json!({ "name": environment, "environment": environment }),
                )
                .await;
            created
        }
    };
    let sandbox = key("sandbox").await;
    let production = key("production").await;
    let put = |secret: String, body: Value| {
        let base = app.address.clone();
        async move {
            reqwest::Client::new()
                .put(format!("{base}/api/v1/records/contact/same-id"))
                .bearer_auth(secret)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        put(sandbox.secret.clone(), json!({ "email": "sandbox@example.com" }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        put(production.secret.clone(), json!({ "email": "live@example.com" }))
            .await
            .status(),
        StatusCode::OK
    );
    let read = |secret: String| {
        let base = app.address.clone();
        async move {
            let response = reqwest::Client::new()
                .get(format!("{base}/api/v1/records/contact/same-id"))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap();
            expect_json::<StoredRecord>(response, StatusCode::OK).await.data["email"].clone()
        }
    };
    assert_eq!(read(sandbox.secret.clone()).await, "sandbox@example.com");
    assert_eq!(read(production.secret.clone()).await, "live@example.com");

    // A revoked key is refused at once, and a session is not an API key.
    admin
        .post_ok::<Value>(
            &format!("/api/v1/tenants/{}/api-keys/{}/revoke", tenant.id, sandbox.key.id),
            &json!({}),
        )
        .await;
    expect_error(
        put(sandbox.secret, json!({ "email": "x@example.com" })).await,
        StatusCode::UNAUTHORIZED,
        "api_key_revoked",
    )
    .await;
    expect_error(
        admin.get("/api/v1/records/contact/same-id").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
