//! Malformed and hostile requests get problem+json with the right status, and change nothing.

use axum::routing::get;
use serde_json::json;

use crate::helpers::{spawn_app_as, spawn_app_with, spawn_app_with_routes};

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
