//! Sales demos. `Start demo` makes a demo tenant, connects its sandbox environment to the sandbox
//! HubSpot and Salesforce (through their consent pages, approved on the salesperson's behalf —
//! the same OAuth flow a customer goes through), seeds the app with contacts, deals and
//! appointments, creates the pipelines, and starts the activity generator: a durable job that,
//! every few seconds, changes records on every side — new and edited contacts in the app, in
//! HubSpot and in Salesforce, deals moving through stages, new appointments, and now and then a
//! record with bad data so that failed records appear — then asks the pipelines to run.
//! `Reset demo` removes the demo tenant with everything in it and starts a fresh one.
//!
//! Demo tenants reach sandbox CRMs only: `oauth::targets` resolves every CRM of a demo tenant to
//! the sandbox, whatever the environment.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tandem_shared::api::connections::StartConnectRequest;
use tandem_shared::api::demo::{DemoDashboard, DemoPipeline, StartDemoRequest};
use tandem_shared::api::pipelines::{CreatePipelineRequest, Endpoint, PipelineSettings, SyncDirection};
use tandem_shared::api::records::{BatchPush, BatchRecord};
use tandem_shared::api::runs::{RecordEvent, RecordOutcome, RunTrigger};
use tandem_shared::api::tenants::{CreateTenantRequest, EnvironmentKind, Tenant};
use tandem_shared::ids::{ApiKeyId, ConnectionId, TenantId};
use tandem_shared::model::AppObject;
use tandem_shared::roles::Role;
use tracing::Instrument;
use uuid::Uuid;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use super::{connections, pipelines as pipeline_service, records, tenants as tenant_service};
use crate::auth::{AppPrincipal, Principal};
use crate::configuration::DemoSettings;
use crate::connectors::catalogue::{self, Availability, Provider};
use crate::connectors::{Fields, ObjectKind};
use crate::domain::FieldError;
use crate::jobs::{JobContext, JobError, JobKind, JobOutcome, NewJob, Queue, TypedHandler};
use crate::oauth::CrmAccess;
use crate::oauth::flow::{self, CallbackParams};
use crate::repo::failed_records::{self as failed_repo, Filter};
use crate::repo::{Db, RepoError, environments, now_ms, pipelines, sync_history, tenants};
use crate::state::AppState;
use crate::sync::jobs as sync_jobs;

const FIRST_NAMES: &[&str] = &[
    "Amelia", "Noah", "Olivia", "Liam", "Mia", "Lucas", "Sofia", "Elias", "Hannah", "Mateo", "Ines", "Jonas", "Clara",
    "Felix", "Maya", "Oskar", "Lea", "Emil", "Nora", "Anton",
];
const LAST_NAMES: &[&str] = &[
    "Becker",
    "Novak",
    "Moreau",
    "Jensen",
    "Rossi",
    "Kowalski",
    "Silva",
    "Virtanen",
    "Horvat",
    "Schmidt",
    "Dubois",
    "Larsen",
    "Costa",
    "Weber",
    "Nagy",
    "Fischer",
    "Lindqvist",
    "Ferreira",
    "Meyer",
    "Kovac",
];
const COMPANIES: &[&str] = &[
    "Nordwind Logistik",
    "Alpen Solar",
    "Baltic Foods",
    "Costa Verde Hotels",
    "Danube Machines",
    "Fjord Analytics",
];
/// The app's deal statuses, in the order a deal moves through them.
const DEAL_STAGES: &[&str] = &["open", "qualified", "proposal", "won"];
/// HubSpot's lifecycle stages a salesperson moves contacts through.
const LIFECYCLE: &[&str] = &[
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
];
const SEED_CONTACTS: usize = 12;
const SEED_DEALS: usize = 6;

/// Only operator admins and sales staff run demos.
fn may_demo(principal: &Principal) -> Result<(), ServiceError> {
    match principal.role() {
        Role::OperatorAdmin | Role::Sales => Ok(()),
        _ => Err(ServiceError::Forbidden(
            "only sales staff and operator admins run demos".into(),
        )),
    }
}

async fn demo_tenant(db: &Db, principal: &Principal, tenant_id: TenantId) -> Result<Tenant, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Read).await?;
    if !tenant.is_demo {
        return Err(ServiceError::NotFound("demo tenant"));
    }
    Ok(tenant)
}

/// The CRMs a demo connects when the salesperson picks none.
pub const DEFAULT_DEMO_CRMS: [&str; 2] = ["hubspot", "salesforce"];

