//! Documents a company sends from its side (with a supplement): `case_attachment.created_by`
//! may be null for them (no user of Lots added them), and `sent_by` says who sent them, as
//! they signed in or "via följlänk". SQLite cannot drop a NOT NULL in place, so there the table
//! is rebuilt with the same columns, keys and index (nothing refers to it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str = "\"id\", \"case_id\", \"name\", \"category\", \"content_type\", \"size\", \"sha256\", \
     \"confidential_statute\", \"created_by\", \"created_at\", \"deleted_by\", \"deleted_at\", \"delete_reason\"";

fn sqlite_table(name: &str, created_by: &str) -> String {
    format!(
        "CREATE TABLE \"{name}\" ( \"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
         \"case_id\" integer NOT NULL, \"name\" varchar(255) NOT NULL, \"category\" varchar(32) NOT NULL, \
         \"content_type\" varchar(128) NOT NULL, \"size\" integer NOT NULL, \"sha256\" varchar(64) NOT NULL, \
         \"confidential_statute\" varchar(80) NULL, \"created_by\" integer {created_by}, \
         \"created_at\" timestamp_with_timezone_text NOT NULL, \"deleted_by\" integer NULL, \
         \"deleted_at\" timestamp_with_timezone_text NULL, \"delete_reason\" text NULL, \
         \"sent_by\" varchar(200) NULL, \
         FOREIGN KEY (\"case_id\") REFERENCES \"case_record\" (\"id\") ON DELETE RESTRICT, \
         FOREIGN KEY (\"created_by\") REFERENCES \"app_user\" (\"id\") ON DELETE RESTRICT )"
    )
}

async fn rebuild_sqlite(
    m: &SchemaManager<'_>,
    created_by: &str,
    keep_sent_by: bool,
) -> Result<(), DbErr> {
    let db = m.get_connection();
    db.execute_unprepared(&sqlite_table("case_attachment_new", created_by))
        .await?;
    let (cols, select) = if keep_sent_by {
        (
            format!("{COLUMNS}, \"sent_by\""),
            format!("{COLUMNS}, \"sent_by\""),
        )
    } else {
        (COLUMNS.to_string(), COLUMNS.to_string())
    };
    db.execute_unprepared(&format!(
        "INSERT INTO \"case_attachment_new\" ({cols}) SELECT {select} FROM \"case_attachment\""
    ))
    .await?;
    db.execute_unprepared("DROP TABLE \"case_attachment\"")
        .await?;
    db.execute_unprepared("ALTER TABLE \"case_attachment_new\" RENAME TO \"case_attachment\"")
        .await?;
    db.execute_unprepared(
        "CREATE INDEX \"ix_case_attachment_case_id_sha256\" ON \"case_attachment\" (\"case_id\", \"sha256\")",
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(m, "NULL", false).await,
            _ => {
                let db = m.get_connection();
                db.execute_unprepared(
                    "ALTER TABLE case_attachment ALTER COLUMN created_by DROP NOT NULL",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE case_attachment ADD COLUMN sent_by varchar(200) NULL",
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Documents no user added cannot be kept with a required creator.
        db.execute_unprepared("DELETE FROM case_attachment WHERE created_by IS NULL")
            .await?;
        match m.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild_sqlite(m, "NOT NULL", true).await?;
                db.execute_unprepared("ALTER TABLE case_attachment DROP COLUMN sent_by")
                    .await?;
                Ok(())
            }
            _ => {
                db.execute_unprepared("ALTER TABLE case_attachment DROP COLUMN sent_by")
                    .await?;
                db.execute_unprepared(
                    "ALTER TABLE case_attachment ALTER COLUMN created_by SET NOT NULL",
                )
                .await?;
                Ok(())
            }
        }
    }
}
