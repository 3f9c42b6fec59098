//! Pipelines and their mappings: create (validated against the CRMs' live field lists), change,
//! pause and resume, run now, save new mapping versions, preview a mapping on a real record.

use serde_json::{Value, json};
use tandem_shared::api::mappings::{
    FieldInfo, FieldOption, MappingConfig, MappingFields, MappingValidation, PreviewMappingRequest, PreviewResult,
    SideFields,
};
use tandem_shared::api::pipelines::{
    ConflictPolicy, CreatePipelineRequest, Endpoint, Flow, MappingVersion, Pipeline, PipelineSettings, PipelineStatus,
    RunPipelineRequest, SaveMappingRequest, SyncDirection, UpdatePipelineRequest,
};
use tandem_shared::api::runs::{ReconciliationSummary, RunTrigger};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::{PipelineId, TenantId};
use tandem_shared::model::AppObject;

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use crate::auth::Principal;
use crate::connectors::{ConnectorError, DEAL_LINE_ITEMS, ObjectKind, ObjectMeta, catalogue};
use crate::domain::FieldError;
use crate::mapping::{self, Mapping};
use crate::repo::pipelines::{self, NewPipeline, StoredPipeline};
use crate::repo::{Db, app_records, connections, environments, now_ms, sync_history, sync_links};
use crate::state::AppState;
use crate::sync::defaults::{self, Way};
use crate::sync::jobs::{self as sync_jobs, TriggerError};
use crate::sync::plan::object_kind;
use crate::sync::{app_model, writes};

impl From<TriggerError> for ServiceError {
    fn from(error: TriggerError) -> ServiceError {
        match error {
            TriggerError::Repo(error) => error.into(),
            TriggerError::Queue(error) => ServiceError::Crm(format!("could not queue the run: {error}")),
        }
    }
}

async fn with_mappings(db: &Db, stored: StoredPipeline) -> Result<Pipeline, ServiceError> {
    let mut pipeline = stored.pipeline;
    pipeline.forward_mapping = pipelines::current_mapping(db.pool(), pipeline.id, Flow::Forward).await?;
    pipeline.reverse_mapping = pipelines::current_mapping(db.pool(), pipeline.id, Flow::Reverse).await?;
    pipeline.last_reconciliation = sync_history::last_reconciliation(db.pool(), pipeline.tenant_id, pipeline.id)
        .await?
        .and_then(|run| {
            Some(ReconciliationSummary {
                run_id: run.id,
                finished_at: run.finished_at?,
                reconciliation: run.reconciliation?,
            })
        });
    Ok(pipeline)
}

async fn load(
    db: &Db,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
    need: Need,
) -> Result<(Tenant, StoredPipeline), ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, need).await?;
    let stored = pipelines::get(db.pool(), tenant.id, id)
        .await?
        .ok_or(ServiceError::NotFound("pipeline"))?;
    Ok((tenant, stored))
}

fn check_fraction(field: &str, value: f64) -> Result<(), FieldError> {
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        return Err(FieldError::new(field, format!("{value} is not between 0 and 1")));
    }
    Ok(())
}

