//! Identifier newtypes. Each wraps a UUID so that a tenant id can never be passed where a user id
//! is expected; on the wire they are plain UUID strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A tenant: one of the operator's customers.
    TenantId
);
id_type!(
    /// One of a tenant's two environments (sandbox or production).
    EnvironmentId
);
id_type!(
    /// A person who logs in: operator staff or a tenant user.
    UserId
);
id_type!(
    /// A tenant API key used by the operator's app.
    ApiKeyId
);
id_type!(
    /// An entry of the audit log.
    AuditEntryId
);
id_type!(
    /// A connected CRM account.
    ConnectionId
);
id_type!(
    /// A sync pipeline: one object between two systems of one tenant environment.
    PipelineId
);
id_type!(
    /// One saved version of a pipeline's mapping.
    MappingVersionId
);
id_type!(
    /// One run of a pipeline.
    RunId
);
id_type!(
    /// A record that could not be synced.
    FailedRecordId
);
id_type!(
    /// A deletion held for approval.
    HeldDeleteId
);
id_type!(
    /// An alert raised for a tenant.
    AlertId
);
id_type!(
    /// Where the operator's app receives signed webhooks.
    WebhookEndpointId
);
id_type!(
    /// One webhook sent (or being sent) to an endpoint.
    WebhookDeliveryId
);
