//! Every process keeps the users and web sessions that requests check in memory
//! (`lots_store::identity`). On PostgreSQL, a change to a user or the end of a session, whatever
//! makes it (Lots, another `lots` process, a person at a SQL prompt), sends `NOTIFY
//! lots_identity` from a trigger in the changing transaction (and so does adding a department), so every process forgets the row
//! when the change commits. SQLite is one process's database: nothing to do there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUNCTION: &str = "CREATE FUNCTION lots_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_TABLE_NAME = 'app_user' THEN \
         PERFORM pg_notify('lots_identity', 'user:' || OLD.id); \
       ELSE \
         PERFORM pg_notify('lots_identity', 'session:' || OLD.id); \
       END IF; \
       RETURN NULL; \
     END $$";

const DEPARTMENTS_FUNCTION: &str = "CREATE FUNCTION lots_departments_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN PERFORM pg_notify('lots_identity', 'departments'); RETURN NULL; END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(FUNCTION).await?;
        db.execute_unprepared(
            "CREATE TRIGGER app_user_identity_changed AFTER UPDATE OR DELETE ON app_user \
             FOR EACH ROW EXECUTE FUNCTION lots_identity_changed()",
        )
        .await?;
        db.execute_unprepared(DEPARTMENTS_FUNCTION).await?;
        db.execute_unprepared(
            "CREATE TRIGGER department_identity_changed AFTER INSERT OR UPDATE OR DELETE ON department \
             FOR EACH STATEMENT EXECUTE FUNCTION lots_departments_changed()",
        )
        .await?;
        // A session's row changes only to note its use; only its end matters.
        db.execute_unprepared(
            "CREATE TRIGGER web_session_identity_changed AFTER DELETE ON web_session \
             FOR EACH ROW EXECUTE FUNCTION lots_identity_changed()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS app_user_identity_changed ON app_user")
            .await?;
        db.execute_unprepared("DROP TRIGGER IF EXISTS web_session_identity_changed ON web_session")
            .await?;
        db.execute_unprepared("DROP TRIGGER IF EXISTS department_identity_changed ON department")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS lots_identity_changed()")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS lots_departments_changed()")
            .await?;
        Ok(())
    }
}
