//! Copies a value to the clipboard, and says whether that worked.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Copied,
    Failed,
}

#[component]
pub fn CopyButton(
    #[prop(into)] text: String,
    /// What is copied, for screen readers ("Copy API key").
    #[prop(into)]
    label: String,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let status = RwSignal::new(Status::Idle);
    let text = StoredValue::new(text);
    let on_click = move |_| {
        let value = text.get_value();
        spawn_local(async move {
            let copied = copy_to_clipboard(&value).await;
            status.set(if copied { Status::Copied } else { Status::Failed });
            set_timeout(move || status.set(Status::Idle), Duration::from_secs(4));
        });
    };
    let testid = if testid.is_empty() { "copy-button" } else { testid };
    view! {
        <button type="button" class="button secondary small" aria-label=label data-testid=testid on:click=on_click>
            {move || if status.get() == Status::Copied { "Copied" } else { "Copy" }}
        </button>
        <span class="copy-status" role="status">
            {move || match status.get() {
                Status::Idle | Status::Copied => "",
                Status::Failed => "Copying is blocked here: select the text and press Ctrl+C (⌘C).",
            }}
        </span>
    }
}

/// `navigator.clipboard.writeText`, which only exists in secure contexts (https, localhost).
async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .map(|value| !value.is_undefined() && !value.is_null())
        .unwrap_or(false);
    if !has_clipboard {
        return false;
    }
    JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok()
}
