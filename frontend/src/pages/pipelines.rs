//! `/t/:tenant_id/pipelines`: one environment's pipelines (`?environment=sandbox|production`),
//! each with its status and last run, and a form to create one between the app and a connected
//! CRM with Tandem's suggested mapping. Admins run, pause and resume them; the history of each
//! is on its own page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use tandem_shared::api::connections::Connection;
use tandem_shared::api::pipelines::{
    CreatePipelineRequest, Endpoint, Pipeline, PipelineSettings, PipelineStatus, SyncDirection, UpdatePipelineRequest,
};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::TenantId;
use tandem_shared::model::AppObject;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, EnvironmentSwitch, ErrorBanner, FieldError, FormError, Loading, invalid};

fn page_href(tenant_id: TenantId, environment: EnvironmentKind) -> String {
    format!("/t/{tenant_id}/pipelines?environment={}", environment.as_str())
}

pub fn object_label(object: AppObject) -> &'static str {
    match object {
        AppObject::Contact => "Contacts",
        AppObject::Company => "Companies",
        AppObject::Deal => "Deals",
        AppObject::Appointment => "Appointments",
    }
}

pub fn status_label(status: PipelineStatus) -> &'static str {
    match status {
        PipelineStatus::Active => "Active",
        PipelineStatus::Paused => "Paused",
        PipelineStatus::NeedsReauth => "Needs re-auth",
    }
}

/// `The app`, or the connection's CRM and account.
pub fn endpoint_label(endpoint: &Endpoint, connections: &[Connection]) -> String {
    match endpoint {
        Endpoint::App => "The app".to_string(),
        Endpoint::Connection { connection_id } => connections
            .iter()
            .find(|c| c.id == *connection_id)
            .map(|c| format!("{} ({})", c.provider_name, c.account_name))
            .unwrap_or_else(|| "A removed connection".to_string()),
    }
}

/// `The app → HubSpot (acme.example)`, `⇄` for two-way.
pub fn route_label(pipeline: &Pipeline, connections: &[Connection]) -> String {
    let arrow = match pipeline.direction {
        SyncDirection::OneWay => "→",
        SyncDirection::TwoWay => "⇄",
    };
    format!(
        "{} {arrow} {}",
        endpoint_label(&pipeline.source, connections),
        endpoint_label(&pipeline.target, connections)
    )
}

/// The three ways a pipeline can go between the app and one CRM.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    AppToCrm,
    CrmToApp,
    Both,
}

impl Direction {
    const ALL: [Direction; 3] = [Direction::AppToCrm, Direction::CrmToApp, Direction::Both];

    fn value(self) -> &'static str {
        match self {
            Direction::AppToCrm => "app_to_crm",
            Direction::CrmToApp => "crm_to_app",
            Direction::Both => "two_way",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Direction::AppToCrm => "From the app to the CRM",
            Direction::CrmToApp => "From the CRM to the app",
            Direction::Both => "Both ways",
        }
    }

    fn parse(value: &str) -> Direction {
        Direction::ALL
            .into_iter()
            .find(|w| w.value() == value)
            .unwrap_or(Direction::Both)
    }
}

