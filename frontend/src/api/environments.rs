//! `/api/v1/tenants/{tenant_id}/environments`

use tandem_shared::api::tenants::Environment;
use tandem_shared::ids::TenantId;

use super::{ApiFailure, get};

pub async fn list(tenant_id: TenantId) -> Result<Vec<Environment>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/environments")).await
}
