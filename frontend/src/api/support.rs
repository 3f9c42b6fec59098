//! Operator support's search across tenants: `/api/v1/support/search`.

use tandem_shared::api::support::SupportHit;

use super::{ApiFailure, get};

/// Where a tenant, an email or an id appears, in every tenant.
pub async fn search(term: &str) -> Result<Vec<SupportHit>, ApiFailure> {
    get(&format!("/support/search?q={}", js_sys::encode_uri_component(term))).await
}
