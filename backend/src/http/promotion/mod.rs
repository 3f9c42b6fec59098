pub mod plan;
pub mod promote;
