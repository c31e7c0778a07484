//! The event log is append-only in the database itself: an UPDATE or DELETE of a `case_event`
//! row fails on both backends, whatever code (or person with a SQL prompt) attempts it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER case_event_no_{} BEFORE {op} ON case_event \
                         BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(
                    "CREATE FUNCTION case_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'case_event is append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER case_event_append_only BEFORE UPDATE OR DELETE ON case_event \
                     FOR EACH ROW EXECUTE FUNCTION case_event_append_only()",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS case_event_no_update")
                    .await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS case_event_no_delete")
                    .await?;
            }
            _ => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS case_event_append_only ON case_event",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS case_event_append_only()")
                    .await?;
            }
        }
        Ok(())
    }
}
