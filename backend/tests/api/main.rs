//! Integration tests: the real server on a random port with a fresh database per test, once on
//! SQLite and once on PostgreSQL (`db_tests!`).

#![allow(clippy::unwrap_used)]

mod helpers;

mod alert_webhooks;
mod api_keys;
mod audit;
mod auth;
mod cli;
mod connections;
mod connections_credentials;
mod contract;
mod demo;
mod errors;
mod isolation;
mod jobs;
mod operations;
mod promotion;
mod records;
mod resilience;
mod roles;
mod sandbox;
mod sandbox_salesforce;
mod support;
mod sync;
mod sync_appointments;
mod sync_completeness;
mod sync_conflicts;
mod sync_crm_to_crm;
mod sync_deals;
mod sync_drift;
mod sync_faults;
mod sync_limits;
mod sync_live;
mod sync_mappings;
mod sync_matching;
mod sync_pipedrive;
mod sync_policies;
mod sync_reauth;
mod sync_triggers;
mod sync_webhooks;
mod touch_points;
mod users;
mod vault;
mod webhooks;
