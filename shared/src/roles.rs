//! Who may do what. Operator staff work across tenants; tenant users belong to exactly one tenant.

use serde::{Deserialize, Serialize};

/// Every role a user can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operator staff with full access to every tenant and to the operator's settings.
    OperatorAdmin,
    /// Operator staff who read any tenant's data to help customers; they never change settings.
    Support,
    /// Operator staff who run demos: full access to demo tenants only.
    Sales,
    /// A tenant's administrator: manages the tenant's users, keys and integrations.
    Admin,
    /// A tenant user who can look but not change anything.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OperatorAdmin,
        Role::Support,
        Role::Sales,
        Role::Admin,
        Role::Viewer,
    ];

    /// The stable name used in the API, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "operator_admin",
            Role::Support => "support",
            Role::Sales => "sales",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Operator staff are not bound to a tenant.
    pub fn is_operator_staff(self) -> bool {
        matches!(self, Role::OperatorAdmin | Role::Support | Role::Sales)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "Operator admin",
            Role::Support => "Support",
            Role::Sales => "Sales",
            Role::Admin => "Admin",
            Role::Viewer => "Viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == s)
    }
}

/// The roles a tenant user can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TenantRole {
    Admin,
    Viewer,
}

impl TenantRole {
    pub const ALL: [TenantRole; 2] = [TenantRole::Admin, TenantRole::Viewer];
}

impl From<TenantRole> for Role {
    fn from(role: TenantRole) -> Self {
        match role {
            TenantRole::Admin => Role::Admin,
            TenantRole::Viewer => Role::Viewer,
        }
    }
}

impl TryFrom<Role> for TenantRole {
    type Error = Role;
    fn try_from(role: Role) -> Result<Self, Self::Error> {
        match role {
            Role::Admin => Ok(TenantRole::Admin),
            Role::Viewer => Ok(TenantRole::Viewer),
            other => Err(other),
        }
    }
}