/// The CRMs asked for, checked: each live with a sandbox, none twice, at least one.
fn demo_crms(asked: &[String]) -> Result<Vec<&'static Provider>, ServiceError> {
    let asked: Vec<String> = if asked.is_empty() {
        DEFAULT_DEMO_CRMS.iter().map(|c| c.to_string()).collect()
    } else {
        asked.to_vec()
    };
    let mut crms: Vec<&'static Provider> = Vec::new();
    for id in &asked {
        let provider = catalogue::provider(id)
            .filter(|p| p.availability == Availability::Available && p.sandbox.is_some())
            .ok_or_else(|| {
                FieldError::new(
                    "crms",
                    format!(
                        "{id:?} is not a CRM a demo can connect (live ones: {})",
                        live_demo_crms().join(", ")
                    ),
                )
            })?;
        if !crms.iter().any(|p| p.id == provider.id) {
            crms.push(provider);
        }
    }
    Ok(crms)
}

/// The CRMs a demo can connect.
pub fn live_demo_crms() -> Vec<&'static str> {
    catalogue::PROVIDERS
        .iter()
        .filter(|p| p.availability == Availability::Available && p.sandbox.is_some())
        .map(|p| p.id)
        .collect()
}

/// Starts a demo: a new demo tenant, connected, seeded, with its pipelines and the generator.
pub async fn start(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    request: StartDemoRequest,
) -> Result<Tenant, ServiceError> {
    may_demo(principal)?;
    let crms = demo_crms(&request.crms)?;
    let suffix = &Uuid::new_v4().simple().to_string()[..6];
    let tenant = tenant_service::create(
        &state.db,
        principal,
        actor,
        CreateTenantRequest {
            name: format!("Sales demo {}", Utc::now().format("%b %-d, %H:%M")),
            slug: Some(format!("demo-{suffix}")),
            is_demo: true,
        },
    )
    .await?;
    let wired = wire(state, principal, actor, &tenant, &crms)
        .instrument(tracing::info_span!("demo.start", tenant_id = %tenant.id))
        .await;
    if let Err(error) = wired {
        // Half a demo is no demo: the tenant goes again, and the salesperson can retry.
        if let Err(cleanup) = tenants::delete(state.db.pool(), tenant.id).await {
            tracing::warn!(%cleanup, tenant_id = %tenant.id, "could not remove a demo that failed to start");
        }
        return Err(error);
    }
    Ok(tenant)
}

/// Connects, seeds, creates the pipelines and starts the generator of a new demo tenant: the
/// first CRM gets contacts both ways, deals both ways and appointments; each other one contacts
/// both ways.
async fn wire(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant: &Tenant,
    crms: &[&'static Provider],
) -> Result<(), ServiceError> {
    let mut connected = Vec::new();
    for provider in crms {
        connected.push((*provider, connect(state, principal, tenant, provider.id).await?));
    }
    seed(&state.db, tenant).await?;
    let crm = |connection_id| Endpoint::Connection { connection_id };
    let mut planned: Vec<(String, AppObject, Endpoint, SyncDirection)> = Vec::new();
    for (i, (provider, connection_id)) in connected.iter().enumerate() {
        planned.push((
            format!("Contacts ⇄ {}", provider.name),
            AppObject::Contact,
            crm(*connection_id),
            SyncDirection::TwoWay,
        ));
        if i == 0 {
            planned.push((
                format!("Deals ⇄ {}", provider.name),
                AppObject::Deal,
                crm(*connection_id),
                SyncDirection::TwoWay,
            ));
            planned.push((
                format!("Appointments → {}", provider.name),
                AppObject::Appointment,
                crm(*connection_id),
                SyncDirection::OneWay,
            ));
        }
    }
    let pipeline_count = planned.len();
    for (name, object, target, direction) in planned {
        let mut settings = PipelineSettings::default();
        settings.trigger.poll_every_minutes = 1;
        pipeline_service::create(
            state,
            principal,
            actor,
            tenant.id,
            CreatePipelineRequest {
                name,
                environment: EnvironmentKind::Sandbox,
                object,
                source: Endpoint::App,
                target,
                direction,
                settings,
                forward_mapping: None,
                reverse_mapping: None,
                start_paused: false,
            },
        )
        .await?;
    }
    let job = NewJob::of(&DemoActivity {
        tenant_id: tenant.id,
        started_at_ms: now_ms(),
    })
    .map_err(|e| ServiceError::Crm(format!("could not queue the demo's activity: {e}")))?
    .tenant(tenant.id)
    .dedupe_key(tenant.id.to_string())
    .run_at_ms(now_ms() + state.settings.demo.tick_seconds as i64 * 1000);
    state
        .queue
        .enqueue(job)
        .await
        .map_err(|e| ServiceError::Crm(format!("could not queue the demo's activity: {e}")))?;
    audit::record(
        state.db.pool(),
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "demo.started",
            target_kind: "tenant",
            target_id: Some(tenant.id.to_string()),
            details: json!({
                "connections": connected.iter().map(|(p, _)| p.id).collect::<Vec<_>>(),
                "pipelines": pipeline_count,
            }),
        },
    )
    .await?;
    tracing::info!("demo started");
    Ok(())
}

