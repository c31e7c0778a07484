//! What every write of many cases paid for on PostgreSQL, measured on the import of a million
//! (BENCHMARKS.md, twenty-second session):
//!
//! - **The search index's insert trigger joined the company table** to the statement's new
//!   cases, and without statistics of the new rows PostgreSQL hashed or scanned every company
//!   once a statement: at a million companies, 114.7 s of the import against 91.2 s without. A case's company name is
//!   now looked up by its key, one index probe a case.
//! - **`case_search_doc` could not be inlined** (its labels were joined by a sub-`SELECT`), so
//!   each document ran as a SQL function call of its own. `jsonb_to_tsvector` reads the labels'
//!   strings without one; the words are the same, and only the positions of a case's second and
//!   later labels move by one (positions only weigh in `ts_rank`'s proximity; the documents of
//!   the cases that exist are kept as they are).
//! - **The rollups' queue was filled a row at a time** by a PL/pgSQL trigger on `case_touch`;
//!   now once a statement from its transition table (an `INSERT … ON CONFLICT DO UPDATE` fires
//!   both triggers, each with its own rows). SQLite's row triggers stay as they are.
//! - `ix_case_record_assignee_id` repeated the head of `ix_case_record_assignee_id_status`:
//!   every case written kept one index more than any read uses (dropped on both engines).

use sea_orm_migration::prelude::*;

use crate::parts::{drop_index, index, on_postgres};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE OR REPLACE FUNCTION case_search_doc(whole boolean, reference text, company_name text, \
       title text, labels jsonb) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$ \
       SELECT setweight(to_tsvector('swedish', reference || ' ' || translate(reference, '/', ' ') \
                                    || ' ' || coalesce(company_name, '')), 'C') \
           || CASE WHEN whole THEN setweight(to_tsvector('swedish', title) \
                || jsonb_to_tsvector('swedish', labels, '[\"string\"]'), 'A') \
              ELSE ''::tsvector END $$",
    "CREATE OR REPLACE FUNCTION case_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       INSERT INTO case_search (case_id, whole, doc) \
       SELECT n.id, w.whole, case_search_doc(w.whole, n.reference, \
         (SELECT c.name FROM company c WHERE c.id = n.company_id), n.title, n.labels) \
       FROM new_cases n CROSS JOIN (VALUES (false), (true)) AS w (whole) \
       WHERE w.whole OR n.confidential_statute IS NOT NULL; \
       RETURN NULL; END $$",
    "CREATE FUNCTION lots_rollup_enqueue_touched() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN INSERT INTO rollup_queue (case_id) SELECT case_id FROM touched; RETURN NULL; END $$",
    "DROP TRIGGER case_touch_rollup ON case_touch",
    "DROP FUNCTION lots_rollup_enqueue()",
    "CREATE TRIGGER case_touch_rollup_insert AFTER INSERT ON case_touch \
     REFERENCING NEW TABLE AS touched FOR EACH STATEMENT \
     EXECUTE FUNCTION lots_rollup_enqueue_touched()",
    "CREATE TRIGGER case_touch_rollup_update AFTER UPDATE ON case_touch \
     REFERENCING NEW TABLE AS touched FOR EACH STATEMENT \
     EXECUTE FUNCTION lots_rollup_enqueue_touched()",
];

/// As migrations 15, 16 and 18 left them.
const DOWN: &[&str] = &[
    "CREATE OR REPLACE FUNCTION case_search_doc(whole boolean, reference text, company_name text, \
       title text, labels jsonb) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$ \
       SELECT setweight(to_tsvector('swedish', reference || ' ' || translate(reference, '/', ' ') \
                                    || ' ' || coalesce(company_name, '')), 'C') \
           || CASE WHEN whole THEN setweight(to_tsvector('swedish', title || ' ' || coalesce( \
                (SELECT string_agg(l, ' ') FROM jsonb_array_elements_text(labels) l), '')), 'A') \
              ELSE ''::tsvector END $$",
    "CREATE OR REPLACE FUNCTION case_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       INSERT INTO case_search (case_id, whole, doc) \
       SELECT n.id, w.whole, case_search_doc(w.whole, n.reference, c.name, n.title, n.labels) \
       FROM new_cases n LEFT JOIN company c ON c.id = n.company_id \
       CROSS JOIN (VALUES (false), (true)) AS w (whole) \
       WHERE w.whole OR n.confidential_statute IS NOT NULL; \
       RETURN NULL; END $$",
    "DROP TRIGGER case_touch_rollup_insert ON case_touch",
    "DROP TRIGGER case_touch_rollup_update ON case_touch",
    "DROP FUNCTION lots_rollup_enqueue_touched()",
    "CREATE FUNCTION lots_rollup_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN INSERT INTO rollup_queue (case_id) VALUES (NEW.case_id); RETURN NULL; END $$",
    "CREATE TRIGGER case_touch_rollup AFTER INSERT OR UPDATE ON case_touch \
     FOR EACH ROW EXECUTE FUNCTION lots_rollup_enqueue()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(m, UP).await?;
        drop_index(m, "case_record", &["assignee_id"]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("case_record", &["assignee_id"]))
            .await?;
        on_postgres(m, DOWN).await
    }
}
