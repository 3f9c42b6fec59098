//! Any address the router does not know.

use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::components::page_title("Page not found");
    view! {
        <main class="standalone" data-testid="not-found">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. Check the link, or start again from the home page."</p>
                <p>
                    <a class="button" href="/">
                        "Go to the start page"
                    </a>
                </p>
            </div>
        </main>
    }
}
