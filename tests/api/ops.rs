//! Health, readiness, request ids, metrics, compression, the OpenAPI document and Swagger UI,
//! and time comparisons that agree on both backends.

use chrono::{DateTime, Utc};
use lots_store::entity::case_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_as};

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = spawn_app().await;
    let h = app.get("/healthz", None).await;
    assert_eq!(
        (h.status.as_u16(), h.body["status"].as_str()),
        (200, Some("ok"))
    );
    let r = app.get("/readyz", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body["status"].as_str()),
        (200, Some("ready"))
    );
    // A request id is made when none is sent, and echoed when one is.
    let made = h.header("x-request-id").expect("x-request-id");
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let echoed = app
        .send(
            reqwest::Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));
    // Errors carry it too.
    let nf = app.get("/nowhere", None).await;
    assert!(nf.header("x-request-id").is_some());
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    app.get("/api/v1/cases/1", Some(&anna)).await;
    app.get("/api/v1/cases/2", Some(&anna)).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        m.text.contains(
            "lots_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\"} 2"
        ),
        "{}",
        m.text
    );
    assert!(m.text.contains(
        "lots_http_requests_total{method=\"POST\",route=\"/api/v1/auth/token\",status=\"200\"} 1"
    ));
    assert!(m.text.contains("lots_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\",le=\"+Inf\"} 2"));
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
}

#[tokio::test]
async fn the_checked_in_openapi_document_is_the_one_the_code_generates() {
    let generated = lots_api::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/auth/token",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/transitions",
        "/api/v1/cases/{id}/events",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // And the server serves that same document, and Swagger UI without any CDN.
    let app = spawn_app().await;
    let served = app.get("/api/openapi.json", None).await;
    assert_eq!(served.body, doc);
    let ui = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    let html = ui.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no external assets");
}

#[tokio::test]
async fn instants_compare_and_order_the_same_on_every_backend() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case_id = app.case_id(&anna, json!({})).await;
    // Instants with and without fractions, across a day and a year boundary, inserted out of order.
    let instants = [
        "2025-12-31T23:59:59.999999Z",
        "2026-01-01T00:00:00Z",
        "2025-12-31T23:59:59Z",
        "2025-12-31T23:59:59.5Z",
        "2026-01-01T00:00:00.000001Z",
        "2025-12-31T22:00:00Z",
    ];
    for at in instants {
        app.insert_event(case_id, at.parse().unwrap(), "probe")
            .await;
    }
    let mut expected: Vec<DateTime<Utc>> = instants.iter().map(|s| s.parse().unwrap()).collect();
    expected.sort();
    let ordered: Vec<DateTime<Utc>> = case_event::Entity::find()
        .filter(case_event::Column::Kind.eq("probe"))
        .order_by_asc(case_event::Column::At)
        .all(app.db.reader())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(ordered, expected);
    let pivot: DateTime<Utc> = "2025-12-31T23:59:59.5Z".parse().unwrap();
    let later = case_event::Entity::find()
        .filter(case_event::Column::Kind.eq("probe"))
        .filter(case_event::Column::At.gt(pivot))
        .all(app.db.reader())
        .await
        .unwrap();
    assert_eq!(later.len(), expected.iter().filter(|t| **t > pivot).count());
    assert_eq!(later.len(), 3);
}

