//! The event log on PostgreSQL: partitioned by blocks of a million case ids (migration 21), each
//! block in a partition of its own, append-only in every partition, and rebuilt by the
//! migration with every row, id and the sequence kept. On SQLite the log stays one table: there
//! the tests check that it is left as it was, and still refuses changes.

use chrono::{DateTime, TimeZone, Utc};
use lots_migrations::{Migrator, MigratorTrait};
use lots_store::entity::case_event;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder};
use serde_json::json;

use crate::helpers::{TestApp, events_body, spawn_app_as};

const MIGRATION: &str = "m20261210_000021_event_log_by_case";

/// Case ids a partition (as the migration's `WIDTH`).
const WIDTH: i64 = 1_000_000;

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn on_postgres(app: &TestApp) -> bool {
    app.db.backend() == DbBackend::Postgres
}

/// The partition that holds event `id`.
async fn partition_of(app: &TestApp, id: i64) -> String {
    app.query_one(&format!(
        "SELECT tableoid::regclass::text FROM case_event WHERE id = {id}"
    ))
    .await
    .remove(0)
}

/// The partition of case `case_id`'s block.
fn block_of(case_id: i64) -> String {
    format!("case_event_from_{}", case_id / WIDTH * WIDTH)
}

/// Whether a table of that name exists.
async fn exists(app: &TestApp, table: &str) -> bool {
    app.query_one(&format!(
        "SELECT (to_regclass('{table}') IS NOT NULL)::text"
    ))
    .await
        == ["true"]
}

/// The next case registered gets id `next`.
async fn next_case_id(app: &TestApp, next: i64) {
    app.query_one(&format!(
        "SELECT setval(pg_get_serial_sequence('case_record', 'id'), {})::text",
        next - 1
    ))
    .await;
}

async fn every_event(app: &TestApp) -> Vec<case_event::Model> {
    case_event::Entity::find()
        .order_by_asc(case_event::Column::Id)
        .all(app.db.reader())
        .await
        .unwrap()
}

/// Appends an edit of the title at `at`, past the services; its id.
async fn edit_at(app: &TestApp, case_id: i64, at: DateTime<Utc>) -> i64 {
    let data = json!({"changes": {"title": {"from": "a", "to": "b"}}});
    app.insert_event_data(case_id, at, "updated", data).await
}

/// What `sql` fails with; it must fail.
async fn refused(app: &TestApp, sql: &str) -> String {
    match app.db.writer().execute_unprepared(sql).await {
        Ok(r) => panic!("{sql} changed {} rows", r.rows_affected()),
        Err(e) => e.to_string(),
    }
}

