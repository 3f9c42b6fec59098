//! `spawn_app()`: the real application on a random port, with its own database (a SQLite file in
//! a temporary directory, or a PostgreSQL database created for the test and dropped after it),
//! its own key file, and a log capture.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use reqwest::{Method, Response, StatusCode};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::Connection;
use tandem::configuration::{LogFormat, LogSettings, Settings};
use tandem::repo::Db;
use tandem::startup::Application;
use tandem::state::AppState;
use tandem_shared::ErrorBody;
use tandem_shared::api::auth::SessionInfo;
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;

pub const ADMIN_EMAIL: &str = "admin@tandem.test";
pub const ADMIN_PASSWORD: &str = "operator-admin-password";
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named async test function (taking a `Backend`) once per database:
/// `db_tests!(creates_things)` makes `creates_things::sqlite` and `creates_things::postgres`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_available().await {
                        super::$name($crate::helpers::Backend::Postgres).await
                    }
                }
            }
        )*
    };
}

/// Whether PostgreSQL is reachable. In CI it must be: there an unreachable server fails the
/// test; elsewhere the test is skipped with a visible message.
pub async fn postgres_available() -> bool {
    sqlx::any::install_default_drivers();
    let attempt = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::AnyConnection::connect(PG_ADMIN_URL),
    )
    .await;
    match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            true
        }
        failure => {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL is not reachable at {PG_ADMIN_URL} and CI is set: {failure:?}");
            }
            eprintln!("SKIPPED: PostgreSQL is not reachable at {PG_ADMIN_URL}; this test ran on SQLite only");
            false
        }
    }
}

/// Everything the server logged in this test process.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| Mutex::new(Vec::new()))
}

struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init_log_capture() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let settings = LogSettings {
            format: LogFormat::Json,
            filter: "info,sqlx=warn".into(),
        };
        tandem::telemetry::init_logging(&settings, || CaptureWriter);
    });
}

/// A database for one test, dropped when the test ends.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    pub pg_name: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend, data_dir: &std::path::Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase {
                backend,
                url: format!("sqlite://{}?mode=rwc", data_dir.join("tandem.db").display()),
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!("tandem_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::AnyConnection::connect(PG_ADMIN_URL).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                TestDatabase {
                    backend,
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async: use a small runtime of its own on another thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::AnyConnection::connect(PG_ADMIN_URL).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

impl TestApp {
    /// Runs every due job (pipeline runs, webhook deliveries) to the end, in this task.
    pub async fn run_jobs(&self) -> tandem::jobs::RunReport {
        tandem::jobs::run_pending_jobs(&self.state.queue, &self.state.jobs)
            .await
            .unwrap()
    }
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub settings: Settings,
    pub data_dir: tempfile::TempDir,
    pub database: TestDatabase,
    pub demo_tenant: Tenant,
}

/// Settings for a test server: random port, temporary data directory, known admin password.
pub fn test_settings(data_dir: &std::path::Path, database_url: &str) -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.server.workers = Some(2);
    settings.server.ui_dir = PathBuf::from("/nonexistent-ui");
    settings.data_dir = data_dir.to_path_buf();
    settings.database_url = Some(SecretString::from(database_url.to_string()));
    settings.database_max_connections = 5;
    settings.bootstrap.admin_email = ADMIN_EMAIL.into();
    settings.bootstrap.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
    // Tests run jobs when they choose (`TestApp::run_jobs`), not in the background. Retries
    // within a run are quick, so fault tests do not wait for production backoffs.
    settings.sync.workers = false;
    settings.sync.retry_first_delay_ms = 10;
    settings.sync.retry_max_delay_ms = 200;
    settings.sync.lookback_ms = 0;
    // The sandbox CRMs' webhooks would start runs at moments a test does not choose; tests of
    // webhooks turn them on again.
    settings.sandbox.webhook_interval_ms = 3_600_000;
    settings
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_log_capture();
    let data_dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, data_dir.path()).await;
    let mut settings = test_settings(data_dir.path(), &database.url);
    configure(&mut settings);
    let application = Application::build(settings.clone()).await.unwrap();
    let port = application.port();
    let state = application.state().clone();
    tokio::spawn(application.run_until_stopped());
    let demo_tenant = tandem::repo::tenants::find_by_slug(state.db.pool(), "demo")
        .await
        .unwrap()
        .unwrap();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        state,
        settings,
        data_dir,
        database,
        demo_tenant,
    }
}

