//! Types used by both the backend and the WebAssembly frontend.
//!
//! Nothing here may depend on tokio, a database or the host platform: this crate compiles to
//! `wasm32-unknown-unknown`. OpenAPI schemas are derived only with the `openapi` feature.

pub mod api;
pub mod error;
pub mod ids;
pub mod model;
pub mod roles;

pub use error::{ErrorBody, ErrorCode};
pub use roles::{Role, TenantRole};
