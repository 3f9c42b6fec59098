//! CRM webhooks in: a CRM says records changed in an account; the pipelines that read from that
//! account's connections run now (PRODUCT.md flow 9). A webhook is a hint, not the truth: the run
//! reads the changes itself after its cursor, and the scheduled poll stays the safety net, so a
//! lost, repeated or reordered event costs at most one extra (cheap) run.
//!
//! HubSpot signs with the client secret of the app the account installed, so the secret that
//! verifies a request also says which connections it may concern: those made through that app.

use std::collections::BTreeSet;

use secrecy::ExposeSecret;
use tandem_shared::api::connections::ConnectionTarget;
use tandem_shared::api::pipelines::{PipelineStatus, SyncDirection};
use tandem_shared::api::runs::RunTrigger;
use tandem_shared::api::tenants::EnvironmentKind;

use super::ServiceError;
use crate::auth::AuthError;
use crate::connectors::hubspot::webhook::{self, WebhookError};
use crate::connectors::{ObjectKind, catalogue};
use crate::repo::{connections, now_ms, pipelines};
use crate::state::AppState;
use crate::sync::jobs as sync_jobs;
use crate::sync::plan::object_kind;

/// The parts of a webhook request a signature covers.
pub struct SignedRequest<'a> {
    /// The full URL the CRM called, as it called it (scheme, host, path and query).
    pub url: String,
    pub method: &'a str,
    pub body: &'a [u8],
    pub signature: Option<&'a str>,
    pub timestamp: Option<&'a str>,
}

/// What a webhook request led to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Intake {
    pub events: usize,
    pub runs_requested: usize,
}

/// Which connections an app's signature vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Vouches {
    target: ConnectionTarget,
    /// Live apps are registered per environment.
    environment: Option<EnvironmentKind>,
}

/// The HubSpot apps Tandem knows, with what each one's signature vouches for.
fn hubspot_apps(state: &AppState) -> Vec<(String, Vouches)> {
    let mut apps = Vec::new();
    if let Some(app) = state.crm.targets.sandbox_apps.get("hubspot") {
        apps.push((
            app.client_secret.expose_secret().to_string(),
            Vouches {
                target: ConnectionTarget::Sandbox,
                environment: None,
            },
        ));
    }
    let operator = &state.crm.targets.crm.hubspot;
    for (app, environment) in [
        (&operator.sandbox, EnvironmentKind::Sandbox),
        (&operator.production, EnvironmentKind::Production),
    ] {
        if let Some(app) = app {
            apps.push((
                app.client_secret.expose_secret().to_string(),
                Vouches {
                    target: ConnectionTarget::Live,
                    environment: Some(environment),
                },
            ));
        }
    }
    apps
}

fn unsigned(error: WebhookError) -> ServiceError {
    ServiceError::Auth(AuthError::BadSignature(error.to_string()))
}

/// Takes a HubSpot webhook request: checks its v3 signature, then asks for a run of every active
/// pipeline with webhook triggers that reads the changed object from a connection to the account.
#[tracing::instrument(skip_all, fields(provider = "hubspot"))]
pub async fn hubspot(state: &AppState, request: SignedRequest<'_>) -> Result<Intake, ServiceError> {
    let now = now_ms();
    let mut last_error = WebhookError::BadSignature;
    let mut vouched = None;
    for (secret, vouches) in hubspot_apps(state) {
        match webhook::verify_v3(
            &secret,
            request.method,
            &request.url,
            request.body,
            request.timestamp,
            request.signature,
            now,
        ) {
            Ok(()) => {
                vouched = Some(vouches);
                break;
            }
            // A missing header or a stale timestamp is the same for every app.
            Err(error @ (WebhookError::MissingHeader | WebhookError::BadTimestamp | WebhookError::Stale { .. })) => {
                return Err(unsigned(error));
            }
            Err(error) => last_error = error,
        }
    }
    let Some(vouches) = vouched else {
        tracing::warn!("a HubSpot webhook request was refused: {last_error}");
        return Err(unsigned(last_error));
    };
    let events =
        webhook::parse_events(request.body).map_err(|message| crate::domain::FieldError::new("body", message))?;

    // Each (account, object) once, however many events name it.
    let changed: BTreeSet<(String, ObjectKind)> = events
        .iter()
        .filter_map(|e| e.object.map(|o| (e.portal_id.clone(), o)))
        .collect();
    let mut intake = Intake {
        events: events.len(),
        runs_requested: 0,
    };
    let provider = catalogue::provider("hubspot").map_or("hubspot", |p| p.id);
    let mut requested = BTreeSet::new();
    for (account_id, object) in changed {
        let connections = connections::by_account(state.db.pool(), provider, &account_id).await?;
        for connection in connections.into_iter().filter(|c| {
            c.connection.target == vouches.target && vouches.environment.is_none_or(|e| e == c.connection.environment)
        }) {
            let id = connection.connection.id;
            for stored in pipelines::using_connection(state.db.pool(), id).await? {
                let pipeline = &stored.pipeline;
                let reads_from_it = pipeline.source.connection_id() == Some(id)
                    || (pipeline.direction == SyncDirection::TwoWay && pipeline.target.connection_id() == Some(id));
                if pipeline.status != PipelineStatus::Active
                    || !pipeline.settings.trigger.webhooks
                    || !reads_from_it
                    || object_kind(pipeline.object) != object
                    || !requested.insert(pipeline.id)
                {
                    continue;
                }
                sync_jobs::trigger(
                    &state.db,
                    &state.queue,
                    pipeline.tenant_id,
                    pipeline.id,
                    RunTrigger::Webhook,
                )
                .await?;
                tracing::info!(tenant.id = %pipeline.tenant_id, pipeline.id = %pipeline.id, connection.id = %id,
                    "a CRM webhook asked for a run");
                intake.runs_requested += 1;
            }
        }
    }
    Ok(intake)
}
