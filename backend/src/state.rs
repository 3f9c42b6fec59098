use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::configuration::Settings;
use crate::jobs::{self, Queue};
use crate::oauth::CrmAccess;
use crate::repo::Db;
use crate::sync::SyncEngine;
use crate::vault::Vault;

/// What every request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub vault: Vault,
    pub metrics: PrometheusHandle,
    /// The sandbox CRMs, when enabled.
    pub sandbox: Option<tandem_sandbox::Sandbox>,
    /// Connectors, OAuth targets and tokens for reaching the tenants' CRMs.
    pub crm: Arc<CrmAccess>,
    /// The durable job queue, and the handlers of its jobs.
    pub queue: Queue,
    pub jobs: jobs::Registry,
    pub engine: SyncEngine,
}
