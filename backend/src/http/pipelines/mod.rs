pub mod conflicts;
pub mod create;
pub mod daily;
pub mod decide_held_deletes;
pub mod delete;
pub mod get;
pub mod held_deletes;
pub mod list;
pub mod mapping_fields;
pub mod mapping_history;
pub mod mapping_preview;
pub mod mapping_save;
pub mod mapping_validate;
pub mod run;
pub mod runs;
pub mod runs_stream;
pub mod update;

use serde::Deserialize;

/// `?limit=` of history lists (1 to 500, default 100).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub limit: Option<i64>,
}
