//! On PostgreSQL the event log, `case_event`, is partitioned by month of `at` (RANGE, months in
//! UTC), so that each month's rows and indexes are a table of their own: vacuum and index
//! maintenance work on the months that change, and an old month can be detached and archived
//! whole (docs/event-log.md). SQLite keeps its single table: nothing to do there.
//!
//! The table is rebuilt in the migration's transaction, with its data: the rows keep their ids,
//! and the new table's id sequence goes on where the old one was. A partitioned table's
//! unique keys must hold the partition key, so the primary key becomes `(id, at)`; ids stay
//! unique because every row takes its id from the sequence (no writer names one). The foreign
//! keys, indexes, triggers (the append-only one, migration 3), owner and grants of the table
//! are read from the catalogue and made again on the new one, so that whatever the migrations
//! before gave it comes along. Partitions are made for every month that holds events and for
//! this month and the next [`MONTHS_AHEAD`]; a DEFAULT partition takes any other row, so that
//! no insert ever fails for want of a month.
//!
//! Two functions keep the months coming (`lots_store::partitions` calls them):
//! - `lots_create_event_partitions(months date[])` makes the partitions of those months that
//!   have none, and of the months of the rows waiting in the DEFAULT partition, which it moves
//!   into them (an import calls it with the months of its history);
//! - `lots_ensure_event_partitions(months_ahead int)` does so for this month and the next
//!   `months_ahead` (the server calls it when it starts and every hour).
//!
//! The first runs as the role that migrated (`SECURITY DEFINER`, its schema fixed), which owns
//! the table: a server whose role owns nothing, and so cannot drop or detach a month, still
//! makes the months it needs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Months made ahead of the present (as `lots_store::partitions::MONTHS_AHEAD`).
const MONTHS_AHEAD: i32 = 3;

