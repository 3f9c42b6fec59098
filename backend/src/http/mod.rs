//! HTTP: thin handlers (one per file, `http/<resource>/<verb>.rs`) that extract, call a service
//! and map errors once (`error.rs`).

pub mod alert_webhooks;
pub mod alerts;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod changes;
pub mod connections;
pub mod crm_webhooks;
pub mod demo;
pub mod environments;
pub mod error;
pub mod extract;
pub mod failed_records;
pub mod health;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod pipelines;
pub mod promotion;
pub mod records;
pub mod runs;
pub mod support;
pub mod tenants;
pub mod ui;
pub mod users;
pub mod webhooks;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, Error, web};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};
use utoipa_actix_web::{AppExt, scope};

use crate::state::AppState;

/// Where the sandbox CRMs are mounted.
pub const SANDBOX_PREFIX: &str = "/sandbox";

/// Every request's root log span, with room for the tenant and user once they are known.
///
/// Built here rather than with `tracing_actix_web::root_span!`, which logs the full request
/// target: query strings (the OAuth callback's `code` and `state`) and token path segments (the
/// sandbox CRMs' `/oauth/v1/access-tokens/{token}`) must not reach the logs.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let target = loggable_path(request.path());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %target,
            http.route = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
            request_id = %request_id,
            tenant_id = tracing::field::Empty,
            user_id = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(response) = outcome
            && let Some(route) = response.request().match_pattern()
        {
            span.record("http.route", route.as_str());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The request path without its query, with token segments replaced.
pub fn loggable_path(path: &str) -> String {
    let mut out = Vec::new();
    let mut redact_next = false;
    for segment in path.split('/') {
        if redact_next {
            out.push("{token}");
            redact_next = false;
            continue;
        }
        redact_next = matches!(segment, "access-tokens" | "refresh-tokens");
        out.push(segment);
    }
    out.join("/")
}

/// The whole application: API, OpenAPI document, operations endpoints and the UI.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let max_body = state.settings.server.max_body_bytes;
    let sandbox = state.sandbox.clone();
    let ui_dir = state.settings.server.ui_dir.clone();
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .service(
            scope("/api/v1")
                .service(auth::login::login)
                .service(auth::logout::logout)
                .service(auth::session::current_session)
                .service(tenants::list::list_tenants)
                .service(tenants::create::create_tenant)
                .service(tenants::get::get_tenant)
                .service(tenants::update::update_tenant)
                .service(environments::list::list_environments)
                .service(users::list::list_users)
                .service(users::create::create_user)
                .service(users::update::update_user)
                .service(users::delete::delete_user)
                .service(api_keys::list::list_api_keys)
                .service(api_keys::create::create_api_key)
                .service(api_keys::revoke::revoke_api_key)
                .service(audit::list_tenant::list_tenant_audit)
                .service(audit::list_all::list_all_audit)
                .service(support::search::support_search)
                .service(demo::start_demo)
                .service(demo::reset_demo)
                .service(demo::demo_dashboard)
                .service(catalogue::list::list_providers)
                .service(connections::list::list_connections)
                .service(connections::authorize::start_connect)
                .service(connections::credentials::connect_with_credentials)
                .service(connections::reconnect::reconnect)
                .service(connections::test::test_connection)
                .service(connections::delete::disconnect)
                .service(connections::update::update_connection)
                .service(connections::callouts::connection_callouts)
                .service(oauth::callback::oauth_callback)
                .service(crm_webhooks::hubspot::hubspot_webhook)
                .service(app::whoami::whoami)
                .service(records::batch::push_batch)
                .service(records::put::put_record)
                .service(records::touch_points::contact_touch_points)
                .service(records::get::get_record)
                .service(records::delete::delete_record)
                .service(pipelines::list::list_pipelines)
                .service(pipelines::create::create_pipeline)
                .service(pipelines::get::get_pipeline)
                .service(pipelines::update::update_pipeline)
                .service(pipelines::delete::delete_pipeline)
                .service(pipelines::run::run_pipeline)
                .service(pipelines::runs_stream::stream_runs)
                .service(pipelines::runs::list_runs)
                .service(pipelines::daily::daily_counts)
                .service(pipelines::conflicts::list_conflicts)
                .service(pipelines::held_deletes::list_held_deletes)
                .service(pipelines::decide_held_deletes::decide_held_deletes)
                .service(pipelines::mapping_fields::mapping_fields)
                .service(pipelines::mapping_history::mapping_history)
                .service(pipelines::mapping_save::mapping_save)
                .service(pipelines::mapping_validate::mapping_validate)
                .service(pipelines::mapping_preview::mapping_preview)
                .service(promotion::plan::promotion_plan)
                .service(promotion::promote::promote)
                .service(runs::get::get_run)
                .service(runs::events::run_events)
                .service(runs::callouts::run_callouts)
                .service(runs::record_history::record_history)
                .service(failed_records::list::list_failed_records)
                .service(failed_records::replay::replay_failed_records)
                .service(failed_records::decide_duplicates::decide_duplicates)
                .service(failed_records::ignore::ignore_failed_records)
                .service(failed_records::get::get_failed_record)
                .service(alerts::list::list_alerts)
                .service(alerts::acknowledge::acknowledge_alert)
                .service(changes::feed::change_feed)
                .service(webhooks::create::create_webhook)
                .service(webhooks::list::list_webhooks)
                .service(webhooks::delete::delete_webhook)
                .service(webhooks::deliveries::list_deliveries)
                .service(webhooks::replay::replay_delivery)
                .service(alert_webhooks::list::list_environment_webhooks)
                .service(alert_webhooks::create::create_environment_webhook)
                .service(alert_webhooks::delete::delete_environment_webhook),
        )
        .service(health::healthz)
        .service(health::readyz)
        .split_for_parts();

    let mut app = app
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(api))
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(extract::path_config())
        .service(web::resource("/api/openapi.json").get(openapi::serve))
        .service(web::resource("/metrics").get(metrics::serve));
    // The emulated CRMs answer in their own formats, not Tandem's (see `error::shape_errors`).
    if let Some(sandbox) = sandbox {
        app = app.service(web::scope(SANDBOX_PREFIX).configure(|cfg| sandbox.configure(cfg)));
    }
    // The built frontend's assets; without a build, `ui::fallback` explains how to make one.
    for folder in ["pkg", "assets"] {
        let dir = ui_dir.join(folder);
        if dir.is_dir() {
            app = app.service(actix_files::Files::new(&format!("/{folder}"), dir).use_etag(true));
        }
    }
    app.default_service(web::to(ui::fallback))
        .wrap(from_fn(error::shape_errors))
        // Outside `shape_errors`, so that error bodies are rewritten before they are compressed.
        .wrap(Compress::default())
        .wrap(from_fn(metrics::track))
        .wrap(TracingLogger::<RequestSpan>::new())
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn token_segments_never_reach_the_logs() {
        assert_eq!(
            loggable_path("/sandbox/hubspot/acme/oauth/v1/access-tokens/CO123secret"),
            "/sandbox/hubspot/acme/oauth/v1/access-tokens/{token}"
        );
        assert_eq!(
            loggable_path("/sandbox/hubspot/a/oauth/v1/refresh-tokens/na1-x"),
            "/sandbox/hubspot/a/oauth/v1/refresh-tokens/{token}"
        );
        assert_eq!(loggable_path("/api/v1/tenants/123/users"), "/api/v1/tenants/123/users");
    }
}
