//! Malformed and hostile requests get problem+json with the right status, and change nothing.

use axum::routing::get;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_app_as, spawn_app_with, spawn_app_with_routes};

#[tokio::test]
async fn malformed_bodies_wrong_types_and_unknown_routes() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.post_raw("/api/v1/cases", &anna, Some(content_type), body)
    };
    let r = raw("{\"title\": ", "application/json").await;
    assert!(r.problem_detail(400).contains("malformed JSON"));
    raw("", "application/json").await.problem(400);
    raw("{\"title\": \"x\"}", "text/plain").await.problem(415);
    let r = raw("{\"title\": 42}", "application/json").await;
    assert_eq!(r.invalid_fields(), ["title"]);
    let r = raw("[]", "application/json").await;
    assert_eq!(r.invalid_fields(), ["body"]);
    let r = app.post_raw("/api/v1/cases", &anna, None, "{}").await;
    r.problem(415);

    app.get("/api/v1/nothing-here", Some(&anna))
        .await
        .problem(404);
    app.get("/api/v1/cases/abc", Some(&anna)).await.problem(404);
    app.get("/api/v1/cases/99999999999999999999999", Some(&anna))
        .await
        .problem(404);
    let r = app.delete("/api/v1/cases", &anna).await;
    r.problem(405);
    let r = app
        .send(reqwest::Method::PUT, "/api/v1/auth/token", None, None, &[])
        .await;
    r.problem(405);
    assert_eq!(app.count("case_record").await, 0);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = spawn_app_with(|c| c.body_limit_bytes = 4096).await;
    let anna = app.token("anna").await;
    let r = app
        .post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t", "description": "x".repeat(10_000)}))
        .await;
    r.problem(413);
    assert_eq!(app.count("case_record").await, 0);
}

async fn boom() -> &'static str {
    panic!("secret internal detail: the database password is hunter2")
}

#[tokio::test]
async fn a_panicking_handler_gives_500_without_internals_and_the_server_lives_on() {
    let app = spawn_app_with_routes(axum::Router::new().route("/test/panic", get(boom))).await;
    let r = app.get("/test/panic", None).await;
    r.problem(500);
    assert!(
        !r.text.contains("hunter2") && !r.text.contains("secret"),
        "{}",
        r.text
    );
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

/// Stores `value` in `column` of row `id` of `table` directly, bypassing the services.
async fn set(app: &TestApp, (table, id): (&str, i64), column: &str, value: &str) {
    use sea_orm::ConnectionTrait;
    let sql = format!("UPDATE {table} SET {column} = '{value}' WHERE id = {id}");
    app.db.writer().execute_unprepared(&sql).await.unwrap();
}

/// Stores an unknown `value` in a row, and asserts that `path` then answers a 500 problem that
/// shows nothing of the row.
async fn corrupt_then_get(
    app: &TestApp,
    token: &str,
    row: (&str, i64),
    (column, value): (&str, &str),
    path: &str,
) {
    set(app, row, column, value).await;
    let r = app.get(path, Some(token)).await;
    r.problem(500);
    assert!(!r.text.contains(value), "{path}: {}", r.text);
}

/// A stored row holding a value its column's type does not know is corrupt: reading it answers
/// a 500 problem, never a 200 with a silently substituted default.
#[tokio::test]
async fn a_row_holding_an_unknown_value_is_a_server_error_not_a_default() {
    let app = spawn_app().await;
    let anna = app.token("anna").await;
    let case = app.create_case(&anna, json!({})).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}");
    let row = ("case_record", id);
    corrupt_then_get(&app, &anna, row, ("status", "limbo"), &path).await;
    corrupt_then_get(&app, &anna, row, ("status", "limbo"), "/api/v1/cases").await;
    set(&app, row, "status", "received").await;
    corrupt_then_get(&app, &anna, row, ("area", "bygglov"), &path).await;
    // Mended, the case reads again as stored.
    set(&app, row, "area", case["area"].as_str().unwrap()).await;
    let r = app.get(&path, Some(&anna)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["status"], &r.body["area"]),
        (&json!("received"), &case["area"])
    );

    // An event of a kind Lots never writes: the history is a server error, not a silent gap.
    let events = format!("{path}/events");
    assert_eq!(app.get(&events, Some(&anna)).await.status, 200);
    app.insert_event(id, chrono::Utc::now(), "teleported").await;
    app.get(&events, Some(&anna)).await.problem(500);

    let other = app.create_case(&anna, json!({})).await["id"]
        .as_i64()
        .unwrap();
    // An event of a known kind whose data does not fit the kind: the same, and nothing of the
    // data shows.
    let other_events = format!("/api/v1/cases/{other}/events");
    assert_eq!(app.get(&other_events, Some(&anna)).await.status, 200);
    let data = json!({"from": "received", "to": "teleported", "reason": null, "decision": null});
    app.insert_event_data(other, chrono::Utc::now(), "status_changed", data)
        .await;
    let r = app.get(&other_events, Some(&anna)).await;
    r.problem(500);
    assert!(!r.text.contains("teleported"), "{}", r.text);
    // Data that fits the kind reads.
    let third = app.create_case(&anna, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let data = json!({"from": "received", "to": "in_progress", "reason": null, "decision": null});
    app.insert_event_data(third, chrono::Utc::now(), "status_changed", data.clone())
        .await;
    let r = app
        .get(&format!("/api/v1/cases/{third}/events"), Some(&anna))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"][1]["data"], data);

    let body = json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande?"});
    let h = crate::handoffs::handoff(&app, &anna, other, body).await;
    assert_eq!(
        (h.status.as_u16(), &h.body["kind"]),
        (201, &json!("consultation"))
    );
    let handoff = format!("/api/v1/handoffs/{}", h.body["id"]);
    let row = ("handoff", h.body["id"].as_i64().unwrap());
    corrupt_then_get(&app, &anna, row, ("kind", "remiss"), &handoff).await;
    set(&app, row, "kind", "consultation").await;
    corrupt_then_get(&app, &anna, row, ("status", "pending"), &handoff).await;
}
