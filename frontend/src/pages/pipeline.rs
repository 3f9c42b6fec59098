//! `/t/:tenant_id/pipelines/:pipeline_id`: one pipeline's sync history. Its runs with their
//! trigger, counts, API calls and duration, newest first; a running one shows its progress and
//! when it will finish, kept current by server-sent events; picking a run shows what happened to
//! each record.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use send_wrapper::SendWrapper;
use tandem_shared::api::runs::{
    Conflict, DailyCounts, DecideHeldDeletesRequest, HeldDelete, HeldDeleteStatus, RecordEvent, RecordOutcome, Run,
    RunStatus,
};
use tandem_shared::ids::{HeldDeleteId, PipelineId, RunId};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::duplicate_candidates::DuplicateCandidates;
use super::pipeline_settings::PipelineSettingsForm;
use super::pipelines::{endpoint_label, object_label, route_label, status_label};
use super::reconciliation::{self, LastReconciliation};
use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, ErrorBanner, Loading, browser_now, format_time, relative_time};

fn duration_label(ms: Option<i64>) -> String {
    match ms {
        None => "—".to_string(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        Some(ms) => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1_000),
    }
}

fn outcome_label(outcome: RecordOutcome) -> &'static str {
    match outcome {
        RecordOutcome::Created => "created",
        RecordOutcome::Updated => "updated",
        RecordOutcome::Deleted => "deleted",
        RecordOutcome::Skipped => "skipped",
        RecordOutcome::Failed => "failed",
        RecordOutcome::Conflict => "conflict",
        RecordOutcome::Held => "held",
        RecordOutcome::Matched => "matched",
        RecordOutcome::PossibleDuplicate => "possible duplicate",
    }
}

/// `120 of 400 records · finishes in 25 minutes`
fn progress_label(run: &Run) -> String {
    let done = run.progress.done;
    let mut text = match run.progress.total {
        Some(total) => format!("{done} of {total} records"),
        None => format!("{done} records so far"),
    };
    if let Some(at) = run.progress.estimated_finish_at {
        text.push_str(&format!(" · finishes {}", relative_time(&at, &browser_now())));
    }
    text
}

/// `Waiting for the daily API quota: goes on at 2026-12-03 00:00 UTC (in 6 hours).`
fn waiting_label(until: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "Waiting for the daily API quota: goes on at {} ({}).",
        format_time(until),
        relative_time(until, &browser_now())
    )
}

