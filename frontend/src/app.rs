//! The router, the layout (header, side navigation), the session context and the auth guard.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{NavigateOptions, path};
use tandem_shared::api::auth::{CurrentUser, SessionInfo};
use tandem_shared::api::tenants::Tenant;
use tandem_shared::ids::TenantId;
use tandem_shared::{ErrorCode, Role};

use crate::api::{self, ApiFailure};
use crate::components::{DemoBadge, ErrorBanner, Loading, RoleBadge};
use crate::pages::activate::ActivatePage;
use crate::pages::alerts::AlertsPage;
use crate::pages::api_docs::ApiDocsPage;
use crate::pages::api_keys::ApiKeysPage;
use crate::pages::audit::{OperatorAuditPage, TenantAuditPage};
use crate::pages::connections::ConnectionsPage;
use crate::pages::demo::{DemoDashboardPage, DemoStartPage};
use crate::pages::environments::EnvironmentsPage;
use crate::pages::failed_records::FailedRecordsPage;
use crate::pages::home::HomePage;
use crate::pages::login::LoginPage;
use crate::pages::mapping_editor::MappingEditorPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::pipeline::PipelinePage;
use crate::pages::pipelines::PipelinesPage;
use crate::pages::support::SupportPage;
use crate::pages::tenant::{TenantArea, TenantIndex};
use crate::pages::tenants::TenantsPage;
use crate::pages::users::UsersPage;

/// Where the person stands with the server.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionState {
    /// The startup probe (`GET /auth/session`) has not answered yet.
    Checking,
    LoggedOut,
    LoggedIn(SessionInfo),
    /// The probe failed for another reason than "not logged in" (server unreachable …).
    Unknown(ApiFailure),
}

/// The same, without the payload: changes only when the person logs in or out.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthStatus {
    Checking,
    LoggedOut,
    LoggedIn,
    Unknown(ApiFailure),
}

/// Shared by every page: who is logged in, and a message for the login page.
#[derive(Clone, Copy)]
pub struct Session {
    state: RwSignal<SessionState>,
    pub status: Memo<AuthStatus>,
    pub user: Memo<Option<CurrentUser>>,
    /// Shown on the login page ("Your session has ended …").
    pub notice: RwSignal<Option<String>>,
}

impl Session {
    fn new() -> Session {
        let state = RwSignal::new(SessionState::Checking);
        let status = Memo::new(move |_| match state.get() {
            SessionState::Checking => AuthStatus::Checking,
            SessionState::LoggedOut => AuthStatus::LoggedOut,
            SessionState::LoggedIn(_) => AuthStatus::LoggedIn,
            SessionState::Unknown(failure) => AuthStatus::Unknown(failure),
        });
        let user = Memo::new(move |_| match state.get() {
            SessionState::LoggedIn(info) => Some(info.user),
            _ => None,
        });
        Session {
            state,
            status,
            user,
            notice: RwSignal::new(None),
        }
    }

    /// Asks the server whether the cookie still holds a session.
    pub fn probe(self) {
        self.state.set(SessionState::Checking);
        spawn_local(async move {
            let state = match api::auth::current_session().await {
                Ok(info) => SessionState::LoggedIn(info),
                Err(failure) if failure.code().is_some_and(|code| code.http_status() == 401) => SessionState::LoggedOut,
                Err(failure) => SessionState::Unknown(failure),
            };
            self.state.set(state);
        });
    }

    pub fn logged_in(self, info: SessionInfo) {
        self.notice.set(None);
        self.state.set(SessionState::LoggedIn(info));
    }

    pub fn logged_out(self, notice: Option<String>) {
        api::set_csrf_token(None);
        self.notice.set(notice);
        self.state.set(SessionState::LoggedOut);
    }

