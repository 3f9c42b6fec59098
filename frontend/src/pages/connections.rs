//! `/t/:tenant_id/connections`: the CRMs of the catalogue, one environment at a time
//! (`?environment=sandbox|production`). Admins connect a CRM through its consent page (the
//! browser leaves Tandem and comes back with `?connected=<crm>`), test, reconnect and disconnect
//! it; everyone else sees the same cards without the buttons.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_shared::ErrorCode;
use tandem_shared::api::connections::{
    Connection, ConnectionCheck, ConnectionStatus, ConnectionTarget, ProviderInfo, StartConnectRequest,
};
use tandem_shared::api::tenants::EnvironmentKind;
use tandem_shared::ids::TenantId;

use super::connection_credentials::CredentialsForm;
use super::connection_limits::{ApiBudget, LimitsEditor};
use super::tenant::use_tenant;
use crate::api::{self, ApiFailure, capitalise};
use crate::app::use_tenants;
use crate::components::{
    ConfirmDialog, ConnectionStatusBadge, EmptyState, EnvironmentSwitch, ErrorBanner, Loading, Notice, browser_now,
    format_time, relative_time,
};

/// `contact` → `Contacts`, `line_item` → `Line items`.
fn object_label(object: &str) -> String {
    match object {
        "company" => "Companies".to_string(),
        other => format!("{}s", capitalise(&other.replace('_', " "))),
    }
}

