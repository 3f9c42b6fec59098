//! The `tandem` command line. Every command prints what it did; errors are one line on stderr
//! and a non-zero exit status.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use tandem_shared::ids::TenantId;
use tandem_shared::roles::Role;

use crate::configuration::{ConfigError, Settings};
use crate::domain::{Email, FieldError, Name, NewPassword};
use crate::repo::{RepoError, tenants as tenant_repo, vault_secrets};
use crate::services::ServiceError;
use crate::services::audit::Actor;
use crate::services::tenants::{self, NewTenant};
use crate::services::users::{self, NewUser};
use crate::startup::{self, StartupError};
use crate::vault::{self, Vault, VaultError};

#[derive(Debug, Parser)]
#[command(name = "tandem", version, about = "Tandem: connect your app to your customers' CRMs")]
pub struct Cli {
    /// A TOML configuration file; `TANDEM_*` environment variables override it.
    #[arg(long, global = true, env = "TANDEM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (API, UI, metrics). Creates and migrates the database when needed.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the master keys that encrypt stored credentials.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Serve the sandbox CRMs on their own (`tandem serve` also mounts them at /sandbox).
    Sandbox(SandboxArgs),
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Which CRM to serve: `hubspot`, or `all`.
    pub crm: String,
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with its sandbox and production environments.
    Add {
        /// The tenant's display name.
        name: String,
        /// Short URL-safe name; derived from the name when absent.
        #[arg(long)]
        slug: Option<String>,
        /// Mark it as a demo tenant (sandbox CRMs only; managed by sales staff).
        #[arg(long)]
        demo: bool,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Tenant users need --tenant and role admin or viewer; operator staff have no
    /// tenant and role operator_admin, support or sales.
    Add(UserAdd),
    /// Set a user's password and end their sessions.
    SetPassword {
        email: String,
        #[command(flatten)]
        password: PasswordSource,
    },
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    pub email: String,
    /// operator_admin, support, sales, admin or viewer.
    #[arg(long)]
    pub role: String,
    /// The tenant's slug or id (for admin and viewer).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Display name; defaults to the part of the email before the @.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub password: PasswordSource,
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new master key (to the key file) and re-encrypt every stored secret with it, in
    /// batches, while servers keep running. With keys from TANDEM_VAULT__KEYS, re-encrypts
    /// everything under the last key listed there.
    Rotate {
        /// Secrets per transaction (default: vault.rotate_batch_size).
        #[arg(long)]
        batch_size: Option<i64>,
    },
    /// Print a new key as `id:base64` for TANDEM_VAULT__KEYS.
    Generate,
    /// Show the configured keys (ids only) and how many secrets each one seals.
    Status,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Usage(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

pub async fn run(cli: Cli, settings: Settings) -> Result<(), CliError> {
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = startup::connect_and_migrate(&settings).await?;
            let (applied, expected) = db.migration_status().await?;
            println!(
                "{} database is migrated ({applied} of {expected} migrations applied)",
                db.backend().as_str()
            );
            Ok(())
        }
        Command::Tenant(command) => tenant(command, &settings).await,
        Command::User(command) => user(command, &settings).await,
        Command::Keys(command) => keys(command, &settings).await,
        Command::Sandbox(args) => sandbox(args).await,
    }
}

/// The sandbox CRMs alone, at the root of their own port.
async fn sandbox(args: SandboxArgs) -> Result<(), CliError> {
    let known = ["hubspot", "salesforce"];
    if args.crm != "all" && !known.contains(&args.crm.as_str()) {
        return Err(CliError::Usage(format!(
            "unknown CRM {:?}: choose one of {} or all",
            args.crm,
            known.join(", ")
        )));
    }
    let sandbox = tandem_sandbox::Sandbox::new();
    let listener = std::net::TcpListener::bind((args.host.as_str(), args.port))?;
    let port = listener.local_addr()?.port();
    let base = format!("http://{}:{port}", args.host);
    let served = sandbox.clone();
    let server = actix_web::HttpServer::new(move || actix_web::App::new().configure(|cfg| served.configure(cfg)))
        .listen(listener)?
        .run();
    let webhooks = sandbox.start_background(std::time::Duration::from_millis(500));
    println!("Sandbox CRMs at {base}");
    println!(
        "  HubSpot account <name>: {base}/hubspot/<name>   (e.g. host=\"{base}/hubspot/acct-1\" for hubspot-api-client)"
    );
    println!("  a token that never expires: curl -X POST {base}/_control/hubspot/accounts/acct-1/tokens/static");
    println!("  Salesforce org <name>: {base}/salesforce/<name>   (the instanceUrl for jsforce)");
    println!("  a Salesforce token: curl -X POST {base}/_control/salesforce/accounts/org-1/tokens/static");
    println!("  faults, limits, resets, apps: {base}/_control/<crm>/...");
    let result = server.await;
    webhooks.abort();
    Ok(result?)
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let mut app = startup::Application::build(settings).await?;
    let url = app.state().settings.public_url(app.port());
    let database = app.state().db.backend().as_str();
    println!("Tandem is running at {url}  (database: {database}; API: {url}/api/v1, docs: {url}/api-docs)");
    match app.take_first_run() {
        Some(first_run) => {
            println!("{}", first_run.login_hint());
            if first_run.demo_tenant {
                println!(
                    "A demo tenant, \"{}\", is ready to explore.",
                    crate::bootstrap::DEMO_TENANT_NAME
                );
            }
        }
        None => println!(
            "Log in with your account (the first admin is {}; reset a password with `tandem user set-password <email>`)",
            app.state().settings.bootstrap.admin_email
        ),
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn tenant(command: TenantCommand, settings: &Settings) -> Result<(), CliError> {
    let db = startup::connect_and_migrate(settings).await?;
    match command {
        TenantCommand::Add { name, slug, demo } => {
            let new = NewTenant::parse(&name, slug.as_deref(), demo)?;
            let mut tx = db.begin().await?;
            let tenant = tenants::insert_with_environments(&mut tx, &Actor::cli("tandem tenant add"), new).await?;
            tx.commit().await.map_err(RepoError::from)?;
            println!("created tenant {} ({}), id {}", tenant.name, tenant.slug, tenant.id);
        }
        TenantCommand::List => {
            for tenant in tenant_repo::list(db.pool(), tenant_repo::TenantFilter::All).await? {
                let demo = if tenant.is_demo { "  [demo]" } else { "" };
                println!("{}  {:<24} {}{demo}", tenant.id, tenant.slug, tenant.name);
            }
        }
    }
    Ok(())
}

async fn user(command: UserCommand, settings: &Settings) -> Result<(), CliError> {
    let db = startup::connect_and_migrate(settings).await?;
    match command {
        UserCommand::Add(add) => {
            let role = Role::parse(&add.role).ok_or_else(|| {
                FieldError::new(
                    "role",
                    format!(
                        "{:?} is not one of operator_admin, support, sales, admin, viewer",
                        add.role
                    ),
                )
            })?;
            let tenant_id = match (&add.tenant, role.is_operator_staff()) {
                (None, true) => None,
                (Some(_), true) => {
                    return Err(CliError::Usage(format!(
                        "--tenant: operator staff ({}) belong to no tenant",
                        role.as_str()
                    )));
                }
                (None, false) => {
                    return Err(CliError::Usage(format!(
                        "--tenant is required for the {} role",
                        role.as_str()
                    )));
                }
                (Some(tenant), false) => Some(find_tenant(&db, tenant).await?),
            };
            let email = Email::parse("--email", &add.email)?;
            let default_name = email.as_str().split('@').next().unwrap_or_default().to_string();
            let new = NewUser {
                tenant_id,
                name: Name::parse("--name", add.name.as_deref().unwrap_or(&default_name))?,
                email,
                role,
                password: read_password(&add.password)?,
            };
            let mut tx = db.begin().await?;
            let created = users::insert(&mut tx, &Actor::cli("tandem user add"), new).await?;
            tx.commit().await.map_err(RepoError::from)?;
            println!(
                "created {} ({}), id {}",
                created.user.email,
                created.user.role.as_str(),
                created.user.id
            );
            if let Some(password) = created.generated_password {
                println!("password: {password}  (shown only this once)");
            }
        }
        UserCommand::SetPassword { email, password } => {
            let email = Email::parse("email", &email)?;
            let source = read_password(&password)?;
            let (password, generated) = match source {
                Some(password) => (password, false),
                None => (NewPassword::generate(), true),
            };
            let shown = generated.then(|| secrecy::ExposeSecret::expose_secret(password.secret()).to_string());
            users::set_password(&db, &Actor::cli("tandem user set-password"), &email, password).await?;
            println!("password set for {email}; their sessions were ended");
            if let Some(shown) = shown {
                println!("password: {shown}  (shown only this once)");
            }
        }
    }
    Ok(())
}

async fn find_tenant(db: &crate::repo::Db, slug_or_id: &str) -> Result<TenantId, CliError> {
    let tenant = match slug_or_id.parse::<TenantId>() {
        Ok(id) => tenant_repo::get(db.pool(), id).await?,
        Err(_) => tenant_repo::find_by_slug(db.pool(), slug_or_id).await?,
    };
    tenant.map(|t| t.id).ok_or_else(|| {
        CliError::Usage(format!(
            "--tenant: no tenant with slug or id {slug_or_id:?} (see `tandem tenant list`)"
        ))
    })
}

fn read_password(source: &PasswordSource) -> Result<Option<NewPassword>, CliError> {
    if !source.password_stdin {
        return Ok(None);
    }
    if std::io::stdin().is_terminal() {
        eprintln!("password (at least 12 characters), then Enter:");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    Ok(Some(NewPassword::parse("password", SecretString::from(password))?))
}

async fn keys(command: KeysCommand, settings: &Settings) -> Result<(), CliError> {
    match command {
        KeysCommand::Generate => {
            let keyring = settings
                .vault
                .keys
                .is_some()
                .then(|| startup::load_keyring(settings))
                .transpose()?;
            let existing = keyring.map(|k| k.key_ids()).transpose()?.unwrap_or_default();
            println!("{}", vault::generate_key_line(existing.iter().map(String::as_str))?);
            Ok(())
        }
        KeysCommand::Status => {
            let db = startup::connect_and_migrate(settings).await?;
            let keyring = startup::load_keyring(settings)?;
            println!(
                "keys: {} (active: {})",
                keyring.key_ids()?.join(", "),
                keyring.active()?.id
            );
            for (key_id, count) in vault_secrets::count_by_key(db.pool()).await? {
                println!("  {key_id}: {count} secrets");
            }
            Ok(())
        }
        KeysCommand::Rotate { batch_size } => {
            let db = startup::connect_and_migrate(settings).await?;
            let keyring = startup::load_keyring(settings)?;
            let added = match keyring.source() {
                vault::KeySource::File(_) => Some(keyring.add_generated_key()?),
                vault::KeySource::Inline => None,
            };
            let vault = Vault::new(db, std::sync::Arc::new(keyring));
            let report = vault::reencrypt_all(&vault, batch_size.unwrap_or(settings.vault.rotate_batch_size)).await?;
            if let Some(added) = added {
                println!("added master key {added} to {}", settings.key_file().display());
            }
            println!(
                "re-encrypted {} secrets with key {} in {} batches",
                report.reencrypted, report.active_key_id, report.batches
            );
            Ok(())
        }
    }
}
