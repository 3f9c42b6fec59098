//! CRM-side changes for the operator's app: a feed it pulls with a cursor, and signed webhooks
//! pushed to the endpoints it registers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{PipelineId, WebhookDeliveryId, WebhookEndpointId};
use crate::model::AppObject;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ChangeKind::Created, ChangeKind::Updated, ChangeKind::Deleted]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One change a CRM made to a record, in the unified model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Pass as `after` to read what follows this change.
    pub cursor: String,
    pub object: AppObject,
    /// The app's id of the record. For records created in the CRM, Tandem names them
    /// `<provider>-<crm id>`; push updates under that id.
    pub external_id: String,
    pub provider: String,
    pub crm_id: String,
    pub change: ChangeKind,
    /// The whole record as it now is (for deletions, as it last was).
    pub record: Value,
    pub pipeline_id: Option<PipelineId>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Where to go on from: the last change's cursor, or the one passed in when there was none.
    pub next_cursor: String,
    pub has_more: bool,
}

/// An endpoint of the app's that receives signed webhooks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    /// `changes` and/or `alerts`.
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// The endpoint just created, with its signing secret: shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhookEndpoint {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: the key of the HMAC-SHA256 in the `Tandem-Signature` header.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    pub url: String,
    #[serde(default = "all_events")]
    pub events: Vec<String>,
}

fn all_events() -> Vec<String> {
    vec!["changes".into(), "alerts".into()]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Every attempt failed; it can be replayed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One attempt to deliver a webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    /// `change` or `alert`.
    pub event_type: String,
    pub payload: Value,
    pub status: DeliveryStatus,
    pub attempts: Vec<DeliveryAttempt>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}