/// Starts over: the demo tenant goes (with its records, pipelines, history and generator) and a
/// fresh one takes its place.
pub async fn reset(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
) -> Result<Tenant, ServiceError> {
    // Someone else's tenant is not found before it is forbidden.
    let old = demo_tenant(&state.db, principal, tenant_id).await?;
    may_demo(principal)?;
    access::tenant(&state.db, principal, old.id, Need::Write).await?;
    // The fresh demo connects the same CRMs.
    let crms: Vec<String> = crate::repo::connections::list(state.db.pool(), old.id)
        .await?
        .into_iter()
        .filter(|c| c.connection.environment == EnvironmentKind::Sandbox)
        .map(|c| c.connection.provider)
        .collect();
    tenants::delete(state.db.pool(), old.id).await?;
    audit::record(
        state.db.pool(),
        actor,
        Change {
            tenant_id: None,
            action: "demo.reset",
            target_kind: "tenant",
            target_id: Some(old.id.to_string()),
            details: json!({ "name": old.name, "slug": old.slug }),
        },
    )
    .await?;
    start(state, principal, actor, StartDemoRequest { crms }).await
}

/// Connects the tenant's sandbox environment to a sandbox CRM through its OAuth consent page,
/// approved on the salesperson's behalf.
async fn connect(
    state: &AppState,
    principal: &Principal,
    tenant: &Tenant,
    provider: &str,
) -> Result<ConnectionId, ServiceError> {
    let started = connections::start(
        &state.db,
        &state.vault,
        &state.crm,
        principal,
        tenant.id,
        StartConnectRequest {
            provider: provider.into(),
            environment: EnvironmentKind::Sandbox,
        },
    )
    .await?;
    let params = approve_consent(&started.authorize_url)
        .await
        .map_err(|e| ServiceError::Crm(format!("the sandbox {provider}'s consent page: {e}")))?;
    let authorized = flow::callback(&state.crm, &state.db, &state.vault, params)
        .await
        .map_err(|e| ServiceError::Crm(e.to_string()))?;
    let connection = connections::complete(&state.db, &state.vault, authorized, None)
        .await
        .map_err(|e| ServiceError::Crm(e.to_string()))?;
    Ok(connection.id)
}

/// Submits "Approve" on a sandbox CRM's consent page; returns what it redirects back with.
async fn approve_consent(authorize_url: &str) -> Result<CallbackParams, String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let page = http.get(authorize_url).send().await.map_err(|e| e.to_string())?;
    if !page.status().is_success() {
        return Err(format!("answered HTTP {}", page.status()));
    }
    let (action, query) = authorize_url.split_once('?').ok_or("the URL has no query")?;
    let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| e.to_string())?;
    form.push(("decision".into(), "approve".into()));
    let answer = http.post(action).form(&form).send().await.map_err(|e| e.to_string())?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| format!("answered HTTP {} without a redirect", answer.status()))?;
    let (_, back) = location.split_once('?').ok_or("the redirect has no query")?;
    serde_urlencoded::from_str(back).map_err(|e| e.to_string())
}

/// The app's side of the demo, acting as the operator's app does through its API key.
async fn app_principal(db: &Db, tenant: &Tenant) -> Result<AppPrincipal, ServiceError> {
    let environment = environments::get_by_kind(db.pool(), tenant.id, EnvironmentKind::Sandbox)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    Ok(AppPrincipal {
        tenant_id: tenant.id,
        tenant_name: tenant.name.clone(),
        environment_id: environment.id,
        environment: EnvironmentKind::Sandbox,
        // Not a stored key: the generator writes in-process, as the app would over the API.
        key_id: ApiKeyId(Uuid::nil()),
        key_prefix: "demo-generator".into(),
    })
}

