//! `/t/:tenant_id/users`: the tenant's people. Admins add users, change roles and remove users.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::users::{CreateUserRequest, MIN_PASSWORD_LEN, UpdateUserRequest, User};
use tandem_shared::ids::UserId;
use tandem_shared::{Role, TenantRole};
use web_sys::HtmlSelectElement;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::app::use_session;
use crate::components::{
    ConfirmDialog, EmptyState, ErrorBanner, FieldError, FormError, Loading, RoleBadge, SecretBox, format_time, invalid,
};

/// A role picked in a user's row, with the select to put back if the change fails.
struct RoleChange {
    user: User,
    value: String,
    select: HtmlSelectElement,
}

fn tenant_role_value(role: TenantRole) -> &'static str {
    match role {
        TenantRole::Admin => "admin",
        TenantRole::Viewer => "viewer",
    }
}

fn parse_tenant_role(value: &str) -> Option<TenantRole> {
    TenantRole::ALL
        .into_iter()
        .find(|role| tenant_role_value(*role) == value)
}

#[component]
pub fn UsersPage() -> impl IntoView {
    crate::components::page_title("Users");
    let tenant = use_tenant();
    let users = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::users::list(id).await }
    });
    let row_error = RwSignal::new(None::<(UserId, ApiFailure)>);
    let to_remove = RwSignal::new(None::<User>);
    let remove_pending = RwSignal::new(false);
    let remove_error = RwSignal::new(None::<ApiFailure>);

    let change_role = move |change: RoleChange| {
        let RoleChange { user, value, select } = change;
        let Some(role) = parse_tenant_role(&value) else {
            return;
        };
        row_error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            let request = UpdateUserRequest {
                role: Some(role),
                name: None,
            };
            if let Err(failure) = api::users::update(tenant_id, user.id, &request).await {
                // The role did not change: the select shows the stored one again.
                if let Ok(previous) = TenantRole::try_from(user.role) {
                    select.set_value(tenant_role_value(previous));
                }
                row_error.set(Some((user.id, failure)));
            }
            users.refetch();
        });
    };

    let confirm_remove = move || {
        let Some(user) = to_remove.get_untracked() else {
            return;
        };
        remove_pending.set(true);
        remove_error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::users::remove(tenant_id, user.id).await {
                Ok(()) => {
                    to_remove.set(None);
                    users.refetch();
                }
                Err(failure) => remove_error.set(Some(failure)),
            }
            remove_pending.set(false);
        });
    };

    let table = move || match users.get() {
        None => view! { <Loading label="Loading users…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load users" failure=failure on_retry=move || users.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => {
            let message = if tenant.can_write.get() {
                "No users yet — add the first one below."
            } else {
                "No users yet. An admin can add them."
            };
            view! { <EmptyState message=message /> }.into_any()
        }
        Some(Ok(list)) => view! {
            <UserTable
                users=list
                row_error=row_error
                on_role_change=Callback::new(change_role)
                on_remove=Callback::new(move |user: User| {
                    remove_error.set(None);
                    to_remove.set(Some(user));
                })
            />
        }
        .into_any(),
    };

    view! {
        <div class="page" data-testid="users-page">
            <header class="page-header">
                <h2>"Users"</h2>
                <p class="muted">"People who log in to this tenant. Admins manage users, keys and integrations; viewers can only look."</p>
            </header>
            <section class="card" aria-labelledby="user-list-title">
                <h3 id="user-list-title">"Users of this tenant"</h3>
                {table}
            </section>
            <Show when=move || tenant.can_write.get()>
                <CreateUserForm on_created=Callback::new(move |_| users.refetch()) />
            </Show>
            {move || {
                to_remove
                    .get()
                    .map(|user| {
                        view! {
                            <ConfirmDialog
                                title="Remove user"
                                message=format!(
                                    "Remove {} ({}) from this tenant? They are logged out at once and can no longer log in.",
                                    user.name,
                                    user.email,
                                )
                                confirm_label="Remove user"
                                busy=remove_pending
                                error=remove_error
                                on_confirm=Callback::new(move |_| confirm_remove())
                                on_cancel=Callback::new(move |_| to_remove.set(None))
                            />
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn UserTable(
    users: Vec<User>,
    row_error: RwSignal<Option<(UserId, ApiFailure)>>,
    on_role_change: Callback<RoleChange>,
    on_remove: Callback<User>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="user-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Added"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    // Keyed by id and role: a row whose role changed is drawn afresh, so that a
                    // select never shows a value the person picked for someone else.
                    <For
                        each=move || users.clone()
                        key=|user: &User| (user.id, user.role)
                        children=move |user: User| {
                            view! {
                                <UserRow
                                    user=user
                                    row_error=row_error
                                    on_role_change=on_role_change
                                    on_remove=on_remove
                                />
                            }
                        }
                    />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: User,
    row_error: RwSignal<Option<(UserId, ApiFailure)>>,
    on_role_change: Callback<RoleChange>,
    on_remove: Callback<User>,
) -> impl IntoView {
    let tenant = use_tenant();
    let session = use_session();
    let id = user.id;
    let is_me = session.user.with_untracked(|me| me.as_ref().map(|u| u.id)) == Some(id);
    let editable = tenant.can_write.get_untracked() && !is_me;
    let role_cell = match (editable, TenantRole::try_from(user.role)) {
        (true, Ok(current)) => {
            let for_select = user.clone();
            view! {
                <select
                    class="compact"
                    aria-label=format!("Role of {}", user.email)
                    data-testid="user-role-select"
                    on:change=move |ev| {
                        let select = event_target::<HtmlSelectElement>(&ev);
                        on_role_change
                            .run(RoleChange {
                                user: for_select.clone(),
                                value: select.value(),
                                select,
                            })
                    }
                >
                    {TenantRole::ALL
                        .into_iter()
                        .map(|role| {
                            view! {
                                <option value=tenant_role_value(role) selected=role == current>
                                    {Role::from(role).label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        _ => view! { <RoleBadge role=user.role /> }.into_any(),
    };
    let for_remove = user.clone();
    let error = move || {
        row_error
            .get()
            .filter(|(user_id, _)| *user_id == id)
            .map(|(_, failure)| {
                view! {
                    <tr class="row-error">
                        <td colspan="5">
                            <ErrorBanner title="Could not change the role" failure=failure />
                        </td>
                    </tr>
                }
            })
    };
    view! {
        <tr data-testid="user-row" data-email=user.email.clone()>
            <td>
                {user.name.clone()}
                {is_me.then(|| view! { <span class="badge neutral">"you"</span> })}
            </td>
            <td class="break">{user.email.clone()}</td>
            <td>{role_cell}</td>
            <td class="nowrap">{format_time(&user.created_at)}</td>
            <td class="actions">
                {editable
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button danger-outline small"
                                data-testid="remove-user"
                                aria-label=format!("Remove {}", user.email)
                                on:click=move |_| on_remove.run(for_remove.clone())
                            >
                                "Remove"
                            </button>
                        }
                    })}
            </td>
        </tr>
        {error}
    }
}

const USER_FIELDS: &[&str] = &["email", "name", "role", "password"];

#[component]
fn CreateUserForm(on_created: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("viewer".to_string());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    // (email, generated password if any)
    let created = RwSignal::new(None::<(String, Option<String>)>);

    // A different tenant: forget what was created in the last one.
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
        let password_value = password.get_untracked();
        let request = CreateUserRequest {
            email: email.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            role: parse_tenant_role(&role.get_untracked()).unwrap_or(TenantRole::Viewer),
            password: (!password_value.is_empty()).then_some(password_value),
        };
        pending.set(true);
        error.set(None);
        created.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::users::create(tenant_id, &request).await {
                Ok(result) => {
                    email.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    created.set(Some((result.user.email, result.generated_password)));
                    on_created.run(());
                }
                Err(failure) => error.set(Some(failure)),
            }
            pending.set(false);
        });
    };

    let outcome = move || {
        created.get().map(|(email, generated)| match generated {
            Some(secret) => view! {
                <SecretBox
                    title=format!("{email} was added — here is their password")
                    secret=secret
                    what="password"
                    note="Send it to them securely; they log in with their email and this password."
                    testid="generated-password"
                    on_dismiss=Callback::new(move |_| created.set(None))
                />
            }
            .into_any(),
            None => view! {
                <div class="banner banner-success" role="status" data-testid="user-created">
                    <strong>{email}</strong>
                    " was added. They log in with the password you set."
                </div>
            }
            .into_any(),
        })
    };

    view! {
        <section class="card" aria-labelledby="create-user-title">
            <h3 id="create-user-title">"Add a user"</h3>
            {outcome}
            <FormError error=error fields=USER_FIELDS title="Could not add the user" />
            <form class="form grid-form" on:submit=on_submit data-testid="create-user-form">
                <div class="field">
                    <label for="user-email">"Email"</label>
                    <input
                        id="user-email"
                        type="email"
                        required
                        autocomplete="off"
                        aria-invalid=invalid(error, "email")
                        aria-describedby="email-error"
                        data-testid="user-email-input"
                        bind:value=email
                    />
                    <FieldError error=error field="email" />
                </div>
                <div class="field">
                    <label for="user-name">"Name"</label>
                    <input
                        id="user-name"
                        type="text"
                        required
                        autocomplete="off"
                        aria-invalid=invalid(error, "name")
                        aria-describedby="name-error"
                        data-testid="user-name-input"
                        bind:value=name
                    />
                    <FieldError error=error field="name" />
                </div>
                <div class="field">
                    <label for="user-role">"Role"</label>
                    <select
                        id="user-role"
                        data-testid="user-role-input"
                        aria-invalid=invalid(error, "role")
                        aria-describedby="role-hint role-error"
                        on:change=move |ev| role.set(event_target_value(&ev))
                    >
                        <option value="viewer" selected=move || role.get() == "viewer">
                            "Viewer"
                        </option>
                        <option value="admin" selected=move || role.get() == "admin">
                            "Admin"
                        </option>
                    </select>
                    <p class="hint" id="role-hint">
                        {move || {
                            if role.get() == "admin" {
                                "Manages users, API keys and integrations."
                            } else {
                                "Can look at everything, change nothing."
                            }
                        }}
                    </p>
                    <FieldError error=error field="role" />
                </div>
                <div class="field">
                    <label for="user-password">"Password " <span class="optional">"(optional)"</span></label>
                    <input
                        id="user-password"
                        type="password"
                        autocomplete="new-password"
                        aria-invalid=invalid(error, "password")
                        aria-describedby="password-hint password-error"
                        data-testid="user-password-input"
                        bind:value=password
                    />
                    <p class="hint" id="password-hint">
                        {format!("At least {MIN_PASSWORD_LEN} characters. Leave empty to generate one, shown once.")}
                    </p>
                    <FieldError error=error field="password" />
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary" data-testid="create-user-submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Adding…" } else { "Add user" }}
                    </button>
                </div>
            </form>
        </section>
    }
}
