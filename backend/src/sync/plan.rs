//! A pipeline ready to run: its two sides resolved (the app's store, or a connected CRM behind
//! its budget and retries) and its mappings compiled.

use std::sync::Arc;

use tandem_shared::api::mappings::{MappingConfig, Source};
use tandem_shared::api::pipelines::{Endpoint, Flow, Side, SyncDirection};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::EnvironmentId;
use tandem_shared::model::AppObject;

use super::budget::{Budgets, Limits};
use super::crm::{CrmClient, RetryPolicy};
use crate::connectors::{ObjectKind, catalogue};
use crate::mapping::Mapping;
use crate::oauth::CrmAccess;
use crate::repo::connections::{LimitOverrides, StoredConnection};
use crate::repo::pipelines::StoredPipeline;
use crate::repo::{Db, RepoError, connections, pipelines, tenants};

/// Why a pipeline cannot run now.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the pipeline no longer exists")]
    Gone,
    #[error("{0}")]
    Broken(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

pub fn object_kind(object: AppObject) -> ObjectKind {
    match object {
        AppObject::Contact => ObjectKind::Contact,
        AppObject::Company => ObjectKind::Company,
        AppObject::Deal => ObjectKind::Deal,
        AppObject::Appointment => ObjectKind::Appointment,
    }
}

/// The app's side: its pushed records in one environment.
pub struct AppSide {
    pub environment_id: EnvironmentId,
}

/// A connected CRM's side.
pub struct CrmSide {
    pub client: CrmClient,
    pub kind: ObjectKind,
    pub batch_max: usize,
    /// The unique field Tandem writes its sync key into, once prepared.
    pub sync_key: Option<String>,
}

impl CrmSide {
    /// Gives records what the CRM keeps in related records, where `mapping` reads it (see
    /// `connectors::fill_related`): one or two calls a page, none when it reads nothing related.
    pub async fn with_related(
        &self,
        mapping: Option<&FlowMapping>,
        records: Vec<crate::connectors::Record>,
    ) -> Result<Vec<crate::connectors::Record>, super::crm::CallError> {
        use crate::connectors::{APPOINTMENT_CONTACT, DEAL_LINE_ITEMS};
        let Some(mapping) = mapping else { return Ok(records) };
        let fields: Vec<String> = mapping.compiled.source_fields().iter().map(|f| f.to_string()).collect();
        let related = match self.kind {
            ObjectKind::Appointment => APPOINTMENT_CONTACT,
            ObjectKind::Deal => DEAL_LINE_ITEMS,
            _ => return Ok(records),
        };
        if records.is_empty() || !fields.iter().any(|f| f == related) {
            return Ok(records);
        }
        let item_fields: Vec<String> = mapping
            .compiled
            .list_source_fields(DEAL_LINE_ITEMS)
            .iter()
            .map(|f| f.to_string())
            .collect();
        let kind = self.kind;
        self.client
            .call(|credential| {
                let connector = self.client.connector.clone();
                let (mut batch, fields, item_fields) = (records.clone(), fields.clone(), item_fields.clone());
                async move {
                    crate::connectors::fill_related(&*connector, &credential, kind, &mut batch, &fields, &item_fields)
                        .await?;
                    Ok(batch)
                }
            })
            .await
    }
}

pub enum SideHandle {
    App(AppSide),
    Crm(Box<CrmSide>),
}

impl SideHandle {
    pub fn crm(&self) -> Option<&CrmSide> {
        match self {
            SideHandle::Crm(crm) => Some(crm),
            SideHandle::App(_) => None,
        }
    }

    pub fn crm_mut(&mut self) -> Option<&mut CrmSide> {
        match self {
            SideHandle::Crm(crm) => Some(crm),
            SideHandle::App(_) => None,
        }
    }

    pub fn is_app(&self) -> bool {
        matches!(self, SideHandle::App(_))
    }
}

/// One direction's mapping, compiled, with its config (for looking up rules).
pub struct FlowMapping {
    pub config: MappingConfig,
    pub compiled: Mapping,
}

impl FlowMapping {
    fn new(config: MappingConfig) -> FlowMapping {
        let compiled = Mapping::new(&config);
        FlowMapping { config, compiled }
    }

    /// The target field a rule fills straight from `source_field` (for matching by key).
    pub fn target_of(&self, source_field: &str) -> Option<&str> {
        self.config.fields.iter().find_map(|rule| match &rule.source {
            Some(Source::Field(field)) if field == source_field && rule.items.is_empty() => Some(rule.target.as_str()),
            _ => None,
        })
    }
}

pub struct Plan {
    pub stored: StoredPipeline,
    pub tenant: Tenant,
    pub source: SideHandle,
    pub target: SideHandle,
    pub forward: FlowMapping,
    /// Two-way pipelines only.
    pub reverse: Option<FlowMapping>,
}

impl Plan {
    pub fn side(&self, side: Side) -> &SideHandle {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }

    pub fn mapping(&self, flow: Flow) -> Option<&FlowMapping> {
        match flow {
            Flow::Forward => Some(&self.forward),
            Flow::Reverse => self.reverse.as_ref(),
        }
    }

    pub fn two_way(&self) -> bool {
        self.stored.pipeline.direction == SyncDirection::TwoWay
    }

    /// Which side the app is, in a pipeline that has it.
    pub fn app_side(&self) -> Option<Side> {
        if self.source.is_app() {
            Some(Side::Source)
        } else if self.target.is_app() {
            Some(Side::Target)
        } else {
            None
        }
    }

    /// Every CRM client of the plan.
    pub fn crm_clients(&self) -> impl Iterator<Item = &CrmClient> {
        [&self.source, &self.target]
            .into_iter()
            .filter_map(|s| s.crm())
            .map(|c| &c.client)
    }
}

/// The limits a connection runs at: its own overrides, else the connector's defaults.
pub fn limits_of(provider: &catalogue::Provider, overrides: LimitOverrides) -> Limits {
    Limits {
        requests_per_second: overrides
            .requests_per_second
            .filter(|r| *r > 0.0)
            .unwrap_or(provider.capabilities.requests_per_second),
        requests_per_day: overrides
            .daily_quota
            .filter(|d| *d > 0)
            .map_or(provider.capabilities.requests_per_day, |d| d as u64),
        search_per_second: provider.capabilities.search_requests_per_second.map(|default| {
            overrides
                .search_requests_per_second
                .filter(|r| *r > 0.0)
                .unwrap_or(default)
        }),
    }
}

pub struct Loader<'a> {
    pub db: &'a Db,
    pub access: &'a Arc<CrmAccess>,
    pub budgets: &'a Budgets,
    pub retry: RetryPolicy,
}

