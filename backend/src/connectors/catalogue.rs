//! The CRMs Tandem knows, as data: how each authenticates, where its API lives, what it can do.
//! Facts and their sources: ../shared/docs/crm-apis.md, one section per CRM.

use super::types::ObjectKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// Listed so admins see it is coming; cannot be connected yet.
    ComingSoon,
}

/// How a connection proves who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// Authorization code flow with the person at the CRM's consent page.
    OAuth2 { pkce: bool },
    /// A key or username/password entered by the admin, where the CRM has no suitable OAuth.
    Credentials,
}

/// Where the API of one connected account lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseUrl {
    Fixed(&'static str),
    /// A field of the token response (`instance_url`, `api_domain`).
    FromTokenResponse(&'static str),
    /// Entered by the admin (their instance's address).
    PerAccount,
}

/// How access is given back at disconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// HubSpot: `DELETE /oauth/v1/refresh-tokens/{token}`.
    DeleteRefreshToken,
    /// RFC 7009 style: `POST <url>` with `token=…`.
    PostToken(&'static str),
    /// The same, with the app's credentials as HTTP Basic (Pipedrive).
    PostTokenWithClient(&'static str),
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeTracking {
    /// A search by last-modified time (HubSpot: 10,000 results per query).
    ModifiedDateSearch,
    /// A query ordered by modification stamp and id (Salesforce SOQL on SystemModstamp).
    OrderedQuery,
    /// OData delta links or `$filter` on modifiedon.
    ODataFilter,
    /// A list filtered by update time and sorted by it, then by id (Pipedrive's
    /// `updated_since` with `sort_by=update_time`).
    UpdatedSinceList,
    Polling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookScheme {
    /// HMAC-SHA256 over method, URI, body and timestamp, keyed by the app's client secret.
    HubSpotV3,
    None,
}

#[derive(Clone, Copy, Debug)]
pub struct Capabilities {
    pub objects: &'static [ObjectKind],
    /// Most records in one batch write.
    pub batch_max: usize,
    pub change_tracking: ChangeTracking,
    pub webhooks: WebhookScheme,
    /// Whether records can be upserted by a unique field in one call.
    pub upsert_by_key: bool,
    /// Most values one `find_by` call looks up; a CRM whose search takes one value per request
    /// (Pipedrive) says 1, so that a failed request is retried alone.
    pub find_values_max: usize,
    /// Default request budget for one connection: requests per second, and per day.
    pub requests_per_second: f64,
    pub requests_per_day: u64,
    /// A lower rate the CRM keeps for its search API, when it has one (HubSpot: 5 per second).
    pub search_requests_per_second: Option<f64>,
    /// Fields the CRM itself keeps unique, refusing a second record with the same value and
    /// naming the one that has it (HubSpot: a contact's email). Twins by these need no search
    /// before a create: the CRM's refusal finds them.
    pub unique_fields: &'static [(ObjectKind, &'static str)],
}

/// One field of the form an admin fills in to connect with entered credentials.
#[derive(Clone, Copy, Debug)]
pub struct CredentialField {
    /// The key in the request's `credentials` object (`api_token`).
    pub name: &'static str,
    pub label: &'static str,
    /// Never shown back, never logged.
    pub secret: bool,
    /// Where the admin finds it in the CRM.
    pub hint: &'static str,
}

/// Credentials an admin can enter instead of going through OAuth (an API token; later a
/// username and password), and where the real CRM's API is for them.
#[derive(Clone, Copy, Debug)]
pub struct EnteredCredentials {
    pub fields: &'static [CredentialField],
    pub live_base_url: &'static str,
}

/// One CRM: its identity, its OAuth endpoints (real and sandbox), its API base, its abilities.
#[derive(Clone, Copy, Debug)]
pub struct Provider {
    pub id: &'static str,
    pub name: &'static str,
    pub availability: Availability,
    pub auth: AuthKind,
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub revocation: Revocation,
    pub scopes: &'static [&'static str],
    pub base_url: BaseUrl,
    pub capabilities: Capabilities,
    /// Under `/sandbox/<this>/<account>` Tandem's own emulation of the CRM answers, if any.
    pub sandbox: Option<SandboxPaths>,
    /// Credentials an admin may enter instead (Pipedrive's API token), if any.
    pub entered: Option<EnteredCredentials>,
}

/// Paths of the emulated CRM, relative to one sandbox account's root.
#[derive(Clone, Copy, Debug)]
pub struct SandboxPaths {
    pub segment: &'static str,
    pub authorize: &'static str,
    pub token: &'static str,
    /// Where a `PostToken` revocation goes.
    pub revoke: &'static str,
}

const ALL_OBJECTS: &[ObjectKind] = &ObjectKind::ALL;
const CORE_OBJECTS: &[ObjectKind] = &[
    ObjectKind::Contact,
    ObjectKind::Company,
    ObjectKind::Deal,
    ObjectKind::Appointment,
];

pub const HUBSPOT: Provider = Provider {
    id: "hubspot",
    name: "HubSpot",
    availability: Availability::Available,
    auth: AuthKind::OAuth2 { pkce: false },
    authorize_url: "https://app.hubspot.com/oauth/authorize",
    token_url: "https://api.hubapi.com/oauth/v1/token",
    revocation: Revocation::DeleteRefreshToken,
    scopes: &[
        "oauth",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.schemas.contacts.read",
        "crm.schemas.deals.read",
    ],
    base_url: BaseUrl::Fixed("https://api.hubapi.com"),
    capabilities: Capabilities {
        objects: ALL_OBJECTS,
        batch_max: 100,
        change_tracking: ChangeTracking::ModifiedDateSearch,
        webhooks: WebhookScheme::HubSpotV3,
        upsert_by_key: true,
        find_values_max: 100,
        // 110 requests per 10 seconds for a public app; 650,000 a day (Professional).
        requests_per_second: 11.0,
        requests_per_day: 650_000,
        // Search has its own, lower limit: five requests per second per token.
        search_requests_per_second: Some(5.0),
        unique_fields: &[(ObjectKind::Contact, "email")],
    },
    sandbox: Some(SandboxPaths {
        segment: "hubspot",
        authorize: "/oauth/authorize",
        token: "/oauth/v1/token",
        revoke: "",
    }),
    entered: None,
};

pub const SALESFORCE: Provider = Provider {
    id: "salesforce",
    name: "Salesforce",
    availability: Availability::Available,
    auth: AuthKind::OAuth2 { pkce: true },
    authorize_url: "https://login.salesforce.com/services/oauth2/authorize",
    token_url: "https://login.salesforce.com/services/oauth2/token",
    revocation: Revocation::PostToken("https://login.salesforce.com/services/oauth2/revoke"),
    scopes: &["api", "refresh_token", "id"],
    base_url: BaseUrl::FromTokenResponse("instance_url"),
    capabilities: Capabilities {
        objects: ALL_OBJECTS,
        batch_max: 200,
        change_tracking: ChangeTracking::OrderedQuery,
        webhooks: WebhookScheme::None,
        upsert_by_key: true,
        find_values_max: 200,
        // No per-second limit; a rolling daily allocation (Enterprise: 100,000 + per licence).
        requests_per_second: 25.0,
        requests_per_day: 100_000,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: Some(SandboxPaths {
        segment: "salesforce",
        authorize: "/services/oauth2/authorize",
        token: "/services/oauth2/token",
        revoke: "/services/oauth2/revoke",
    }),
    entered: None,
};

pub const DYNAMICS: Provider = Provider {
    id: "dynamics",
    name: "Microsoft Dynamics 365",
    availability: Availability::ComingSoon,
    auth: AuthKind::OAuth2 { pkce: true },
    authorize_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    revocation: Revocation::None,
    scopes: &["offline_access"],
    base_url: BaseUrl::PerAccount,
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        batch_max: 1000,
        change_tracking: ChangeTracking::ODataFilter,
        webhooks: WebhookScheme::None,
        upsert_by_key: true,
        find_values_max: 100,
        requests_per_second: 20.0,
        requests_per_day: 0,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: None,
    entered: None,
};

pub const PIPEDRIVE: Provider = Provider {
    id: "pipedrive",
    name: "Pipedrive",
    availability: Availability::Available,
    auth: AuthKind::OAuth2 { pkce: false },
    authorize_url: "https://oauth.pipedrive.com/oauth/authorize",
    token_url: "https://oauth.pipedrive.com/oauth/token",
    revocation: Revocation::PostTokenWithClient("https://oauth.pipedrive.com/oauth/revoke"),
    scopes: &[
        "base",
        "contacts:full",
        "deals:full",
        "products:full",
        "activities:full",
        "search:read",
        "admin",
    ],
    base_url: BaseUrl::FromTokenResponse("api_domain"),
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        // No batch writes: a batch is sent a few calls at once.
        batch_max: 50,
        change_tracking: ChangeTracking::UpdatedSinceList,
        webhooks: WebhookScheme::None,
        upsert_by_key: false,
        // Search takes one term a request.
        find_values_max: 1,
        // An OAuth token on the Essential plan: 80 requests per 2 seconds; search: 10 per 2
        // seconds on every plan. The daily token budget depends on plan and seats.
        requests_per_second: 40.0,
        requests_per_day: 0,
        search_requests_per_second: Some(5.0),
        unique_fields: &[],
    },
    sandbox: Some(SandboxPaths {
        segment: "pipedrive",
        authorize: "/oauth/authorize",
        token: "/oauth/token",
        revoke: "/oauth/revoke",
    }),
    entered: Some(EnteredCredentials {
        fields: &[CredentialField {
            name: "api_token",
            label: "API token",
            secret: true,
            hint: "In Pipedrive: your name (top right) → Personal preferences → API → Your personal API token.",
        }],
        // An API token works against the shared API host for any company.
        live_base_url: "https://api.pipedrive.com",
    }),
};

pub const ZOHO: Provider = Provider {
    id: "zoho",
    name: "Zoho CRM",
    availability: Availability::ComingSoon,
    auth: AuthKind::OAuth2 { pkce: false },
    authorize_url: "https://accounts.zoho.com/oauth/v2/auth",
    token_url: "https://accounts.zoho.com/oauth/v2/token",
    revocation: Revocation::PostToken("https://accounts.zoho.com/oauth/v2/token/revoke"),
    scopes: &["ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL"],
    base_url: BaseUrl::FromTokenResponse("api_domain"),
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        batch_max: 100,
        change_tracking: ChangeTracking::Polling,
        webhooks: WebhookScheme::None,
        upsert_by_key: true,
        find_values_max: 100,
        requests_per_second: 10.0,
        requests_per_day: 0,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: None,
    entered: None,
};

pub const SUGARCRM: Provider = Provider {
    id: "sugarcrm",
    name: "SugarCRM",
    availability: Availability::ComingSoon,
    auth: AuthKind::Credentials,
    authorize_url: "",
    token_url: "",
    revocation: Revocation::None,
    scopes: &[],
    base_url: BaseUrl::PerAccount,
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        batch_max: 1,
        change_tracking: ChangeTracking::Polling,
        webhooks: WebhookScheme::None,
        upsert_by_key: false,
        find_values_max: 100,
        requests_per_second: 5.0,
        requests_per_day: 0,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: None,
    entered: None,
};

pub const ORACLE: Provider = Provider {
    id: "oracle",
    name: "Oracle Fusion Cloud Sales",
    availability: Availability::ComingSoon,
    auth: AuthKind::Credentials,
    authorize_url: "",
    token_url: "",
    revocation: Revocation::None,
    scopes: &[],
    base_url: BaseUrl::PerAccount,
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        batch_max: 1,
        change_tracking: ChangeTracking::Polling,
        webhooks: WebhookScheme::None,
        upsert_by_key: false,
        find_values_max: 100,
        requests_per_second: 5.0,
        requests_per_day: 0,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: None,
    entered: None,
};

pub const NETSUITE: Provider = Provider {
    id: "netsuite",
    name: "NetSuite",
    availability: Availability::ComingSoon,
    auth: AuthKind::OAuth2 { pkce: true },
    authorize_url: "",
    token_url: "",
    revocation: Revocation::None,
    scopes: &["rest_webservices"],
    base_url: BaseUrl::PerAccount,
    capabilities: Capabilities {
        objects: CORE_OBJECTS,
        batch_max: 1,
        change_tracking: ChangeTracking::Polling,
        webhooks: WebhookScheme::None,
        upsert_by_key: true,
        find_values_max: 100,
        requests_per_second: 5.0,
        requests_per_day: 0,
        search_requests_per_second: None,
        unique_fields: &[],
    },
    sandbox: None,
    entered: None,
};

pub const PROVIDERS: [Provider; 8] = [
    HUBSPOT, SALESFORCE, DYNAMICS, PIPEDRIVE, ZOHO, SUGARCRM, ORACLE, NETSUITE,
];

pub fn provider(id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_crms_with_unique_ids_and_sandboxes_for_the_available_ones() {
        let mut ids: Vec<&str> = PROVIDERS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 8);
        for provider in PROVIDERS.iter().filter(|p| p.availability == Availability::Available) {
            assert!(provider.sandbox.is_some(), "{} has no sandbox", provider.id);
            assert!(provider.capabilities.batch_max > 1);
        }
        assert_eq!(provider("hubspot").map(|p| p.name), Some("HubSpot"));
        assert!(provider("nope").is_none());
    }
}
