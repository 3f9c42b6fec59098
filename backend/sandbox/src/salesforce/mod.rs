//! Salesforce, emulated: the OAuth 2.0 web-server flow (consent page with PKCE, token, refresh,
//! revoke, identity URL, userinfo), the REST API's describe calls, record CRUD, upsert by
//! External ID, SOQL queries with query locators, `updated/` and `deleted/`, sObject
//! Collections, validation with Salesforce's error codes, the daily API allocation with
//! `Sforce-Limit-Info`, and injectable faults.
//!
//! Every org lives under `<mount>/salesforce/<account>`, which is its `instance_url`: point
//! jsforce's `instanceUrl` there. Wire facts: ../shared/docs/crm-apis.md §1,
//! official-clients.md §2.

pub mod collections;
pub mod errors;
mod gate;
pub mod ids;
pub mod model;
mod oauth;
mod objects;
pub mod ops;
pub mod query;
mod rest;
pub mod schema;
pub mod seed;
pub mod soql;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, web};

use crate::oauth::{OAuthServer, TokenPolicy};
pub use model::Org;
pub use schema::SObject;

/// Sessions end after the org's session timeout (two hours by default); token responses do not
/// say so.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
/// The API versions served: `/services/data/v31.0` … `/v64.0`.
pub const MIN_VERSION: u32 = 31;
pub const MAX_VERSION: u32 = 64;

pub use crate::hubspot::valid_account_key;

pub struct Salesforce {
    orgs: RwLock<HashMap<String, Arc<Mutex<Org>>>>,
    pub oauth: OAuthServer,
}

impl Default for Salesforce {
    fn default() -> Self {
        Salesforce::new()
    }
}

/// Access tokens start with the org's 15-character id and `!`, as Salesforce's do.
fn access_token_prefix(account: &str) -> String {
    let (_, org_id) = model::org_identity(account);
    format!("{}!", &org_id[..15])
}

impl Salesforce {
    pub fn new() -> Salesforce {
        Salesforce {
            orgs: RwLock::new(HashMap::new()),
            oauth: OAuthServer::new(TokenPolicy {
                access_ttl: SESSION_TIMEOUT,
                report_expiry: false,
                access_prefix: "00D!",
                account_access_prefix: Some(access_token_prefix),
                refresh_prefix: "5Aep861",
            }),
        }
    }

    /// The org, created with its sample data on first use.
    pub fn org(&self, key: &str) -> Arc<Mutex<Org>> {
        if let Some(org) = self.orgs.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return org.clone();
        }
        let mut orgs = self.orgs.write().unwrap_or_else(PoisonError::into_inner);
        orgs.entry(key.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(fresh_org(key))))
            .clone()
    }

    pub fn with_org<R>(&self, key: &str, f: impl FnOnce(&mut Org) -> R) -> R {
        let org = self.org(key);
        let mut guard: MutexGuard<'_, Org> = org.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Back to the sample data (same ids); limits, faults, clock and grants are kept.
    pub fn reset(&self, key: &str) {
        self.with_org(key, |org| {
            org.clear_data();
            org.next_seq = model::FIRST_SEQ;
            seed::populate(org);
        });
    }

    pub fn org_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .orgs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }
}

fn fresh_org(key: &str) -> Org {
    let mut org = Org::empty(key);
    seed::populate(&mut org);
    org
}

/// The org's `instance_url`: the request's scheme and host, the mount prefix (whatever precedes
/// `/salesforce/` in the path), and `/salesforce/<account>`.
pub fn instance_url(req: &HttpRequest, account: &str) -> String {
    let info = req.connection_info();
    let path = req.path();
    let prefix = path.find("/salesforce/").map_or("", |i| &path[..i]);
    format!("{}://{}{prefix}/salesforce/{account}", info.scheme(), info.host())
}

