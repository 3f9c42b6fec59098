//! Sync history: runs with their counts, what happened to each record that mattered, every CRM
//! call, resolved conflicts and deletions held for approval.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::pipelines::{Flow, Side};
use crate::ids::{ConnectionId, HeldDeleteId, PipelineId, RunId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// The first run of a pipeline: everything on the source side.
    Initial,
    Poll,
    Webhook,
    /// The daily full comparison.
    Reconciliation,
    /// Started by a person or by the app.
    Manual,
    /// Failed records sent again.
    Replay,
}

impl RunTrigger {
    pub const ALL: [RunTrigger; 6] = [
        RunTrigger::Initial,
        RunTrigger::Poll,
        RunTrigger::Webhook,
        RunTrigger::Reconciliation,
        RunTrigger::Manual,
        RunTrigger::Replay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Initial => "initial",
            RunTrigger::Poll => "poll",
            RunTrigger::Webhook => "webhook",
            RunTrigger::Reconciliation => "reconciliation",
            RunTrigger::Manual => "manual",
            RunTrigger::Replay => "replay",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    /// The run stopped on an error that is not a record's (the connection's grant was revoked, say).
    Failed,
    /// The process stopped mid-run; the next run went on from the last saved cursor.
    Interrupted,
    /// The run ended without proof that it read every change (the CRM's pages stopped moving
    /// the read on, or a reconciliation found gaps it could not repair); `error` says why. The
    /// next run reads on from where this one stood.
    Incomplete,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Interrupted,
            RunStatus::Incomplete,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCounts {
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    /// Read, but their mapped content had not changed: no write.
    pub unchanged: i64,
    /// Left out by a rule (the email rule, a duplicate to be decided): each is in the events.
    pub skipped: i64,
    pub failed: i64,
    pub conflicts: i64,
    /// Deletions held for approval.
    pub held: i64,
}

/// How far an initial load is, and when it will be done at the pace the quota allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunProgress {
    pub done: i64,
    pub total: Option<i64>,
    pub estimated_finish_at: Option<DateTime<Utc>>,
    /// Set while the run waits for the connection's daily API quota: when it goes on.
    #[serde(default)]
    pub waiting_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    pub id: RunId,
    pub pipeline_id: PipelineId,
    pub trigger: RunTrigger,
    pub status: RunStatus,
    pub counts: RunCounts,
    /// CRM calls made, retries included.
    pub api_calls: i64,
    /// Of those, calls that repeated a failed one.
    pub retries: i64,
    pub progress: RunProgress,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// Reconciliation runs: what the comparison with each CRM found, and what it repaired.
    #[serde(default)]
    pub reconciliation: Option<Reconciliation>,
}

/// A reconciliation's outcome: whether Tandem has provably read every record of each CRM side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reconciliation {
    pub sides: Vec<SideReconciliation>,
}

impl Reconciliation {
    /// Every side proven complete (after repairs, where there were any).
    pub fn proven(&self) -> bool {
        !self.sides.is_empty() && self.sides.iter().all(|s| s.outcome != ReconciliationOutcome::Unproven)
    }
}

/// A pipeline's last reconciliation, on the pipeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconciliationSummary {
    pub run_id: RunId,
    pub finished_at: DateTime<Utc>,
    pub reconciliation: Reconciliation,
}

/// What a reconciliation found on one CRM side of a pipeline. It compares how many live records
/// the CRM holds with how many Tandem has read, range of modification times by range, re-reads
/// the ranges whose counts differ (delivering what had been missed, noting deletions never seen)
/// and compares the totals again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideReconciliation {
    /// `source` or `target`.
    pub side: String,
    /// The CRM's name (HubSpot, Salesforce…).
    pub provider: String,
    /// Live records the CRM holds, at the final comparison.
    pub crm_count: u64,
    /// Live records Tandem had read, before the comparison and after its repairs.
    pub seen_before: u64,
    pub seen_after: u64,
    /// Ranges of modification times whose counts were compared, and of those re-read.
    pub ranges_compared: u32,
    pub ranges_reread: u32,
    /// Every record was read again and its version compared (sides of up to 50,000 records);
    /// otherwise counts were compared, which show every record never read and every deletion
    /// never seen, and only ranges that differ were read again.
    #[serde(default)]
    pub read_whole: bool,
    /// Records found unread (or read at an older version) by the re-reads: delivered now.
    pub recovered: u64,
    /// Records Tandem knew as live that the CRM no longer has: handled as deletions now.
    pub deletions_found: u64,
    pub outcome: ReconciliationOutcome,
    /// Why it is unproven, in words.
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReconciliationOutcome {
    /// Nothing had been missed.
    #[default]
    Proven,
    /// Changes or deletions had been missed; they are delivered now, and the counts match.
    Repaired,
    /// The counts still differ (or the CRM cannot count): the run ends `incomplete`.
    Unproven,
}