/// The settings' own rules (what serde cannot say).
fn check_settings(settings: &PipelineSettings) -> Result<(), FieldError> {
    let minutes = settings.trigger.poll_every_minutes;
    if !(1..=1440).contains(&minutes) {
        return Err(FieldError::new(
            "settings.trigger.poll_every_minutes",
            format!("{minutes} is not between 1 and 1440 minutes"),
        ));
    }
    if let Some(at) = &settings.trigger.daily_reconciliation_at
        && sync_jobs::next_daily(at, 0).is_none()
    {
        return Err(FieldError::new(
            "settings.trigger.daily_reconciliation_at",
            format!("{at:?} is not a time of day as HH:MM (UTC)"),
        ));
    }
    if let Some(threshold) = settings.matching.fuzzy_threshold {
        check_fraction("settings.matching.fuzzy_threshold", threshold)?;
    }
    if let Some(share) = settings.deletes.hold_above_share {
        check_fraction("settings.deletes.hold_above_share", share)?;
    }
    check_fraction("settings.pause_above_failure_rate", settings.pause_above_failure_rate)?;
    if let ConflictPolicy::FieldOwnership { fields, .. } = &settings.conflicts
        && let Some(empty) = fields.keys().find(|f| f.trim().is_empty())
    {
        return Err(FieldError::new(
            "settings.conflicts.fields",
            format!("{empty:?} is not a field name"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "is required"));
    }
    if name.chars().count() > 100 {
        return Err(FieldError::new("name", "is longer than 100 characters"));
    }
    Ok(name.to_string())
}

/// What one side is, checked: the app, or a connection of the same tenant environment whose CRM
/// syncs this object.
async fn check_side(
    db: &Db,
    tenant: &Tenant,
    environment_id: tandem_shared::ids::EnvironmentId,
    endpoint: Endpoint,
    object: AppObject,
    field: &str,
) -> Result<(), ServiceError> {
    let Endpoint::Connection { connection_id } = endpoint else {
        return Ok(());
    };
    let stored = connections::get(db.pool(), tenant.id, connection_id)
        .await?
        .filter(|c| c.connection.environment_id == environment_id)
        .ok_or_else(|| FieldError::new(field, "no connection with this id in the pipeline's environment"))?;
    let provider = catalogue::provider(&stored.connection.provider)
        .ok_or_else(|| FieldError::new(field, "the connection's CRM is unknown"))?;
    if !provider.capabilities.objects.contains(&object_kind(object)) {
        return Err(FieldError::new(field, format!("{} does not sync {}s", provider.name, object.as_str())).into());
    }
    Ok(())
}

/// The live field list of one side: the app's model, or the CRM's describe call.
async fn side_meta(
    state: &AppState,
    tenant: &Tenant,
    endpoint: Endpoint,
    object: AppObject,
) -> Result<ObjectMeta, ServiceError> {
    let Endpoint::Connection { connection_id } = endpoint else {
        return Ok(app_model::meta(object));
    };
    connection_meta(state, tenant, connection_id, object_kind(object)).await
}

/// The live field list of one of a connection's objects.
async fn connection_meta(
    state: &AppState,
    tenant: &Tenant,
    connection_id: tandem_shared::ids::ConnectionId,
    kind: ObjectKind,
) -> Result<ObjectMeta, ServiceError> {
    let stored = connections::get(state.db.pool(), tenant.id, connection_id)
        .await?
        .ok_or(ServiceError::NotFound("connection"))?;
    stored_connection_meta(state, tenant, stored, kind).await
}

/// The live field list of one of a loaded connection's objects.
async fn stored_connection_meta(
    state: &AppState,
    tenant: &Tenant,
    stored: crate::repo::connections::StoredConnection,
    kind: ObjectKind,
) -> Result<ObjectMeta, ServiceError> {
    let account = stored.connection.account_name.clone();
    let meta = crm_call(state, tenant, stored, move |connector, credential| async move {
        connector.describe(&credential, kind).await
    })
    .await
    .map_err(|e| ServiceError::Crm(format!("could not read the {} fields of {account}: {e}", kind.as_str())))?;
    Ok(meta)
}

/// One call to a connection's CRM that a person waits for: within the connection's budget,
/// refreshed and briefly retried like a run's calls, and kept in the callout history.
pub(crate) async fn crm_call<T, F, Fut>(
    state: &AppState,
    tenant: &Tenant,
    connection: crate::repo::connections::StoredConnection,
    op: F,
) -> Result<T, String>
where
    F: Fn(std::sync::Arc<dyn crate::connectors::Connector>, crate::connectors::Credential) -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    let client = state
        .engine
        .interactive_client(tenant, connection)
        .await
        .map_err(|e| e.to_string())?;
    let result = client.call(|credential| op(client.connector.clone(), credential)).await;
    if let Err(error) = client.keep_calls(&state.db).await {
        tracing::warn!(%error, "could not keep the callouts of an interactive call");
    }
    result.map_err(|e| e.to_string())
}

/// The side's field names, as mapping sources.
fn source_names(meta: &ObjectMeta) -> Vec<String> {
    meta.fields.iter().map(|f| f.name.clone()).collect()
}

/// The sides a flow reads from and writes to.
fn flow_sides(pipeline: &Pipeline, flow: Flow) -> (Endpoint, Endpoint) {
    match flow {
        Flow::Forward => (pipeline.source, pipeline.target),
        Flow::Reverse => (pipeline.target, pipeline.source),
    }
}

