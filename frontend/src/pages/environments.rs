//! `/t/:tenant_id/environments`: the tenant's sandbox and production environments.

use leptos::prelude::*;
use tandem_shared::api::tenants::{Environment, EnvironmentKind};

use super::tenant::use_tenant;
use crate::api;
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
        </div>
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
