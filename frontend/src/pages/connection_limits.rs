//! A connection's API budget on its card: what Tandem spent today against the daily quota and the
//! rate it keeps to, and (for admins) the connection's own limits — a smaller share of the day to
//! leave room for the tenant's other integrations, or an account's raised limits. Syncs pick new
//! limits up at once; a run waiting for the quota goes on when a bigger one allows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::connections::{Connection, ConnectionLimits, UpdateConnectionRequest};

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::ErrorBanner;

/// `650000` → `650,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The inputs of the form, by the API's field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LimitField {
    Rate,
    Daily,
    /// CRMs whose search API has a rate of its own (HubSpot): changes are read through it.
    SearchRate,
}

impl LimitField {
    fn label(self) -> &'static str {
        match self {
            LimitField::Rate => "Requests a second",
            LimitField::Daily => "Calls a day",
            LimitField::SearchRate => "Searches a second",
        }
    }

    fn from_api(field: &str) -> Option<LimitField> {
        match field {
            "requests_per_second" => Some(LimitField::Rate),
            "daily_quota" => Some(LimitField::Daily),
            "search_requests_per_second" => Some(LimitField::SearchRate),
            _ => None,
        }
    }
}

/// A rate as typed: empty is the default; otherwise a number (the server checks the range).
fn parse_rate(field: LimitField, text: &str) -> Result<Option<f64>, (LimitField, String)> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite())
        .map(Some)
        .ok_or_else(|| (field, format!("“{text}” is not a number")))
}

/// What a person typed, as the request: empty means the CRM's default. The server checks the
/// ranges (and names the field); only what is not a number at all is caught here.
fn parse_limits(rate: &str, daily: &str, search: &str) -> Result<UpdateConnectionRequest, (LimitField, String)> {
    let requests_per_second = parse_rate(LimitField::Rate, rate)?;
    let daily = daily.trim();
    let daily_quota = if daily.is_empty() {
        None
    } else {
        // `650,000` and `650 000` read as they are meant.
        let digits: String = daily.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
        Some(
            digits
                .parse::<u64>()
                .map_err(|_| (LimitField::Daily, format!("“{daily}” is not a whole number of calls")))?,
        )
    };
    Ok(UpdateConnectionRequest {
        requests_per_second,
        daily_quota,
        search_requests_per_second: parse_rate(LimitField::SearchRate, search)?,
    })
}

/// The budget as a fact of the card: today's use, the limits in force, whose they are.
#[component]
pub fn ApiBudget(limits: ConnectionLimits, provider_name: String) -> impl IntoView {
    // A quota of 0: the CRM has none Tandem counts (its own 429 says when a day's budget is spent).
    let counted = limits.daily_quota > 0;
    let spent = counted && limits.used_today >= limits.daily_quota;
    let quota = |q: u64| {
        if q > 0 {
            grouped(q)
        } else {
            "no counted limit".to_string()
        }
    };
    let own = limits.requests_per_second_override.is_some()
        || limits.daily_quota_override.is_some()
        || limits.search_requests_per_second_override.is_some();
    let search = |rate: Option<f64>| rate.map(|r| format!(", {r} searches a second")).unwrap_or_default();
    let whose = if own {
        format!(
            "Set for this connection ({provider_name}'s defaults: {} a second, {} a day{}).",
            limits.default_requests_per_second,
            quota(limits.default_daily_quota),
            search(limits.default_search_requests_per_second)
        )
    } else {
        format!("{provider_name}'s defaults.")
    };
    view! {
        <div class="fact-wide">
            <dt>"API use today"</dt>
            <dd data-testid="api-budget" data-spent=spent.to_string()>
                {counted
                    .then(|| {
                        view! {
                            <progress
                                class="budget-bar"
                                max=limits.daily_quota.to_string()
                                value=limits.used_today.min(limits.daily_quota).to_string()
                                aria-label="Share of today's API quota used"
                            ></progress>
                        }
                    })}
                <div>
                    <strong>
                        {if counted {
                            format!("{} of {} calls", grouped(limits.used_today), grouped(limits.daily_quota))
                        } else {
                            format!("{} calls (no daily quota counted)", grouped(limits.used_today))
                        }}
                    </strong>
                    {format!(" · {} requests a second", limits.requests_per_second)}
                    {search(limits.search_requests_per_second).replacen(", ", " · ", 1)}
                </div>
                <div class="muted small" data-testid="api-budget-source">
                    {whose}
                </div>
                {spent
                    .then(|| {
                        view! {
                            <div class="field-error small" data-testid="api-budget-spent">
                                "Today's quota is spent: syncs on this connection wait until 00:00 UTC, or until the quota is raised."
                            </div>
                        }
                    })}
            </dd>
        </div>
    }
}

