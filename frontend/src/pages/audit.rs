//! `/t/:tenant_id/audit` (one tenant) and `/audit` (everything, operator admins and support):
//! who changed what, newest first, a page at a time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use tandem_shared::Role;
use tandem_shared::api::audit::AuditEntry;
use tandem_shared::ids::{AuditEntryId, TenantId};

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::app::{use_session, use_tenants};
use crate::components::{EmptyState, ErrorBanner, Loading, format_time};

#[derive(Clone, Copy)]
enum Scope {
    Tenant(Memo<TenantId>),
    Everything,
}

#[component]
pub fn TenantAuditPage() -> impl IntoView {
    crate::components::page_title("Audit log");
    let tenant = use_tenant();
    view! {
        <div class="page" data-testid="audit-page">
            <header class="page-header">
                <h2>"Audit log"</h2>
                <p class="muted">"Every change in this tenant: who did what, and when. Newest first."</p>
            </header>
            <Show
                when=move || tenant.can_read_audit.get()
                fallback=|| {
                    view! {
                        <div class="banner banner-info" data-testid="audit-not-allowed">
                            "Viewers cannot read the audit log. Ask one of the tenant's admins."
                        </div>
                    }
                }
            >
                <AuditLog scope=Scope::Tenant(tenant.id) />
            </Show>
        </div>
    }
}

#[component]
pub fn OperatorAuditPage() -> impl IntoView {
    crate::components::page_title("Audit log — all tenants");
    let session = use_session();
    let allowed = move || matches!(session.role(), Some(Role::OperatorAdmin | Role::Support));
    view! {
        <div class="page" data-testid="operator-audit-page">
            <header class="page-header">
                <h1>"Audit log — all tenants"</h1>
                <p class="muted">"Every change in every tenant, and the operator's own. Newest first."</p>
            </header>
            <Show
                when=allowed
                fallback=|| {
                    view! {
                        <div class="banner banner-info">
                            "Only operator admins and support read the whole audit log. Open a tenant to see its log."
                        </div>
                    }
                }
            >
                <AuditLog scope=Scope::Everything />
            </Show>
        </div>
    }
}

