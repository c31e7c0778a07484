//! Who sees and does what, tried as an attacker would: the findings of the access review, each
//! with the probe that found it, and the access matrix (role × department × relation ×
//! confidential × endpoint) walked against the table in docs/access.md.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_contains, spawn_app, spawn_app_as};
use crate::hooks::{Receiver, fast_app, settle, subscribe};
use crate::web::Browser;

/// The reads under `/api/v1/cases/{id}` that every tie to a case opens.
const CASE_READS: [&str; 6] = [
    "",
    "/events",
    "/notes",
    "/parties",
    "/handoffs",
    "/attachments",
];

const SECRET: &str = "Skyddad adress: sökanden bor hos Per";
const SECRET_TITLE: &str = "Hemligt ärende om Kvarnbacken";

async fn confidential_case(app: &TestApp, token: &str, fields: Value) -> i64 {
    let mut body = json!({"title": SECRET_TITLE, "description": SECRET,
        "labels": ["hemligetikett"], "confidential": {"statute": "OSL 26 kap. 1 §"}});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        for (k, v) in f {
            b.insert(k.clone(), v.clone());
        }
    }
    app.create_case(token, body).await["id"].as_i64().unwrap()
}

async fn handoff(app: &TestApp, token: &str, case: i64, kind: &str, message: &str) -> i64 {
    let r = app
        .post_expecting(
            201,
            &format!("/api/v1/cases/{case}/handoffs"),
            Some(token),
            &json!({"to_department": "MHF", "kind": kind, "message": message}),
        )
        .await;
    r.body["id"].as_i64().unwrap()
}

/// Finding 1: a confidential case's consultation message and answer reached the consulted
/// department and the admin in full, though the history showed `[sekretess]`.
#[tokio::test]
async fn a_confidential_cases_handoff_texts_reach_only_its_own_department() {
    let (app, [anna, omar, root]) = spawn_app_as(["anna", "omar", "root"]).await;
    let id = confidential_case(&app, &anna, json!({})).await;
    let h = handoff(&app, &anna, id, "consultation", SECRET).await;
    app.post_expecting(
        200,
        &format!("/api/v1/handoffs/{h}/accept"),
        Some(&omar),
        &json!({}),
    )
    .await;
    let r = app
        .post_expecting(
            200,
            &format!("/api/v1/handoffs/{h}/complete"),
            Some(&omar),
            &json!({"response": format!("Svar: {SECRET}")}),
        )
        .await;
    assert!(!r.text.contains(SECRET), "the answer echoed: {}", r.text);

    for (who, token) in [("omar", &omar), ("root", &root)] {
        for path in [
            format!("/api/v1/cases/{id}/handoffs"),
            "/api/v1/handoffs".to_string(),
            format!("/api/v1/handoffs/{h}"),
            format!("/api/v1/cases/{id}/events"),
        ] {
            let r = app.get(&path, Some(token)).await;
            assert_eq!(r.status, 200, "{who} {path}: {}", r.text);
            assert!(!r.text.contains(SECRET), "{who} {path}: {}", r.text);
            assert!(r.text.contains("[sekretess]"), "{who} {path}: {}", r.text);
        }
    }
    // The owning department reads its own texts.
    let r = app.get(&format!("/api/v1/handoffs/{h}"), Some(&anna)).await;
    assert_eq!(r.body["message"], SECRET);
    assert_eq!(r.body["response"], format!("Svar: {SECRET}"));
    // And the case page shows the consulted department no text either.
    let mut b = Browser::logged_in(&app, "omar").await;
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Skyddad adress"), "{}", page.body);
}

/// Finding 2: the throttle counted the name as typed while the lookup trimmed it.
#[tokio::test]
async fn the_login_throttle_counts_the_name_the_lookup_uses() {
    let app = spawn_app().await;
    let login = |name: &'static str, password: &'static str| {
        let app = &app;
        async move { app.login(name, password).await }
    };
    for _ in 0..10 {
        assert_eq!(login("erik", "wrong-guess-123").await.status, 401);
    }
    for variant in ["erik ", "\u{a0}erik", " erik\t", "\u{feff}erik", "ERIK"] {
        let r = app.login(variant, PASSWORD).await;
        r.problem(429);
        assert!(r.header("retry-after").is_some());
    }
    // Another user is not locked.
    assert_eq!(login("anna", PASSWORD).await.status, 200);
}