fn person(n: usize) -> (&'static str, &'static str, &'static str) {
    (
        FIRST_NAMES[n % FIRST_NAMES.len()],
        LAST_NAMES[(n * 7 + 3) % LAST_NAMES.len()],
        COMPANIES[n % COMPANIES.len()],
    )
}

fn contact(n: usize, bad: bool) -> BatchRecord {
    let (first, last, company) = person(n);
    let mut data = json!({
        "email": format!("{}.{}.{n}@{}.example", first.to_lowercase(), last.to_lowercase(),
            company.split(' ').next().unwrap_or("demo").to_lowercase()),
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "phone": format!("+49 30 {:07}", 1_000_000 + n * 7_919 % 8_999_999),
        "status": "lead",
    });
    if bad {
        // What a hurried salesperson types: the CRMs refuse it, and it lands in failed records.
        data["phone"] = json!("call after lunch");
    }
    BatchRecord {
        external_id: format!("demo-contact-{n}"),
        data,
    }
}

fn deal(n: usize, stage: usize) -> BatchRecord {
    let (_, last, company) = person(n);
    BatchRecord {
        external_id: format!("demo-deal-{n}"),
        data: json!({
            "name": format!("{company} — {last} renewal"),
            "status": DEAL_STAGES[stage % DEAL_STAGES.len()],
            "amount": format!("{}.00", 4_000 + (n * 1_250 + stage * 500) % 40_000),
            "currency": "EUR",
            "close_date": (Utc::now() + chrono::Duration::days(30 + n as i64)).format("%Y-%m-%d").to_string(),
        }),
    }
}

fn appointment(n: usize) -> BatchRecord {
    let (first, last, company) = person(n);
    let start = Utc::now() + chrono::Duration::hours(24 + (n as i64 % 5) * 24 + (n as i64 % 8));
    BatchRecord {
        external_id: format!("demo-appointment-{n}"),
        data: json!({
            "title": format!("Demo call with {first} {last} ({company})"),
            "start": start.to_rfc3339(),
            "end": (start + chrono::Duration::minutes(45)).to_rfc3339(),
            "location": "Video call",
        }),
    }
}

async fn push(db: &Db, app: &AppPrincipal, object: AppObject, records: Vec<BatchRecord>) -> Result<(), ServiceError> {
    if !records.is_empty() {
        records::push_batch(db, app, object, BatchPush { records }).await?;
    }
    Ok(())
}

/// The app's records a demo starts with.
async fn seed(db: &Db, tenant: &Tenant) -> Result<(), ServiceError> {
    let app = app_principal(db, tenant).await?;
    push(
        db,
        &app,
        AppObject::Contact,
        (0..SEED_CONTACTS).map(|n| contact(n, false)).collect(),
    )
    .await?;
    push(db, &app, AppObject::Deal, (0..SEED_DEALS).map(|n| deal(n, n)).collect()).await?;
    push(db, &app, AppObject::Appointment, (0..3).map(appointment).collect()).await?;
    Ok(())
}

/// What one round of the generator did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Round {
    pub app_changes: usize,
    pub crm_changes: usize,
    pub bad_records: usize,
}