impl Loader<'_> {
    pub async fn load(&self, pipeline: StoredPipeline) -> Result<Plan, PlanError> {
        let id = pipeline.pipeline.id;
        let tenant = tenants::get(self.db.pool(), pipeline.pipeline.tenant_id)
            .await?
            .ok_or(PlanError::Gone)?;
        let forward = pipelines::current_mapping(self.db.pool(), id, Flow::Forward)
            .await?
            .ok_or_else(|| PlanError::Broken("the pipeline has no mapping from source to target".into()))?;
        let reverse = if pipeline.pipeline.direction == SyncDirection::TwoWay {
            Some(
                pipelines::current_mapping(self.db.pool(), id, Flow::Reverse)
                    .await?
                    .ok_or_else(|| {
                        PlanError::Broken("the two-way pipeline has no mapping from target to source".into())
                    })?,
            )
        } else {
            None
        };
        let object = pipeline.pipeline.object;
        let source = self.side(&tenant, &pipeline, pipeline.pipeline.source, object).await?;
        let target = self.side(&tenant, &pipeline, pipeline.pipeline.target, object).await?;
        Ok(Plan {
            stored: pipeline,
            tenant,
            source,
            target,
            forward: FlowMapping::new(forward.config),
            reverse: reverse.map(|r| FlowMapping::new(r.config)),
        })
    }

    async fn side(
        &self,
        tenant: &Tenant,
        pipeline: &StoredPipeline,
        endpoint: Endpoint,
        object: AppObject,
    ) -> Result<SideHandle, PlanError> {
        let connection_id = match endpoint {
            Endpoint::App => {
                return Ok(SideHandle::App(AppSide {
                    environment_id: pipeline.environment_id,
                }));
            }
            Endpoint::Connection { connection_id } => connection_id,
        };
        let stored: StoredConnection = connections::get(self.db.pool(), tenant.id, connection_id)
            .await?
            .ok_or_else(|| PlanError::Broken("the pipeline's connection was removed".into()))?;
        let client = self.client(tenant, stored).await?;
        let batch_max = client.connector.provider().capabilities.batch_max;
        Ok(SideHandle::Crm(Box::new(CrmSide {
            client,
            kind: object_kind(object),
            batch_max,
            sync_key: None,
        })))
    }

    /// A client for one connection, within its budget.
    pub async fn client(&self, tenant: &Tenant, stored: StoredConnection) -> Result<CrmClient, PlanError> {
        let provider = catalogue::provider(&stored.connection.provider)
            .ok_or_else(|| PlanError::Broken(format!("unknown CRM {:?}", stored.connection.provider)))?;
        let connector = self
            .access
            .connectors
            .get(provider.id)
            .ok_or_else(|| PlanError::Broken(format!("{} cannot be synced yet", provider.name)))?;
        let budget = self
            .budgets
            .get(self.db, stored.connection.id, limits_of(provider, stored.overrides))
            .await?;
        Ok(CrmClient::new(
            stored,
            connector,
            budget,
            tenant.clone(),
            self.access.clone(),
            self.retry,
        ))
    }
}