    pub fn role(self) -> Option<Role> {
        self.user.with(|user| user.as_ref().map(|user| user.role))
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The tenants the person can see (all, demo ones, or their own), for the switcher, the side
/// navigation and the tenant list. Refetch after creating a tenant.
#[derive(Clone, Copy)]
pub struct Tenants(pub LocalResource<Result<Vec<Tenant>, ApiFailure>>);

pub fn use_tenants() -> Tenants {
    expect_context::<Tenants>()
}

/// The tenant and the settings section named in the address (`/t/<id>/<section>`).
#[derive(Clone, Copy)]
pub struct CurrentPlace {
    pub tenant_id: Memo<Option<TenantId>>,
    pub section: Memo<Option<String>>,
}

fn parse_place(path: &str) -> (Option<TenantId>, Option<String>) {
    let mut parts = path.trim_start_matches('/').split('/');
    if parts.next() != Some("t") {
        return (None, None);
    }
    let tenant = parts.next().and_then(|id| id.parse::<TenantId>().ok());
    let section = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    (tenant, section)
}

/// The settings sections of a tenant, in navigation order: (path segment, label).
pub const TENANT_SECTIONS: [(&str, &str); 4] = [
    ("environments", "Environments"),
    ("users", "Users"),
    ("api-keys", "API keys"),
    ("audit", "Audit log"),
];

#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    api::on_unauthorized(move |failure: &ApiFailure| {
        let message = match failure.code() {
            Some(ErrorCode::Unauthenticated) | Some(ErrorCode::SessionExpired) | None => {
                ErrorCode::SessionExpired.user_message().to_string()
            }
            Some(code) => code.user_message().to_string(),
        };
        session.logged_out(Some(message));
    });
    session.probe();

    view! {
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("/api-docs") view=ApiDocsPage />
                    <Route path=path!("/support") view=SupportPage />
                    <Route path=path!("/demo") view=DemoStartPage />
                    <Route
                        path=path!("/tenants")
                        view=|| view! { <RequireAuth><TenantsPage /></RequireAuth> }
                    />
                    <Route
                        path=path!("/audit")
                        view=|| view! { <RequireAuth><OperatorAuditPage /></RequireAuth> }
                    />
                    <ParentRoute
                        path=path!("/t/:tenant_id")
                        view=|| view! { <RequireAuth><TenantArea /></RequireAuth> }
                    >
                        <Route path=path!("") view=TenantIndex />
                        <Route path=path!("/environments") view=EnvironmentsPage />
                        <Route path=path!("/users") view=UsersPage />
                        <Route path=path!("/api-keys") view=ApiKeysPage />
                        <Route path=path!("/audit") view=TenantAuditPage />
                        <Route path=path!("/connections") view=ConnectionsPage />
                        <Route path=path!("/activate") view=ActivatePage />
                        <Route path=path!("/pipelines") view=PipelinesPage />
                        <Route path=path!("/pipelines/:pipeline_id") view=PipelinePage />
                        <Route path=path!("/pipelines/:pipeline_id/mapping/:flow") view=MappingEditorPage />
                        <Route path=path!("/failed-records") view=FailedRecordsPage />
                        <Route path=path!("/alerts") view=AlertsPage />
                        <Route path=path!("/demo") view=DemoDashboardPage />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Shows its children to a logged-in person; anyone else goes to the login page, which brings
/// them back here afterwards.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    move || match session.status.get() {
        AuthStatus::Checking => view! { <Loading label="Checking your session…" /> }.into_any(),
        AuthStatus::LoggedIn => children().into_any(),
        AuthStatus::LoggedOut => {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            if here.starts_with("/login") {
                // Already on the way there (logging out navigates to the login page itself).
                return ().into_any();
            }
            let path = if here == "/" {
                "/login".to_string()
            } else {
                format!("/login?next={}", String::from(js_sys::encode_uri_component(&here)))
            };
            view! {
                <Redirect
                    path=path
                    options=NavigateOptions {
                        replace: true,
                        ..Default::default()
                    }
                />
            }
            .into_any()
        }
        AuthStatus::Unknown(failure) => view! {
            <ErrorBanner
                title="Could not check your session"
                failure=failure
                on_retry=move || session.probe()
            />
        }
        .into_any(),
    }
}

/// Header, side navigation and the page.
#[component]
fn Shell() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let place = Memo::new(move |_| parse_place(&location.pathname.get()));
    provide_context(CurrentPlace {
        tenant_id: Memo::new(move |_| place.get().0),
        section: Memo::new(move |_| place.get().1),
    });
    let tenants = LocalResource::new(move || {
        let logged_in = session.user.with(|user| user.as_ref().map(|u| u.id));
        async move {
            match logged_in {
                Some(_) => api::tenants::list().await,
                None => Ok(Vec::new()),
            }
        }
    });
    provide_context(Tenants(tenants));

    view! {
        <div class="app">
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <Header />
            <div class="frame">
                <SideNav />
                <main id="main" class="content" tabindex="-1">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let logging_out = RwSignal::new(false);
    let logout = move |_| {
        if logging_out.get_untracked() {
            return;
        }
        logging_out.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            // Whatever the server says (an already ended session, say), the person is out.
            let _ = api::auth::logout().await;
            logging_out.set(false);
            session.logged_out(Some("You have logged out.".to_string()));
            navigate("/login", NavigateOptions::default());
        });
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"⇄"</span>
                "Tandem"
            </a>
            {move || {
                session
                    .user
                    .get()
                    .map(|user| {
                        if user.role.is_operator_staff() {
                            view! { <TenantSwitcher /> }.into_any()
                        } else {
                            view! { <OwnTenantName /> }.into_any()
                        }
                    })
            }}
            <div class="topbar-spacer"></div>
            {move || match session.user.get() {
                Some(user) => {
                    view! {
                        <div class="current-user" data-testid="current-user">
                            <span class="user-name" title=user.email.clone()>
                                {user.name.clone()}
                            </span>
                            <RoleBadge role=user.role />
                            <button
                                type="button"
                                class="button secondary small"
                                data-testid="logout-button"
                                disabled=move || logging_out.get()
                                on:click=logout.clone()
                            >
                                {move || if logging_out.get() { "Logging out…" } else { "Log out" }}
                            </button>
                        </div>
                    }
                        .into_any()
                }
                None => view! { <a class="button secondary small" href="/login">"Log in"</a> }.into_any(),
            }}
        </header>
    }
}

