//! Malformed and hostile requests get problem+json with the right status, and change nothing.

use axum::routing::get;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, spawn_app_with_routes};

#[tokio::test]
async fn malformed_bodies_wrong_types_and_unknown_routes() {
    let app = spawn_app().await;
    let anna = app.token("anna").await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(anna.clone())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let r = crate::helpers::read(raw("{\"title\": ", "application/json").await.unwrap()).await;
    assert!(
        r.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
    crate::helpers::read(raw("", "application/json").await.unwrap())
        .await
        .problem(400);
    crate::helpers::read(raw("{\"title\": \"x\"}", "text/plain").await.unwrap())
        .await
        .problem(415);
    let r = crate::helpers::read(raw("{\"title\": 42}", "application/json").await.unwrap()).await;
    assert_eq!(r.invalid_fields(), ["title"]);
    let r = crate::helpers::read(raw("[]", "application/json").await.unwrap()).await;
    assert_eq!(r.invalid_fields(), ["body"]);
    let r = crate::helpers::read(
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(anna.clone())
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.problem(415);

    app.get("/api/v1/nothing-here", Some(&anna))
        .await
        .problem(404);
    app.get("/api/v1/cases/abc", Some(&anna)).await.problem(404);
    app.get("/api/v1/cases/99999999999999999999999", Some(&anna))
        .await
        .problem(404);
    let r = app
        .send(
            reqwest::Method::DELETE,
            "/api/v1/cases",
            Some(&anna),
            None,
            &[],
        )
        .await;
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

async fn execute(app: &crate::helpers::TestApp, sql: String) {
    use sea_orm::ConnectionTrait;
    app.db.writer().execute_unprepared(&sql).await.unwrap();
}

/// A stored row holding a value its column's type does not know is corrupt: reading it answers
/// a 500 problem that shows nothing of the row, never a 200 with a silently substituted default.
#[tokio::test]
async fn a_row_holding_an_unknown_value_is_a_server_error_not_a_default() {
    let app = spawn_app().await;
    let anna = app.token("anna").await;
    let case = app.create_case(&anna, json!({})).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}");

    execute(
        &app,
        format!("UPDATE case_record SET status = 'limbo' WHERE id = {id}"),
    )
    .await;
    let r = app.get(&path, Some(&anna)).await;
    r.problem(500);
    assert!(!r.text.contains("limbo"), "{}", r.text);
    app.get("/api/v1/cases", Some(&anna)).await.problem(500);

    execute(
        &app,
        format!("UPDATE case_record SET status = 'received', area = 'bygglov' WHERE id = {id}"),
    )
    .await;
    let r = app.get(&path, Some(&anna)).await;
    r.problem(500);
    assert!(!r.text.contains("bygglov"), "{}", r.text);

    // Mended, the case reads again as stored.
    execute(
        &app,
        format!(
            "UPDATE case_record SET area = '{}' WHERE id = {id}",
            case["area"].as_str().unwrap()
        ),
    )
    .await;
    let r = app.get(&path, Some(&anna)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "received");
    assert_eq!(r.body["area"], case["area"]);

    // An event of a kind Lots never writes makes the history a server error, not a silent gap.
    let events = format!("{path}/events");
    assert_eq!(app.get(&events, Some(&anna)).await.status, 200);
    use sea_orm::{ActiveModelTrait, Set};
    lots_store::entity::case_event::ActiveModel {
        case_id: Set(id),
        at: Set(chrono::Utc::now()),
        kind: Set("teleported".into()),
        actor_id: Set(None),
        department_id: Set(None),
        data: Set(json!({})),
        ..Default::default()
    }
    .insert(app.db.writer())
    .await
    .unwrap();
    app.get(&events, Some(&anna)).await.problem(500);

    // A handoff of an unknown kind.
    let other = app.create_case(&anna, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let h = app
        .post(
            &format!("/api/v1/cases/{other}/handoffs"),
            Some(&anna),
            &json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande?"}),
        )
        .await;
    assert_eq!(h.status, 201, "{}", h.text);
    assert_eq!(h.body["kind"], "consultation");
    assert_eq!(h.body["status"], "requested");
    let handoff = format!("/api/v1/handoffs/{}", h.body["id"]);
    execute(
        &app,
        format!(
            "UPDATE handoff SET kind = 'remiss' WHERE id = {}",
            h.body["id"]
        ),
    )
    .await;
    app.get(&handoff, Some(&anna)).await.problem(500);
}
