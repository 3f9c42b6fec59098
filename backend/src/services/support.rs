//! Operator support: one search across every tenant. Operator admins and support staff only; what
//! they then do in a tenant goes through the tenant's own endpoints and their rules.

use tandem_shared::api::support::SupportHit;
use tandem_shared::roles::Role;

use super::ServiceError;
use crate::auth::Principal;
use crate::domain::FieldError;
use crate::repo::{Db, support};

pub async fn search(db: &Db, principal: &Principal, term: &str) -> Result<Vec<SupportHit>, ServiceError> {
    if !matches!(principal.role(), Role::OperatorAdmin | Role::Support) {
        return Err(ServiceError::Forbidden(
            "only operator admins and support search across tenants".into(),
        ));
    }
    let term = term.trim();
    match term.chars().count() {
        0..2 => Err(FieldError::new(
            "q",
            "is too short: type at least 2 characters of a tenant, an email or an id",
        )
        .into()),
        201.. => Err(FieldError::new("q", "is longer than 200 characters").into()),
        _ => Ok(support::search(db.pool(), term).await?),
    }
}
