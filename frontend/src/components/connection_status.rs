//! The state of a connected CRM account as a badge: Healthy, Needs re-auth, Error.

use leptos::prelude::*;
use tandem_shared::api::connections::ConnectionStatus;

fn status_label(status: ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Healthy => "Healthy",
        ConnectionStatus::NeedsReauth => "Needs re-auth",
        ConnectionStatus::Error => "Error",
    }
}

#[component]
pub fn ConnectionStatusBadge(status: ConnectionStatus) -> impl IntoView {
    let class = format!("badge status-badge status-{}", status.as_str());
    view! {
        <span class=class data-testid="connection-status" data-status=status.as_str()>
            {status_label(status)}
        </span>
    }
}
