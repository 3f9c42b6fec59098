//! Connecting a CRM with credentials an admin enters (Pipedrive's API token) instead of its
//! consent page: one field per `credential_fields` entry of the catalogue, checked by the CRM
//! before Tandem keeps them, never shown back. Entering new ones replaces the old.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use tandem_shared::api::connections::{ConnectWithCredentialsRequest, CredentialFieldInfo};
use tandem_shared::api::tenants::EnvironmentKind;

use super::tenant::use_tenant;
use crate::api::{self, ApiFailure};
use crate::components::ErrorBanner;

/// The request for what was entered, or the first field left empty (named as the API names it).
pub fn credentials_request(
    provider: &str,
    environment: EnvironmentKind,
    fields: &[CredentialFieldInfo],
    entered: &BTreeMap<String, String>,
) -> Result<ConnectWithCredentialsRequest, (String, String)> {
    let mut credentials = BTreeMap::new();
    for field in fields {
        let value = entered.get(&field.name).map(|v| v.trim()).unwrap_or_default();
        if value.is_empty() {
            return Err((field.name.clone(), format!("Enter the {}.", field.label)));
        }
        credentials.insert(field.name.clone(), value.to_string());
    }
    Ok(ConnectWithCredentialsRequest {
        provider: provider.to_string(),
        environment,
        credentials,
    })
}

#[component]
pub fn CredentialsForm(
    provider_id: String,
    provider_name: String,
    environment: EnvironmentKind,
    fields: Vec<CredentialFieldInfo>,
    /// Already connected: entering new credentials replaces the old ones.
    #[prop(into)]
    connected: Signal<bool>,
    on_connected: Callback<()>,
) -> impl IntoView {
    let tenant = use_tenant();
    let values: Vec<(CredentialFieldInfo, RwSignal<String>)> =
        fields.into_iter().map(|f| (f, RwSignal::new(String::new()))).collect();
    let values = StoredValue::new(values);
    let field_error = RwSignal::new(None::<(String, String)>);
    let failure = RwSignal::new(None::<ApiFailure>);
    let pending = RwSignal::new(false);
    let done = RwSignal::new(None::<String>);
    let provider = StoredValue::new((provider_id, provider_name));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        field_error.set(None);
        failure.set(None);
        done.set(None);
        let (id, name) = provider.get_value();
        let entered: BTreeMap<String, String> = values.with_value(|v| {
            v.iter()
                .map(|(f, value)| (f.name.clone(), value.get_untracked()))
                .collect()
        });
        let fields: Vec<CredentialFieldInfo> = values.with_value(|v| v.iter().map(|(f, _)| f.clone()).collect());
        let request = match credentials_request(&id, environment, &fields, &entered) {
            Ok(request) => request,
            Err(problem) => {
                field_error.set(Some(problem));
                return;
            }
        };
        pending.set(true);
        let tenant_id = tenant.id.get_untracked();
        spawn_local(async move {
            match api::connections::connect_with_credentials(tenant_id, &request).await {
                Ok(connection) => {
                    // Never kept in the page once Tandem has them.
                    values.with_value(|v| v.iter().for_each(|(_, value)| value.set(String::new())));
                    done.set(Some(format!(
                        "Connected to {} ({}) with the {} you entered.",
                        connection.account_name, name, "credentials"
                    )));
                    on_connected.run(());
                }
                Err(error) => {
                    let named = error
                        .field()
                        .and_then(|f| f.strip_prefix("credentials."))
                        .map(str::to_string);
                    match named {
                        Some(field) => field_error.set(Some((field, error.detail()))),
                        None => failure.set(Some(error)),
                    }
                }
            }
            pending.set(false);
        });
    };

    let inputs = move || {
        values.with_value(|v| {
            v.iter()
                .map(|(field, value)| {
                    let value = *value;
                    let name = field.name.clone();
                    let id = format!("credential-{}-{}", provider.get_value().0, field.name);
                    let error_id = format!("{id}-error");
                    let for_error = name.clone();
                    let has_error = move || field_error.with(|e| e.as_ref().is_some_and(|(f, _)| *f == name));
                    view! {
                        <div class="field">
                            <label for=id.clone()>{field.label.clone()}</label>
                            <input
                                id=id.clone()
                                type=if field.secret { "password" } else { "text" }
                                autocomplete="off"
                                spellcheck="false"
                                data-testid=format!("credential-{}", field.name)
                                prop:value=move || value.get()
                                on:input=move |ev| value.set(event_target_value(&ev))
                                aria-invalid=move || has_error().then_some("true")
                                aria-describedby=format!("{id}-hint {error_id}")
                                disabled=move || pending.get()
                            />
                            <p class="muted small" id=format!("{id}-hint")>{field.hint.clone()}</p>
                            <p class="field-error small" id=error_id.clone() data-testid="credential-error" role="alert">
                                {move || field_error.get().filter(|(f, _)| *f == for_error).map(|(_, message)| message)}
                            </p>
                        </div>
                    }
                })
                .collect_view()
        })
    };

    let summary = move || {
        let name = provider.get_value().1;
        if connected.get() {
            format!("Enter a new API token for {name}")
        } else {
            format!("Connect {name} with an API token instead")
        }
    };

    view! {
        <details class="credentials-form" data-testid="credentials-form">
            <summary>{summary}</summary>
            <form class="form" on:submit=submit>
                <p class="muted small">
                    "Tandem checks it with the CRM before keeping it, seals it in its vault, and never shows it again."
                </p>
                {inputs}
                {move || failure.get().map(|f| view! { <ErrorBanner title="Could not connect" failure=f /> })}
                <p class="small" role="status" data-testid="credentials-done">
                    {move || done.get()}
                </p>
                <div class="card-actions">
                    <button type="submit" class="button primary" data-testid="connect-with-credentials" disabled=move || pending.get()>
                        {move || if pending.get() { "Checking…" } else if connected.get() { "Replace token" } else { "Connect" }}
                    </button>
                </div>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_field_is_named_and_values_are_trimmed() {
        let fields = vec![CredentialFieldInfo {
            name: "api_token".into(),
            label: "API token".into(),
            secret: true,
            hint: String::new(),
        }];
        let empty = BTreeMap::from([("api_token".to_string(), "   ".to_string())]);
        assert_eq!(
            credentials_request("pipedrive", EnvironmentKind::Sandbox, &fields, &empty),
            Err(("api_token".to_string(), "Enter the API token.".to_string()))
        );
        let entered = BTreeMap::from([("api_token".to_string(), " abc \n".to_string())]);
        let request = credentials_request("pipedrive", EnvironmentKind::Sandbox, &fields, &entered).unwrap();
        assert_eq!(request.credentials["api_token"], "abc");
        assert_eq!(request.provider, "pipedrive");
    }
}
