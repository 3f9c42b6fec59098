//! Sales demos: a demo tenant wired to the sandbox CRMs the salesperson picks, with seeded data, and
//! an activity generator changing records on every side, shown on a live dashboard.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::pipelines::SyncDirection;
use crate::api::runs::{RecordEvent, RunStatus};
use crate::api::tenants::Tenant;
use crate::ids::PipelineId;
use crate::model::AppObject;

/// Which CRMs a new demo connects (any of the live ones with a sandbox); none given: HubSpot
/// and Salesforce.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartDemoRequest {
    #[serde(default)]
    pub crms: Vec<String>,
}

/// One of the demo's pipelines, with what it moved since the demo started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoPipeline {
    pub id: PipelineId,
    pub name: String,
    pub object: AppObject,
    /// The CRM's name (`HubSpot`).
    pub crm: String,
    pub direction: SyncDirection,
    pub created: i64,
    pub updated: i64,
    pub failed: i64,
    pub runs: i64,
    pub last_status: Option<RunStatus>,
}

/// What the demo dashboard shows, read every few seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoDashboard {
    pub tenant: Tenant,
    /// The activity generator changes records until then (a forgotten demo stops by itself).
    pub activity_until: DateTime<Utc>,
    pub activity_running: bool,
    /// Seconds between two rounds of changes.
    pub tick_seconds: u64,
    pub pipelines: Vec<DemoPipeline>,
    /// The latest records written, newest first, across the demo's pipelines.
    pub recent: Vec<RecordEvent>,
    /// Failed records waiting for a person (the generator makes some bad data on purpose).
    pub open_failed: i64,
}
