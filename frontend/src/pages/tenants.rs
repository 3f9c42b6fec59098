//! `/tenants`: every tenant the person can see; operator admins (and sales, for demo tenants)
//! create new ones here.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::Role;
use tandem_shared::api::tenants::{CreateTenantRequest, Tenant};

use crate::api::{self, ApiFailure};
use crate::app::{use_session, use_tenants};
use crate::components::{DemoBadge, EmptyState, ErrorBanner, FieldError, FormError, Loading, format_time, invalid};

#[component]
pub fn TenantsPage() -> impl IntoView {
    crate::components::page_title("Tenants");
    let session = use_session();
    let tenants = use_tenants().0;
    let can_create = move || matches!(session.role(), Some(Role::OperatorAdmin | Role::Sales));

    let list = move || match tenants.get() {
        None => view! { <Loading label="Loading tenants…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load tenants" failure=failure on_retry=move || tenants.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => {
            let message = if session.role() == Some(Role::Sales) {
                "No demo tenants yet — create one below to run a demo."
            } else if can_create() {
                "No tenants yet — create the first one below."
            } else {
                "No tenants yet. An operator admin creates them."
            };
            view! { <EmptyState message=message /> }.into_any()
        }
        Some(Ok(list)) => view! { <TenantTable tenants=list /> }.into_any(),
    };

    view! {
        <div class="page" data-testid="tenants-page">
            <header class="page-header">
                <h1>"Tenants"</h1>
                <p class="muted">"The operator's customers. Pick one to manage its environments, users and API keys."</p>
            </header>
            <section class="card" aria-labelledby="tenant-list-title">
                <h2 id="tenant-list-title">
                    {move || if session.role() == Some(Role::Sales) { "Demo tenants" } else { "All tenants" }}
                </h2>
                {list}
            </section>
            {move || {
                if can_create() {
                    view! { <CreateTenantForm /> }.into_any()
                } else {
                    view! {
                        <p class="read-only-note">"Your role can read tenants but not create them."</p>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

#[component]
fn TenantTable(tenants: Vec<Tenant>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="tenant-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Slug"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {tenants
                        .into_iter()
                        .map(|tenant| {
                            view! {
                                <tr data-testid="tenant-row">
                                    <td>
                                        <a href=format!("/t/{}/environments", tenant.id) data-testid="tenant-link">
                                            {tenant.name.clone()}
                                        </a>
                                    </td>
                                    <td>
                                        <code>{tenant.slug.clone()}</code>
                                    </td>
                                    <td>
                                        {if tenant.is_demo {
                                            view! { <DemoBadge /> }.into_any()
                                        } else {
                                            view! { <span class="badge neutral">"Customer"</span> }.into_any()
                                        }}
                                    </td>
                                    <td class="nowrap">{format_time(&tenant.created_at)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const TENANT_FIELDS: &[&str] = &["name", "slug", "is_demo"];

#[component]
fn CreateTenantForm() -> impl IntoView {
    let session = use_session();
    let tenants = use_tenants().0;
    // Sales staff may only create demo tenants.
    let demo_only = move || session.role() == Some(Role::Sales);

    let name = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let is_demo = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let created = RwSignal::new(None::<Tenant>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        created.set(None);
        let slug_value = slug.get_untracked().trim().to_string();
        let request = CreateTenantRequest {
            name: name.get_untracked().trim().to_string(),
            slug: (!slug_value.is_empty()).then_some(slug_value),
            is_demo: is_demo.get_untracked() || demo_only(),
        };
        spawn_local(async move {
            match api::tenants::create(&request).await {
                Ok(tenant) => {
                    name.set(String::new());
                    slug.set(String::new());
                    is_demo.set(false);
                    created.set(Some(tenant));
                    tenants.refetch();
                }
                Err(failure) => error.set(Some(failure)),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="create-tenant-title">
            <h2 id="create-tenant-title">"Create a tenant"</h2>
            <p class="muted small">"Each tenant gets a sandbox and a production environment."</p>
            {move || {
                created
                    .get()
                    .map(|tenant| {
                        view! {
                            <div class="banner banner-success" role="status" data-testid="tenant-created">
                                "Tenant " <strong>{tenant.name.clone()}</strong> " was created. "
                                <a href=format!("/t/{}/users", tenant.id)>"Add its first users"</a>
                                "."
                            </div>
                        }
                    })
            }}
            <FormError error=error fields=TENANT_FIELDS title="Could not create the tenant" />
            <form class="form grid-form" on:submit=on_submit data-testid="create-tenant-form">
                <div class="field">
                    <label for="tenant-name">"Name"</label>
                    <input
                        id="tenant-name"
                        type="text"
                        required
                        maxlength="200"
                        placeholder="Acme GmbH"
                        aria-invalid=invalid(error, "name")
                        aria-describedby="name-error"
                        data-testid="tenant-name-input"
                        bind:value=name
                    />
                    <FieldError error=error field="name" />
                </div>
                <div class="field">
                    <label for="tenant-slug">"Slug " <span class="optional">"(optional)"</span></label>
                    <input
                        id="tenant-slug"
                        type="text"
                        placeholder="acme-gmbh"
                        aria-invalid=invalid(error, "slug")
                        aria-describedby="slug-hint slug-error"
                        data-testid="tenant-slug-input"
                        bind:value=slug
                    />
                    <p class="hint" id="slug-hint">"Lowercase letters, digits and dashes. Derived from the name when empty."</p>
                    <FieldError error=error field="slug" />
                </div>
                <div class="field checkbox-field">
                    <input
                        id="tenant-demo"
                        type="checkbox"
                        data-testid="tenant-demo-input"
                        prop:checked=move || is_demo.get() || demo_only()
                        disabled=demo_only
                        on:change=move |ev| is_demo.set(event_target_checked(&ev))
                    />
                    <label for="tenant-demo">"Demo tenant " <span class="hint">"(sandbox CRMs only; sales staff may manage it)"</span></label>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary" data-testid="create-tenant-submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create tenant" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
