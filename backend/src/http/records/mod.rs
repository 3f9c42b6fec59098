//! The operator's app pushes records with a tenant API key.

pub mod batch;
pub mod delete;
pub mod get;
pub mod put;
pub mod touch_points;
