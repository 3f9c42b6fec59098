//! Sales demos. `/demo`: start one (a demo tenant connected to the sandbox CRMs the salesperson
//! ticks, seeded, with records changing on every side) and find the running ones.
//! `/t/:tenant_id/demo`: its dashboard — what each pipeline moved, the latest records and the
//! failures waiting, read again every two seconds — and `Reset demo`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use tandem_shared::api::demo::{DemoDashboard, StartDemoRequest};
use tandem_shared::api::pipelines::SyncDirection;
use tandem_shared::api::runs::RecordOutcome;
use tandem_shared::ids::TenantId;
use tandem_shared::roles::Role;

use super::pipelines::object_label;
use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::app::{use_session, use_tenants};
use crate::components::{DemoBadge, EmptyState, ErrorBanner, Loading, browser_now, relative_time};

fn may_demo(role: Option<Role>) -> bool {
    matches!(role, Some(Role::OperatorAdmin | Role::Sales))
}

/// The CRMs a demo connects unless the salesperson ticks others.
const DEFAULT_CRMS: [&str; 2] = ["hubspot", "salesforce"];

/// Starts a demo (connected to `crms`; a reset keeps the old demo's) and opens its dashboard.
fn start_demo(
    busy: RwSignal<bool>,
    error: RwSignal<Option<ApiFailure>>,
    reset_of: Option<TenantId>,
    crms: Vec<String>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    let tenants = use_tenants().0;
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        let started = match reset_of {
            Some(id) => api::demo::reset(id).await,
            None => api::demo::start(&StartDemoRequest { crms }).await,
        };
        match started {
            Ok(tenant) => {
                tenants.refetch();
                navigate(&format!("/t/{}/demo", tenant.id), Default::default());
            }
            Err(failure) => {
                let _ = error.try_set(Some(failure));
            }
        }
        let _ = busy.try_set(false);
    });
}