/// Every problem of `config` for `flow`, against both sides' live field lists.
pub(crate) async fn validation(
    state: &AppState,
    tenant: &Tenant,
    (from, to): (Endpoint, Endpoint),
    object: AppObject,
    config: &MappingConfig,
) -> Result<MappingValidation, ServiceError> {
    let target = side_meta(state, tenant, to, object).await?;
    let source = side_meta(state, tenant, from, object).await?;
    // A deal's line items are checked against the CRM's line item object.
    let mut lists = std::collections::BTreeMap::new();
    if let Endpoint::Connection { connection_id } = to
        && object == AppObject::Deal
        && config
            .fields
            .iter()
            .any(|r| r.target == DEAL_LINE_ITEMS && !r.items.is_empty())
    {
        let items = connection_meta(state, tenant, connection_id, ObjectKind::LineItem).await?;
        lists.insert(DEAL_LINE_ITEMS.to_string(), items);
    }
    let mut errors = mapping::validate_with_lists(config, &target, &lists, Some(&source_names(&source)));
    if config.object != object.as_str() {
        errors.insert(
            0,
            tandem_shared::api::mappings::ConfigError {
                field: "object".into(),
                code: tandem_shared::api::mappings::ConfigErrorCode::InvalidTransform,
                message: format!(
                    "object: the mapping is for {:?}, the pipeline syncs {}",
                    config.object,
                    object.as_str()
                ),
            },
        );
    }
    Ok(MappingValidation {
        valid: errors.is_empty(),
        errors,
    })
}

/// A mapping that failed validation, as one field error naming the first problem and listing all.
fn refused(prefix: &str, validation: &MappingValidation) -> ServiceError {
    let first = &validation.errors[0];
    let all: Vec<&str> = validation.errors.iter().map(|e| e.message.as_str()).collect();
    FieldError::new(format!("{prefix}.{}", first.field), all.join("; ")).into()
}

/// The mapping a new pipeline starts with in `flow`, if none was given.
async fn suggested_mapping(
    db: &Db,
    tenant: &Tenant,
    (from, to): (Endpoint, Endpoint),
    object: AppObject,
    field: &str,
) -> Result<MappingConfig, ServiceError> {
    let provider_of = |endpoint: Endpoint| async move {
        match endpoint {
            Endpoint::App => Ok::<_, ServiceError>(None),
            Endpoint::Connection { connection_id } => Ok(connections::get(db.pool(), tenant.id, connection_id)
                .await?
                .map(|c| c.connection.provider)),
        }
    };
    let suggestion = match (provider_of(from).await?, provider_of(to).await?) {
        (None, Some(crm)) => defaults::suggested(&crm, object, Way::AppToCrm),
        (Some(crm), None) => defaults::suggested(&crm, object, Way::CrmToApp),
        _ => None,
    };
    suggestion.ok_or_else(|| {
        FieldError::new(
            field,
            "Tandem has no suggested mapping between these two CRMs: give the mapping in the request",
        )
        .into()
    })
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: CreatePipelineRequest,
) -> Result<Pipeline, ServiceError> {
    let db = &state.db;
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let name = check_name(&request.name)?;
    check_settings(&request.settings)?;
    let environment = environments::get_by_kind(db.pool(), tenant.id, request.environment)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let object = request.object;
    match (request.source, request.target) {
        (Endpoint::App, Endpoint::App) => {
            return Err(FieldError::new("target", "one side must be a connected CRM").into());
        }
        (Endpoint::Connection { connection_id: a }, Endpoint::Connection { connection_id: b }) if a == b => {
            return Err(FieldError::new("target", "source and target are the same connection").into());
        }
        (Endpoint::Connection { .. }, Endpoint::Connection { .. }) if request.direction == SyncDirection::TwoWay => {
            return Err(FieldError::new(
                "direction",
                "two-way sync needs the app on one side; CRM to CRM pipelines (migrations) are one-way",
            )
            .into());
        }
        _ => {}
    }
    check_side(
        db,
        &tenant,
        environment.id,
        request.source,
        object,
        "source.connection_id",
    )
    .await?;
    check_side(
        db,
        &tenant,
        environment.id,
        request.target,
        object,
        "target.connection_id",
    )
    .await?;
    let sides = (request.source, request.target);
    let forward = match request.forward_mapping {
        Some(config) => config,
        None => suggested_mapping(db, &tenant, sides, object, "forward_mapping").await?,
    };
    let reverse = match (request.direction, request.reverse_mapping) {
        (SyncDirection::OneWay, Some(_)) => {
            return Err(FieldError::new("reverse_mapping", "a one-way pipeline has no reverse mapping").into());
        }
        (SyncDirection::OneWay, None) => None,
        (SyncDirection::TwoWay, Some(config)) => Some(config),
        (SyncDirection::TwoWay, None) => {
            Some(suggested_mapping(db, &tenant, (sides.1, sides.0), object, "reverse_mapping").await?)
        }
    };
    let checked = validation(state, &tenant, sides, object, &forward).await?;
    if !checked.valid {
        return Err(refused("forward_mapping", &checked));
    }
    if let Some(reverse) = &reverse {
        let checked = validation(state, &tenant, (sides.1, sides.0), object, reverse).await?;
        if !checked.valid {
            return Err(refused("reverse_mapping", &checked));
        }
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let id = pipelines::insert(
        &mut tx,
        NewPipeline {
            tenant_id: tenant.id,
            environment_id: environment.id,
            name: &name,
            object,
            source: request.source,
            target: request.target,
            direction: request.direction,
            settings: &request.settings,
            created_by: Some(principal.email()),
            paused: request.start_paused,
            now_ms: now,
        },
    )
    .await
    .map_err(ServiceError::duplicate_field("name"))?;
    pipelines::add_mapping_version(
        &mut tx,
        tenant.id,
        id,
        Flow::Forward,
        &forward,
        Some(principal.email()),
        now,
    )
    .await?;
    if let Some(reverse) = &reverse {
        pipelines::add_mapping_version(
            &mut tx,
            tenant.id,
            id,
            Flow::Reverse,
            reverse,
            Some(principal.email()),
            now,
        )
        .await?;
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "pipeline.created",
            target_kind: "pipeline",
            target_id: Some(id.to_string()),
            details: json!({ "name": name, "environment": request.environment, "object": object,
                             "direction": request.direction, "paused": request.start_paused }),
        },
    )
    .await?;
    tx.commit().await?;
    if !request.start_paused {
        sync_jobs::trigger(db, &state.queue, tenant.id, id, RunTrigger::Initial).await?;
    }
    get(state, principal, tenant_id, id).await
}

