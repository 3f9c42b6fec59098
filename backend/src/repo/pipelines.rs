//! Pipelines and the versions of their mappings.

use tandem_shared::api::mappings::MappingConfig;
use tandem_shared::api::pipelines::{
    Endpoint, Flow, MappingVersion, MappingWarning, Pipeline, PipelineSettings, PipelineStatus, SyncDirection,
};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{ConnectionId, EnvironmentId, MappingVersionId, PipelineId, TenantId};
use tandem_shared::model::AppObject;

use super::{Exec, RepoError, Tx, new_id, parse_id, to_datetime};

#[derive(sqlx::FromRow)]
struct PipelineRow {
    id: String,
    tenant_id: String,
    environment_id: String,
    environment_kind: String,
    name: String,
    object: String,
    source_connection_id: Option<String>,
    target_connection_id: Option<String>,
    direction: String,
    settings: String,
    status: String,
    status_reason: Option<String>,
    warnings: String,
    rerun_requested: i64,
    next_poll_at: Option<i64>,
    next_reconcile_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// A pipeline with what the engine needs beyond the API view.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredPipeline {
    pub pipeline: Pipeline,
    pub environment_id: EnvironmentId,
    pub rerun_requested: bool,
    pub next_poll_at: Option<i64>,
    pub next_reconcile_at: Option<i64>,
}

fn endpoint(connection_id: Option<String>) -> Result<Endpoint, RepoError> {
    Ok(match connection_id {
        None => Endpoint::App,
        Some(id) => Endpoint::Connection {
            connection_id: parse_id(&id, "connection id")?,
        },
    })
}

fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Corrupt(format!("{what} {value:?}"))
}

impl TryFrom<PipelineRow> for StoredPipeline {
    type Error = RepoError;
    fn try_from(row: PipelineRow) -> Result<Self, RepoError> {
        Ok(StoredPipeline {
            pipeline: Pipeline {
                id: parse_id(&row.id, "pipeline id")?,
                tenant_id: parse_id(&row.tenant_id, "tenant id")?,
                environment: EnvironmentKind::parse(&row.environment_kind)
                    .ok_or_else(|| corrupt("environment kind", &row.environment_kind))?,
                name: row.name,
                object: AppObject::parse(&row.object).ok_or_else(|| corrupt("object", &row.object))?,
                source: endpoint(row.source_connection_id)?,
                target: endpoint(row.target_connection_id)?,
                direction: SyncDirection::parse(&row.direction).ok_or_else(|| corrupt("direction", &row.direction))?,
                settings: serde_json::from_str::<PipelineSettings>(&row.settings)
                    .map_err(|e| RepoError::Corrupt(format!("pipeline settings: {e}")))?,
                status: PipelineStatus::parse(&row.status).ok_or_else(|| corrupt("pipeline status", &row.status))?,
                status_reason: row.status_reason,
                warnings: serde_json::from_str::<Vec<MappingWarning>>(&row.warnings)
                    .map_err(|e| RepoError::Corrupt(format!("pipeline warnings: {e}")))?,
                forward_mapping: None,
                reverse_mapping: None,
                created_at: to_datetime(row.created_at),
                updated_at: to_datetime(row.updated_at),
                last_reconciliation: None,
            },
            environment_id: parse_id(&row.environment_id, "environment id")?,
            rerun_requested: row.rerun_requested != 0,
            next_poll_at: row.next_poll_at,
            next_reconcile_at: row.next_reconcile_at,
        })
    }
}

macro_rules! select_pipelines {
    ($rest:literal) => {
        concat!(
            "SELECT p.id, p.tenant_id, p.environment_id, e.kind AS environment_kind, p.name, p.object, \
                    p.source_connection_id, p.target_connection_id, p.direction, p.settings, p.status, \
                    p.status_reason, p.warnings, p.rerun_requested, p.next_poll_at, p.next_reconcile_at, \
                    p.created_at, p.updated_at \
             FROM pipelines p JOIN environments e ON e.id = p.environment_id ",
            $rest
        )
    };
}

pub struct NewPipeline<'a> {
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub name: &'a str,
    pub object: AppObject,
    pub source: Endpoint,
    pub target: Endpoint,
    pub direction: SyncDirection,
    pub settings: &'a PipelineSettings,
    pub created_by: Option<&'a str>,
    /// Created paused (no first run) instead of active.
    pub paused: bool,
    pub now_ms: i64,
}

fn settings_json(settings: &PipelineSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".into())
}

