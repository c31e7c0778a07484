//! The lifecycle, notes and the history.

use lots_store::entity::case_record;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{STARTED, SUPPLEMENT_ROUND, kinds, spawn_app_as};

#[tokio::test]
async fn a_case_goes_through_its_whole_life_and_the_history_tells_it() {
    let (app, [anna, maria]) = spawn_app_as(["anna", "maria"]).await;
    let case = app.create_case(&anna, json!({"assignee": "anna"})).await;
    let id = case["id"].as_i64().unwrap();
    for (token, body) in [
        (&anna, json!({"to": "in_progress"})),
        (
            &anna,
            json!({"to": "awaiting_supplement", "reason": "Ritningar saknas"}),
        ),
        (
            &anna,
            json!({"to": "in_progress", "reason": "Ritningarna har kommit"}),
        ),
        (
            &maria,
            json!({"to": "decided", "decision": "approved", "reason": "Uppfyller kraven"}),
        ),
        (&anna, json!({"to": "closed"})),
    ] {
        let r = app.transition(token, id, body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.text);
        assert_eq!(r.body["status"], body["to"]);
    }
    let done = app.get(&format!("/api/v1/cases/{id}"), Some(&anna)).await;
    assert_eq!(done.body["status"], "closed");
    assert_eq!(done.body["decision"], "approved");
    assert_eq!(done.body["version"], 6);
    assert!(done.body["decided_at"].is_string() && done.body["closed_at"].is_string());

    let note = app.add_note(&anna, id, "Arkiverat.").await;
    assert_eq!(note.status, 201, "{}", note.text);
    assert_eq!(note.body["author"], "anna");
    let notes = app
        .get(&format!("/api/v1/cases/{id}/notes"), Some(&maria))
        .await;
    assert_eq!(notes.body["items"][0]["text"], "Arkiverat.");

    let events = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&anna))
        .await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(
        kinds(&events.body),
        [
            &STARTED[..],
            &SUPPLEMENT_ROUND,
            &[
                "status_changed",
                "decision_registered",
                "status_changed",
                "note_added"
            ]
        ]
        .concat()
    );
    let changes: Vec<&serde_json::Value> = items
        .iter()
        .filter(|e| e["kind"] == "status_changed")
        .collect();
    let steps: Vec<(String, String)> = changes
        .iter()
        .map(|e| {
            (
                e["data"]["from"].as_str().unwrap().into(),
                e["data"]["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("received".into(), "in_progress".into()),
            ("in_progress".into(), "awaiting_supplement".into()),
            ("awaiting_supplement".into(), "in_progress".into()),
            ("in_progress".into(), "decided".into()),
            ("decided".into(), "closed".into()),
        ]
    );
    assert_eq!(changes[1]["data"]["reason"], "Ritningar saknas");
    assert_eq!(items[2]["data"]["message"], "Ritningar saknas");
    assert_eq!(changes[3]["actor"], "maria");
    assert_eq!(changes[3]["department"], "SBF");
    assert_eq!(changes[3]["data"]["decision"], "approved");
    let ats: Vec<&str> = items.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted, "oldest first");

    // A closed case goes nowhere and is no longer edited.
    let r = app
        .transition(&anna, id, json!({"to": "in_progress"}))
        .await;
    r.problem(409);
    app.patch_case(&anna, id, json!({"title": "Sent"}))
        .await
        .problem(409);
}

#[tokio::test]
async fn a_forbidden_transition_is_refused_and_changes_nothing() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let before = case_record::Entity::find_by_id(id)
        .one(app.db.reader())
        .await
        .unwrap()
        .unwrap();
    let r = app
        .transition(&anna, id, json!({"to": "decided", "decision": "approved"}))
        .await;
    let body = r.problem(409);
    assert!(
        body["detail"].as_str().unwrap().contains("in_progress"),
        "names what is allowed: {body}"
    );
    app.transition(&anna, id, json!({"to": "closed"}))
        .await
        .problem(409);
    app.transition(&anna, id, json!({"to": "received"}))
        .await
        .problem(409);
    let after = case_record::Entity::find_by_id(id)
        .one(app.db.reader())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(app.count("case_event").await, 1);

    // Bad input is 422 and names the field.
    assert_eq!(
        app.transition(&anna, id, json!({})).await.invalid_fields(),
        ["to"]
    );
    assert_eq!(
        app.transition(&anna, id, json!({"to": "done"}))
            .await
            .invalid_fields(),
        ["to"]
    );
    app.transition(&anna, id, json!({"to": "in_progress"}))
        .await;
    assert_eq!(
        app.transition(&anna, id, json!({"to": "decided"}))
            .await
            .invalid_fields(),
        ["decision"]
    );
    assert_eq!(
        app.transition(&anna, id, json!({"to": "decided", "decision": "yes"}))
            .await
            .invalid_fields(),
        ["decision"]
    );
    assert_eq!(
        app.transition(
            &anna,
            id,
            json!({"to": "withdrawn", "decision": "approved"})
        )
        .await
        .invalid_fields(),
        ["decision"]
    );
    // A stale If-Match on a transition is 412.
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/cases/{id}/transitions"),
            Some(&anna),
            Some(&json!({"to": "withdrawn"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    r.problem(412);
    let withdrawn = app
        .transition(
            &anna,
            id,
            json!({"to": "withdrawn", "reason": "Sökanden återkallade"}),
        )
        .await;
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert!(withdrawn.body["closed_at"].is_string());
    assert_eq!(app.count("case_event").await, 3);
}

#[tokio::test]
async fn notes_need_text() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.create_case(&anna, json!({})).await;
    let path = format!("/api/v1/cases/{}/notes", case["id"]);
    assert_eq!(
        app.post(&path, Some(&anna), &json!({"text": "   "}))
            .await
            .invalid_fields(),
        ["text"]
    );
    assert_eq!(
        app.post(&path, Some(&anna), &json!({}))
            .await
            .invalid_fields(),
        ["text"]
    );
    assert_eq!(
        app.post(&path, Some(&anna), &json!({"text": "ok\u{0007}"}))
            .await
            .invalid_fields(),
        ["text"]
    );
    assert_eq!(app.count("case_note").await, 0);
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_an_event() {
    use sea_orm::ConnectionTrait;
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    app.create_case(&anna, json!({})).await;
    for change in [
        "UPDATE case_event SET kind = 'forged'",
        "DELETE FROM case_event",
    ] {
        let refused = app.db.writer().execute_unprepared(change).await;
        assert!(
            refused.unwrap_err().to_string().contains("append-only"),
            "{change}"
        );
    }
    assert_eq!(app.count("case_event").await, 1);
}
