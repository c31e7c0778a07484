//! Two indexes for the lists officers open all day (measured at 100 000 cases: BENCHMARKS.md,
//! 2026-12-01): a department's cases by status, newest first (`?status=in_progress`) read one
//! page of `(department_id, status, id)` instead of walking the department's cases until enough
//! have the status; an officer's open cases (*Mina ärenden*) are found through
//! `(assignee_id, status)` instead of through all their cases (SQLite uses it once it has the
//! statistics `Db::optimize` gathers).

use sea_orm_migration::prelude::*;

use crate::parts::{drop_index, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "case_record";
const INDEXES: [&[&str]; 2] = [
    &["department_id", "status", "id"],
    &["assignee_id", "status"],
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for columns in INDEXES {
            m.create_index(index(TABLE, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for columns in INDEXES {
            drop_index(m, TABLE, columns).await?;
        }
        Ok(())
    }
}
