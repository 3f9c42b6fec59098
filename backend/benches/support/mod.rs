//! What the benches share: a running `tandem serve` in this process (API, job workers, the
//! sandbox CRMs at /sandbox), reached through its real interfaces, and a PostgreSQL database of
//! their own.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tandem::configuration::Settings;
use tandem::connectors::Credential;
use tandem::startup::Application;

pub const ADMIN_EMAIL: &str = "bench@tandem.local";
pub const ADMIN_PASSWORD: &str = "bench-admin-password";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A running `tandem serve` (in this process): API, job workers, sandbox CRMs at /sandbox.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    admin: Admin,
    _data_dir: tempfile::TempDir,
}

pub struct Admin {
    http: reqwest::Client,
    csrf: String,
}

impl Server {
    pub async fn start(database_url: Option<String>) -> Server {
        let data_dir = tempfile::tempdir().expect("a temporary directory");
        let mut settings = Settings::default();
        settings.server.port = 0;
        settings.server.ui_dir = "/nonexistent-ui".into();
        settings.data_dir = data_dir.path().to_path_buf();
        settings.database_url = database_url.map(SecretString::from);
        settings.database_max_connections = 10;
        settings.bootstrap.admin_email = ADMIN_EMAIL.into();
        settings.bootstrap.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
        settings.bootstrap.demo_tenant = false;
        settings.sync.scheduler_interval_ms = 500;
        let application = Application::build(settings).await.expect("the server starts");
        let base = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("a client");
        let session = reqwest::Client::builder().cookie_store(true).build().expect("a client");
        let login: Value = session
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("a session");
        let admin = Admin {
            http: session,
            csrf: login["csrf_token"].as_str().expect("a CSRF token").to_string(),
        };
        Server {
            base,
            http,
            admin,
            _data_dir: data_dir,
        }
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .admin
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.admin.csrf)
            .json(&body)
            .send()
            .await
            .expect("the request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}/sandbox/_control{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the control request");
        assert!(response.status().is_success(), "control {path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    /// A tenant with its HubSpot sandbox connected (through the consent page) and an app key.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let tenant = self
            .admin(reqwest::Method::POST, "/api/v1/tenants", json!({ "name": name }))
            .await;
        let id = tenant["id"].as_str().expect("an id").to_string();
        let slug = tenant["slug"].as_str().expect("a slug").to_string();
        let started = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/tenants/{id}/connections/authorize"),
                json!({ "provider": "hubspot", "environment": "sandbox" }),
            )
            .await;
        let authorize = started["authorize_url"].as_str().expect("a consent URL");
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client");
        let (action, query) = authorize.split_once('?').expect("a query");
        let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("the query");
        form.push(("decision".into(), "approve".into()));
        let answer = no_redirects.post(action).form(&form).send().await.expect("consent");
        let callback = answer.headers()["location"].to_str().expect("a redirect").to_string();
        let page = reqwest::get(&callback).await.expect("the callback");
        assert_eq!(page.status(), StatusCode::OK);
        let connections = self
            .admin
            .http
            .get(format!("{}/api/v1/tenants/{id}/connections", self.base))
            .send()
            .await
            .expect("connections")
            .json::<Value>()
            .await
            .expect("a list");
        let connection_id = connections[0]["id"].as_str().expect("a connection").to_string();
        let key = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/tenants/{id}/api-keys"),
                json!({ "name": "app", "environment": "sandbox" }),
            )
            .await;
        Tenant {
            id,
            account: format!("{slug}-sandbox"),
            connection_id,
            key: key["secret"].as_str().expect("a key").to_string(),
        }
    }

    pub async fn push(&self, tenant: &Tenant, records: Vec<Value>) -> Duration {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/api/v1/records/contact/batch", self.base))
            .bearer_auth(&tenant.key)
            .json(&json!({ "records": records }))
            .send()
            .await
            .expect("a push");
        let status = response.status();
        assert!(
            status.is_success(),
            "push: {status} {}",
            response.text().await.unwrap_or_default()
        );
        started.elapsed()
    }

    pub async fn pipeline(&self, tenant: &Tenant, body: Value) -> String {
        let pipeline = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/tenants/{}/pipelines", tenant.id),
                body,
            )
            .await;
        pipeline["id"].as_str().expect("a pipeline").to_string()
    }

    pub async fn runs(&self, tenant: &Tenant, pipeline: &str) -> Vec<Value> {
        self.admin
            .http
            .get(format!(
                "{}/api/v1/tenants/{}/pipelines/{pipeline}/runs",
                self.base, tenant.id
            ))
            .send()
            .await
            .expect("runs")
            .json()
            .await
            .expect("a list")
    }

    /// Waits for the pipeline's latest run started by `trigger` to finish.
    pub async fn finished_run(&self, tenant: &Tenant, pipeline: &str, trigger: &str) -> Value {
        loop {
            let runs = self.runs(tenant, pipeline).await;
            if let Some(run) = runs.iter().find(|r| r["trigger"] == trigger)
                && run["status"] != "running"
            {
                return run.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn sandbox_credential(&self, account: &str, token: &str) -> Credential {
        Credential {
            access_token: SecretString::from(token.to_string()),
            base_url: format!("{}/sandbox/hubspot/{account}", self.base),
            kind: tandem::connectors::TokenKind::OAuth,
        }
    }
}

pub struct Tenant {
    pub id: String,
    pub account: String,
    pub connection_id: String,
    pub key: String,
}

/// A PostgreSQL database of the bench's own, dropped at the end.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Result<PgDatabase, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let name = format!("tandem_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
        Ok(PgDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    pub async fn drop(self) {
        if let Ok(mut admin) = sqlx::AnyConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
        }
    }
}