impl TestApp {
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// A fresh browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder().cookie_store(true).build().unwrap(),
            base: self.address.clone(),
            csrf: None,
        }
    }

    /// A client logged in as the operator admin created on first run.
    pub async fn admin(&self) -> Client {
        let mut client = self.client();
        client.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        client
    }

    /// Creates a tenant (as the operator admin) with an admin user; returns the tenant and a
    /// client logged in as that admin.
    pub async fn tenant_with_admin(&self, name: &str) -> (Tenant, Client) {
        let operator = self.admin().await;
        let tenant: Tenant = operator.post_ok("/api/v1/tenants", &json!({ "name": name })).await;
        let email = format!("admin@{}.example.com", tenant.slug);
        let password = "tenant-admin-password";
        let _: Value = operator
            .post_ok(
                &format!("/api/v1/tenants/{}/users", tenant.id),
                &json!({ "email": email, "name": "Tenant Admin", "role": "admin", "password": password }),
            )
            .await;
        let mut client = self.client();
        client.login_ok(&email, password).await;
        (tenant, client)
    }

    /// Adds a user to a tenant (as the operator admin) and logs them in.
    pub async fn user_in(&self, tenant_id: TenantId, role: &str) -> Client {
        let operator = self.admin().await;
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "a-user-password";
        let _: Value = operator
            .post_ok(
                &format!("/api/v1/tenants/{tenant_id}/users"),
                &json!({ "email": email, "name": role, "role": role, "password": password }),
            )
            .await;
        let mut client = self.client();
        client.login_ok(&email, password).await;
        client
    }

    /// Operator staff (support or sales) created through the CLI path.
    pub async fn staff(&self, role: &str) -> Client {
        use tandem::domain::{Email, Name, NewPassword};
        use tandem::services::users::{NewUser, insert};
        let email = format!("{role}-{}@operator.example.com", uuid::Uuid::new_v4().simple());
        let password = "a-staff-password";
        let mut tx = self.db().begin().await.unwrap();
        insert(
            &mut tx,
            &tandem::services::audit::Actor::cli("test"),
            NewUser {
                tenant_id: None,
                email: Email::parse("email", &email).unwrap(),
                name: Name::parse("name", role).unwrap(),
                role: tandem_shared::Role::parse(role).unwrap(),
                password: Some(NewPassword::parse("password", SecretString::from(password)).unwrap()),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut client = self.client();
        client.login_ok(&email, password).await;
        client
    }
}

/// An HTTP client that keeps the session cookie and sends the CSRF token on writes.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

impl Client {
    pub async fn login(&mut self, email: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn login_ok(&mut self, email: &str, password: &str) -> SessionInfo {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login as {email}");
        let session: SessionInfo = response.json().await.unwrap();
        self.csrf = Some(session.csrf_token.clone());
        session
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if method != Method::GET
            && let Some(csrf) = &self.csrf
        {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None).await
    }

    pub async fn get_ok<T: DeserializeOwned>(&self, path: &str) -> T {
        expect_json(self.get(path).await, StatusCode::OK).await
    }

    pub async fn post_ok<T: DeserializeOwned>(&self, path: &str, body: &Value) -> T {
        let response = self.post(path, body).await;
        let status = response.status();
        assert!(
            status.is_success(),
            "POST {path}: {status} {}",
            response.text().await.unwrap()
        );
        response.json().await.unwrap()
    }
}

/// Asserts the status and decodes the body.
pub async fn expect_json<T: DeserializeOwned>(response: Response, status: StatusCode) -> T {
    let actual = response.status();
    let url = response.url().clone();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

/// Asserts an error response: status, the JSON error shape, and the code.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> ErrorBody {
    let header_request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body: ErrorBody = expect_json(response, status).await;
    assert_eq!(body.code.as_str(), code, "{body:?}");
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert!(!body.request_id.is_empty(), "request id missing: {body:?}");
    assert_eq!(header_request_id.as_deref(), Some(body.request_id.as_str()));
    body
}

/// The sandbox CRMs on their own, on a random port, as `tandem sandbox all` serves them.
pub struct SandboxServer {
    pub base: String,
}

pub async fn spawn_sandbox() -> SandboxServer {
    let served = tandem_sandbox::Sandbox::new();
    // Webhook delivery, quick enough for tests.
    served.start_background(std::time::Duration::from_millis(100));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = actix_web::HttpServer::new(move || actix_web::App::new().configure(|cfg| served.configure(cfg)))
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    SandboxServer {
        base: format!("http://127.0.0.1:{port}"),
    }
}

impl SandboxServer {
    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let request = reqwest::Client::new().request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/_control{path}", self.base),
        );
        let request = if body.is_null() { request } else { request.json(&body) };
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "control {method} {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// A never-expiring token for a HubSpot sandbox account, and the account's API base.
    pub async fn hubspot_credential(&self, account: &str) -> tandem::connectors::Credential {
        let token = self
            .control(
                "POST",
                &format!("/hubspot/accounts/{account}/tokens/static"),
                Value::Null,
            )
            .await;
        tandem::connectors::Credential {
            access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
            base_url: format!("{}/hubspot/{account}", self.base),
            kind: tandem::connectors::TokenKind::OAuth,
        }
    }
}

/// Connects a CRM sandbox account the way a person does: start in Tandem, approve on the
/// sandbox CRM's consent page, follow the redirect to Tandem's callback.
pub async fn connect_sandbox(
    client: &Client,
    tenant_id: TenantId,
    provider: &str,
    environment: &str,
) -> tandem_shared::api::connections::Connection {
    let started: Value = client
        .post_ok(
            &format!("/api/v1/tenants/{tenant_id}/connections/authorize"),
            &json!({ "provider": provider, "environment": environment }),
        )
        .await;
    let authorize_url = started["authorize_url"].as_str().unwrap();
    let callback = approve_consent(authorize_url, "approve").await;
    let page = reqwest::get(&callback).await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "callback: {}",
        page.text().await.unwrap()
    );
    let connections: Vec<tandem_shared::api::connections::Connection> =
        client.get_ok(&format!("/api/v1/tenants/{tenant_id}/connections")).await;
    connections
        .into_iter()
        .find(|c| c.provider == provider && c.environment.as_str() == environment)
        .expect("the connection is listed")
}

