pub mod decide_duplicates;
pub mod get;
pub mod ignore;
pub mod list;
pub mod replay;
