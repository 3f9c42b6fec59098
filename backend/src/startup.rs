//! Building and running the server: `Application::build(settings)` connects and migrates the
//! database, loads the master keys, bootstraps a first run, and binds the port;
//! `run_until_stopped` serves until the process is told to stop.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;

use crate::connectors;
use crate::connectors::catalogue::WebhookScheme;
use crate::jobs::{self, Queue, Worker, WorkerConfig};
use crate::oauth::CrmAccess;
use crate::oauth::targets::{AppCredentials, Targets};
use crate::oauth::tokens::TokenManager;
use crate::sync::SyncEngine;

use crate::bootstrap::{self, FirstRun};
use crate::configuration::{ConfigError, Settings};
use crate::repo::{Db, RepoError, now_ms, sessions};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::telemetry;
use crate::vault::{Keyring, KeyringNotice, Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Database(#[from] RepoError),
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
    #[error("first-run setup: {0}")]
    Bootstrap(#[from] ServiceError),
    #[error("the sandbox CRMs at {url}: {reason}")]
    Sandbox { url: String, reason: String },
}

/// Where the sandbox CRMs are.
enum SandboxLink<'a> {
    /// Mounted in this process at `/sandbox`.
    Mounted(&'a tandem_sandbox::Sandbox),
    /// Served elsewhere (`sandbox.url`), reached over HTTP like any other company's server.
    External(String),
    Off,
}

impl SandboxLink<'_> {
    /// Registers Tandem's app with one emulated CRM; false when the sandbox has no such CRM.
    async fn register(
        &self,
        settings: &Settings,
        crm: &str,
        app: tandem_sandbox::OAuthApp,
    ) -> Result<bool, StartupError> {
        match self {
            SandboxLink::Off => Ok(false),
            SandboxLink::Mounted(sandbox) => Ok(sandbox.register_app(crm, app)),
            SandboxLink::External(url) => {
                let failed = |reason: String| StartupError::Sandbox {
                    url: url.clone(),
                    reason,
                };
                let mut request = reqwest::Client::new()
                    .put(format!("{url}/_control/{crm}/apps/{}", app.client_id))
                    .timeout(Duration::from_secs(10))
                    .json(&serde_json::json!({
                        "client_secret": app.client_secret,
                        "name": app.name,
                        "redirect_uris": app.redirect_uris,
                        "webhook_url": app.webhook_url,
                    }));
                if let Some(token) = &settings.sandbox.control_token {
                    request = request.header("x-sandbox-control-token", token.expose_secret());
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| failed(format!("cannot register Tandem's app: {e}")))?;
                match response.status().as_u16() {
                    200..=299 => Ok(true),
                    404 => Ok(false),
                    status => Err(failed(format!("registering Tandem's app answered HTTP {status}"))),
                }
            }
        }
    }

    fn root(&self, public_url: &str) -> Option<String> {
        match self {
            SandboxLink::Mounted(_) => Some(format!("{public_url}{}", crate::http::SANDBOX_PREFIX)),
            SandboxLink::External(url) => Some(url.clone()),
            SandboxLink::Off => None,
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    first_run: Option<FirstRun>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let db = connect_and_migrate(&settings).await?;
        let vault = Vault::new(db.clone(), Arc::new(load_keyring(&settings)?));
        let first_run = bootstrap::first_run(&db, &settings.bootstrap).await?;

        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { address, source })?
            .port();

        let public_url = settings.public_url(port);
        // Mounted here, unless sandbox CRMs served elsewhere are configured.
        let sandbox = (settings.sandbox.enabled && settings.sandbox.url.is_none()).then(|| {
            let token = settings
                .sandbox
                .control_token
                .as_ref()
                .map(|t| t.expose_secret().to_string());
            tandem_sandbox::Sandbox::new().with_control_token(token)
        });
        let link = match (&settings.sandbox.url, &sandbox) {
            (Some(url), _) if settings.sandbox.enabled => SandboxLink::External(url.trim_end_matches('/').to_string()),
            (_, Some(mounted)) => SandboxLink::Mounted(mounted),
            _ => SandboxLink::Off,
        };
        let crm = Arc::new(crm_access(&settings, &db, &vault, link, &public_url).await?);
        let queue = Queue::new(db.clone());
        let engine = SyncEngine::new(db.clone(), queue.clone(), crm.clone(), settings.sync.engine());
        let jobs = job_handlers(&db, &vault, &engine, &crm, &settings)?;
        let state = AppState {
            db,
            settings: Arc::new(settings),
            vault,
            metrics: telemetry::metrics_handle(),
            sandbox,
            crm,
            queue,
            jobs,
            engine,
        };

        let app_state = state.clone();
        let mut server = HttpServer::new(move || crate::http::build_app(app_state.clone()));
        if let Some(workers) = state.settings.server.workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Bind {
                address: format!("port {port}"),
                source,
            })?
            .run();
        Ok(Application {
            port,
            server,
            state,
            first_run,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What the first run created (the operator admin, maybe a generated password), once.
    pub fn take_first_run(&mut self) -> Option<FirstRun> {
        self.first_run.take()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let webhooks = self.state.sandbox.as_ref().map(|sandbox| {
            sandbox.start_background(Duration::from_millis(self.state.settings.sandbox.webhook_interval_ms))
        });
        let sync = &self.state.settings.sync;
        let (stop_scheduler, scheduler_stop) = tokio::sync::watch::channel(false);
        let workers = sync.workers.then(|| {
            let worker = Worker::start(
                self.state.queue.clone(),
                self.state.jobs.clone(),
                WorkerConfig {
                    concurrency: sync.concurrency.max(1),
                    lease: Duration::from_millis(sync.lease_ms.max(300)),
                    heartbeat: Duration::from_millis(sync.lease_ms.max(300) / 3),
                    ..WorkerConfig::default()
                },
            );
            let scheduler = crate::sync::jobs::spawn_scheduler(
                self.state.db.clone(),
                self.state.queue.clone(),
                Duration::from_millis(sync.scheduler_interval_ms.max(100)),
                scheduler_stop,
            );
            (worker, scheduler)
        });
        let result = self.server.await;
        housekeeping.abort();
        if let Some(webhooks) = webhooks {
            webhooks.abort();
        }
        if let Some((worker, scheduler)) = workers {
            let _ = stop_scheduler.send(true);
            scheduler.abort();
            // Runs in flight finish their page; what is left resumes at the next start.
            worker.stop(Duration::from_secs(10)).await;
        }
        result
    }
}

/// Reaching CRMs: the connectors, the token manager, and where each connection goes. Registers
/// Tandem's OAuth app with its own sandbox CRMs (they "configure themselves").
async fn crm_access(
    settings: &Settings,
    db: &Db,
    vault: &Vault,
    sandbox: SandboxLink<'_>,
    public_url: &str,
) -> Result<CrmAccess, StartupError> {
    let http = connectors::http_client().map_err(|e| StartupError::Config(ConfigError::new(e.to_string())))?;
    let callback_url = format!("{public_url}/api/v1/oauth/callback");
    let mut sandbox_apps = HashMap::new();
    let secret = settings
        .sandbox
        .app_secret
        .clone()
        .unwrap_or_else(|| SecretString::from(crate::auth::token::random_token(32)));
    for provider in connectors::catalogue::PROVIDERS.iter().filter(|p| p.sandbox.is_some()) {
        let app = AppCredentials {
            client_id: format!("tandem-{}", provider.id),
            client_secret: secret.clone(),
        };
        let registered = sandbox
            .register(
                settings,
                provider.sandbox.map_or(provider.id, |s| s.segment),
                tandem_sandbox::OAuthApp {
                    client_id: app.client_id.clone(),
                    client_secret: app.client_secret.expose_secret().to_string(),
                    name: "Tandem".into(),
                    redirect_uris: vec![callback_url.clone()],
                    // Where the CRM's webhooks reach Tandem, for the CRMs whose webhooks it takes.
                    webhook_url: (provider.capabilities.webhooks == WebhookScheme::HubSpotV3)
                        .then(|| format!("{public_url}/api/v1/crm-webhooks/{}", provider.id)),
                },
            )
            .await?;
        if registered {
            sandbox_apps.insert(provider.id, app);
        }
    }
    let targets = Arc::new(Targets {
        crm: settings.crm.clone(),
        sandbox_root: sandbox.root(public_url),
        sandbox_apps,
        callback_url,
        public_url: public_url.to_string(),
    });
    Ok(CrmAccess {
        tokens: TokenManager::new(db.clone(), vault.clone(), http.clone(), targets.clone()),
        targets,
        connectors: connectors::Registry::new(http.clone()),
        http,
    })
}

pub async fn connect_and_migrate(settings: &Settings) -> Result<Db, RepoError> {
    let db = Db::connect(&settings.database_url(), settings.database_max_connections).await?;
    db.migrate().await?;
    Ok(db)
}

/// Master keys from `vault.keys`, else from the key file (created with a development key when
/// missing, which is logged as a warning).
pub fn load_keyring(settings: &Settings) -> Result<Keyring, VaultError> {
    if let Some(keys) = &settings.vault.keys {
        return Keyring::from_inline(keys.expose_secret());
    }
    let (keyring, notices) = Keyring::from_file(&settings.key_file())?;
    for notice in notices {
        match notice {
            KeyringNotice::GeneratedDevelopmentKey(path) => tracing::warn!(
                key_file = %path.display(),
                "no master key was configured, so a development key was generated (mode 0600); \
                 for production set TANDEM_VAULT__KEYS or provide a key file, and back it up"
            ),
            KeyringNotice::LoosePermissions(path) => tracing::warn!(
                key_file = %path.display(),
                "the master key file is readable by other users; run `chmod 600` on it"
            ),
        }
    }
    Ok(keyring)
}

/// The handlers of every job kind.
fn job_handlers(
    db: &Db,
    vault: &Vault,
    engine: &SyncEngine,
    crm: &Arc<CrmAccess>,
    settings: &Settings,
) -> Result<jobs::Registry, StartupError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tandem-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartupError::Config(ConfigError::new(format!("cannot build the webhook HTTP client: {e}"))))?;
    Ok(jobs::Registry::new()
        .register_typed(crate::sync::jobs::SyncHandler { engine: engine.clone() })
        .register_typed(crate::sync::webhooks::Deliverer {
            db: db.clone(),
            vault: vault.clone(),
            http,
        })
        .register_typed(crate::services::demo::DemoActivityHandler {
            db: db.clone(),
            crm: crm.clone(),
            settings: settings.demo.clone(),
        }))
}

/// Removes dead sessions (they are checked for expiry on every use anyway) and old finished jobs.
async fn housekeeping(state: AppState) {
    let idle_ms = state.settings.auth.session_idle_minutes * 60_000;
    let retention = Duration::from_secs(state.settings.sync.job_retention_hours * 3600);
    let mut interval = tokio::time::interval(Duration::from_secs(600));
    loop {
        interval.tick().await;
        match sessions::delete_expired(state.db.pool(), now_ms(), idle_ms).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed expired sessions"),
            Err(error) => tracing::warn!(%error, "could not remove expired sessions"),
        }
        match state.queue.prune(retention).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed old finished jobs"),
            Err(error) => tracing::warn!(%error, "could not remove old jobs"),
        }
    }
}