/// Submits the consent page's form with `decision` and returns where the CRM redirects.
pub async fn approve_consent(authorize_url: &str, decision: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(authorize_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "consent page");
    let (action, query) = authorize_url.split_once('?').unwrap();
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    form.push(("decision".into(), decision.into()));
    let answer = http.post(action).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND, "consent answer");
    answer.headers()["location"].to_str().unwrap().to_string()
}

impl SandboxServer {
    /// A never-expiring token for a Salesforce sandbox org, and its instance URL.
    pub async fn salesforce_credential(&self, account: &str) -> tandem::connectors::Credential {
        let token = self
            .control(
                "POST",
                &format!("/salesforce/accounts/{account}/tokens/static"),
                Value::Null,
            )
            .await;
        tandem::connectors::Credential {
            access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
            base_url: format!("{}/salesforce/{account}", self.base),
            kind: tandem::connectors::TokenKind::OAuth,
        }
    }
}

/// One HTTP request a `WebhookSink` received.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A stand-in for the operator's app: an HTTP endpoint that keeps every request, answering with
/// the statuses queued in `fail_next` first (then 200).
#[derive(Clone)]
pub struct WebhookSink {
    pub url: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub fail_next: std::sync::Arc<std::sync::Mutex<Vec<u16>>>,
}

impl WebhookSink {
    pub async fn start() -> WebhookSink {
        let received: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let fail_next: std::sync::Arc<std::sync::Mutex<Vec<u16>>> = Default::default();
        let (kept, failing) = (received.clone(), fail_next.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = actix_web::HttpServer::new(move || {
            let (kept, failing) = (kept.clone(), failing.clone());
            actix_web::App::new().default_service(actix_web::web::to(
                move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                    let (kept, failing) = (kept.clone(), failing.clone());
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
                            .collect();
                        kept.lock().unwrap().push(Received {
                            headers,
                            body: body.to_vec(),
                        });
                        let status = {
                            let mut failing = failing.lock().unwrap();
                            if failing.is_empty() { 200 } else { failing.remove(0) }
                        };
                        actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
                    }
                },
            ))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        WebhookSink {
            url: format!("http://127.0.0.1:{port}/hooks"),
            received,
            fail_next,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Every record of `kind` in a CRM account, read through the connector's changed-since pages
/// (waiting out rate limits), each once.
pub async fn crm_records(
    connector: &dyn tandem::connectors::Connector,
    credential: &tandem::connectors::Credential,
    kind: tandem::connectors::ObjectKind,
    fields: &[&str],
) -> Vec<tandem::connectors::Record> {
    use tandem::connectors::ConnectorError;
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let mut cursor = None;
    let mut seen = std::collections::BTreeMap::new();
    loop {
        let page = loop {
            match connector.changes(credential, kind, cursor.as_ref(), &fields, 200).await {
                Err(ConnectorError::RateLimited { wait, .. }) => tokio::time::sleep(wait).await,
                other => break other.unwrap(),
            }
        };
        for record in page.records {
            seen.insert(record.id.clone(), record);
        }
        cursor = page.cursor;
        if !page.more {
            return seen.into_values().collect();
        }
    }
}