#[component]
fn AuditLog(scope: Scope) -> impl IntoView {
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next_before = RwSignal::new(None::<AuditEntryId>);
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<ApiFailure>);
    // Answers for an earlier tenant (or an earlier start) are dropped.
    let generation = StoredValue::new(0u32);
    let last_before = StoredValue::new(None::<AuditEntryId>);

    let load = move |before: Option<AuditEntryId>| {
        let tenant_id = match scope {
            Scope::Tenant(id) => Some(id.get_untracked()),
            Scope::Everything => None,
        };
        let started = generation.get_value();
        last_before.set_value(before);
        loading.set(true);
        error.set(None);
        spawn_local(async move {
            let result = match tenant_id {
                Some(id) => api::audit::tenant_page(id, before).await,
                None => api::audit::everything_page(before).await,
            };
            if generation.try_get_value() != Some(started) {
                return;
            }
            match result {
                Ok(page) => {
                    entries.update(|list| list.extend(page.entries));
                    next_before.set(page.next_before);
                }
                Err(failure) => error.set(Some(failure)),
            }
            loading.set(false);
        });
    };

    Effect::new(move |_| {
        if let Scope::Tenant(id) = scope {
            id.track();
        }
        generation.update_value(|n| *n += 1);
        entries.set(Vec::new());
        next_before.set(None);
        load(None);
    });

    let show_tenant = matches!(scope, Scope::Everything);
    let table = move || {
        let list = entries.get();
        if list.is_empty() {
            if loading.get() || error.with(Option::is_some) {
                return None;
            }
            return Some(
                view! {
                    <EmptyState message="No changes recorded yet. Changes to users, API keys and settings appear here as they happen." />
                }
                .into_any(),
            );
        }
        Some(view! { <AuditTable entries=list show_tenant=show_tenant /> }.into_any())
    };

    view! {
        <section class="card">
            {table}
            {move || loading.get().then(|| view! { <Loading label="Loading the audit log…" /> })}
            {move || {
                error
                    .get()
                    .map(|failure| {
                        view! {
                            <ErrorBanner
                                title="Could not load the audit log"
                                failure=failure
                                on_retry=move || load(last_before.get_value())
                            />
                        }
                    })
            }}
            {move || {
                let more = next_before.get();
                if loading.get() || error.with(Option::is_some) {
                    return None;
                }
                Some(match more {
                    Some(before) => view! {
                        <div class="load-more">
                            <button type="button" class="button secondary" data-testid="audit-load-more" on:click=move |_| load(Some(before))>
                                "Load older entries"
                            </button>
                        </div>
                    }
                    .into_any(),
                    None if !entries.with(Vec::is_empty) => view! {
                        <p class="muted small end-of-log" data-testid="audit-end">
                            "That is everything: the log starts here."
                        </p>
                    }
                    .into_any(),
                    None => ().into_any(),
                })
            }}
        </section>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>, show_tenant: bool) -> impl IntoView {
    let tenants = use_tenants().0;
    let tenant_name = move |id: Option<TenantId>| match id {
        None => "Operator".to_string(),
        Some(id) => tenants
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|t| t.id == id))
            .map(|t| t.name)
            .unwrap_or_else(|| short_id(&id.to_string())),
    };
    view! {
        <div class="table-wrap">
            <table class="audit-table" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        {show_tenant.then(|| view! { <th scope="col">"Tenant"</th> })}
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|entry| {
                            let details = describe(&entry.details);
                            view! {
                                <tr data-testid="audit-row" data-action=entry.action.clone()>
                                    <td class="nowrap">{format_time(&entry.created_at)}</td>
                                    {show_tenant.then(|| view! { <td>{tenant_name(entry.tenant_id)}</td> })}
                                    <td class="break">
                                        {entry.actor.clone()}
                                        <div class="muted small">{actor_kind(&entry.actor_kind).to_string()}</div>
                                    </td>
                                    <td>
                                        <span class="action-pill">{entry.action.clone()}</span>
                                    </td>
                                    <td>
                                        {entry.target_kind.clone()}
                                        {entry
                                            .target_id
                                            .as_deref()
                                            .map(|id| view! { <div class="muted small"><code title=id.to_string()>{short_id(id)}</code></div> })}
                                    </td>
                                    <td class="details">
                                        {details
                                            .into_iter()
                                            .map(|(key, value)| {
                                                view! {
                                                    <div>
                                                        <span class="muted">{key} ": "</span>
                                                        {value}
                                                    </div>
                                                }
                                            })
                                            .collect_view()}
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

fn actor_kind(kind: &str) -> &str {
    match kind {
        "user" => "person",
        "api_key" => "API key",
        "cli" => "command line",
        "system" => "Tandem",
        other => other,
    }
}

fn short_id(id: &str) -> String {
    if id.len() > 13 {
        format!("{}…", &id[..8])
    } else {
        id.to_string()
    }
}

/// `details` as "key: value" lines; `{from, to}` pairs become "a → b" and unchanged ones are
/// left out.
fn describe(details: &Value) -> Vec<(String, String)> {
    match details {
        Value::Object(map) => map
            .iter()
            .filter_map(|(key, value)| {
                if let Value::Object(pair) = value
                    && let (Some(from), Some(to)) = (pair.get("from"), pair.get("to"))
                {
                    return (from != to).then(|| (key.clone(), format!("{} → {}", text(from), text(to))));
                }
                Some((key.clone(), text(value)))
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![("details".to_string(), text(other))],
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::describe;

    #[test]
    fn details_read_as_lines_and_unchanged_pairs_are_left_out() {
        let details = json!({
            "email": "maria@example.com",
            "role": { "from": "viewer", "to": "admin" },
            "name": { "from": "Maria", "to": "Maria" },
            "is_demo": true,
        });
        let mut lines = describe(&details);
        lines.sort();
        assert_eq!(
            lines,
            vec![
                ("email".to_string(), "maria@example.com".to_string()),
                ("is_demo".to_string(), "true".to_string()),
                ("role".to_string(), "viewer → admin".to_string()),
            ]
        );
        assert!(describe(&json!(null)).is_empty());
    }
}
