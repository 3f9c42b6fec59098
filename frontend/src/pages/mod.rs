//! One module per route.

pub mod activate;
pub mod alerts;
pub mod api_docs;
pub mod api_keys;
pub mod audit;
pub mod connection_credentials;
pub mod connection_limits;
pub mod connections;
pub mod demo;
pub mod duplicate_candidates;
pub mod environments;
pub mod failed_records;
pub mod home;
pub mod login;
pub mod mapping_editor;
pub mod not_found;
pub mod pipeline;
pub mod pipeline_settings;
pub mod pipelines;
pub mod reconciliation;
pub mod support;
pub mod tenant;
pub mod tenants;
pub mod users;
