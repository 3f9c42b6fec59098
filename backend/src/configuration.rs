//! One typed `Settings`, built once in `main` (or by a test) and passed down.
//!
//! Sources, later ones winning: built-in defaults, an optional TOML file (`--config` or
//! `TANDEM_CONFIG`), then `TANDEM_`-prefixed environment variables where `__` separates levels:
//! `TANDEM_SERVER__PORT=9000`, `TANDEM_DATABASE_URL=postgres://…`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError(message.into())
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    /// Where the embedded database, the development master key and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`. Defaults to SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    pub database_max_connections: u32,
    pub auth: AuthSettings,
    pub vault: VaultSettings,
    pub bootstrap: BootstrapSettings,
    pub log: LogSettings,
    pub sandbox: SandboxSettings,
    pub crm: CrmSettings,
    pub sync: SyncSettings,
    pub demo: DemoSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            data_dir: PathBuf::from("tandem-data"),
            database_url: None,
            database_max_connections: 10,
            auth: AuthSettings::default(),
            vault: VaultSettings::default(),
            bootstrap: BootstrapSettings::default(),
            log: LogSettings::default(),
            sandbox: SandboxSettings::default(),
            crm: CrmSettings::default(),
            sync: SyncSettings::default(),
            demo: DemoSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests use this).
    pub port: u16,
    /// The address people use to reach Tandem, when it differs from `http://host:port`
    /// (behind a proxy). An `https` URL makes session cookies `Secure`.
    pub public_url: Option<String>,
    /// The built frontend (`index.html` and `pkg/`).
    pub ui_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// HTTP worker threads; defaults to the number of cores.
    pub workers: Option<usize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            public_url: None,
            ui_dir: PathBuf::from("frontend/dist"),
            max_body_bytes: 256 * 1024,
            workers: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// A session ends this long after login, whatever happens.
    pub session_ttl_minutes: i64,
    /// A session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// Failed logins allowed per email (and per client address) within the window.
    pub login_max_failures: i64,
    pub login_window_seconds: i64,
    /// How long logins stay blocked once the limit is reached.
    pub login_lockout_seconds: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl_minutes: 12 * 60,
            session_idle_minutes: 2 * 60,
            login_max_failures: 5,
            login_window_seconds: 15 * 60,
            login_lockout_seconds: 15 * 60,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct VaultSettings {
    /// Master keys as `id:base64key` pairs separated by commas; the last one seals new values.
    /// When set, the key file is not used.
    pub keys: Option<SecretString>,
    /// Key file (one `id base64key` per line, the last one active). Defaults to
    /// `<data_dir>/master.keys`, created with a development key when missing.
    pub key_file: Option<PathBuf>,
    /// Secrets re-encrypted per transaction by `tandem keys rotate`.
    pub rotate_batch_size: i64,
}

impl Default for VaultSettings {
    fn default() -> Self {
        Self {
            keys: None,
            key_file: None,
            rotate_batch_size: 200,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct BootstrapSettings {
    /// Email of the operator admin created on first run.
    pub admin_email: String,
    /// Their password; generated and printed once when absent.
    pub admin_password: Option<SecretString>,
    /// Create the demo tenant on first run.
    pub demo_tenant: bool,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        Self {
            admin_email: "admin@tandem.local".into(),
            admin_password: None,
            demo_tenant: true,
        }
    }
}

/// Sales demos (`Start demo`): how fast the activity generator changes records, and for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct DemoSettings {
    /// Seconds between two rounds of changes.
    pub tick_seconds: u64,
    /// A demo's generator stops this long after the demo started (a forgotten demo goes quiet).
    pub activity_minutes: u64,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            tick_seconds: 5,
            activity_minutes: 120,
        }
    }
}

/// The operator's apps registered with the real CRMs, per CRM and Tandem environment:
/// `TANDEM_CRM__HUBSPOT__PRODUCTION__CLIENT_ID`, `…__CLIENT_SECRET`. Without an app for an
/// environment, its tenants' sandbox environments connect to Tandem's sandbox CRMs, and
/// production cannot connect that CRM. Demo tenants always use the sandbox CRMs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CrmSettings {
    pub hubspot: CrmApps,
    pub salesforce: CrmApps,
}