#[component]
pub fn PipelinesPage() -> impl IntoView {
    crate::components::page_title("Pipelines");
    let tenant = use_tenant();
    let query = use_query_map();
    let environment = Memo::new(move |_| {
        query
            .with(|q| q.get("environment"))
            .and_then(|e| EnvironmentKind::parse(&e))
            .unwrap_or(EnvironmentKind::Sandbox)
    });
    let pipelines = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::sync::pipelines(id).await }
    });
    let connections = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::connections::list(id).await }
    });
    let connection_list = Memo::new(move |_| {
        let id = tenant.id.get();
        let mut list = connections.get().and_then(Result::ok).unwrap_or_default();
        list.retain(|c| c.tenant_id == id);
        list
    });
    let shown = Memo::new(move |_| {
        let (id, kind) = (tenant.id.get(), environment.get());
        pipelines.get().map(|result| {
            result.map(|mut list| {
                list.retain(|p| p.tenant_id == id && p.environment == kind);
                list
            })
        })
    });

    let list = move || match shown.get() {
        None => view! { <Loading label="Loading pipelines…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the pipelines" failure=failure on_retry=move || pipelines.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message=format!(
                "No pipelines in {} yet. {}",
                environment.get().label(),
                if tenant.can_write.get() {
                    "Create one below: pick what to sync, with which CRM and which way."
                } else {
                    "An admin of this tenant can create one."
                },
            ) />
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <div class="pipeline-list" data-testid="pipeline-list">
                {list
                    .into_iter()
                    .map(|pipeline| {
                        view! {
                            <PipelineCard
                                pipeline=pipeline
                                connections=connection_list
                                on_change=Callback::new(move |_| pipelines.refetch())
                            />
                        }
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
    };

    view! {
        <div class="page">
            <div>
                <h2>"Pipelines"</h2>
                <p class="lead">
                    "A pipeline keeps one kind of record in sync between the app and a connected CRM: created where it is missing, updated where it changed, each record's history kept."
                </p>
            </div>
            <div class="env-bar">
                <EnvironmentSwitch
                    current=environment
                    href=Callback::new(move |kind| page_href(tenant.id.get(), kind))
                />
            </div>
            {list}
            <Show when=move || tenant.can_write.get()>
                <NewPipelineForm
                    environment=environment
                    connections=connection_list
                    on_created=Callback::new(move |_| pipelines.refetch())
                />
            </Show>
        </div>
    }
}

#[component]
fn PipelineCard(pipeline: Pipeline, connections: Memo<Vec<Connection>>, on_change: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let id = pipeline.id;
    let status = pipeline.status;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let started = RwSignal::new(false);
    let last_run = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        async move { api::sync::runs(tenant_id, id).await.map(|runs| runs.into_iter().next()) }
    });
    let route = {
        let pipeline = pipeline.clone();
        move || connections.with(|list| route_label(&pipeline, list))
    };
    let set_status = move |to: PipelineStatus| {
        busy.set(true);
        error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            let request = UpdatePipelineRequest {
                status: Some(to),
                ..Default::default()
            };
            match api::sync::update(tenant_id, id, &request).await {
                Ok(_) => on_change.run(()),
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    let run_now = move |_| {
        busy.set(true);
        error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::sync::run_now(tenant_id, id).await {
                Ok(()) => {
                    started.set(true);
                    last_run.refetch();
                }
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    let last = move || {
        last_run.get().map(|result| match result {
            Err(failure) => view! { <span class="muted small">{failure.message()}</span> }.into_any(),
            Ok(None) => view! { <span class="muted small">"No run yet."</span> }.into_any(),
            Ok(Some(run)) => view! {
                <span class="small" data-testid="last-run">
                    {format!(
                        "Last run: {} · {} created, {} updated, {} failed",
                        run.status.as_str(),
                        run.counts.created,
                        run.counts.updated,
                        run.counts.failed,
                    )}
                </span>
            }
            .into_any(),
        })
    };
    let href = format!("/t/{}/pipelines/{id}", tenant.id.get_untracked());
    view! {
        <article class="card pipeline-card" data-testid="pipeline-card" data-status=status.as_str()>
            <div class="pipeline-head">
                <h3>
                    <a href=href.clone() data-testid="pipeline-link">
                        {pipeline.name.clone()}
                    </a>
                </h3>
                <span class=format!("badge status-{}", status.as_str()) data-testid="pipeline-status">
                    {status_label(status)}
                </span>
            </div>
            <p class="pipeline-route">
                <strong>{object_label(pipeline.object)}</strong>
                ": "
                {route}
            </p>
            {pipeline
                .status_reason
                .clone()
                .map(|reason| view! { <p class="banner banner-warning small" data-testid="status-reason">{reason}</p> })}
            <p>{last}</p>
            <Show when=move || started.get()>
                <p class="small" role="status" data-testid="run-started">
                    "Run started. Its progress is in the history."
                </p>
            </Show>
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not do that" failure=failure /> })}
            <div class="form-actions">
                <a class="button secondary small" href=href data-testid="history-link">
                    "History"
                </a>
                <Show when=move || tenant.can_write.get()>
                    <Show when=move || status == PipelineStatus::Active>
                        <button
                            type="button"
                            class="button small"
                            data-testid="run-now"
                            disabled=move || busy.get()
                            on:click=run_now
                        >
                            "Run now"
                        </button>
                        <button
                            type="button"
                            class="button secondary small"
                            data-testid="pause"
                            disabled=move || busy.get()
                            on:click=move |_| set_status(PipelineStatus::Paused)
                        >
                            "Pause"
                        </button>
                    </Show>
                    <Show when=move || status == PipelineStatus::Paused>
                        <button
                            type="button"
                            class="button small"
                            data-testid="resume"
                            disabled=move || busy.get()
                            on:click=move |_| set_status(PipelineStatus::Active)
                        >
                            "Resume"
                        </button>
                    </Show>
                </Show>
            </div>
        </article>
    }
}

#[component]
fn NewPipelineForm(
    environment: Memo<EnvironmentKind>,
    connections: Memo<Vec<Connection>>,
    on_created: Callback<()>,
) -> impl IntoView {
    let tenant = use_tenant();
    let name = RwSignal::new(String::new());
    let object = RwSignal::new(AppObject::Contact);
    let connection = RwSignal::new(String::new());
    let way = RwSignal::new(Direction::Both);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let created = RwSignal::new(None::<String>);
    let usable = Memo::new(move |_| {
        let kind = environment.get();
        connections.with(|list| {
            list.iter()
                .filter(|c| c.environment == kind)
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        error.set(None);
        created.set(None);
        let chosen = connection
            .get_untracked()
            .parse()
            .ok()
            .or_else(|| usable.get_untracked().first().map(|c| c.id));
        let Some(connection_id) = chosen else {
            return;
        };
        let crm = Endpoint::Connection { connection_id };
        let (source, target, direction) = match way.get_untracked() {
            Direction::AppToCrm => (Endpoint::App, crm, SyncDirection::OneWay),
            Direction::CrmToApp => (crm, Endpoint::App, SyncDirection::OneWay),
            Direction::Both => (Endpoint::App, crm, SyncDirection::TwoWay),
        };
        let request = CreatePipelineRequest {
            name: name.get_untracked(),
            environment: environment.get_untracked(),
            object: object.get_untracked(),
            source,
            target,
            direction,
            settings: PipelineSettings::default(),
            forward_mapping: None,
            reverse_mapping: None,
            start_paused: false,
        };
        pending.set(true);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::sync::create(tenant_id, &request).await {
                Ok(pipeline) => {
                    created.set(Some(pipeline.name));
                    name.set(String::new());
                    on_created.run(());
                }
                Err(failure) => error.set(Some(failure)),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="new-pipeline-heading">
            <h3 id="new-pipeline-heading">"New pipeline"</h3>
            <Show
                when=move || !usable.with(Vec::is_empty)
                fallback=move || {
                    view! {
                        <EmptyState message=format!(
                            "Connect a CRM in {} first: a pipeline syncs with a connected CRM.",
                            environment.get().label(),
                        )>
                            <a
                                class="button"
                                href=move || {
                                    format!(
                                        "/t/{}/connections?environment={}",
                                        tenant.id.get(),
                                        environment.get().as_str(),
                                    )
                                }
                            >
                                "Go to connections"
                            </a>
                            " "
                            <a class="button primary" data-testid="start-activation" href=move || format!("/t/{}/activate", tenant.id.get())>
                                "Set it up step by step"
                            </a>
                        </EmptyState>
                    }
                }
            >
                <form class="form" on:submit=submit data-testid="new-pipeline-form">
                    <FormError error=error fields=&["name", "object"] title="Could not create the pipeline" />
                    <div class="grid-form">
                        <div class="field">
                            <label for="pipeline-name">"Name"</label>
                            <input
                                id="pipeline-name"
                                type="text"
                                required
                                maxlength="200"
                                placeholder="Contacts with HubSpot"
                                prop:value=move || name.get()
                                on:input=move |ev| name.set(event_target_value(&ev))
                                aria-invalid=invalid(error, "name")
                            />
                            <FieldError error=error field="name" />
                        </div>
                        <div class="field">
                            <label for="pipeline-object">"Records"</label>
                            <select
                                id="pipeline-object"
                                on:change=move |ev| {
                                    if let Some(o) = AppObject::parse(&event_target_value(&ev)) {
                                        object.set(o);
                                    }
                                }
                            >
                                {AppObject::ALL
                                    .into_iter()
                                    .map(|o| {
                                        view! {
                                            <option value=o.as_str() selected=move || object.get() == o>
                                                {object_label(o)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <FieldError error=error field="object" />
                        </div>
                        <div class="field">
                            <label for="pipeline-connection">"CRM"</label>
                            <select
                                id="pipeline-connection"
                                on:change=move |ev| connection.set(event_target_value(&ev))
                            >
                                {move || {
                                    usable
                                        .get()
                                        .into_iter()
                                        .map(|c| {
                                            let value = c.id.to_string();
                                            let selected_value = value.clone();
                                            view! {
                                                <option
                                                    value=value
                                                    selected=move || connection.get() == selected_value
                                                >
                                                    {format!("{} ({})", c.provider_name, c.account_name)}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </div>
                        <div class="field">
                            <label for="pipeline-direction">"Direction"</label>
                            <select
                                id="pipeline-direction"
                                on:change=move |ev| way.set(Direction::parse(&event_target_value(&ev)))
                            >
                                {Direction::ALL
                                    .into_iter()
                                    .map(|w| {
                                        view! {
                                            <option value=w.value() selected=move || way.get() == w>
                                                {w.label()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                    </div>
                    <p class="hint">
                        "It starts with Tandem's suggested field mapping for this CRM, and its first run starts at once."
                    </p>
                    <div class="form-actions">
                        <button type="submit" class="button" data-testid="create-pipeline" disabled=move || pending.get()>
                            {move || if pending.get() { "Creating…" } else { "Create pipeline" }}
                        </button>
                    </div>
                    {move || {
                        created
                            .get()
                            .map(|name| {
                                view! {
                                    <p class="banner banner-success" role="status" data-testid="pipeline-created">
                                        {format!("{name} created; its first run has started.")}
                                    </p>
                                }
                            })
                    }}
                </form>
            </Show>
        </section>
    }
}