impl ReconciliationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReconciliationOutcome::Proven => "proven",
            ReconciliationOutcome::Repaired => "repaired",
            ReconciliationOutcome::Unproven => "unproven",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordOutcome {
    Created,
    Updated,
    Deleted,
    Skipped,
    Failed,
    /// Both sides changed it: see `detail` for the fields and which side won.
    Conflict,
    /// A deletion held for approval.
    Held,
    /// Linked to a record that already existed on the other side (a duplicate merged per policy).
    Matched,
    /// Created, but similar to an existing record: a person may want to merge them.
    PossibleDuplicate,
}

impl RecordOutcome {
    pub const ALL: [RecordOutcome; 9] = [
        RecordOutcome::Created,
        RecordOutcome::Updated,
        RecordOutcome::Deleted,
        RecordOutcome::Skipped,
        RecordOutcome::Failed,
        RecordOutcome::Conflict,
        RecordOutcome::Held,
        RecordOutcome::Matched,
        RecordOutcome::PossibleDuplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordOutcome::Created => "created",
            RecordOutcome::Updated => "updated",
            RecordOutcome::Deleted => "deleted",
            RecordOutcome::Skipped => "skipped",
            RecordOutcome::Failed => "failed",
            RecordOutcome::Conflict => "conflict",
            RecordOutcome::Held => "held",
            RecordOutcome::Matched => "matched",
            RecordOutcome::PossibleDuplicate => "possible_duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What happened to one record in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordEvent {
    pub run_id: RunId,
    pub pipeline_id: PipelineId,
    pub flow: Flow,
    /// The record's id on the source side (the app's id when the app is the source).
    pub source_id: Option<String>,
    pub target_id: Option<String>,
    pub outcome: RecordOutcome,
    pub detail: Value,
    pub at: DateTime<Utc>,
}

/// One call to a CRM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Callout {
    pub run_id: Option<RunId>,
    pub connection_id: ConnectionId,
    pub method: String,
    /// Without query string; paths that carry a token are shown as templates.
    pub path: String,
    /// None when no answer came (timeout, dropped connection).
    pub status: Option<u16>,
    pub error_kind: Option<String>,
    pub duration_ms: i64,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: i64,
    pub at: DateTime<Utc>,
}

/// One field both sides changed, and which value won.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictField {
    pub field: String,
    pub source_value: Value,
    pub target_value: Value,
    pub winner: Side,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    pub run_id: RunId,
    pub pipeline_id: PipelineId,
    pub source_id: String,
    pub target_id: String,
    /// The policy that decided, as configured (`leading:source`, `last_writer_wins`, …).
    pub policy: String,
    pub fields: Vec<ConflictField>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HeldDeleteStatus {
    /// Seen by a run that has not finished counting its deletions.
    Pending,
    Held,
    /// Approved, waiting for the next run to apply it.
    Approved,
    Rejected,
    /// Deleted on the other side.
    Applied,
}

impl HeldDeleteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldDeleteStatus::Pending => "pending",
            HeldDeleteStatus::Held => "held",
            HeldDeleteStatus::Approved => "approved",
            HeldDeleteStatus::Rejected => "rejected",
            HeldDeleteStatus::Applied => "applied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            HeldDeleteStatus::Pending,
            HeldDeleteStatus::Held,
            HeldDeleteStatus::Approved,
            HeldDeleteStatus::Rejected,
            HeldDeleteStatus::Applied,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A deletion a run saw but held, because the run saw more deletions than the pipeline allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldDelete {
    pub id: HeldDeleteId,
    pub pipeline_id: PipelineId,
    pub run_id: RunId,
    /// Where the record was deleted; approving deletes its linked record on the other side.
    pub side: Side,
    pub record_id: String,
    pub status: HeldDeleteStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// Approves or rejects held deletions: the listed ones, or all of a pipeline's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecideHeldDeletesRequest {
    pub approve: bool,
    /// None: every deletion of the pipeline still held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<HeldDeleteId>>,
}

/// One day of a pipeline's runs (UTC), for the sync history chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyCounts {
    /// `2026-12-01`.
    pub day: String,
    /// Records created, updated or deleted on the other side.
    pub synced: i64,
    pub failed: i64,
    pub runs: i64,
}
