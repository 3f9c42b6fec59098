//! Pipedrive, emulated: OAuth (consent page, token with `api_domain`, refresh, revoke) and the
//! user's API token (`x-api-token`, `api_token`); API v2 persons, organizations, deals (with
//! their products), products and activities (cursor paging, `updated_since`, search) and what
//! is v1 only (the user, field definitions with hashed custom keys, recents, webhooks); the
//! per-token 2-second window and search's own, the daily budget, with Pipedrive's headers and
//! 429; webhooks v2 with HTTP Basic credentials.
//!
//! Every company lives under `<mount>/pipedrive/<account>`: point the official client's
//! `basePath` at `<that>/api/v2` (or `/v1`). Wire facts: ../shared/docs/crm-apis.md §4,
//! official-clients.md (Pipedrive).

pub mod errors;
mod gate;
pub mod model;
mod oauth;
mod records;
pub mod seed;
mod v1;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::oauth::{OAuthServer, TokenPolicy};
pub use model::{Account, Entity};

/// Pipedrive access tokens live an hour (`expires_in: 3599`).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3599);

pub struct Pipedrive {
    accounts: RwLock<HashMap<String, Arc<Mutex<Account>>>>,
    pub oauth: OAuthServer,
}

impl Default for Pipedrive {
    fn default() -> Self {
        Pipedrive::new()
    }
}

impl Pipedrive {
    pub fn new() -> Pipedrive {
        Pipedrive {
            accounts: RwLock::new(HashMap::new()),
            oauth: OAuthServer::new(TokenPolicy {
                access_ttl: ACCESS_TOKEN_TTL,
                report_expiry: true,
                access_prefix: "v1:",
                account_access_prefix: None,
                refresh_prefix: "",
            }),
        }
    }

    pub fn account(&self, key: &str) -> Arc<Mutex<Account>> {
        if let Some(account) = self.accounts.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return account.clone();
        }
        self.accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(fresh_account(key))))
            .clone()
    }

    pub fn with_account<R>(&self, key: &str, f: impl FnOnce(&mut Account) -> R) -> R {
        let account = self.account(key);
        let mut guard = account.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
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

    /// Back to the sample data; limits, faults, webhooks and grants are kept.
    pub fn reset(&self, key: &str) {
        self.with_account(key, |account| {
            let fresh = fresh_account(key);
            account.items = fresh.items;
            account.fields = fresh.fields;
            account.stages = fresh.stages;
            account.deal_products = fresh.deal_products;
            account.next_id = fresh.next_id;
            account.events.clear();
        });
    }
}

fn fresh_account(key: &str) -> Account {
    let mut account = Account::empty(key);
    seed::define_schema(&mut account);
    seed::populate(&mut account);
    account
}

async fn unknown(req: HttpRequest) -> HttpResponse {
    gate::unknown_endpoint(&req).response()
}

