pub mod acknowledge;
pub mod list;
