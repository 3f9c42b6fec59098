//! Sandbox | Production, as a segmented control of links: the environment lives in the address,
//! so it survives reloads and can be shared.

use leptos::prelude::*;
use tandem_shared::api::tenants::EnvironmentKind;

#[component]
pub fn EnvironmentSwitch(
    /// The environment shown now.
    #[prop(into)]
    current: Signal<EnvironmentKind>,
    /// The address that shows an environment.
    href: Callback<EnvironmentKind, String>,
    /// A short addition to each label ("1 connected"), if any.
    #[prop(optional, into)]
    detail: Option<Callback<EnvironmentKind, Option<String>>>,
) -> impl IntoView {
    view! {
        <nav class="segmented" aria-label="Environment" data-testid="environment-switch">
            {EnvironmentKind::ALL
                .into_iter()
                .map(|kind| {
                    let selected = move || current.get() == kind;
                    view! {
                        <a
                            class=format!("segment segment-{}", kind.as_str())
                            href=move || href.run(kind)
                            aria-current=move || selected().then_some("page")
                            data-testid=format!("env-tab-{}", kind.as_str())
                        >
                            {kind.label()}
                            {move || {
                                detail
                                    .and_then(|detail| detail.run(kind))
                                    .map(|text| view! { <span class="segment-detail">{text}</span> })
                            }}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
