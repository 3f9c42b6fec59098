//! Tandem's sandbox CRMs: local emulations of each CRM's HTTP API at the wire level (paths,
//! payloads, paging, errors, limits and their headers, OAuth consent and token endpoints,
//! signed webhooks), good enough that each CRM's official client works against them unchanged
//! but for the base URL. They stand in for the real CRMs in tests and CI, in every tenant's
//! sandbox environment, and in sales demos, and can fail on demand (`/_control`).
//!
//! This crate is "another company's server that happens to run in-process": it knows nothing of
//! the platform. `tandem serve` mounts it under `/sandbox`; `tandem sandbox <crm>` serves it
//! alone.

pub mod clock;
pub mod consent;
mod control;
pub mod faults;
pub mod generate;
pub mod hubspot;
pub mod limits;
pub mod oauth;
pub mod pipedrive;
pub mod salesforce;

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use control::GenerateRequest;
pub use faults::FaultPlan;
pub use limits::LimitSettings;
pub use oauth::{OAuthApp, OAuthServer};

/// What the control API can do to any emulated CRM.
pub trait Emulator: Send + Sync {
    /// The path segment (`hubspot`).
    fn name(&self) -> &'static str;
    fn oauth(&self) -> &OAuthServer;
    /// Back to the sample data.
    fn reset(&self, account: &str);
    fn set_faults(&self, account: &str, plan: FaultPlan);
    /// The account's limits; `search` sets the search API's own window where the CRM has one.
    fn set_limits(&self, account: &str, limits: LimitSettings, search: Option<limits::WindowSettings>);
    /// Timestamp granularity (to make ties) and search index lag, in milliseconds.
    fn set_clock(&self, account: &str, granularity_ms: i64, search_lag_ms: i64);
    /// The granularity of the CRM's own timestamps (`DELETE …/clock` goes back to it).
    fn clock_granularity_ms(&self) -> i64 {
        1
    }
    fn generate(&self, account: &str, request: &GenerateRequest) -> Value;
    fn summary(&self, account: &str) -> Value;
    /// A token that never expires for the account (HubSpot private apps; tests).
    fn static_token(&self, account: &str) -> String;
    /// Ends the tokens `static_token` gives (Pipedrive: a new personal API token replaces the
    /// old one), as `tokens/revoke` does for OAuth grants.
    fn revoke_static_tokens(&self, _account: &str) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Crm {
    HubSpot,
    Salesforce,
    Pipedrive,
}

/// Every emulated CRM, ready to mount.
#[derive(Clone)]
pub struct Sandbox {
    pub hubspot: Arc<hubspot::HubSpot>,
    pub salesforce: Arc<salesforce::Salesforce>,
    pub pipedrive: Arc<pipedrive::Pipedrive>,
    control_token: Option<Arc<str>>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            hubspot: Arc::new(hubspot::HubSpot::new()),
            salesforce: Arc::new(salesforce::Salesforce::new()),
            pipedrive: Arc::new(pipedrive::Pipedrive::new()),
            control_token: None,
        }
    }

    /// Requires `X-Sandbox-Control-Token` on `/_control` requests.
    pub fn with_control_token(mut self, token: Option<String>) -> Sandbox {
        self.control_token = token.map(Arc::from);
        self
    }

    /// Registers an OAuth app with one emulated CRM (`hubspot`, …); false if there is no such CRM.
    pub fn register_app(&self, crm: &str, app: OAuthApp) -> bool {
        match self.emulators().into_iter().find(|e| e.name() == crm) {
            Some(emulator) => {
                emulator.oauth().register_app(app);
                true
            }
            None => false,
        }
    }

    fn emulators(&self) -> Vec<Arc<dyn Emulator>> {
        vec![self.hubspot.clone(), self.salesforce.clone(), self.pipedrive.clone()]
    }

    /// The sandbox routes: `/hubspot/<account>/…`, `/salesforce/<account>/…` and `/_control/…`,
    /// relative to where they are mounted.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let control = control::Control {
            emulators: self.emulators(),
            token: self.control_token.clone(),
        };
        cfg.service(web::scope("/_control").configure(control::configure(control)))
            .service(web::scope("/hubspot").configure(hubspot::configure(self.hubspot.clone())))
            .service(web::scope("/salesforce").configure(salesforce::configure(self.salesforce.clone())))
            .service(web::scope("/pipedrive").configure(pipedrive::configure(self.pipedrive.clone())))
            .default_service(web::to(not_found));
    }

    /// Background work: webhook delivery. Call once, inside the runtime that serves requests.
    pub fn start_background(&self, webhook_interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(pipedrive::webhooks::run(self.pipedrive.clone(), webhook_interval));
        tokio::spawn(hubspot::webhooks::run(self.hubspot.clone(), webhook_interval))
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json")
        .body(r#"{"error":"no sandbox endpoint here; CRMs live under /hubspot/<account>, /salesforce/<account> and /pipedrive/<account>"}"#)
}

/// A response whose body breaks off after the headers: the client sees the connection drop.
pub fn dropped_connection() -> HttpResponse {
    let broken = futures_util::stream::once(async {
        Err::<web::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by fault injection",
        ))
    });
    HttpResponse::Ok().content_type("application/json").streaming(broken)
}
