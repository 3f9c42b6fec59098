//! `/login`: email and password. Afterwards, back to where the person wanted to go.

use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_query_map};
use tandem_shared::ErrorCode;

use crate::api::{self, ApiFailure};
use crate::app::{AuthStatus, safe_next, use_session};

#[component]
pub fn LoginPage() -> impl IntoView {
    crate::components::page_title("Log in");
    let session = use_session();
    let query = use_query_map();
    let next = Memo::new(move |_| safe_next(query.with(|q| q.get("next"))));
    let navigate = use_navigate();

    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiFailure>);
    // After a 429 the button waits as long as the server asked.
    let throttled = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() || throttled.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let (email_value, password_value) = (email.get_untracked(), password.get_untracked());
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::auth::login(email_value.trim(), &password_value).await {
                Ok(info) => {
                    let target = next.try_get_untracked().unwrap_or_else(|| "/".to_string());
                    session.logged_in(info);
                    navigate(&target, NavigateOptions::default());
                }
                Err(failure) => {
                    if let ApiFailure::Api {
                        retry_after_secs: Some(secs),
                        ..
                    } = &failure
                        && failure.code() == Some(ErrorCode::TooManyRequests)
                    {
                        throttled.set(true);
                        set_timeout(move || throttled.set(false), Duration::from_secs(*secs));
                    }
                    password.set(String::new());
                    error.set(Some(failure));
                }
            }
            pending.set(false);
        });
    };

    let already_in = move || {
        (session.status.get() == AuthStatus::LoggedIn && !pending.get()).then(|| {
            view! {
                <Redirect
                    path=next.get_untracked()
                    options=NavigateOptions {
                        replace: true,
                        ..Default::default()
                    }
                />
            }
        })
    };
    let notice = move || {
        session.notice.get().or_else(|| {
            query
                .with(|q| q.get("next").is_some())
                .then(|| ErrorCode::Unauthenticated.user_message().to_string())
        })
    };

    view! {
        {already_in}
        <main class="standalone login-page">
            <div class="card narrow">
                <div class="login-brand">
                    <span class="brand-mark" aria-hidden="true">
                        "⇄"
                    </span>
                    "Tandem"
                </div>
                <h1>"Log in"</h1>
                {move || {
                    notice()
                        .map(|notice| {
                            view! {
                                <div class="banner banner-info" role="status" data-testid="login-notice">
                                    {notice}
                                </div>
                            }
                        })
                }}
                {move || {
                    error
                        .get()
                        .map(|failure| {
                            view! {
                                <div class="banner banner-error" role="alert" data-testid="login-error">
                                    {failure.message()}
                                </div>
                            }
                        })
                }}
                <form class="form" on:submit=on_submit data-testid="login-form">
                    <div class="field">
                        <label for="login-email">"Email"</label>
                        <input
                            id="login-email"
                            name="email"
                            type="email"
                            autocomplete="username"
                            required
                            autofocus
                            data-testid="login-email"
                            bind:value=email
                        />
                    </div>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <input
                            id="login-password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                            data-testid="login-password"
                            bind:value=password
                        />
                    </div>
                    <button
                        type="submit"
                        class="button primary wide"
                        data-testid="login-submit"
                        disabled=move || pending.get() || throttled.get()
                    >
                        {move || if pending.get() { "Logging in…" } else { "Log in" }}
                    </button>
                </form>
                <p class="muted small">
                    "Building an integration? Read the " <a href="/api-docs">"API reference"</a> "."
                </p>
            </div>
        </main>
    }
}