/// `revoked access; connect again` → `Revoked access; connect again.`
fn sentence(text: &str) -> String {
    let text = capitalise(text.trim());
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

fn target_label(target: ConnectionTarget, provider: &str) -> String {
    match target {
        ConnectionTarget::Sandbox => format!("Sandbox CRM (Tandem's emulation of {provider})"),
        ConnectionTarget::Live => format!("Live {provider} account"),
    }
}

/// What the person reads when connecting failed: the server's explanation in full where it is
/// the point (a CRM not set up for this environment, a CRM that cannot be connected yet).
fn connect_problem(failure: &ApiFailure) -> (String, String) {
    match failure.code() {
        Some(ErrorCode::Conflict) if failure.field() == Some("environment") => (
            "Not set up for this environment".to_string(),
            format!("{}.", capitalise(&failure.detail())),
        ),
        Some(ErrorCode::Conflict) | Some(ErrorCode::InvalidField) => (
            "Cannot connect".to_string(),
            format!("{}.", capitalise(&failure.detail())),
        ),
        _ => ("Could not connect".to_string(), failure.message()),
    }
}

/// Where a page of this tenant shows an environment.
fn page_href(tenant_id: TenantId, environment: EnvironmentKind) -> String {
    format!("/t/{tenant_id}/connections?environment={}", environment.as_str())
}

#[derive(Clone, PartialEq)]
enum Loaded {
    Loading,
    CatalogueFailed(ApiFailure),
    ConnectionsFailed(ApiFailure),
    Ready(Vec<ProviderInfo>),
}

/// The CRM just connected, from the address the consent flow returned to.
#[derive(Clone, PartialEq)]
struct JustConnected {
    provider: String,
    environment: EnvironmentKind,
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    crate::components::page_title("Connections");
    let tenant = use_tenant();
    let tenants = use_tenants().0;
    let query = use_query_map();
    let navigate = use_navigate();

    let environment = Memo::new(move |_| {
        query
            .with(|q| q.get("environment"))
            .and_then(|e| EnvironmentKind::parse(&e))
            .unwrap_or(EnvironmentKind::Sandbox)
    });
    let is_demo = Memo::new(move |_| {
        let id = tenant.id.get();
        tenants
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.iter().any(|t| t.id == id && t.is_demo))
    });
    let catalogue = LocalResource::new(api::connections::catalogue);
    let connections = LocalResource::new(move || {
        let id = tenant.id.get();
        async move { api::connections::list(id).await }
    });
    // Only this tenant's: after switching tenants the previous list stays until the new one is in.
    let connection_list = Memo::new(move |_| {
        let id = tenant.id.get();
        let mut list = connections.get().and_then(Result::ok).unwrap_or_default();
        list.retain(|c| c.tenant_id == id);
        list
    });
    let loaded = Memo::new(move |_| match (catalogue.get(), connections.get()) {
        (Some(Err(failure)), _) => Loaded::CatalogueFailed(failure),
        (_, Some(Err(failure))) => Loaded::ConnectionsFailed(failure),
        (Some(Ok(providers)), Some(Ok(_))) => Loaded::Ready(providers),
        _ => Loaded::Loading,
    });

    // Back from the consent page: say so once, and drop `connected` from the address so that a
    // reload does not say it again.
    let just_connected = RwSignal::new(None::<JustConnected>);
    Effect::new(move |_| {
        let provider = query.with(|q| q.get("connected"));
        if let Some(provider) = provider.filter(|p| !p.is_empty()) {
            let environment = environment.get_untracked();
            // Connected from the activation wizard: back to it, at the step it left.
            let tenant_id = tenant.id.get_untracked();
            if crate::pages::activate::saved_progress(tenant_id).is_some_and(|p| {
                p.step == crate::pages::activate::Step::Connect && p.provider.as_deref() == Some(provider.as_str())
            }) {
                // Not from inside this effect: leaving the page disposes it.
                let navigate = navigate.clone();
                set_timeout(
                    move || {
                        navigate(
                            &format!("/t/{tenant_id}/activate"),
                            NavigateOptions {
                                replace: true,
                                ..Default::default()
                            },
                        )
                    },
                    std::time::Duration::ZERO,
                );
                return;
            }
            just_connected.set(Some(JustConnected { provider, environment }));
            navigate(
                &page_href(tenant.id.get_untracked(), environment),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    // Another tenant: the notice was about the previous one.
    Effect::new(move |previous: Option<TenantId>| {
        let id = tenant.id.get();
        if previous.is_some_and(|previous| previous != id) {
            just_connected.set(None);
        }
        id
    });

    let notice = move || {
        let JustConnected { provider, environment } = just_connected.get()?;
        let connection = connection_list.with(|list| {
            list.iter()
                .find(|c| c.provider == provider && c.environment == environment)
                .cloned()
        });
        let name = connection.as_ref().map(|c| c.provider_name.clone()).or_else(|| {
            catalogue
                .get()
                .and_then(Result::ok)
                .and_then(|list| list.into_iter().find(|p| p.id == provider))
                .map(|p| p.name)
        });
        let name = name.unwrap_or_else(|| provider.clone());
        let headline = match &connection {
            Some(connection) => format!("{name} connected: {}", connection.account_name),
            None => format!("{name} connected."),
        };
        Some(view! {
            <Notice
                testid="connected-notice"
                on_dismiss=Callback::new(move |_| just_connected.set(None))
            >
                <p>
                    <strong>{headline}</strong>
                </p>
                <p class="small">
                    {format!(
                        "The {} environment now uses this account. Use Test connection at any time to check that it still answers.",
                        environment.label(),
                    )}
                </p>
            </Notice>
        })
    };

    let to_disconnect = RwSignal::new(None::<Connection>);
    let disconnect_pending = RwSignal::new(false);
    let disconnect_error = RwSignal::new(None::<ApiFailure>);
    let confirm_disconnect = move || {
        let Some(connection) = to_disconnect.get_untracked() else {
            return;
        };
        disconnect_pending.set(true);
        disconnect_error.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::connections::disconnect(tenant_id, connection.id).await {
                Ok(()) => {
                    to_disconnect.set(None);
                    just_connected.update(|notice| {
                        if notice.as_ref().is_some_and(|n| {
                            n.provider == connection.provider && n.environment == connection.environment
                        }) {
                            *notice = None;
                        }
                    });
                    connections.refetch();
                }
                Err(failure) => disconnect_error.set(Some(failure)),
            }
            disconnect_pending.set(false);
        });
    };

    let connected_count =
        move |kind: EnvironmentKind| connection_list.with(|list| list.iter().filter(|c| c.environment == kind).count());

    let cards = move || {
        match loaded.get() {
        Loaded::Loading => view! { <Loading label="Loading connections…" /> }.into_any(),
        Loaded::CatalogueFailed(failure) => view! {
            <ErrorBanner title="Could not load the CRM catalogue" failure=failure on_retry=move || catalogue.refetch() />
        }
        .into_any(),
        Loaded::ConnectionsFailed(failure) => view! {
            <ErrorBanner title="Could not load connections" failure=failure on_retry=move || connections.refetch() />
        }
        .into_any(),
        Loaded::Ready(providers) if providers.is_empty() => {
            view! { <EmptyState message="Tandem knows no CRMs yet. Contact support." /> }.into_any()
        }
        Loaded::Ready(providers) => {
            // Drawn afresh per tenant and environment: a card's test result or error belongs to
            // the connection it was shown for.
            let environment = environment.get();
            tenant.id.track();
            let (available, coming): (Vec<_>, Vec<_>) = providers.into_iter().partition(|p| p.available);
            let card = move |provider: ProviderInfo| {
                let id = provider.id.clone();
                let connection = Signal::derive(move || {
                    connection_list.with(|list| {
                        list.iter()
                            .find(|c| c.provider == id && c.environment == environment)
                            .cloned()
                    })
                });
                view! {
                    <ProviderCard
                        provider=provider
                        environment=environment
                        connection=connection
                        on_changed=Callback::new(move |_| connections.refetch())
                        on_disconnect=Callback::new(move |connection: Connection| {
                            disconnect_error.set(None);
                            to_disconnect.set(Some(connection));
                        })
                    />
                }
            };
            view! {
                <section aria-labelledby="available-title" class="provider-section">
                    <h3 id="available-title" class="section-heading">
                        "Available CRMs"
                    </h3>
                    <div class="provider-grid" data-testid="available-providers">
                        {available.into_iter().map(card).collect_view()}
                    </div>
                </section>
                {(!coming.is_empty())
                    .then(|| {
                        view! {
                            <section aria-labelledby="coming-title" class="provider-section">
                                <h3 id="coming-title" class="section-heading">
                                    "Coming soon"
                                </h3>
                                <div class="provider-grid" data-testid="coming-soon-providers">
                                    {coming.into_iter().map(card).collect_view()}
                                </div>
                            </section>
                        }
                    })}
            }
            .into_any()
        }
    }
    };

    let environment_hint = move || {
        let text = match (environment.get(), is_demo.get()) {
            (_, true) => "Demo tenants connect both environments to Tandem's sandbox CRMs: nothing real is touched.",
            (EnvironmentKind::Sandbox, false) => {
                "Sandbox connections go to the operator's CRM test app where one is set up, otherwise to Tandem's sandbox CRMs."
            }
            (EnvironmentKind::Production, false) => {
                "Production connections go to the tenant's real CRM accounts, through the app the operator registered with each CRM."
            }
        };
        view! {
            <p class="muted small env-hint" data-testid="environment-hint">
                {text}
            </p>
        }
    };

    view! {
        <div class="page" data-testid="connections-page">
            <header class="page-header">
                <h2>"Connections"</h2>
                <p class="muted">
                    "The CRM accounts this tenant's data syncs with. Each environment connects its own account: connect one here and approve Tandem's access on the CRM's own page."
                </p>
                <Show when=move || !tenant.can_write.get()>
                    <p class="muted small read-only-hint" data-testid="connections-read-only">
                        "Only admins can connect, test, reconnect or disconnect CRMs."
                    </p>
                </Show>
            </header>
            {notice}
            <div class="env-bar">
                <EnvironmentSwitch
                    current=environment
                    href=Callback::new(move |kind| page_href(tenant.id.get(), kind))
                    detail=Callback::new(move |kind| {
                        match connected_count(kind) {
                            0 => None,
                            n => Some(format!("{n} connected")),
                        }
                    })
                />
                {environment_hint}
            </div>
            {cards}
            {move || {
                to_disconnect
                    .get()
                    .map(|connection| {
                        let provider = connection.provider_name.clone();
                        view! {
                            <ConfirmDialog
                                title=format!("Disconnect {provider}")
                                message=format!(
                                    "Disconnect {provider} ({}) from the {} environment? Tandem revokes its access at {provider} and deletes the stored tokens. Anything that syncs through this connection stops until {provider} is connected again.",
                                    connection.account_name,
                                    connection.environment.label(),
                                )
                                confirm_label="Disconnect"
                                busy=disconnect_pending
                                error=disconnect_error
                                on_confirm=Callback::new(move |_| confirm_disconnect())
                                on_cancel=Callback::new(move |_| to_disconnect.set(None))
                            />
                        }
                    })
            }}
        </div>
    }
}

/// What a card is busy with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Busy {
    /// Asking for the consent page, then leaving for it.
    Connecting,
    Testing,
}

#[component]
fn ProviderCard(
    provider: ProviderInfo,
    environment: EnvironmentKind,
    connection: Signal<Option<Connection>>,
    /// The connection changed (tested): load the list again.
    on_changed: Callback<()>,
    on_disconnect: Callback<Connection>,
) -> impl IntoView {
    let tenant = use_tenant();
    let busy = RwSignal::new(None::<Busy>);
    let problem = RwSignal::new(None::<(Busy, ApiFailure)>);
    let check = RwSignal::new(None::<ConnectionCheck>);

    // Back here with the browser's Back button after leaving for the consent page: the page may
    // come back as it was left, still "opening" the consent page.
    let pageshow = window_event_listener(leptos::ev::pageshow, move |_| busy.set(None));
    on_cleanup(move || pageshow.remove());

    let available = provider.available;
    let provider_id = StoredValue::new(provider.id.clone());
    let name = StoredValue::new(provider.name.clone());

    // Connect (no connection yet) or reconnect (the same account again).
    let start = move |_| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(Busy::Connecting));
        problem.set(None);
        check.set(None);
        let tenant_id = tenant.id.get_untracked();
        let existing = connection.get_untracked();
        let request = StartConnectRequest {
            provider: provider_id.get_value(),
            environment,
        };
        spawn_local(async move {
            let redirect = match existing {
                Some(existing) => api::connections::reconnect(tenant_id, existing.id).await,
                None => api::connections::authorize(tenant_id, &request).await,
            };
            // On success the browser is leaving: the button stays busy until it has.
            if let Err(failure) = redirect.and_then(|r| api::connections::go_to(&r.authorize_url)) {
                problem.set(Some((Busy::Connecting, failure)));
                busy.set(None);
            }
        });
    };

    let run_test = move |_| {
        let Some(current) = connection.get_untracked() else {
            return;
        };
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(Busy::Testing));
        problem.set(None);
        check.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::connections::test(tenant_id, current.id).await {
                Ok(result) => {
                    check.set(Some(result));
                    on_changed.run(());
                }
                Err(failure) => problem.set(Some((Busy::Testing, failure))),
            }
            busy.set(None);
        });
    };

    let connected = move || connection.with(Option::is_some);
    let state = move || {
        if !available {
            "coming-soon"
        } else if connected() {
            "connected"
        } else {
            "not-connected"
        }
    };

    let badge = move || match connection.get() {
        _ if !available => view! { <span class="badge coming-soon-badge">"Coming soon"</span> }.into_any(),
        Some(connection) => view! { <ConnectionStatusBadge status=connection.status /> }.into_any(),
        None => view! { <span class="badge neutral">"Not connected"</span> }.into_any(),
    };

    let objects = provider
        .objects
        .iter()
        .map(|o| object_label(o))
        .collect::<Vec<_>>()
        .join(", ");

    let problem_view = move || {
        problem.get().map(|(action, failure)| {
            let (title, text) = match action {
                Busy::Connecting => connect_problem(&failure),
                Busy::Testing => ("Could not test the connection".to_string(), failure.message()),
            };
            // A CRM not set up for this environment is for the operator to fix, not a failure.
            let class = if failure.code() == Some(ErrorCode::Conflict) && failure.field() == Some("environment") {
                "banner banner-warning card-problem"
            } else {
                "banner banner-error card-problem"
            };
            view! {
                <div class=class role="alert" data-testid="connect-error">
                    <p>
                        <strong>{title} ":"</strong>
                        " "
                        {text}
                    </p>
                </div>
            }
        })
    };

    let check_view = move || {
        check.get().map(|result| {
            let (class, icon, headline) = if result.ok {
                ("check-result check-ok", "✓", "Connection works")
            } else {
                ("check-result check-failed", "✗", "Connection failed")
            };
            view! {
                <div class=class data-testid="check-result" data-ok=result.ok.to_string()>
                    <span class="check-icon" aria-hidden="true">
                        {icon}
                    </span>
                    <p>
                        <strong>{headline}</strong>
                        " — "
                        {capitalise(&result.message)}
                        " "
                        <span class="muted nowrap">{format!("({} ms)", result.latency_ms)}</span>
                    </p>
                </div>
            }
        })
    };

    let details = move || {
        connection.get().map(|connection| {
            let now = browser_now();
            let when = move |at: &Option<chrono::DateTime<chrono::Utc>>, never: &'static str| match at {
                Some(at) => view! {
                    <span class="nowrap">{format_time(at)}</span>
                    " "
                    <span class="muted small nowrap">{format!("({})", relative_time(at, &now))}</span>
                }
                .into_any(),
                None => view! { <span class="muted">{never}</span> }.into_any(),
            };
            let reason = connection.last_error.as_deref().map(sentence);
            let status_note = match connection.status {
                ConnectionStatus::Healthy => None,
                ConnectionStatus::NeedsReauth => Some((
                    format!("{} no longer accepts Tandem's access.", connection.provider_name),
                    format!(
                        "{}Syncs are paused until the connection is reconnected.",
                        reason.map(|r| format!("{r} ")).unwrap_or_default()
                    ),
                )),
                ConnectionStatus::Error => Some((
                    "The last check failed.".to_string(),
                    reason.unwrap_or_else(|| "No details were given.".to_string()),
                )),
            };
            view! {
                {status_note
                    .map(|(headline, text)| {
                        view! {
                            <div
                                class=format!("status-note status-note-{}", connection.status.as_str())
                                data-testid="status-note"
                            >
                                <strong>{headline}</strong>
                                " "
                                {text}
                            </div>
                        }
                    })}
                <dl class="connection-facts">
                    <div class="fact-wide">
                        <dt>"Account"</dt>
                        <dd data-testid="account-name">
                            <strong class="break">{connection.account_name.clone()}</strong>
                            " "
                            <code class="small">{connection.account_id.clone()}</code>
                            {connection
                                .account_user
                                .clone()
                                .map(|user| view! { <div class="muted small break">"as " {user}</div> })}
                        </dd>
                    </div>
                    <div>
                        <dt>"Connects to"</dt>
                        <dd data-testid="connection-target">
                            {target_label(connection.target, &connection.provider_name)}
                        </dd>
                    </div>
                    <div>
                        <dt>"Connected"</dt>
                        <dd>
                            <span class="nowrap">{format_time(&connection.connected_at)}</span>
                            {connection
                                .connected_by
                                .clone()
                                .map(|by| view! { <div class="muted small break">"by " {by}</div> })}
                        </dd>
                    </div>
                    <div>
                        <dt>"Last token refresh"</dt>
                        <dd data-testid="last-refresh">{when(&connection.last_refreshed_at, "Not refreshed yet")}</dd>
                    </div>
                    <div>
                        <dt>"Access token expires"</dt>
                        <dd>{when(&connection.access_expires_at, "Does not expire")}</dd>
                    </div>
                    <div>
                        <dt>"Last check"</dt>
                        <dd data-testid="last-check">{when(&connection.last_checked_at, "Not checked yet")}</dd>
                    </div>
                    <ApiBudget limits=connection.limits.clone() provider_name=connection.provider_name.clone() />
                </dl>
            }
        })
    };

    let actions = move || {
        if !tenant.can_write.get() || !available {
            return None;
        }
        let connecting = move || busy.get() == Some(Busy::Connecting);
        let disabled = move || busy.get().is_some();
        Some(match connection.get() {
            None => view! {
                <div class="card-actions">
                    <button
                        type="button"
                        class="button primary"
                        data-testid="connect-button"
                        aria-label=format!("Connect {} ({})", name.get_value(), environment.label())
                        disabled=disabled
                        on:click=start
                    >
                        {move || if connecting() { format!("Opening {}…", name.get_value()) } else { "Connect".to_string() }}
                    </button>
                </div>
            }
            .into_any(),
            Some(current) => {
                let needs_reauth = current.status == ConnectionStatus::NeedsReauth;
                let for_disconnect = current.clone();
                view! {
                    <div class="card-actions">
                        {needs_reauth
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="button primary"
                                        data-testid="reconnect-button"
                                        aria-label=format!("Reconnect {}", name.get_value())
                                        disabled=disabled
                                        on:click=start
                                    >
                                        {move || if connecting() { format!("Opening {}…", name.get_value()) } else { "Reconnect".to_string() }}
                                    </button>
                                }
                            })}
                        <button
                            type="button"
                            class="button secondary"
                            data-testid="test-button"
                            aria-label=format!("Test connection to {}", name.get_value())
                            disabled=disabled
                            on:click=run_test
                        >
                            {move || if busy.get() == Some(Busy::Testing) { "Testing…" } else { "Test connection" }}
                        </button>
                        {(!needs_reauth)
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="button secondary"
                                        data-testid="reconnect-button"
                                        aria-label=format!("Reconnect {}", name.get_value())
                                        disabled=disabled
                                        on:click=start
                                    >
                                        {move || if connecting() { format!("Opening {}…", name.get_value()) } else { "Reconnect".to_string() }}
                                    </button>
                                }
                            })}
                        <button
                            type="button"
                            class="button danger-outline push-right"
                            data-testid="disconnect-button"
                            aria-label=format!("Disconnect {}", name.get_value())
                            disabled=disabled
                            on:click=move |_| on_disconnect.run(for_disconnect.clone())
                        >
                            "Disconnect"
                        </button>
                    </div>
                }
                .into_any()
            }
        })
    };

    // Drawn once per connection (not with each refresh of it), so that the form stays open
    // with its message after saving.
    let connected_now = Memo::new(move |_| connection.with(|c| c.as_ref().map(|c| c.id)));
    let limits_editor = move || {
        (tenant.can_write.get() && connected_now.get().is_some())
            .then(|| view! { <LimitsEditor connection=connection on_saved=on_changed /> })
    };

    let credential_fields = StoredValue::new(provider.credential_fields.clone());
    let credentials_form = move || {
        (tenant.can_write.get() && available && credential_fields.with_value(|f| !f.is_empty())).then(|| {
            view! {
                <CredentialsForm
                    provider_id=provider_id.get_value()
                    provider_name=name.get_value()
                    environment=environment
                    fields=credential_fields.get_value()
                    connected=Signal::derive(connected)
                    on_connected=on_changed
                />
            }
        })
    };

    let not_connected_note = move || {
        (!connected()).then(|| {
            let text = if !available {
                format!("Tandem cannot connect to {} yet.", name.get_value())
            } else {
                format!("Not connected in the {} environment.", environment.label())
            };
            view! { <p class="muted small">{text}</p> }
        })
    };

    view! {
        <article
            class="card provider-card"
            class:provider-unavailable=!available
            data-testid="provider-card"
            data-provider=provider.id.clone()
            data-state=state
            aria-labelledby=format!("provider-{}-name", provider.id)
        >
            <header class="provider-head">
                <h4 id=format!("provider-{}-name", provider.id)>{provider.name.clone()}</h4>
                {badge}
            </header>
            <dl class="capabilities">
                <div>
                    <dt>"Objects"</dt>
                    <dd>{objects}</dd>
                </div>
                <div>
                    <dt>"Webhooks"</dt>
                    <dd data-testid="webhooks">{if provider.webhooks { "Yes" } else { "No" }}</dd>
                </div>
            </dl>
            {not_connected_note}
            {details}
            {limits_editor}
            <div class="check-slot" role="status" aria-live="polite">
                {check_view}
            </div>
            {problem_view}
            {actions}
            {credentials_form}
        </article>
    }
}

