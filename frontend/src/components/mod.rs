//! Reusable pieces: loading and error states, notices, badges, copy button, confirmation
//! dialog, the environment switch.

mod confirm_dialog;
mod connection_status;
mod copy_button;
mod environment_switch;
mod feedback;
mod secret_box;

pub use confirm_dialog::ConfirmDialog;
pub use connection_status::ConnectionStatusBadge;
pub use copy_button::CopyButton;
pub use environment_switch::EnvironmentSwitch;
pub use feedback::{EmptyState, ErrorBanner, FieldError, FormError, Loading, Notice, invalid};
pub use secret_box::SecretBox;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use tandem_shared::Role;
use tandem_shared::api::tenants::EnvironmentKind;

/// `2025-11-23 05:07 UTC`: unambiguous for people in every time zone.
pub fn format_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `in 25 minutes`, `3 hours ago`, `just now`: how far `at` is from `now`.
pub fn relative_time(at: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let seconds = (*at - *now).num_seconds();
    let span = seconds.unsigned_abs();
    if span < 60 {
        return "just now".to_string();
    }
    let (count, unit) = match span {
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s => (s / 86_400, "day"),
    };
    let amount = format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    if seconds > 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// The browser's clock (`Utc::now` is not available in the browser build).
pub fn browser_now() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    let class = format!("badge role role-{}", role.as_str());
    view! { <span class=class data-testid="role-badge">{role.label()}</span> }
}

#[component]
pub fn DemoBadge() -> impl IntoView {
    view! {
        <span class="badge demo" data-testid="demo-badge" title="Demo tenants use sandbox CRMs only">
            "Demo"
        </span>
    }
}

#[component]
pub fn EnvBadge(kind: EnvironmentKind) -> impl IntoView {
    let class = format!("badge env env-{}", kind.as_str());
    view! { <span class=class>{kind.label()}</span> }
}

/// `Users · Tandem` in the browser tab and history.
pub fn page_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        document.set_title(&format!("{title} · Tandem"));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc.with_ymd_and_hms(2025, 11, 23, 12, 0, 0).unwrap();
        let at = |secs: i64| now + chrono::Duration::seconds(secs);
        assert_eq!(relative_time(&at(20), &now), "just now");
        assert_eq!(relative_time(&at(-45), &now), "just now");
        assert_eq!(relative_time(&at(60), &now), "in 1 minute");
        assert_eq!(relative_time(&at(29 * 60 + 59), &now), "in 29 minutes");
        assert_eq!(relative_time(&at(-2 * 3_600), &now), "2 hours ago");
        assert_eq!(relative_time(&at(-3 * 86_400), &now), "3 days ago");
    }
}
