//! `/t/:tenant_id/*`: the frame around a tenant's settings pages. It finds the tenant, works
//! out what the person may do there and hands that to the pages below.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_params_map;
use tandem_shared::Role;
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;
use uuid::Uuid;

use crate::api::ApiFailure;
use crate::app::{use_session, use_tenants};
use crate::components::{DemoBadge, ErrorBanner, Loading};

/// The tenant the pages below work on.
#[derive(Clone, Copy)]
pub struct TenantContext {
    pub id: Memo<TenantId>,
    /// Whether the person may change things here (create users, keys …).
    pub can_write: Memo<bool>,
    /// Viewers do not read the audit log.
    pub can_read_audit: Memo<bool>,
    /// Whether the person may replay or ignore failed records (support staff may, with a reason).
    pub can_operate: Memo<bool>,
    /// Support staff say why they replay: the reason goes to the audit log.
    pub reason_required: Memo<bool>,
}

pub fn use_tenant() -> TenantContext {
    expect_context::<TenantContext>()
}

/// What a role may change in a tenant; mirrors the server's rules, which stay authoritative.
pub fn may_write(role: Role, tenant: &Tenant) -> bool {
    match role {
        Role::OperatorAdmin | Role::Admin => true,
        Role::Sales => tenant.is_demo,
        Role::Support | Role::Viewer => false,
    }
}

#[derive(Clone, PartialEq)]
enum AreaState {
    Loading,
    Ready,
    Missing,
    Failed(ApiFailure),
}

#[component]
pub fn TenantArea() -> impl IntoView {
    let params = use_params_map();
    let session = use_session();
    let tenants = use_tenants().0;

    let raw_id = Memo::new(move |_| params.with(|p| p.get("tenant_id")).unwrap_or_default());
    let parsed = Memo::new(move |_| raw_id.get().parse::<TenantId>().ok());
    let id = Memo::new(move |_| parsed.get().unwrap_or(TenantId(Uuid::nil())));
    let tenant = Memo::new(move |_| {
        let id = parsed.get()?;
        tenants
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|t| t.id == id))
    });
    let state = Memo::new(move |_| {
        if parsed.get().is_none() {
            return AreaState::Missing;
        }
        match tenants.get() {
            None => AreaState::Loading,
            Some(Err(failure)) => AreaState::Failed(failure),
            Some(Ok(_)) if tenant.with(Option::is_some) => AreaState::Ready,
            Some(Ok(_)) => AreaState::Missing,
        }
    });
    let can_write = Memo::new(move |_| match (session.role(), tenant.get()) {
        (Some(role), Some(tenant)) => may_write(role, &tenant),
        _ => false,
    });
    let can_read_audit = Memo::new(move |_| session.role().is_some_and(|role| role != Role::Viewer));
    let can_operate = Memo::new(move |_| can_write.get() || session.role() == Some(Role::Support));
    let reason_required = Memo::new(move |_| session.role() == Some(Role::Support));
    provide_context(TenantContext {
        id,
        can_write,
        can_read_audit,
        can_operate,
        reason_required,
    });

    let read_only_note = move || {
        (!can_write.get()).then(|| {
            let reason = match session.role() {
                Some(Role::Support) => {
                    "Support staff can look, and replay or ignore failed records with a reason, but change no setting."
                }
                Some(Role::Viewer) => "Viewers can look but not change anything. Ask an admin for changes.",
                Some(Role::Sales) => "Sales staff can change demo tenants only.",
                _ => "You cannot change this tenant.",
            };
            view! {
                <p class="read-only-note" data-testid="read-only-note">
                    "Read-only: "
                    {reason}
                </p>
            }
        })
    };

    move || {
        match state.get() {
        AreaState::Loading => view! { <Loading label="Loading tenant…" /> }.into_any(),
        AreaState::Failed(failure) => view! {
            <ErrorBanner title="Could not load the tenant" failure=failure on_retry=move || tenants.refetch() />
        }
        .into_any(),
        AreaState::Missing => view! {
            <div class="card narrow" data-testid="tenant-missing">
                <h1>"Tenant not found"</h1>
                <p>"This tenant does not exist or you do not have access to it. Check the link, or pick a tenant from the list."</p>
                <p>
                    <a class="button" href="/">
                        "Go to the start page"
                    </a>
                </p>
            </div>
        }
        .into_any(),
        AreaState::Ready => view! {
            <div class="tenant-area">
                <div class="tenant-title">
                    <p class="eyebrow">"Tenant settings"</p>
                    <h1 data-testid="tenant-name">
                        {move || tenant.get().map(|t| t.name).unwrap_or_default()}
                        " "
                        {move || tenant.get().filter(|t| t.is_demo).map(|_| view! { <DemoBadge /> })}
                    </h1>
                    <p class="muted small">
                        "Slug "
                        <code>{move || tenant.get().map(|t| t.slug).unwrap_or_default()}</code>
                    </p>
                </div>
                {read_only_note}
                <Outlet />
            </div>
        }
        .into_any(),
    }
    }
}

/// `/t/:tenant_id`: the first section.
#[component]
pub fn TenantIndex() -> impl IntoView {
    let tenant = use_tenant();
    view! {
        <Redirect
            path=format!("/t/{}/environments", tenant.id.get_untracked())
            options=NavigateOptions {
                replace: true,
                ..Default::default()
            }
        />
    }
}
