//! Satisfaction hooks end to end: the outbox and worker, survey invitations and the survey page,
//! imports and exports, and webhooks checked by an independent verifier (the `standardwebhooks`
//! crate) in a receiver of our own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::helpers::{TestApp, integers_of, spawn_app_with};

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub body: Value,
}

/// A webhook receiver: verifies every signature with the `standardwebhooks` crate, fails the
/// first `fail_first` requests with 500, and sleeps `delay` before answering.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub requests: Arc<Mutex<usize>>,
    pub bad_signatures: Arc<Mutex<usize>>,
    pub fail_first: Arc<Mutex<usize>>,
    secret: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    pub async fn start(fail_first: usize, delay: Duration) -> Self {
        let r = Receiver {
            url: String::new(),
            got: Arc::default(),
            requests: Arc::default(),
            bad_signatures: Arc::default(),
            fail_first: Arc::new(Mutex::new(fail_first)),
            secret: Arc::default(),
        };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    *state.requests.lock().unwrap() += 1;
                    let secret = state.secret.lock().unwrap().clone().unwrap_or_default();
                    let verified = standardwebhooks::Webhook::new(&secret)
                        .and_then(|w| w.verify(&body, &headers))
                        .is_ok();
                    if !verified {
                        *state.bad_signatures.lock().unwrap() += 1;
                        return StatusCode::UNAUTHORIZED;
                    }
                    {
                        let mut fail = state.fail_first.lock().unwrap();
                        if *fail > 0 {
                            *fail -= 1;
                            return StatusCode::INTERNAL_SERVER_ERROR;
                        }
                    }
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    state.got.lock().unwrap().push(Received { id, body });
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, ..r }
    }

    pub fn set_secret(&self, secret: &str) {
        *self.secret.lock().unwrap() = Some(secret.to_string());
    }

    /// Each event once, as the receiver sees it after deduplicating by `webhook-id`.
    pub fn unique(&self) -> BTreeMap<String, Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.id.clone(), r.body.clone()))
            .collect()
    }

    pub fn types(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .unique()
            .values()
            .map(|b| b["type"].as_str().unwrap_or_default().to_string())
            .collect();
        t.sort();
        t
    }
}

/// The receivers of these tests listen on 127.0.0.1, so private networks are allowed.
pub async fn fast_app() -> TestApp {
    spawn_app_with(|c| {
        c.webhook_allow_private_networks = true;
        c.webhook_backoff_seconds = 0;
        c.webhook_timeout_seconds = 2;
        c.public_base_url = Some("https://lots.example.se".into());
    })
    .await
}

pub async fn subscribe(app: &TestApp, receiver: &Receiver, events: Value) -> Value {
    let root = app.token("root").await;
    let r = app
        .post_expecting(
            201,
            "/api/v1/webhooks",
            Some(&root),
            &json!({"url": receiver.url, "events": events, "description": "test"}),
        )
        .await;
    receiver.set_secret(r.body["secret"].as_str().unwrap());
    r.body
}

/// A `fast_app` with a receiver that answers at once, subscribed to `events`: the app, the
/// receiver and the subscription.
async fn subscribed(events: Value) -> (TestApp, Receiver, Value) {
    let app = fast_app().await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    let subscription = subscribe(&app, &receiver, events).await;
    (app, receiver, subscription)
}

