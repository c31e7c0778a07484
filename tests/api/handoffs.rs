//! Handoffs across departments, the company view and bundles: each caller sees exactly what
//! they should, and each step is an event on the case.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    HANDOFF_DONE, Reply, TestApp, assert_each_query_names, events_body, integers_of, kinds,
    spawn_app, spawn_app_as,
};

pub async fn handoff(app: &TestApp, token: &str, case: i64, body: Value) -> Reply {
    app.post(
        &format!("/api/v1/cases/{case}/handoffs"),
        Some(token),
        &body,
    )
    .await
}

async fn step(app: &TestApp, token: &str, id: i64, verb: &str, body: Option<Value>) -> Reply {
    app.send(
        Method::POST,
        &format!("/api/v1/handoffs/{id}/{verb}"),
        Some(token),
        body.as_ref(),
        &[],
    )
    .await
}

/// A step on a handoff: the body a refused caller sends, and the one that does it sends.
struct Step {
    id: i64,
    verb: &'static str,
    refused_body: Option<Value>,
    body: Option<Value>,
}

impl Step {
    /// A step without a body.
    fn bare(id: i64, verb: &'static str) -> Self {
        Self {
            id,
            verb,
            refused_body: None,
            body: None,
        }
    }

    /// A step whose body is `{key: refused}` from a refused caller, `{key: done}` from the one
    /// who does it.
    fn with(id: i64, verb: &'static str, key: &str, refused: &str, done: &str) -> Self {
        Self {
            id,
            verb,
            refused_body: Some(json!({ key: refused })),
            body: Some(json!({ key: done })),
        }
    }

    /// Asserts that the step is refused to each `(user, status)` of `refused` with that status,
    /// and that `by` then does it (200).
    async fn refused_then_done(
        &self,
        app: &TestApp,
        t: &impl Fn(&str) -> String,
        refused: [(&str, u16); 3],
        by: &str,
    ) {
        for (u, status) in refused {
            step(app, &t(u), self.id, self.verb, self.refused_body.clone())
                .await
                .problem(status);
        }
        let done = step(app, &t(by), self.id, self.verb, self.body.clone()).await;
        assert_eq!(done.status, 200);
    }
}

#[tokio::test]
async fn a_consultation_is_requested_answered_and_recorded_on_the_case() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let case = app.create_case(&anna, json!({"assignee": "anna"})).await;
    let id = case["id"].as_i64().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&lots_core::TIME_ZONE)
        .date_naive();
    let r = handoff(&app, &anna, id, json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande om fettavskiljare", "due_date": today.to_string()})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hid = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["status"], "requested");
    assert_eq!(
        (
            r.body["from_department"].as_str(),
            r.body["to_department"].as_str()
        ),
        (Some("SBF"), Some("MHF"))
    );
    assert_eq!(r.body["case"]["reference"], case["reference"]);
    assert_eq!(r.body["queue_time"]["running"], true);
    assert!(r.body["work_time"].is_null());

    // MHF's inbox shows it, oldest first; the receiving officer reads the case but cannot change it.
    let inbox = app
        .get(
            "/api/v1/handoffs?to_department=MHF&status=requested",
            Some(&omar),
        )
        .await;
    assert_eq!(
        inbox.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        inbox.text
    );
    assert_eq!(inbox.body["items"][0]["id"], hid);
    assert_eq!(
        app.get_status(&format!("/api/v1/cases/{id}"), Some(&omar))
            .await,
        200
    );
    app.patch_case(&omar, id, json!({"title": "Kapad"}))
        .await
        .problem(403);
    app.transition(&omar, id, json!({"to": "in_progress"}))
        .await
        .problem(403);
    app.add_note(&omar, id, "x").await.problem(403);

    // Only the receiving side accepts and completes; only the requesting side cancels.
    step(&app, &anna, hid, "accept", None).await.problem(403);
    let accepted = step(&app, &omar, hid, "accept", None).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["accepted_by"], "omar");
    assert_eq!(accepted.body["queue_time"]["running"], false);
    step(&app, &omar, hid, "accept", None).await.problem(409);
    step(&app, &omar, hid, "cancel", None).await.problem(403);
    assert_eq!(
        step(&app, &omar, hid, "complete", Some(json!({})))
            .await
            .invalid_fields(),
        ["response"]
    );
    let done = step(
        &app,
        &omar,
        hid,
        "complete",
        Some(json!({"response": "Inga invändningar."})),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["response"], "Inga invändningar.");
    assert_eq!(done.body["overdue"], false);
    assert!(done.body["work_time"]["hours"].as_f64().unwrap() >= 0.0);
    step(&app, &anna, hid, "cancel", None).await.problem(409);

    // The history tells it, with actor and both departments.
    let events = events_body(&app, &anna, id).await;
    assert_eq!(kinds(&events), [&["created"][..], &HANDOFF_DONE].concat());
    let items = events["items"].as_array().unwrap();
    assert_eq!(
        (items[1]["actor"].as_str(), items[1]["department"].as_str()),
        (Some("anna"), Some("SBF"))
    );
    assert_eq!(
        (items[2]["actor"].as_str(), items[2]["department"].as_str()),
        (Some("omar"), Some("MHF"))
    );
    for e in &items[1..] {
        assert_eq!(
            (
                e["data"]["from_department"].as_str(),
                e["data"]["to_department"].as_str()
            ),
            (Some("SBF"), Some("MHF"))
        );
        assert_eq!(e["data"]["handoff_id"], hid);
    }
    assert_eq!(items[3]["data"]["response"], "Inga invändningar.");
    // The receiving department still reads the case afterwards.
    assert_eq!(
        app.get_status(&format!("/api/v1/cases/{id}"), Some(&omar))
            .await,
        200
    );
    let of_case = app
        .get(&format!("/api/v1/cases/{id}/handoffs"), Some(&anna))
        .await;
    assert_eq!(of_case.body["items"][0]["status"], "completed");
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&app.db).await > 1);
}

