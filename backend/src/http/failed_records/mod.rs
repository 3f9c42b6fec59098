pub mod get;
pub mod ignore;
pub mod list;
pub mod replay;
