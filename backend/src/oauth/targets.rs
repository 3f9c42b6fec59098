//! Which CRM a connection talks to, and with which app: the real CRM with the operator's app
//! for that environment, or Tandem's sandbox CRM with the app Tandem registered there itself.
//!
//! Demo tenants always use the sandbox CRMs. Otherwise an environment with an operator app
//! configured for the CRM uses the real CRM; a sandbox environment without one uses the sandbox
//! CRM; production without one cannot connect that CRM.

use std::collections::HashMap;

use secrecy::SecretString;
use tandem_shared::api::connections::ConnectionTarget;
use tandem_shared::api::tenants::{EnvironmentKind, Tenant};

use crate::configuration::CrmSettings;
use crate::connectors::catalogue::{BaseUrl, Provider, Revocation};

#[derive(Clone, Debug)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// How the grant is given back at disconnect.
#[derive(Clone, Debug)]
pub enum Revoke {
    None,
    DeleteRefreshToken {
        api_base: String,
    },
    /// With the app's credentials as HTTP Basic where the CRM wants them.
    PostToken {
        url: String,
        client: Option<AppCredentials>,
    },
}

#[derive(Clone, Debug)]
pub struct Resolved {
    pub target: ConnectionTarget,
    pub app: AppCredentials,
    pub authorize_url: String,
    pub token_url: String,
    /// The API base, when known before the token response.
    pub api_base: Option<String>,
    pub revoke: Revoke,
    pub sandbox_account: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0} cannot be connected yet")]
    NotAvailable(&'static str),
    #[error(
        "{provider} is not set up for {environment}: the operator must register an app with {provider} and set \
         TANDEM_CRM__{upper}__{env_upper}__CLIENT_ID and …__CLIENT_SECRET"
    )]
    NotConfigured {
        provider: &'static str,
        upper: String,
        environment: &'static str,
        env_upper: String,
    },
    #[error("the sandbox CRMs are switched off (sandbox.enabled), so {0} cannot be connected to one")]
    SandboxDisabled(&'static str),
}

/// What the platform knows that targets depend on.
#[derive(Clone, Debug)]
pub struct Targets {
    pub crm: CrmSettings,
    /// `http://host:port/sandbox`, when the sandbox CRMs are mounted.
    pub sandbox_root: Option<String>,
    /// The apps Tandem registered with its own sandbox CRMs, by provider id.
    pub sandbox_apps: HashMap<&'static str, AppCredentials>,
    /// Where CRMs send the person back: `<public url>/api/v1/oauth/callback`.
    pub callback_url: String,
    /// How people and CRMs reach Tandem (`server.public_url`), for URLs that CRMs sign.
    pub public_url: String,
}

/// The sandbox account a tenant environment gets: its own data set per tenant and environment.
pub fn sandbox_account(tenant: &Tenant, environment: EnvironmentKind) -> String {
    format!("{}-{}", tenant.slug, environment.as_str())
}

impl Targets {
    pub fn resolve(
        &self,
        provider: &'static Provider,
        tenant: &Tenant,
        environment: EnvironmentKind,
    ) -> Result<Resolved, TargetError> {
        if provider.availability != crate::connectors::catalogue::Availability::Available {
            return Err(TargetError::NotAvailable(provider.name));
        }
        let operator_app = self.crm.apps(provider.id).and_then(|apps| match environment {
            EnvironmentKind::Sandbox => apps.sandbox.as_ref(),
            EnvironmentKind::Production => apps.production.as_ref(),
        });
        match operator_app {
            Some(app) if !tenant.is_demo => {
                let app = AppCredentials {
                    client_id: app.client_id.clone(),
                    client_secret: app.client_secret.clone(),
                };
                Ok(Resolved {
                    target: ConnectionTarget::Live,
                    app: app.clone(),
                    authorize_url: provider.authorize_url.to_string(),
                    token_url: provider.token_url.to_string(),
                    api_base: match provider.base_url {
                        BaseUrl::Fixed(url) => Some(url.to_string()),
                        BaseUrl::FromTokenResponse(_) | BaseUrl::PerAccount => None,
                    },
                    revoke: match provider.revocation {
                        Revocation::None => Revoke::None,
                        Revocation::PostToken(url) => Revoke::PostToken {
                            url: url.to_string(),
                            client: None,
                        },
                        Revocation::PostTokenWithClient(url) => Revoke::PostToken {
                            url: url.to_string(),
                            client: Some(app.clone()),
                        },
                        Revocation::DeleteRefreshToken => match provider.base_url {
                            BaseUrl::Fixed(url) => Revoke::DeleteRefreshToken {
                                api_base: url.to_string(),
                            },
                            _ => Revoke::None,
                        },
                    },
                    sandbox_account: None,
                })
            }
            _ if tenant.is_demo || environment == EnvironmentKind::Sandbox => {
                self.sandbox(provider, tenant, environment)
            }
            _ => Err(TargetError::NotConfigured {
                provider: provider.name,
                upper: provider.id.to_uppercase(),
                environment: environment.as_str(),
                env_upper: environment.as_str().to_uppercase(),
            }),
        }
    }