#[component]
pub fn PipelinePage() -> impl IntoView {
    crate::components::page_title("Sync history");
    let tenant = use_tenant();
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("pipeline_id"))
            .and_then(|raw| raw.parse::<PipelineId>().ok())
            .unwrap_or(PipelineId(Uuid::nil()))
    });
    let pipeline = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), id.get());
        async move { api::sync::pipeline(tenant_id, id).await }
    });
    // The settings form starts from the pipeline as first loaded: a run ending refetches the
    // header (its status), which must not reset what someone is typing.
    let form_source = RwSignal::new(None::<tandem_shared::api::pipelines::Pipeline>);
    Effect::new(move |_| {
        if let Some(Ok(loaded)) = pipeline.get()
            && form_source.with_untracked(|p| p.as_ref().is_none_or(|p| p.id != loaded.id))
        {
            form_source.set(Some(loaded));
        }
    });
    // Where the pipeline's connections are, for links to their page.
    let environment_of = Memo::new(move |_| {
        pipeline
            .get()
            .and_then(Result::ok)
            .map_or(tandem_shared::api::tenants::EnvironmentKind::Sandbox, |p| p.environment)
    });
    let connections = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        async move { api::connections::list(tenant_id).await }
    });
    let runs = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), id.get());
        async move { api::sync::runs(tenant_id, id).await }
    });
    // `?run=` (from support search, say) opens that run's details.
    let query = use_query_map();
    let selected = RwSignal::new(
        query
            .with_untracked(|q| q.get("run"))
            .and_then(|r| r.parse::<RunId>().ok()),
    );
    let daily = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), id.get());
        async move { api::sync::daily(tenant_id, id).await }
    });
    // The server sends the runs again whenever one starts, moves on or ends (server-sent
    // events): counts and progress bars stay current without reloading.
    let live = RwSignal::new(None::<Vec<Run>>);
    Effect::new(move |_| {
        live.set(None);
        let url = format!(
            "{}/tenants/{}/pipelines/{}/runs/stream",
            api::API,
            tenant.id.get(),
            id.get()
        );
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_runs = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(runs) = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<Vec<Run>>(&text).ok())
            {
                live.set(Some(runs));
            }
        });
        if source
            .add_event_listener_with_callback("runs", on_runs.as_ref().unchecked_ref())
            .is_err()
        {
            source.close();
            return;
        }
        let open = SendWrapper::new((source, on_runs));
        on_cleanup(move || {
            let (source, _listener) = open.take();
            source.close();
        });
    });
    // A run that ends may have paused the pipeline (too many failures): read its status again.
    let finished = Memo::new(move |_| {
        live.with(|runs| {
            runs.as_ref()
                .map_or(0, |list| list.iter().filter(|r| r.status != RunStatus::Running).count())
        })
    });
    Effect::new(move |previous: Option<usize>| {
        let now = finished.get();
        if previous.is_some_and(|before| before != now) {
            pipeline.refetch();
            daily.refetch();
        }
        now
    });
    let current = Memo::new(move |_| match live.get() {
        Some(list) => Some(Ok(list)),
        None => runs.get(),
    });

    let sides = Signal::derive(move || {
        let list = connections.get().and_then(Result::ok).unwrap_or_default();
        pipeline.get().and_then(Result::ok).map_or_else(
            || ("The source".to_string(), "the target".to_string()),
            |p| (endpoint_label(&p.source, &list), endpoint_label(&p.target, &list)),
        )
    });
    let header = move || {
        pipeline.get().map(|result| match result {
            Err(failure) => view! {
                <ErrorBanner title="Could not load the pipeline" failure=failure on_retry=move || pipeline.refetch() />
            }
            .into_any(),
            Ok(p) => {
                let list = connections.get().and_then(Result::ok).unwrap_or_default();
                view! {
                    <div>
                        <p class="eyebrow">
                            <a href=format!("/t/{}/pipelines?environment={}", tenant.id.get(), p.environment.as_str())>
                                "Pipelines"
                            </a>
                            " / "
                            {p.environment.label()}
                        </p>
                        <h2 data-testid="pipeline-name">{p.name.clone()}</h2>
                        <p class="button-row">
                            <a class="button secondary small" data-testid="edit-mapping" href=format!("/t/{}/pipelines/{}/mapping/forward", p.tenant_id, p.id)>
                                "Edit mapping"
                            </a>
                            {p.reverse_mapping.is_some().then(|| view! {
                                <a class="button secondary small" data-testid="edit-reverse-mapping" href=format!("/t/{}/pipelines/{}/mapping/reverse", p.tenant_id, p.id)>
                                    "Edit mapping back"
                                </a>
                            })}
                        </p>
                        <p>
                            <strong>{object_label(p.object)}</strong>
                            ": "
                            {route_label(&p, &list)}
                            " · "
                            <span class=format!("badge status-{}", p.status.as_str()) data-testid="pipeline-header-status">
                                {status_label(p.status)}
                            </span>
                        </p>
                        {p.last_reconciliation.clone().map(|last| view! { <LastReconciliation last=last /> })}
                        {reads_a_crm(&p).then(|| view! { <ReconcileNow pipeline_id=p.id /> })}
                    </div>
                }
                .into_any()
            }
        })
    };

    let table = move || {
        match current.get() {
        None => view! { <Loading label="Loading runs…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the runs" failure=failure on_retry=move || runs.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message="No runs yet: the first one starts as soon as the pipeline is created, and shows here." />
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <div class="table-wrap">
                <table class="runs-table" data-testid="runs-table">
                    <thead>
                        <tr>
                            <th scope="col">"Started"</th>
                            <th scope="col">"Trigger"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"Updated"</th>
                            <th scope="col">"Unchanged"</th>
                            <th scope="col">"Skipped"</th>
                            <th scope="col">"Failed"</th>
                            <th scope="col">"API calls"</th>
                            <th scope="col">"Duration"</th>
                            <th scope="col"><span class="visually-hidden">"Details"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|run| {
                                let run_id = run.id;
                                let is_selected = move || selected.get() == Some(run_id);
                                let progress = (run.status == RunStatus::Running).then(|| {
                                    let percent = run
                                        .progress
                                        .total
                                        .filter(|t| *t > 0)
                                        .map(|t| (run.progress.done * 100 / t).min(100));
                                    view! {
                                        <div class="progress" data-testid="run-progress">
                                            {percent
                                                .map(|p| {
                                                    view! {
                                                        <progress max="100" value=p.to_string()>
                                                            {format!("{p} %")}
                                                        </progress>
                                                    }
                                                })}
                                            <span class="small">{progress_label(&run)}</span>
                                            {run
                                                .progress
                                                .waiting_until
                                                .map(|until| {
                                                    view! {
                                                        <p class="small muted" data-testid="run-waiting">
                                                            {waiting_label(&until)}
                                                            " "
                                                            <a
                                                                data-testid="run-waiting-limits"
                                                                href=format!(
                                                                    "/t/{}/connections?environment={}",
                                                                    tenant.id.get_untracked(),
                                                                    environment_of.get_untracked().as_str(),
                                                                )
                                                            >
                                                                "Change the connection's limits"
                                                            </a>
                                                        </p>
                                                    }
                                                })}
                                        </div>
                                    }
                                });
                                view! {
                                    <tr data-testid="run-row" data-status=run.status.as_str() aria-selected=move || is_selected().then_some("true")>
                                        <td class="nowrap" data-label="Started" title=format_time(&run.started_at)>
                                            {relative_time(&run.started_at, &browser_now())}
                                        </td>
                                        <td data-label="Trigger">{run.trigger.as_str()}</td>
                                        <td class="run-status-cell" data-label="Status">
                                            <span class=format!("badge run-{}", run.status.as_str())>{run.status.as_str()}</span>
                                            {progress}
                                            {run.error.clone().map(|e| view! { <p class="field-error small">{e}</p> })}
                                            {run.reconciliation.as_ref().map(|report| view! {
                                                <p class="small muted" data-testid="run-reconciliation">{reconciliation::sentence(report)}</p>
                                            })}
                                        </td>
                                        <td data-label="Created" data-testid="count-created">{run.counts.created}</td>
                                        <td data-label="Updated">{run.counts.updated}</td>
                                        <td data-label="Unchanged">{run.counts.unchanged}</td>
                                        <td data-label="Skipped">{run.counts.skipped}</td>
                                        <td data-label="Failed" data-testid="count-failed">{run.counts.failed}</td>
                                        <td data-label="API calls" title=format!("{} of them retries", run.retries)>
                                            {run.api_calls}
                                            {(run.retries > 0).then(|| format!(" ({} retries)", run.retries))}
                                        </td>
                                        <td class="nowrap" data-label="Duration">{duration_label(run.duration_ms)}</td>
                                        <td class="run-actions">
                                            <button
                                                type="button"
                                                class="button secondary small"
                                                data-testid="run-details"
                                                on:click=move |_| selected.set(Some(run_id))
                                            >
                                                "Details"
                                            </button>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
    };

    view! {
        <div class="page">
            {header}
            <DailyChart daily=daily />
            <section class="card" aria-labelledby="runs-heading">
                <h3 id="runs-heading">"Runs"</h3>
                {table}
            </section>
            {move || selected.get().map(|run_id| view! { <RunEvents run_id=run_id /> <RunConflicts pipeline_id=id run_id=run_id /> })}
            <HeldDeletes pipeline_id=id />
            <DuplicateCandidates pipeline_id=id sides=sides runs_ended=finished />
            {move || {
                form_source
                    .get()
                    .map(|p| view! { <PipelineSettingsForm pipeline=p on_saved=Callback::new(move |_| pipeline.refetch()) /> })
            }}
        </div>
    }
}

/// Whether a run of the pipeline reads a CRM (what a reconciliation checks).
fn reads_a_crm(p: &tandem_shared::api::pipelines::Pipeline) -> bool {
    use tandem_shared::api::pipelines::{Endpoint, SyncDirection};
    matches!(p.source, Endpoint::Connection { .. })
        || (p.direction == SyncDirection::TwoWay && matches!(p.target, Endpoint::Connection { .. }))
}

/// Starts a reconciliation now, for people who want the proof before the daily one.
#[component]
fn ReconcileNow(pipeline_id: PipelineId) -> impl IntoView {
    let tenant = use_tenant();
    let busy = RwSignal::new(false);
    let started = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let start = move |_| {
        busy.set(true);
        error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::sync::reconcile_now(tenant_id, pipeline_id).await {
                Ok(()) => started.set(true),
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=move || tenant.can_write.get()>
            <p class="button-row">
                <button
                    type="button"
                    class="button secondary small"
                    data-testid="reconcile-now"
                    disabled=move || busy.get()
                    on:click=start
                >
                    "Reconcile now"
                </button>
                <Show when=move || started.get()>
                    <span class="small" role="status" data-testid="reconcile-started">
                        "Reconciliation started: its outcome shows here when it ends."
                    </span>
                </Show>
            </p>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not start it" failure=failure /> })}
        </Show>
    }
}

/// Deletions a run held because there were more than the pipeline allows: approve (applied at
/// once) or reject, all or one by one.
#[component]
fn HeldDeletes(pipeline_id: Memo<PipelineId>) -> impl IntoView {
    let tenant = use_tenant();
    let held = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), pipeline_id.get());
        async move { api::sync::held_deletes(tenant_id, id).await }
    });
    let waiting = Memo::new(move |_| {
        held.get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.status == HeldDeleteStatus::Held)
            .collect::<Vec<HeldDelete>>()
    });
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let decide = move |approve: bool, ids: Option<Vec<HeldDeleteId>>| {
        busy.set(true);
        error.set(None);
        let (tenant_id, id) = (tenant.id.get_untracked(), pipeline_id.get_untracked());
        spawn_local(async move {
            let request = DecideHeldDeletesRequest { approve, ids };
            match api::sync::decide_held_deletes(tenant_id, id, &request).await {
                Ok(_) => held.refetch(),
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=move || !waiting.with(Vec::is_empty)>
            <section class="card" aria-labelledby="held-heading" data-testid="held-deletes">
                <h3 id="held-heading">"Deletions waiting for approval"</h3>
                <p>
                    {move || format!(
                        "{} records were deleted on one side in one go, more than this pipeline deletes without asking. Approve to delete their linked records too, or reject to keep them.",
                        waiting.with(Vec::len),
                    )}
                </p>
                {move || error.get().map(|failure| view! { <ErrorBanner title="Could not decide" failure=failure /> })}
                <Show when=move || tenant.can_write.get()>
                    <div class="form-actions">
                        <button type="button" class="button danger" data-testid="approve-all" disabled=move || busy.get() on:click=move |_| decide(true, None)>
                            "Approve all"
                        </button>
                        <button type="button" class="button secondary" data-testid="reject-all" disabled=move || busy.get() on:click=move |_| decide(false, None)>
                            "Reject all"
                        </button>
                    </div>
                </Show>
                <ul class="held-list">
                    {move || {
                        waiting
                            .get()
                            .into_iter()
                            .map(|h| {
                                let id = h.id;
                                // Each row's buttons say which record they decide, for screen readers.
                                let record = StoredValue::new(h.record_id.clone());
                                let record = move || record.get_value();
                                view! {
                                    <li data-testid="held-delete">
                                        <code>{h.record_id.clone()}</code>
                                        {format!(" deleted in the {}", if h.side.as_str() == "source" { "source" } else { "target" })}
                                        " "
                                        <span class="muted small">{relative_time(&h.at, &browser_now())}</span>
                                        <Show when=move || tenant.can_write.get()>
                                            " "
                                            <button
                                                type="button"
                                                class="button secondary small"
                                                aria-label=move || format!("Approve deleting {}", record())
                                                disabled=move || busy.get()
                                                on:click=move |_| decide(true, Some(vec![id]))
                                            >
                                                "Approve"
                                            </button>
                                            " "
                                            <button
                                                type="button"
                                                class="button secondary small"
                                                aria-label=move || format!("Keep {} (reject its deletion)", record())
                                                disabled=move || busy.get()
                                                on:click=move |_| decide(false, Some(vec![id]))
                                            >
                                                "Reject"
                                            </button>
                                        </Show>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}

/// What happened to each record of one run.
#[component]
fn RunEvents(run_id: RunId) -> impl IntoView {
    let tenant = use_tenant();
    let events = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        async move { api::sync::run_events(tenant_id, run_id).await }
    });
    let body = move || {
        match events.get() {
        None => view! { <Loading label="Loading the run's records…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the run's records" failure=failure on_retry=move || events.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message="Nothing was written in this run: every record read was unchanged." />
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <div class="table-wrap">
                <table data-testid="run-events">
                    <thead>
                        <tr>
                            <th scope="col">"Outcome"</th>
                            <th scope="col">"Source record"</th>
                            <th scope="col">"Target record"</th>
                            <th scope="col">"Detail"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|event: RecordEvent| {
                            let detail = if event.detail.as_object().is_some_and(|d| d.is_empty()) {
                                String::new()
                            } else {
                                event.detail.to_string()
                            };
                            view! {
                                <tr data-testid="run-event" data-outcome=outcome_label(event.outcome)>
                                    <td>
                                        <span class=format!("badge outcome-{}", outcome_label(event.outcome).replace(' ', "-"))>
                                            {outcome_label(event.outcome)}
                                        </span>
                                    </td>
                                    <td>{event.source_id.map(|id| view! { <code>{id}</code> })}</td>
                                    <td>{event.target_id.map(|id| view! { <code>{id}</code> })}</td>
                                    <td class="break small">{detail}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
    };
    view! {
        <section class="card" aria-labelledby="events-heading" data-testid="run-detail">
            <h3 id="events-heading">"Records of the run"</h3>
            {body}
            <RunCallouts run_id=run_id />
        </section>
    }
}

/// The run's calls to the CRM: method, path (never a secret), status, duration and attempt.
#[component]
fn RunCallouts(run_id: RunId) -> impl IntoView {
    let tenant = use_tenant();
    let callouts = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        async move { api::sync::run_callouts(tenant_id, run_id).await }
    });
    let body = move || {
        match callouts.get() {
        None => view! { <Loading label="Loading the run's CRM calls…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the run's CRM calls" failure=failure on_retry=move || callouts.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message="This run made no call to the CRM." />
        }
        .into_any(),
        Some(Ok(list)) => {
            let retries = list.iter().filter(|c| c.attempt > 1).count();
            view! {
                <p class="small" data-testid="callout-summary">
                    {format!("{} calls, {retries} of them retries.", list.len())}
                </p>
                <div class="table-wrap">
                    <table data-testid="run-callouts">
                        <thead>
                            <tr>
                                <th scope="col">"Call"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Attempt"</th>
                                <th scope="col">"Duration"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list
                                .into_iter()
                                .map(|call| {
                                    let status = match (call.status, &call.error_kind) {
                                        (Some(status), _) => status.to_string(),
                                        (None, Some(kind)) => format!("no answer ({kind})"),
                                        (None, None) => "no answer".to_string(),
                                    };
                                    view! {
                                        <tr data-testid="callout">
                                            <td><code class="break">{format!("{} {}", call.method, call.path)}</code></td>
                                            <td>{status}</td>
                                            <td>{call.attempt}</td>
                                            <td class="nowrap">{duration_label(Some(call.duration_ms))}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
    };
    view! {
        <h4>"Calls to the CRM"</h4>
        {body}
    }
}

/// Records synced and failed per day, two weeks back: bars, with the numbers as a table beside.
#[component]
fn DailyChart(daily: LocalResource<Result<Vec<DailyCounts>, ApiFailure>>) -> impl IntoView {
    const HEIGHT: f64 = 120.0;
    const SLOT: f64 = 50.0;
    let chart = move || match daily.get() {
        None => view! { <Loading label="Loading the daily counts…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the daily counts" failure=failure on_retry=move || daily.refetch() />
        }
        .into_any(),
        Some(Ok(days)) => {
            let top = days.iter().map(|d| d.synced.max(d.failed)).max().unwrap_or(0).max(1) as f64;
            let width = SLOT * days.len() as f64;
            let total_synced: i64 = days.iter().map(|d| d.synced).sum();
            let total_failed: i64 = days.iter().map(|d| d.failed).sum();
            let summary = format!(
                "{total_synced} records synced and {total_failed} failed in the last {} days",
                days.len()
            );
            let bars = days
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let x = i as f64 * SLOT;
                    let synced_h = d.synced as f64 / top * HEIGHT;
                    let failed_h = d.failed as f64 / top * HEIGHT;
                    let label = d.day.get(5..).unwrap_or(&d.day).to_string();
                    view! {
                        <g data-testid="daily-bar" data-day=d.day.clone() data-synced=d.synced.to_string() data-failed=d.failed.to_string()>
                            <title>{format!("{}: {} synced, {} failed, {} runs", d.day, d.synced, d.failed, d.runs)}</title>
                            <rect class="bar-synced" x=format!("{}", x + 8.0) y=format!("{}", HEIGHT - synced_h) width="16" height=format!("{synced_h}") />
                            <rect class="bar-failed" x=format!("{}", x + 26.0) y=format!("{}", HEIGHT - failed_h) width="16" height=format!("{failed_h}") />
                            <text x=format!("{}", x + SLOT / 2.0) y=format!("{}", HEIGHT + 16.0) text-anchor="middle">{label}</text>
                        </g>
                    }
                })
                .collect_view();
            let rows = days
                .iter()
                .map(|d| view! { <tr><td>{d.day.clone()}</td><td>{d.synced}</td><td>{d.failed}</td><td>{d.runs}</td></tr> })
                .collect_view();
            view! {
                <figure class="daily-chart" data-testid="daily-chart">
                    <svg viewBox=format!("0 0 {width} {}", HEIGHT + 24.0) role="img" aria-label=summary.clone()>
                        {bars}
                    </svg>
                    <figcaption class="small">
                        <span class="legend legend-synced">"synced"</span>
                        <span class="legend legend-failed">"failed"</span>
                        " · " {summary}
                    </figcaption>
                    <details>
                        <summary class="small">"As a table"</summary>
                        <table class="small">
                            <thead><tr><th scope="col">"Day (UTC)"</th><th scope="col">"Synced"</th><th scope="col">"Failed"</th><th scope="col">"Runs"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </details>
                </figure>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="daily-heading">
            <h3 id="daily-heading">"Records per day"</h3>
            {chart}
        </section>
    }
}

/// The fields both sides had changed in a run, and which side the policy let win.
#[component]
fn RunConflicts(pipeline_id: Memo<PipelineId>, run_id: RunId) -> impl IntoView {
    let tenant = use_tenant();
    let conflicts = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), pipeline_id.get());
        async move { api::sync::conflicts(tenant_id, id).await }
    });
    let body = move || match conflicts.get() {
        None => view! { <Loading label="Loading conflicts…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the conflicts" failure=failure on_retry=move || conflicts.refetch() />
        }
        .into_any(),
        Some(Ok(list)) => {
            let of_run: Vec<Conflict> = list.into_iter().filter(|c| c.run_id == run_id).collect();
            if of_run.is_empty() {
                return view! {
                    <p class="muted" data-testid="no-conflicts">"No conflicts in this run: no field had changed on both sides."</p>
                }
                .into_any();
            }
            let rows = of_run
                .into_iter()
                .flat_map(|c| {
                    let records = format!("{} ⇄ {}", c.source_id, c.target_id);
                    let policy = c.policy.clone();
                    c.fields.into_iter().map(move |f| {
                        view! {
                            <tr data-testid="conflict-row" data-field=f.field.clone()>
                                <td class="small">{records.clone()}</td>
                                <td><code>{f.field.clone()}</code></td>
                                <td>{f.source_value.to_string()}</td>
                                <td>{f.target_value.to_string()}</td>
                                <td>{f.winner.as_str()}</td>
                                <td>{policy.clone()}</td>
                            </tr>
                        }
                    })
                })
                .collect_view();
            view! {
                <div class="table-wrap">
                    <table data-testid="run-conflicts">
                        <thead>
                            <tr>
                                <th scope="col">"Records"</th>
                                <th scope="col">"Field"</th>
                                <th scope="col">"Source value"</th>
                                <th scope="col">"Target value"</th>
                                <th scope="col">"Won"</th>
                                <th scope="col">"Policy"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="conflicts-heading">
            <h3 id="conflicts-heading">"Conflicts"</h3>
            {body}
        </section>
    }
}
