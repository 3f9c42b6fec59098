//! `/t/:tenant_id/environments`: the tenant's sandbox and production environments side by side,
//! and promotion: what moving the sandbox's pipelines to production would change (a diff per
//! pipeline, or why one cannot go yet), applied only as reviewed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::promotion::{PromoteRequest, PromotionAction};
use tandem_shared::api::tenants::{Environment, EnvironmentKind};

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, EnvBadge, ErrorBanner, Loading, format_time};

fn purpose(kind: EnvironmentKind) -> &'static str {
    match kind {
        EnvironmentKind::Sandbox => "Where mappings are built and tested, against sandbox CRMs or CRM test accounts.",
        EnvironmentKind::Production => "Where the tenant's real data flows.",
    }
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    crate::components::page_title("Environments");
    let tenant = use_tenant();
    let environments = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::environments::list(id).await }
    });

    let body = move || {
        match environments.get() {
        None => view! { <Loading label="Loading environments…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner
                title="Could not load environments"
                failure=failure
                on_retry=move || environments.refetch()
            />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message="This tenant has no environments. Every tenant should have a sandbox and a production environment — contact support." />
        }
        .into_any(),
        Some(Ok(mut list)) => {
            list.sort_by_key(|env| env.kind != EnvironmentKind::Sandbox);
            view! {
                <div class="env-grid">
                    {list.into_iter().map(|env| view! { <EnvironmentCard env=env /> }).collect_view()}
                </div>
            }
            .into_any()
        }
    }
    };

    view! {
        <div class="page" data-testid="environments-page">
            <header class="page-header">
                <h2>"Environments"</h2>
                <p class="muted">"Every tenant has a sandbox and a production environment. API keys belong to one of them."</p>
            </header>
            {body}
            <Promotion />
        </div>
    }
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn action_label(action: PromotionAction) -> &'static str {
    match action {
        PromotionAction::Create => "will be created",
        PromotionAction::Update => "will be updated",
        PromotionAction::Unchanged => "already the same",
        PromotionAction::Blocked => "cannot be promoted yet",
    }
}