/// Operator staff pick the tenant they work on; the current settings section is kept.
#[component]
fn TenantSwitcher() -> impl IntoView {
    let Tenants(tenants) = use_tenants();
    let place = expect_context::<CurrentPlace>();
    let navigate = use_navigate();
    // The select shows the tenant in the address, also after navigating by other means (options
    // the person picked ignore later `selected` changes, so the value is set directly).
    let select = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        let listed = tenants.get().and_then(Result::ok).unwrap_or_default();
        // An unknown tenant in the address (a stale link, say) leaves "All tenants" selected.
        let current = place
            .tenant_id
            .get()
            .filter(|id| listed.iter().any(|t| t.id == *id))
            .map(|id| id.to_string())
            .unwrap_or_default();
        if let Some(select) = select.get() {
            select.set_value(&current);
        }
    });
    let on_change = move |ev| {
        let value = event_target_value(&ev);
        let target = if value.is_empty() {
            "/tenants".to_string()
        } else {
            let section = place
                .section
                .get_untracked()
                .unwrap_or_else(|| "environments".to_string());
            format!("/t/{value}/{section}")
        };
        navigate(&target, NavigateOptions::default());
    };
    view! {
        <div class="tenant-switcher">
            <label for="tenant-switcher">"Tenant"</label>
            <select id="tenant-switcher" data-testid="tenant-switcher" node_ref=select on:change=on_change>
                <option value="" selected=move || place.tenant_id.get().is_none()>
                    "All tenants"
                </option>
                {move || {
                    tenants
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|tenant| {
                            let id = tenant.id;
                            let label = if tenant.is_demo {
                                format!("{} (demo)", tenant.name)
                            } else {
                                tenant.name.clone()
                            };
                            view! {
                                <option value=id.to_string() selected=move || place.tenant_id.get() == Some(id)>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// Tenant users belong to one tenant: just name it.
#[component]
fn OwnTenantName() -> impl IntoView {
    let Tenants(tenants) = use_tenants();
    let session = use_session();
    let name = move || {
        let own = session.user.with(|user| user.as_ref().and_then(|u| u.tenant_id));
        tenants
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|t| Some(t.id) == own))
            .map(|t| t.name)
    };
    view! {
        <span class="own-tenant" data-testid="own-tenant">
            {name}
        </span>
    }
}

#[component]
fn NavLink(href: String, label: &'static str, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let location = use_location();
    let target = href.clone();
    let current = move || {
        let path = location.pathname.get();
        (path == target || path.starts_with(&format!("{target}/"))).then_some("page")
    };
    view! {
        <a class="nav-link" href=href aria-current=current data-testid=testid>
            {label}
        </a>
    }
}

#[component]
fn SideNav() -> impl IntoView {
    let session = use_session();
    let place = expect_context::<CurrentPlace>();
    let Tenants(tenants) = use_tenants();

    // The tenant whose settings the navigation links to: the one in the address if the person
    // can see it, or their own.
    let nav_tenant = Memo::new(move |_| {
        let listed = tenants.get().and_then(Result::ok).unwrap_or_default();
        place
            .tenant_id
            .get()
            .filter(|id| listed.iter().any(|t| t.id == *id))
            .or_else(|| session.user.with(|user| user.as_ref().and_then(|u| u.tenant_id)))
    });
    let tenant_name = move || {
        let id = nav_tenant.get()?;
        tenants
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|t| t.id == id))
    };

    let operator_links = move || {
        let role = session.role()?;
        role.is_operator_staff().then(|| {
            view! {
                <div class="nav-group">
                    <h2 class="nav-heading">"Operator"</h2>
                    <NavLink href="/tenants".to_string() label="Tenants" testid="nav-tenants" />
                    {matches!(role, Role::OperatorAdmin | Role::Support)
                        .then(|| {
                            view! {
                                <NavLink href="/support".to_string() label="Support search" testid="nav-support" />
                                <NavLink href="/audit".to_string() label="Audit log (all)" testid="nav-all-audit" />
                            }
                        })}
                    {matches!(role, Role::OperatorAdmin | Role::Sales)
                        .then(|| view! { <NavLink href="/demo".to_string() label="Sales demo" testid="nav-demo" /> })}
                </div>
            }
        })
    };

    let tenant_links = move || {
        session.user.get()?;
        let is_viewer = session.role() == Some(Role::Viewer);
        Some(match nav_tenant.get() {
            Some(id) => view! {
                <div class="nav-group" data-testid="tenant-nav">
                    <h2 class="nav-heading">
                        {move || tenant_name().map(|t| t.name).unwrap_or_else(|| "Tenant".to_string())}
                        {move || tenant_name().filter(|t| t.is_demo).map(|_| view! { <DemoBadge /> })}
                    </h2>
                    {TENANT_SECTIONS
                        .into_iter()
                        .map(|(segment, label)| {
                            if segment == "audit" && is_viewer {
                                view! {
                                    <span class="nav-link disabled" aria-disabled="true" title="Viewers cannot read the audit log">
                                        {label}
                                        <small>"admins only"</small>
                                    </span>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <NavLink
                                        href=format!("/t/{id}/{segment}")
                                        label=label
                                        testid=match segment {
                                            "environments" => "nav-environments",
                                            "users" => "nav-users",
                                            "api-keys" => "nav-api-keys",
                                            _ => "nav-audit",
                                        }
                                    />
                                }
                                    .into_any()
                            }
                        })
                        .collect_view()}
                </div>
            }
            .into_any(),
            None => view! {
                <div class="nav-group">
                    <h2 class="nav-heading">"Tenant settings"</h2>
                    <p class="nav-hint">"Choose a tenant to manage its environments, users and API keys."</p>
                </div>
            }
            .into_any(),
        })
    };

    let integrations = move || {
        session.user.get()?;
        let connections = move || {
            match nav_tenant.get() {
            Some(id) => view! {
                <NavLink href=format!("/t/{id}/activate") label="Activate a CRM" testid="nav-activate" />
                <NavLink href=format!("/t/{id}/connections") label="Connections" testid="nav-connections" />
                <NavLink href=format!("/t/{id}/pipelines") label="Pipelines" testid="nav-pipelines" />
                <NavLink href=format!("/t/{id}/failed-records") label="Failed records" testid="nav-failed-records" />
                <NavLink href=format!("/t/{id}/alerts") label="Alerts" testid="nav-alerts" />
                {tenant_name()
                    .filter(|t| t.is_demo)
                    .map(|_| view! { <NavLink href=format!("/t/{id}/demo") label="Demo dashboard" testid="nav-demo-dashboard" /> })}
            }
            .into_any(),
            None => view! {
                <span class="nav-link disabled" aria-disabled="true" title="Choose a tenant first" data-testid="nav-connections-disabled">
                    "Connections"
                    <small>"choose a tenant"</small>
                </span>
            }
            .into_any(),
        }
        };
        Some(view! {
            <div class="nav-group">
                <h2 class="nav-heading">"Integrations"</h2>
                {connections}
            </div>
        })
    };

    view! {
        <nav class="sidenav" aria-label="Main">
            {operator_links}
            {tenant_links}
            {integrations}
            <div class="nav-group">
                <h2 class="nav-heading">"Developers"</h2>
                <NavLink href="/api-docs".to_string() label="API reference" testid="nav-api-docs" />
            </div>
        </nav>
    }
}

/// `next` from the login page's address, if it is a path inside this app.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/login"))
        .unwrap_or_else(|| "/".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_read_from_the_path() {
        let id = "0190a5a4-0000-7000-8000-000000000001";
        let (tenant, section) = parse_place(&format!("/t/{id}/users"));
        assert_eq!(tenant.map(|t| t.to_string()).as_deref(), Some(id));
        assert_eq!(section.as_deref(), Some("users"));
        assert_eq!(parse_place("/tenants"), (None, None));
    }

    #[test]
    fn next_stays_inside_the_app() {
        assert_eq!(safe_next(Some("/t/x/users".into())), "/t/x/users");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
