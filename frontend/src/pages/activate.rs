//! `/t/:tenant_id/activate`: the activation wizard. Pick a CRM → connect it (its consent page) →
//! choose the records and which way they go → check the suggested mappings (and edit them) →
//! preview them on real records → enable. The pipelines are created paused, so nothing syncs
//! before the last step. Progress is kept in the browser per tenant: leaving (for the CRM's
//! consent page, the mapping editor, or anything else) and coming back resumes where it was.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use tandem_shared::api::connections::{Connection, ConnectionStatus, ProviderInfo, StartConnectRequest};
use tandem_shared::api::mappings::{MappingValidation, PreviewMappingRequest, PreviewResult};
use tandem_shared::api::pipelines::{
    CreatePipelineRequest, Endpoint, Pipeline, PipelineSettings, PipelineStatus, SyncDirection, UpdatePipelineRequest,
};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::{ConnectionId, PipelineId, TenantId};
use tandem_shared::model::AppObject;

use super::connection_credentials::CredentialsForm;
use super::pipelines::object_label;
use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{ErrorBanner, Loading};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Crm,
    Connect,
    Objects,
    Map,
    Preview,
    Enable,
    Done,
}

const STEPS: [(Step, &str); 6] = [
    (Step::Crm, "CRM"),
    (Step::Connect, "Connect"),
    (Step::Objects, "Records"),
    (Step::Map, "Map"),
    (Step::Preview, "Preview"),
    (Step::Enable, "Enable"),
];

/// Where a tenant's activation stands, kept in the browser's local storage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub step: Step,
    pub provider: Option<String>,
    #[serde(default = "sandbox")]
    pub environment: EnvironmentKind,
    pub connection_id: Option<ConnectionId>,
    #[serde(default)]
    pub pipelines: Vec<PipelineId>,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            step: Step::Crm,
            provider: None,
            environment: EnvironmentKind::Sandbox,
            connection_id: None,
            pipelines: Vec::new(),
        }
    }
}

fn sandbox() -> EnvironmentKind {
    EnvironmentKind::Sandbox
}

fn storage_key(tenant_id: TenantId) -> String {
    format!("tandem.activation.{tenant_id}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The tenant's activation in progress, if one was started in this browser.
pub fn saved_progress(tenant_id: TenantId) -> Option<Progress> {
    let text = storage()?.get_item(&storage_key(tenant_id)).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

fn save_progress(tenant_id: TenantId, progress: &Progress) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(progress)) {
        // A browser that refuses storage only loses the ability to resume.
        let _ = storage.set_item(&storage_key(tenant_id), &text);
    }
}

fn forget_progress(tenant_id: TenantId) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&storage_key(tenant_id));
    }
}

/// Which way one kind of record goes, as offered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    AppToCrm,
    CrmToApp,
    Both,
}

impl Way {
    fn parse(s: &str) -> Way {
        match s {
            "app_to_crm" => Way::AppToCrm,
            "crm_to_app" => Way::CrmToApp,
            _ => Way::Both,
        }
    }
}

