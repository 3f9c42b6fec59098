//! Pipelines, their runs and the failed records: `/api/v1/tenants/{tenant_id}/pipelines`,
//! `…/runs/{run_id}`, `…/failed-records`, `…/alerts`.

use tandem_shared::api::alerts::Alert;
use tandem_shared::api::failed_records::{
    DecideDuplicatesRequest, FailedRecord, FailedRecordsActed, IgnoreRequest, ReplayRequest,
};
use tandem_shared::api::mappings::{
    MappingConfig, MappingFields, MappingValidation, PreviewMappingRequest, PreviewResult,
};
use tandem_shared::api::pipelines::{
    CreatePipelineRequest, MappingVersion, Pipeline, RunPipelineRequest, SaveMappingRequest, UpdatePipelineRequest,
};
use tandem_shared::api::runs::{
    Callout, Conflict, DailyCounts, DecideHeldDeletesRequest, HeldDelete, RecordEvent, Run,
};
use tandem_shared::ids::{AlertId, PipelineId, RunId, TenantId};

use super::{ApiFailure, Method, On401, get, patch, post, put, send, url};

/// The tenant's pipelines, both environments.
pub async fn pipelines(tenant_id: TenantId) -> Result<Vec<Pipeline>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines")).await
}

pub async fn pipeline(tenant_id: TenantId, id: PipelineId) -> Result<Pipeline, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines/{id}")).await
}

/// Creates a pipeline; mappings left out start from Tandem's suggestion, and its first run
/// starts at once.
pub async fn create(tenant_id: TenantId, request: &CreatePipelineRequest) -> Result<Pipeline, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/pipelines"), request).await
}

/// Renames, changes settings, pauses or resumes.
pub async fn update(
    tenant_id: TenantId,
    id: PipelineId,
    request: &UpdatePipelineRequest,
) -> Result<Pipeline, ApiFailure> {
    patch(&format!("/tenants/{tenant_id}/pipelines/{id}"), request).await
}

/// Starts a run now (answers 202 without a body).
pub async fn run_now(tenant_id: TenantId, id: PipelineId) -> Result<(), ApiFailure> {
    let path = url(&format!("/tenants/{tenant_id}/pipelines/{id}/run"));
    send(
        Method::Post,
        &path,
        Some(&RunPipelineRequest::default()),
        On401::EndSession,
    )
    .await?;
    Ok(())
}

/// Starts a reconciliation now (answers 202 without a body).
pub async fn reconcile_now(tenant_id: TenantId, id: PipelineId) -> Result<(), ApiFailure> {
    let path = url(&format!("/tenants/{tenant_id}/pipelines/{id}/run"));
    send(
        Method::Post,
        &path,
        Some(&RunPipelineRequest { reconcile: true }),
        On401::EndSession,
    )
    .await?;
    Ok(())
}

/// The pipeline's runs, newest first.
pub async fn runs(tenant_id: TenantId, id: PipelineId) -> Result<Vec<Run>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines/{id}/runs?limit=50")).await
}

/// What happened to each record of a run that mattered (created, updated, failed…).
pub async fn run_events(tenant_id: TenantId, id: RunId) -> Result<Vec<RecordEvent>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/runs/{id}/events?limit=500")).await
}

/// Which failed records to list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailedFilter {
    pub status: Option<String>,
    pub error_kind: Option<String>,
    pub pipeline_id: Option<PipelineId>,
    pub q: Option<String>,
    /// `contact`, `company`, `deal` or `appointment`.
    pub object: Option<String>,
    /// Last failed at or after this time.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

impl FailedFilter {
    fn query(&self) -> String {
        let mut parts = vec!["limit=200".to_string()];
        let mut add = |name: &str, value: &Option<String>| {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{name}={}", js_sys::encode_uri_component(value)));
            }
        };
        add("status", &self.status);
        add("error_kind", &self.error_kind);
        add("q", &self.q);
        add("pipeline_id", &self.pipeline_id.map(|p| p.to_string()));
        add("object", &self.object);
        add(
            "since",
            &self.since.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        parts.join("&")
    }
}

pub async fn failed_records(tenant_id: TenantId, filter: &FailedFilter) -> Result<Vec<FailedRecord>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/failed-records?{}", filter.query())).await
}

/// Queues the chosen failed records to be synced again.
pub async fn replay(tenant_id: TenantId, request: &ReplayRequest) -> Result<FailedRecordsActed, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/failed-records/replay"), request).await
}

