use serde::{Deserialize, Serialize};

/// `GET /readyz` when ready; otherwise it answers 503 with an error body saying why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub ready: bool,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub migrations_applied: i64,
    pub migrations_expected: i64,
}