#[cfg(test)]
mod tests {
    use tandem_shared::ErrorBody;

    use super::*;

    #[test]
    fn sentences_end_with_a_full_stop() {
        assert_eq!(sentence("access was revoked"), "Access was revoked.");
        assert_eq!(sentence("Done."), "Done.");
    }

    #[test]
    fn objects_read_as_plurals() {
        assert_eq!(object_label("contact"), "Contacts");
        assert_eq!(object_label("company"), "Companies");
        assert_eq!(object_label("line_item"), "Line items");
    }

    #[test]
    fn a_crm_not_set_up_for_production_is_explained_in_full() {
        let failure = ApiFailure::Api {
            status: 409,
            body: ErrorBody {
                code: ErrorCode::Conflict,
                message: "HubSpot is not set up for production: the operator must register an app with HubSpot and set TANDEM_CRM__HUBSPOT__PRODUCTION__CLIENT_ID and …__CLIENT_SECRET".into(),
                field: Some("environment".into()),
                request_id: "r".into(),
            },
            retry_after_secs: None,
        };
        let (title, text) = connect_problem(&failure);
        assert_eq!(title, "Not set up for this environment");
        assert!(text.starts_with("HubSpot is not set up for production: the operator must register an app"));
        assert!(text.contains("TANDEM_CRM__HUBSPOT__PRODUCTION__CLIENT_ID"));
    }
}
