//! A pipeline's settings on its page: when it runs (CRM webhooks, a poll every N minutes, a daily
//! reconciliation), how duplicates and conflicts are settled, what happens to deletions, the
//! confirmed-email rule and the failure rate that pauses it. Saved together; the server checks
//! every value and names the one at fault.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::pipelines::{
    ConflictPolicy, DuplicatePolicy, Pipeline, PipelineSettings, Side, UpdatePipelineRequest,
};

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::ErrorBanner;

/// `0.1` → `10`, for a percent input.
fn percent(share: f64) -> String {
    let value = (share * 1000.0).round() / 10.0;
    format!("{value}")
}

/// What a person typed, as the settings' values; the label names the field at fault.
fn parse_settings(base: &PipelineSettings, form: &SettingsForm) -> Result<PipelineSettings, String> {
    let mut settings = base.clone();
    let number = |label: &str, text: &str| -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .map_err(|_| format!("{label}: {text:?} is not a number"))
    };
    settings.trigger.webhooks = form.webhooks.get_untracked();
    let minutes = number("Poll every (minutes)", &form.poll.get_untracked())?;
    if minutes.fract() != 0.0 || minutes < 0.0 {
        return Err(format!(
            "Poll every (minutes): {minutes} is not a whole number of minutes"
        ));
    }
    settings.trigger.poll_every_minutes = minutes as u32;
    let daily = form.daily.get_untracked();
    settings.trigger.daily_reconciliation_at = (!daily.trim().is_empty()).then(|| daily.trim().to_string());
    settings.matching.duplicates = match form.duplicates.get_untracked().as_str() {
        "merge_source" => DuplicatePolicy::Merge { leading: Side::Source },
        "merge_target" => DuplicatePolicy::Merge { leading: Side::Target },
        _ => DuplicatePolicy::SkipAndNotify,
    };
    let fuzzy = form.fuzzy.get_untracked();
    settings.matching.fuzzy_threshold = if fuzzy.trim().is_empty() {
        None
    } else {
        Some(number("Flag similar names from", &fuzzy)?)
    };
    settings.conflicts = match form.conflicts.get_untracked().as_str() {
        "leading_source" => ConflictPolicy::Leading { side: Side::Source },
        "leading_target" => ConflictPolicy::Leading { side: Side::Target },
        "last_writer_wins" => ConflictPolicy::LastWriterWins,
        // Field ownership is kept as it is (edited through the API).
        _ => base.conflicts.clone(),
    };
    settings.deletes.propagate = form.propagate.get_untracked();
    let count = form.hold_count.get_untracked();
    settings.deletes.hold_above_count = if count.trim().is_empty() {
        None
    } else {
        let n = number("Hold deletions above (records)", &count)?;
        if n.fract() != 0.0 || n < 0.0 {
            return Err(format!("Hold deletions above (records): {n} is not a whole number"));
        }
        Some(n as u32)
    };
    let share = form.hold_share.get_untracked();
    settings.deletes.hold_above_share = if share.trim().is_empty() {
        None
    } else {
        Some(number("… or above (% of linked records)", &share)? / 100.0)
    };
    settings.confirmed_emails_only = form.confirmed.get_untracked();
    settings.pause_above_failure_rate = number("Pause above failure rate (%)", &form.pause.get_untracked())? / 100.0;
    Ok(settings)
}

#[derive(Clone, Copy)]
struct SettingsForm {
    webhooks: RwSignal<bool>,
    poll: RwSignal<String>,
    daily: RwSignal<String>,
    duplicates: RwSignal<String>,
    fuzzy: RwSignal<String>,
    conflicts: RwSignal<String>,
    propagate: RwSignal<bool>,
    hold_count: RwSignal<String>,
    hold_share: RwSignal<String>,
    confirmed: RwSignal<bool>,
    pause: RwSignal<String>,
}

impl SettingsForm {
    fn new(settings: &PipelineSettings) -> SettingsForm {
        SettingsForm {
            webhooks: RwSignal::new(settings.trigger.webhooks),
            poll: RwSignal::new(settings.trigger.poll_every_minutes.to_string()),
            daily: RwSignal::new(settings.trigger.daily_reconciliation_at.clone().unwrap_or_default()),
            duplicates: RwSignal::new(
                match settings.matching.duplicates {
                    DuplicatePolicy::SkipAndNotify => "skip_and_notify",
                    DuplicatePolicy::Merge { leading: Side::Source } => "merge_source",
                    DuplicatePolicy::Merge { leading: Side::Target } => "merge_target",
                }
                .to_string(),
            ),
            fuzzy: RwSignal::new(
                settings
                    .matching
                    .fuzzy_threshold
                    .map(|f| f.to_string())
                    .unwrap_or_default(),
            ),
            conflicts: RwSignal::new(
                match &settings.conflicts {
                    ConflictPolicy::Leading { side: Side::Source } => "leading_source",
                    ConflictPolicy::Leading { side: Side::Target } => "leading_target",
                    ConflictPolicy::LastWriterWins => "last_writer_wins",
                    ConflictPolicy::FieldOwnership { .. } => "field_ownership",
                }
                .to_string(),
            ),
            propagate: RwSignal::new(settings.deletes.propagate),
            hold_count: RwSignal::new(
                settings
                    .deletes
                    .hold_above_count
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            ),
            hold_share: RwSignal::new(settings.deletes.hold_above_share.map(percent).unwrap_or_default()),
            confirmed: RwSignal::new(settings.confirmed_emails_only),
            pause: RwSignal::new(percent(settings.pause_above_failure_rate)),
        }
    }
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                disabled=move || disabled.get()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
        </div>
    }
}

