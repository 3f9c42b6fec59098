//! `/t/:tenant_id/alerts`: the tenant's alerts inbox, newest first: retries exhausted, a failure
//! rate that paused a pipeline, a connection needing re-auth, schema drift, duplicates, held
//! deletions. Each links to its pipeline and says whether it reached the app's alert webhook;
//! admins acknowledge them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::alerts::Alert;
use tandem_shared::api::changes::{CreateWebhookEndpointRequest, CreatedWebhookEndpoint, WebhookEndpoint};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::WebhookEndpointId;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, ErrorBanner, Loading, SecretBox, browser_now, format_time, relative_time};

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
            <AlertDestinations />
        </div>
    }
}

/// Where each environment's alerts are sent: its webhook endpoints subscribed to alerts, added
/// here with their signing secret shown once, or removed.
#[component]
fn AlertDestinations() -> impl IntoView {
    let tenant = use_tenant();
    let environment = RwSignal::new(EnvironmentKind::Sandbox);
    let endpoints = LocalResource::new(move || {
        let (tenant_id, environment) = (tenant.id.get(), environment.get());
        async move { api::webhooks::list(tenant_id, environment).await }
    });
    let url = RwSignal::new(String::new());
    let with_changes = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let created = RwSignal::new(None::<CreatedWebhookEndpoint>);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut events = vec!["alerts".to_string()];
        if with_changes.get_untracked() {
            events.push("changes".to_string());
        }
        let request = CreateWebhookEndpointRequest {
            url: url.get_untracked().trim().to_string(),
            events,
        };
        let (tenant_id, env) = (tenant.id.get_untracked(), environment.get_untracked());
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::webhooks::create(tenant_id, env, &request).await {
                Ok(endpoint) => {
                    let _ = created.try_set(Some(endpoint));
                    let _ = url.try_set(String::new());
                    endpoints.refetch();
                }
                Err(failure) => {
                    let _ = error.try_set(Some(failure));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    let remove = move |id: WebhookEndpointId| {
        let (tenant_id, env) = (tenant.id.get_untracked(), environment.get_untracked());
        error.set(None);
        spawn_local(async move {
            match api::webhooks::remove(tenant_id, env, id).await {
                Ok(()) => endpoints.refetch(),
                Err(failure) => {
                    let _ = error.try_set(Some(failure));
                }
            }
        });
    };
    let list = move || match endpoints.get() {
        None => view! { <Loading label="Loading the endpoints…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the endpoints" failure=failure on_retry=move || endpoints.refetch() />
        }
        .into_any(),
        Some(Ok(list)) => {
            let alerting: Vec<WebhookEndpoint> = list
                .into_iter()
                .filter(|e| e.events.iter().any(|x| x == "alerts"))
                .collect();
            if alerting.is_empty() {
                return view! {
                    <EmptyState message="Alerts go nowhere but this inbox in this environment: add an address below to have them sent." />
                }
                .into_any();
            }
            view! {
                <ul class="endpoint-list" data-testid="alert-endpoints">
                    {alerting.into_iter().map(|e| {
                        let id = e.id;
                        view! {
                            <li data-testid="alert-endpoint">
                                <code>{e.url.clone()}</code>
                                " "
                                <span class="small muted">{e.events.join(", ")}</span>
                                <Show when=move || tenant.can_write.get()>
                                    " "
                                    <button type="button" class="button secondary small" data-testid="remove-endpoint"
                                        on:click=move |_| remove(id)>"Remove"</button>
                                </Show>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="destinations-heading" data-testid="alert-destinations">
            <h3 id="destinations-heading">"Where alerts are sent"</h3>
            <p class="muted">"Each alert is posted, signed (Tandem-Signature, HMAC-SHA256), to these addresses of the environment it happened in."</p>
            <fieldset class="env-choice">
                <legend>"Environment"</legend>
                {EnvironmentKind::ALL.into_iter().map(|kind| view! {
                    <label class="checkbox">
                        <input type="radio" name="alert-environment" value=kind.as_str()
                            prop:checked=move || environment.get() == kind
                            on:change=move |_| { created.set(None); environment.set(kind) } />
                        " " {kind.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            {list}
            {move || created.get().map(|c| view! {
                <SecretBox
                    title=format!("Alerts now go to {}", c.endpoint.url)
                    secret=c.secret.clone()
                    what="signing secret"
                    note="Check each delivery's Tandem-Signature with this secret. It is shown only now."
                    testid="endpoint-secret"
                    on_dismiss=Callback::new(move |_| created.set(None))
                />
            })}
            <Show when=move || tenant.can_write.get()>
                <form class="inline-form add-endpoint" on:submit=add>
                    <label for="alert-url">"Send alerts to"</label>
                    <input id="alert-url" type="url" placeholder="https://ops.example.com/tandem-alerts" data-testid="alert-url"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
                    <label class="checkbox small">
                        <input type="checkbox" prop:checked=move || with_changes.get() on:change=move |ev| with_changes.set(event_target_checked(&ev)) />
                        " and record changes too"
                    </label>
                    <button type="submit" class="button primary" data-testid="add-endpoint" disabled=move || busy.get()>"Add"</button>
                </form>
            </Show>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not change where alerts go" failure=failure /> })}
        </section>
    }
}
