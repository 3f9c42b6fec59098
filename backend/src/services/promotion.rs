//! Promoting pipelines and mappings from a tenant's sandbox environment to production (PRODUCT.md
//! flow 13). The plan comes first: each sandbox pipeline against the production pipeline of the
//! same name, every difference of settings and mappings by path, and what blocks a pipeline (no
//! production connection for its CRM, a mapping the production CRM's fields do not fit). Applying
//! needs the plan's fingerprint, so that exactly what was reviewed is applied.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tandem_shared::api::mappings::MappingConfig;
use tandem_shared::api::pipelines::{Endpoint, Flow, SyncDirection};
use tandem_shared::api::promotion::{
    PipelinePromotion, PromoteRequest, PromotionAction, PromotionChange, PromotionPlan, PromotionResult,
};
use tandem_shared::api::runs::RunTrigger;
use tandem_shared::api::tenants::{EnvironmentKind, Tenant};
use tandem_shared::ids::{PipelineId, TenantId};

use super::ServiceError;
use super::access::{self, Need};
use super::audit::{self, Actor, Change};
use super::pipelines::validation;
use crate::auth::Principal;
use crate::domain::FieldError;
use crate::repo::pipelines::{self, NewPipeline, StoredPipeline};
use crate::repo::{Db, connections, environments, now_ms};
use crate::state::AppState;
use crate::sync::jobs as sync_jobs;

/// One sandbox pipeline's promotion, with what applying it needs.
struct Planned {
    view: PipelinePromotion,
    sandbox: StoredPipeline,
    /// The production endpoints its sandbox endpoints become.
    source: Endpoint,
    target: Endpoint,
    mappings: Vec<(Flow, MappingConfig)>,
    /// Production's current mappings, where they differ from the sandbox's.
    stale: Vec<Flow>,
}

/// Flattens a value into `path → leaf`; objects are walked, anything else is a leaf.
fn flatten(path: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        // Nothing there at all (a pipeline production does not have yet).
        Value::Null if path.is_empty() => {}
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                flatten(&format!("{path}.{key}"), inner, out);
            }
        }
        other => {
            out.insert(path.to_string(), other.clone());
        }
    }
}

/// A mapping as compared: rules keyed by their target field, so a difference names the field.
fn comparable(config: &MappingConfig) -> Value {
    let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
    if let Some(fields) = value
        .get_mut("fields")
        .and_then(Value::as_array_mut)
        .map(std::mem::take)
    {
        let keyed: Map<String, Value> = fields
            .into_iter()
            .map(|mut rule| {
                let target = rule
                    .as_object_mut()
                    .and_then(|r| r.remove("target"))
                    .and_then(|t| t.as_str().map(str::to_string))
                    .unwrap_or_default();
                (target, rule)
            })
            .collect();
        value["fields"] = Value::Object(keyed);
    }
    value
}

