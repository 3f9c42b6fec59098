//! Tenant isolation, swept over every route in the OpenAPI document, so that a new route is
//! covered the day it is added: tenant A's admin (or A's API key, for app routes) calls each
//! route with tenant B's ids and must get 404, and B's data must be untouched afterwards.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem::connectors::Connector;
use tandem_shared::api::api_keys::{ApiKey, CreatedApiKey};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::api::users::{CreatedUser, User};

use crate::db_tests;
use crate::helpers::{Backend, Client, TestApp, connect_sandbox, expect_json, spawn_app};

db_tests!(no_route_reaches_another_tenants_data);

/// Routes without ids in their path, with the reason each is safe. A new route without ids fails
/// the test until it is listed here.
const UNSCOPED: &[(&str, &str, &str)] = &[
    ("post", "/api/v1/auth/login", "anonymous"),
    ("post", "/api/v1/auth/logout", "acts on the caller's own session"),
    ("get", "/api/v1/auth/session", "the caller's own session"),
    (
        "get",
        "/api/v1/tenants",
        "filtered to what the caller may see: checked below",
    ),
    (
        "post",
        "/api/v1/tenants",
        "creates; operator staff only: checked in roles tests",
    ),
    ("get", "/api/v1/audit", "operator staff only: checked below"),
    (
        "get",
        "/api/v1/support/search",
        "operator staff only: checked in support tests",
    ),
    (
        "post",
        "/api/v1/demos",
        "creates a new demo tenant; sales staff and operator admins only: checked in demo tests",
    ),
    ("get", "/api/v1/app/whoami", "the key's own tenant"),
    ("get", "/api/v1/catalogue", "the same CRM list for everyone"),
    (
        "get",
        "/api/v1/oauth/callback",
        "anonymous; the single-use state names the tenant",
    ),
    (
        "post",
        "/api/v1/crm-webhooks/hubspot",
        "signed by the CRM; the signed account names the connections (tested in sync_webhooks)",
    ),
    ("get", "/api/v1/changes", "the key's own environment's feed"),
    ("get", "/api/v1/webhooks", "the key's own environment's endpoints"),
    ("post", "/api/v1/webhooks", "creates in the key's own environment"),
    ("get", "/healthz", "no tenant data"),
    ("get", "/readyz", "no tenant data"),
];

/// App routes whose ids are the app's own names, resolved inside the key's tenant: writing with B's
/// external id creates or changes A's record of that name, never B's (checked at the end).
const OWN_SCOPE_WRITES: &[(&str, &str)] = &[
    ("put", "/api/v1/records/{object}/{external_id}"),
    ("post", "/api/v1/records/{object}/batch"),
];

struct Side {
    tenant: Tenant,
    admin: Client,
    user: User,
    key: ApiKey,
    key_secret: String,
    connection: tandem_shared::api::connections::Connection,
    sync: SyncIds,
}

/// Ids of the side's sync history: a pipeline that ran, with a failed record and an alert, and a
/// webhook endpoint with a delivery.
struct SyncIds {
    pipeline_id: String,
    run_id: String,
    failed_record_id: String,
    alert_id: String,
    endpoint_id: String,
    delivery_id: String,
    /// The sandbox environment's API key.
    key: String,
}

async fn side(app: &TestApp, name: &str) -> Side {
    let (tenant, admin) = app.tenant_with_admin(name).await;
    let created: CreatedUser = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/users", tenant.id),
            &json!({ "email": format!("viewer@{}.example.com", tenant.slug), "name": "Viewer", "role": "viewer" }),
        )
        .await;
    let key: CreatedApiKey = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/api-keys", tenant.id),
            &json!({ "name": "App", "environment": "production" }),
        )
        .await;
    let connection = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let pushed = reqwest::Client::new()
        .put(format!("{}/api/v1/records/contact/{}-record", app.address, tenant.slug))
        .bearer_auth(&key.secret)
        .json(&json!({ "email": format!("owner@{}.example.com", tenant.slug) }))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    let sync = sync_history(app, &admin, &tenant, &connection).await;
    Side {
        tenant,
        admin,
        user: created.user,
        key: key.key,
        key_secret: key.secret,
        connection,
        sync,
    }
}