/// The Salesforce routes, to mount at `<prefix>/salesforce`.
pub fn configure(salesforce: Arc<Salesforce>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::scope("/{account}")
                .app_data(web::Data::from(salesforce))
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .app_data(web::FormConfig::default().limit(64 * 1024))
                .service(
                    web::resource("/services/oauth2/authorize")
                        .route(web::get().to(oauth::authorize_page))
                        .route(web::post().to(oauth::authorize_decision)),
                )
                .service(web::resource("/services/oauth2/token").route(web::post().to(oauth::token)))
                .service(
                    web::resource("/services/oauth2/revoke")
                        .route(web::get().to(oauth::revoke))
                        .route(web::post().to(oauth::revoke)),
                )
                .service(
                    web::resource("/services/oauth2/userinfo")
                        .route(web::get().to(oauth::userinfo))
                        .route(web::post().to(oauth::userinfo)),
                )
                .service(web::resource("/id/{org}/{user}").route(web::get().to(oauth::identity)))
                .service(web::resource("/services/data").route(web::get().to(rest::versions)))
                .service(web::resource("/services/data/").route(web::get().to(rest::versions)))
                .service(
                    web::scope("/services/data/{version}")
                        .wrap(from_fn(gate::gate))
                        .service(web::resource("").to(rest::dispatch))
                        .service(web::resource("/{tail:.*}").to(rest::dispatch)),
                )
                .default_service(web::to(rest::unknown)),
        );
    }
}

impl crate::Emulator for Salesforce {
    fn name(&self) -> &'static str {
        "salesforce"
    }

    fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    fn reset(&self, account: &str) {
        Salesforce::reset(self, account);
    }

    fn set_faults(&self, account: &str, plan: crate::FaultPlan) {
        self.with_org(account, |org| org.faults = crate::faults::Faults::new(plan));
    }

    fn set_limits(&self, account: &str, limits: crate::LimitSettings, _search: Option<crate::limits::WindowSettings>) {
        // Salesforce's SOQL queries count against the org's limits like any other call.
        self.with_org(account, |org| org.limits.set(limits));
    }

    fn clock_granularity_ms(&self) -> i64 {
        1000
    }

    fn set_clock(&self, account: &str, granularity_ms: i64, _search_lag_ms: i64) {
        self.with_org(account, |org| org.clock.granularity_ms = granularity_ms.max(1));
    }

    fn generate(&self, account: &str, request: &crate::GenerateRequest) -> serde_json::Value {
        self.with_org(account, |org| {
            seed::generate_contacts(org, request.contacts, request.timestamps);
            serde_json::json!({ "contacts": org.table(SObject::Contact).live().count() })
        })
    }

    fn summary(&self, account: &str) -> serde_json::Value {
        let installed = self.oauth.installed_apps(account);
        self.with_org(account, |org| {
            let usage = org.limits.usage();
            let records: serde_json::Map<String, serde_json::Value> = SObject::ALL
                .iter()
                .map(|o| (o.name().to_string(), serde_json::json!(org.table(*o).live().count())))
                .collect();
            let deleted: serde_json::Map<String, serde_json::Value> = SObject::ALL
                .iter()
                .map(|o| {
                    let table = org.table(*o);
                    (
                        o.name().to_string(),
                        serde_json::json!(table.records.len() - table.live().count()),
                    )
                })
                .collect();
            serde_json::json!({
                "account": org.key,
                "organization_id": org.org_id,
                "name": org.name,
                "admin_user_id": org.admin_id(),
                "records": records,
                "recycle_bin": deleted,
                "limits": org.limits.settings,
                "used_today": usage.used_today,
                "faults": org.faults.plan(),
                "open_query_cursors": org.cursors.len(),
                "installed_apps": installed,
            })
        })
    }

    fn static_token(&self, account: &str) -> String {
        let user = self.with_org(account, |org| org.admin_id());
        let grant = crate::oauth::Grant {
            account: account.to_string(),
            client_id: "sandbox-static".into(),
            scopes: vec!["api".into(), "refresh_token".into()],
            user,
        };
        self.oauth.issue_static_token(grant, &access_token_prefix(account))
    }
}