impl CrmSettings {
    pub fn apps(&self, provider: &str) -> Option<&CrmApps> {
        match provider {
            "hubspot" => Some(&self.hubspot),
            "salesforce" => Some(&self.salesforce),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CrmApps {
    pub sandbox: Option<CrmApp>,
    pub production: Option<CrmApp>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CrmApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The sandbox CRMs mounted at `/sandbox`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct SandboxSettings {
    pub enabled: bool,
    /// When set, `/sandbox/_control` requests must carry it as `X-Sandbox-Control-Token`.
    pub control_token: Option<SecretString>,
    /// How often pending webhook events are delivered.
    pub webhook_interval_ms: u64,
    /// Use sandbox CRMs served elsewhere (`tandem sandbox all`) instead of mounting them here:
    /// several instances then share one set of sandbox accounts, and the sandbox outlives a
    /// restart of Tandem.
    pub url: Option<String>,
    /// The client secret Tandem registers its app with at the sandbox CRMs. Instances sharing
    /// one external sandbox must agree on it; random when unset.
    pub app_secret: Option<SecretString>,
}

/// The sync engine and the job workers that run it.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    /// Run job workers (pipeline runs, webhook deliveries) and the scheduler in this process.
    /// Several instances on one PostgreSQL share the work.
    pub workers: bool,
    /// Jobs one instance runs at once.
    pub concurrency: usize,
    /// How often due polls and reconciliations are looked for.
    pub scheduler_interval_ms: u64,
    /// Records per page (and per write batch, up to each CRM's maximum).
    pub page_size: usize,
    /// How long one slice of a run may take before other tenants get their turn.
    pub slice_ms: u64,
    /// How late a CRM may show a change (its search index's lag, its clock's granularity): each
    /// run reads again what changed from this long before the last run began.
    pub lookback_ms: u64,
    /// CRM sides with at most this many records are read again whole by the daily
    /// reconciliation (every record's version compared); larger ones by counts per range.
    pub reconcile_read_whole_up_to: u64,
    /// Attempts per CRM call within a run, and the backoff between them.
    pub retry_attempts: usize,
    pub retry_first_delay_ms: u64,
    pub retry_max_delay_ms: u64,
    /// Finished jobs are kept this long.
    pub job_retention_hours: u64,
    /// How long a worker's claim on a job lasts without a heartbeat: a process that died holding
    /// a job delays it this long before another worker takes it over.
    pub lease_ms: u64,
    /// How often a pipeline's mappings are checked against its CRMs' live fields (one call per
    /// side), at the start of a run.
    pub schema_check_minutes: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            workers: true,
            concurrency: 4,
            scheduler_interval_ms: 5_000,
            page_size: 200,
            slice_ms: 20_000,
            lookback_ms: 5_000,
            reconcile_read_whole_up_to: 50_000,
            retry_attempts: 6,
            retry_first_delay_ms: 250,
            retry_max_delay_ms: 30_000,
            job_retention_hours: 24 * 7,
            lease_ms: 30_000,
            schema_check_minutes: 60,
        }
    }
}

impl SyncSettings {
    pub fn engine(&self) -> crate::sync::EngineConfig {
        use std::time::Duration;
        crate::sync::EngineConfig {
            page_size: self.page_size.clamp(1, 1000),
            slice: Duration::from_millis(self.slice_ms.max(100)),
            retry: crate::sync::crm::RetryPolicy {
                attempts: self.retry_attempts.max(1),
                first_delay: Duration::from_millis(self.retry_first_delay_ms),
                max_delay: Duration::from_millis(self.retry_max_delay_ms.max(self.retry_first_delay_ms)),
            },
            lookback: Duration::from_millis(self.lookback_ms),
            reconcile_read_whole_up_to: self.reconcile_read_whole_up_to,
            schema_check_every: Duration::from_secs(self.schema_check_minutes * 60),
        }
    }
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            control_token: None,
            webhook_interval_ms: 500,
            url: None,
            app_secret: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Pretty in a terminal, JSON otherwise.
    #[default]
    Auto,
    Json,
    Pretty,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            filter: "info,sqlx=warn,actix_server=warn".into(),
        }
    }
}

impl Settings {
    /// Defaults, then the TOML file if given, then `TANDEM_*` environment variables.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = config_file {
            if !path.exists() {
                return Err(ConfigError(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment
            .merge(Env::prefixed("TANDEM_").split("__"))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// The database URL in use: the configured one, or SQLite inside `data_dir`.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tandem.db").display()
            )),
        }
    }

    pub fn uses_postgres(&self) -> bool {
        let url = self.database_url();
        let url = url.expose_secret();
        url.starts_with("postgres://") || url.starts_with("postgresql://")
    }

    /// Where people reach the server.
    pub fn public_url(&self, bound_port: u16) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}:{}", self.server.host, bound_port),
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.vault
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.keys"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn defaults_use_sqlite_in_the_data_dir() {
        let settings = Settings::default();
        assert!(!settings.uses_postgres());
        assert_eq!(
            settings.database_url().expose_secret(),
            "sqlite://tandem-data/tandem.db?mode=rwc"
        );
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.key_file(), PathBuf::from("tandem-data/master.keys"));
    }

    #[test]
    fn environment_overrides_file_and_nested_keys_split_on_double_underscore() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tandem.toml",
                r#"
                data_dir = "/var/lib/tandem"
                [server]
                port = 9000
                host = "0.0.0.0"
                "#,
            )?;
            jail.set_env("TANDEM_SERVER__PORT", "9100");
            jail.set_env("TANDEM_DATABASE_URL", "postgres://postgres@127.0.0.1/tandem");
            let settings = Settings::load(Some(Path::new("tandem.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(settings.server.port, 9100);
            assert_eq!(settings.server.host, "0.0.0.0");
            assert_eq!(settings.data_dir, PathBuf::from("/var/lib/tandem"));
            assert!(settings.uses_postgres());
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error_naming_it() {
        let err = Settings::load(Some(Path::new("/nonexistent/tandem.toml"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tandem.toml"));
    }

    #[test]
    fn a_wrongly_typed_value_names_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TANDEM_SERVER__PORT", "not-a-port");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("port"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let settings = Settings {
            database_url: Some(SecretString::from("postgres://u:hunter2@db/x")),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