/// An admin's form for the connection's own limits, folded away until opened.
#[component]
pub fn LimitsEditor(connection: Signal<Option<Connection>>, on_saved: Callback<()>) -> impl IntoView {
    let tenant = use_tenant();
    let initial = connection.get_untracked().map(|c| c.limits).unwrap_or_default();
    let rate = RwSignal::new(
        initial
            .requests_per_second_override
            .map(|r| r.to_string())
            .unwrap_or_default(),
    );
    let daily = RwSignal::new(initial.daily_quota_override.map(|d| d.to_string()).unwrap_or_default());
    let search = RwSignal::new(
        initial
            .search_requests_per_second_override
            .map(|r| r.to_string())
            .unwrap_or_default(),
    );
    let field_error = RwSignal::new(None::<(LimitField, String)>);
    let failure = RwSignal::new(None::<ApiFailure>);
    let pending = RwSignal::new(false);
    let saved = RwSignal::new(None::<String>);

    let save = move |request: UpdateConnectionRequest| {
        let Some(current) = connection.get_untracked() else {
            return;
        };
        pending.set(true);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::connections::update(tenant_id, current.id, &request).await {
                Ok(updated) => {
                    let limits = updated.limits;
                    rate.set(
                        limits
                            .requests_per_second_override
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                    );
                    daily.set(limits.daily_quota_override.map(|d| d.to_string()).unwrap_or_default());
                    search.set(
                        limits
                            .search_requests_per_second_override
                            .map(|r| r.to_string())
                            .unwrap_or_default(),
                    );
                    saved.set(Some(format!(
                        "Saved: syncs now keep to {} requests a second{} and {} calls a day.",
                        limits.requests_per_second,
                        limits
                            .search_requests_per_second
                            .map(|r| format!(" ({r} searches a second)"))
                            .unwrap_or_default(),
                        grouped(limits.daily_quota)
                    )));
                    on_saved.run(());
                }
                Err(error) => match error.field().and_then(LimitField::from_api) {
                    Some(field) => field_error.set(Some((field, error.detail()))),
                    None => failure.set(Some(error)),
                },
            }
            pending.set(false);
        });
    };
    let begin = move || {
        field_error.set(None);
        failure.set(None);
        saved.set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        begin();
        match parse_limits(&rate.get_untracked(), &daily.get_untracked(), &search.get_untracked()) {
            Ok(request) => save(request),
            Err(problem) => field_error.set(Some(problem)),
        }
    };
    let use_defaults = move |_| {
        begin();
        save(UpdateConnectionRequest::default());
    };

    let provider = move || connection.with(|c| c.as_ref().map(|c| c.provider_name.clone()).unwrap_or_default());
    let defaults = move || connection.with(|c| c.as_ref().map(|c| c.limits.clone()).unwrap_or_default());
    let input = move |field: LimitField, id: &'static str, value: RwSignal<String>, placeholder: String| {
        let error_id = format!("{id}-error");
        let has_error = move || field_error.with(|e| e.as_ref().is_some_and(|(f, _)| *f == field));
        view! {
            <div class="field">
                <label for=id>{field.label()}</label>
                <input
                    id=id
                    type="text"
                    inputmode="decimal"
                    placeholder=placeholder
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || has_error().then_some("true")
                    aria-describedby=error_id.clone()
                    disabled=move || pending.get()
                />
                <p class="field-error small" id=error_id data-testid=format!("{id}-error") role="alert">
                    {move || {
                        field_error
                            .get()
                            .filter(|(f, _)| *f == field)
                            .map(|(f, message)| format!("{}: {message}", f.label()))
                    }}
                </p>
            </div>
        }
    };

    view! {
        <details class="limits-editor" data-testid="limits-editor">
            <summary>"API limits"</summary>
            <form class="form" on:submit=submit data-testid="limits-form">
                <p class="muted small">
                    {move || {
                        format!(
                            "Leave a value empty to use {}'s default. A smaller daily share leaves room for the account's other integrations; a large first sync then spreads over several days.",
                            provider(),
                        )
                    }}
                </p>
                <div class="grid-form">
                    {input(LimitField::Rate, "limits-rate", rate, format!("{}", defaults().default_requests_per_second))}
                    {input(LimitField::Daily, "limits-daily", daily, grouped(defaults().default_daily_quota))}
                    {defaults()
                        .default_search_requests_per_second
                        .map(|default| input(LimitField::SearchRate, "limits-search", search, format!("{default}")))}
                </div>
                {move || {
                    failure
                        .get()
                        .map(|f| view! { <ErrorBanner title="Could not save the limits" failure=f /> })
                }}
                <p class="small" role="status" data-testid="limits-saved">
                    {move || saved.get()}
                </p>
                <div class="card-actions">
                    <button type="submit" class="button primary" data-testid="save-limits" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save limits" }}
                    </button>
                    <button
                        type="button"
                        class="button secondary"
                        data-testid="default-limits"
                        disabled=move || pending.get()
                        on:click=use_defaults
                    >
                        {move || format!("Use {}'s defaults", provider())}
                    </button>
                </div>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(650_000), "650,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn empty_inputs_go_back_to_the_defaults() {
        assert_eq!(parse_limits(" ", "", ""), Ok(UpdateConnectionRequest::default()));
    }

    #[test]
    fn limits_are_read_as_people_write_them() {
        let request = parse_limits("2.5", "650,000", "20").unwrap();
        assert_eq!(request.requests_per_second, Some(2.5));
        assert_eq!(request.daily_quota, Some(650_000));
        assert_eq!(request.search_requests_per_second, Some(20.0));
        assert_eq!(parse_limits("", "1 000", "").unwrap().daily_quota, Some(1_000));
    }

    #[test]
    fn what_is_not_a_number_names_its_field() {
        let (field, message) = parse_limits("fast", "", "").unwrap_err();
        assert_eq!(field, LimitField::Rate);
        assert!(message.contains("“fast” is not a number"), "{message}");
        let (field, _) = parse_limits("", "1.5", "").unwrap_err();
        assert_eq!(field, LimitField::Daily);
        let (field, _) = parse_limits("", "-3", "").unwrap_err();
        assert_eq!(field, LimitField::Daily);
        let (field, _) = parse_limits("", "", "lots").unwrap_err();
        assert_eq!(field, LimitField::SearchRate);
    }
}
