//! `/t/:tenant_id/failed-records`: records that could not be synced, newest first, filtered by
//! status, error kind, object, when they failed and a record id or email. Each shows why in plain words, the field at
//! fault, the CRM's own error, what came in and what it was mapped to. After a fix (in the data
//! or the mapping) they are replayed — one, the ones ticked, or every one of a kind — or set
//! aside with a reason, which the audit log keeps.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::failed_records::{
    FailedRecord, FailedRecordSelection, FailedRecordStatus, IgnoreRequest, ReplayRequest,
};
use tandem_shared::ids::FailedRecordId;

use super::tenant::use_tenant;
use crate::api::sync::FailedFilter;
use crate::api::{self, ApiFailure};
use crate::components::{EmptyState, ErrorBanner, Loading, browser_now, format_time, relative_time};

/// What a failure kind means, for people.
fn kind_explained(kind: &str) -> &'static str {
    match kind {
        "mapping" => "The record could not be mapped: a value does not fit the mapping.",
        "email_rule" | "invalid_email" => "The email address is not one the CRM accepts.",
        "validation" => "The CRM refused a value.",
        "not_found" => "The linked record no longer exists in the CRM.",
        "conflict" => "Another record already has this unique value.",
        "duplicate" => {
            "A record with the same email or company id exists on the other side: decide under \"Duplicate candidates\" on its pipeline's page (link them, or create it anyway)."
        }
        "rejected" => "The CRM refused the request.",
        "retries_exhausted" => "The CRM kept failing; every retry was used.",
        "schema_drift" => "A mapped field or value changed in the CRM since the mapping was saved.",
        "no_sync_key" => "The CRM object lacks the field Tandem keeps its sync key in.",
        _ => "The record could not be synced.",
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A filter with a fixed list of `(value, label)` choices.
#[component]
fn FixedSelect(
    id: &'static str,
    label: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id data-testid=testid on:change=move |ev| value.set(event_target_value(&ev))>
                {options
                    .iter()
                    .map(|&(option, text)| {
                        view! {
                            <option value=option selected=move || value.get() == option>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn FailedRecordsPage() -> impl IntoView {
    crate::components::page_title("Failed records");
    let tenant = use_tenant();
    // `?q=` and `?status=` (from support search, say) start the filters.
    let query = leptos_router::hooks::use_query_map();
    let status = RwSignal::new(
        query
            .with_untracked(|q| q.get("status"))
            .unwrap_or_else(|| "open".to_string()),
    );
    let kind = RwSignal::new(String::new());
    let search = RwSignal::new(query.with_untracked(|q| q.get("q")).unwrap_or_default());
    let object = RwSignal::new(String::new());
    // Hours back from now; empty: any time.
    let within_hours = RwSignal::new(String::new());
    let filter = Memo::new(move |_| FailedFilter {
        status: Some(status.get()),
        error_kind: Some(kind.get()),
        q: Some(search.get()),
        pipeline_id: None,
        object: Some(object.get()),
        since: within_hours
            .get()
            .parse::<i64>()
            .ok()
            .map(|hours| browser_now() - chrono::Duration::hours(hours)),
    });
    let records = LocalResource::new(move || {
        let (tenant_id, filter) = (tenant.id.get(), filter.get());
        async move { api::sync::failed_records(tenant_id, &filter).await }
    });
    // The error kinds seen so far (the first list is every open record), for the filter and
    // "replay all of a kind"; a kind once seen stays offered.
    let kinds = RwSignal::new(BTreeSet::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = records.get() {
            let seen: Vec<String> = list.into_iter().map(|r| r.reason.kind).collect();
            if seen.iter().any(|k| !kinds.with_untracked(|known| known.contains(k))) {
                kinds.update(|known| known.extend(seen));
            }
        }
    });
    // Records being synced again: while there are any, everything here is read again every two
    // seconds, so that replayed records leave the list (or come back) without a reload.
    let replaying = LocalResource::new(move || {
        let tenant_id = tenant.id.get();
        let filter = FailedFilter {
            status: Some("replaying".into()),
            ..Default::default()
        };
        async move { api::sync::failed_records(tenant_id, &filter).await }
    });
    let replaying_count = Memo::new(move |_| replaying.get().and_then(Result::ok).map_or(0, |list| list.len()));
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if replaying_count.get_untracked() > 0 {
                replaying.refetch();
            }
        },
        std::time::Duration::from_secs(2),
    ) {
        on_cleanup(move || handle.clear());
    }
    Effect::new(move |previous: Option<usize>| {
        let now = replaying_count.get();
        if previous.is_some_and(|before| before != now) {
            records.refetch();
        }
        now
    });
    let ticked = RwSignal::new(BTreeSet::<FailedRecordId>::new());
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    let done = RwSignal::new(None::<String>);

    let act = move |replay: bool, selection: FailedRecordSelection| {
        error.set(None);
        done.set(None);
        let why = reason.get_untracked();
        busy.set(true);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            let result = if replay {
                let reason = (!why.trim().is_empty()).then(|| why.clone());
                api::sync::replay(tenant_id, &ReplayRequest { selection, reason }).await
            } else {
                api::sync::ignore(tenant_id, &IgnoreRequest { selection, reason: why }).await
            };
            match result {
                Ok(acted) => {
                    let verb = if replay { "queued to sync again" } else { "ignored" };
                    done.set(Some(format!(
                        "{} record{} {verb}.",
                        acted.count,
                        if acted.count == 1 { "" } else { "s" }
                    )));
                    ticked.set(BTreeSet::new());
                    reason.set(String::new());
                    records.refetch();
                    replaying.refetch();
                }
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    let selection_of_ticked = move || FailedRecordSelection {
        ids: Some(ticked.get_untracked().into_iter().collect()),
        ..Default::default()
    };

    let filters = move || {
        view! {
            <div class="filters" role="search">
                <div class="field">
                    <label for="failed-status">"Status"</label>
                    <select id="failed-status" on:change=move |ev| status.set(event_target_value(&ev))>
                        {[
                            FailedRecordStatus::Open,
                            FailedRecordStatus::Replaying,
                            FailedRecordStatus::Resolved,
                            FailedRecordStatus::Ignored,
                        ]
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_str() selected=move || status.get() == s.as_str()>
                                        {s.as_str()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="failed-kind">"Error kind"</label>
                    <select id="failed-kind" data-testid="kind-filter" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="" selected=move || kind.get().is_empty()>
                            "Any"
                        </option>
                        {move || {
                            kinds
                                .get()
                                .into_iter()
                                .map(|k| {
                                    let (value, label) = (k.clone(), k.clone());
                                    view! {
                                        <option value=k selected=move || kind.get() == value>
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </div>
                <FixedSelect
                    id="failed-object"
                    label="Records"
                    testid="object-filter"
                    value=object
                    options=&[
                        ("", "Any"),
                        ("contact", "Contacts"),
                        ("company", "Companies"),
                        ("deal", "Deals"),
                        ("appointment", "Appointments"),
                    ]
                />
                <FixedSelect
                    id="failed-when"
                    label="Failed"
                    testid="time-filter"
                    value=within_hours
                    options=&[
                        ("", "Any time"),
                        ("1", "In the last hour"),
                        ("24", "In the last 24 hours"),
                        ("168", "In the last 7 days"),
                        ("720", "In the last 30 days"),
                    ]
                />
                <div class="field">
                    <label for="failed-search">"Record id or email"</label>
                    <input
                        id="failed-search"
                        type="search"
                        placeholder="ada@example.com"
                        on:change=move |ev| search.set(event_target_value(&ev))
                    />
                </div>
            </div>
        }
    };

    // Support staff replay only with a reason; everyone ignores only with one.
    let reason_missing = move || tenant.reason_required.get() && reason.with(|r| r.trim().is_empty());
    let actions = move || {
        tenant.can_operate.get().then(|| {
            view! {
                <div class="bulk-actions" data-testid="bulk-actions">
                    <button
                        type="button"
                        class="button"
                        data-testid="replay-ticked"
                        disabled=move || busy.get() || ticked.with(BTreeSet::is_empty) || reason_missing()
                        on:click=move |_| act(true, selection_of_ticked())
                    >
                        {move || format!("Replay ticked ({})", ticked.with(BTreeSet::len))}
                    </button>
                    <Show when=move || !kind.get().is_empty()>
                        <button
                            type="button"
                            class="button secondary"
                            data-testid="replay-kind"
                            disabled=move || busy.get() || reason_missing()
                            on:click=move |_| {
                                act(
                                    true,
                                    FailedRecordSelection {
                                        error_kind: Some(kind.get_untracked()),
                                        ..Default::default()
                                    },
                                )
                            }
                        >
                            {move || format!("Replay every open \"{}\"", kind.get())}
                        </button>
                    </Show>
                    <div class="field inline-field">
                        <label for="ignore-reason">
                            {move || if tenant.reason_required.get() { "Reason (for the audit log)" } else { "Reason to ignore" }}
                        </label>
                        <input
                            id="ignore-reason"
                            type="text"
                            maxlength="500"
                            placeholder="Test data, not a real customer"
                            prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))
                        />
                    </div>
                    <button
                        type="button"
                        class="button secondary"
                        data-testid="ignore-ticked"
                        disabled=move || busy.get() || ticked.with(BTreeSet::is_empty) || reason.with(|r| r.trim().is_empty())
                        on:click=move |_| act(false, selection_of_ticked())
                    >
                        "Ignore ticked"
                    </button>
                </div>
            }
        })
    };

    let list = move || {
        match records.get() {
        None => view! { <Loading label="Loading failed records…" /> }.into_any(),
        Some(Err(failure)) => view! {
            <ErrorBanner title="Could not load the failed records" failure=failure on_retry=move || records.refetch() />
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <EmptyState message=if status.get() == "open"
                && kind.with(String::is_empty)
                && search.with(|s| s.trim().is_empty())
                && object.with(String::is_empty)
                && within_hours.with(String::is_empty)
            {
                "No failed records: everything that was read could be synced."
            } else {
                "No failed records match these filters."
            } />
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <ul class="failed-list" data-testid="failed-list">
                {list
                    .into_iter()
                    .map(|record| {
                        view! { <FailedRecordItem record=record ticked=ticked busy=busy on_replay=Callback::new(move |id| {
                            act(true, FailedRecordSelection { ids: Some(vec![id]), ..Default::default() })
                        }) /> }
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
                <h2>"Failed records"</h2>
                <p class="lead">
                    "Records Tandem could not sync, with the reason and the CRM's own error. Fix the data in the app or the CRM, or the mapping, then replay them; or ignore them with a reason."
                </p>
            </div>
            {filters}
            {actions}
            {move || error.get().map(|failure| view! { <ErrorBanner title="Could not do that" failure=failure /> })}
            {move || done.get().map(|text| view! { <p class="banner banner-success" role="status" data-testid="acted">{text}</p> })}
            {move || {
                let n = replaying_count.get();
                (n > 0)
                    .then(|| {
                        view! {
                            <p class="banner banner-info" role="status" data-testid="replaying">
                                <Loading label=format!(
                                    "{n} record{} being synced again…",
                                    if n == 1 { " is" } else { "s are" },
                                ) />
                            </p>
                        }
                    })
            }}
            {list}
        </div>
    }
}

#[component]
fn FailedRecordItem(
    record: FailedRecord,
    ticked: RwSignal<BTreeSet<FailedRecordId>>,
    busy: RwSignal<bool>,
    on_replay: Callback<FailedRecordId>,
) -> impl IntoView {
    let tenant = use_tenant();
    let id = record.id;
    let open = RwSignal::new(false);
    let is_open_status = record.status == FailedRecordStatus::Open;
    let mapping_href = format!("/t/{}/pipelines/{}", tenant.id.get_untracked(), record.pipeline_id);
    let field = record.reason.field.clone();
    // Jumps to the mapping rule that writes the field at fault.
    let field_href = field.as_ref().map(|f| {
        format!(
            "/t/{}/pipelines/{}/mapping/{}?field={}",
            tenant.id.get_untracked(),
            record.pipeline_id,
            record.flow.as_str(),
            js_sys::encode_uri_component(f)
        )
    });
    let tick_label = format!("Tick {}", record.record_id);
    view! {
        <li class="card failed-item" data-testid="failed-record" data-kind=record.reason.kind.clone()>
            <div class="failed-head">
                <Show when=move || tenant.can_operate.get() && is_open_status>
                    <input
                        type="checkbox"
                        aria-label=tick_label.clone()
                        data-testid="tick"
                        prop:checked=move || ticked.with(|t| t.contains(&id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            ticked.update(|t| {
                                if on {
                                    t.insert(id);
                                } else {
                                    t.remove(&id);
                                }
                            });
                        }
                    />
                </Show>
                <div class="failed-summary">
                    <p>
                        <strong>
                            <code>{record.record_id.clone()}</code>
                        </strong>
                        {record.record_email.clone().map(|e| format!(" · {e}"))}
                        " "
                        <span class="badge neutral">{record.reason.kind.clone()}</span>
                        " "
                        <span class="muted small" title=format_time(&record.created_at)>
                            {relative_time(&record.created_at, &browser_now())}
                        </span>
                    </p>
                    <p data-testid="failure-explained">{kind_explained(&record.reason.kind)}</p>
                    <p class="failure-message" data-testid="failure-message">
                        {field.clone().map(|f| view! { <span>"Field " <code>{f}</code> ": "</span> })}
                        {record.reason.message.clone()}
                    </p>
                    {record.ignored_reason.clone().map(|r| view! { <p class="small muted">"Ignored: " {r}</p> })}
                </div>
                <div class="form-actions">
                    <button
                        type="button"
                        class="button secondary small"
                        data-testid="toggle-details"
                        aria-expanded=move || open.get().to_string()
                        on:click=move |_| open.update(|o| *o = !*o)
                    >
                        {move || if open.get() { "Hide details" } else { "Details" }}
                    </button>
                    <Show when=move || tenant.can_operate.get() && is_open_status>
                        <button
                            type="button"
                            class="button small"
                            data-testid="replay-one"
                            disabled=move || busy.get()
                            on:click=move |_| on_replay.run(id)
                        >
                            "Replay"
                        </button>
                    </Show>
                </div>
            </div>
            <Show when=move || open.get()>
                <div class="payloads" data-testid="failed-details">
                    <div>
                        <h4>"What came in"</h4>
                        <pre data-testid="source-payload">{pretty(&record.source_payload)}</pre>
                    </div>
                    <div>
                        <h4>"What it was mapped to"</h4>
                        <pre data-testid="mapped-payload">
                            {record
                                .mapped_payload
                                .as_ref()
                                .map(pretty)
                                .unwrap_or_else(|| "It did not map: see the reason above.".to_string())}
                        </pre>
                    </div>
                    <div>
                        <h4>"The CRM's own error"</h4>
                        <pre data-testid="crm-error">
                            {record
                                .reason
                                .crm_error
                                .as_ref()
                                .map(pretty)
                                .unwrap_or_else(|| "None: Tandem stopped it before any call.".to_string())}
                        </pre>
                    </div>
                    <p class="small">
                        {format!("{} attempt(s). ", record.attempts)}
                        <a href=mapping_href.clone() data-testid="pipeline-of-record">
                            "Open its pipeline"
                        </a>
                        {field_href.clone().map(|href| view! {
                            " · "
                            <a href=href data-testid="mapping-of-record">"Open the mapping at this field"</a>
                        })}
                    </p>
                </div>
            </Show>
        </li>
    }
}