/// How the database describes the event log and what is on it (on PostgreSQL: the parent
/// table's columns, keys, indexes and triggers), to compare.
async fn log_schema(app: &TestApp) -> Vec<String> {
    let sql = if on_postgres(app) {
        "SELECT d FROM ( \
           SELECT attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull \
                  || ' ' || attidentity::text AS d \
           FROM pg_attribute WHERE attrelid = 'case_event'::regclass AND attnum > 0 \
           UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
           WHERE conrelid = 'case_event'::regclass \
           UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index \
           WHERE indrelid = 'case_event'::regclass \
           UNION ALL SELECT pg_get_triggerdef(oid) FROM pg_trigger \
           WHERE tgrelid = 'case_event'::regclass AND NOT tgisinternal) s ORDER BY d"
    } else {
        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master \
         WHERE tbl_name LIKE 'case_event%' ORDER BY name"
    };
    let rows = app
        .db
        .reader()
        .query_all_raw(sea_orm::Statement::from_string(app.db.backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn each_block_of_cases_lands_in_a_partition_of_its_own() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let first = app.case_id(&anna, json!({})).await;
    if !on_postgres(&app) {
        assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 0);
        assert_eq!(app.db.ensure_event_partitions_for(1, 5).await.unwrap(), 0);
        let schema = log_schema(&app).await;
        let tables: Vec<&String> = schema.iter().filter(|s| s.starts_with("table ")).collect();
        assert_eq!(tables.len(), 1, "{schema:?}");
        assert!(tables[0].starts_with("table case_event "), "{schema:?}");
        return;
    }
    let created = every_event(&app).await[0].clone();
    assert_eq!(partition_of(&app, created.id).await, block_of(first));
    // The migration made the newest case's block and the next, and no other.
    assert!(exists(&app, "case_event_from_1000000").await);
    assert!(!exists(&app, "case_event_from_2000000").await);
    // A case of a block that has no partition yet: its events wait in the DEFAULT partition.
    next_case_id(&app, 5 * WIDTH + 7).await;
    let far = app.case_id(&anna, json!({})).await;
    assert_eq!(far, 5 * WIDTH + 7);
    app.add_note(&anna, far, "I väntan på sitt block").await;
    let waiting: Vec<i64> = every_event(&app)
        .await
        .iter()
        .filter(|e| e.case_id == far)
        .map(|e| e.id)
        .collect();
    assert_eq!(waiting.len(), 2, "created and the note");
    for id in &waiting {
        assert_eq!(partition_of(&app, *id).await, "case_event_default");
    }
    let before = every_event(&app).await;
    let listed = events_body(&app, &anna, far).await;
    // The next round makes its block and the one after, and moves them there, ids and all.
    assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 2);
    for id in &waiting {
        assert_eq!(partition_of(&app, *id).await, "case_event_from_5000000");
    }
    assert!(exists(&app, "case_event_from_6000000").await);
    assert!(!exists(&app, "case_event_from_4000000").await);
    assert_eq!(app.count("case_event_default").await, 0);
    assert_eq!(every_event(&app).await, before);
    assert_eq!(events_body(&app, &anna, far).await, listed);
    assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 0);
    // Blocks asked for are made once; a range too wide for one call is refused whole.
    assert_eq!(
        app.db
            .ensure_event_partitions_for(8 * WIDTH + 3, 9 * WIDTH)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        app.db
            .ensure_event_partitions_for(8 * WIDTH, 8 * WIDTH + 1)
            .await
            .unwrap(),
        0
    );
    let error = app
        .db
        .ensure_event_partitions_for(0, 5_000 * WIDTH)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("partitions"), "{error}");
    assert!(!exists(&app, "case_event_from_10000000").await);
    // A history read names its case, and so reads its block alone.
    let plan = app
        .db
        .reader()
        .query_all_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            format!(
                "EXPLAIN (COSTS OFF) SELECT * FROM case_event WHERE case_id = {far} ORDER BY id"
            ),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(plan.contains("case_event_from_5000000"), "{plan}");
    assert!(!plan.contains("case_event_from_0"), "{plan}");
}

#[tokio::test]
async fn every_partition_refuses_to_change_or_delete_an_event() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.case_id(&anna, json!({})).await;
    let old = edit_at(&app, case, noon(2019, 3, 15)).await;
    let mut attempts = vec![
        "UPDATE case_event SET kind = 'note_added'".to_string(),
        format!("UPDATE case_event SET at = at WHERE id = {old}"),
        format!("DELETE FROM case_event WHERE id = {old}"),
    ];
    if on_postgres(&app) {
        next_case_id(&app, 3 * WIDTH).await;
        let waiting = app.case_id(&anna, json!({})).await;
        attempts.extend([
            format!("DELETE FROM case_event WHERE case_id = {waiting}"),
            // Into another block's partition, which PostgreSQL would do by delete and insert.
            format!("UPDATE case_event SET case_id = {waiting} WHERE id = {old}"),
            format!("UPDATE case_event_from_0 SET data = '{{}}' WHERE id = {old}"),
            format!("DELETE FROM case_event_from_0 WHERE id = {old}"),
            "DELETE FROM case_event_from_0".to_string(),
            "UPDATE case_event_default SET case_id = case_id".to_string(),
            "DELETE FROM case_event_default".to_string(),
        ]);
    }
    let before = every_event(&app).await;
    for sql in &attempts {
        let error = refused(&app, sql).await;
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(every_event(&app).await, before);
}

