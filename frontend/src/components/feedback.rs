//! Loading, empty and error states, and errors shown next to form fields.

use leptos::prelude::*;

use crate::api::{ApiFailure, capitalise};

/// A visible "working on it" line, announced to screen readers.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <p class="loading" role="status" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </p>
    }
}

/// "Could not load users: <readable message>. [Retry]"
#[component]
pub fn ErrorBanner(
    /// What failed, e.g. "Could not load users".
    #[prop(into)]
    title: String,
    failure: ApiFailure,
    /// Offer a Retry button that runs this.
    #[prop(optional, into)]
    on_retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert" data-testid="error-banner">
            <p>
                <strong>{title} ":"</strong>
                " "
                {failure.message()}
            </p>
            {on_retry
                .map(|retry| {
                    view! {
                        <button
                            type="button"
                            class="button secondary small"
                            data-testid="retry-button"
                            on:click=move |_| retry.run(())
                        >
                            "Retry"
                        </button>
                    }
                })}
        </div>
    }
}

/// A friendly "nothing here yet" block that says what to do next.
#[component]
pub fn EmptyState(#[prop(into)] message: String, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid="empty-state">
            <p>{message}</p>
            {children.map(|children| children())}
        </div>
    }
}

/// The server's complaint about one field, shown right under it.
#[component]
pub fn FieldError(error: RwSignal<Option<ApiFailure>>, field: &'static str) -> impl IntoView {
    let message = move || {
        error.with(|failure| {
            failure
                .as_ref()
                .filter(|failure| failure.field() == Some(field))
                .map(|failure| capitalise(&failure.detail()))
        })
    };
    view! {
        <Show when=move || message().is_some()>
            <p class="field-error" id=format!("{field}-error") data-testid=format!("field-error-{field}")>
                {move || message().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// A form's error that does not belong to one of its fields.
#[component]
pub fn FormError(
    error: RwSignal<Option<ApiFailure>>,
    /// The fields that show their own errors.
    fields: &'static [&'static str],
    #[prop(into)] title: String,
) -> impl IntoView {
    let general = move || {
        error.get().filter(|failure| match failure.field() {
            Some(field) => !fields.contains(&field),
            None => true,
        })
    };
    move || {
        general().map(|failure| {
            view! { <ErrorBanner title=title.clone() failure=failure /> }
        })
    }
}

/// `aria-invalid` for an input whose field the last error blamed.
pub fn invalid(error: RwSignal<Option<ApiFailure>>, field: &'static str) -> impl Fn() -> Option<&'static str> {
    move || {
        error.with(|failure| {
            failure
                .as_ref()
                .filter(|failure| failure.field() == Some(field))
                .map(|_| "true")
        })
    }
}

/// Good news about something that just happened ("HubSpot connected"), until it is dismissed.
#[component]
pub fn Notice(on_dismiss: Callback<()>, #[prop(optional)] testid: &'static str, children: Children) -> impl IntoView {
    let testid = if testid.is_empty() { "notice" } else { testid };
    view! {
        <div class="banner banner-success notice" role="status" data-testid=testid>
            <div class="notice-body">{children()}</div>
            <button
                type="button"
                class="button secondary small"
                data-testid="dismiss-notice"
                on:click=move |_| on_dismiss.run(())
            >
                "Dismiss"
            </button>
        </div>
    }
}
