//! `/support`: operator support's one search across every tenant — a tenant's name, an email,
//! the app's record id, a CRM's record id, a run id — with links into the tenant's own pages,
//! where support staff read runs, failed records and the audit log, and replay or ignore failed
//! records with a reason. The search box keeps its term in the address (`?q=`), to share.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_shared::api::support::{SupportHit, SupportHitKind};

use crate::api;
use crate::components::{EmptyState, ErrorBanner, Loading};

fn kind_label(kind: SupportHitKind) -> &'static str {
    match kind {
        SupportHitKind::Tenant => "Tenant",
        SupportHitKind::AppRecord => "App record",
        SupportHitKind::CrmRecord => "CRM record",
        SupportHitKind::Run => "Run",
        SupportHitKind::FailedRecord => "Failed record",
    }
}

/// Where to go for a hit: its tenant's page that shows it.
fn links(hit: &SupportHit) -> Vec<(&'static str, String)> {
    let t = hit.tenant_id;
    let encode = |s: &str| String::from(js_sys::encode_uri_component(s));
    let mut out = Vec::new();
    match hit.kind {
        SupportHitKind::Tenant => {
            out.push(("Pipelines", format!("/t/{t}/pipelines")));
            out.push(("Failed records", format!("/t/{t}/failed-records")));
            out.push(("Audit log", format!("/t/{t}/audit")));
        }
        SupportHitKind::Run => {
            if let (Some(p), Some(r)) = (hit.pipeline_id, hit.run_id) {
                out.push(("Open the run", format!("/t/{t}/pipelines/{p}?run={r}")));
            }
        }
        SupportHitKind::CrmRecord | SupportHitKind::AppRecord | SupportHitKind::FailedRecord => {
            if let Some(p) = hit.pipeline_id {
                out.push(("Its pipeline", format!("/t/{t}/pipelines/{p}")));
            }
            if let Some(id) = &hit.record_id {
                let status = if hit.kind == SupportHitKind::FailedRecord {
                    ""
                } else {
                    "&status=open"
                };
                out.push((
                    "Failed records for it",
                    format!("/t/{t}/failed-records?q={}{status}", encode(id)),
                ));
            }
        }
    }
    out
}

#[component]
pub fn SupportPage() -> impl IntoView {
    crate::components::page_title("Support search");
    let query = use_query_map();
    let navigate = use_navigate();
    let term = Memo::new(move |_| query.with(|q| q.get("q")).unwrap_or_default());
    let typed = RwSignal::new(term.get_untracked());
    let results = LocalResource::new(move || {
        let term = term.get();
        async move {
            if term.trim().is_empty() {
                None
            } else {
                Some(api::support::search(&term).await)
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        navigate(
            &format!("/support?q={}", js_sys::encode_uri_component(text.trim())),
            NavigateOptions::default(),
        );
    };
    let list = move || {
        match results.get() {
        None => view! { <Loading label="Searching every tenant…" /> }.into_any(),
        Some(None) => view! {
            <EmptyState message="Type a tenant's name, a customer's email, the app's record id, a CRM's record id or a run id." />
        }
        .into_any(),
        Some(Some(Err(failure))) => view! {
            <ErrorBanner title="Could not search" failure=failure on_retry=move || results.refetch() />
        }
        .into_any(),
        Some(Some(Ok(hits))) if hits.is_empty() => view! {
            <EmptyState message="Nothing found in any tenant. Ids must be given whole; emails and tenant names in any case." />
        }
        .into_any(),
        Some(Some(Ok(hits))) => view! {
            <ul class="support-hits" data-testid="support-hits">
                {hits
                    .into_iter()
                    .map(|hit| {
                        let to = links(&hit);
                        view! {
                            <li class="card support-hit" data-testid="support-hit" data-kind=format!("{:?}", hit.kind).to_lowercase()>
                                <p class="support-hit-head">
                                    <span class="badge neutral">{kind_label(hit.kind)}</span>
                                    <strong>{hit.title.clone()}</strong>
                                </p>
                                <p class="small">
                                    {hit.tenant_name.clone()}
                                    {hit.environment.map(|e| format!(" · {}", e.label()))}
                                    " · "
                                    {hit.detail.clone()}
                                </p>
                                <p class="small support-links">
                                    {to
                                        .into_iter()
                                        .map(|(label, href)| view! { <a href=href data-testid="support-link">{label}</a> })
                                        .collect_view()}
                                </p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
    };
    view! {
        <div class="page">
            <div>
                <h2>"Support search"</h2>
                <p class="lead">
                    "Find a customer's problem in any tenant. Open what you find to read its runs, failed records and audit log; replay or ignore failed records there, with a reason that goes to the audit log. No tenant setting can be changed from support."
                </p>
            </div>
            <form class="inline-form support-search" role="search" on:submit=submit>
                <label for="support-q">"Search"</label>
                <input
                    id="support-q"
                    type="search"
                    data-testid="support-q"
                    placeholder="acme, ada@example.com, c-1042, 0190…"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <button type="submit" class="button primary" data-testid="support-submit">"Search"</button>
            </form>
            {list}
        </div>
    }
}