/// Gives the side a pipeline run with a failed record (an invalid phone), a duplicate skipped with
/// an alert (a HubSpot contact with the same email), and an alert webhook delivery.
async fn sync_history(
    app: &TestApp,
    admin: &Client,
    tenant: &Tenant,
    connection: &tandem_shared::api::connections::Connection,
) -> SyncIds {
    let http = reqwest::Client::new();
    let sandbox_key: CreatedApiKey = admin
        .post_ok(
            &format!("/api/v1/tenants/{}/api-keys", tenant.id),
            &json!({ "name": "App (sandbox)", "environment": "sandbox" }),
        )
        .await;
    let key = sandbox_key.secret.as_str();
    let hook: Value = expect_json(
        http.post(format!("{}/api/v1/webhooks", app.address))
            .bearer_auth(key)
            .json(&json!({ "url": "http://127.0.0.1:9/hooks", "events": ["alerts"] }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let sandbox = crate::helpers::SandboxServer {
        base: format!("{}/sandbox", app.address),
    };
    let credential = sandbox.hubspot_credential(&format!("{}-sandbox", tenant.slug)).await;
    let twin_email = format!("twin@{}.example.com", tenant.slug);
    tandem::connectors::hubspot::HubSpotConnector::new(reqwest::Client::new())
        .create(
            &credential,
            tandem::connectors::ObjectKind::Contact,
            &[std::collections::BTreeMap::from([(
                "email".to_string(),
                json!(twin_email),
            )])],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let records = json!({ "records": [
        { "external_id": format!("{}-bad-phone", tenant.slug), "data": { "last_name": "Bad", "phone": "12" } },
        { "external_id": format!("{}-twin", tenant.slug), "data": { "last_name": "Twin", "email": twin_email } },
    ]});
    let pushed = http
        .post(format!("{}/api/v1/records/contact/batch", app.address))
        .bearer_auth(key)
        .json(&records)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    let pipeline: Value = expect_json(
        admin
            .post(
                &format!("/api/v1/tenants/{}/pipelines", tenant.id),
                &json!({
                    "name": "Contacts", "environment": "sandbox", "object": "contact",
                    "source": { "kind": "app" },
                    "target": { "kind": "connection", "connection_id": connection.id },
                    "direction": "one_way",
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    app.run_jobs().await;
    let pipeline_id = pipeline["id"].as_str().unwrap().to_string();
    let runs: Vec<Value> = admin
        .get_ok(&format!("/api/v1/tenants/{}/pipelines/{pipeline_id}/runs", tenant.id))
        .await;
    let failed: Vec<Value> = admin
        .get_ok(&format!(
            "/api/v1/tenants/{}/failed-records?error_kind=mapping",
            tenant.id
        ))
        .await;
    let alerts: Vec<Value> = admin.get_ok(&format!("/api/v1/tenants/{}/alerts", tenant.id)).await;
    let endpoint_id = hook["endpoint"]["id"].as_str().unwrap().to_string();
    let deliveries: Vec<Value> = expect_json(
        http.get(format!("{}/api/v1/webhooks/{endpoint_id}/deliveries", app.address))
            .bearer_auth(key)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let events: Value = admin
        .get_ok(&format!(
            "/api/v1/tenants/{}/runs/{}/events",
            tenant.id,
            runs[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?} {runs:?} {events}");
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    SyncIds {
        pipeline_id,
        run_id: runs[0]["id"].as_str().unwrap().to_string(),
        failed_record_id: failed[0]["id"].as_str().unwrap().to_string(),
        alert_id: alerts[0]["id"].as_str().unwrap().to_string(),
        endpoint_id,
        delivery_id: deliveries[0]["id"].as_str().unwrap().to_string(),
        key: sandbox_key.secret.clone(),
    }
}

/// A valid body for each request schema, so that a 404 cannot hide behind a 400.
fn sample_body(schema: &str) -> Value {
    match schema {
        "CreateUserRequest" => {
            json!({ "email": "intruder@example.com", "name": "Intruder", "role": "admin" })
        }
        "UpdateUserRequest" => json!({ "role": "viewer", "name": "Renamed" }),
        "CreateApiKeyRequest" => json!({ "name": "Intruder key", "environment": "production" }),
        "UpdateTenantRequest" => json!({ "name": "Taken over" }),
        "CreateTenantRequest" => json!({ "name": "New tenant" }),
        "LoginRequest" => json!({ "email": "x@example.com", "password": "whatever-password" }),
        "StartConnectRequest" => json!({ "provider": "hubspot", "environment": "sandbox" }),
        "ConnectWithCredentialsRequest" => {
            json!({ "provider": "pipedrive", "environment": "sandbox", "credentials": { "api_token": "intruder" } })
        }
        "StartDemoRequest" => json!({ "crms": ["hubspot"] }),
        "PromoteRequest" => json!({ "fingerprint": "anything" }),
        "UpdateConnectionRequest" => json!({ "requests_per_second": 1, "daily_quota": 1 }),
        "CreatePipelineRequest" => json!({
            "name": "Intruder", "environment": "sandbox", "object": "contact",
            "source": { "kind": "app" }, "target": { "kind": "app" }, "direction": "one_way",
        }),
        "UpdatePipelineRequest" => json!({ "name": "Taken over", "status": "paused" }),
        "RunPipelineRequest" => json!({}),
        "SaveMappingRequest" | "PreviewMappingRequest" => {
            json!({ "config": { "object": "contact", "fields": [{ "target": "email", "source": "email" }] } })
        }
        "DecideHeldDeletesRequest" => json!({ "approve": true }),
        "ReplayRequest" => json!({ "error_kind": "mapping" }),
        "IgnoreRequest" => json!({ "error_kind": "mapping", "reason": "intruder" }),
        "DecideDuplicatesRequest" => {
            json!({ "ids": ["00000000-0000-4000-8000-000000000000"], "decision": "create_new" })
        }
        "CreateWebhookEndpointRequest" => json!({ "url": "https://intruder.example/hook" }),
        "BatchPush" => {
            json!({ "records": [{ "external_id": "tenant-b-record", "data": { "email": "intruder@example.com" } }] })
        }
        other => panic!("no sample body for request schema {other}: add one to isolation.rs"),
    }
}

fn request_schema(operation: &Value) -> Option<String> {
    let reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()?;
    Some(reference.rsplit('/').next()?.to_string())
}

fn uses_api_key(operation: &Value) -> bool {
    operation["security"]
        .as_array()
        .is_some_and(|list| list.iter().any(|s| s.get("api_key").is_some()))
}

async fn no_route_reaches_another_tenants_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = side(&app, "Tenant A").await;
    let b = side(&app, "Tenant B").await;
    let doc: Value = expect_json(app.client().get("/api/openapi.json").await, StatusCode::OK).await;

    let b_ids: BTreeMap<&str, String> = BTreeMap::from([
        ("tenant_id", b.tenant.id.to_string()),
        ("user_id", b.user.id.to_string()),
        ("key_id", b.key.id.to_string()),
        ("connection_id", b.connection.id.to_string()),
        ("object", "contact".to_string()),
        ("pipeline_id", b.sync.pipeline_id.clone()),
        ("flow", "forward".to_string()),
        ("run_id", b.sync.run_id.clone()),
        ("failed_record_id", b.sync.failed_record_id.clone()),
        ("alert_id", b.sync.alert_id.clone()),
        ("record_id", "tenant-b-bad-phone".to_string()),
        ("endpoint_id", b.sync.endpoint_id.clone()),
        ("delivery_id", b.sync.delivery_id.clone()),
        ("external_id", "tenant-b-record".to_string()),
        ("environment", "sandbox".to_string()),
    ]);
    let mut checked = 0;
    // Writes into A's own scope go last, so that they cannot turn B's ids into A's records
    // before the reads and deletes have been tried with them.
    let mut operations: Vec<(&String, &String, &Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(move |(method, op)| (path, method, op))
        })
        .collect();
    operations.sort_by_key(|(path, method, _)| OWN_SCOPE_WRITES.iter().any(|(m, p)| m == method && p == path));
    for (path, method, operation) in operations {
        {
            let params: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            if params.is_empty() {
                assert!(
                    UNSCOPED.iter().any(|(m, p, _)| *m == method && p == path),
                    "{method} {path} takes no ids: list it in UNSCOPED with the reason it cannot leak"
                );
                continue;
            }
            let body = request_schema(operation)
                .map(|schema| sample_body(&schema))
                .or_else(|| {
                    // Records take any object's schema, so their PUT declares a plain object.
                    (operation["requestBody"].is_object()).then(|| json!({ "email": "intruder@example.com" }))
                });
            let own_scope_write = OWN_SCOPE_WRITES.iter().any(|(m, p)| *m == method && p == path);
            // All of B's ids; then A's tenant with B's other ids.
            let mut variants = vec![b_ids.clone()];
            // Names that are not ids (`environment`, `flow`, `object`) are A's own with A's tenant.
            let other_ids = params
                .iter()
                .any(|p| *p != "tenant_id" && !["environment", "flow", "object"].contains(p));
            if params.contains(&"tenant_id") && other_ids {
                let mut mixed = b_ids.clone();
                mixed.insert("tenant_id", a.tenant.id.to_string());
                variants.push(mixed);
            }
            for ids in variants {
                let mut url = path.clone();
                for param in &params {
                    let id = ids
                        .get(param)
                        .unwrap_or_else(|| panic!("{path}: no id of tenant B for {{{param}}}; add one"));
                    url = url.replace(&format!("{{{param}}}"), id);
                }
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let response = if uses_api_key(operation) {
                    let mut request = a
                        .admin
                        .http
                        .request(method.clone(), format!("{}{url}", app.address))
                        .bearer_auth(&a.key_secret);
                    if let Some(body) = &body {
                        request = request.json(body);
                    }
                    request.send().await.unwrap()
                } else {
                    a.admin.request(method.clone(), &url, body.as_ref()).await
                };
                let status = response.status();
                let text = response.text().await.unwrap();
                if own_scope_write {
                    assert_eq!(
                        status,
                        StatusCode::OK,
                        "{method} {url} as tenant A writes A's own record: {text}"
                    );
                    checked += 1;
                    continue;
                }
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {url} as tenant A: {text}");
                assert!(text.contains("\"not_found\""), "{method} {url}: {text}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 14,
        "only {checked} requests were checked: is the OpenAPI document complete?"
    );

    // The unscoped routes show A only A.
    let tenants: Vec<Tenant> = a.admin.get_ok("/api/v1/tenants").await;
    assert_eq!(tenants.iter().map(|t| t.id).collect::<Vec<_>>(), vec![a.tenant.id]);
    assert_eq!(a.admin.get("/api/v1/audit").await.status(), StatusCode::FORBIDDEN);
    let whoami: Value = expect_json(
        reqwest::Client::new()
            .get(format!("{}/api/v1/app/whoami", app.address))
            .bearer_auth(&a.key_secret)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(whoami["tenant_id"], a.tenant.id.to_string());

    // Nothing of B's changed.
    let b_tenant: Tenant = b.admin.get_ok(&format!("/api/v1/tenants/{}", b.tenant.id)).await;
    assert_eq!(b_tenant.name, "Tenant B");
    let b_users: Vec<User> = b.admin.get_ok(&format!("/api/v1/tenants/{}/users", b.tenant.id)).await;
    assert_eq!(b_users.len(), 2);
    assert!(b_users.iter().any(|u| u.id == b.user.id && u.name == "Viewer"));
    let b_connections: Vec<tandem_shared::api::connections::Connection> = b
        .admin
        .get_ok(&format!("/api/v1/tenants/{}/connections", b.tenant.id))
        .await;
    assert_eq!(b_connections.len(), 1, "B's connection is still there");
    assert_eq!(
        b_connections[0].status,
        tandem_shared::api::connections::ConnectionStatus::Healthy
    );
    let b_keys: Vec<ApiKey> = b
        .admin
        .get_ok(&format!("/api/v1/tenants/{}/api-keys", b.tenant.id))
        .await;
    assert_eq!(b_keys.len(), 2, "the production key and the sandbox one");
    assert!(b_keys.iter().all(|k| k.revoked_at.is_none()));
    let b_audit: Value = b.admin.get_ok(&format!("/api/v1/tenants/{}/audit", b.tenant.id)).await;
    assert!(
        !b_audit.to_string().contains("admin@tenant-a"),
        "A left no trace in B's log"
    );
    let b_record: Value = expect_json(
        reqwest::Client::new()
            .get(format!("{}/api/v1/records/contact/tenant-b-record", app.address))
            .bearer_auth(&b.key_secret)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        b_record["data"]["email"], "owner@tenant-b.example.com",
        "A's writes went to A's own record"
    );
    assert_eq!(b_record["version"], 1);
    let b_pipeline: Value = b
        .admin
        .get_ok(&format!(
            "/api/v1/tenants/{}/pipelines/{}",
            b.tenant.id, b.sync.pipeline_id
        ))
        .await;
    assert_eq!(
        (b_pipeline["name"].as_str(), b_pipeline["status"].as_str()),
        (Some("Contacts"), Some("active"))
    );
    assert_eq!(b_pipeline["forward_mapping"]["version"], 1);
    let b_failed: Value = b
        .admin
        .get_ok(&format!(
            "/api/v1/tenants/{}/failed-records/{}",
            b.tenant.id, b.sync.failed_record_id
        ))
        .await;
    assert_eq!(b_failed["status"], "open");
    let b_alerts: Vec<Value> = b.admin.get_ok(&format!("/api/v1/tenants/{}/alerts", b.tenant.id)).await;
    assert!(b_alerts[0]["acknowledged_at"].is_null());
    let b_hooks: Vec<Value> = expect_json(
        reqwest::Client::new()
            .get(format!("{}/api/v1/webhooks", app.address))
            .bearer_auth(&b.sync.key)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(b_hooks.len(), 1);
}
