//! Request and response bodies of the `/api/v1` endpoints, one module per resource.

pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod connections;
pub mod demo;
pub mod failed_records;
pub mod health;
pub mod mappings;
pub mod pipelines;
pub mod promotion;
pub mod records;
pub mod runs;
pub mod support;
pub mod tenants;
pub mod users;
