//! Reusable pieces: loading and error states, badges, copy button, confirmation dialog.

mod confirm_dialog;
mod copy_button;
mod feedback;
mod secret_box;

pub use confirm_dialog::ConfirmDialog;
pub use copy_button::CopyButton;
pub use feedback::{EmptyState, ErrorBanner, FieldError, FormError, Loading, invalid};
pub use secret_box::SecretBox;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use tandem_shared::Role;
use tandem_shared::api::tenants::EnvironmentKind;

/// `2025-11-23 05:07 UTC`: unambiguous for people in every time zone.
pub fn format_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
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
