//! Statutory deadlines through the API: the clock, supplements, the extension, FL 12 §, and the
//! list's deadline filters and order.

use chrono::{Duration, NaiveDate, Utc};
use lots_core::calendar::{next_working_day, working_days_between};
use serde_json::{Value, json};

use crate::helpers::{
    STARTED, SUPPLEMENT_ROUND, TestApp, assert_each_query_names, event_kinds, events_body,
    every_page, ids, spawn_app_as,
};

fn today() -> NaiveDate {
    Utc::now().with_timezone(&lots_core::TIME_ZONE).date_naive()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn permit(app: &TestApp, token: &str, received_at: &str) -> Value {
    app.create_case(token, json!({"received_at": received_at}))
        .await
}

async fn start(app: &TestApp, token: &str, id: i64) {
    let r = app
        .transition(token, id, json!({"to": "in_progress"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_permit_is_due_ten_weeks_after_receipt_in_stockholm_time() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = permit(&app, &anna, "2026-03-02T08:00:00Z").await;
    let dl = &case["deadline"];
    assert_eq!(dl["kind"], "statutory");
    assert_eq!(dl["due_date"], "2026-05-11");
    assert_eq!(dl["extended"], false);
    assert_eq!(dl["paused"], false);
    assert_eq!(dl["overdue"], true);
    assert_eq!(dl["fee_reduction_fifths"], 5);
    assert_eq!(
        dl["days_left"],
        working_days_between(today(), day("2026-05-11"))
    );
    assert_eq!(dl["older_than_six_months"], true);
    assert!(dl["source"].as_str().unwrap().contains("9 kap. 27 §"));
    assert_eq!(case["complete_at"], "2026-03-02T08:00:00Z");

    // 22:30 UTC on Thursday 11 June is Friday 12 June in Stockholm: due Friday 21 August, not
    // Thursday 20 August as a UTC date would give.
    let late_evening = permit(&app, &anna, "2026-06-11T22:30:00Z").await;
    assert_eq!(late_evening["deadline"]["due_date"], "2026-08-21");
    // Received on 10 April: ten weeks end on midsommarafton, so the deadline is the Monday after.
    let midsummer = permit(&app, &anna, "2026-04-10T09:00:00Z").await;
    assert_eq!(midsummer["deadline"]["due_date"], "2026-06-22");
    // A notification: four weeks. Other areas: a service target. `other`: none.
    let notification = app
        .create_case(
            &anna,
            json!({"case_type": "notification", "received_at": "2026-11-02T09:00:00Z"}),
        )
        .await;
    assert_eq!(notification["deadline"]["due_date"], "2026-11-30");
    let omar = app.token("omar").await;
    let food = app
        .create_case(
            &omar,
            json!({"area": "food_control", "received_at": "2026-11-02T09:00:00Z"}),
        )
        .await;
    assert_eq!(food["deadline"]["kind"], "target");
    assert_eq!(food["deadline"]["due_date"], "2026-11-16");
    assert!(food["deadline"]["fee_reduction_fifths"].is_null());
    let other = app.create_case(&anna, json!({"area": "other"})).await;
    assert!(other["deadline"].is_null());
}

#[tokio::test]
async fn a_supplement_requested_within_three_weeks_pauses_and_restarts_the_clock() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let received = (Utc::now() - Duration::days(5)).to_rfc3339();
    let case = permit(&app, &anna, &received).await;
    let id = case["id"].as_i64().unwrap();
    start(&app, &anna, id).await;
    let path = format!("/api/v1/cases/{id}/supplement-requests");
    // Only while in progress, and with a message.
    assert_eq!(
        app.post(&path, Some(&anna), &json!({}))
            .await
            .invalid_fields(),
        ["message"]
    );
    let r = app
        .post_expecting(
            201,
            &path,
            Some(&anna),
            &json!({"message": "Komplettera med situationsplan."}),
        )
        .await;
    let rid = r.body["id"].as_i64().unwrap();
    assert!(r.body["received_at"].is_null());
    assert_eq!(r.body["requested_by"], "anna");
    app.post(&path, Some(&anna), &json!({"message": "En till"}))
        .await
        .problem(409);

    let waiting = app.case_body(&anna, id).await;
    assert_eq!(waiting["status"], "awaiting_supplement");
    assert_eq!(waiting["deadline"]["paused"], true);
    assert!(waiting["deadline"]["due_date"].is_null());
    assert!(waiting["deadline"]["days_left"].is_null());
    assert!(waiting["complete_at"].is_null());

    let received_path = format!("{path}/{rid}/received");
    let r = app
        .post_expecting(200, &received_path, Some(&anna), &json!({}))
        .await;
    assert!(r.body["received_at"].is_string());
    app.post(&received_path, Some(&anna), &json!({}))
        .await
        .problem(409);
    app.post(&format!("{path}/999999/received"), Some(&anna), &json!({}))
        .await
        .problem(404);

    let running = app.case_body(&anna, id).await;
    assert_eq!(running["status"], "in_progress");
    assert_eq!(running["deadline"]["paused"], false);
    let due = next_working_day(today() + Duration::weeks(10));
    assert_eq!(
        running["deadline"]["due_date"],
        due.to_string(),
        "ten weeks from the supplement's arrival"
    );
    assert_eq!(running["complete_at"], r.body["received_at"]);

    assert_eq!(
        event_kinds(&app, &anna, id).await,
        [&STARTED[..], &SUPPLEMENT_ROUND].concat()
    );
    let list = app.get(&path, Some(&anna)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // Another department's officer sees none of it.
    let omar = app.token("omar").await;
    app.get(&path, Some(&omar)).await.problem(404);
    app.post(&received_path, Some(&omar), &json!({}))
        .await
        .problem(404);
}

#[tokio::test]
async fn a_later_supplement_request_does_not_move_the_clock_and_transitions_keep_it_right() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let received_at = Utc::now() - Duration::days(30);
    let case = permit(&app, &anna, &received_at.to_rfc3339()).await;
    let id = case["id"].as_i64().unwrap();
    let due = case["deadline"]["due_date"].clone();
    start(&app, &anna, id).await;
    // The generic transition is the same supplement request as the dedicated endpoint.
    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "awaiting_supplement", "reason": "Ritningar saknas"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["deadline"]["paused"], false,
        "requested on day 30: the clock runs on"
    );
    assert_eq!(r.body["deadline"]["due_date"], due);
    let requests = app
        .get(
            &format!("/api/v1/cases/{id}/supplement-requests"),
            Some(&anna),
        )
        .await;
    assert_eq!(requests.body["items"][0]["message"], "Ritningar saknas");
    let back = app
        .transition(&anna, id, json!({"to": "in_progress"}))
        .await;
    assert_eq!(back.body["deadline"]["due_date"], due);
    let requests = app
        .get(
            &format!("/api/v1/cases/{id}/supplement-requests"),
            Some(&anna),
        )
        .await;
    assert!(requests.body["items"][0]["received_at"].is_string());
}

#[tokio::test]
async fn the_deadline_is_extended_once_before_it_passes() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let received = Utc::now() - Duration::days(10);
    let case = permit(&app, &anna, &received.to_rfc3339()).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}/deadline-extensions");
    assert_eq!(
        app.post(&path, Some(&anna), &json!({"weeks": 4}))
            .await
            .invalid_fields(),
        ["reason"]
    );
    assert_eq!(
        app.post(
            &path,
            Some(&anna),
            &json!({"reason": "Samråd", "weeks": 11})
        )
        .await
        .invalid_fields(),
        ["weeks"]
    );
    let r = app
        .post_expecting(
            201,
            &path,
            Some(&anna),
            &json!({"reason": "Samråd med länsstyrelsen"}),
        )
        .await;
    let received_on = received.with_timezone(&lots_core::TIME_ZONE).date_naive();
    assert_eq!(
        r.body["deadline"]["due_date"],
        next_working_day(received_on + Duration::weeks(20)).to_string()
    );
    assert_eq!(r.body["deadline"]["extended"], true);
    assert_eq!(r.header("etag"), Some("\"2\""));
    let again = app
        .post(&path, Some(&anna), &json!({"reason": "En gång till"}))
        .await;
    again.problem(409);
    let events = events_body(&app, &anna, id).await;
    let ext = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "deadline_extended")
        .unwrap()
        .clone();
    assert_eq!(ext["data"]["weeks"], 10);
    assert_eq!(
        ext["data"]["previous_due_date"],
        case["deadline"]["due_date"]
    );

    // After the deadline has passed: refused, nothing written.
    let old = permit(&app, &anna, "2026-03-02T08:00:00Z").await;
    let before = app.count("case_event").await;
    app.post(
        &format!("/api/v1/cases/{}/deadline-extensions", old["id"]),
        Some(&anna),
        &json!({"reason": "Sent"}),
    )
    .await
    .problem(409);
    assert_eq!(app.count("case_event").await, before);
    // A notification may gain at most four weeks; a target none at all.
    let notice = app
        .create_case(&anna, json!({"case_type": "notification"}))
        .await;
    let p = format!("/api/v1/cases/{}/deadline-extensions", notice["id"]);
    assert_eq!(
        app.post(&p, Some(&anna), &json!({"reason": "x", "weeks": 5}))
            .await
            .invalid_fields(),
        ["weeks"]
    );
    assert_eq!(
        app.post(&p, Some(&anna), &json!({"reason": "x"}))
            .await
            .body["deadline"]["extended"],
        true
    );
    let omar = app.token("omar").await;
    let food = app
        .create_case(&omar, json!({"area": "food_control"}))
        .await;
    app.post(
        &format!("/api/v1/cases/{}/deadline-extensions", food["id"]),
        Some(&omar),
        &json!({"reason": "x"}),
    )
    .await
    .problem(409);
}