    /// Where a connection with entered credentials (an API token) goes, and its API base: the
    /// sandbox CRM for demo tenants, and for sandbox environments unless the operator set up the
    /// real CRM for them; the real CRM otherwise (no operator app is needed for a token).
    pub fn entered(
        &self,
        provider: &'static Provider,
        tenant: &Tenant,
        environment: EnvironmentKind,
    ) -> Result<(ConnectionTarget, String), TargetError> {
        let Some(entered) = provider
            .entered
            .filter(|_| provider.availability == crate::connectors::catalogue::Availability::Available)
        else {
            return Err(TargetError::NotAvailable(provider.name));
        };
        let operator_app = self.crm.apps(provider.id).and_then(|apps| match environment {
            EnvironmentKind::Sandbox => apps.sandbox.as_ref(),
            EnvironmentKind::Production => apps.production.as_ref(),
        });
        if tenant.is_demo || (environment == EnvironmentKind::Sandbox && operator_app.is_none()) {
            let sandbox = self.sandbox(provider, tenant, environment)?;
            let base = sandbox.api_base.ok_or(TargetError::SandboxDisabled(provider.name))?;
            return Ok((ConnectionTarget::Sandbox, base));
        }
        Ok((ConnectionTarget::Live, entered.live_base_url.to_string()))
    }

    /// The endpoints of an existing connection's target (which settings may since have changed).
    pub fn resolve_for(
        &self,
        provider: &'static Provider,
        tenant: &Tenant,
        environment: EnvironmentKind,
        target: ConnectionTarget,
    ) -> Result<Resolved, TargetError> {
        match target {
            ConnectionTarget::Sandbox => self.sandbox(provider, tenant, environment),
            ConnectionTarget::Live => {
                let resolved = self.resolve(provider, tenant, environment)?;
                if resolved.target == ConnectionTarget::Live {
                    Ok(resolved)
                } else {
                    Err(TargetError::NotConfigured {
                        provider: provider.name,
                        upper: provider.id.to_uppercase(),
                        environment: environment.as_str(),
                        env_upper: environment.as_str().to_uppercase(),
                    })
                }
            }
        }
    }

    fn sandbox(
        &self,
        provider: &'static Provider,
        tenant: &Tenant,
        environment: EnvironmentKind,
    ) -> Result<Resolved, TargetError> {
        let (Some(root), Some(paths), Some(app)) =
            (&self.sandbox_root, provider.sandbox, self.sandbox_apps.get(provider.id))
        else {
            return Err(TargetError::SandboxDisabled(provider.name));
        };
        let account = sandbox_account(tenant, environment);
        let base = format!("{root}/{}/{account}", paths.segment);
        Ok(Resolved {
            target: ConnectionTarget::Sandbox,
            app: app.clone(),
            authorize_url: format!("{base}{}", paths.authorize),
            token_url: format!("{base}{}", paths.token),
            api_base: Some(base.clone()),
            revoke: match provider.revocation {
                Revocation::None => Revoke::None,
                Revocation::DeleteRefreshToken => Revoke::DeleteRefreshToken { api_base: base },
                Revocation::PostToken(_) => Revoke::PostToken {
                    url: format!("{base}{}", paths.revoke),
                    client: None,
                },
                Revocation::PostTokenWithClient(_) => Revoke::PostToken {
                    url: format!("{base}{}", paths.revoke),
                    client: Some(app.clone()),
                },
            },
            sandbox_account: Some(account),
        })
    }
}

#[cfg(test)]
mod tests {
    use tandem_shared::ids::TenantId;

    use super::*;
    use crate::configuration::{CrmApp, CrmApps};

    fn live_app() -> Option<CrmApp> {
        Some(CrmApp {
            client_id: "operator-live-app".into(),
            client_secret: SecretString::from("live-secret".to_string()),
        })
    }

    /// The operator's real apps configured for every CRM and environment, and the sandbox CRMs.
    fn targets() -> Targets {
        let apps = CrmApps {
            sandbox: live_app(),
            production: live_app(),
        };
        let sandbox_app = AppCredentials {
            client_id: "sandbox-app".into(),
            client_secret: SecretString::from("sandbox-secret".to_string()),
        };
        Targets {
            crm: CrmSettings {
                hubspot: apps.clone(),
                salesforce: apps,
            },
            sandbox_root: Some("http://127.0.0.1:1/sandbox".into()),
            sandbox_apps: HashMap::from([("hubspot", sandbox_app.clone()), ("salesforce", sandbox_app)]),
            callback_url: "http://127.0.0.1:1/api/v1/oauth/callback".into(),
            public_url: "http://127.0.0.1:1".into(),
        }
    }

    fn tenant(is_demo: bool) -> Tenant {
        Tenant {
            id: TenantId(uuid::Uuid::nil()),
            slug: "acme".into(),
            name: "Acme".into(),
            is_demo,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn demo_tenants_reach_the_sandbox_crms_only_even_where_real_apps_are_configured() {
        let targets = targets();
        for id in ["hubspot", "salesforce"] {
            let provider = crate::connectors::catalogue::provider(id).unwrap();
            for environment in EnvironmentKind::ALL {
                let demo = targets.resolve(provider, &tenant(true), environment).unwrap();
                assert_eq!(demo.target, ConnectionTarget::Sandbox, "{id} {environment:?}");
                assert!(
                    demo.authorize_url.starts_with("http://127.0.0.1:1/sandbox/"),
                    "{}",
                    demo.authorize_url
                );
                assert_eq!(demo.app.client_id, "sandbox-app");
                // The same settings take a customer's tenant to the real CRM.
                let real = targets.resolve(provider, &tenant(false), environment).unwrap();
                assert_eq!(real.target, ConnectionTarget::Live);
                assert_eq!(real.app.client_id, "operator-live-app");
            }
        }
    }
}
