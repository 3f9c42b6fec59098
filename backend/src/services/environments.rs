use tandem_shared::api::tenants::Environment;
use tandem_shared::ids::TenantId;

use super::ServiceError;
use super::access::{self, Need};
use crate::auth::Principal;
use crate::repo::{Db, environments};

pub async fn list(db: &Db, principal: &Principal, tenant_id: TenantId) -> Result<Vec<Environment>, ServiceError> {
    let tenant = access::tenant(db, principal, tenant_id, Need::Read).await?;
    Ok(environments::list(db.pool(), tenant.id).await?)
}
