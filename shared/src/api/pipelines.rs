//! Pipelines: one object (contacts, say) kept in sync between two systems of one tenant
//! environment — the operator's app and a CRM, either way or both, or one CRM to another — with a
//! trigger, policies for duplicates, conflicts and deletes, and versioned mappings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::mappings::MappingConfig;
use crate::api::tenants::EnvironmentKind;
use crate::ids::{ConnectionId, MappingVersionId, PipelineId, TenantId};
use crate::model::AppObject;

/// One side of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Endpoint {
    /// The operator's app: records pushed with the tenant's API key, changes delivered by webhook
    /// and the change feed.
    App,
    /// A connected CRM account of the same environment.
    Connection { connection_id: ConnectionId },
}

impl Endpoint {
    pub fn connection_id(&self) -> Option<ConnectionId> {
        match self {
            Endpoint::App => None,
            Endpoint::Connection { connection_id } => Some(*connection_id),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SyncDirection {
    /// Source to target only.
    OneWay,
    /// Both ways; the app must be one of the sides.
    TwoWay,
}

impl SyncDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncDirection::OneWay => "one_way",
            SyncDirection::TwoWay => "two_way",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [SyncDirection::OneWay, SyncDirection::TwoWay]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// Which side of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Source,
    Target,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Side::Source, Side::Target].into_iter().find(|d| d.as_str() == s)
    }

    pub fn other(self) -> Side {
        match self {
            Side::Source => Side::Target,
            Side::Target => Side::Source,
        }
    }
}

/// Which way a mapping (or a record's sync) goes: `forward` is source to target, `reverse`
/// target to source (two-way pipelines).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    Forward,
    Reverse,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Forward => "forward",
            Flow::Reverse => "reverse",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Flow::Forward, Flow::Reverse].into_iter().find(|d| d.as_str() == s)
    }

    /// The side records are read from.
    pub fn from_side(self) -> Side {
        match self {
            Flow::Forward => Side::Source,
            Flow::Reverse => Side::Target,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    Active,
    /// Paused by an admin, or by itself when its failure rate passed the threshold.
    Paused,
    /// A connection's grant was revoked: reconnect it to resume.
    NeedsReauth,
}

impl PipelineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineStatus::Active => "active",
            PipelineStatus::Paused => "paused",
            PipelineStatus::NeedsReauth => "needs_reauth",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PipelineStatus::Active,
            PipelineStatus::Paused,
            PipelineStatus::NeedsReauth,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// When a pipeline runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Run as soon as a CRM webhook says something changed (where the CRM has webhooks). A poll
    /// still runs as the safety net.
    #[serde(default = "yes")]
    pub webhooks: bool,
    /// Poll for recently changed records every this many minutes (1 to 1440).
    #[serde(default = "five")]
    pub poll_every_minutes: u32,
    /// A full comparison of both sides once a day at this UTC time (`HH:MM`): finds deletions a
    /// CRM does not report and anything a poll missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_reconciliation_at: Option<String>,
}

fn yes() -> bool {
    true
}

fn five() -> u32 {
    5
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            webhooks: true,
            poll_every_minutes: 5,
            daily_reconciliation_at: None,
        }
    }
}

/// What happens when a record about to be created on one side already exists there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum DuplicatePolicy {
    /// Link the two records; the leading side's values win where they differ.
    Merge { leading: Side },
    /// Create nothing, record the duplicate and alert, so a person decides.
    SkipAndNotify,
}

/// How records are matched before one is created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Matching {
    /// Exact matches: contacts by normalised email; companies by VAT id or registration number,
    /// else name and country.
    #[serde(default = "skip_and_notify")]
    pub duplicates: DuplicatePolicy,
    /// Flags (never merges) records whose name and company are this similar (Jaro-Winkler, 0 to
    /// 1) to an existing record's; none turns fuzzy candidates off.
    // Always written: a stored `null` (off) must not read back as the default.
    #[serde(default = "fuzzy_default")]
    pub fuzzy_threshold: Option<f64>,
}

fn skip_and_notify() -> DuplicatePolicy {
    DuplicatePolicy::SkipAndNotify
}

fn fuzzy_default() -> Option<f64> {
    Some(0.85)
}

impl Default for Matching {
    fn default() -> Self {
        Matching {
            duplicates: skip_and_notify(),
            fuzzy_threshold: fuzzy_default(),
        }
    }
}

/// In a two-way pipeline, whose value wins when both sides changed the same field since the last
/// sync. Every resolved conflict is recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConflictPolicy {
    /// This side always wins.
    Leading { side: Side },
    /// The side whose own modification time is later wins (the source on a tie).
    LastWriterWins,
    /// Each listed field (source field names) belongs to a side; `otherwise` owns the rest.
    FieldOwnership {
        fields: BTreeMap<String, Side>,
        otherwise: Side,
    },
}

impl Default for ConflictPolicy {
    fn default() -> Self {
        ConflictPolicy::Leading { side: Side::Source }
    }
}

/// What happens to deletions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeletePolicy {
    /// Delete (archive) the linked record on the other side.
    #[serde(default)]
    pub propagate: bool,
    /// A run that sees more deletions than this holds them all for approval; `null`: no limit.
    /// (Always written, so that a stored `null` does not read back as the default.)
    #[serde(default = "hold_count")]
    pub hold_above_count: Option<u32>,
    /// … or more than this share (0 to 1) of the pipeline's linked records.
    #[serde(default = "hold_share")]
    pub hold_above_share: Option<f64>,
}

