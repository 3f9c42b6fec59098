//! Tandem: a multi-tenant CRM integration platform.
//!
//! Dependency direction (an arrow means "may use"): `cli/startup → http → services →
//! {auth, vault} → repo → domain → tandem_shared`.

pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod configuration;
pub mod connectors;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod mapping;
pub mod oauth;
pub mod repo;
pub mod services;
pub mod startup;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod vault;
