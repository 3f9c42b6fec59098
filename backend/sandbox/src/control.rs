//! `/_control/<crm>/…`: what tests, demos and benchmarks do to a sandbox CRM that its own API
//! cannot: register apps, inject faults, change limits, reset or grow an account, expire or
//! revoke tokens.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{Emulator, FaultPlan, LimitSettings, OAuthApp};

#[derive(Clone)]
pub struct Control {
    pub emulators: Vec<Arc<dyn Emulator>>,
    pub token: Option<Arc<str>>,
}

/// `POST …/generate`: records to add to an account, for benchmarks and tests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    #[serde(default)]
    pub contacts: usize,
    /// How their creation and modification times fall (see `generate::Timestamps`).
    #[serde(default)]
    pub timestamps: crate::generate::Timestamps,
}

/// `PUT …/limits`: the account's limits, and (HubSpot) its search API's own window.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsRequest {
    #[serde(flatten)]
    general: LimitSettings,
    #[serde(default)]
    search: Option<crate::limits::WindowSettings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    #[serde(default = "one")]
    granularity_ms: i64,
    #[serde(default)]
    search_lag_ms: i64,
}

fn one() -> i64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppRequest {
    client_secret: String,
    name: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    webhook_url: Option<String>,
}

fn bad(message: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message.into() }))
}

impl Control {
    fn emulator(&self, name: &str) -> Option<Arc<dyn Emulator>> {
        self.emulators.iter().find(|e| e.name() == name).cloned()
    }

    fn authorised(&self, req: &HttpRequest) -> bool {
        match &self.token {
            None => true,
            Some(token) => {
                req.headers()
                    .get("x-sandbox-control-token")
                    .and_then(|v| v.to_str().ok())
                    == Some(token)
            }
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))
}

async fn handle(req: HttpRequest, control: web::Data<Control>, body: web::Bytes) -> HttpResponse {
    if !control.authorised(&req) {
        return HttpResponse::Unauthorized().json(json!({ "error": "X-Sandbox-Control-Token is missing or wrong" }));
    }
    let segments: Vec<&str> = req
        .match_info()
        .get("tail")
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method().as_str();
    if segments.is_empty() {
        let crms: Vec<_> = control.emulators.iter().map(|e| e.name()).collect();
        return HttpResponse::Ok().json(json!({ "crms": crms }));
    }
    let Some(emulator) = control.emulator(segments[0]) else {
        return HttpResponse::NotFound().json(json!({ "error": format!("no sandbox CRM named {}", segments[0]) }));
    };
    let result = match (method, &segments[1..]) {
        ("PUT", ["apps", client_id]) => parse::<AppRequest>(&body).map(|app| {
            let app = OAuthApp {
                client_id: (*client_id).to_string(),
                client_secret: app.client_secret,
                name: app.name,
                redirect_uris: app.redirect_uris,
                webhook_url: app.webhook_url,
            };
            emulator.oauth().register_app(app.clone());
            HttpResponse::Ok()
                .json(json!({ "client_id": app.client_id, "name": app.name, "redirect_uris": app.redirect_uris }))
        }),
        ("GET", ["accounts", account]) => {
            // What every emulator's OAuth server knows, beside the CRM's own summary.
            let mut summary = emulator.summary(account);
            if let Some(fields) = summary.as_object_mut() {
                fields.insert("token_refreshes".into(), json!(emulator.oauth().refresh_count()));
                fields.insert("installed_apps".into(), json!(emulator.oauth().installed_apps(account)));
            }
            Ok(HttpResponse::Ok().json(summary))
        }
        ("POST", ["accounts", account, "reset"]) => {
            emulator.reset(account);
            Ok(HttpResponse::NoContent().finish())
        }
        ("POST", ["accounts", account, "generate"]) => {
            parse::<GenerateRequest>(&body).map(|request| HttpResponse::Ok().json(emulator.generate(account, &request)))
        }
        ("PUT", ["accounts", account, "faults"]) => parse::<FaultPlan>(&body).and_then(|plan| {
            plan.validate()?;
            emulator.set_faults(account, plan);
            Ok(HttpResponse::NoContent().finish())
        }),
        ("DELETE", ["accounts", account, "faults"]) => {
            emulator.set_faults(account, FaultPlan::default());
            Ok(HttpResponse::NoContent().finish())
        }
        ("PUT", ["accounts", account, "limits"]) => parse::<LimitsRequest>(&body).map(|limits| {
            emulator.set_limits(account, limits.general, limits.search);
            HttpResponse::NoContent().finish()
        }),
        ("PUT", ["accounts", account, "clock"]) => parse::<ClockRequest>(&body).map(|clock| {
            emulator.set_clock(account, clock.granularity_ms, clock.search_lag_ms);
            HttpResponse::NoContent().finish()
        }),
        ("DELETE", ["accounts", account, "clock"]) => {
            emulator.set_clock(account, emulator.clock_granularity_ms(), 0);
            Ok(HttpResponse::NoContent().finish())
        }
        ("POST", ["accounts", account, "tokens", "expire"]) => {
            Ok(HttpResponse::Ok().json(json!({ "expired": emulator.oauth().expire_account_tokens(account) })))
        }
        ("POST", ["accounts", account, "tokens", "revoke"]) => {
            emulator.revoke_static_tokens(account);
            Ok(HttpResponse::Ok().json(json!({ "revoked": emulator.oauth().revoke_account(account) })))
        }
        ("POST", ["accounts", account, "tokens", "static"]) => {
            Ok(HttpResponse::Ok().json(json!({ "access_token": emulator.static_token(account) })))
        }
        _ => Ok(HttpResponse::NotFound()
            .json(json!({ "error": format!("no control endpoint {method} {}", segments.join("/")) }))),
    };
    result.unwrap_or_else(bad)
}

pub fn configure(control: Control) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(control))
            .service(web::resource("").to(handle))
            .service(web::resource("/{tail:.*}").to(handle));
    }
}