#[tokio::test]
async fn accepting_a_transfer_moves_the_case_and_keeps_its_reference() {
    let (app, [anna, nils]) = spawn_app_as(["anna", "nils"]).await;
    let case = app
        .create_case(&anna, json!({"assignee": "anna", "area": "fire_safety"}))
        .await;
    let id = case["id"].as_i64().unwrap();
    let r = handoff(&app, &anna, id, json!({"to_department": "RTJ", "kind": "transfer", "message": "Hör till räddningstjänsten"})).await;
    let hid = r.body["id"].as_i64().unwrap();
    handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "MHF", "kind": "transfer", "message": "Eller hit?"}),
    )
    .await
    .problem(409);
    let accepted = step(&app, &nils, hid, "accept", None).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.body["status"], "completed");
    let moved = app.get(&format!("/api/v1/cases/{id}"), Some(&nils)).await;
    assert_eq!(moved.body["department"], "RTJ");
    assert_eq!(moved.body["reference"], case["reference"]);
    assert!(moved.body["assignee"].is_null());
    // Now RTJ handles it, and SBF only reads its history.
    assert_eq!(
        app.transition(&nils, id, json!({"to": "in_progress"}))
            .await
            .status,
        200
    );
    app.transition(&anna, id, json!({"to": "withdrawn"}))
        .await
        .problem(403);
    assert_eq!(
        app.get_status(&format!("/api/v1/cases/{id}"), Some(&anna))
            .await,
        200
    );
    let nils_cases = app.get("/api/v1/cases", Some(&nils)).await;
    assert_eq!(nils_cases.body["items"][0]["id"], id);
    assert_eq!(
        app.get("/api/v1/cases", Some(&anna)).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let events = events_body(&app, &nils, id).await;
    assert_eq!(
        kinds(&events),
        [&["created"][..], &HANDOFF_DONE, &["status_changed"]].concat()
    );
    assert_eq!(events["items"][3]["data"]["ownership_moved"], true);
    assert_eq!(events["items"][4]["department"], "RTJ");
}