pub async fn list(state: &AppState, principal: &Principal, tenant_id: TenantId) -> Result<Vec<Pipeline>, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    let mut result = Vec::new();
    for stored in pipelines::list(state.db.pool(), tenant.id).await? {
        result.push(with_mappings(&state.db, stored).await?);
    }
    Ok(result)
}

pub async fn get(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
) -> Result<Pipeline, ServiceError> {
    let (_, stored) = load(&state.db, principal, tenant_id, id, Need::Read).await?;
    with_mappings(&state.db, stored).await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: PipelineId,
    request: UpdatePipelineRequest,
) -> Result<Pipeline, ServiceError> {
    let db = &state.db;
    let (tenant, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    let name = match &request.name {
        Some(name) => check_name(name)?,
        None => stored.pipeline.name.clone(),
    };
    let settings = request.settings.clone().unwrap_or(stored.pipeline.settings.clone());
    check_settings(&settings)?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    pipelines::update(&mut *tx, tenant.id, id, &name, &settings, now)
        .await
        .map_err(ServiceError::duplicate_field("name"))?;
    let resumed = match request.status {
        None => false,
        Some(PipelineStatus::NeedsReauth) => {
            return Err(FieldError::new(
                "status",
                "is set by Tandem when a connection's access is revoked; reconnect it instead",
            )
            .into());
        }
        Some(status) if status == stored.pipeline.status => false,
        Some(PipelineStatus::Paused) => {
            pipelines::set_status(
                &mut *tx,
                id,
                PipelineStatus::Paused,
                Some(&format!("paused by {}", principal.email())),
                now,
            )
            .await?;
            false
        }
        Some(PipelineStatus::Active) => {
            if stored.pipeline.status == PipelineStatus::NeedsReauth {
                return Err(FieldError::new(
                    "status",
                    "a connection of this pipeline needs to be connected again first",
                )
                .into());
            }
            pipelines::set_status(&mut *tx, id, PipelineStatus::Active, None, now).await?;
            true
        }
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "pipeline.updated",
            target_kind: "pipeline",
            target_id: Some(id.to_string()),
            details: json!({ "name": request.name, "settings": request.settings.is_some(), "status": request.status }),
        },
    )
    .await?;
    tx.commit().await?;
    if resumed {
        sync_jobs::trigger(db, &state.queue, tenant.id, id, RunTrigger::Manual).await?;
    }
    get(state, principal, tenant_id, id).await
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: PipelineId,
) -> Result<(), ServiceError> {
    let (tenant, stored) = load(&state.db, principal, tenant_id, id, Need::Write).await?;
    let mut tx = state.db.begin().await?;
    pipelines::delete(&mut *tx, tenant.id, id).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "pipeline.deleted",
            target_kind: "pipeline",
            target_id: Some(id.to_string()),
            details: json!({ "name": stored.pipeline.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn flow_of(pipeline: &Pipeline, flow: Flow) -> Result<Flow, ServiceError> {
    if flow == Flow::Reverse && pipeline.direction == SyncDirection::OneWay {
        return Err(FieldError::new("flow", "a one-way pipeline has only the forward mapping").into());
    }
    Ok(flow)
}

/// Checks a mapping against the live field lists without saving it.
pub async fn validate_mapping(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
    flow: Flow,
    request: SaveMappingRequest,
) -> Result<MappingValidation, ServiceError> {
    let (tenant, stored) = load(&state.db, principal, tenant_id, id, Need::Read).await?;
    let flow = flow_of(&stored.pipeline, flow)?;
    validation(
        state,
        &tenant,
        flow_sides(&stored.pipeline, flow),
        stored.pipeline.object,
        &request.config,
    )
    .await
}

/// Both sides' live field lists for one flow, as the mapping editor offers them.
pub async fn mapping_fields(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
    flow: Flow,
) -> Result<MappingFields, ServiceError> {
    let (tenant, stored) = load(&state.db, principal, tenant_id, id, Need::Read).await?;
    let flow = flow_of(&stored.pipeline, flow)?;
    let (from, to) = flow_sides(&stored.pipeline, flow);
    let object = stored.pipeline.object;
    Ok(MappingFields {
        source: side_fields(state, &tenant, from, object).await?,
        target: side_fields(state, &tenant, to, object).await?,
    })
}

/// One side's field list, named for people.
async fn side_fields(
    state: &AppState,
    tenant: &Tenant,
    endpoint: Endpoint,
    object: AppObject,
) -> Result<SideFields, ServiceError> {
    let (system, meta) = match endpoint {
        Endpoint::App => ("Tandem app".to_string(), app_model::meta(object)),
        Endpoint::Connection { connection_id } => {
            let stored = connections::get(state.db.pool(), tenant.id, connection_id)
                .await?
                .ok_or(ServiceError::NotFound("connection"))?;
            let provider = catalogue::provider(&stored.connection.provider)
                .map_or(stored.connection.provider.clone(), |p| p.name.to_string());
            let system = format!("{provider} ({})", stored.connection.account_name);
            (
                system,
                stored_connection_meta(state, tenant, stored, object_kind(object)).await?,
            )
        }
    };
    Ok(SideFields {
        system,
        object: meta.crm_name,
        fields: meta
            .fields
            .into_iter()
            .map(|f| FieldInfo {
                field_type: f.field_type.as_str().to_string(),
                name: f.name,
                label: f.label,
                required: f.required,
                read_only: f.read_only,
                custom: f.custom,
                options: f
                    .options
                    .into_iter()
                    .map(|o| FieldOption {
                        value: o.value,
                        label: o.label,
                        active: o.active,
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// Saves a new version of a mapping, once it validates; the next run uses it.
pub async fn save_mapping(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: PipelineId,
    flow: Flow,
    request: SaveMappingRequest,
) -> Result<MappingVersion, ServiceError> {
    let db = &state.db;
    let (tenant, stored) = load(db, principal, tenant_id, id, Need::Write).await?;
    let flow = flow_of(&stored.pipeline, flow)?;
    let checked = validation(
        state,
        &tenant,
        flow_sides(&stored.pipeline, flow),
        stored.pipeline.object,
        &request.config,
    )
    .await?;
    if !checked.valid {
        return Err(refused("config", &checked));
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let version = pipelines::add_mapping_version(
        &mut tx,
        tenant.id,
        id,
        flow,
        &request.config,
        Some(principal.email()),
        now,
    )
    .await?;
    // A saved mapping answers the drift warnings about it.
    let warnings: Vec<_> = stored
        .pipeline
        .warnings
        .into_iter()
        .filter(|w| w.flow != flow)
        .collect();
    pipelines::set_warnings(&mut *tx, id, &warnings, now).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "mapping.saved",
            target_kind: "pipeline",
            target_id: Some(id.to_string()),
            details: json!({ "flow": flow, "version": version.version }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

pub async fn mapping_history(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
    flow: Flow,
) -> Result<Vec<MappingVersion>, ServiceError> {
    let (tenant, _) = load(&state.db, principal, tenant_id, id, Need::Read).await?;
    Ok(pipelines::mapping_history(state.db.pool(), tenant.id, id, flow).await?)
}

/// Applies a (possibly unsaved) mapping to a real record of the side it reads: the one named,
/// or the most recently synced one.
pub async fn preview(
    state: &AppState,
    principal: &Principal,
    tenant_id: TenantId,
    id: PipelineId,
    flow: Flow,
    request: PreviewMappingRequest,
) -> Result<PreviewResult, ServiceError> {
    let (tenant, stored) = load(&state.db, principal, tenant_id, id, Need::Read).await?;
    let flow = flow_of(&stored.pipeline, flow)?;
    let (from, to) = flow_sides(&stored.pipeline, flow);
    let object = stored.pipeline.object;
    let record_id = match request.record_id.clone() {
        Some(id) => Some(id),
        None => sync_links::page(state.db.pool(), id, "", 1_000_000)
            .await?
            .into_iter()
            .max_by_key(|l| l.source_modified_at.max(l.target_modified_at))
            .map(|l| match flow {
                Flow::Forward => l.source_id,
                Flow::Reverse => l.target_id,
            }),
    };
    let source: Value = match from {
        Endpoint::App => {
            let record = match &record_id {
                Some(rid) => app_records::get(state.db.pool(), stored.environment_id, object, rid).await?,
                None => app_records::changed_after(state.db.pool(), stored.environment_id, object, 0, 1)
                    .await?
                    .into_iter()
                    .next()
                    .map(|r| r.record),
            };
            record
                .ok_or_else(|| FieldError::new("record_id", "no such record of the app's; push one first"))?
                .data
        }
        Endpoint::Connection { connection_id } => {
            let connection = connections::get(state.db.pool(), tenant.id, connection_id)
                .await?
                .ok_or(ServiceError::NotFound("connection"))?;
            let compiled = Mapping::new(&request.config);
            let fields: Vec<String> = compiled.source_fields().iter().map(|f| f.to_string()).collect();
            let item_fields: Vec<String> = compiled
                .list_source_fields(DEAL_LINE_ITEMS)
                .iter()
                .map(|f| f.to_string())
                .collect();
            let kind = object_kind(object);
            let record = crm_call(state, &tenant, connection, |connector, credential| {
                let (fields, item_fields, record_id) = (fields.clone(), item_fields.clone(), record_id.clone());
                async move {
                    let record = match record_id {
                        Some(rid) => connector.get(&credential, kind, &rid, &fields).await?,
                        None => connector
                            .changes(&credential, kind, None, &fields, 1)
                            .await?
                            .records
                            .into_iter()
                            .next(),
                    };
                    // As a run reads it: with its contact's details, or its line items.
                    let mut records: Vec<_> = record.into_iter().collect();
                    crate::connectors::fill_related(
                        &*connector,
                        &credential,
                        kind,
                        &mut records,
                        &fields,
                        &item_fields,
                    )
                    .await?;
                    Ok(records.pop())
                }
            })
            .await
            .map_err(ServiceError::Crm)?;
            let record = record.ok_or_else(|| FieldError::new("record_id", "no such record in the CRM"))?;
            writes::incoming_from_crm(record).fields
        }
    };
    let target = side_meta(state, &tenant, to, object).await?;
    Ok(Mapping::with_target(&request.config, &target).preview(&source))
}

/// Starts a run now (a reconciliation when asked).
pub async fn run_now(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    id: PipelineId,
    request: RunPipelineRequest,
) -> Result<(), ServiceError> {
    let (tenant, stored) = load(&state.db, principal, tenant_id, id, Need::Write).await?;
    if stored.pipeline.status != PipelineStatus::Active {
        return Err(ServiceError::conflict(
            "status",
            format!(
                "the pipeline is {}: {}",
                stored.pipeline.status.as_str().replace('_', " "),
                stored.pipeline.status_reason.unwrap_or_default()
            ),
        ));
    }
    let trigger = if request.reconcile {
        RunTrigger::Reconciliation
    } else {
        RunTrigger::Manual
    };
    audit::record(
        state.db.pool(),
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "pipeline.run_requested",
            target_kind: "pipeline",
            target_id: Some(id.to_string()),
            details: json!({ "trigger": trigger.as_str() }),
        },
    )
    .await?;
    sync_jobs::trigger(&state.db, &state.queue, tenant.id, id, trigger).await?;
    Ok(())
}