#[tokio::test]
async fn a_party_may_ask_for_a_decision_after_six_months() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let old = permit(&app, &anna, "2026-03-02T08:00:00Z").await;
    let path = format!("/api/v1/cases/{}/decision-requests", old["id"]);
    let r = app
        .post_expecting(
            201,
            &path,
            Some(&anna),
            &json!({"note": "Begäran inkom per brev"}),
        )
        .await;
    let req = &r.body["deadline"]["decision_request"];
    let due = next_working_day(today() + Duration::weeks(4));
    assert_eq!(req["due_date"], due.to_string());
    assert_eq!(req["overdue"], false);
    assert_eq!(req["days_left"], working_days_between(today(), due));
    app.post(&path, Some(&anna), &json!({})).await.problem(409);
    let young = app.create_case(&anna, json!({})).await;
    let body = app
        .post(
            &format!("/api/v1/cases/{}/decision-requests", young["id"]),
            Some(&anna),
            &json!({}),
        )
        .await;
    assert!(body.problem_detail(409).contains("six months"));
    assert_eq!(young["deadline"]["older_than_six_months"], false);
}

#[tokio::test]
async fn a_decision_freezes_the_fee_reduction_and_ends_the_count() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let received = Utc::now() - Duration::weeks(11);
    let case = permit(&app, &anna, &received.to_rfc3339()).await;
    let id = case["id"].as_i64().unwrap();
    let due: NaiveDate = case["deadline"]["due_date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    start(&app, &anna, id).await;
    let decided = app
        .transition(&anna, id, json!({"to": "decided", "decision": "approved"}))
        .await
        .body;
    let late_days = (today() - due).num_days();
    let fifths = if late_days <= 0 {
        0
    } else {
        ((late_days + 6) / 7).min(5)
    };
    assert_eq!(decided["deadline"]["fee_reduction_fifths"], fifths);
    assert_eq!(decided["deadline"]["overdue"], late_days > 0);
    assert!(decided["deadline"]["days_left"].is_null());
    assert_eq!(decided["deadline"]["older_than_six_months"], false);
}