/// Runs the worker until nothing is pending (or gives up after `rounds`).
pub async fn settle(app: &TestApp, rounds: usize) {
    let worker = app.state.worker().unwrap();
    for _ in 0..rounds {
        worker.drain().await.unwrap();
        if app
            .count_where("webhook_delivery", "status = 'pending'")
            .await
            == 0
            && app.count_where("outbox", "processed_at IS NULL").await == 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn decided_case(app: &TestApp, token: &str) -> i64 {
    let id = app.case_id(token, json!({})).await;
    assert_eq!(
        app.transition(token, id, json!({"to": "in_progress"}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.transition(token, id, json!({"to": "decided", "decision": "approved"}))
            .await
            .status,
        200
    );
    id
}

#[tokio::test]
async fn a_decided_case_gets_one_invitation_and_every_event_arrives_signed() {
    let (app, receiver, created) = subscribed(json!(["*"])).await;
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let root = app.token("root").await;
    let listed = app.get("/api/v1/webhooks", Some(&root)).await;
    assert!(
        !listed.text.contains("whsec_"),
        "the secret is shown once: {}",
        listed.text
    );
    let anna = app.token("anna").await;
    app.get("/api/v1/webhooks", Some(&anna)).await.problem(403);

    let id = decided_case(&app, &anna).await;
    settle(&app, 5).await;
    assert_eq!(*receiver.bad_signatures.lock().unwrap(), 0);
    assert_eq!(
        receiver.types(),
        [
            "case.created",
            "case.decided",
            "case.status_changed",
            "case.status_changed",
            "survey.invited"
        ]
    );
    let unique = receiver.unique();
    let invited = unique
        .values()
        .find(|b| b["type"] == "survey.invited")
        .unwrap();
    let token = invited["data"]["invitation"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.len() >= 22, "at least 128 bits");
    assert_eq!(
        invited["data"]["invitation"]["url"],
        format!("https://lots.example.se/survey/{token}")
    );
    assert_eq!(invited["data"]["case"]["id"], id);
    let decided = unique
        .values()
        .find(|b| b["type"] == "case.decided")
        .unwrap();
    assert_eq!(decided["data"]["event"]["data"]["decision"], "approved");
    assert_eq!(decided["data"]["case"]["department"], "SBF");

    // Exactly one invitation, its token stored nowhere but as a hash.
    assert_eq!(app.count("survey_invitation").await, 1);
    assert_eq!(
        app.count_where("webhook_delivery", &format!("body LIKE '%{token}%'"))
            .await,
        0
    );
    assert_eq!(
        app.count_where(
            "survey_invitation",
            &format!("token_hash = '{token}' OR nonce = '{token}'")
        )
        .await,
        0
    );
    assert!(
        !app.get(&format!("/api/v1/cases/{id}"), Some(&anna))
            .await
            .text
            .contains(&token)
    );
    assert!(
        !app.get(&format!("/api/v1/cases/{id}/events"), Some(&anna))
            .await
            .text
            .contains(&token)
    );
    // The link works; the pending export (admins only) carries it.
    let page = app.get(&format!("/survey/{token}"), None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    let text = app
        .get("/api/v1/survey-invitations/pending.csv", Some(&root))
        .await
        .text;
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains(&format!("https://lots.example.se/survey/{token}")));
    app.get("/api/v1/survey-invitations/pending.csv", Some(&anna))
        .await
        .problem(403);
    // Running the worker again sends nothing twice and invites nobody twice.
    settle(&app, 2).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 5);
    assert_eq!(app.count("survey_invitation").await, 1);
}

#[tokio::test]
async fn a_receiver_that_fails_at_first_still_gets_each_event_exactly_once() {
    let app = fast_app().await;
    let receiver = Receiver::start(3, Duration::ZERO).await;
    let sub = subscribe(
        &app,
        &receiver,
        json!(["case.created", "case.status_changed"]),
    )
    .await;
    let anna = app.token("anna").await;
    for _ in 0..3 {
        app.create_case(&anna, json!({})).await;
    }
    settle(&app, 20).await;
    assert_eq!(
        receiver.types(),
        ["case.created", "case.created", "case.created"]
    );
    assert_eq!(
        receiver.got.lock().unwrap().len(),
        3,
        "no duplicates beyond retries"
    );
    assert_eq!(
        *receiver.requests.lock().unwrap(),
        6,
        "three failures, three successes"
    );
    let root = app.token("root").await;
    let log = app
        .get(
            &format!("/api/v1/webhooks/{}/deliveries", sub["id"]),
            Some(&root),
        )
        .await;
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|d| d["status"] == "succeeded"));
    let attempts: usize = items
        .iter()
        .map(|d| d["log"].as_array().unwrap().len())
        .sum();
    assert_eq!(attempts, 6);
    let failed = items
        .iter()
        .flat_map(|d| d["log"].as_array().unwrap())
        .filter(|a| a["status_code"] == 500)
        .count();
    assert_eq!(failed, 3);
    assert!(
        items
            .iter()
            .all(|d| d["log"].as_array().unwrap().last().unwrap()["status_code"] == 204)
    );
}

#[tokio::test]
async fn a_dead_lettered_delivery_can_be_retried_by_hand() {
    let app = spawn_app_with(|c| {
        c.webhook_allow_private_networks = true;
        c.webhook_dead_letter_hours = 0;
        c.webhook_backoff_seconds = 0;
    })
    .await;
    let receiver = Receiver::start(1, Duration::ZERO).await;
    let sub = subscribe(&app, &receiver, json!(["case.created"])).await;
    let anna = app.token("anna").await;
    app.create_case(&anna, json!({})).await;
    settle(&app, 3).await;
    let root = app.token("root").await;
    let path = format!("/api/v1/webhooks/{}/deliveries", sub["id"]);
    let dead = app.get(&format!("{path}?status=dead"), Some(&root)).await;
    let d = &dead.body["items"][0];
    assert_eq!(d["status"], "dead", "{}", dead.text);
    assert_eq!(d["log"][0]["status_code"], 500);
    assert!(receiver.got.lock().unwrap().is_empty());
    let retry = app
        .post_empty(&format!("{path}/{}/retry", d["id"]), &root)
        .await;
    assert_eq!(retry.status, 202, "{}", retry.text);
    settle(&app, 3).await;
    let after = app.get(&path, Some(&root)).await;
    assert_eq!(after.body["items"][0]["status"], "succeeded");
    assert_eq!(
        after.body["items"][0]["webhook_id"], d["webhook_id"],
        "the same webhook-id on every attempt"
    );
    assert_eq!(
        receiver.got.lock().unwrap()[0].id,
        d["webhook_id"].as_str().unwrap()
    );
    let again = app
        .post_empty(&format!("{path}/{}/retry", d["id"]), &root)
        .await;
    again.problem(409);
    assert_eq!(
        app.get(&format!("{path}?status=later"), Some(&root))
            .await
            .invalid_fields(),
        ["status"]
    );
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_another_subscription() {
    let app = spawn_app_with(|c| {
        c.webhook_allow_private_networks = true;
        c.webhook_timeout_seconds = 1;
        c.webhook_backoff_seconds = 60;
    })
    .await;
    let slow = Receiver::start(0, Duration::from_secs(30)).await;
    let fast = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &slow, json!(["case.created"])).await;
    let fast_sub = subscribe(&app, &fast, json!(["case.created"])).await;
    let anna = app.token("anna").await;
    app.create_case(&anna, json!({})).await;
    let started = std::time::Instant::now();
    app.state.worker().unwrap().drain().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout bounds an attempt"
    );
    assert_eq!(fast.got.lock().unwrap().len(), 1);
    let root = app.token("root").await;
    let fast_log = app
        .get(
            &format!("/api/v1/webhooks/{}/deliveries", fast_sub["id"]),
            Some(&root),
        )
        .await;
    assert_eq!(fast_log.body["items"][0]["status"], "succeeded");
    let slow_log = app
        .get(
            &format!(
                "/api/v1/webhooks/{}/deliveries",
                fast_sub["id"].as_i64().unwrap() - 1
            ),
            Some(&root),
        )
        .await;
    let attempt = &slow_log.body["items"][0]["log"][0];
    assert!(attempt["status_code"].is_null());
    assert!(
        attempt["error"].as_str().unwrap().contains("no answer"),
        "{attempt}"
    );
    assert!(attempt["latency_ms"].as_i64().unwrap() >= 900);
    assert_eq!(
        slow_log.body["items"][0]["status"], "pending",
        "retried later"
    );
}