#[component]
fn CheckField(id: &'static str, label: &'static str, value: RwSignal<bool>, disabled: Signal<bool>) -> impl IntoView {
    view! {
        <div class="field checkbox-field">
            <input
                id=id
                type="checkbox"
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
                disabled=move || disabled.get()
            />
            <label for=id>{label}</label>
        </div>
    }
}

#[component]
pub fn PipelineSettingsForm(pipeline: Pipeline, on_saved: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let form = SettingsForm::new(&pipeline.settings);
    let base = StoredValue::new(pipeline.settings.clone());
    let id = pipeline.id;
    let two_way = pipeline.direction == tandem_shared::api::pipelines::SyncDirection::TwoWay;
    let read_only = Signal::derive(move || !tenant.can_write.get());
    let pending = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiFailure>);
    let saved = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        problem.set(None);
        error.set(None);
        saved.set(false);
        let settings = match parse_settings(&base.get_value(), &form) {
            Ok(settings) => settings,
            Err(message) => {
                problem.set(Some(message));
                return;
            }
        };
        pending.set(true);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            let request = UpdatePipelineRequest {
                settings: Some(settings),
                ..Default::default()
            };
            match api::sync::update(tenant_id, id, &request).await {
                Ok(updated) => {
                    base.set_value(updated.settings);
                    saved.set(true);
                    on_saved.run(());
                }
                Err(failure) => error.set(Some(failure)),
            }
            pending.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="settings-heading">
            <h3 id="settings-heading">"Settings"</h3>
            <form class="form" on:submit=submit data-testid="settings-form">
                <fieldset class="grid-form">
                    <legend>"When it runs"</legend>
                    <CheckField id="set-webhooks" label="Run at once on CRM webhooks (where the CRM sends them)" value=form.webhooks disabled=read_only />
                    <TextField id="set-poll" label="Poll every (minutes)" value=form.poll hint="1 to 1440: reads what changed since the last run." disabled=read_only />
                    <TextField id="set-daily" label="Daily reconciliation at (UTC)" value=form.daily placeholder="03:00" hint="HH:MM; empty for none. Proves every CRM record was read, and delivers what was missed." disabled=read_only />
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Duplicates and conflicts"</legend>
                    <div class="field">
                        <label for="set-duplicates">"A record to create already exists"</label>
                        <select id="set-duplicates" disabled=move || read_only.get() on:change=move |ev| form.duplicates.set(event_target_value(&ev))>
                            {[("skip_and_notify", "Skip it and notify"), ("merge_source", "Merge, the source leading"), ("merge_target", "Merge, the target leading")]
                                .into_iter()
                                .map(|(value, label)| view! { <option value=value selected=move || form.duplicates.get() == value>{label}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <TextField id="set-fuzzy" label="Flag similar names from" value=form.fuzzy hint="Jaro-Winkler similarity 0 to 1 (0.85 by default); empty turns it off. Flagged, never merged." disabled=read_only />
                    <div class="field">
                        <label for="set-conflicts">"Both sides changed a field"</label>
                        <select id="set-conflicts" disabled=move || read_only.get() || !two_way on:change=move |ev| form.conflicts.set(event_target_value(&ev))>
                            {[("leading_source", "The source wins"), ("leading_target", "The target wins"), ("last_writer_wins", "The later change wins"), ("field_ownership", "Each field has an owner (set in the API)")]
                                .into_iter()
                                .map(|(value, label)| view! { <option value=value selected=move || form.conflicts.get() == value>{label}</option> })
                                .collect_view()}
                        </select>
                        {(!two_way).then(|| view! { <p class="hint">"Only two-way pipelines have conflicts."</p> })}
                    </div>
                </fieldset>
                <fieldset class="grid-form">
                    <legend>"Deletions and rules"</legend>
                    <CheckField id="set-propagate" label="Delete the linked record when one is deleted" value=form.propagate disabled=read_only />
                    <TextField id="set-hold-count" label="Hold deletions above (records)" value=form.hold_count hint="A run deleting more waits for approval; empty for no limit." disabled=read_only />
                    <TextField id="set-hold-share" label="… or above (% of linked records)" value=form.hold_share disabled=read_only />
                    <CheckField id="set-confirmed" label="Sync only contacts with a confirmed email" value=form.confirmed disabled=read_only />
                    <TextField id="set-pause" label="Pause above failure rate (%)" value=form.pause hint="A run with more failed records (at least 10 read) pauses the pipeline and alerts." disabled=read_only />
                </fieldset>
                {move || problem.get().map(|message| view! { <p class="banner banner-error" role="alert" data-testid="settings-problem">{message}</p> })}
                {move || error.get().map(|failure| view! { <ErrorBanner title="Could not save the settings" failure=failure /> })}
                {move || saved.get().then(|| view! { <p class="banner banner-success" role="status" data-testid="settings-saved">"Settings saved: the next run uses them."</p> })}
                <Show when=move || !read_only.get()>
                    <div class="form-actions">
                        <button type="submit" class="button" data-testid="save-settings" disabled=move || pending.get()>
                            {move || if pending.get() { "Saving…" } else { "Save settings" }}
                        </button>
                    </div>
                </Show>
            </form>
        </section>
    }
}