const CREATE_PARTITIONS: &str = r#"
CREATE FUNCTION lots_create_event_partitions(months date[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
    missing date[];
    m date;
    moving boolean;
BEGIN
    -- One caller at a time, before anything is read: the next waits here holding no lock.
    PERFORM pg_advisory_xact_lock(hashtext('lots_create_event_partitions'));
    -- The months asked for, and those of the rows waiting in the DEFAULT partition, that have
    -- no partition yet (as their first days).
    SELECT coalesce(array_agg(d ORDER BY d), '{}') INTO missing FROM (
        SELECT date_trunc('month', x)::date AS d FROM unnest(months) AS x
        UNION
        SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM case_event_default
    ) s WHERE d IS NOT NULL AND to_regclass('case_event_' || to_char(d, 'YYYY_MM')) IS NULL;
    IF cardinality(missing) = 0 THEN
        RETURN 0;
    END IF;
    LOCK TABLE case_event IN ACCESS EXCLUSIVE MODE;
    -- No partition can be made while the DEFAULT partition holds rows of its month: it is then
    -- taken out, and its rows put back through the parent once the months exist.
    moving := EXISTS (SELECT 1 FROM case_event_default
                      WHERE date_trunc('month', at AT TIME ZONE 'UTC')::date = ANY (missing));
    IF moving THEN
        ALTER TABLE case_event DETACH PARTITION case_event_default;
        ALTER TABLE case_event_default RENAME TO case_event_default_moving;
    END IF;
    FOREACH m IN ARRAY missing LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF case_event FOR VALUES FROM (%L) TO (%L)',
            'case_event_' || to_char(m, 'YYYY_MM'),
            m::timestamp AT TIME ZONE 'UTC',
            (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END LOOP;
    IF moving THEN
        CREATE TABLE case_event_default PARTITION OF case_event DEFAULT;
        INSERT INTO case_event OVERRIDING SYSTEM VALUE SELECT * FROM case_event_default_moving;
        DROP TABLE case_event_default_moving;
    END IF;
    RETURN cardinality(missing);
END
$fn$"#;

const ENSURE_AHEAD: &str = r#"
CREATE FUNCTION lots_ensure_event_partitions(months_ahead integer) RETURNS integer
LANGUAGE sql AS $fn$
    SELECT lots_create_event_partitions(ARRAY(
        SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + n * interval '1 month')::date
        FROM generate_series(0, greatest(months_ahead, 0)) AS n))
$fn$"#;

/// The statements that give a rebuilt `case_event` what the old one has besides its columns
/// and primary key: its owner, foreign keys, other indexes, triggers and grants. Their SQL
/// names `case_event`, which is the new table once the old one is renamed.
const WHAT_THE_TABLE_HAS: &str = r#"ARRAY(
        SELECT format('ALTER TABLE case_event OWNER TO %I', pg_get_userbyid(relowner))
        FROM pg_class WHERE oid = 'case_event'::regclass
        UNION ALL
        SELECT format('ALTER TABLE case_event ADD CONSTRAINT %I %s', conname,
                      pg_get_constraintdef(oid))
        FROM pg_constraint WHERE conrelid = 'case_event'::regclass AND contype = 'f'
        UNION ALL
        -- A partitioned table's index reads `ON ONLY`: the plain table takes it without.
        SELECT replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ') FROM pg_index
        WHERE indrelid = 'case_event'::regclass AND NOT indisprimary
        UNION ALL
        SELECT pg_get_triggerdef(oid) FROM pg_trigger
        WHERE tgrelid = 'case_event'::regclass AND NOT tgisinternal
        UNION ALL
        SELECT format('GRANT %s ON case_event TO %s', a.privilege_type,
                      CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                      ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'case_event'::regclass)"#;

/// Partitions the table, its rows moved into their months.
fn partition() -> String {
    format!(
        r#"
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = 'case_event_old'::regclass) THEN
        RAISE EXCEPTION 'a foreign key refers to case_event, which cannot be partitioned then';
    END IF;
    CREATE TABLE case_event (LIKE case_event_old INCLUDING ALL EXCLUDING INDEXES)
        PARTITION BY RANGE (at);
    CREATE TABLE case_event_default PARTITION OF case_event DEFAULT;
    PERFORM lots_create_event_partitions(ARRAY(
        SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM case_event_old));
    PERFORM lots_ensure_event_partitions({MONTHS_AHEAD});
    -- Indexes and keys come after the rows: built once instead of row by row.
    INSERT INTO case_event OVERRIDING SYSTEM VALUE SELECT * FROM case_event_old;"#
    )
}

/// Makes the table one again, its rows in the order of their ids.
const UNPARTITION: &str = r#"
    CREATE TABLE case_event (LIKE case_event_old INCLUDING ALL EXCLUDING INDEXES);
    INSERT INTO case_event OVERRIDING SYSTEM VALUE SELECT * FROM case_event_old ORDER BY id;"#;

/// Rebuilds `case_event` in one statement: `create` makes the new table from `case_event_old`
/// and fills it, the old table goes, and the primary key `key` and what the old table had are
/// made on the new one. Its ids go on from where the old table's were: an identity column (as
/// the migrations make it) gets a sequence of its own, named as the old one was and set to
/// where it stood; a `serial` one is handed the old sequence.
fn rebuild(create: &str, key: &str) -> String {
    format!(
        r#"DO $rebuild$
DECLARE
    sequence text := pg_get_serial_sequence('case_event', 'id');
    identity boolean := (SELECT attidentity <> '' FROM pg_attribute
                         WHERE attrelid = 'case_event'::regclass AND attname = 'id');
    last_value bigint;
    is_called boolean;
    rebuild text[];
    s text;
BEGIN
    LOCK TABLE case_event IN ACCESS EXCLUSIVE MODE;
    EXECUTE format('SELECT last_value, is_called FROM %s', sequence) INTO last_value, is_called;
    rebuild := {WHAT_THE_TABLE_HAS};
    ALTER TABLE case_event RENAME TO case_event_old;
    IF identity THEN
        EXECUTE format('ALTER SEQUENCE %s RENAME TO case_event_old_id_seq', sequence);
    END IF;
    {create}
    IF identity THEN
        PERFORM setval(pg_get_serial_sequence('case_event', 'id'), last_value, is_called);
    ELSE
        EXECUTE format('ALTER SEQUENCE %s OWNED BY case_event.id', sequence);
    END IF;
    DROP TABLE case_event_old;
    ALTER TABLE case_event ADD CONSTRAINT case_event_pkey PRIMARY KEY ({key});
    FOREACH s IN ARRAY rebuild LOOP
        EXECUTE s;
    END LOOP;
END
$rebuild$"#
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        let partitioned = rebuild(&partition(), "id, at");
        for sql in [
            CREATE_PARTITIONS,
            ENSURE_AHEAD,
            partitioned.as_str(),
            // The new partitions' statistics now, not when autovacuum comes by.
            "ANALYZE case_event",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        let unpartitioned = rebuild(UNPARTITION, "id");
        for sql in [
            unpartitioned.as_str(),
            "DROP FUNCTION lots_ensure_event_partitions(integer)",
            "DROP FUNCTION lots_create_event_partitions(date[])",
            "ANALYZE case_event",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
