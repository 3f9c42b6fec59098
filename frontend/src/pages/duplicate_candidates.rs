//! A pipeline's duplicate candidates: records it skipped because a twin already exists on the
//! other side (same email, VAT id…). For each, a person says "the same record" — link the two,
//! with one side's values winning — or "different records" — create it after all. A replay
//! applies the decision at once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::failed_records::{DecideDuplicatesRequest, DuplicateDecision, FailedRecord};
use tandem_shared::api::pipelines::Side;
use tandem_shared::ids::{FailedRecordId, PipelineId};

use super::tenant::use_tenant;
use crate::api::sync::FailedFilter;
use crate::api::{self, ApiFailure};
use crate::components::{ErrorBanner, browser_now, relative_time};

/// `Ada Lovelace <ada@example.com>` from the record as it came in, as far as it says.
fn who(record: &FailedRecord) -> String {
    let text = |name: &str| {
        record.source_payload[name]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = [
        text("first_name").or_else(|| text("firstname")),
        text("last_name").or_else(|| text("lastname")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let name = if name.is_empty() {
        text("name").unwrap_or_default()
    } else {
        name
    };
    match (name.is_empty(), record.record_email.as_deref()) {
        (false, Some(email)) => format!("{name} <{email}>"),
        (true, Some(email)) => email.to_string(),
        (false, None) => name,
        (true, None) => record.record_id.clone(),
    }
}

#[component]
pub fn DuplicateCandidates(
    pipeline_id: Memo<PipelineId>,
    /// What the pipeline's source and target are called (`The app`, `HubSpot (acme)`).
    #[prop(into)]
    sides: Signal<(String, String)>,
    /// Changes when a run ends: runs make new candidates and settle decided ones.
    #[prop(into)]
    runs_ended: Signal<usize>,
) -> impl IntoView {
    let tenant = use_tenant();
    let candidates = LocalResource::new(move || {
        runs_ended.track();
        let (tenant_id, id) = (tenant.id.get(), pipeline_id.get());
        async move {
            let filter = FailedFilter {
                status: Some("open".into()),
                error_kind: Some("duplicate".into()),
                pipeline_id: Some(id),
                ..Default::default()
            };
            api::sync::failed_records(tenant_id, &filter).await
        }
    });
    let waiting = Memo::new(move |_| candidates.get().and_then(Result::ok).unwrap_or_default());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let done = RwSignal::new(None::<String>);
    let decide = move |ids: Vec<FailedRecordId>, decision: DuplicateDecision, leading: Option<Side>| {
        busy.set(true);
        error.set(None);
        done.set(None);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            let request = DecideDuplicatesRequest { ids, decision, leading };
            match api::sync::decide_duplicates(tenant_id, &request).await {
                Ok(acted) => {
                    let what = match decision {
                        DuplicateDecision::Link => "linked to its twin",
                        DuplicateDecision::CreateNew => "created as new records",
                    };
                    let _ = done.try_set(Some(format!("{} {what}: a sync has started.", acted.count)));
                    candidates.refetch();
                }
                Err(failure) => {
                    let _ = error.try_set(Some(failure));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    view! {
        <Show when=move || !waiting.with(Vec::is_empty) || done.with(Option::is_some)>
            <section class="card" aria-labelledby="duplicates-heading" data-testid="duplicate-candidates">
                <h3 id="duplicates-heading">"Duplicate candidates"</h3>
                <p>
                    "These records were not created because a record with the same email or company id already exists on the other side. Say whether each is the same record (link them, choosing whose values win) or a different one (create it)."
                </p>
                {move || error.get().map(|failure| view! { <ErrorBanner title="Could not decide" failure=failure /> })}
                {move || done.get().map(|text| view! { <p class="banner banner-success" role="status" data-testid="duplicates-decided">{text}</p> })}
                <ul class="held-list">
                    {move || {
                        waiting
                            .get()
                            .into_iter()
                            .map(|record| {
                                let id = record.id;
                                let twin = record.reason.crm_error.clone().unwrap_or_default();
                                let twin_id = twin["id"].as_str().unwrap_or("?").to_string();
                                let key = twin["key"].as_str().unwrap_or_default().replacen(':', " ", 1);
                                let (source, target) = sides.get();
                                let leading_source = format!("Same — {source} wins");
                                let leading_target = format!("Same — {target} wins");
                                view! {
                                    <li data-testid="duplicate-candidate" data-record=record.record_id.clone()>
                                        <p>
                                            <strong>{who(&record)}</strong>
                                            " looks like "
                                            <code data-testid="twin-id">{twin_id}</code>
                                            {(!key.is_empty()).then(|| format!(" (same {key})"))}
                                            " "
                                            <span class="muted small">{relative_time(&record.created_at, &browser_now())}</span>
                                        </p>
                                        <Show when=move || tenant.can_write.get()>
                                            <div class="button-row">
                                                <button
                                                    type="button"
                                                    class="button small"
                                                    data-testid="link-source-leads"
                                                    disabled=move || busy.get()
                                                    on:click=move |_| decide(vec![id], DuplicateDecision::Link, Some(Side::Source))
                                                >
                                                    {leading_source.clone()}
                                                </button>
                                                <button
                                                    type="button"
                                                    class="button secondary small"
                                                    data-testid="link-target-leads"
                                                    disabled=move || busy.get()
                                                    on:click=move |_| decide(vec![id], DuplicateDecision::Link, Some(Side::Target))
                                                >
                                                    {leading_target.clone()}
                                                </button>
                                                <button
                                                    type="button"
                                                    class="button secondary small"
                                                    data-testid="create-new"
                                                    disabled=move || busy.get()
                                                    on:click=move |_| decide(vec![id], DuplicateDecision::CreateNew, None)
                                                >
                                                    "Different — create it"
                                                </button>
                                            </div>
                                        </Show>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}
