//! Full-text search over cases (`q=`), in each engine's own index, kept current by triggers so
//! that every write path (registration, edits, the bulk import, a company's rename, deletion)
//! stays consistent without remembering to.
//!
//! Each case is indexed as two documents, so that a confidential case's content can never be
//! matched by a reader who may not see it: the *public* one (diarienummer and company name) and
//! the *whole* one (the same, plus title and labels). A search joins the whole document of the
//! cases whose content the reader may see and the public document of the others; the protected
//! words are simply not in what the others search, so neither a hit nor a rank can betray them.
//!
//! - SQLite: an FTS5 table `case_search(public, protected)`, Unicode-aware tokens (å, ä and ö
//!   kept as letters), prefix indexes for 2–4 characters; the public document of case `id` is
//!   rowid `2 id`, the whole one `2 id + 1`.
//! - PostgreSQL: a table `case_search(case_id, whole, doc tsvector)` with the `swedish`
//!   configuration (stemming) and a GIN index; title and labels weigh `A`, the rest `C`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite: the protected text of the case row `r` (title and labels, space-separated).
pub(crate) fn sqlite_protected(r: &str) -> String {
    format!(
        "{r}.title || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each({r}.labels)), '')"
    )
}

/// SQLite: the public text of the case row `r`.
pub(crate) fn sqlite_public(r: &str) -> String {
    format!(
        "{r}.reference || ' ' || coalesce((SELECT name FROM company WHERE company.id = {r}.company_id), '')"
    )
}

/// SQLite: the statements that index the case row `r` (both documents).
fn sqlite_index(r: &str) -> String {
    let public = sqlite_public(r);
    let protected = sqlite_protected(r);
    format!(
        "INSERT INTO case_search (rowid, public, protected) VALUES ({r}.id * 2, {public}, ''); \
         INSERT INTO case_search (rowid, public, protected) VALUES ({r}.id * 2 + 1, {public}, {protected});"
    )
}

pub(crate) const SQLITE_UNINDEX: &str =
    "DELETE FROM case_search WHERE rowid IN (OLD.id * 2, OLD.id * 2 + 1);";

async fn up_sqlite<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    db.execute_unprepared(
        "CREATE VIRTUAL TABLE case_search USING fts5(public, protected, \
         tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3 4')",
    )
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER case_search_insert AFTER INSERT ON case_record BEGIN {} END",
        sqlite_index("NEW")
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER case_search_update AFTER UPDATE OF reference, company_id, title, labels \
         ON case_record WHEN OLD.reference IS NOT NEW.reference \
         OR OLD.company_id IS NOT NEW.company_id OR OLD.title IS NOT NEW.title \
         OR OLD.labels IS NOT NEW.labels BEGIN {SQLITE_UNINDEX} {} END",
        sqlite_index("NEW")
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER case_search_delete AFTER DELETE ON case_record BEGIN {SQLITE_UNINDEX} END"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE TRIGGER case_search_company AFTER UPDATE OF name ON company \
         WHEN OLD.name IS NOT NEW.name BEGIN \
         UPDATE case_search SET public = (SELECT {} FROM case_record r WHERE r.id = case_search.rowid / 2) \
         WHERE rowid IN (SELECT id * 2 FROM case_record WHERE company_id = NEW.id \
                         UNION ALL SELECT id * 2 + 1 FROM case_record WHERE company_id = NEW.id); END",
        sqlite_public("r")
    ))
    .await?;
    // The cases that exist already.
    for (offset, protected) in [("", "''".to_string()), (" + 1", sqlite_protected("r"))] {
        db.execute_unprepared(&format!(
            "INSERT INTO case_search (rowid, public, protected) \
             SELECT r.id * 2{offset}, {}, {protected} FROM case_record r",
            sqlite_public("r")
        ))
        .await?;
    }
    Ok(())
}

