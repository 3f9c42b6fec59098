pub mod create;
pub mod delete;
pub mod deliveries;
pub mod list;
pub mod replay;
