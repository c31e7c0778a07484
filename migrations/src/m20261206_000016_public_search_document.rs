//! A case's *public* search document (diarienummer and company name, without title and labels)
//! is only ever searched for a confidential case, by those who may not see its content
//! (`search::searched_document`): everyone who may list an open case may search its whole
//! document. So it is kept only for confidential cases: half the documents to index on every
//! registration and import, and a smaller index. Marking a case confidential adds its public
//! document, lifting the mark removes it (the update trigger now watches
//! `confidential_statute` too).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261206_000015_case_search::{SQLITE_UNINDEX, sqlite_protected, sqlite_public};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite: the statements that index the case row `r`: its whole document, and its public one
/// when it is confidential (`all` indexes the public one whatever the case: the old rule).
fn sqlite_index(r: &str, all: bool) -> String {
    let public = sqlite_public(r);
    let protected = sqlite_protected(r);
    let only_confidential = if all {
        String::new()
    } else {
        format!(" WHERE {r}.confidential_statute IS NOT NULL")
    };
    format!(
        "INSERT INTO case_search (rowid, public, protected) SELECT {r}.id * 2, {public}, ''{only_confidential}; \
         INSERT INTO case_search (rowid, public, protected) VALUES ({r}.id * 2 + 1, {public}, {protected});"
    )
}

/// SQLite: the triggers that index a new or changed case (`all`: as in migration 15).
async fn sqlite_triggers<C: ConnectionTrait>(db: &C, all: bool) -> Result<(), DbErr> {
    let (columns, secrecy_changed) = if all {
        ("", "")
    } else {
        (
            ", confidential_statute",
            " OR (OLD.confidential_statute IS NULL) IS NOT (NEW.confidential_statute IS NULL)",
        )
    };
    for sql in [
        "DROP TRIGGER IF EXISTS case_search_insert".to_string(),
        "DROP TRIGGER IF EXISTS case_search_update".to_string(),
        format!(
            "CREATE TRIGGER case_search_insert AFTER INSERT ON case_record BEGIN {} END",
            sqlite_index("NEW", all)
        ),
        format!(
            "CREATE TRIGGER case_search_update AFTER UPDATE OF reference, company_id, title, \
             labels{columns} ON case_record WHEN OLD.reference IS NOT NEW.reference \
             OR OLD.company_id IS NOT NEW.company_id OR OLD.title IS NOT NEW.title \
             OR OLD.labels IS NOT NEW.labels{secrecy_changed} BEGIN {SQLITE_UNINDEX} {} END",
            sqlite_index("NEW", all)
        ),
    ] {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

async fn up_sqlite<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    sqlite_triggers(db, false).await?;
    db.execute_unprepared(
        "DELETE FROM case_search WHERE rowid IN \
         (SELECT id * 2 FROM case_record WHERE confidential_statute IS NULL)",
    )
    .await?;
    Ok(())
}

async fn down_sqlite<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    sqlite_triggers(db, true).await?;
    db.execute_unprepared(&format!(
        "INSERT INTO case_search (rowid, public, protected) \
         SELECT r.id * 2, {}, '' FROM case_record r WHERE r.confidential_statute IS NULL",
        sqlite_public("r")
    ))
    .await?;
    Ok(())
}

/// PostgreSQL: the trigger functions and the update trigger (`all`: as in migration 15).
fn postgres_statements(all: bool) -> Vec<String> {
    // Which documents of the case row `r` are kept: the whole one, and the public one only for
    // a confidential case (or for every case, the old rule).
    let kept = |r: &str| {
        if all {
            String::new()
        } else {
            format!(" WHERE w.whole OR {r}.confidential_statute IS NOT NULL")
        }
    };
    let (columns, secrecy_changed) = if all {
        ("", "")
    } else {
        (
            ", confidential_statute",
            " OR (OLD.confidential_statute IS NULL) IS DISTINCT FROM (NEW.confidential_statute IS NULL)",
        )
    };
    vec![
        format!(
            "CREATE OR REPLACE FUNCTION case_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               INSERT INTO case_search (case_id, whole, doc) \
               SELECT n.id, w.whole, case_search_doc(w.whole, n.reference, c.name, n.title, n.labels) \
               FROM new_cases n LEFT JOIN company c ON c.id = n.company_id \
               CROSS JOIN (VALUES (false), (true)) AS w (whole){}; \
               RETURN NULL; END $$",
            kept("n")
        ),
        // A change re-indexes the case: its documents as the rule says it has them now.
        format!(
            "CREATE OR REPLACE FUNCTION case_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               DELETE FROM case_search WHERE case_id = NEW.id; \
               INSERT INTO case_search (case_id, whole, doc) \
               SELECT NEW.id, w.whole, case_search_doc(w.whole, NEW.reference, \
                 (SELECT name FROM company WHERE id = NEW.company_id), NEW.title, NEW.labels) \
               FROM (VALUES (false), (true)) AS w (whole){}; \
               RETURN NULL; END $$",
            kept("NEW")
        ),
        "DROP TRIGGER IF EXISTS case_search_update ON case_record".to_string(),
        format!(
            "CREATE TRIGGER case_search_update AFTER UPDATE OF reference, company_id, title, \
               labels{columns} ON case_record FOR EACH ROW \
               WHEN (OLD.reference IS DISTINCT FROM NEW.reference \
                 OR OLD.company_id IS DISTINCT FROM NEW.company_id \
                 OR OLD.title IS DISTINCT FROM NEW.title OR OLD.labels IS DISTINCT FROM NEW.labels{secrecy_changed}) \
               EXECUTE FUNCTION case_search_updated()"
        ),
        "ALTER TABLE case_record ENABLE ALWAYS TRIGGER case_search_update".to_string(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Sqlite {
            return up_sqlite(db).await;
        }
        for sql in postgres_statements(false) {
            db.execute_unprepared(&sql).await?;
        }
        db.execute_unprepared(
            "DELETE FROM case_search s USING case_record r \
             WHERE s.case_id = r.id AND NOT s.whole AND r.confidential_statute IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Sqlite {
            return down_sqlite(db).await;
        }
        for sql in postgres_statements(true) {
            db.execute_unprepared(&sql).await?;
        }
        db.execute_unprepared(
            "INSERT INTO case_search (case_id, whole, doc) \
             SELECT r.id, false, case_search_doc(false, r.reference, c.name, r.title, r.labels) \
             FROM case_record r LEFT JOIN company c ON c.id = r.company_id \
             WHERE r.confidential_statute IS NULL",
        )
        .await?;
        Ok(())
    }
}
