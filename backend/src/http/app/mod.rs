//! Endpoints for the operator's app, authenticated with a tenant API key.

pub mod whoami;
