//! Every process keeps the case types in memory (`lots_store::identity`, `Db::case_types`): each
//! registration checks its case type against them. On PostgreSQL a change to `case_type`,
//! whoever makes it, sends `NOTIFY lots_identity, 'case_types'` from a trigger in the changing
//! transaction, so every process forgets its list when the change commits (as for departments,
//! migration 9). SQLite is one process's database: nothing to do there.

use sea_orm_migration::prelude::*;

use crate::parts::on_postgres;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            m,
            &[
                "CREATE FUNCTION lots_case_types_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN PERFORM pg_notify('lots_identity', 'case_types'); RETURN NULL; END $$",
                "CREATE TRIGGER case_type_identity_changed AFTER INSERT OR UPDATE OR DELETE ON case_type \
                 FOR EACH STATEMENT EXECUTE FUNCTION lots_case_types_changed()",
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            m,
            &[
                "DROP TRIGGER IF EXISTS case_type_identity_changed ON case_type",
                "DROP FUNCTION IF EXISTS lots_case_types_changed()",
            ],
        )
        .await
    }
}