/// Finding 4: the history import read the whole body before it checked the caller.
#[tokio::test]
async fn an_officer_is_refused_the_import_before_the_body_is_read() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    // A body that sends one line and then never ends: only an answer given before reading it
    // comes back.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"{\"reference\": \"BN 2024/0001\"".to_vec()))
        .await
        .unwrap();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        app.client
            .post(app.url("/api/v1/import/cases"))
            .bearer_auth(&anna)
            .header("content-type", "application/x-ndjson")
            .header("content-length", (256u64 << 20).to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    )
    .await
    .expect("answered without reading the body")
    .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 403);
    drop(tx);
    assert_eq!(app.count("case_record").await, 0);
}

/// Finding 5: webhooks carried a confidential case's company, and a sole trader's personnummer.
#[tokio::test]
async fn webhooks_carry_no_confidential_company_and_no_personnummer() {
    let app = fast_app().await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &receiver, json!(["case.created"])).await;
    let anna = app.token("anna").await;
    confidential_case(
        &app,
        &anna,
        json!({"org_number": "556036-0793", "company_name": "Hemliga Bolaget AB"}),
    )
    .await;
    // A sole trader: the organisation number is the owner's personnummer.
    app.create_case(
        &anna,
        json!({"org_number": "811218-9876", "company_name": "Per Perssons Måleri"}),
    )
    .await;
    app.create_case(&anna, json!({})).await;
    settle(&app, 50).await;
    let bodies: Vec<Value> = receiver.unique().into_values().collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    let text: String = bodies.iter().map(Value::to_string).collect();
    for secret in [
        "556036-0793",
        "5560360793",
        "Hemliga Bolaget",
        "811218-9876",
        "8112189876",
        "Måleri",
        "Per Persson",
        SECRET_TITLE,
    ] {
        assert!(!text.contains(secret), "`{secret}` in {text}");
    }
    let case = |b: &Value| b["data"]["case"].clone();
    let secret = bodies
        .iter()
        .map(case)
        .find(|c| c["confidential"] == true)
        .unwrap();
    assert_eq!(secret["company_name"], "[sekretess]");
    assert_eq!(secret["org_number"], "[sekretess]");
    let sole = bodies
        .iter()
        .map(case)
        .find(|c| c["company_name"] == "[personuppgift]")
        .unwrap();
    assert_eq!(sole["org_number"], "811218-****");
    // An ordinary company is still named.
    assert!(
        bodies
            .iter()
            .map(case)
            .any(|c| c["company_name"] == "Exempel AB" && c["org_number"] == "556012-5790"),
        "{text}"
    );
}

/// Finding 6: registering a case under an existing org number renamed the company for all.
#[tokio::test]
async fn registering_a_case_does_not_rename_the_company_for_everyone() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let first = app.create_case(&anna, json!({})).await;
    assert_eq!(first["company_name"], "Exempel AB");
    let other = app
        .create_case(
            &omar,
            json!({"company_name": "Fel Namn AB", "area": "food_control"}),
        )
        .await;
    assert_eq!(other["company_name"], "Exempel AB");
    let r = app
        .get(&format!("/api/v1/cases/{}", first["id"]), Some(&anna))
        .await;
    assert_eq!(r.body["company_name"], "Exempel AB");
    let r = app.get("/api/v1/companies/556012-5790", Some(&anna)).await;
    assert_eq!(r.body["name"], "Exempel AB", "{}", r.text);
    assert_eq!(
        app.count_where("company", "name = 'Exempel AB'").await,
        1,
        "the stored company keeps its name"
    );
    // The name as given is kept in the case's history.
    let r = app
        .get(
            &format!("/api/v1/cases/{}/events", other["id"]),
            Some(&omar),
        )
        .await;
    assert_eq!(r.body["items"][0]["data"]["company_name"], "Fel Namn AB");
}

