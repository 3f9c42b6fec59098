//! `/api/v1/tenants/{tenant_id}/users`

use tandem_shared::api::users::{CreateUserRequest, CreatedUser, UpdateUserRequest, User};
use tandem_shared::ids::{TenantId, UserId};

use super::{ApiFailure, delete, get, patch, post};

pub async fn list(tenant_id: TenantId) -> Result<Vec<User>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/users")).await
}

pub async fn create(tenant_id: TenantId, request: &CreateUserRequest) -> Result<CreatedUser, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/users"), request).await
}

pub async fn update(tenant_id: TenantId, user_id: UserId, request: &UpdateUserRequest) -> Result<User, ApiFailure> {
    patch(&format!("/tenants/{tenant_id}/users/{user_id}"), request).await
}

pub async fn remove(tenant_id: TenantId, user_id: UserId) -> Result<(), ApiFailure> {
    delete(&format!("/tenants/{tenant_id}/users/{user_id}")).await
}
