//! "Are you sure?" before something that cannot be undone. Focus starts on Cancel; Escape
//! cancels.

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

use super::ErrorBanner;
use crate::api::ApiFailure;

#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(into)] confirm_label: String,
    /// The action is running: both buttons wait.
    #[prop(into)]
    busy: Signal<bool>,
    /// The action failed; the dialog stays open and says why.
    #[prop(into)]
    error: Signal<Option<ApiFailure>>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let cancel_button = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = cancel_button.get() {
            let _ = button.focus();
        }
    });
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && !busy.get_untracked() {
            on_cancel.run(());
        }
    };
    let error_title = title.clone();
    view! {
        <div class="dialog-backdrop">
            <div
                class="dialog"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="confirm-title"
                aria-describedby="confirm-message"
                data-testid="confirm-dialog"
                on:keydown=on_keydown
            >
                <h2 id="confirm-title">{title}</h2>
                <p id="confirm-message">{message}</p>
                {move || {
                    error
                        .get()
                        .map(|failure| view! { <ErrorBanner title=format!("{error_title} failed") failure=failure /> })
                }}
                <div class="dialog-actions">
                    <button
                        type="button"
                        class="button secondary"
                        node_ref=cancel_button
                        disabled=move || busy.get()
                        on:click=move |_| on_cancel.run(())
                    >
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class="button danger"
                        data-testid="confirm-button"
                        disabled=move || busy.get()
                        on:click=move |_| on_confirm.run(())
                    >
                        {move || if busy.get() { "Working…".to_string() } else { confirm_label.clone() }}
                    </button>
                </div>
            </div>
        </div>
    }
}
