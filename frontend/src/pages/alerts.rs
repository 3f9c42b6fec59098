//! `/t/:tenant_id/alerts`: the tenant's alerts inbox, newest first: retries exhausted, a failure
//! rate that paused a pipeline, a connection needing re-auth, schema drift, duplicates, held
//! deletions. Each links to its pipeline and says whether it reached the app's alert webhook;
//! admins acknowledge them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::alerts::Alert;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, ErrorBanner, Loading, browser_now, format_time, relative_time};

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "retries_exhausted" => "Retries exhausted",
        "failure_rate" => "Pipeline paused: too many failures",
        "needs_reauth" => "Connection needs re-auth",
        "schema_drift" => "CRM fields changed",
        "duplicates" => "Duplicates to decide",
        "held_deletes" => "Deletions held",
        _ => "Alert",
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    crate::components::page_title("Alerts");
    let tenant = use_tenant();
    let alerts = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::sync::alerts(id).await }
    });
    let error = RwSignal::new(None::<ApiFailure>);
    let acknowledge = move |alert: &Alert| {
        let (tenant_id, id) = (tenant.id.get_untracked(), alert.id);
        error.set(None);
        spawn_local(async move {
            match api::sync::acknowledge(tenant_id, id).await {
                Ok(_) => alerts.refetch(),
                Err(failure) => error.set(Some(failure)),
            }
        });
    };
    let list = move || {
        match alerts.get() {
        None => view! { <Loading label="Loading alerts…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the alerts" failure=failure on_retry=move || alerts.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message="No alerts. Tandem raises one when retries run out, a pipeline pauses itself, a connection needs re-auth or the CRM's fields change." />
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <ul class="failed-list" data-testid="alert-list">
                {list
                    .into_iter()
                    .map(|alert| {
                        let open = alert.acknowledged_at.is_none();
                        let pipeline = alert
                            .pipeline_id
                            .map(|p| format!("/t/{}/pipelines/{p}", tenant.id.get_untracked()));
                        let delivery = match (&alert.delivered_at, &alert.delivery_error) {
                            (Some(at), _) => format!("Sent to the app's alert webhook {}.", relative_time(at, &browser_now())),
                            (None, Some(error)) => format!("Not delivered to the app's alert webhook: {error}"),
                            (None, None) => "No alert webhook received it (the app subscribes to `alerts` with POST /api/v1/webhooks).".to_string(),
                        };
                        let item = alert.clone();
                        view! {
                            <li class="card failed-item" data-testid="alert" data-kind=alert.kind.clone() data-open=open.to_string()>
                                <p>
                                    <strong>{kind_label(&alert.kind)}</strong>
                                    " "
                                    <span class="muted small" title=format_time(&alert.created_at)>
                                        {relative_time(&alert.created_at, &browser_now())}
                                    </span>
                                    {(!open).then(|| view! { " " <span class="badge neutral">"acknowledged"</span> })}
                                </p>
                                <p data-testid="alert-message">{alert.message.clone()}</p>
                                <p class="small muted">{delivery}</p>
                                <div class="form-actions">
                                    {pipeline.map(|href| view! { <a class="button secondary small" href=href>"Open the pipeline"</a> })}
                                    <Show when=move || open && tenant.can_write.get()>
                                        <button
                                            type="button"
                                            class="button small"
                                            data-testid="acknowledge"
                                            on:click={
                                                let item = item.clone();
                                                move |_| acknowledge(&item)
                                            }
                                        >
                                            "Acknowledge"
                                        </button>
                                    </Show>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
    };
    view! {
        <div class="page">
            <div>
                <h2>"Alerts"</h2>
                <p class="lead">
                    "What needs a person: each alert is also sent to the app's webhook endpoints subscribed to alerts."
                </p>
            </div>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not acknowledge" failure=failure /> })}
            {list}
        </div>
    }
}