#[tokio::test]
async fn bad_handoffs_are_refused_and_write_nothing() {
    let (app, [anna, lars]) = spawn_app_as(["anna", "lars"]).await;
    let case = app.create_case(&anna, json!({})).await;
    let id = case["id"].as_i64().unwrap();
    let r = handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "SBF", "kind": "remiss", "due_date": "2020-01-01"}),
    )
    .await;
    assert_eq!(
        r.invalid_fields(),
        ["kind", "message", "due_date", "to_department"]
    );
    let r = handoff(&app, &anna, id, json!({"to_department": "MHF", "kind": "transfer", "message": "m", "due_date": "2099-01-01"})).await;
    assert_eq!(r.invalid_fields(), ["due_date"]);
    let r = handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "NOPE", "kind": "contact", "message": "m"}),
    )
    .await;
    assert_eq!(r.invalid_fields(), ["to_department"]);
    assert_eq!(app.count("handoff").await, 0);
    assert_eq!(app.count("case_event").await, 1);

    // Decline needs a reason and is for the receiving side; cancel is for the requester.
    let h = handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "MHF", "kind": "contact", "message": "För kännedom"}),
    )
    .await
    .body;
    let hid = h["id"].as_i64().unwrap();
    assert_eq!(
        step(&app, &lars, hid, "decline", None)
            .await
            .invalid_fields(),
        ["reason"]
    );
    step(&app, &anna, hid, "decline", Some(json!({"reason": "x"})))
        .await
        .problem(403);
    let declined = step(
        &app,
        &lars,
        hid,
        "decline",
        Some(json!({"reason": "Inte vårt område"})),
    )
    .await;
    assert_eq!(declined.body["status"], "declined");
    assert_eq!(declined.body["decline_reason"], "Inte vårt område");
    step(&app, &anna, hid, "cancel", None).await.problem(409);
    let h2 = handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "MHF", "kind": "contact", "message": "Igen"}),
    )
    .await
    .body;
    let cancelled = step(
        &app,
        &anna,
        h2["id"].as_i64().unwrap(),
        "cancel",
        Some(json!({"reason": "Fel mottagare"})),
    )
    .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["closed_by"], "anna");

    // A closed case takes no more handoffs.
    for to in ["in_progress", "withdrawn"] {
        app.transition(&anna, id, json!({"to": to})).await;
    }
    handoff(
        &app,
        &anna,
        id,
        json!({"to_department": "MHF", "kind": "contact", "message": "Sent"}),
    )
    .await
    .problem(409);
    // An overdue consultation shows as such.
    let other = app.create_case(&anna, json!({})).await;
    let today = chrono::Utc::now()
        .with_timezone(&lots_core::TIME_ZONE)
        .date_naive();
    let c = handoff(&app, &anna, other["id"].as_i64().unwrap(), json!({"to_department": "MHF", "kind": "consultation", "message": "?", "due_date": today.to_string()})).await.body;
    use sea_orm::ConnectionTrait;
    app.db
        .writer()
        .execute_unprepared(&format!(
            "UPDATE handoff SET due_date = '{}' WHERE id = {}",
            today - chrono::Duration::days(1),
            c["id"]
        ))
        .await
        .unwrap();
    let late = app
        .get(&format!("/api/v1/handoffs/{}", c["id"]), Some(&lars))
        .await;
    assert_eq!(late.body["overdue"], true);
    assert_each_query_names(
        &app,
        "/api/v1/handoffs",
        &lars,
        &[
            ("status=open", "status"),
            ("kind=x", "kind"),
            ("to_department=X", "to_department"),
            ("case=abc", "case"),
            ("cursor=zz", "cursor"),
        ],
    )
    .await;
}

