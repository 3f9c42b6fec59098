//! `/t/:tenant_id/pipelines/:pipeline_id`: one pipeline's sync history. Its runs with their
//! trigger, counts, API calls and duration, newest first; a running one shows its progress
//! (refreshed every two seconds while it runs) and when it will finish; picking a run shows what
//! happened to each record.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tandem_shared::api::runs::{RecordEvent, RecordOutcome, Run, RunStatus};
use tandem_shared::ids::{PipelineId, RunId};
use uuid::Uuid;

use super::pipelines::{object_label, route_label, status_label};
use super::tenant::use_tenant;
use crate::api;
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
    let connections = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        async move { api::connections::list(tenant_id).await }
    });
    let runs = LocalResource::new(move || {
        let (tenant_id, id) = (tenant.id.get(), id.get());
        async move { api::sync::runs(tenant_id, id).await }
    });
    let selected = RwSignal::new(None::<RunId>);
    // A run is under way, or the first one is about to start.
    let running = Memo::new(move |_| {
        runs.get()
            .and_then(Result::ok)
            .is_some_and(|list| list.is_empty() || list.iter().any(|r| r.status == RunStatus::Running))
    });
    // Meanwhile its counts and progress are read again every two seconds.
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if running.get_untracked() {
                runs.refetch();
            }
        },
        Duration::from_secs(2),
    ) {
        on_cleanup(move || handle.clear());
    }

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
                        <p>
                            <strong>{object_label(p.object)}</strong>
                            ": "
                            {route_label(&p, &list)}
                            " · "
                            <span class=format!("badge status-{}", p.status.as_str())>{status_label(p.status)}</span>
                        </p>
                    </div>
                }
                .into_any()
            }
        })
    };

    let table = move || {
        match runs.get() {
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
                                        </div>
                                    }
                                });
                                view! {
                                    <tr data-testid="run-row" data-status=run.status.as_str() aria-selected=move || is_selected().then_some("true")>
                                        <td class="nowrap" title=format_time(&run.started_at)>
                                            {relative_time(&run.started_at, &browser_now())}
                                        </td>
                                        <td>{run.trigger.as_str()}</td>
                                        <td>
                                            <span class=format!("badge run-{}", run.status.as_str())>{run.status.as_str()}</span>
                                            {progress}
                                            {run.error.clone().map(|e| view! { <p class="field-error small">{e}</p> })}
                                        </td>
                                        <td data-testid="count-created">{run.counts.created}</td>
                                        <td>{run.counts.updated}</td>
                                        <td>{run.counts.unchanged}</td>
                                        <td>{run.counts.skipped}</td>
                                        <td data-testid="count-failed">{run.counts.failed}</td>
                                        <td title=format!("{} of them retries", run.retries)>
                                            {run.api_calls}
                                            {(run.retries > 0).then(|| format!(" ({} retries)", run.retries))}
                                        </td>
                                        <td class="nowrap">{duration_label(run.duration_ms)}</td>
                                        <td>
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
            <section class="card" aria-labelledby="runs-heading">
                <h3 id="runs-heading">"Runs"</h3>
                {table}
            </section>
            {move || selected.get().map(|run_id| view! { <RunEvents run_id=run_id /> })}
        </div>
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
                                    <td><code>{event.source_id.unwrap_or_default()}</code></td>
                                    <td><code>{event.target_id.unwrap_or_default()}</code></td>
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
        </section>
    }
}