/// A transaction abandoned without a rollback (a future dropped at the wrong moment) must not
/// swallow the next user's statements: the pool closes such a connection instead of reusing it.
#[tokio::test]
async fn a_connection_given_back_inside_a_transaction_is_not_reused() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sqlx::Connection;
    let app = crate::helpers::spawn_app().await;
    match app.db.backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = app.db.writer().get_postgres_connection_pool();
            let mut c = pool.acquire().await.unwrap();
            let tx = c.begin().await.unwrap();
            std::mem::forget(tx);
            assert!(c.is_in_transaction());
        }
        _ => {
            let pool = app.db.writer().get_sqlite_connection_pool();
            let mut c = pool.acquire().await.unwrap();
            let tx = c.begin().await.unwrap();
            std::mem::forget(tx);
            assert!(c.is_in_transaction());
        }
    }
    // Given back here; the next write must commit on its own.
    app.db
        .writer()
        .execute_unprepared("INSERT INTO rollup_queue (case_id) VALUES (424242)")
        .await
        .unwrap();
    let other = lots_store::Db::connect(&app.config.database_url)
        .await
        .unwrap();
    let seen = other
        .reader()
        .query_one_raw(sea_orm::Statement::from_string(
            other.backend(),
            "SELECT COUNT(*) FROM rollup_queue WHERE case_id = 424242",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(
        seen, 1,
        "the write after an abandoned transaction was not committed"
    );
}

/// The bundled SQLite is built to keep a statement's plan whatever values are bound to it
/// (`SQLITE_ENABLE_QPSG`, set in `.cargo/config.toml`). Without it a bound `LIMIT ?` (every
/// `.one()` and every page of a list) makes SQLite parse and plan the statement again at each
/// run, though it is prepared once and cached: a quarter of a case read's time under load.
#[tokio::test]
async fn the_bundled_sqlite_keeps_each_statements_plan() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    if app.db.backend() != sea_orm::DbBackend::Sqlite {
        return;
    }
    for option in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
        let used = app
            .db
            .reader()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                format!("SELECT sqlite_compileoption_used('{option}')"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(used, 1, "SQLite was built without SQLITE_{option}");
    }
}

/// A read made on the request's own thread (SQLite) that outgrows its budget of SQLite's work is
/// stopped and made again on the readers: the caller gets every row all the same.
#[tokio::test]
async fn a_read_too_long_for_the_requests_thread_is_read_on_the_readers() {
    use lots_store::entity::department;
    use sea_orm::sea_query::Expr;
    use sea_orm::{EntityTrait, QueryFilter};
    let app = spawn_app().await;
    let all = department::Entity::find()
        .all(app.db.reader())
        .await
        .unwrap();
    assert!(!all.is_empty());
    let quick = app.db.read_all(department::Entity::find()).await.unwrap();
    assert_eq!(quick, all);
    let before = app.db.direct_reads_stopped();
    // A condition that counts to a million for each department before it holds.
    let slow = department::Entity::find().filter(Expr::cust(
        "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) \
         SELECT COUNT(*) FROM n) > 0",
    ));
    let read = app.db.read_all(slow).await.unwrap();
    assert_eq!(read, all, "every row, though the read was stopped");
    match (before, app.db.direct_reads_stopped()) {
        (Some(before), Some(after)) => assert_eq!(after, before + 1, "not stopped"),
        (None, None) => assert_ne!(app.db.backend(), sea_orm::DbBackend::Sqlite),
        other => panic!("{other:?}"),
    }
}

/// A pooled PostgreSQL connection is checked before use only once it has lain idle
/// (`PING_WHEN_IDLE_FOR`), not on every request. Connections the server closed while they lay
/// idle (a restart, a proxy's timeout) must still never reach a request: each is found dead
/// and replaced, and the requests after it are answered.
#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_before_a_request_uses_them() {
    let (app, [token]) = spawn_app_as(["erik"]).await;
    let id = app.case_id(&token, json!({"title": "Bygglov"})).await;
    let path = format!("/api/v1/cases/{id}");
    // Requests at once, so that the pool holds several connections.
    let at_once = futures::future::join_all((0..12).map(|_| app.get(&path, Some(&token)))).await;
    assert!(at_once.iter().all(|r| r.status == 200));
    if app.db.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let closed = app
        .scalar(
            "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend'"
                .into(),
        )
        .await;
    assert!(
        closed >= 4,
        "the server closed {closed} of Lots' connections"
    );
    tokio::time::sleep(lots_store::PING_WHEN_IDLE_FOR + std::time::Duration::from_millis(300))
        .await;
    for _ in 0..20 {
        let read = app.get(&path, Some(&token)).await;
        assert_eq!(read.status, 200, "{:?}", read.body);
        assert_eq!(read.body["title"], "Bygglov");
    }
    let written = app.add_note(&token, id, "Efter omstart").await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    assert_eq!(
        app.count_where(
            "case_note",
            &format!("case_id = {id} AND text = 'Efter omstart'")
        )
        .await,
        1,
        "the note written after the restart is stored"
    );
}