/// The promotion plan, each pipeline's differences, and the button that applies exactly that.
#[component]
fn Promotion() -> impl IntoView {
    let tenant = use_tenant();
    let plan = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::environments::promotion_plan(id).await }
    });
    let chosen = RwSignal::new(std::collections::BTreeSet::<String>::new());
    // Every pipeline that can go is chosen when the plan arrives.
    Effect::new(move |_| {
        if let Some(Ok(p)) = plan.get() {
            chosen.set(
                p.pipelines
                    .iter()
                    .filter(|x| matches!(x.action, PromotionAction::Create | PromotionAction::Update))
                    .map(|x| x.name.clone())
                    .collect(),
            );
        }
    });
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFailure>);
    let done = RwSignal::new(None::<String>);
    let promote = move |_| {
        let Some(Ok(current)) = plan.get_untracked() else {
            return;
        };
        let request = PromoteRequest {
            fingerprint: current.fingerprint.clone(),
            pipelines: Some(chosen.get_untracked().into_iter().collect()),
        };
        busy.set(true);
        failure.set(None);
        done.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::environments::promote(tenant_id, &request).await {
                Ok(result) => {
                    let _ = done.try_set(Some(format!(
                        "Promoted: {} created and {} updated in production.",
                        result.created.len(),
                        result.updated.len()
                    )));
                    plan.refetch();
                }
                Err(error) => {
                    // A plan that changed since it was read is read again, to be reviewed anew.
                    if error.code() == Some(tandem_shared::ErrorCode::Conflict) {
                        plan.refetch();
                    }
                    let _ = failure.try_set(Some(error));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    let body = move || match plan.get() {
        None => view! { <Loading label="Comparing sandbox and production…" /> }.into_any(),
        Some(Err(error)) => view! {
            <ErrorBanner title="Could not compare the environments" failure=error on_retry=move || plan.refetch() />
        }
        .into_any(),
        Some(Ok(p)) if p.pipelines.is_empty() => view! {
            <EmptyState message="No pipelines in the sandbox yet: build and test one there, then promote it here." />
        }
        .into_any(),
        Some(Ok(p)) => {
            let items = p
                .pipelines
                .into_iter()
                .map(|item| {
                    let name = item.name.clone();
                    let can_go = matches!(item.action, PromotionAction::Create | PromotionAction::Update);
                    let check_id = format!("promote-{}", item.sandbox_pipeline_id);
                    let toggle = {
                        let name = name.clone();
                        move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            chosen.update(|set| {
                                if on {
                                    set.insert(name.clone());
                                } else {
                                    set.remove(&name);
                                }
                            });
                        }
                    };
                    let checked = {
                        let name = name.clone();
                        move || chosen.with(|set| set.contains(&name))
                    };
                    let changes = (!item.changes.is_empty()).then(|| {
                        view! {
                            <div class="table-wrap">
                                <table class="promotion-diff" data-testid="promotion-diff">
                                    <thead>
                                        <tr>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Production now"</th>
                                            <th scope="col">"Sandbox (after promoting)"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {item.changes.iter().map(|c| view! {
                                            <tr data-testid="promotion-change" data-path=c.path.clone()>
                                                <td><code>{c.path.clone()}</code></td>
                                                <td class="diff-old"><pre>{value_text(&c.production)}</pre></td>
                                                <td class="diff-new"><pre>{value_text(&c.sandbox)}</pre></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }
                    });
                    view! {
                        <li class="card promotion-item" data-testid="promotion-item" data-action=format!("{:?}", item.action).to_lowercase()>
                            <div class="promotion-head">
                                {can_go.then(|| view! {
                                    <input id=check_id.clone() type="checkbox" prop:checked=checked on:change=toggle />
                                })}
                                <label for=check_id><strong>{name.clone()}</strong></label>
                                <span class=format!("badge promotion-{}", format!("{:?}", item.action).to_lowercase())>{action_label(item.action)}</span>
                            </div>
                            {(!item.problems.is_empty()).then(|| view! {
                                <ul class="promotion-problems" data-testid="promotion-problems">
                                    {item.problems.iter().map(|m| view! { <li class="field-error">{m.clone()}</li> }).collect_view()}
                                </ul>
                            })}
                            {changes}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul class="promotion-list">{items}</ul>
                {move || tenant.can_write.get().then(|| view! {
                    <div class="form-actions">
                        <button type="button" class="button primary" data-testid="promote"
                            disabled=move || busy.get() || chosen.with(|set| set.is_empty())
                            on:click=promote>
                            {move || if busy.get() {
                                "Promoting…".to_string()
                            } else {
                                format!("Promote {} to production", chosen.with(|set| set.len()))
                            }}
                        </button>
                    </div>
                })}
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-labelledby="promotion-heading" data-testid="promotion">
            <h3 id="promotion-heading">"Promote the sandbox to production"</h3>
            <p class="muted">"Each sandbox pipeline beside its production counterpart (matched by name): what promoting changes, or why it cannot go yet. Only what you see here is applied."</p>
            {body}
            {move || failure.get().map(|f| view! { <ErrorBanner title="Could not promote" failure=f /> })}
            {move || done.get().map(|m| view! { <p class="banner banner-success" role="status" data-testid="promoted">{m}</p> })}
        </section>
    }
}

#[component]
fn EnvironmentCard(env: Environment) -> impl IntoView {
    let tenant = use_tenant();
    let kind = env.kind;
    let keys = env.active_api_keys;
    view! {
        <section class=format!("card env-card env-card-{}", kind.as_str()) data-testid=format!("env-{}", kind.as_str())>
            <div class="env-card-head">
                <h3>{env.name.clone()}</h3>
                <EnvBadge kind=kind />
            </div>
            <p class="muted small">{purpose(kind)}</p>
            <dl class="facts">
                <div>
                    <dt>"Active API keys"</dt>
                    <dd class="big-number" data-testid=format!("env-{}-active-keys", kind.as_str())>
                        {keys}
                    </dd>
                </div>
                <div>
                    <dt>"Created"</dt>
                    <dd>{format_time(&env.created_at)}</dd>
                </div>
            </dl>
            <a class="button secondary small" href=move || format!("/t/{}/api-keys", tenant.id.get())>
                {if keys == 0 { "Create an API key" } else { "Manage API keys" }}
            </a>
        </section>
    }
}
