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
        let sandbox = settings.sandbox.enabled.then(|| {
            let token = settings
                .sandbox
                .control_token
                .as_ref()
                .map(|t| t.expose_secret().to_string());
            tandem_sandbox::Sandbox::new().with_control_token(token)
        });
        let crm = Arc::new(crm_access(&settings, &db, &vault, sandbox.as_ref(), &public_url)?);
        let queue = Queue::new(db.clone());
        let engine = SyncEngine::new(db.clone(), queue.clone(), crm.clone(), settings.sync.engine());
        let jobs = job_handlers(&db, &vault, &engine)?;
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
fn crm_access(
    settings: &Settings,
    db: &Db,
    vault: &Vault,
    sandbox: Option<&tandem_sandbox::Sandbox>,
    public_url: &str,
) -> Result<CrmAccess, StartupError> {
    let http = connectors::http_client().map_err(|e| StartupError::Config(ConfigError::new(e.to_string())))?;
    let callback_url = format!("{public_url}/api/v1/oauth/callback");
    let mut sandbox_apps = HashMap::new();
    if let Some(sandbox) = sandbox {
        for provider in connectors::catalogue::PROVIDERS.iter().filter(|p| p.sandbox.is_some()) {
            let app = AppCredentials {
                client_id: format!("tandem-{}", provider.id),
                client_secret: SecretString::from(crate::auth::token::random_token(32)),
            };
            let registered = sandbox.register_app(
                provider.sandbox.map_or(provider.id, |s| s.segment),
                tandem_sandbox::OAuthApp {
                    client_id: app.client_id.clone(),
                    client_secret: app.client_secret.expose_secret().to_string(),
                    name: "Tandem".into(),
                    redirect_uris: vec![callback_url.clone()],
                    webhook_url: None,
                },
            );
            if registered {
                sandbox_apps.insert(provider.id, app);
            }
        }
    }
    let targets = Arc::new(Targets {
        crm: settings.crm.clone(),
        sandbox_root: sandbox.map(|_| format!("{public_url}{}", crate::http::SANDBOX_PREFIX)),
        sandbox_apps,
        callback_url,
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
fn job_handlers(db: &Db, vault: &Vault, engine: &SyncEngine) -> Result<jobs::Registry, StartupError> {
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
