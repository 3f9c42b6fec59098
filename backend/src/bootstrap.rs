//! The first run: an empty database gets an operator admin and, unless switched off, a demo
//! tenant, so that a newcomer can log in straight away.

use secrecy::{ExposeSecret, SecretString};

use crate::configuration::BootstrapSettings;
use crate::domain::{Email, Name, NewPassword};
use crate::repo::{Db, RepoError, users};
use crate::services::audit::Actor;
use crate::services::tenants::{self, NewTenant};
use crate::services::users::NewUser;
use crate::services::{ServiceError, users as user_service};
use tandem_shared::roles::Role;

pub const DEMO_TENANT_NAME: &str = "Demo Company";
pub const DEMO_TENANT_SLUG: &str = "demo";

/// What the first run created, to tell the person who started Tandem.
pub struct FirstRun {
    pub admin_email: String,
    /// Present when the password was generated: it is shown once and stored only as a hash.
    pub generated_password: Option<SecretString>,
    pub demo_tenant: bool,
}

pub async fn first_run(db: &Db, settings: &BootstrapSettings) -> Result<Option<FirstRun>, ServiceError> {
    if users::count_all(db.pool()).await? > 0 {
        return Ok(None);
    }
    let actor = Actor::system("first run");
    let email = Email::parse("bootstrap.admin_email", &settings.admin_email)?;
    let password = settings
        .admin_password
        .clone()
        .map(|p| NewPassword::parse("bootstrap.admin_password", p))
        .transpose()?;
    let mut tx = db.begin().await?;
    let created = user_service::insert(
        &mut tx,
        &actor,
        NewUser {
            tenant_id: None,
            email: email.clone(),
            name: Name::parse("name", "Operator admin")?,
            role: Role::OperatorAdmin,
            password,
        },
    )
    .await;
    let created = match created {
        Ok(created) => created,
        // Another instance on the same database got there first.
        Err(ServiceError::Conflict { .. }) => return Ok(None),
        Err(other) => return Err(other),
    };
    if settings.demo_tenant {
        let demo = NewTenant::parse(DEMO_TENANT_NAME, Some(DEMO_TENANT_SLUG), true)?;
        tenants::insert_with_environments(&mut tx, &actor, demo).await?;
    }
    tx.commit().await.map_err(RepoError::from)?;
    Ok(Some(FirstRun {
        admin_email: email.to_string(),
        generated_password: created.generated_password.map(SecretString::from),
        demo_tenant: settings.demo_tenant,
    }))
}

impl FirstRun {
    /// The lines printed to the terminal that started Tandem.
    pub fn login_hint(&self) -> String {
        match &self.generated_password {
            Some(password) => format!(
                "Log in as {} with password {}\n(shown only this once; change it with `tandem user set-password {}`)",
                self.admin_email,
                password.expose_secret(),
                self.admin_email
            ),
            None => format!(
                "Log in as {} with the password from TANDEM_BOOTSTRAP__ADMIN_PASSWORD",
                self.admin_email
            ),
        }
    }
}
