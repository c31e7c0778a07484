//! A department's cases by status, newest first: the list and search a department's officers
//! open all day (`?status=in_progress`, newest first) read exactly one page of this index instead
//! of walking the department's cases until enough of them have the status (measured at 100 000
//! cases: BENCHMARKS.md, 2026-12-01).

use sea_orm_migration::prelude::*;

use crate::parts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "case_record";
const COLUMNS: [&str; 3] = ["department_id", "status", "id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(TABLE, &COLUMNS)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(format!("ix_{TABLE}_{}", COLUMNS.join("_")))
                .table(TABLE)
                .to_owned(),
        )
        .await
    }
}
