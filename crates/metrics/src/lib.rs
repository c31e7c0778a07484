//! lots-metrics: handling times, NKI aggregates, the link between them, bottlenecks and
//! deadline compliance. Pure functions over plain records (`compute`, `stats`), and one module
//! that loads those records from the store (`load`). Definitions: docs/metrics.md.

pub mod cache;
pub mod compute;
pub mod export;
pub mod kolada;
pub mod load;
pub mod records;
pub mod report;
pub mod rollup;
pub mod stats;
pub mod workbook;

pub use cache::MetricsCache;
pub use compute::GroupBy;
pub use load::MetricFilter;
pub use records::{CaseRecord, Code, HandoffRecord, SurveyRecord};
pub use rollup::Rollups;
