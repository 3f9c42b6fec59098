//! The sync engine: runs pipelines, moving records between the app and CRMs (or CRM to CRM)
//! through their mappings, within each connection's limits, recording every outcome.
//! `engine` runs slices of runs; `page` turns one page of changes into writes; `matching`
//! finds twins before creates; `merge` is two-way's field-by-field merge; `writes` writes to a
//! CRM or the app's store; `notify` announces changes and alerts; `budget` and `crm` keep every
//! CRM call within its limits, retried and recorded.

pub mod app_model;
pub mod budget;
pub mod crm;
pub mod defaults;
pub mod engine;
pub mod jobs;
pub mod matching;
pub mod merge;
pub mod notify;
pub mod outcome;
pub mod page;
pub mod plan;
pub mod reader;
pub mod reconcile;
pub mod webhooks;
pub mod writes;

pub use engine::{EngineConfig, Slice, SyncEngine, SyncError};