pub async fn insert(tx: &mut Tx, new: NewPipeline<'_>) -> Result<PipelineId, RepoError> {
    let id = PipelineId(new_id());
    sqlx::query(
        "INSERT INTO pipelines (id, tenant_id, environment_id, name, object, source_connection_id, \
                                target_connection_id, direction, settings, status, warnings, next_poll_at, \
                                created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $13, '[]', $12, $11, $10, $10)",
    )
    .bind(id.to_string())
    .bind(new.tenant_id.to_string())
    .bind(new.environment_id.to_string())
    .bind(new.name)
    .bind(new.object.as_str())
    .bind(new.source.connection_id().map(|c| c.to_string()))
    .bind(new.target.connection_id().map(|c| c.to_string()))
    .bind(new.direction.as_str())
    .bind(settings_json(new.settings))
    .bind(new.now_ms)
    .bind(new.created_by)
    // The first run is started when the pipeline is created; polls follow it.
    .bind(new.now_ms + i64::from(new.settings.trigger.poll_every_minutes.max(1)) * 60_000)
    .bind(if new.paused { "paused" } else { "active" })
    .execute(&mut **tx)
    .await
    .map_err(|e| RepoError::duplicate_as(e, "a pipeline with this name in this environment"))?;
    Ok(id)
}

pub async fn list<'c>(exec: impl Exec<'c>, tenant_id: TenantId) -> Result<Vec<StoredPipeline>, RepoError> {
    let rows: Vec<PipelineRow> =
        sqlx::query_as(select_pipelines!("WHERE p.tenant_id = $1 ORDER BY e.kind DESC, p.name"))
            .bind(tenant_id.to_string())
            .fetch_all(exec)
            .await?;
    rows.into_iter().map(StoredPipeline::try_from).collect()
}

pub async fn get<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: PipelineId,
) -> Result<Option<StoredPipeline>, RepoError> {
    let row: Option<PipelineRow> = sqlx::query_as(select_pipelines!("WHERE p.tenant_id = $1 AND p.id = $2"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(StoredPipeline::try_from).transpose()
}

/// For the engine, which knows the pipeline only from its job.
pub async fn get_any<'c>(exec: impl Exec<'c>, id: PipelineId) -> Result<Option<StoredPipeline>, RepoError> {
    let row: Option<PipelineRow> = sqlx::query_as(select_pipelines!("WHERE p.id = $1"))
        .bind(id.to_string())
        .fetch_optional(exec)
        .await?;
    row.map(StoredPipeline::try_from).transpose()
}

/// Active pipelines due for a poll at `now_ms`, oldest due first.
pub async fn due<'c>(exec: impl Exec<'c>, now_ms: i64, limit: i64) -> Result<Vec<StoredPipeline>, RepoError> {
    let rows: Vec<PipelineRow> = sqlx::query_as(select_pipelines!(
        "WHERE p.status = 'active' AND (p.next_poll_at <= $1 OR p.next_reconcile_at <= $1) \
         ORDER BY p.next_poll_at LIMIT $2"
    ))
    .bind(now_ms)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(StoredPipeline::try_from).collect()
}

/// The pipelines that read from or write to a connection.
pub async fn using_connection<'c>(
    exec: impl Exec<'c>,
    connection_id: ConnectionId,
) -> Result<Vec<StoredPipeline>, RepoError> {
    let rows: Vec<PipelineRow> = sqlx::query_as(select_pipelines!(
        "WHERE p.source_connection_id = $1 OR p.target_connection_id = $1 ORDER BY p.name"
    ))
    .bind(connection_id.to_string())
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(StoredPipeline::try_from).collect()
}

pub async fn update<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    id: PipelineId,
    name: &str,
    settings: &PipelineSettings,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET name = $1, settings = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
        .bind(name)
        .bind(settings_json(settings))
        .bind(now_ms)
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await
        .map_err(|e| RepoError::duplicate_as(e, "a pipeline with this name in this environment"))?;
    Ok(())
}

pub async fn set_status<'c>(
    exec: impl Exec<'c>,
    id: PipelineId,
    status: PipelineStatus,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4")
        .bind(status.as_str())
        .bind(reason)
        .bind(now_ms)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// Pauses every active pipeline of a connection whose grant was revoked; returns how many.
pub async fn pause_for_reauth<'c>(
    exec: impl Exec<'c>,
    connection_id: ConnectionId,
    reason: &str,
    now_ms: i64,
) -> Result<u64, RepoError> {
    Ok(sqlx::query(
        "UPDATE pipelines SET status = 'needs_reauth', status_reason = $1, updated_at = $2 \
         WHERE (source_connection_id = $3 OR target_connection_id = $3) AND status = 'active'",
    )
    .bind(reason)
    .bind(now_ms)
    .bind(connection_id.to_string())
    .execute(exec)
    .await?
    .rows_affected())
}

/// Resumes the pipelines a revoked grant paused, once the connection works again; they run at once.
pub async fn resume_after_reauth<'c>(
    exec: impl Exec<'c>,
    connection_id: ConnectionId,
    now_ms: i64,
) -> Result<u64, RepoError> {
    Ok(sqlx::query(
        "UPDATE pipelines SET status = 'active', status_reason = NULL, next_poll_at = $1, updated_at = $1 \
         WHERE (source_connection_id = $2 OR target_connection_id = $2) AND status = 'needs_reauth'",
    )
    .bind(now_ms)
    .bind(connection_id.to_string())
    .execute(exec)
    .await?
    .rows_affected())
}

