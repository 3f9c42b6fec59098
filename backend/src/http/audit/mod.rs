pub mod list_all;
pub mod list_tenant;

use serde::Deserialize;
use tandem_shared::ids::AuditEntryId;

/// Paging through the audit log, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Continue after this entry (the `next_before` of the previous page).
    #[param(value_type = Option<String>, format = Uuid)]
    pub before: Option<AuditEntryId>,
    /// Entries per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50)
    }
}