/// Sets the chosen failed records aside, with the reason (kept and audited).
pub async fn ignore(tenant_id: TenantId, request: &IgnoreRequest) -> Result<FailedRecordsActed, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/failed-records/ignore"), request).await
}

/// Links duplicate candidates to their twins, or creates them after all.
pub async fn decide_duplicates(
    tenant_id: TenantId,
    request: &DecideDuplicatesRequest,
) -> Result<FailedRecordsActed, ApiFailure> {
    post(
        &format!("/tenants/{tenant_id}/failed-records/duplicates/decide"),
        request,
    )
    .await
}

/// The tenant's alerts, newest first.
pub async fn alerts(tenant_id: TenantId) -> Result<Vec<Alert>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/alerts?limit=200")).await
}

pub async fn acknowledge(tenant_id: TenantId, id: AlertId) -> Result<Alert, ApiFailure> {
    super::post_empty(&format!("/tenants/{tenant_id}/alerts/{id}/acknowledge")).await
}

/// Deletions of the pipeline held for approval, and those decided.
pub async fn held_deletes(tenant_id: TenantId, id: PipelineId) -> Result<Vec<HeldDelete>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines/{id}/held-deletes")).await
}

/// Approves (applied by a run that starts at once) or rejects held deletions.
pub async fn decide_held_deletes(
    tenant_id: TenantId,
    id: PipelineId,
    request: &DecideHeldDeletesRequest,
) -> Result<Vec<HeldDelete>, ApiFailure> {
    post(
        &format!("/tenants/{tenant_id}/pipelines/{id}/held-deletes/decide"),
        request,
    )
    .await
}

/// Every CRM call of a run, retries included, oldest first.
pub async fn run_callouts(tenant_id: TenantId, id: RunId) -> Result<Vec<Callout>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/runs/{id}/callouts?limit=500")).await
}

/// `forward` (source to target) or `reverse`.
fn mapping_path(tenant_id: TenantId, id: PipelineId, flow: &str) -> String {
    format!("/tenants/{tenant_id}/pipelines/{id}/mappings/{flow}")
}

/// Both sides' live field lists for a flow (the CRM's are read from the CRM now).
pub async fn mapping_fields(tenant_id: TenantId, id: PipelineId, flow: &str) -> Result<MappingFields, ApiFailure> {
    get(&format!("{}/fields", mapping_path(tenant_id, id, flow))).await
}

/// Every saved version of a flow's mapping, newest first.
pub async fn mapping_versions(
    tenant_id: TenantId,
    id: PipelineId,
    flow: &str,
) -> Result<Vec<MappingVersion>, ApiFailure> {
    get(&mapping_path(tenant_id, id, flow)).await
}

/// Every problem of an unsaved mapping, each naming its field.
pub async fn validate_mapping(
    tenant_id: TenantId,
    id: PipelineId,
    flow: &str,
    config: &MappingConfig,
) -> Result<MappingValidation, ApiFailure> {
    let body = SaveMappingRequest { config: config.clone() };
    post(&format!("{}/validate", mapping_path(tenant_id, id, flow)), &body).await
}

/// Saves the mapping as a new version (refused with the field at fault when invalid).
pub async fn save_mapping(
    tenant_id: TenantId,
    id: PipelineId,
    flow: &str,
    config: &MappingConfig,
) -> Result<MappingVersion, ApiFailure> {
    let body = SaveMappingRequest { config: config.clone() };
    put(&mapping_path(tenant_id, id, flow), &body).await
}

/// The mapping applied to a real record: the one named, or the most recently changed one.
pub async fn preview_mapping(
    tenant_id: TenantId,
    id: PipelineId,
    flow: &str,
    request: &PreviewMappingRequest,
) -> Result<PreviewResult, ApiFailure> {
    post(&format!("{}/preview", mapping_path(tenant_id, id, flow)), request).await
}

/// Records synced and failed per UTC day over the last two weeks, oldest first.
pub async fn daily(tenant_id: TenantId, id: PipelineId) -> Result<Vec<DailyCounts>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines/{id}/daily?days=14")).await
}

/// Fields both sides had changed, and how the pipeline's policy decided them, newest first.
pub async fn conflicts(tenant_id: TenantId, id: PipelineId) -> Result<Vec<Conflict>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/pipelines/{id}/conflicts?limit=200")).await
}
