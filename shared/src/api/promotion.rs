//! Promoting a tenant's pipelines and mappings from its sandbox environment to production: first
//! the plan (what would be created or changed, field by field, and what stops a pipeline), then
//! applying exactly that plan.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::PipelineId;
use crate::model::AppObject;

/// What promoting would do. `fingerprint` names this exact plan: applying it again needs it, so
/// that what is applied is what was reviewed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionPlan {
    pub fingerprint: String,
    pub pipelines: Vec<PipelinePromotion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromotionAction {
    /// No production pipeline of this name yet: one is created.
    Create,
    /// The production pipeline of this name gets the sandbox's settings and mappings.
    Update,
    /// Production already matches.
    Unchanged,
    /// It cannot be promoted as it is; `problems` say why.
    Blocked,
}

/// One sandbox pipeline and its production counterpart (matched by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelinePromotion {
    pub name: String,
    pub object: AppObject,
    pub action: PromotionAction,
    pub sandbox_pipeline_id: PipelineId,
    pub production_pipeline_id: Option<PipelineId>,
    /// Each difference, by where it is: `settings.trigger.poll_every_minutes`,
    /// `mapping.forward.fields.email.transforms`, `mapping.forward.value_tables.stages`, …
    pub changes: Vec<PromotionChange>,
    /// Why it is blocked: no production connection for its CRM, or a mapping the production
    /// CRM's fields do not fit (each naming the field).
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionChange {
    pub path: String,
    /// In production now (`null`: not there).
    pub production: Value,
    /// In the sandbox (`null`: removed by promoting).
    pub sandbox: Value,
}

/// `POST /api/v1/tenants/{tenant_id}/promotion`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    /// The `fingerprint` of the plan that was reviewed.
    pub fingerprint: String,
    /// Names of the pipelines to promote; none: every one the plan creates or updates.
    #[serde(default)]
    pub pipelines: Option<Vec<String>>,
}

/// What promoting did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionResult {
    pub created: Vec<PipelineId>,
    pub updated: Vec<PipelineId>,
}
