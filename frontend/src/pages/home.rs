//! `/`: operator staff go to the tenant list, tenant users to their tenant.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;

use crate::app::{RequireAuth, use_session};

#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    let target = move || {
        session.user.get().map(|user| match user.tenant_id {
            Some(tenant_id) if !user.role.is_operator_staff() => {
                format!("/t/{tenant_id}/environments")
            }
            _ => "/tenants".to_string(),
        })
    };
    view! {
        <RequireAuth>
            {move || {
                target()
                    .map(|path| {
                        view! {
                            <Redirect
                                path=path
                                options=NavigateOptions {
                                    replace: true,
                                    ..Default::default()
                                }
                            />
                        }
                    })
            }}
        </RequireAuth>
    }
}
