//! HubSpot, emulated: OAuth (consent page, code exchange, refresh, token info, revocation), CRM
//! v3 objects (contacts, companies, deals, products, line items, meetings) with list, get,
//! create, update, archive, search and batch calls, properties and pipelines, v4 associations,
//! owners, the 10-second and daily limits with their headers, and signed webhooks.
//!
//! Every account (portal) lives under `<mount>/hubspot/<account>`: point a HubSpot client's
//! `host` there. Wire facts: ../shared/docs/crm-apis.md §2, official-clients.md §1.

mod associations;
mod batch;
pub mod errors;
mod gate;
pub mod model;
mod oauth;
mod objects;
pub mod ops;
mod schema;
pub mod search;
pub mod seed;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::oauth::{OAuthServer, TokenPolicy};
pub use model::{Account, ObjectType};

/// HubSpot access tokens live 30 minutes (`expires_in: 1800`).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(1800);

pub struct HubSpot {
    accounts: RwLock<HashMap<String, Arc<Mutex<Account>>>>,
    pub oauth: OAuthServer,
    pub webhooks: webhooks::Outbox,
}

impl Default for HubSpot {
    fn default() -> Self {
        HubSpot::new()
    }
}

impl HubSpot {
    pub fn new() -> HubSpot {
        HubSpot {
            accounts: RwLock::new(HashMap::new()),
            oauth: OAuthServer::new(TokenPolicy {
                access_ttl: ACCESS_TOKEN_TTL,
                report_expiry: true,
                access_prefix: "CO",
                account_access_prefix: None,
                refresh_prefix: "na1-",
            }),
            webhooks: webhooks::Outbox::default(),
        }
    }

    /// The account, created with its sample data on first use.
    pub fn account(&self, key: &str) -> Arc<Mutex<Account>> {
        if let Some(account) = self.accounts.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return account.clone();
        }
        let mut accounts = self.accounts.write().unwrap_or_else(PoisonError::into_inner);
        accounts
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(fresh_account(key))))
            .clone()
    }

    pub fn with_account<R>(&self, key: &str, f: impl FnOnce(&mut Account) -> R) -> R {
        let account = self.account(key);
        let mut guard: MutexGuard<'_, Account> = account.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Back to the sample data; limits, faults and grants are kept.
    pub fn reset(&self, key: &str) {
        self.with_account(key, |account| {
            let fresh = fresh_account(key);
            account.objects = fresh.objects;
            account.properties = fresh.properties;
            account.pipelines = fresh.pipelines;
            account.associations = fresh.associations;
            account.next_id = fresh.next_id;
            account.events.clear();
        });
    }

    pub fn account_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }
}

fn fresh_account(key: &str) -> Account {
    let mut account = Account::empty(key);
    seed::define_schema(&mut account);
    seed::populate(&mut account);
    account
}