#[tokio::test]
async fn the_survey_page_takes_one_valid_answer() {
    let (app, receiver, _) = subscribed(json!(["survey.invited", "survey.answered"])).await;
    let anna = app.token("anna").await;
    let case_id = decided_case(&app, &anna).await;
    settle(&app, 5).await;
    let token = receiver.unique().values().next().unwrap()["data"]["invitation"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app.url(&format!("/survey/{token}"));

    let form = app.client.get(&url).send().await.unwrap();
    let html = form.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"sv\">")
            && html.contains("<fieldset")
            && html.contains("<legend")
    );
    assert!(!html.contains("<script"), "works without JavaScript");

    // Out of range: 422, nothing stored.
    let bad = app.client.post(&url).json(&json!({"q_overall": 11, "q_expectations": 7, "q_ideal": 0, "factors": {"treatment": 7}})).send().await.unwrap();
    let bad = crate::helpers::read(bad).await;
    assert_eq!(
        bad.invalid_fields(),
        ["q_overall", "q_ideal", "factors.treatment"]
    );
    let bad_form = app
        .client
        .post(&url)
        .form(&[("q_overall", "8"), ("q_expectations", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_form.status(), 422);
    assert!(bad_form.text().await.unwrap().contains("role=\"alert\""));
    assert_eq!(app.count("survey_response").await, 0);

    // A form post is stored, scored, thanked for and announced.
    let ok = app
        .client
        .post(&url)
        .form(&[
            ("q_overall", "8"),
            ("q_expectations", "7"),
            ("q_ideal", "7"),
            ("information", "5"),
            ("accessibility", "4"),
            ("treatment", ""),
            ("comment", "Bra!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    assert!(ok.text().await.unwrap().contains("Tack för ditt svar"));
    let row = app.db.reader();
    use lots_store::entity::survey_response;
    use sea_orm::EntityTrait;
    let stored = survey_response::Entity::find()
        .one(row)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.case_id, case_id);
    assert!((stored.nki - (7.0 + 6.0 + 6.0) / 27.0 * 100.0).abs() < 1e-9);
    assert_eq!(
        (
            stored.i_information,
            stored.i_accessibility,
            stored.i_treatment
        ),
        (Some(80.0), Some(60.0), None)
    );
    assert_eq!(stored.source, "web");
    // A second answer: 409, as form and as JSON.
    assert_eq!(
        app.client
            .post(&url)
            .form(&[
                ("q_overall", "1"),
                ("q_expectations", "1"),
                ("q_ideal", "1")
            ])
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    let again = crate::helpers::read(
        app.client
            .post(&url)
            .json(&json!({"q_overall": 1, "q_expectations": 1, "q_ideal": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    again.problem(409);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 409);
    settle(&app, 3).await;
    assert!(receiver.types().contains(&"survey.answered".to_string()));
    // Unknown and expired links.
    assert_eq!(
        app.client
            .get(app.url("/survey/not-a-token"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let unknown = crate::helpers::read(
        app.client
            .post(app.url("/survey/not-a-token"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    unknown.problem(404);
    let other = decided_case(&app, &anna).await;
    settle(&app, 5).await;
    let tokens: Vec<String> = receiver
        .unique()
        .values()
        .filter_map(|b| {
            b["data"]["invitation"]["token"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let second = tokens.iter().find(|t| **t != token).unwrap().clone();
    use sea_orm::ConnectionTrait;
    app.db.writer().execute_unprepared(&format!("UPDATE survey_invitation SET expires_at = '2020-01-01T00:00:00+00:00' WHERE case_id = {other}")).await.unwrap();
    let expired = app
        .client
        .get(app.url(&format!("/survey/{second}")))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 410);
    let expired_post = crate::helpers::read(
        app.client
            .post(app.url(&format!("/survey/{second}")))
            .json(&json!({"q_overall": 5, "q_expectations": 5, "q_ideal": 5}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    expired_post.problem(410);
}

#[tokio::test]
async fn imported_answers_are_all_checked_first_and_a_second_import_changes_nothing() {
    let app = fast_app().await;
    let anna = app.token("anna").await;
    let root = app.token("root").await;
    let a = decided_case(&app, &anna).await;
    let b = decided_case(&app, &anna).await;
    let open = app.create_case(&anna, json!({})).await;
    let ra = app.case_reference(&anna, a).await;
    let rb = app.case_reference(&anna, b).await;
    let ro = open["reference"].as_str().unwrap().to_string();
    let import = |body: String, ct: &'static str| {
        app.post_raw("/api/v1/survey-responses/import", &root, Some(ct), body)
    };
    let bad = format!(
        "reference;q_overall;q_expectations;q_ideal;information;comment\n{ra};8;7;7;5;Bra\n{ro};8;8;8;;\nBN 1999/0001;5;5;5;;\n{rb};11;5;5;;\n{ra};8;7;7;5;Bra\n"
    );
    let r = import(bad, "text/csv").await;
    assert_eq!(r.status, 422, "{}", r.text);
    let rows = integers_of(&r.body["errors"], "row");
    assert_eq!(rows, [3, 4, 5, 6], "every bad row by its line");
    assert_eq!(app.count("survey_response").await, 0, "nothing imported");
    let good = format!(
        "reference,q_overall,q_expectations,q_ideal,information,efficiency,answered_at\n{ra},8,7,7,5,3,2026-11-01T10:00:00Z\n{rb},6,5,5,,,\n"
    );
    let r = import(good.clone(), "text/csv").await;
    assert_eq!(
        (
            r.status.as_u16(),
            r.body["imported"].as_i64(),
            r.body["unchanged"].as_i64()
        ),
        (200, Some(2), Some(0)),
        "{}",
        r.text
    );
    let r = import(good, "text/csv").await;
    assert_eq!(
        (
            r.status.as_u16(),
            r.body["imported"].as_i64(),
            r.body["unchanged"].as_i64()
        ),
        (200, Some(0), Some(2))
    );
    assert_eq!(app.count("survey_response").await, 2);
    let nd = format!(
        "{{\"reference\": \"{ra}\", \"q_overall\": 8, \"q_expectations\": 7, \"q_ideal\": 7, \"factors\": {{\"information\": 5, \"efficiency\": 3}}, \"answered_at\": \"2026-11-01T10:00:00Z\"}}\n{{\"reference\": \"{rb}\", \"q_overall\": 9, \"q_expectations\": 9, \"q_ideal\": 9}}\n"
    );
    let r = import(nd, "application/x-ndjson").await;
    assert_eq!(
        r.status, 422,
        "a different answer for an answered case is refused: {}",
        r.text
    );
    assert_eq!(r.body["errors"][0]["row"], 2);
    let r = app
        .post_raw(
            "/api/v1/survey-responses/import",
            &anna,
            Some("text/csv"),
            "reference\n",
        )
        .await;
    r.problem(403);
    let r = import("x".into(), "application/pdf").await;
    r.problem(422);
}

#[tokio::test]
async fn deadlines_are_announced_once_each() {
    let (app, receiver, _) = subscribed(json!(["deadline.approaching", "deadline.passed"])).await;
    let anna = app.token("anna").await;
    let late = app
        .create_case(&anna, json!({"received_at": "2026-03-02T08:00:00Z"}))
        .await;
    // Due in about three working days: received ten weeks less a few days ago.
    let soon = app
        .create_case(
            &anna,
            json!({"received_at": (chrono::Utc::now() - chrono::Duration::days(67)).to_rfc3339()}),
        )
        .await;
    let _far = app.create_case(&anna, json!({})).await;
    settle(&app, 3).await;
    settle(&app, 3).await;
    let got: BTreeSet<(String, i64)> = receiver
        .unique()
        .values()
        .map(|b| {
            (
                b["type"].as_str().unwrap().to_string(),
                b["data"]["case"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = BTreeSet::from([
        ("deadline.passed".to_string(), late["id"].as_i64().unwrap()),
        (
            "deadline.approaching".to_string(),
            soon["id"].as_i64().unwrap(),
        ),
    ]);
    assert_eq!(got, expected);
    assert_eq!(receiver.got.lock().unwrap().len(), 2, "once each");
    assert_eq!(app.count("deadline_notice").await, 2);
}

/// A worker process killed with SIGKILL while a delivery is in flight loses nothing: once a
/// worker runs again, every event arrives (at least once; once by `webhook-id`).
#[tokio::test]
async fn a_killed_worker_loses_nothing() {
    let app = fast_app().await;
    // The receiver holds each request for a while, so the kill lands mid-delivery.
    let receiver = Receiver::start(0, Duration::from_millis(1500)).await;
    subscribe(&app, &receiver, json!(["case.created"])).await;
    let anna = app.token("anna").await;
    for _ in 0..4 {
        app.create_case(&anna, json!({})).await;
    }
    let run_worker = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lots"))
            .arg("worker")
            .env("LOTS_DATABASE_URL", &app.config.database_url)
            .env("LOTS_WORKER_TICK_MS", "100")
            .env("LOTS_WEBHOOK_TIMEOUT_SECONDS", "2")
            .env("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
            .env("LOTS_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start lots worker")
    };
    let mut first = run_worker();
    // Wait until a delivery is in flight, then kill the process outright.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while *receiver.requests.lock().unwrap() == 0
        && app
            .count_where("webhook_delivery", "lease_until IS NOT NULL")
            .await
            == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never started a delivery"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    let mut second = run_worker();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while receiver.unique().len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 4 events arrived",
            receiver.unique().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().ok();
    second.wait().ok();
    assert_eq!(receiver.types(), ["case.created"; 4]);
    assert_eq!(*receiver.bad_signatures.lock().unwrap(), 0);
}

/// Webhook URLs that lead to the server's own loopback, its private network, a cloud metadata
/// service or anything else that is not the public internet are refused when a subscription
/// is created (server-side request forgery), as are credentials and other schemes.
#[tokio::test]
async fn webhook_urls_that_are_not_on_the_public_internet_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    let root = app.token("root").await;
    for url in [
        "http://127.0.0.1:5432/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.2.10/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fd00::5]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a00:5]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        "http://localhost/",
        "http://LOCALHOST.:8080/",
        "http://api.localhost/hook",
        "https://user:pw@enkat.example.se/hooks",
        "https://enkat.example.se@10.0.0.5/hooks",
        "ftp://enkat.example.se/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/",
    ] {
        let r = app
            .post(
                "/api/v1/webhooks",
                Some(&root),
                &json!({"url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(r.invalid_fields(), ["url"], "{url}: {}", r.text);
        let reason = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(!reason.is_empty(), "{url}: {}", r.text);
    }
    assert_eq!(app.count("webhook_subscription").await, 0);
    // The reason says what is wrong.
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&root),
            &json!({"url": "http://169.254.169.254/latest/meta-data", "events": ["*"]}),
        )
        .await;
    let reason = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        reason.contains("169.254.169.254") && reason.contains("link-local"),
        "{reason}"
    );
    // A public receiver is still welcome.
    app.post_expecting(
        201,
        "/api/v1/webhooks",
        Some(&root),
        &json!({"url": "https://enkat.example.se/hooks/lots", "events": ["*"]}),
    )
    .await;
    assert_eq!(app.count("webhook_subscription").await, 1);
}

/// A subscription whose URL leads to a private address by the time it is delivered to (stored
/// before the rule, or a name that resolves there now) gets its attempt refused and recorded,
/// and no request leaves for the address.
#[tokio::test]
async fn a_delivery_to_a_private_address_is_refused_and_recorded() {
    use lots_store::entity::{app_user, webhook_subscription};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

    let app = spawn_app_with(|c| {
        c.webhook_backoff_seconds = 60;
        c.webhook_timeout_seconds = 2;
    })
    .await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let root_id = app_user::Entity::find()
        .filter(app_user::Column::Username.eq("root"))
        .one(app.db.reader())
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut subs = Vec::new();
    // An IP literal, and a name that resolves to the loopback.
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hook"),
    ] {
        let sub = webhook_subscription::ActiveModel {
            url: Set(url.clone()),
            events: Set("case.created".into()),
            description: Set(None),
            secret: Set("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            active: Set(true),
            created_by: Set(root_id),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(app.db.writer())
        .await
        .unwrap();
        subs.push((sub.id, url));
    }
    let anna = app.token("anna").await;
    app.create_case(&anna, json!({})).await;
    app.state.worker().unwrap().drain().await.unwrap();

    assert_eq!(
        *receiver.requests.lock().unwrap(),
        0,
        "a request reached the receiver"
    );
    let root = app.token("root").await;
    for (id, url) in subs {
        let r = app
            .get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&root))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let deliveries = r.body["items"].as_array().unwrap();
        assert_eq!(deliveries.len(), 1, "{url}: {}", r.text);
        let d = &deliveries[0];
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_i64()),
            (Some("pending"), Some(1)),
            "{url}: {d}"
        );
        let log = d["log"].as_array().unwrap();
        assert_eq!(log.len(), 1, "{url}: {d}");
        assert_eq!(log[0]["status_code"], Value::Null, "{url}: {d}");
        let error = log[0]["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("refused: the host") && error.contains("loopback"),
            "{url}: {error}"
        );
    }
}

/// An event whose stored data does not fit its kind (a row changed outside Lots) is not
/// announced with made-up data, and it holds up nothing: the worker passes it and announces the
/// rest.
#[tokio::test]
async fn an_event_whose_stored_data_does_not_fit_its_kind_is_not_announced_and_holds_up_nothing() {
    use sea_orm::ConnectionTrait;
    let app = fast_app().await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &receiver, json!(["case.created"])).await;
    let anna = app.token("anna").await;
    // The first case's announcement names an event whose data does not fit its kind.
    let first = app.create_case(&anna, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let data = json!({"reference": 7});
    let bad = app
        .insert_event_data(first, chrono::Utc::now(), "created", data)
        .await;
    let now = chrono::Utc::now();
    lots_store::outbox::enqueue(
        app.db.writer(),
        "case.created",
        Some(first),
        Some(bad),
        json!({}),
        now,
    )
    .await
    .unwrap();
    app.db
        .writer()
        .execute_unprepared(&format!("UPDATE outbox SET processed_at = created_at WHERE case_id = {first} AND case_event_id <> {bad}"))
        .await
        .unwrap();
    let second = app.create_case(&anna, json!({})).await["id"].clone();
    settle(&app, 20).await;
    let got = receiver.unique();
    let cases: Vec<&Value> = got.values().map(|b| &b["data"]["case"]["id"]).collect();
    assert_eq!(
        cases,
        [&second],
        "only the case whose event reads was announced"
    );
    assert_eq!(app.count_where("outbox", "processed_at IS NULL").await, 0);
    let undelivered = format!("outbox_id IN (SELECT id FROM outbox WHERE case_event_id = {bad})");
    assert_eq!(app.count_where("webhook_delivery", &undelivered).await, 0);
}
