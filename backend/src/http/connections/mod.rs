pub mod authorize;
pub mod callouts;
pub mod credentials;
pub mod delete;
pub mod list;
pub mod reconnect;
pub mod test;
pub mod update;