#[tokio::test]
async fn the_migration_keeps_every_event_its_id_and_the_sequence() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.case_id(&anna, json!({})).await;
    for at in [noon(2019, 3, 15), noon(2019, 4, 1), noon(2020, 12, 31)] {
        edit_at(&app, case, at).await;
    }
    app.add_note(&anna, case, "Före ombyggnaden").await;
    let mut later = case;
    if on_postgres(&app) {
        // A case two blocks on, whose block the migration makes when it runs again.
        next_case_id(&app, 2 * WIDTH + 1).await;
        later = app.case_id(&anna, json!({})).await;
        app.db.ensure_event_partitions().await.unwrap();
    }
    let before = every_event(&app).await;
    let schema = log_schema(&app).await;
    // Back to before the migration, on a log that holds events, and forward again.
    let migrations = Migrator::migrations();
    let at = migrations
        .iter()
        .position(|m| m.name() == MIGRATION)
        .expect("the migration is listed");
    let steps = u32::try_from(migrations.len() - at).unwrap();
    let relkind = "SELECT relkind::text FROM pg_class WHERE oid = 'case_event'::regclass";
    Migrator::down(app.db.writer(), Some(steps)).await.unwrap();
    assert_eq!(every_event(&app).await, before);
    if on_postgres(&app) {
        assert_eq!(app.query_one(relkind).await, ["r"]);
        assert!(!exists(&app, "case_event_from_0").await);
        let plain = log_schema(&app).await;
        assert!(
            plain.contains(&"case_event_pkey PRIMARY KEY (id)".to_string()),
            "{plain:?}"
        );
        let error = refused(&app, "DELETE FROM case_event").await;
        assert!(error.contains("append-only"), "{error}");
    }
    Migrator::up(app.db.writer(), None).await.unwrap();
    assert_eq!(every_event(&app).await, before);
    if on_postgres(&app) {
        assert_eq!(app.query_one(relkind).await, ["p"]);
        for e in &before {
            assert_eq!(partition_of(&app, e.id).await, block_of(e.case_id));
        }
        assert_eq!(app.count("case_event_default").await, 0);
        // Every block up to the newest case's and the next.
        for block in 0..=3 {
            assert!(exists(&app, &block_of(block * WIDTH)).await, "{block}");
        }
        assert!(!exists(&app, &block_of(4 * WIDTH)).await);
    }
    assert_eq!(log_schema(&app).await, schema);
    // The sequence goes on from where it was.
    app.add_note(&anna, later, "Efter ombyggnaden").await;
    let after = every_event(&app).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after[before.len()].id > before[before.len() - 1].id);
    assert_eq!(after[..before.len()], before[..]);
}

#[tokio::test]
async fn an_imported_history_lands_in_the_blocks_of_its_cases() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    if !on_postgres(&app) {
        // One table on SQLite: the import's own tests cover it.
        return;
    }
    // The file's two cases get the last id of a block and the first of the next, neither made.
    next_case_id(&app, 3 * WIDTH - 1).await;
    let history = include_str!("../fixtures/history.ndjson");
    let r = app
        .post_raw(
            "/api/v1/import/cases",
            &root,
            Some("application/x-ndjson"),
            history.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = every_event(&app).await;
    assert!(events.len() >= 2 + 8 + 4, "{events:?}");
    let cases: std::collections::BTreeSet<i64> = events.iter().map(|e| e.case_id).collect();
    assert_eq!(
        cases.into_iter().collect::<Vec<_>>(),
        [3 * WIDTH - 1, 3 * WIDTH]
    );
    for e in &events {
        assert_eq!(partition_of(&app, e.id).await, block_of(e.case_id));
    }
    assert_eq!(app.count("case_event_default").await, 0);
}
