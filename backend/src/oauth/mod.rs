//! Connecting CRM accounts: the OAuth authorization code flow (`flow`), talking to the CRMs'
//! token endpoints (`client`), where each connection goes (`targets`), and keeping access tokens
//! valid (`tokens`).

pub mod client;
pub mod flow;
pub mod targets;
pub mod tokens;

use std::sync::Arc;

use crate::connectors::Registry;

/// Everything needed to reach connected CRMs.
pub struct CrmAccess {
    pub targets: Arc<targets::Targets>,
    pub tokens: tokens::TokenManager,
    pub connectors: Registry,
    pub http: reqwest::Client,
}
