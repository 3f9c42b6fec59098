//! `/api/v1/catalogue` and `/api/v1/tenants/{tenant_id}/connections`

use tandem_shared::api::connections::{
    AuthorizeRedirect, ConnectWithCredentialsRequest, Connection, ConnectionCheck, ProviderInfo, StartConnectRequest,
    UpdateConnectionRequest,
};
use tandem_shared::ids::{ConnectionId, TenantId};

use super::{ApiFailure, delete, get, patch, post, post_empty};

/// The CRMs Tandem knows, those not available yet included.
pub async fn catalogue() -> Result<Vec<ProviderInfo>, ApiFailure> {
    get("/catalogue").await
}

/// The tenant's connections, both environments.
pub async fn list(tenant_id: TenantId) -> Result<Vec<Connection>, ApiFailure> {
    get(&format!("/tenants/{tenant_id}/connections")).await
}

/// Starts connecting a CRM: the consent page to send the browser to.
pub async fn authorize(tenant_id: TenantId, request: &StartConnectRequest) -> Result<AuthorizeRedirect, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/connections/authorize"), request).await
}

/// Connects a CRM with entered credentials (an API token), checked by the CRM first.
pub async fn connect_with_credentials(
    tenant_id: TenantId,
    request: &ConnectWithCredentialsRequest,
) -> Result<Connection, ApiFailure> {
    post(&format!("/tenants/{tenant_id}/connections/credentials"), request).await
}

/// Calls the CRM with the connection; `ok` is false (with a 200) when that failed.
pub async fn test(tenant_id: TenantId, connection_id: ConnectionId) -> Result<ConnectionCheck, ApiFailure> {
    post_empty(&format!("/tenants/{tenant_id}/connections/{connection_id}/test")).await
}

/// Authorizes an existing connection again: the consent page to send the browser to.
pub async fn reconnect(tenant_id: TenantId, connection_id: ConnectionId) -> Result<AuthorizeRedirect, ApiFailure> {
    post_empty(&format!("/tenants/{tenant_id}/connections/{connection_id}/reconnect")).await
}

/// Sets the connection's own rate and daily quota; a value left out goes back to the CRM's default.
pub async fn update(
    tenant_id: TenantId,
    connection_id: ConnectionId,
    request: &UpdateConnectionRequest,
) -> Result<Connection, ApiFailure> {
    patch(&format!("/tenants/{tenant_id}/connections/{connection_id}"), request).await
}

/// Gives access back at the CRM and forgets the connection.
pub async fn disconnect(tenant_id: TenantId, connection_id: ConnectionId) -> Result<(), ApiFailure> {
    delete(&format!("/tenants/{tenant_id}/connections/{connection_id}")).await
}

/// Sends the browser to a consent page. Only `http(s)` addresses are followed.
pub fn go_to(url: &str) -> Result<(), ApiFailure> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(ApiFailure::Unreadable(format!("not a web address: {url}")));
    }
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unreadable("no browser window".into()))?;
    window
        .location()
        .set_href(url)
        .map_err(|e| ApiFailure::Unreadable(format!("{e:?}")))
}