#[component]
pub fn DemoStartPage() -> impl IntoView {
    crate::components::page_title("Sales demo");
    let session = use_session();
    let tenants = use_tenants().0;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let navigate = use_navigate();
    let chosen = RwSignal::new(DEFAULT_CRMS.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let catalogue = LocalResource::new(api::connections::catalogue);
    let crm_choice = move || {
        catalogue.get().and_then(Result::ok).map(|providers| {
            providers
                .into_iter()
                .filter(|p| p.available)
                .map(|p| {
                    let id = p.id.clone();
                    let for_change = id.clone();
                    view! {
                        <label class="checkbox-row">
                            <input
                                type="checkbox"
                                data-testid=format!("demo-crm-{id}")
                                prop:checked=move || chosen.with(|c| c.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != for_change);
                                        if on {
                                            c.push(for_change.clone());
                                        }
                                    });
                                }
                            />
                            {p.name.clone()}
                        </label>
                    }
                })
                .collect_view()
        })
    };
    let running = move || {
        tenants.get().map(|result| match result {
            Err(failure) => view! { <ErrorBanner title="Could not load the demos" failure=failure /> }.into_any(),
            Ok(list) => {
                let demos: Vec<_> = list.into_iter().filter(|t| t.is_demo).collect();
                if demos.is_empty() {
                    view! { <EmptyState message="No demo yet: start one above." /> }.into_any()
                } else {
                    view! {
                        <ul class="held-list" data-testid="demo-list">
                            {demos
                                .into_iter()
                                .map(|t| {
                                    view! {
                                        <li>
                                            <a href=format!("/t/{}/demo", t.id)>{t.name.clone()}</a>
                                            " "
                                            <DemoBadge />
                                            " "
                                            <span class="muted small">
                                                "started " {relative_time(&t.created_at, &browser_now())}
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }
        })
    };
    view! {
        <div class="page">
            <div>
                <h2>"Sales demo"</h2>
                <p class="lead">
                    "One click makes a demo tenant connected to the sandbox CRMs ticked below, with contacts, deals and appointments, and keeps records changing on every side — some with bad data, so that failed records appear. Demo tenants reach sandbox CRMs only."
                </p>
            </div>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not start the demo" failure=failure /> })}
            <Show
                when=move || may_demo(session.role())
                fallback=|| view! { <p class="banner banner-info">"Only sales staff and operator admins start demos."</p> }
            >
                <fieldset class="demo-crms" data-testid="demo-crms">
                    <legend>"CRMs to connect"</legend>
                    {crm_choice}
                </fieldset>
                <p>
                    <button
                        type="button"
                        class="button"
                        data-testid="start-demo"
                        disabled=move || busy.get() || chosen.with(Vec::is_empty)
                        on:click={
                            let navigate = navigate.clone();
                            move |_| start_demo(busy, error, None, chosen.get_untracked(), navigate.clone())
                        }
                    >
                        {move || if busy.get() { "Starting the demo…" } else { "Start demo" }}
                    </button>
                </p>
            </Show>
            <section class="card" aria-labelledby="demos-heading">
                <h3 id="demos-heading">"Demos"</h3>
                {running}
            </section>
        </div>
    }
}

fn outcome_word(outcome: RecordOutcome) -> &'static str {
    match outcome {
        RecordOutcome::Created => "created",
        RecordOutcome::Updated => "updated",
        RecordOutcome::Failed => "failed",
        _ => "synced",
    }
}

#[component]
pub fn DemoDashboardPage() -> impl IntoView {
    crate::components::page_title("Demo dashboard");
    let tenant = use_tenant();
    let session = use_session();
    let dashboard = RwSignal::new(None::<DemoDashboard>);
    let load_error = RwSignal::new(None::<ApiFailure>);
    // Set while the demo is being reset: its tenant is about to go, so stop reading it.
    let resetting = RwSignal::new(false);
    let load = move || {
        if resetting.try_get_untracked().unwrap_or(true) {
            return;
        }
        let id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::demo::dashboard(id).await {
                Ok(read) => {
                    let _ = dashboard.try_set(Some(read));
                    let _ = load_error.try_set(None);
                }
                Err(failure) => {
                    let _ = load_error.try_set(Some(failure));
                }
            }
        });
    };
    Effect::new(move |_| {
        tenant.id.track();
        dashboard.set(None);
        resetting.set(false);
        load();
    });
    // Records keep moving: read again every two seconds while the page is open.
    if let Ok(handle) = set_interval_with_handle(load, std::time::Duration::from_secs(2)) {
        on_cleanup(move || handle.clear());
    }
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let navigate = use_navigate();

    let totals = move || {
        dashboard.with(|d| {
            d.as_ref().map(|d| {
                let sum =
                    |f: fn(&tandem_shared::api::demo::DemoPipeline) -> i64| d.pipelines.iter().map(f).sum::<i64>();
                (sum(|p| p.created), sum(|p| p.updated), d.open_failed)
            })
        })
    };
    let body = move || {
        let Some(d) = dashboard.get() else {
            return match load_error.get() {
                Some(failure) => view! { <ErrorBanner title="Could not load the demo" failure=failure /> }.into_any(),
                None => view! { <Loading label="Loading the demo…" /> }.into_any(),
            };
        };
        let (created, updated, failed) = totals().unwrap_or_default();
        let tenant_id = d.tenant.id;
        view! {
            <div class="stat-row" data-testid="demo-totals">
                <div class="card stat">
                    <p class="stat-value" data-testid="demo-created">{created}</p>
                    <p class="muted">"records created"</p>
                </div>
                <div class="card stat">
                    <p class="stat-value" data-testid="demo-updated">{updated}</p>
                    <p class="muted">"records updated"</p>
                </div>
                <div class="card stat">
                    <p class="stat-value" data-testid="demo-failed">{failed}</p>
                    <p class="muted">
                        <a href=format!("/t/{tenant_id}/failed-records") data-testid="demo-failed-link">
                            "failed records waiting"
                        </a>
                    </p>
                </div>
            </div>
            <p class="small" data-testid="demo-activity">
                {if d.activity_running {
                    format!(
                        "Records change in the app, HubSpot and Salesforce every {} seconds, until {}.",
                        d.tick_seconds,
                        d.activity_until.format("%H:%M UTC"),
                    )
                } else {
                    "The demo's activity has stopped (demos go quiet after two hours): reset it to start again.".to_string()
                }}
            </p>
            <section class="card" aria-labelledby="demo-pipelines-heading">
                <h3 id="demo-pipelines-heading">"Pipelines"</h3>
                <div class="table-wrap">
                    <table data-testid="demo-pipelines">
                        <thead>
                            <tr>
                                <th scope="col">"Pipeline"</th>
                                <th scope="col">"Records"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Updated"</th>
                                <th scope="col">"Failed"</th>
                                <th scope="col">"Runs"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {d
                                .pipelines
                                .iter()
                                .map(|p| {
                                    let way = match p.direction {
                                        SyncDirection::OneWay => "→",
                                        SyncDirection::TwoWay => "⇄",
                                    };
                                    view! {
                                        <tr data-testid="demo-pipeline">
                                            <td>
                                                <a href=format!("/t/{tenant_id}/pipelines/{}", p.id)>{p.name.clone()}</a>
                                                <span class="muted small">{format!(" app {way} {}", p.crm)}</span>
                                            </td>
                                            <td>{object_label(p.object)}</td>
                                            <td>{p.created}</td>
                                            <td>{p.updated}</td>
                                            <td>{p.failed}</td>
                                            <td>{p.runs}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
            <section class="card" aria-labelledby="demo-recent-heading">
                <h3 id="demo-recent-heading">"Records flowing now"</h3>
                {if d.recent.is_empty() {
                    view! { <EmptyState message="The first runs are starting: records appear here within seconds." /> }.into_any()
                } else {
                    let names: Vec<(tandem_shared::ids::PipelineId, String)> =
                        d.pipelines.iter().map(|p| (p.id, p.name.clone())).collect();
                    view! {
                        <ul class="held-list" data-testid="demo-recent" aria-live="polite">
                            {d
                                .recent
                                .iter()
                                .map(|e| {
                                    let pipeline = names
                                        .iter()
                                        .find(|(id, _)| *id == e.pipeline_id)
                                        .map(|(_, n)| n.clone())
                                        .unwrap_or_default();
                                    let class = if e.outcome == RecordOutcome::Failed { "badge danger" } else { "badge neutral" };
                                    view! {
                                        <li data-testid="demo-event">
                                            <span class=class>{outcome_word(e.outcome)}</span>
                                            " "
                                            <code>{e.source_id.clone().unwrap_or_default()}</code>
                                            {e.target_id.clone().map(|t| view! { " → " <code>{t}</code> })}
                                            <span class="muted small">{format!(" · {pipeline} · ")}{relative_time(&e.at, &browser_now())}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </section>
        }
        .into_any()
    };
    view! {
        <div class="page">
            <div>
                <h2>"Demo dashboard " <DemoBadge /></h2>
                <p class="lead">
                    "A demo tenant wired to the sandbox HubSpot and Salesforce. It reaches sandbox CRMs only."
                </p>
            </div>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not reset the demo" failure=failure /> })}
            <Show when=move || may_demo(session.role())>
                <p>
                    <button
                        type="button"
                        class="button secondary"
                        data-testid="reset-demo"
                        disabled=move || busy.get()
                        on:click={
                            let navigate = navigate.clone();
                            move |_| {
                                resetting.set(true);
                                start_demo(busy, error, Some(tenant.id.get_untracked()), Vec::new(), navigate.clone())
                            }
                        }
                    >
                        {move || if busy.get() { "Starting over…" } else { "Reset demo" }}
                    </button>
                </p>
            </Show>
            {body}
        </div>
    }
}