/// Finding 7: `q=` and `label=` answered yes or no about a confidential case's hidden title
/// and labels.
#[tokio::test]
async fn search_never_matches_content_the_caller_cannot_see() {
    let (app, [anna, omar, root]) = spawn_app_as(["anna", "omar", "root"]).await;
    let id = confidential_case(&app, &anna, json!({})).await;
    let reference = app.case_reference(&anna, id).await;
    // A public case with the same place in its title, which everyone who lists it finds.
    let public = app
        .case_id(&anna, json!({"title": "Bygglov vid Kvarnbacken"}))
        .await;
    let found = |token: &str, query: &str| {
        let app = &app;
        let token = token.to_string();
        let query = query.to_string();
        async move {
            let r = app
                .get(&format!("/api/v1/cases?{query}"), Some(&token))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == id)
        }
    };
    // The owner finds it by its title and label.
    assert!(found(&anna, "q=Kvarnbacken").await);
    assert!(found(&anna, "label=hemligetikett").await);
    // The admin lists every case, but no probe of the hidden text answers.
    assert!(found(&root, "limit=500").await);
    assert!(!found(&root, "q=Kvarnbacken").await);
    assert!(!found(&root, "q=hemligt").await);
    assert!(!found(&root, "label=hemligetikett").await);
    // Nor as a prefix, nor beside a word it may see (the company's), and the same word finds
    // the public case: the search runs, it just never reads the hidden text.
    assert!(!found(&root, "q=kvarnback").await);
    assert!(!found(&root, "q=Kvarnbacken%20exempel").await);
    assert_eq!(
        crate::helpers::ids(&app, &root, "q=Kvarnbacken").await,
        [public]
    );
    assert_eq!(
        crate::helpers::ids(&app, &anna, "q=Kvarnbacken")
            .await
            .len(),
        2
    );
    // An officer of a consulted department may read the case, but no search of theirs finds it.
    handoff(&app, &anna, id, "consultation", "Yttrande önskas").await;
    assert!(!found(&omar, "q=Kvarnbacken").await);
    // What the admin may see still matches: the diarienummer and the company.
    assert!(
        found(
            &root,
            &format!("q={}", reference.replace(' ', "%20").replace('/', "%2F"))
        )
        .await
    );
    assert!(found(&root, "q=exempel").await);
}

