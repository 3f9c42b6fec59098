//! Records that could not be synced: kept with what came in, what it was mapped to and the CRM's
//! own error, until they are replayed (after a fix) or ignored with a reason.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::pipelines::{Flow, Side};
use crate::ids::{FailedRecordId, PipelineId, RunId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailedRecordStatus {
    Open,
    /// Queued to be synced again.
    Replaying,
    /// A later sync of the record succeeded.
    Resolved,
    Ignored,
}

impl FailedRecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FailedRecordStatus::Open => "open",
            FailedRecordStatus::Replaying => "replaying",
            FailedRecordStatus::Resolved => "resolved",
            FailedRecordStatus::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            FailedRecordStatus::Open,
            FailedRecordStatus::Replaying,
            FailedRecordStatus::Resolved,
            FailedRecordStatus::Ignored,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// Why a record failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailureReason {
    /// A stable name to filter and replay by: `mapping`, `email_rule`, `validation`, `not_found`,
    /// `conflict`, `rejected`, `retries_exhausted`, `schema_drift`, …
    pub kind: String,
    /// The field at fault, where one is known (the target's name).
    pub field: Option<String>,
    pub message: String,
    /// The CRM's own error, as it sent it.
    pub crm_error: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRecord {
    pub id: FailedRecordId,
    pub pipeline_id: PipelineId,
    pub run_id: Option<RunId>,
    pub flow: Flow,
    /// The record's id on the side it was read from.
    pub record_id: String,
    pub record_email: Option<String>,
    pub source_payload: Value,
    /// What the mapping made of it, when it mapped.
    pub mapped_payload: Option<Value>,
    pub reason: FailureReason,
    pub attempts: i64,
    pub status: FailedRecordStatus,
    pub ignored_reason: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which failed records to act on: the listed ones, or every open one of an error kind (optionally
/// of one pipeline).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FailedRecordSelection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<FailedRecordId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<PipelineId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[serde(flatten)]
    pub selection: FailedRecordSelection,
    /// Why, for the audit log; required from operator support staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IgnoreRequest {
    #[serde(flatten)]
    pub selection: FailedRecordSelection,
    /// Why: kept with the record and in the audit log.
    pub reason: String,
}

/// How many records a replay or ignore acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRecordsActed {
    pub count: i64,
}

/// What a person decides about records skipped as duplicates of existing ones (kind `duplicate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DuplicateDecision {
    /// The same record: link it to its twin, `leading` side's values winning where they differ.
    Link,
    /// Different records that look alike: create it on the other side after all.
    CreateNew,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecideDuplicatesRequest {
    /// Open failed records of kind `duplicate`.
    pub ids: Vec<FailedRecordId>,
    pub decision: DuplicateDecision,
    /// For `link`: whose values win, the pipeline's `source` or `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leading: Option<Side>,
}
