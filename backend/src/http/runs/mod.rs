pub mod callouts;
pub mod events;
pub mod get;
pub mod record_history;