fn hold_count() -> Option<u32> {
    Some(100)
}

fn hold_share() -> Option<f64> {
    Some(0.1)
}

impl Default for DeletePolicy {
    fn default() -> Self {
        DeletePolicy {
            propagate: false,
            hold_above_count: hold_count(),
            hold_above_share: hold_share(),
        }
    }
}

/// A pipeline's trigger and policies. Every part has a default, so `{}` is a valid value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    #[serde(default)]
    pub trigger: Trigger,
    #[serde(default)]
    pub matching: Matching,
    #[serde(default)]
    pub conflicts: ConflictPolicy,
    #[serde(default)]
    pub deletes: DeletePolicy,
    /// Sync only contacts whose email the app marked confirmed (`email_confirmed: true`).
    #[serde(default)]
    pub confirmed_emails_only: bool,
    /// What the first run reads: every existing record (`full`), or only what changes from then
    /// on (`changes_only`).
    #[serde(default)]
    pub initial_load: InitialLoad,
    /// A run whose share of failed records passes this (0 to 1, with at least 10 records) pauses
    /// the pipeline and raises an alert.
    #[serde(default = "failure_threshold")]
    pub pause_above_failure_rate: f64,
}

/// What a pipeline's first run reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InitialLoad {
    /// Every existing record of each side the pipeline reads.
    #[default]
    Full,
    /// Only records that change after the pipeline starts; the rest stay as they are until then.
    ChangesOnly,
}

fn failure_threshold() -> f64 {
    0.5
}

// By hand, so that settings left out of a request are the same as an empty `settings` object.
impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            trigger: Trigger::default(),
            matching: Matching::default(),
            conflicts: ConflictPolicy::default(),
            deletes: DeletePolicy::default(),
            confirmed_emails_only: false,
            initial_load: InitialLoad::default(),
            pause_above_failure_rate: failure_threshold(),
        }
    }
}

/// Something about a mapping that no longer matches the CRM (schema drift), found at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingWarning {
    pub flow: Flow,
    /// The field concerned, with the CRM's name.
    pub field: String,
    pub message: String,
    pub detected_at: DateTime<Utc>,
}

/// One saved version of a mapping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingVersion {
    pub id: MappingVersionId,
    pub flow: Flow,
    pub version: i64,
    pub config: MappingConfig,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pipeline {
    pub id: PipelineId,
    pub tenant_id: TenantId,
    pub environment: EnvironmentKind,
    pub name: String,
    pub object: AppObject,
    pub source: Endpoint,
    pub target: Endpoint,
    pub direction: SyncDirection,
    pub settings: PipelineSettings,
    pub status: PipelineStatus,
    pub status_reason: Option<String>,
    pub warnings: Vec<MappingWarning>,
    /// The mapping in force from source to target.
    pub forward_mapping: Option<MappingVersion>,
    /// Two-way only: the mapping in force from target to source.
    pub reverse_mapping: Option<MappingVersion>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last reconciliation's outcome: whether every CRM record was provably read.
    #[serde(default)]
    pub last_reconciliation: Option<crate::api::runs::ReconciliationSummary>,
}

/// Creates a pipeline. Mappings left out start from Tandem's suggested mapping for the CRM and
/// object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePipelineRequest {
    pub name: String,
    pub environment: EnvironmentKind,
    pub object: AppObject,
    pub source: Endpoint,
    pub target: Endpoint,
    pub direction: SyncDirection,
    #[serde(default)]
    pub settings: PipelineSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_mapping: Option<MappingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_mapping: Option<MappingConfig>,
    /// Create it paused, to be resumed once its mapping is checked (the activation wizard does);
    /// otherwise its first run starts at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_paused: bool,
}

/// Changes a pipeline; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePipelineRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<PipelineSettings>,
    /// `active` or `paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PipelineStatus>,
}

/// Saves a new version of one of a pipeline's mappings, after validating it against the CRM's
/// live field list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveMappingRequest {
    pub config: MappingConfig,
}

/// Starts a run now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunPipelineRequest {
    /// A reconciliation: after reading the changes, compare each CRM's counts with what was read
    /// and re-read what differs (finds what a poll missed, deletions included).
    #[serde(default)]
    pub reconcile: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switched_off_settings_stay_off_once_stored() {
        let settings: PipelineSettings = serde_json::from_value(serde_json::json!({
            "matching": { "fuzzy_threshold": null },
            "deletes": { "hold_above_count": null, "hold_above_share": null },
        }))
        .expect("valid settings");
        assert_eq!(settings.matching.fuzzy_threshold, None);
        let stored = serde_json::to_string(&settings).expect("serialises");
        let read_back: PipelineSettings = serde_json::from_str(&stored).expect("reads back");
        assert_eq!(read_back, settings);
        let defaults: PipelineSettings = serde_json::from_str("{}").expect("defaults");
        assert_eq!(defaults.matching.fuzzy_threshold, Some(0.85));
        assert_eq!(defaults.deletes.hold_above_count, Some(100));
        assert_eq!(
            defaults,
            PipelineSettings::default(),
            "left out or empty, the same settings"
        );
    }
}
