//! Request and response bodies of the `/api/v1` endpoints, one module per resource.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod connections;
pub mod health;
pub mod mappings;
pub mod records;
pub mod tenants;
pub mod users;