#[component]
pub fn ActivatePage() -> impl IntoView {
    crate::components::page_title("Activate a CRM");
    let tenant = use_tenant();
    let progress = RwSignal::new(Progress::default());
    // The saved progress of the tenant shown (switching tenants switches it).
    Effect::new(move |_| {
        let id = tenant.id.get();
        progress.set(saved_progress(id).unwrap_or_default());
    });
    let set = Callback::new(move |next: Progress| {
        progress.set(next);
        save_progress(tenant.id.get_untracked(), &progress.get_untracked());
    });

    let catalogue = LocalResource::new(api::connections::catalogue);
    let provider = Memo::new(move |_| {
        let wanted = progress.with(|p| p.provider.clone())?;
        catalogue
            .get()
            .and_then(Result::ok)?
            .into_iter()
            .find(|p| p.id == wanted)
    });

    let stepper = move || {
        let current = progress.with(|p| p.step);
        let position = STEPS.iter().position(|(s, _)| *s == current).unwrap_or(STEPS.len());
        view! {
            <ol class="stepper" data-testid="stepper">
                {STEPS
                    .iter()
                    .enumerate()
                    .map(|(i, (step, label))| {
                        let state = if i < position { "done" } else if i == position { "current" } else { "todo" };
                        view! {
                            <li class=format!("step step-{state}") data-step=format!("{step:?}").to_lowercase()
                                aria-current=(state == "current").then_some("step")>
                                <span class="step-number">{i + 1}</span>
                                {*label}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
    };

    let body = move || {
        let current = progress.get();
        match current.step {
            Step::Crm => view! { <PickCrm catalogue=catalogue progress=current set=set /> }.into_any(),
            Step::Connect => view! { <ConnectCrm provider=provider progress=current set=set /> }.into_any(),
            Step::Objects => view! { <ChooseObjects provider=provider progress=current set=set /> }.into_any(),
            Step::Map => view! { <CheckMappings progress=current set=set /> }.into_any(),
            Step::Preview => view! { <PreviewMappings progress=current set=set /> }.into_any(),
            Step::Enable | Step::Done => view! { <Enable progress=current set=set /> }.into_any(),
        }
    };

    view! {
        <div class="page activate">
            <div class="page-header">
                <div>
                    <h2>"Activate a CRM"</h2>
                    <p class="muted">
                        "Connect the CRM you use, choose what to keep in sync, check how fields are matched, and switch it on. You can leave at any step and come back: the wizard picks up where you were."
                    </p>
                </div>
            </div>
            {stepper}
            <section class="card wizard-step" data-testid="wizard-step" data-step=move || format!("{:?}", progress.with(|p| p.step)).to_lowercase()>
                {body}
            </section>
            {move || (progress.with(|p| p.step) != Step::Crm && progress.with(|p| p.step) != Step::Done).then(|| view! {
                <p class="small">
                    <button type="button" class="link-button" data-testid="start-over"
                        on:click=move |_| {
                            forget_progress(tenant.id.get_untracked());
                            progress.set(Progress::default());
                        }>
                        "Start over"
                    </button>
                    " (pipelines already created stay, paused, on the Pipelines page)"
                </p>
            })}
        </div>
    }
}

/// Step 1: which CRM, and for which environment.
#[component]
fn PickCrm(
    catalogue: LocalResource<Result<Vec<ProviderInfo>, ApiFailure>>,
    progress: Progress,
    set: Callback<Progress>,
) -> impl IntoView {
    let environment = RwSignal::new(progress.environment);
    view! {
        <h3>"Which CRM do you use?"</h3>
        <fieldset class="env-choice">
            <legend>"Environment"</legend>
            {EnvironmentKind::ALL.into_iter().map(|kind| view! {
                <label class="checkbox">
                    <input type="radio" name="activation-environment" value=kind.as_str()
                        prop:checked=move || environment.get() == kind
                        on:change=move |_| environment.set(kind) />
                    " " {kind.label()}
                    {(kind == EnvironmentKind::Sandbox).then_some(" (try it out first)")}
                </label>
            }).collect_view()}
        </fieldset>
        {move || match catalogue.get() {
            None => view! { <Loading label="Loading the CRMs…" /> }.into_any(),
            Some(Err(failure)) => view! {
                <ErrorBanner title="Could not load the CRMs" failure=failure on_retry=move || catalogue.refetch() />
            }.into_any(),
            Some(Ok(list)) => view! {
                <div class="provider-grid">
                    {list.into_iter().map(|p| {
                        let id = p.id.clone();
                        let available = p.available;
                        view! {
                            <button type="button" class="card provider-choice" data-testid="pick-crm" data-provider=p.id.clone()
                                disabled=!available
                                on:click=move |_| {
                                    set.run(Progress {
                                        step: Step::Connect,
                                        provider: Some(id.clone()),
                                        environment: environment.get_untracked(),
                                        ..Progress::default()
                                    });
                                }>
                                <strong>{p.name.clone()}</strong>
                                <span class="small muted">
                                    {if available { p.objects.join(", ") } else { "coming soon".to_string() }}
                                </span>
                            </button>
                        }
                    }).collect_view()}
                </div>
            }.into_any(),
        }}
    }
}

/// Step 2: an existing healthy connection, or the CRM's consent page (which comes back here).
#[component]
fn ConnectCrm(provider: Memo<Option<ProviderInfo>>, progress: Progress, set: Callback<Progress>) -> impl IntoView {
    let tenant = use_tenant();
    let connections = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::connections::list(id).await }
    });
    let wanted = progress.provider.clone().unwrap_or_default();
    let environment = progress.environment;
    let found = Memo::new(move |_| {
        connections
            .get()
            .and_then(Result::ok)
            .and_then(|list: Vec<Connection>| {
                list.into_iter().find(|c| {
                    c.provider == wanted && c.environment == environment && c.status == ConnectionStatus::Healthy
                })
            })
    });
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFailure>);
    let name = move || provider.get().map(|p| p.name).unwrap_or_else(|| "the CRM".into());
    let connect = {
        let progress = progress.clone();
        move |_| {
            let Some(provider) = progress.provider.clone() else {
                return;
            };
            busy.set(true);
            failure.set(None);
            let tenant_id = tenant.id.get_untracked();
            let request = StartConnectRequest { provider, environment };
            spawn_local(async move {
                let redirect = api::connections::authorize(tenant_id, &request).await;
                // On success the browser is leaving for the consent page and comes back here.
                if let Err(error) = redirect.and_then(|r| api::connections::go_to(&r.authorize_url)) {
                    let _ = failure.try_set(Some(error));
                    let _ = busy.try_set(false);
                }
            });
        }
    };
    let back = {
        let progress = progress.clone();
        move |_| {
            set.run(Progress {
                step: Step::Crm,
                ..progress.clone()
            })
        }
    };
    view! {
        <h3>{move || format!("Connect {} ({})", name(), environment.label())}</h3>
        {move || match (connections.get(), found.get()) {
            (None, _) => view! { <Loading label="Looking for a connection…" /> }.into_any(),
            (Some(Err(error)), _) => view! {
                <ErrorBanner title="Could not load the connections" failure=error on_retry=move || connections.refetch() />
            }.into_any(),
            (Some(Ok(_)), Some(connection)) => {
                let progress = progress.clone();
                let id = connection.id;
                view! {
                    <p data-testid="connected-account">
                        "Connected to " <strong>{connection.account_name.clone()}</strong>
                        {connection.account_user.clone().map(|u| format!(" as {u}"))}
                        "."
                    </p>
                    <div class="form-actions">
                        <button type="button" class="button primary" data-testid="wizard-next"
                            on:click=move |_| set.run(Progress { step: Step::Objects, connection_id: Some(id), ..progress.clone() })>
                            "Continue"
                        </button>
                    </div>
                }.into_any()
            }
            (Some(Ok(_)), None) => view! {
                <p>
                    {move || format!("You will be sent to {}'s own page to allow Tandem access, then brought back here.", name())}
                </p>
                <div class="form-actions">
                    <button type="button" class="button primary" data-testid="wizard-connect" disabled=move || busy.get() on:click=connect.clone()>
                        {move || if busy.get() { "Opening the consent page…".to_string() } else { format!("Connect {}", name()) }}
                    </button>
                </div>
                {move || provider.get().filter(|p| !p.credential_fields.is_empty()).map(|p| view! {
                    <CredentialsForm
                        provider_id=p.id.clone()
                        provider_name=p.name.clone()
                        environment=environment
                        fields=p.credential_fields.clone()
                        connected=Signal::derive(|| false)
                        on_connected=Callback::new(move |()| connections.refetch())
                    />
                })}
            }.into_any(),
        }}
        {move || failure.get().map(|f| view! { <ErrorBanner title="Could not start connecting" failure=f /> })}
        <p><button type="button" class="link-button" data-testid="wizard-back" on:click=back>"← Another CRM"</button></p>
    }
}

/// Step 3: which records, which way; creates one paused pipeline per kind of record.
#[component]
fn ChooseObjects(provider: Memo<Option<ProviderInfo>>, progress: Progress, set: Callback<Progress>) -> impl IntoView {
    let tenant = use_tenant();
    let choices: Vec<(AppObject, RwSignal<bool>, RwSignal<String>)> = AppObject::ALL
        .into_iter()
        .map(|o| {
            (
                o,
                RwSignal::new(o == AppObject::Contact),
                RwSignal::new("both".to_string()),
            )
        })
        .collect();
    let choices = StoredValue::new(choices);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFailure>);
    let problem = RwSignal::new(None::<String>);
    let supported = move |object: AppObject| {
        provider
            .get()
            .is_some_and(|p| p.objects.iter().any(|o| o == object.as_str()))
    };
    let create = {
        let progress = progress.clone();
        move |_| {
            let Some(connection_id) = progress.connection_id else {
                return;
            };
            let crm = provider.get_untracked().map(|p| p.name).unwrap_or_default();
            let wanted: Vec<(AppObject, Way)> = choices.with_value(|c| {
                c.iter()
                    .filter(|(_, on, _)| on.get_untracked())
                    .map(|(o, _, way)| (*o, Way::parse(&way.get_untracked())))
                    .collect()
            });
            if wanted.is_empty() {
                problem.set(Some("Records: choose at least one kind of record to sync".into()));
                return;
            }
            problem.set(None);
            failure.set(None);
            busy.set(true);
            let (tenant_id, environment) = (tenant.id.get_untracked(), progress.environment);
            let progress = progress.clone();
            spawn_local(async move {
                let mut created = progress.pipelines.clone();
                for (object, way) in wanted {
                    let crm_side = Endpoint::Connection { connection_id };
                    let (source, target, direction, arrow) = match way {
                        Way::AppToCrm => (Endpoint::App, crm_side, SyncDirection::OneWay, "to"),
                        Way::CrmToApp => (crm_side, Endpoint::App, SyncDirection::OneWay, "from"),
                        Way::Both => (Endpoint::App, crm_side, SyncDirection::TwoWay, "with"),
                    };
                    let request = CreatePipelineRequest {
                        name: format!("{} {arrow} {crm}", object_label(object)),
                        environment,
                        object,
                        source,
                        target,
                        direction,
                        settings: PipelineSettings::default(),
                        forward_mapping: None,
                        reverse_mapping: None,
                        start_paused: true,
                    };
                    match api::sync::create(tenant_id, &request).await {
                        Ok(pipeline) => created.push(pipeline.id),
                        Err(error) => {
                            let _ = failure.try_set(Some(error));
                            let _ = busy.try_set(false);
                            // What was created is kept: trying again creates only the rest.
                            set.run(Progress {
                                pipelines: created,
                                ..progress
                            });
                            return;
                        }
                    }
                }
                let _ = busy.try_set(false);
                set.run(Progress {
                    step: Step::Map,
                    pipelines: created,
                    ..progress
                });
            });
        }
    };
    let back = {
        let progress = progress.clone();
        move |_| {
            set.run(Progress {
                step: Step::Connect,
                ..progress.clone()
            })
        }
    };
    view! {
        <h3>"What should stay in sync?"</h3>
        <p class="muted">"One pipeline per kind of record. Each starts paused with a suggested mapping you check next."</p>
        <table class="objects-choice">
            <tbody>
                {choices.with_value(|c| c.clone()).into_iter().map(|(object, on, way)| {
                    let id = format!("object-{}", object.as_str());
                    let way_id = format!("way-{}", object.as_str());
                    view! {
                        <tr data-testid="object-choice" data-object=object.as_str()>
                            <td>
                                <label class="checkbox" for=id.clone()>
                                    <input id=id.clone() type="checkbox" prop:checked=move || on.get() disabled=move || !supported(object)
                                        on:change=move |ev| on.set(event_target_checked(&ev)) />
                                    " " {object_label(object)}
                                </label>
                                {move || (!supported(object)).then(|| view! { <span class="small muted">" (not offered by this CRM)"</span> })}
                            </td>
                            <td>
                                <label class="visually-hidden" for=way_id.clone()>{format!("Direction for {}", object_label(object))}</label>
                                <select id=way_id.clone() disabled=move || !on.get() on:change=move |ev| way.set(event_target_value(&ev))>
                                    <option value="both" selected=true>"Both ways"</option>
                                    <option value="app_to_crm">"From the app to the CRM"</option>
                                    <option value="crm_to_app">"From the CRM to the app"</option>
                                </select>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        {move || failure.get().map(|f| view! { <ErrorBanner title="Could not create the pipelines" failure=f /> })}
        <div class="form-actions">
            <button type="button" class="button primary" data-testid="wizard-create" disabled=move || busy.get() on:click=create>
                {move || if busy.get() { "Creating…" } else { "Create paused pipelines" }}
            </button>
            <button type="button" class="button secondary" on:click=back>"Back"</button>
        </div>
    }
}

/// The wizard's pipelines, in the order it created them: one call for the tenant's list.
fn wizard_pipelines(
    tenant_id: Memo<TenantId>,
    ids: Vec<PipelineId>,
) -> LocalResource<Result<Vec<Pipeline>, ApiFailure>> {
    LocalResource::new(move || {
        let (tenant_id, ids) = (tenant_id.get(), ids.clone());
        async move {
            let all = api::sync::pipelines(tenant_id).await?;
            Ok(ids
                .iter()
                .filter_map(|id| all.iter().find(|p| p.id == *id).cloned())
                .collect())
        }
    })
}

/// A step about each of the wizard's pipelines (checking mappings, previewing them): the list,
/// each drawn by `each`, and the way on and back.
#[component]
fn PipelineStep(
    progress: Progress,
    set: Callback<Progress>,
    #[prop(into)] title: String,
    #[prop(into)] explanation: String,
    #[prop(into)] loading: String,
    back: Step,
    next: Step,
    #[prop(into)] next_label: String,
    each: fn(Pipeline) -> AnyView,
) -> impl IntoView {
    let tenant = use_tenant();
    let pipelines = wizard_pipelines(tenant.id, progress.pipelines.clone());
    let go = move |step: Step| {
        let progress = progress.clone();
        move |_| {
            set.run(Progress {
                step,
                ..progress.clone()
            })
        }
    };
    view! {
        <h3>{title}</h3>
        <p class="muted">{explanation}</p>
        {move || match pipelines.get() {
            None => view! { <Loading label=loading.clone() /> }.into_any(),
            Some(Err(failure)) => view! {
                <ErrorBanner title="Could not load the pipelines" failure=failure on_retry=move || pipelines.refetch() />
            }.into_any(),
            Some(Ok(list)) => view! { <ul class="wizard-list">{list.into_iter().map(each).collect_view()}</ul> }.into_any(),
        }}
        <div class="form-actions">
            <button type="button" class="button primary" data-testid="wizard-next" on:click=go(next)>{next_label}</button>
            <button type="button" class="button secondary" on:click=go(back)>"Back"</button>
        </div>
    }
}

/// Step 4: each suggested mapping checked against the CRM's live fields, with a way to edit it.
#[component]
fn CheckMappings(progress: Progress, set: Callback<Progress>) -> impl IntoView {
    view! {
        <PipelineStep
            progress=progress
            set=set
            title="Check how fields are matched"
            explanation="Tandem suggests a mapping for each pipeline, checked here against the CRM's own fields. Edit any of them; this wizard waits for you."
            loading="Checking the mappings…"
            back=Step::Objects
            next=Step::Preview
            next_label="Continue to the preview"
            each=|p| view! { <MappingCheck pipeline=p /> }.into_any()
        />
    }
}

#[component]
fn MappingCheck(pipeline: Pipeline) -> impl IntoView {
    let tenant = use_tenant();
    let flows: Vec<(&'static str, Option<tandem_shared::api::pipelines::MappingVersion>)> = vec![
        ("forward", pipeline.forward_mapping.clone()),
        ("reverse", pipeline.reverse_mapping.clone()),
    ];
    let id = pipeline.id;
    let checks = flows
        .into_iter()
        .filter_map(|(flow, version)| version.map(|v| (flow, v)))
        .map(|(flow, version)| {
            let check = LocalResource::new(move || {
                let (tenant_id, config) = (tenant.id.get(), version.config.clone());
                async move { api::sync::validate_mapping(tenant_id, id, flow, &config).await }
            });
            let label = if flow == "forward" { "Mapping" } else { "Mapping back" };
            let href = format!("/t/{}/pipelines/{id}/mapping/{flow}", pipeline.tenant_id);
            view! {
                <p class="mapping-check-line" data-testid="mapping-check-line" data-flow=flow>
                    {label} ": "
                    {move || match check.get() {
                        None => view! { <span class="muted">"checking…"</span> }.into_any(),
                        Some(Err(f)) => view! { <span class="field-error">{f.message()}</span> }.into_any(),
                        Some(Ok(MappingValidation { valid: true, .. })) => view! {
                            <span class="badge status-active" data-testid="mapping-ok">"No problems found"</span>
                        }.into_any(),
                        Some(Ok(v)) => view! {
                            <span class="badge status-paused" data-testid="mapping-problems">{format!("{} problems: fix them in the editor", v.errors.len())}</span>
                        }.into_any(),
                    }}
                    " "
                    <a href=href data-testid="edit-mapping">"Edit"</a>
                </p>
            }
        })
        .collect_view();
    view! {
        <li class="wizard-item" data-testid="wizard-pipeline">
            <strong>{pipeline.name.clone()}</strong>
            {checks}
        </li>
    }
}

/// Step 5: each pipeline's mapping applied to a real recent record.
#[component]
fn PreviewMappings(progress: Progress, set: Callback<Progress>) -> impl IntoView {
    view! {
        <PipelineStep
            progress=progress
            set=set
            title="Preview on real records"
            explanation="Each pipeline's mapping applied to the most recently changed record it would read. Nothing is written yet."
            loading="Loading the pipelines…"
            back=Step::Map
            next=Step::Enable
            next_label="Continue"
            each=|p| view! { <RecordPreview pipeline=p /> }.into_any()
        />
    }
}

#[component]
fn RecordPreview(pipeline: Pipeline) -> impl IntoView {
    let tenant = use_tenant();
    let id = pipeline.id;
    let config = pipeline.forward_mapping.clone().map(|v| v.config);
    let preview = LocalResource::new(move || {
        let (tenant_id, config) = (tenant.id.get(), config.clone());
        async move {
            match config {
                Some(config) => Some(
                    api::sync::preview_mapping(
                        tenant_id,
                        id,
                        "forward",
                        &PreviewMappingRequest {
                            config,
                            record_id: None,
                        },
                    )
                    .await,
                ),
                None => None,
            }
        }
    });
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    view! {
        <li class="wizard-preview" data-testid="wizard-preview">
            <h4>{pipeline.name.clone()}</h4>
            {move || match preview.get() {
                None => view! { <Loading label="Previewing…" /> }.into_any(),
                Some(None) => view! { <p class="muted">"This pipeline has no mapping to preview."</p> }.into_any(),
                Some(Some(Err(failure))) => view! {
                    <p class="muted" data-testid="preview-unavailable">
                        {format!("No preview: {}. It syncs once there are records.", failure.message())}
                    </p>
                }.into_any(),
                Some(Some(Ok(PreviewResult { source, target, errors }))) => view! {
                    <div class="preview-pair">
                        <div><h5>"Before"</h5><pre data-testid="preview-before">{pretty(&source)}</pre></div>
                        <div>
                            <h5>"After"</h5>
                            {match target {
                                Some(target) => view! { <pre data-testid="preview-after">{pretty(&target)}</pre> }.into_any(),
                                None => view! {
                                    <ul data-testid="preview-errors">
                                        {errors.into_iter().map(|e| view! { <li class="field-error">{e.message}</li> }).collect_view()}
                                    </ul>
                                }.into_any(),
                            }}
                        </div>
                    </div>
                }.into_any(),
            }}
        </li>
    }
}

/// Step 6: resume every pipeline (each starts its first run); then where to watch them.
#[component]
fn Enable(progress: Progress, set: Callback<Progress>) -> impl IntoView {
    let tenant = use_tenant();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFailure>);
    let done = progress.step == Step::Done;
    let ids = progress.pipelines.clone();
    let enable = {
        let progress = progress.clone();
        move |_| {
            busy.set(true);
            failure.set(None);
            let (tenant_id, ids, progress) = (tenant.id.get_untracked(), ids.clone(), progress.clone());
            spawn_local(async move {
                for id in ids {
                    let request = UpdatePipelineRequest {
                        status: Some(PipelineStatus::Active),
                        ..UpdatePipelineRequest::default()
                    };
                    if let Err(error) = api::sync::update(tenant_id, id, &request).await {
                        let _ = failure.try_set(Some(error));
                        let _ = busy.try_set(false);
                        return;
                    }
                }
                let _ = busy.try_set(false);
                set.run(Progress {
                    step: Step::Done,
                    ..progress
                });
            });
        }
    };
    let back = {
        let progress = progress.clone();
        move |_| {
            set.run(Progress {
                step: Step::Preview,
                ..progress.clone()
            })
        }
    };
    let pipelines = wizard_pipelines(tenant.id, progress.pipelines.clone());
    let links = move || {
        pipelines.get().and_then(Result::ok).map(|list| {
            list.into_iter()
                .map(|p| {
                    view! {
                        <li>
                            <a href=format!("/t/{}/pipelines/{}", p.tenant_id, p.id) data-testid="enabled-pipeline">{p.name.clone()}</a>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    if done {
        view! {
            <h3 data-testid="activation-done">"Syncing"</h3>
            <p>"Your pipelines are on: the first run of each has started. Follow them here:"</p>
            <ul>{links}</ul>
            <p>
                <button type="button" class="button secondary" data-testid="activate-another"
                    on:click=move |_| {
                        forget_progress(tenant.id.get_untracked());
                        set.run(Progress::default());
                    }>
                    "Activate another CRM"
                </button>
            </p>
        }
        .into_any()
    } else {
        view! {
            <h3>"Switch it on"</h3>
            <p>"These pipelines start syncing as soon as you enable them:"</p>
            <ul>{links}</ul>
            {move || failure.get().map(|f| view! { <ErrorBanner title="Could not enable every pipeline" failure=f /> })}
            <div class="form-actions">
                <button type="button" class="button primary" data-testid="wizard-enable" disabled=move || busy.get() || !tenant.can_write.get() on:click=enable>
                    {move || if busy.get() { "Enabling…" } else { "Enable sync" }}
                </button>
                <button type="button" class="button secondary" on:click=back>"Back"</button>
            </div>
        }
        .into_any()
    }
}