pub async fn set_warnings<'c>(
    exec: impl Exec<'c>,
    id: PipelineId,
    warnings: &[MappingWarning],
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET warnings = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(warnings).unwrap_or_else(|_| "[]".into()))
        .bind(now_ms)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// Asks for another pass once the current run ends (a trigger arrived while it ran).
pub async fn request_rerun<'c>(exec: impl Exec<'c>, id: PipelineId) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET rerun_requested = 1 WHERE id = $1")
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

/// Takes the rerun request, if there was one.
pub async fn take_rerun<'c>(exec: impl Exec<'c>, id: PipelineId) -> Result<bool, RepoError> {
    let taken = sqlx::query("UPDATE pipelines SET rerun_requested = 0 WHERE id = $1 AND rerun_requested = 1")
        .bind(id.to_string())
        .execute(exec)
        .await?
        .rows_affected();
    Ok(taken > 0)
}

pub async fn schedule<'c>(
    exec: impl Exec<'c>,
    id: PipelineId,
    next_poll_at: Option<i64>,
    next_reconcile_at: Option<i64>,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE pipelines SET next_poll_at = $1, next_reconcile_at = $2 WHERE id = $3")
        .bind(next_poll_at)
        .bind(next_reconcile_at)
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete<'c>(exec: impl Exec<'c>, tenant_id: TenantId, id: PipelineId) -> Result<bool, RepoError> {
    let deleted = sqlx::query("DELETE FROM pipelines WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(exec)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

#[derive(sqlx::FromRow)]
struct MappingRow {
    id: String,
    direction: String,
    version: i64,
    config: String,
    created_by: Option<String>,
    created_at: i64,
}

impl TryFrom<MappingRow> for MappingVersion {
    type Error = RepoError;
    fn try_from(row: MappingRow) -> Result<Self, RepoError> {
        Ok(MappingVersion {
            id: parse_id(&row.id, "mapping version id")?,
            flow: Flow::parse(&row.direction).ok_or_else(|| corrupt("mapping direction", &row.direction))?,
            version: row.version,
            config: serde_json::from_str::<MappingConfig>(&row.config)
                .map_err(|e| RepoError::Corrupt(format!("mapping config: {e}")))?,
            created_by: row.created_by,
            created_at: to_datetime(row.created_at),
        })
    }
}

/// Saves `config` as the next version of the pipeline's mapping in `flow`.
pub async fn add_mapping_version(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    flow: Flow,
    config: &MappingConfig,
    created_by: Option<&str>,
    now_ms: i64,
) -> Result<MappingVersion, RepoError> {
    let id = MappingVersionId(new_id());
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO mapping_versions (id, tenant_id, pipeline_id, direction, version, config, created_by, created_at) \
         VALUES ($1, $2, $3, $4, \
                 (SELECT COALESCE(MAX(version), 0) + 1 FROM mapping_versions WHERE pipeline_id = $3 AND direction = $4), \
                 $5, $6, $7) \
         RETURNING version",
    )
    .bind(id.to_string())
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(flow.as_str())
    .bind(serde_json::to_string(config).unwrap_or_default())
    .bind(created_by)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?;
    Ok(MappingVersion {
        id,
        flow,
        version,
        config: config.clone(),
        created_by: created_by.map(str::to_string),
        created_at: to_datetime(now_ms),
    })
}

/// The mapping in force in `flow` (the highest version).
pub async fn current_mapping<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    flow: Flow,
) -> Result<Option<MappingVersion>, RepoError> {
    let row: Option<MappingRow> = sqlx::query_as(
        "SELECT id, direction, version, config, created_by, created_at FROM mapping_versions \
         WHERE pipeline_id = $1 AND direction = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(pipeline_id.to_string())
    .bind(flow.as_str())
    .fetch_optional(exec)
    .await?;
    row.map(MappingVersion::try_from).transpose()
}

/// Every version in `flow`, newest first.
pub async fn mapping_history<'c>(
    exec: impl Exec<'c>,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    flow: Flow,
) -> Result<Vec<MappingVersion>, RepoError> {
    let rows: Vec<MappingRow> = sqlx::query_as(
        "SELECT id, direction, version, config, created_by, created_at FROM mapping_versions \
         WHERE tenant_id = $1 AND pipeline_id = $2 AND direction = $3 ORDER BY version DESC",
    )
    .bind(tenant_id.to_string())
    .bind(pipeline_id.to_string())
    .bind(flow.as_str())
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(MappingVersion::try_from).collect()
}
