//! lots-migrations: the schema, one file per change, written with sea-query so that each
//! migration runs on SQLite and PostgreSQL alike. A landed migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_foundation;
mod m20261127_000002_deadlines;
mod m20261127_000003_append_only_events;
mod m20261127_000004_handoffs_and_bundles;
mod m20261127_000005_hooks;
mod m20261127_000006_case_touch;
mod m20261127_000007_case_record;
mod m20261127_000008_web_sessions;
mod m20261201_000009_identity_notify;
mod m20261201_000010_case_list_index;
mod m20261201_000011_external_sign_in;
mod m20261201_000012_company_documents;
mod m20261205_000013_e_services;
mod m20261205_000014_kolada;
mod m20261206_000015_case_search;
mod m20261206_000016_public_search_document;
mod m20261206_000017_case_types_notify;
mod m20261207_000018_rollups;
mod m20261208_000019_spans;
mod m20261209_000020_linkage;
mod m20261210_000021_event_log_by_case;
mod m20261211_000022_running_spans;
mod m20261212_000023_dated_reads;
mod m20261213_000024_cut_and_year_reads;
mod m20261214_000025_cells_by_day;
mod m20261215_000026_lighter_bulk_writes;
mod parts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_foundation::Migration),
            Box::new(m20261127_000002_deadlines::Migration),
            Box::new(m20261127_000003_append_only_events::Migration),
            Box::new(m20261127_000004_handoffs_and_bundles::Migration),
            Box::new(m20261127_000005_hooks::Migration),
            Box::new(m20261127_000006_case_touch::Migration),
            Box::new(m20261127_000007_case_record::Migration),
            Box::new(m20261127_000008_web_sessions::Migration),
            Box::new(m20261201_000009_identity_notify::Migration),
            Box::new(m20261201_000010_case_list_index::Migration),
            Box::new(m20261201_000011_external_sign_in::Migration),
            Box::new(m20261201_000012_company_documents::Migration),
            Box::new(m20261205_000013_e_services::Migration),
            Box::new(m20261205_000014_kolada::Migration),
            Box::new(m20261206_000015_case_search::Migration),
            Box::new(m20261206_000016_public_search_document::Migration),
            Box::new(m20261206_000017_case_types_notify::Migration),
            Box::new(m20261207_000018_rollups::Migration),
            Box::new(m20261208_000019_spans::Migration),
            Box::new(m20261209_000020_linkage::Migration),
            Box::new(m20261210_000021_event_log_by_case::Migration),
            Box::new(m20261211_000022_running_spans::Migration),
            Box::new(m20261212_000023_dated_reads::Migration),
            Box::new(m20261213_000024_cut_and_year_reads::Migration),
            Box::new(m20261214_000025_cells_by_day::Migration),
            Box::new(m20261215_000026_lighter_bulk_writes::Migration),
        ]
    }
}
