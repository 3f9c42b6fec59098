//! Every call to a CRM, logged and counted: method, path (a template when the path carries a
//! token; never the query), status and duration. Per-record callout history is the sync
//! engine's; this is what every call leaves in the logs and metrics.

use std::time::Duration;

use reqwest::Method;

pub fn record(provider: &'static str, method: &Method, path: &str, status: Option<u16>, elapsed: Duration) {
    let status_label = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    metrics::counter!("crm_callouts_total", "provider" => provider, "status" => status_label.clone()).increment(1);
    metrics::histogram!("crm_callout_duration_seconds", "provider" => provider).record(elapsed.as_secs_f64());
    tracing::info!(
        provider,
        %method,
        path,
        status = %status_label,
        duration_ms = elapsed.as_millis() as u64,
        "CRM callout"
    );
}