fn differences(production: &Value, sandbox: &Value) -> Vec<PromotionChange> {
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    flatten("", production, &mut before);
    flatten("", sandbox, &mut after);
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (p, s) = (before.get(path), after.get(path));
            (p != s).then(|| PromotionChange {
                path: path.trim_start_matches('.').to_string(),
                production: p.cloned().unwrap_or(Value::Null),
                sandbox: s.cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

fn prefixed(prefix: &str, changes: Vec<PromotionChange>) -> impl Iterator<Item = PromotionChange> {
    changes.into_iter().map(move |mut c| {
        c.path = format!("{prefix}.{}", c.path);
        c
    })
}

async fn mappings_of(db: &Db, stored: &StoredPipeline) -> Result<Vec<(Flow, MappingConfig)>, ServiceError> {
    let mut flows = vec![Flow::Forward];
    if stored.pipeline.direction == SyncDirection::TwoWay {
        flows.push(Flow::Reverse);
    }
    let mut mappings = Vec::new();
    for flow in flows {
        if let Some(version) = pipelines::current_mapping(db.pool(), stored.pipeline.id, flow).await? {
            mappings.push((flow, version.config));
        }
    }
    Ok(mappings)
}

/// The production endpoint for a sandbox one: the app, or production's connection to the same CRM.
async fn production_endpoint(
    db: &Db,
    tenant: &Tenant,
    production: tandem_shared::ids::EnvironmentId,
    endpoint: Endpoint,
) -> Result<Result<Endpoint, String>, ServiceError> {
    let Endpoint::Connection { connection_id } = endpoint else {
        return Ok(Ok(Endpoint::App));
    };
    let Some(sandbox) = connections::get(db.pool(), tenant.id, connection_id).await? else {
        return Ok(Err("its sandbox connection no longer exists".into()));
    };
    let provider = crate::connectors::catalogue::provider(&sandbox.connection.provider)
        .map_or(sandbox.connection.provider.clone(), |p| p.name.to_string());
    Ok(
        match connections::find(db.pool(), tenant.id, production, &sandbox.connection.provider).await? {
            Some(connection) => Ok(Endpoint::Connection {
                connection_id: connection.connection.id,
            }),
            None => Err(format!(
                "production has no {provider} connection: connect {provider} in production first"
            )),
        },
    )
}

async fn build(state: &AppState, tenant: &Tenant) -> Result<(Vec<Planned>, String), ServiceError> {
    let db = &state.db;
    let production = environments::get_by_kind(db.pool(), tenant.id, EnvironmentKind::Production)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let all = pipelines::list(db.pool(), tenant.id).await?;
    let (sandbox, live): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|p| p.pipeline.environment == EnvironmentKind::Sandbox);
    let mut planned = Vec::new();
    for stored in sandbox {
        let name = stored.pipeline.name.clone();
        let counterpart = live.iter().find(|p| p.pipeline.name == name);
        let mappings = mappings_of(db, &stored).await?;
        let mut problems = Vec::new();
        let mut endpoints = Vec::new();
        for endpoint in [stored.pipeline.source, stored.pipeline.target] {
            match production_endpoint(db, tenant, production.id, endpoint).await? {
                Ok(endpoint) => endpoints.push(endpoint),
                Err(problem) => {
                    problems.push(problem);
                    endpoints.push(endpoint);
                }
            }
        }
        let (source, target) = (endpoints[0], endpoints[1]);
        let mut changes = Vec::new();
        let mut stale = Vec::new();
        let sandbox_settings = serde_json::to_value(&stored.pipeline.settings).unwrap_or(Value::Null);
        match counterpart {
            None => {
                changes.extend(prefixed("settings", differences(&Value::Null, &sandbox_settings)));
                for (flow, config) in &mappings {
                    changes.extend(prefixed(
                        &format!("mapping.{}", flow.as_str()),
                        differences(&Value::Null, &comparable(config)),
                    ));
                }
            }
            Some(live) => {
                if live.pipeline.object != stored.pipeline.object
                    || live.pipeline.direction != stored.pipeline.direction
                {
                    problems.push(format!(
                        "production's pipeline {name:?} syncs {} {}, the sandbox's {} {}: rename one of them",
                        live.pipeline.object.as_str(),
                        live.pipeline.direction.as_str(),
                        stored.pipeline.object.as_str(),
                        stored.pipeline.direction.as_str()
                    ));
                }
                if problems.is_empty() && (live.pipeline.source != source || live.pipeline.target != target) {
                    problems.push(format!(
                        "production's pipeline {name:?} connects other systems than the sandbox's: rename one of them"
                    ));
                }
                let live_settings = serde_json::to_value(&live.pipeline.settings).unwrap_or(Value::Null);
                changes.extend(prefixed("settings", differences(&live_settings, &sandbox_settings)));
                let live_mappings = mappings_of(db, live).await?;
                for (flow, config) in &mappings {
                    let current = live_mappings
                        .iter()
                        .find(|(f, _)| f == flow)
                        .map(|(_, c)| comparable(c));
                    let found = differences(&current.unwrap_or(Value::Null), &comparable(config));
                    if !found.is_empty() {
                        stale.push(*flow);
                        changes.extend(prefixed(&format!("mapping.{}", flow.as_str()), found));
                    }
                }
            }
        }
        // Mappings must fit production's CRM as they fit the sandbox's.
        if problems.is_empty() && (counterpart.is_none() || !changes.is_empty()) {
            for (flow, config) in &mappings {
                let sides = match flow {
                    Flow::Forward => (source, target),
                    Flow::Reverse => (target, source),
                };
                match validation(state, tenant, sides, stored.pipeline.object, config).await {
                    Ok(checked) => problems.extend(
                        checked
                            .errors
                            .into_iter()
                            .map(|e| format!("mapping.{}: {}", flow.as_str(), e.message)),
                    ),
                    Err(ServiceError::Crm(message)) => problems.push(message),
                    Err(other) => return Err(other),
                }
            }
        }
        let action = match (problems.is_empty(), counterpart, changes.is_empty()) {
            (false, _, _) => PromotionAction::Blocked,
            (true, None, _) => PromotionAction::Create,
            (true, Some(_), true) => PromotionAction::Unchanged,
            (true, Some(_), false) => PromotionAction::Update,
        };
        planned.push(Planned {
            view: PipelinePromotion {
                name,
                object: stored.pipeline.object,
                action,
                sandbox_pipeline_id: stored.pipeline.id,
                production_pipeline_id: counterpart.map(|p| p.pipeline.id),
                changes,
                problems,
            },
            sandbox: stored,
            source,
            target,
            mappings,
            stale,
        });
    }
    planned.sort_by(|a, b| a.view.name.cmp(&b.view.name));
    let views: Vec<&PipelinePromotion> = planned.iter().map(|p| &p.view).collect();
    let digest = Sha256::digest(serde_json::to_vec(&views).unwrap_or_default());
    let fingerprint: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    Ok((planned, fingerprint))
}

/// What promoting the sandbox to production would do.
pub async fn plan(state: &AppState, principal: &Principal, tenant_id: TenantId) -> Result<PromotionPlan, ServiceError> {
    let tenant = access::tenant(&state.db, principal, tenant_id, Need::Read).await?;
    let (planned, fingerprint) = build(state, &tenant).await?;
    Ok(PromotionPlan {
        fingerprint,
        pipelines: planned.into_iter().map(|p| p.view).collect(),
    })
}

/// Applies the plan the fingerprint names: creates and updates production pipelines (their
/// settings and new mapping versions); production's own status and history stay.
pub async fn promote(
    state: &AppState,
    principal: &Principal,
    actor: &Actor,
    tenant_id: TenantId,
    request: PromoteRequest,
) -> Result<PromotionResult, ServiceError> {
    let db = &state.db;
    let tenant = access::tenant(db, principal, tenant_id, Need::Write).await?;
    let (planned, fingerprint) = build(state, &tenant).await?;
    if request.fingerprint != fingerprint {
        return Err(ServiceError::conflict(
            "fingerprint",
            "the sandbox or production changed since this plan was made: get the plan again and review it",
        ));
    }
    let chosen: Vec<&Planned> = match &request.pipelines {
        None => planned
            .iter()
            .filter(|p| matches!(p.view.action, PromotionAction::Create | PromotionAction::Update))
            .collect(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                let found = planned
                    .iter()
                    .find(|p| &p.view.name == name)
                    .ok_or_else(|| FieldError::new("pipelines", format!("no sandbox pipeline is named {name:?}")))?;
                if found.view.action == PromotionAction::Blocked {
                    return Err(FieldError::new(
                        "pipelines",
                        format!("{name:?} cannot be promoted: {}", found.view.problems.join("; ")),
                    )
                    .into());
                }
                chosen.push(found);
            }
            chosen
        }
    };
    let production = environments::get_by_kind(db.pool(), tenant.id, EnvironmentKind::Production)
        .await?
        .ok_or(ServiceError::NotFound("environment"))?;
    let now = now_ms();
    let mut result = PromotionResult {
        created: Vec::new(),
        updated: Vec::new(),
    };
    let mut tx = db.begin().await?;
    for planned in &chosen {
        let sandbox = &planned.sandbox.pipeline;
        let (id, flows): (PipelineId, Vec<Flow>) = match (planned.view.action, planned.view.production_pipeline_id) {
            (PromotionAction::Create, _) => {
                let id = pipelines::insert(
                    &mut tx,
                    NewPipeline {
                        tenant_id: tenant.id,
                        environment_id: production.id,
                        name: &sandbox.name,
                        object: sandbox.object,
                        source: planned.source,
                        target: planned.target,
                        direction: sandbox.direction,
                        settings: &sandbox.settings,
                        created_by: Some(principal.email()),
                        paused: false,
                        now_ms: now,
                    },
                )
                .await?;
                result.created.push(id);
                (id, planned.mappings.iter().map(|(f, _)| *f).collect())
            }
            (PromotionAction::Update, Some(id)) => {
                pipelines::update(&mut *tx, tenant.id, id, &sandbox.name, &sandbox.settings, now).await?;
                result.updated.push(id);
                (id, planned.stale.clone())
            }
            _ => continue,
        };
        for (flow, config) in planned.mappings.iter().filter(|(f, _)| flows.contains(f)) {
            pipelines::add_mapping_version(&mut tx, tenant.id, id, *flow, config, Some(principal.email()), now).await?;
        }
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            tenant_id: Some(tenant.id),
            action: "environment.promoted",
            target_kind: "environment",
            target_id: Some(production.id.to_string()),
            details: json!({
                "fingerprint": fingerprint,
                "created": chosen.iter().filter(|p| p.view.action == PromotionAction::Create).map(|p| &p.view.name).collect::<Vec<_>>(),
                "updated": chosen.iter().filter(|p| p.view.action == PromotionAction::Update).map(|p| &p.view.name).collect::<Vec<_>>(),
                "changes": chosen.iter().map(|p| p.view.changes.len()).sum::<usize>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    for id in &result.created {
        sync_jobs::trigger(db, &state.queue, tenant.id, *id, RunTrigger::Initial).await?;
    }
    Ok(result)
}
