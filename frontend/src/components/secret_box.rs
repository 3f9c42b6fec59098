//! A value shown exactly once (a new API key, a generated password), highlighted, with a copy
//! button and a clear warning.

use leptos::prelude::*;

use super::CopyButton;

#[component]
pub fn SecretBox(
    #[prop(into)] title: String,
    #[prop(into)] secret: String,
    /// What the secret is, for the copy button ("API key", "password").
    #[prop(into)]
    what: String,
    /// Why it matters and what to do with it.
    #[prop(into)]
    note: String,
    /// `data-testid` of the element holding the secret.
    testid: &'static str,
    on_dismiss: Callback<()>,
) -> impl IntoView {
    let label = title.clone();
    view! {
        <section class="secret-box" aria-label=label data-testid="secret-box">
            <h3>{title}</h3>
            <div class="secret-row">
                <code class="secret-value" data-testid=testid>
                    {secret.clone()}
                </code>
                <CopyButton text=secret label=format!("Copy {what}") testid="copy-secret" />
            </div>
            <p class="secret-note">
                <strong>"You won't see it again."</strong>
                " "
                {note}
            </p>
            <button type="button" class="button secondary small" data-testid="dismiss-secret" on:click=move |_| on_dismiss.run(())>
                "I have copied it"
            </button>
        </section>
    }
}