/// One round of changes on every side of a demo tenant, then its pipelines are asked to run.
/// `round` (0, 1, 2…) picks what changes, so that each round differs from the last.
pub async fn activity_round(
    db: &Db,
    queue: &Queue,
    crm: &CrmAccess,
    tenant: &Tenant,
    round: usize,
) -> Result<Round, ServiceError> {
    let app = app_principal(db, tenant).await?;
    let mut done = Round::default();
    // The app: a new contact (every third one with a phone number no CRM takes), a deal moving
    // on a stage, and every other round an appointment.
    let n = SEED_CONTACTS + round;
    let bad = round % 3 == 2;
    push(db, &app, AppObject::Contact, vec![contact(n, bad)]).await?;
    done.app_changes += 1;
    done.bad_records += usize::from(bad);
    push(
        db,
        &app,
        AppObject::Deal,
        vec![deal(round % SEED_DEALS, round / SEED_DEALS + round)],
    )
    .await?;
    done.app_changes += 1;
    if round.is_multiple_of(2) {
        push(db, &app, AppObject::Appointment, vec![appointment(3 + round / 2)]).await?;
        done.app_changes += 1;
    }
    // The CRMs: someone in HubSpot moves a contact on a lifecycle stage; someone in Salesforce
    // adds a contact.
    let connections = crate::repo::connections::list(db.pool(), tenant.id).await?;
    for stored in connections
        .iter()
        .filter(|c| c.connection.environment == EnvironmentKind::Sandbox)
    {
        let provider = stored.connection.provider.as_str();
        let Some(connector) = crm.connectors.get(provider) else {
            continue;
        };
        let credential = match crm.tokens.credential(tenant, stored.connection.id).await {
            Ok(credential) => credential,
            Err(error) => {
                tracing::warn!(%error, provider, "demo: no credential for the sandbox CRM");
                continue;
            }
        };
        let result = match provider {
            "hubspot" => {
                let fields = vec!["email".to_string(), "lifecyclestage".to_string()];
                // The demo's own pipelines search this account too: wait out its search limit.
                let mut read = connector
                    .changes(&credential, ObjectKind::Contact, None, &fields, 50)
                    .await;
                for _ in 0..5 {
                    let Err(crate::connectors::ConnectorError::RateLimited { wait, .. }) = &read else {
                        break;
                    };
                    tokio::time::sleep((*wait).min(std::time::Duration::from_secs(2))).await;
                    read = connector
                        .changes(&credential, ObjectKind::Contact, None, &fields, 50)
                        .await;
                }
                match read {
                    Ok(page) if !page.records.is_empty() => {
                        let record = &page.records[(round * 5 + 1) % page.records.len()];
                        let stage = LIFECYCLE[round % LIFECYCLE.len()];
                        let fields: Fields = [("lifecyclestage".to_string(), json!(stage))].into_iter().collect();
                        connector
                            .update(&credential, ObjectKind::Contact, &[(record.id.clone(), fields)])
                            .await
                            .map(|_| ())
                    }
                    Ok(_) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            "salesforce" if round % 2 == 1 => {
                let (first, last, company) = person(n + 1_000);
                let fields: Fields = [
                    ("FirstName", json!(first)),
                    ("LastName", json!(last)),
                    (
                        "Email",
                        json!(format!(
                            "{}.{}.sf{round}@{}.example",
                            first.to_lowercase(),
                            last.to_lowercase(),
                            company.split(' ').next().unwrap_or("demo").to_lowercase()
                        )),
                    ),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                connector
                    .create(&credential, ObjectKind::Contact, &[fields])
                    .await
                    .map(|_| ())
            }
            "pipedrive" if round.is_multiple_of(2) => {
                // Someone in Pipedrive labels a person a customer.
                match connector.changes(&credential, ObjectKind::Contact, None, &[], 50).await {
                    Ok(page) if !page.records.is_empty() => {
                        let record = &page.records[(round * 3 + 2) % page.records.len()];
                        let fields: Fields = [("label_ids".to_string(), json!(["1"]))].into_iter().collect();
                        connector
                            .update(&credential, ObjectKind::Contact, &[(record.id.clone(), fields)])
                            .await
                            .map(|_| ())
                    }
                    Ok(_) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            _ => continue,
        };
        match result {
            Ok(()) => done.crm_changes += 1,
            Err(error) => tracing::warn!(%error, provider, "demo: a change in the sandbox CRM failed"),
        }
    }
    for pipeline in pipelines::list(db.pool(), tenant.id).await? {
        sync_jobs::trigger(db, queue, tenant.id, pipeline.pipeline.id, RunTrigger::Poll).await?;
    }
    Ok(done)
}

/// The dashboard: what each pipeline moved, the latest records, the failures waiting.
pub async fn dashboard(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
) -> Result<DemoDashboard, ServiceError> {
    let tenant = demo_tenant(&state.db, principal, tenant_id).await?;
    let pool = state.db.pool();
    let connections = crate::repo::connections::list(pool, tenant.id).await?;
    let mut shown = Vec::new();
    let mut recent: Vec<RecordEvent> = Vec::new();
    for stored in pipelines::list(pool, tenant.id).await? {
        let pipeline = stored.pipeline;
        let runs = sync_history::list_runs(pool, tenant.id, pipeline.id, 500).await?;
        let sum = |f: fn(&tandem_shared::api::runs::RunCounts) -> i64| runs.iter().map(|r| f(&r.counts)).sum::<i64>();
        for run in runs.iter().take(3) {
            recent.extend(
                sync_history::run_events(pool, tenant.id, run.id, 50)
                    .await?
                    .into_iter()
                    .filter(|e| {
                        matches!(
                            e.outcome,
                            RecordOutcome::Created | RecordOutcome::Updated | RecordOutcome::Failed
                        )
                    }),
            );
        }
        let crm = [&pipeline.source, &pipeline.target]
            .into_iter()
            .find_map(|e| match e {
                Endpoint::Connection { connection_id } => {
                    connections.iter().find(|c| c.connection.id == *connection_id).map(|c| {
                        crate::connectors::catalogue::provider(&c.connection.provider)
                            .map_or_else(|| c.connection.provider.clone(), |p| p.name.to_string())
                    })
                }
                Endpoint::App => None,
            })
            .unwrap_or_else(|| "a CRM".to_string());
        shown.push(DemoPipeline {
            id: pipeline.id,
            name: pipeline.name,
            object: pipeline.object,
            crm,
            direction: pipeline.direction,
            created: sum(|c| c.created),
            updated: sum(|c| c.updated),
            failed: sum(|c| c.failed),
            runs: runs.len() as i64,
            last_status: runs.first().map(|r| r.status),
        });
    }
    recent.sort_by_key(|e| std::cmp::Reverse(e.at));
    recent.truncate(25);
    let open_failed = failed_repo::list(
        pool,
        tenant.id,
        &Filter {
            pipeline_id: None,
            status: Some(tandem_shared::api::failed_records::FailedRecordStatus::Open),
            error_kind: None,
            search: None,
            ids: None,
            ..Default::default()
        },
        10_000,
    )
    .await?
    .len() as i64;
    let settings = &state.settings.demo;
    let activity_until = tenant.created_at + chrono::Duration::minutes(settings.activity_minutes as i64);
    Ok(DemoDashboard {
        activity_running: Utc::now() < activity_until,
        activity_until,
        tick_seconds: settings.tick_seconds,
        tenant,
        pipelines: shown,
        recent,
        open_failed,
    })
}

/// The activity generator of one demo tenant: one round per run, then again after a tick, until
/// the demo's time is up or the tenant is gone (a reset).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoActivity {
    pub tenant_id: TenantId,
    pub started_at_ms: i64,
}

impl JobKind for DemoActivity {
    const KIND: &'static str = "demo.activity";
}

pub struct DemoActivityHandler {
    pub db: Db,
    pub crm: std::sync::Arc<CrmAccess>,
    pub settings: DemoSettings,
}

#[async_trait]
impl TypedHandler<DemoActivity> for DemoActivityHandler {
    async fn run(&self, ctx: &JobContext, job: DemoActivity) -> Result<JobOutcome, JobError> {
        let Some(tenant) = tenants::get(self.db.pool(), job.tenant_id).await? else {
            return Ok(JobOutcome::Done);
        };
        let tick_ms = (self.settings.tick_seconds.max(1) * 1000) as i64;
        let elapsed = now_ms() - job.started_at_ms;
        if !tenant.is_demo || elapsed > self.settings.activity_minutes as i64 * 60_000 {
            return Ok(JobOutcome::Done);
        }
        let round = (elapsed / tick_ms).max(0) as usize;
        let span = tracing::info_span!("demo.activity", tenant_id = %tenant.id, round);
        match activity_round(&self.db, &ctx.queue, &self.crm, &tenant, round)
            .instrument(span)
            .await
        {
            Ok(done) => tracing::debug!(?done, "demo activity round"),
            Err(ServiceError::Repo(RepoError::Database(error))) => return Err(JobError::retryable(error)),
            Err(error) => tracing::warn!(%error, "demo activity round failed"),
        }
        Ok(JobOutcome::RetryAfter(Duration::from_millis(tick_ms as u64)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn every_third_new_contact_is_bad_and_the_rest_are_valid_for_the_app() {
        let good = contact(3, false);
        let bad = contact(3, true);
        assert_eq!(good.external_id, bad.external_id);
        assert_eq!(bad.data["phone"], "call after lunch");
        assert!(good.data["email"].as_str().unwrap().ends_with(".example"));
        assert_ne!(contact(4, false).data["email"], good.data["email"]);
    }

    #[test]
    fn deals_move_through_the_stages() {
        let stages: Vec<Value> = (0..4).map(|s| deal(1, s).data["status"].clone()).collect();
        assert_eq!(
            stages,
            vec![json!("open"), json!("qualified"), json!("proposal"), json!("won")]
        );
    }
}
