//! Alerts: raised when retries are exhausted, a pipeline's failure rate passes its threshold, a
//! grant is revoked, a mapping drifted from the CRM's schema, or a decision is needed (duplicates,
//! held deletions). Stored, shown, and sent to the tenant's alert webhooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{AlertId, PipelineId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: AlertId,
    pub pipeline_id: Option<PipelineId>,
    /// `retries_exhausted`, `failure_rate`, `needs_reauth`, `schema_drift`, `duplicates`,
    /// `held_deletes`, `read_incomplete` (a run could not prove it read every change),
    /// `reconciliation_repaired` (the daily reconciliation found and delivered missed changes).
    pub kind: String,
    pub message: String,
    pub detail: Value,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivery_error: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}