#[tokio::test]
async fn the_list_filters_overdue_and_due_before_and_sorts_by_due_date() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let late = permit(&app, &anna, "2026-03-02T08:00:00Z").await; // due 2026-05-11
    let later = permit(&app, &anna, "2026-04-10T08:00:00Z").await; // due 2026-06-22
    let fresh = permit(&app, &anna, &Utc::now().to_rfc3339()).await; // due in ten weeks
    let none = app.create_case(&anna, json!({"area": "other"})).await; // no deadline
    let decided_late = permit(&app, &anna, "2026-03-03T08:00:00Z").await; // due 2026-05-12, decided
    start(&app, &anna, id(&decided_late)).await;
    app.transition(
        &anna,
        id(&decided_late),
        json!({"to": "decided", "decision": "rejected"}),
    )
    .await;

    assert_eq!(
        ids(&app, &anna, "overdue=true").await,
        [id(&later), id(&late)]
    );
    let not_overdue = ids(&app, &anna, "overdue=false").await;
    assert_eq!(not_overdue, [id(&decided_late), id(&none), id(&fresh)]);
    assert_eq!(
        ids(&app, &anna, "due_before=2026-06-01").await,
        [id(&decided_late), id(&late)]
    );
    assert_eq!(
        ids(&app, &anna, "sort=due_date").await,
        [
            id(&late),
            id(&decided_late),
            id(&later),
            id(&fresh),
            id(&none)
        ],
        "soonest first, no due date last"
    );
    // Paging in due order gives the same sequence.
    let seen = every_page(&app, &anna, "sort=due_date&limit=2", |_| {}).await;
    assert_eq!(
        seen,
        [
            id(&late),
            id(&decided_late),
            id(&later),
            id(&fresh),
            id(&none)
        ]
    );
    assert_each_query_names(
        &app,
        "/api/v1/cases",
        &anna,
        &[
            ("overdue=yes", "overdue"),
            ("due_before=tomorrow", "due_before"),
            ("sort=oldest", "sort"),
        ],
    )
    .await;
    // A cursor of one order is not accepted for the other.
    let page = app.get("/api/v1/cases?limit=1", Some(&anna)).await;
    let c = page.body["next_cursor"].as_str().unwrap();
    assert_eq!(
        app.get(
            &format!("/api/v1/cases?sort=due_date&cursor={c}"),
            Some(&anna)
        )
        .await
        .invalid_fields(),
        ["cursor"]
    );
}