/// Account keys are short path-safe names.
pub fn valid_account_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The HubSpot routes, to mount at `<prefix>/hubspot`.
pub fn configure(hubspot: Arc<HubSpot>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::scope("/{account}")
                .app_data(web::Data::from(hubspot))
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .service(
                    web::resource("/oauth/authorize")
                        .route(web::get().to(oauth::authorize_page))
                        .route(web::post().to(oauth::authorize_decision)),
                )
                .service(web::resource("/oauth/v1/token").route(web::post().to(oauth::token)))
                .service(
                    web::resource("/oauth/v1/access-tokens/{token}").route(web::get().to(oauth::access_token_info)),
                )
                .service(
                    web::resource("/oauth/v1/refresh-tokens/{token}")
                        .route(web::get().to(oauth::refresh_token_info))
                        .route(web::delete().to(oauth::revoke_refresh_token)),
                )
                .service(
                    web::scope("/crm")
                        .wrap(from_fn(gate::gate))
                        .service(web::resource("/v3/objects/{object}/search").route(web::post().to(search::search)))
                        .service(
                            web::resource("/v3/objects/{object}/batch/{operation}").route(web::post().to(batch::batch)),
                        )
                        .service(
                            web::resource("/v3/objects/{object}")
                                .route(web::get().to(objects::list))
                                .route(web::post().to(objects::create)),
                        )
                        .service(
                            web::resource("/v3/objects/{object}/{id}")
                                .route(web::get().to(objects::get))
                                .route(web::patch().to(objects::update))
                                .route(web::delete().to(objects::archive)),
                        )
                        .service(
                            web::resource("/v3/properties/{object}")
                                .route(web::get().to(schema::list_properties))
                                .route(web::post().to(schema::create_property)),
                        )
                        .service(
                            web::resource("/v3/properties/{object}/{name}")
                                .route(web::get().to(schema::get_property))
                                .route(web::patch().to(schema::update_property))
                                .route(web::delete().to(schema::archive_property)),
                        )
                        .service(web::resource("/v3/pipelines/{object}").route(web::get().to(schema::list_pipelines)))
                        .service(
                            web::resource("/v3/pipelines/{object}/{pipeline}")
                                .route(web::get().to(schema::get_pipeline)),
                        )
                        .service(web::resource("/v3/owners").route(web::get().to(schema::owners)))
                        .service(web::resource("/v3/owners/").route(web::get().to(schema::owners)))
                        .service(
                            web::resource("/v4/objects/{from}/{id}/associations/{to}")
                                .route(web::get().to(associations::list)),
                        )
                        .service(
                            web::resource("/v4/associations/{from}/{to}/batch/read")
                                .route(web::post().to(associations::batch_read)),
                        )
                        .service(
                            web::resource("/v4/objects/{from}/{id}/associations/default/{to}/{to_id}")
                                .route(web::put().to(associations::create_default)),
                        )
                        .service(
                            web::resource("/v4/objects/{from}/{id}/associations/{to}/{to_id}")
                                .route(web::delete().to(associations::remove)),
                        )
                        .default_service(web::to(gate::unknown_endpoint)),
                ),
        );
    }
}

impl crate::Emulator for HubSpot {
    fn name(&self) -> &'static str {
        "hubspot"
    }

    fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    fn reset(&self, account: &str) {
        HubSpot::reset(self, account);
    }

    fn set_faults(&self, account: &str, plan: crate::FaultPlan) {
        self.with_account(account, |a| a.faults = crate::faults::Faults::new(plan));
    }

    fn set_limits(&self, account: &str, limits: crate::LimitSettings, search: Option<crate::limits::WindowSettings>) {
        self.with_account(account, |a| {
            a.limits.set(limits);
            if let Some(search) = search {
                a.search_limits.set(search.into());
            }
        });
    }

    fn set_clock(&self, account: &str, granularity_ms: i64, search_lag_ms: i64) {
        self.with_account(account, |a| {
            a.clock.granularity_ms = granularity_ms.max(1);
            a.search_lag_ms = search_lag_ms.max(0);
        });
    }

    fn generate(&self, account: &str, request: &crate::GenerateRequest) -> serde_json::Value {
        self.with_account(account, |a| {
            seed::generate_contacts(a, request.contacts, request.timestamps);
            serde_json::json!({ "contacts": a.records(ObjectType::Contacts).len() })
        })
    }

    fn summary(&self, account: &str) -> serde_json::Value {
        let pending = self.pending_webhook_deliveries();
        let installed = self.oauth.installed_apps(account);
        self.with_account(account, |a| {
            let usage = a.limits.usage();
            let counts: serde_json::Map<String, serde_json::Value> = ObjectType::ALL
                .iter()
                .map(|t| {
                    (
                        t.name().to_string(),
                        serde_json::json!(a.records(*t).values().filter(|r| r.archived_at.is_none()).count()),
                    )
                })
                .collect();
            serde_json::json!({
                "account": a.key,
                "hub_id": a.hub_id,
                "name": a.name,
                "records": counts,
                "limits": a.limits.settings,
                "used_today": usage.used_today,
                "faults": a.faults.plan(),
                "installed_apps": installed,
                "token_refreshes": self.oauth.refresh_count(),
                "pending_webhook_deliveries": pending,
            })
        })
    }

    fn static_token(&self, account: &str) -> String {
        let user = self.with_account(account, |a| a.user.clone());
        let grant = crate::oauth::Grant {
            account: account.to_string(),
            client_id: "private-app".into(),
            scopes: vec!["crm.objects.contacts.read".into(), "crm.objects.contacts.write".into()],
            user,
        };
        self.oauth.issue_static_token(grant, "pat-na1-")
    }
}
