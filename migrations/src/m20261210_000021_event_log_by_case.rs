//! On PostgreSQL the event log, `case_event`, is partitioned by case: RANGE of `case_id`, a
//! partition for each block of [`WIDTH`] case ids (`case_event_from_0` holds the events of cases
//! 0–999 999, `case_event_from_1000000` the next million, …). Every read of the log names its
//! cases (a case's history, the rollups' catch-up, the export), so each is pruned to the one
//! partition that holds them; new events go to the newest blocks, so an old block stops being
//! written, is frozen by vacuum once and then skipped, and can be detached and archived with its
//! cases (docs/event-log.md argues this against partitions by month). SQLite keeps its single
//! table: nothing to do there.
//!
//! The table is rebuilt in the migration's transaction, with its data: the rows keep their ids,
//! and the new table's id sequence goes on where the old one was. A partitioned table's
//! unique keys must hold the partition key, so the primary key becomes `(case_id, id)`, which
//! is also the order every read asks for (the index on those columns goes: one index less to
//! write an event); ids stay unique because every row takes its id from the sequence (no writer
//! names one). The
//! foreign keys, indexes, triggers (the append-only one, migration 3), owner and grants of the
//! table are read from the catalogue and made again on the new one, so that whatever the
//! migrations before gave it comes along. Partitions are made for every block up to the
//! newest case's and one block ahead; a DEFAULT partition takes any other row, so that no insert
//! ever fails for want of a partition.
//!
//! Three functions keep the blocks coming (`lots_store::partitions` calls them):
//! - `lots_event_partition_width()`: [`WIDTH`];
//! - `lots_create_event_partitions(first_case, last_case)` makes the partitions of the blocks
//!   from `first_case`'s to `last_case`'s that have none, and of the blocks of the rows waiting
//!   in the DEFAULT partition, which it moves into them (an import calls it with the ids it
//!   reserved);
//! - `lots_ensure_event_partitions(blocks_ahead)` does so from the newest case's block to
//!   `blocks_ahead` blocks beyond (the server calls it when it starts and every hour).
//!
//! The second runs as the role that migrated (`SECURITY DEFINER`, its schema fixed), which
//! owns the table: a server whose role owns nothing, and so cannot drop or detach a block,
//! still makes the blocks it needs.

use sea_orm_migration::prelude::*;

use crate::parts::on_postgres;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Case ids a partition: at about ten events a case, ten million events a partition.
const WIDTH: i64 = 1_000_000;

/// Blocks made ahead of the newest case's (as `lots_store::partitions::BLOCKS_AHEAD`).
const BLOCKS_AHEAD: i32 = 1;

/// At most this many partitions made by one call: a mistaken range fails rather than making a
/// million tables.
const MOST_AT_ONCE: i64 = 1_000;

fn width_function() -> String {
    format!(
        "CREATE FUNCTION lots_event_partition_width() RETURNS bigint \
         LANGUAGE sql IMMUTABLE AS 'SELECT {WIDTH}::bigint'"
    )
}

fn create_partitions() -> String {
    format!(
        r#"
CREATE FUNCTION lots_create_event_partitions(first_case bigint, last_case bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
    width constant bigint := lots_event_partition_width();
    missing bigint[];
    b bigint;
    moving boolean;
BEGIN
    IF last_case / width - first_case / width >= {MOST_AT_ONCE} THEN
        RAISE EXCEPTION 'case ids % to % would take over {MOST_AT_ONCE} partitions',
            first_case, last_case;
    END IF;
    -- One caller at a time, before anything is read: the next waits here holding no lock.
    PERFORM pg_advisory_xact_lock(hashtext('lots_create_event_partitions'));
    -- The blocks asked for, and those of the rows waiting in the DEFAULT partition, that have
    -- no partition yet.
    SELECT coalesce(array_agg(s.b ORDER BY s.b), '{{}}') INTO missing FROM (
        SELECT generate_series(greatest(first_case, 0) / width, last_case / width) AS b
        UNION
        SELECT case_id / width FROM case_event_default
    ) s WHERE s.b IS NOT NULL AND s.b >= 0
        AND to_regclass(format('case_event_from_%s', s.b * width)) IS NULL;
    IF cardinality(missing) = 0 THEN
        RETURN 0;
    END IF;
    LOCK TABLE case_event IN ACCESS EXCLUSIVE MODE;
    -- No partition can be made while the DEFAULT partition holds rows of its block: it is then
    -- taken out, and its rows put back through the parent once the blocks exist.
    moving := EXISTS (SELECT 1 FROM case_event_default WHERE case_id / width = ANY (missing));
    IF moving THEN
        ALTER TABLE case_event DETACH PARTITION case_event_default;
        ALTER TABLE case_event_default RENAME TO case_event_default_moving;
    END IF;
    FOREACH b IN ARRAY missing LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF case_event FOR VALUES FROM (%s) TO (%s)',
                       format('case_event_from_%s', b * width), b * width, (b + 1) * width);
    END LOOP;
    IF moving THEN
        CREATE TABLE case_event_default PARTITION OF case_event DEFAULT;
        INSERT INTO case_event OVERRIDING SYSTEM VALUE SELECT * FROM case_event_default_moving;
        DROP TABLE case_event_default_moving;
    END IF;
    RETURN cardinality(missing);
END
$fn$"#
    )
}

const ENSURE_AHEAD: &str = r#"
CREATE FUNCTION lots_ensure_event_partitions(blocks_ahead integer) RETURNS integer
LANGUAGE sql AS $fn$
    SELECT lots_create_event_partitions(newest,
        newest + greatest(blocks_ahead, 0) * lots_event_partition_width())
    FROM (SELECT coalesce(max(id), 0) AS newest FROM case_record) s
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

/// Partitions the table, its rows moved into their blocks.
fn partition() -> String {
    format!(
        r#"
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = 'case_event_old'::regclass) THEN
        RAISE EXCEPTION 'a foreign key refers to case_event, which cannot be partitioned then';
    END IF;
    CREATE TABLE case_event (LIKE case_event_old INCLUDING ALL EXCLUDING INDEXES)
        PARTITION BY RANGE (case_id);
    CREATE TABLE case_event_default PARTITION OF case_event DEFAULT;
    PERFORM lots_create_event_partitions(0, (SELECT coalesce(max(case_id), 0) FROM case_event_old));
    PERFORM lots_ensure_event_partitions({BLOCKS_AHEAD});
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
        // The primary key `(case_id, id)` is the index every read of the log uses (a case's
        // events in order), so the index of migration 1 on the same columns goes.
        let partitioned = rebuild(&partition(), "case_id, id");
        let (width, create) = (width_function(), create_partitions());
        on_postgres(
            m,
            &[
                "DROP INDEX IF EXISTS ix_case_event_case_id_id",
                &width,
                &create,
                ENSURE_AHEAD,
                &partitioned,
                // The new partitions' statistics now, not when autovacuum comes by.
                "ANALYZE case_event",
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            m,
            &[
                &rebuild(UNPARTITION, "id"),
                "CREATE INDEX ix_case_event_case_id_id ON case_event (case_id, id)",
                "DROP FUNCTION lots_ensure_event_partitions(integer)",
                "DROP FUNCTION lots_create_event_partitions(bigint, bigint)",
                "DROP FUNCTION lots_event_partition_width()",
                "ANALYZE case_event",
            ],
        )
        .await
    }
}