/// A case marked confidential after it was registered is searched by others through its public
/// document from then on (diarienummer and company, not its title), and by its title again once
/// the mark is lifted. The public document is kept only while a case is confidential.
#[tokio::test]
async fn marking_a_case_confidential_and_lifting_it_changes_what_others_can_search_at_once() {
    let (app, [anna, root]) = spawn_app_as(["anna", "root"]).await;
    let id = app
        .case_id(&anna, json!({"title": "Tillbyggnad vid Mölnåsen"}))
        .await;
    let condition = match app.db.backend() {
        sea_orm::DbBackend::Sqlite => format!("rowid IN ({}, {})", 2 * id, 2 * id + 1),
        _ => format!("case_id = {id}"),
    };
    let documents = || app.count_where("case_search", &condition);
    let by_title = "q=M%C3%B6ln%C3%A5sen";
    assert_eq!(
        documents().await,
        1,
        "an open case has its whole document only"
    );
    assert_eq!(crate::helpers::ids(&app, &root, by_title).await, [id]);

    let mark = json!({"confidential": {"statute": "OSL 26 kap. 1 §"}});
    let r = app.patch_case(&anna, id, mark).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        documents().await,
        2,
        "a confidential case has its public one too"
    );
    assert!(crate::helpers::ids(&app, &root, by_title).await.is_empty());
    assert_eq!(crate::helpers::ids(&app, &anna, by_title).await, [id]);
    assert_eq!(crate::helpers::ids(&app, &root, "q=exempel").await, [id]);

    let r = app
        .patch_case(&anna, id, json!({"confidential": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(documents().await, 1);
    assert_eq!(crate::helpers::ids(&app, &root, by_title).await, [id]);
}

/// Finding 8 (bundles): every department's bundles were listed to anyone.
#[tokio::test]
async fn bundles_are_seen_only_by_those_tied_to_them() {
    let (app, [anna, nils, omar, root]) = spawn_app_as(["anna", "nils", "omar", "root"]).await;
    let case = app.case_id(&anna, json!({})).await;
    let bundle = app
        .bundle_with(&anna, "Hemlig etablering", "erik", case)
        .await;
    // RTJ and MHF have nothing with the company: no bundle, no title.
    for token in [&nils, &omar] {
        let r = app.get("/api/v1/bundles", Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.text.contains("Hemlig etablering"), "{}", r.text);
        app.get(&format!("/api/v1/bundles/{bundle}"), Some(token))
            .await
            .problem(404);
        app.post(
            &format!("/api/v1/bundles/{bundle}/cases"),
            Some(token),
            &json!({"case_id": case}),
        )
        .await
        .problem(404);
    }
    // Once MHF has a case of the company, it sees the bundle it may join.
    app.create_case(&omar, json!({"area": "food_control"}))
        .await;
    let r = app.get("/api/v1/bundles", Some(&omar)).await;
    assert_contains(&r.text, "Hemlig etablering");
    for token in [&anna, &root, &app.token("erik").await] {
        let r = app.get("/api/v1/bundles", Some(token)).await;
        assert_contains(&r.text, "Hemlig etablering");
        let r = app
            .get(&format!("/api/v1/bundles/{bundle}"), Some(token))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

/// Finding 10: the case page offered a consulted department the note form the API refuses.
#[tokio::test]
async fn the_case_page_offers_only_what_the_caller_may_do() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let id = app.case_id(&anna, json!({})).await;
    handoff(&app, &anna, id, "consultation", "Yttrande önskas").await;
    let mut b = Browser::logged_in(&app, "omar").await;
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for action in ["/anteckning", "/status", "/overlamning", "/uppgifter"] {
        assert!(
            !page
                .body
                .contains(&format!("action=\"/arenden/{id}{action}\"")),
            "{action} offered to a consulted department: {}",
            page.body
        );
    }
    // The API agrees: the consulted department may not write notes.
    app.add_note(&omar, id, "x").await.problem(403);
    // The owner gets the forms.
    let mut b = Browser::logged_in(&app, "anna").await;
    let page = b.get(&format!("/arenden/{id}")).await;
    assert!(
        page.body
            .contains(&format!("action=\"/arenden/{id}/anteckning\""))
    );
}

/// Who is tied to the matrix's case, and how.
#[derive(Clone, Copy, Debug)]
enum Who {
    Officer,
    Manager,
    Admin,
    Consulted,
    ConsultedManager,
    Coordinator,
}

/// The access matrix of docs/access.md, walked over the API: for each caller and for a public
/// and a confidential case, what each endpoint answers and whether the protected text shows.
#[tokio::test]
async fn the_access_matrix_holds_on_every_endpoint() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    for confidential in [false, true] {
        let fields = json!({"title": SECRET_TITLE, "description": SECRET});
        let id = if confidential {
            confidential_case(&app, &anna, fields).await
        } else {
            app.create_case(&anna, fields).await["id"].as_i64().unwrap()
        };
        app.post(
            &format!("/api/v1/cases/{id}/parties"),
            Some(&anna),
            &json!({"kind": "person", "personal_number": "19811218-9876", "name": "Per Persson", "roles": ["contact"]}),
        )
        .await;
        app.add_note(&anna, id, SECRET).await;
        handoff(&app, &anna, id, "consultation", SECRET).await;
        app.bundle_with(&anna, "Samordning", "nils", id).await;
        for (who, username) in [
            (Who::Officer, "anna"),
            (Who::Manager, "maria"),
            (Who::Admin, "root"),
            (Who::Consulted, "omar"),
            (Who::Coordinator, "nils"),
            (Who::ConsultedManager, "lars"),
        ] {
            check_matrix_row(&app, who, username, id, confidential).await;
        }
    }
}

/// One row of the matrix: the expected answers are written from the docs' table.
async fn check_matrix_row(app: &TestApp, who: Who, username: &str, id: i64, confidential: bool) {
    let token = app.token(username).await;
    let (read, change, sees_secret, sees_person) = match who {
        Who::Officer | Who::Manager => (true, true, true, true),
        Who::Admin => (true, true, !confidential, true),
        // The consulted department's tie is its manager's too.
        Who::Consulted | Who::ConsultedManager => (true, false, !confidential, false),
        Who::Coordinator => (true, false, !confidential, false),
    };
    let ctx = format!("{who:?} ({username}), confidential {confidential}");
    for path in CASE_READS {
        let r = app
            .get(&format!("/api/v1/cases/{id}{path}"), Some(&token))
            .await;
        if !read {
            r.problem(404);
            continue;
        }
        assert_eq!(r.status, 200, "{ctx} GET {path}: {}", r.text);
        assert_eq!(
            r.text.contains(SECRET) || r.text.contains(SECRET_TITLE),
            sees_secret && path != "/attachments" && path != "/parties",
            "{ctx} GET {path}: {}",
            r.text
        );
        if path == "/parties" {
            assert_eq!(
                r.text.contains("Per Persson"),
                sees_person && (!confidential || sees_secret),
                "{ctx} GET {path}: {}",
                r.text
            );
        }
    }
    let note = app.add_note(&token, id, "matrix").await;
    let patch = app
        .send(
            Method::PATCH,
            &format!("/api/v1/cases/{id}"),
            Some(&token),
            Some(&json!({"priority": "high"})),
            &[],
        )
        .await;
    if change {
        assert_eq!(note.status, 201, "{ctx}: {}", note.text);
        assert_eq!(patch.status, 200, "{ctx}: {}", patch.text);
    } else {
        note.problem(403);
        patch.problem(403);
    }
}

/// A department with no tie to a case meets it nowhere: 404 on every read and change.
#[tokio::test]
async fn a_case_does_not_exist_for_a_department_without_a_tie() {
    let (app, [anna, nils]) = spawn_app_as(["anna", "nils"]).await;
    let id = confidential_case(&app, &anna, json!({})).await;
    for path in CASE_READS.iter().chain(&["/decision"]) {
        app.get(&format!("/api/v1/cases/{id}{path}"), Some(&nils))
            .await
            .problem(404);
    }
    app.add_note(&nils, id, "x").await.problem(404);
    let r = app.get("/api/v1/cases?limit=500", Some(&nils)).await;
    assert_eq!(r.body["items"], json!([]));
}

/// Every text of a confidential case's history is hidden from those who may not see it: an
/// FL 12 § request's note, a document's name and hash (which would confirm a guess of its
/// content), a supplement request's message.
#[tokio::test]
async fn a_confidential_cases_history_hides_every_text_and_hash() {
    let (app, [anna, omar, root]) = spawn_app_as(["anna", "omar", "root"]).await;
    let received = (chrono::Utc::now() - chrono::Duration::days(200)).to_rfc3339();
    let id = confidential_case(&app, &anna, json!({"received_at": received})).await;
    handoff(&app, &anna, id, "contact", "Till kännedom").await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/decision-requests"),
        Some(&anna),
        &json!({"note": SECRET}),
    )
    .await;
    let pdf = format!("%PDF-1.7\n% {SECRET}\n%%EOF");
    let r = crate::record::upload(
        &app,
        &anna,
        id,
        Some(("skyddad-adress.pdf", "application/pdf", pdf.as_bytes())),
        &[("category", "supplement")],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sha = r.body["sha256"].as_str().unwrap().to_string();
    let own = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&anna))
        .await;
    assert!(own.text.contains(SECRET) && own.text.contains(&sha));
    for token in [&omar, &root] {
        let r = app
            .get(&format!("/api/v1/cases/{id}/events"), Some(token))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for hidden in [SECRET, sha.as_str(), "skyddad-adress.pdf", SECRET_TITLE] {
            assert!(!r.text.contains(hidden), "`{hidden}` in {}", r.text);
        }
    }
}

/// A sole trader's organisation number is a personnummer: a department that reads the case
/// through a handoff gets it masked, in the case, its history and the company view alike.
#[tokio::test]
async fn a_sole_traders_personnummer_is_masked_for_other_departments() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let id = app
        .create_case(
            &anna,
            json!({"org_number": "811218-9876", "company_name": "Per Perssons Måleri"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    handoff(&app, &anna, id, "consultation", "Yttrande önskas").await;
    let own = app.get(&format!("/api/v1/cases/{id}"), Some(&anna)).await;
    assert_eq!(own.body["company_name"], "Per Perssons Måleri");
    let r = app.get(&format!("/api/v1/cases/{id}"), Some(&omar)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["org_number"], "811218-****");
    assert_eq!(r.body["company_name"], "[personuppgift]");
    let r = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&omar))
        .await;
    assert!(
        !r.text.contains("9876") && !r.text.contains("Per Persson"),
        "{}",
        r.text
    );
    let r = app.get("/api/v1/companies/811218-9876", Some(&omar)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let full = r.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["access"] == "full")
        .cloned()
        .unwrap();
    assert_eq!(full["case"]["org_number"], "811218-****", "{}", r.text);
}
