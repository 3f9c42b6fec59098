//! `/t/:tenant_id/api-keys`: keys the operator's app uses. A new key is shown once; revoked
//! keys stop working at once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::api_keys::{ApiKey, CreateApiKeyRequest, CreatedApiKey};
use tandem_shared::api::tenants::EnvironmentKind;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::{
    ConfirmDialog, EmptyState, EnvBadge, ErrorBanner, FieldError, FormError, Loading, SecretBox, format_time, invalid,
};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    crate::components::page_title("API keys");
    let tenant = use_tenant();
    let keys = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::api_keys::list(id).await }
    });
    let to_revoke = RwSignal::new(None::<ApiKey>);
    let revoke_pending = RwSignal::new(false);
    let revoke_error = RwSignal::new(None::<ApiFailure>);

    let confirm_revoke = move || {
        let Some(key) = to_revoke.get_untracked() else {
            return;
        };
        revoke_pending.set(true);
        revoke_error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::api_keys::revoke(tenant_id, key.id).await {
                Ok(_) => {
                    to_revoke.set(None);
                    keys.refetch();
                }
                Err(failure) => revoke_error.set(Some(failure)),
            }
            revoke_pending.set(false);
        });
    };

    let table = move || match keys.get() {
        None => view! { <Loading label="Loading API keys…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load API keys" failure=failure on_retry=move || keys.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => {
            let message = if tenant.can_write.get() {
                "No API keys yet — create one for your app below."
            } else {
                "No API keys yet. An admin can create one for your app."
            };
            view! { <EmptyState message=message /> }.into_any()
        }
        Some(Ok(list)) => view! {
            <KeyTable
                keys=list
                on_revoke=Callback::new(move |key: ApiKey| {
                    revoke_error.set(None);
                    to_revoke.set(Some(key));
                })
            />
        }
        .into_any(),
    };

    view! {
        <div class="page" data-testid="api-keys-page">
            <header class="page-header">
                <h2>"API keys"</h2>
                <p class="muted">
                    "The operator's app calls Tandem with one of these keys as "
                    <code>"Authorization: Bearer <key>"</code>
                    ". Each key belongs to the sandbox or the production environment."
                </p>
            </header>
            <Show when=move || tenant.can_write.get()>
                <CreateKeyForm on_created=Callback::new(move |_| keys.refetch()) />
            </Show>
            <section class="card" aria-labelledby="key-list-title">
                <h3 id="key-list-title">"Keys of this tenant"</h3>
                {table}
            </section>
            {move || {
                to_revoke
                    .get()
                    .map(|key| {
                        view! {
                            <ConfirmDialog
                                title="Revoke API key"
                                message=format!(
                                    "Revoke “{}” ({}…)? Every app using it gets 401 from now on. This cannot be undone.",
                                    key.name,
                                    key.prefix,
                                )
                                confirm_label="Revoke key"
                                busy=revoke_pending
                                error=revoke_error
                                on_confirm=Callback::new(move |_| confirm_revoke())
                                on_cancel=Callback::new(move |_| to_revoke.set(None))
                            />
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKey>, on_revoke: Callback<ApiKey>) -> impl IntoView {
    let tenant = use_tenant();
    let can_write = tenant.can_write.get_untracked();
    view! {
        <div class="table-wrap">
            <table data-testid="api-key-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Environment"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {keys
                        .into_iter()
                        .map(|key| {
                            let revoked = key.revoked_at.is_some();
                            let for_revoke = key.clone();
                            view! {
                                <tr data-testid="api-key-row" data-key-name=key.name.clone() class:revoked=revoked>
                                    <td class="break">{key.name.clone()}</td>
                                    <td>
                                        <code class="nowrap">{format!("{}…", key.prefix)}</code>
                                    </td>
                                    <td>
                                        <EnvBadge kind=key.environment />
                                    </td>
                                    <td class="nowrap">
                                        {format_time(&key.created_at)}
                                        {key.created_by.clone().map(|by| view! { <div class="muted small">"by " {by}</div> })}
                                    </td>
                                    <td class="nowrap">
                                        {key.last_used_at.as_ref().map(format_time).unwrap_or_else(|| "Never".to_string())}
                                    </td>
                                    <td data-testid="api-key-status">
                                        {match &key.revoked_at {
                                            Some(at) => view! {
                                                <span class="badge revoked-badge">"Revoked"</span>
                                                <div class="muted small nowrap">{format_time(at)}</div>
                                            }
                                            .into_any(),
                                            None => view! { <span class="badge active-badge">"Active"</span> }.into_any(),
                                        }}
                                    </td>
                                    <td class="actions">
                                        {(can_write && !revoked)
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="button danger-outline small"
                                                        data-testid="revoke-key"
                                                        aria-label=format!("Revoke {}", key.name)
                                                        on:click=move |_| on_revoke.run(for_revoke.clone())
                                                    >
                                                        "Revoke"
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

const KEY_FIELDS: &[&str] = &["name", "environment"];

#[component]
fn CreateKeyForm(on_created: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let name = RwSignal::new(String::new());
    let environment = RwSignal::new(EnvironmentKind::Sandbox);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let created = RwSignal::new(None::<CreatedApiKey>);

    // A different tenant: never leave another tenant's secret on screen.
    Effect::new(move |_| {
        tenant.id.track();
        created.set(None);
        error.set(None);
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let request = CreateApiKeyRequest {
            name: name.get_untracked().trim().to_string(),
            environment: environment.get_untracked(),
        };
        pending.set(true);
        error.set(None);
        created.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::api_keys::create(tenant_id, &request).await {
                Ok(key) => {
                    name.set(String::new());
                    created.set(Some(key));
                    on_created.run(());
                }
                Err(failure) => error.set(Some(failure)),
            }
            pending.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="create-key-title">
            <h3 id="create-key-title">"Create an API key"</h3>
            {move || {
                created
                    .get()
                    .map(|new_key| {
                        view! {
                            <SecretBox
                                title=format!(
                                    "Your new {} key “{}”",
                                    new_key.key.environment.label().to_lowercase(),
                                    new_key.key.name,
                                )
                                secret=new_key.secret
                                what="API key"
                                note="Tandem keeps only a fingerprint of it. Copy it into your app's configuration now; if you lose it, revoke it and create a new one."
                                testid="new-api-key-secret"
                                on_dismiss=Callback::new(move |_| created.set(None))
                            />
                        }
                    })
            }}
            <FormError error=error fields=KEY_FIELDS title="Could not create the key" />
            <form class="form grid-form" on:submit=on_submit data-testid="create-key-form">
                <div class="field">
                    <label for="key-name">"Name"</label>
                    <input
                        id="key-name"
                        type="text"
                        required
                        placeholder="CRM sync, staging app …"
                        aria-invalid=invalid(error, "name")
                        aria-describedby="name-error"
                        data-testid="key-name-input"
                        bind:value=name
                    />
                    <FieldError error=error field="name" />
                </div>
                <div class="field">
                    <label for="key-environment">"Environment"</label>
                    <select
                        id="key-environment"
                        data-testid="key-environment-input"
                        aria-invalid=invalid(error, "environment")
                        aria-describedby="environment-error"
                        on:change=move |ev| {
                            if let Some(kind) = EnvironmentKind::parse(&event_target_value(&ev)) {
                                environment.set(kind);
                            }
                        }
                    >
                        {EnvironmentKind::ALL
                            .into_iter()
                            .map(|kind| {
                                view! {
                                    <option value=kind.as_str() selected=move || environment.get() == kind>
                                        {kind.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <FieldError error=error field="environment" />
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary" data-testid="create-key-submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create key" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
