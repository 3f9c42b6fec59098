//! Operator support staff: one search across every tenant, by tenant, email, the app's record id,
//! a CRM's record id or a run id. Hits say where to look; nothing secret is ever in them.

use serde::{Deserialize, Serialize};

use crate::api::tenants::EnvironmentKind;
use crate::ids::{FailedRecordId, PipelineId, RunId, TenantId};

/// What a search hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SupportHitKind {
    /// The tenant itself (by name, slug or id).
    Tenant,
    /// A record of the operator's app (by its id or email).
    AppRecord,
    /// A record Tandem linked to a CRM record (by the CRM's id).
    CrmRecord,
    /// A sync run (by its id).
    Run,
    /// A record that failed to sync (by its id or email).
    FailedRecord,
}

/// One place a search term was found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupportHit {
    pub kind: SupportHitKind,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentKind>,
    /// For people: `Contact c-1 (ada@example.com)`.
    pub title: String,
    /// More about it: the pipeline, the status, the error.
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<PipelineId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_record_id: Option<FailedRecordId>,
    /// The record's id (the app's, or the CRM's), for its history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}