/// Every handoff and company endpoint, for every role and relation to the case: the owner
/// department (officer, manager), the receiving department (officer, manager), an unrelated
/// department's officer, and an admin.
#[tokio::test]
async fn who_sees_and_does_what_role_by_department_by_relation() {
    let app = spawn_app().await;
    let mut tokens = std::collections::HashMap::new();
    for u in ["anna", "maria", "omar", "lars", "nils", "root"] {
        tokens.insert(u, app.token(u).await);
    }
    let t = |u: &str| tokens[u].clone();
    let case = app
        .create_case(
            &t("anna"),
            json!({"assignee": "anna", "org_number": "556074-7569", "company_name": "Matris AB"}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    let consult =
        |msg: &str| json!({"to_department": "MHF", "kind": "consultation", "message": msg});
    let h1 = handoff(&app, &t("anna"), id, consult("ett")).await.body["id"]
        .as_i64()
        .unwrap();
    let h2 = handoff(&app, &t("maria"), id, consult("två")).await.body["id"]
        .as_i64()
        .unwrap();
    let h3 = handoff(&app, &t("anna"), id, consult("tre")).await.body["id"]
        .as_i64()
        .unwrap();
    // Nobody outside SBF may request one on SBF's case.
    for (u, status) in [("omar", 403), ("lars", 403), ("nils", 404)] {
        handoff(&app, &t(u), id, consult("nej"))
            .await
            .problem(status);
    }
    assert_eq!(
        handoff(
            &app,
            &t("root"),
            id,
            json!({"to_department": "MHF", "kind": "contact", "message": "admin"})
        )
        .await
        .status,
        201
    );

    let reads: [(&str, u16); 6] = [
        ("anna", 200),
        ("maria", 200),
        ("omar", 200),
        ("lars", 200),
        ("nils", 404),
        ("root", 200),
    ];
    for (u, status) in reads {
        for (path, what) in [
            (format!("/api/v1/cases/{id}"), "GET case"),
            (format!("/api/v1/cases/{id}/events"), "events"),
            (format!("/api/v1/cases/{id}/handoffs"), "case handoffs"),
            (format!("/api/v1/handoffs/{h1}"), "GET handoff"),
        ] {
            let r = app.get(&path, Some(&t(u))).await;
            assert_eq!(r.status, status, "{what} as {u}");
        }
        let inbox = app.get("/api/v1/handoffs", Some(&t(u))).await;
        let ids: BTreeSet<i64> = integers_of(&inbox.body["items"], "id")
            .into_iter()
            .collect();
        assert_eq!(ids.contains(&h1), status == 200, "inbox of {u}");
    }
    let writes: [(&str, u16); 6] = [
        ("anna", 200),
        ("maria", 200),
        ("omar", 403),
        ("lars", 403),
        ("nils", 404),
        ("root", 200),
    ];
    for (u, status) in writes {
        let r = app
            .patch_case(&t(u), id, json!({"title": "Nybyggnad av restaurang"}))
            .await;
        assert_eq!(r.status, status, "PATCH as {u}: {}", r.text);
    }

    // accept / complete: the receiving side only; the requester 403; the unrelated 404.
    let receiving_only = [("anna", 403), ("maria", 403), ("nils", 404)];
    let accept = Step::bare(h1, "accept");
    accept
        .refused_then_done(&app, &t, receiving_only, "omar")
        .await;
    let complete = Step::with(h1, "complete", "response", "x", "Klart");
    complete
        .refused_then_done(&app, &t, receiving_only, "lars")
        .await;
    // cancel: the requesting side only.
    for (u, status) in [("omar", 403), ("lars", 403), ("nils", 404)] {
        step(&app, &t(u), h2, "cancel", None).await.problem(status);
    }
    assert_eq!(
        step(&app, &t("anna"), h2, "cancel", None).await.status,
        200,
        "any of the requesting department"
    );
    // decline: the receiving side only; an admin may act for anyone.
    let decline = Step::with(h3, "decline", "reason", "x", "Admin");
    decline
        .refused_then_done(&app, &t, receiving_only, "root")
        .await;
    // Refused steps wrote nothing: created, 4 requested (incl. admin's), accepted, completed,
    // cancelled, declined, and the three no-op PATCHes changed nothing.
    assert_eq!(app.count("case_event").await, 1 + 4 + 4);

    // The company view: everyone gets it; those who may not open the case get the summary only.
    for u in ["anna", "maria", "omar", "lars", "nils", "root"] {
        let c = app.get("/api/v1/companies/5560747569", Some(&t(u))).await;
        assert_eq!(c.status, 200, "{u}: {}", c.text);
        assert_eq!(c.body["name"], "Matris AB");
        assert_eq!(c.body["kind"], "organisation");
        let entry = &c.body["cases"][0];
        if u == "nils" {
            assert_eq!(entry["access"], "summary");
            let keys: BTreeSet<&str> = entry["summary"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from([
                    "reference",
                    "area",
                    "department",
                    "status",
                    "received_at",
                    "decided_at",
                    "closed_at",
                    "assignee_name"
                ])
            );
            assert_eq!(entry["summary"]["assignee_name"], "anna test");
            assert!(!c.text.contains("Nybyggnad"), "no title leaks: {}", c.text);
        } else {
            assert_eq!(entry["access"], "full", "{u}");
            assert_eq!(entry["case"]["title"], "Nybyggnad av restaurang");
        }
    }
    app.get("/api/v1/companies/556074-7568", Some(&t("nils")))
        .await
        .problem(422);
    app.get("/api/v1/companies/556012-5790", Some(&t("nils")))
        .await
        .problem(404);
}

#[tokio::test]
async fn a_bundle_lets_its_coordinator_read_every_case_in_it() {
    let (app, [anna, omar, nils]) = spawn_app_as(["anna", "omar", "nils"]).await;
    let company = json!({"org_number": "212000-0142", "company_name": "Restaurang Lots AB"});
    let building = app.create_case(&anna, company.clone()).await;
    let food = app.create_case(&omar, json!({"org_number": "212000-0142", "company_name": "Restaurang Lots AB", "area": "food_control"})).await;
    let elsewhere = app.create_case(&anna, json!({})).await;
    let b = app
        .post_expecting(
            201,
            "/api/v1/bundles",
            Some(&anna),
            &json!({"org_number": "2120000142", "title": "Nyetablering", "coordinator": "nils"}),
        )
        .await;
    let bid = b.body["id"].as_i64().unwrap();
    let bad = app
        .post(
            "/api/v1/bundles",
            Some(&anna),
            &json!({"org_number": "556036-0793", "coordinator": "root"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["title", "org_number", "coordinator"]);

    let add = |case: &Value| json!({"case_id": case["id"]});
    let path = format!("/api/v1/bundles/{bid}/cases");
    // Only a case's own department adds it: otherwise anyone could read anything through a
    // bundle. To others the case does not exist.
    assert_eq!(
        app.post(&path, Some(&omar), &add(&building))
            .await
            .invalid_fields(),
        ["case_id"]
    );
    assert_eq!(
        app.post(&path, Some(&nils), &add(&building))
            .await
            .invalid_fields(),
        ["case_id"]
    );
    assert_eq!(
        app.post(&path, Some(&anna), &add(&building)).await.status,
        201
    );
    app.post(&path, Some(&anna), &add(&building))
        .await
        .problem(409);
    assert_eq!(
        app.post(&path, Some(&anna), &add(&elsewhere))
            .await
            .invalid_fields(),
        ["case_id"]
    );
    let r = app.post(&path, Some(&omar), &add(&food)).await;
    assert_eq!(r.status, 201);
    // An open handoff shows beside its case.
    handoff(
        &app,
        &omar,
        food["id"].as_i64().unwrap(),
        json!({"to_department": "SBF", "kind": "consultation", "message": "Bygglov klart?"}),
    )
    .await;

    let view = app
        .get(&format!("/api/v1/bundles/{bid}"), Some(&nils))
        .await;
    assert_eq!(view.body["coordinator"], "nils");
    let cases = view.body["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert!(cases.iter().all(|c| c["access"] == "full"), "{}", view.text);
    assert_eq!(cases[1]["open_handoffs"][0]["to_department"], "SBF");
    assert_eq!(
        app.get_status(&format!("/api/v1/cases/{}", building["id"]), Some(&nils))
            .await,
        200
    );
    // ...but only reads it.
    app.transition(
        &nils,
        building["id"].as_i64().unwrap(),
        json!({"to": "in_progress"}),
    )
    .await
    .problem(403);
    // Someone else sees the bundle with summaries where they may not open a case.
    let lars = app.token("lars").await;
    let theirs = app
        .get(&format!("/api/v1/bundles/{bid}"), Some(&lars))
        .await;
    assert_eq!(theirs.body["cases"][0]["access"], "summary");
    assert_eq!(theirs.body["cases"][1]["access"], "full");
    let listed = app
        .get("/api/v1/bundles?org_number=212000-0142", Some(&lars))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // The coordinator removes a case; the events record both steps; access ends with it.
    let removed = app
        .delete(&format!("{path}/{}", building["id"]), &nils)
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(
        app.get_status(&format!("/api/v1/cases/{}", building["id"]), Some(&nils))
            .await,
        404
    );
    let events = app
        .get(
            &format!("/api/v1/cases/{}/events", building["id"]),
            Some(&anna),
        )
        .await
        .body;
    assert_eq!(
        kinds(&events),
        ["created", "bundle_added", "bundle_removed"]
    );
    assert_eq!(events["items"][2]["actor"], "nils");
}
