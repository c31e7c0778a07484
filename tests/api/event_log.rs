//! The event log on PostgreSQL: partitioned by month of `at` (migration 19), each month in a
//! partition of its own, append-only in every partition, and rebuilt by the migration with
//! every row, id and the sequence kept. On SQLite the log stays one table: there the tests
//! check that it is left as it was, and still refuses changes.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use lots_migrations::{Migrator, MigratorTrait};
use lots_store::entity::case_event;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder};
use serde_json::json;

use crate::helpers::{TestApp, events_body, spawn_app_as};

const MIGRATION: &str = "m20261207_000019_partitioned_event_log";

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

/// The partition of the month `at` lies in.
fn month_of(at: DateTime<Utc>) -> String {
    format!("case_event_{}", at.format("%Y_%m"))
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
async fn each_month_of_events_lands_in_a_partition_of_its_own() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.case_id(&anna, json!({})).await;
    if !on_postgres(&app) {
        assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 0);
        let schema = log_schema(&app).await;
        let tables: Vec<&String> = schema.iter().filter(|s| s.starts_with("table ")).collect();
        assert_eq!(tables.len(), 1, "{schema:?}");
        assert!(tables[0].starts_with("table case_event "), "{schema:?}");
        return;
    }
    let created = every_event(&app).await[0].clone();
    assert_eq!(partition_of(&app, created.id).await, month_of(created.at));
    // Months that have no partition yet: their events wait in the DEFAULT partition.
    let march = edit_at(&app, case, noon(2019, 3, 15)).await;
    let march_again = edit_at(&app, case, noon(2019, 3, 31)).await;
    let april = edit_at(&app, case, noon(2019, 4, 1)).await;
    for id in [march, march_again, april] {
        assert_eq!(partition_of(&app, id).await, "case_event_default");
    }
    let before = every_event(&app).await;
    let listed = events_body(&app, &anna, case).await;
    // The next round makes their months and moves them there, ids and all.
    assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 2);
    assert_eq!(partition_of(&app, march).await, "case_event_2019_03");
    assert_eq!(partition_of(&app, march_again).await, "case_event_2019_03");
    assert_eq!(partition_of(&app, april).await, "case_event_2019_04");
    assert_eq!(app.count("case_event_default").await, 0);
    assert_eq!(every_event(&app).await, before);
    assert_eq!(events_body(&app, &anna, case).await, listed);
    assert_eq!(app.db.ensure_event_partitions().await.unwrap(), 0);
    // This month and the next three were made by the migration.
    let ahead = (Utc::now() + chrono::Months::new(3)).format("%Y_%m");
    assert_eq!(app.count(&format!("case_event_{ahead}")).await, 0);
    // Months asked for are made once.
    let months = [2018, 2018].map(|y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap());
    assert_eq!(app.db.ensure_event_partitions_in(&months).await.unwrap(), 1);
    assert_eq!(app.db.ensure_event_partitions_in(&months).await.unwrap(), 0);
    let at = noon(2018, 1, 2);
    assert_eq!(
        partition_of(&app, edit_at(&app, case, at).await).await,
        month_of(at)
    );
}

#[tokio::test]
async fn every_partition_refuses_to_change_or_delete_an_event() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.case_id(&anna, json!({})).await;
    let old = edit_at(&app, case, noon(2019, 3, 15)).await;
    app.db.ensure_event_partitions().await.unwrap();
    let waiting = edit_at(&app, case, noon(2001, 1, 1)).await;
    let mut attempts = vec![
        "UPDATE case_event SET kind = 'note_added'".to_string(),
        format!("UPDATE case_event SET at = at WHERE id = {old}"),
        format!("DELETE FROM case_event WHERE id = {old}"),
        format!("DELETE FROM case_event WHERE id = {waiting}"),
    ];
    if on_postgres(&app) {
        let this_month = month_of(every_event(&app).await[0].at);
        attempts.extend([
            // Into another month's partition, which PostgreSQL would do by delete and insert.
            format!("UPDATE case_event SET at = at + interval '1 year' WHERE id = {old}"),
            format!("UPDATE case_event_2019_03 SET data = '{{}}' WHERE id = {old}"),
            format!("DELETE FROM case_event_2019_03 WHERE id = {old}"),
            format!("DELETE FROM {this_month}"),
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
            assert_eq!(partition_of(&app, e.id).await, month_of(e.at));
        }
        assert_eq!(app.count("case_event_default").await, 0);
    }
    assert_eq!(log_schema(&app).await, schema);
    // The sequence goes on from where it was.
    app.add_note(&anna, case, "Efter ombyggnaden").await;
    let after = every_event(&app).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after[before.len()].id > before[before.len() - 1].id);
    assert_eq!(after[..before.len()], before[..]);
}

#[tokio::test]
async fn an_imported_history_lands_in_the_months_it_happened_in() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    if !on_postgres(&app) {
        // One table on SQLite: the import's own tests cover it.
        return;
    }
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
    for e in &events {
        assert_eq!(partition_of(&app, e.id).await, month_of(e.at));
    }
    // Its months were made before it wrote, and only those: none for April 2024, between its
    // two cases.
    let april = "SELECT coalesce(to_regclass('case_event_2024_04')::text, 'none')";
    assert_eq!(app.query_one(april).await, ["none"]);
}
