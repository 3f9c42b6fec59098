//! `/api/v1/tenants`

use tandem_shared::api::tenants::{CreateTenantRequest, Tenant};

use super::{ApiFailure, get, post};

pub async fn list() -> Result<Vec<Tenant>, ApiFailure> {
    get("/tenants").await
}

pub async fn create(request: &CreateTenantRequest) -> Result<Tenant, ApiFailure> {
    post("/tenants", request).await
}