/// The Pipedrive routes, to mount at `<prefix>/pipedrive`.
pub fn configure(pipedrive: Arc<Pipedrive>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let v1 = |scope: actix_web::Scope| {
            scope
                .wrap(from_fn(gate::gate))
                .service(web::resource("/users/me").route(web::get().to(v1::me)))
                .service(web::resource("/users").route(web::get().to(v1::users)))
                .service(web::resource("/pipelines").route(web::get().to(v1::pipelines)))
                .service(web::resource("/stages").route(web::get().to(v1::stages)))
                .service(web::resource("/recents").route(web::get().to(v1::recents)))
                .service(
                    web::resource("/webhooks")
                        .route(web::get().to(v1::webhooks))
                        .route(web::post().to(v1::add_webhook)),
                )
                .service(web::resource("/webhooks/{id}").route(web::delete().to(v1::remove_webhook)))
                .service(
                    web::resource("/{fields:[a-z]+Fields}")
                        .route(web::get().to(v1::fields))
                        .route(web::post().to(v1::add_field)),
                )
                .service(web::resource("/{entity}").route(web::get().to(v1::list)))
                .service(web::resource("/{entity}/{id}").route(web::get().to(v1::get)))
                .default_service(web::to(unknown))
        };
        cfg.service(
            web::scope("/{account}")
                .app_data(web::Data::from(pipedrive))
                .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
                .service(
                    web::resource("/oauth/authorize")
                        .route(web::get().to(oauth::authorize_page))
                        .route(web::post().to(oauth::authorize_decision)),
                )
                .service(web::resource("/oauth/token").route(web::post().to(oauth::token)))
                .service(web::resource("/oauth/revoke").route(web::post().to(oauth::revoke)))
                .service(
                    web::scope("/api/v2")
                        .wrap(from_fn(gate::gate))
                        .service(web::resource("/pipelines").route(web::get().to(v1::pipelines)))
                        .service(web::resource("/stages").route(web::get().to(v1::stages)))
                        .service(
                            web::resource("/deals/{id}/products")
                                .route(web::get().to(records::deal_products))
                                .route(web::post().to(records::add_deal_product)),
                        )
                        .service(
                            web::resource("/deals/{id}/products/{attachment}")
                                .route(web::delete().to(records::remove_deal_product)),
                        )
                        .service(web::resource("/{entity}/search").route(web::get().to(records::search)))
                        .service(
                            web::resource("/{entity}")
                                .route(web::get().to(records::list))
                                .route(web::post().to(records::create)),
                        )
                        .service(
                            web::resource("/{entity}/{id}")
                                .route(web::get().to(records::get))
                                .route(web::patch().to(records::update))
                                .route(web::delete().to(records::delete)),
                        )
                        .default_service(web::to(unknown)),
                )
                .service(v1(web::scope("/api/v1")))
                .service(v1(web::scope("/v1"))),
        );
    }
}

impl crate::Emulator for Pipedrive {
    fn name(&self) -> &'static str {
        "pipedrive"
    }

    fn oauth(&self) -> &OAuthServer {
        &self.oauth
    }

    fn reset(&self, account: &str) {
        Pipedrive::reset(self, account);
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

    fn clock_granularity_ms(&self) -> i64 {
        1_000
    }

    fn set_clock(&self, account: &str, granularity_ms: i64, search_lag_ms: i64) {
        self.with_account(account, |a| {
            a.clock.granularity_ms = granularity_ms.max(1);
            a.search_lag_ms = search_lag_ms.max(0);
        });
    }

    fn generate(&self, account: &str, request: &crate::GenerateRequest) -> serde_json::Value {
        self.with_account(account, |a| {
            seed::generate_persons(a, request.contacts, request.timestamps);
            serde_json::json!({ "contacts": a.live(Entity::Persons).count() })
        })
    }

    fn summary(&self, account: &str) -> serde_json::Value {
        self.with_account(account, |a| {
            let counts: serde_json::Map<String, serde_json::Value> = Entity::ALL
                .iter()
                .map(|e| (e.segment().to_string(), serde_json::json!(a.live(*e).count())))
                .collect();
            serde_json::json!({
                "account": a.key,
                "company_id": a.company_id,
                "name": a.company_name,
                "api_token": a.api_token,
                "records": counts,
                "limits": a.limits.settings,
                "search_limits": a.search_limits.settings,
                "used_today": a.limits.usage().used_today,
                "faults": a.faults.plan(),
                "webhooks": a.webhooks.len(),
            })
        })
    }

    /// The user's personal API token: it never expires.
    fn static_token(&self, account: &str) -> String {
        self.with_account(account, |a| a.api_token.clone())
    }

    /// As when the user generates a new API token in Pipedrive: the old one stops working.
    fn revoke_static_tokens(&self, account: &str) {
        self.with_account(account, |a| {
            a.api_token = (0..20).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        });
    }
}