async fn up_postgres<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    for sql in [
        "CREATE TABLE case_search ( \
           case_id bigint NOT NULL REFERENCES case_record (id) ON DELETE CASCADE, \
           whole boolean NOT NULL, \
           doc tsvector NOT NULL, \
           PRIMARY KEY (case_id, whole))",
        "CREATE INDEX ix_case_search_doc ON case_search USING gin (doc)",
        // A diarienummer's `2026/0042` would otherwise be one token (a path); its parts are
        // indexed as words too.
        "CREATE FUNCTION case_search_doc(whole boolean, reference text, company_name text, \
           title text, labels jsonb) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$ \
           SELECT setweight(to_tsvector('swedish', reference || ' ' || translate(reference, '/', ' ') \
                                        || ' ' || coalesce(company_name, '')), 'C') \
               || CASE WHEN whole THEN setweight(to_tsvector('swedish', title || ' ' || coalesce( \
                    (SELECT string_agg(l, ' ') FROM jsonb_array_elements_text(labels) l), '')), 'A') \
                  ELSE ''::tsvector END $$",
        // New cases, a statement at a time: the bulk import inserts thousands per statement.
        "CREATE FUNCTION case_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           INSERT INTO case_search (case_id, whole, doc) \
           SELECT n.id, w.whole, case_search_doc(w.whole, n.reference, c.name, n.title, n.labels) \
           FROM new_cases n LEFT JOIN company c ON c.id = n.company_id \
           CROSS JOIN (VALUES (false), (true)) AS w (whole); \
           RETURN NULL; END $$",
        "CREATE TRIGGER case_search_insert AFTER INSERT ON case_record \
           REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT \
           EXECUTE FUNCTION case_search_inserted()",
        "CREATE FUNCTION case_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           UPDATE case_search s SET doc = case_search_doc(s.whole, NEW.reference, \
             (SELECT name FROM company WHERE id = NEW.company_id), NEW.title, NEW.labels) \
           WHERE s.case_id = NEW.id; \
           RETURN NULL; END $$",
        "CREATE TRIGGER case_search_update AFTER UPDATE OF reference, company_id, title, labels \
           ON case_record FOR EACH ROW \
           WHEN (OLD.reference IS DISTINCT FROM NEW.reference \
             OR OLD.company_id IS DISTINCT FROM NEW.company_id \
             OR OLD.title IS DISTINCT FROM NEW.title OR OLD.labels IS DISTINCT FROM NEW.labels) \
           EXECUTE FUNCTION case_search_updated()",
        "CREATE FUNCTION case_search_company() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           UPDATE case_search s SET doc = case_search_doc(s.whole, r.reference, NEW.name, \
             r.title, r.labels) \
           FROM case_record r WHERE r.id = s.case_id AND r.company_id = NEW.id; \
           RETURN NULL; END $$",
        "CREATE TRIGGER case_search_company AFTER UPDATE OF name ON company FOR EACH ROW \
           WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION case_search_company()",
        // The index is kept whatever the session's replication role: the bulk import turns
        // the foreign-key triggers off for its COPYs (lots_store::bulk), not these.
        "ALTER TABLE case_record ENABLE ALWAYS TRIGGER case_search_insert",
        "ALTER TABLE case_record ENABLE ALWAYS TRIGGER case_search_update",
        "ALTER TABLE company ENABLE ALWAYS TRIGGER case_search_company",
        // The cases that exist already.
        "INSERT INTO case_search (case_id, whole, doc) \
           SELECT r.id, w.whole, case_search_doc(w.whole, r.reference, c.name, r.title, r.labels) \
           FROM case_record r LEFT JOIN company c ON c.id = r.company_id \
           CROSS JOIN (VALUES (false), (true)) AS w (whole)",
    ] {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Sqlite => up_sqlite(db).await,
            _ => up_postgres(db).await,
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let statements: &[&str] = match m.get_database_backend() {
            DbBackend::Sqlite => &[
                "DROP TRIGGER IF EXISTS case_search_insert",
                "DROP TRIGGER IF EXISTS case_search_update",
                "DROP TRIGGER IF EXISTS case_search_delete",
                "DROP TRIGGER IF EXISTS case_search_company",
                "DROP TABLE IF EXISTS case_search",
            ],
            _ => &[
                "DROP TRIGGER IF EXISTS case_search_insert ON case_record",
                "DROP TRIGGER IF EXISTS case_search_update ON case_record",
                "DROP TRIGGER IF EXISTS case_search_company ON company",
                "DROP TABLE IF EXISTS case_search",
                "DROP FUNCTION IF EXISTS case_search_inserted()",
                "DROP FUNCTION IF EXISTS case_search_updated()",
                "DROP FUNCTION IF EXISTS case_search_company()",
                "DROP FUNCTION IF EXISTS case_search_doc(boolean, text, text, text, jsonb)",
            ],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
