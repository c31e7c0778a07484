//! lots-metrics: handling times, NKI aggregates, the link between them, bottlenecks and
//! deadline compliance. Pure functions over plain records and over the sums and histograms of
//! groups (`compute`, `stats`), the rollups in the database that keep those sums current and
//! answer every metric (`rollup`), and the loading of records from the store (`load`: the
//! rollups' worker, the exports, the checks). Definitions: docs/metrics.md.

pub mod compute;
pub mod export;
pub mod kolada;
pub mod load;
pub mod records;
pub mod report;
pub mod rollup;
pub mod stats;
pub mod workbook;

pub use compute::GroupBy;
pub use load::MetricFilter;
pub use records::{CaseRecord, Code, HandoffRecord, SurveyRecord};
pub use rollup::Rollups;
