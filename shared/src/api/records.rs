use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::AppObject;

/// A record as Tandem holds it for the app: the last accepted data and its content hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredRecord {
    pub object: AppObject,
    pub external_id: String,
    /// The record in the unified model (contact, company, deal or appointment).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
    /// SHA-256 of the normalised data: equal hashes mean equal content.
    pub content_hash: String,
    /// Counts accepted changes of content; pushing the same data again does not.
    pub version: i64,
    pub deleted: bool,
    pub updated_at: DateTime<Utc>,
}

/// What a push did with one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    Created,
    Updated,
    /// The same content as before: nothing to sync, no CRM call.
    Unchanged,
    Deleted,
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    pub external_id: String,
    pub outcome: PushOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// For `invalid`: each field at fault and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RecordFieldError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordFieldError {
    /// Dotted path in the record (`email`, `line_items.1.unit_price`).
    pub field: String,
    pub message: String,
}

/// `POST /api/v1/records/{object}/batch`: up to 500 records.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchPush {
    pub records: Vec<BatchRecord>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchRecord {
    pub external_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchPushResult {
    pub results: Vec<PushResult>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub invalid: usize,
}

pub const MAX_BATCH: usize = 500;

/// A contact's touch-points (PRODUCT.md flow 5): how many emails and calls each CRM it is synced
/// with has logged with it, read live from the CRMs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactTouchPoints {
    pub external_id: String,
    /// Summed over the CRMs that answered.
    pub total: crate::model::TouchPoints,
    /// One entry per CRM record the contact is linked to; none when it is synced nowhere yet.
    pub crms: Vec<CrmTouchPoints>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmTouchPoints {
    pub connection_id: crate::ids::ConnectionId,
    pub provider: String,
    pub account_name: String,
    /// The contact's id in that CRM.
    pub crm_id: String,
    /// `None` when the CRM could not be asked (see `error`).
    pub touch_points: Option<crate::model::TouchPoints>,
    /// Why the CRM could not be asked (needs re-auth, unavailable…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
