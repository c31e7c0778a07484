//! Registering, reading, listing and editing cases, within the caller's scope.

use std::collections::HashSet;

use chrono::{Datelike, Utc};
use lots_store::entity::{case_event, case_record, company, outbox};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{assert_each_query_names, every_page, ids, spawn_app_as};

#[tokio::test]
async fn registering_a_case_assigns_a_reference_and_writes_its_event() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let r = app
        .post_expecting(
            201,
            "/api/v1/cases",
            Some(&anna),
            &json!({"org_number": "5560125790", "company_name": "Exempel AB", "area": "building_permit",
                    "title": "  Nybyggnad av restaurang ", "assignee": "anna", "received_at": "2026-01-05T08:30:00+01:00"}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/cases/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some("\"1\""));
    let year = Utc::now().with_timezone(&lots_core::TIME_ZONE).year();
    assert_eq!(r.body["reference"], format!("BN {year}/0001"));
    assert_eq!(r.body["org_number"], "556012-5790");
    assert_eq!(r.body["title"], "Nybyggnad av restaurang");
    assert_eq!(r.body["case_type"], "permit");
    assert_eq!(r.body["department"], "SBF");
    assert_eq!(r.body["assignee"], "anna");
    assert_eq!(r.body["status"], "received");
    assert_eq!(r.body["received_at"], "2026-01-05T07:30:00Z");
    assert_eq!(r.body["version"], 1);
    assert!(r.body["decision"].is_null());
    assert_eq!(
        r.body["deadline"]["due_date"], "2026-03-16",
        "ten weeks from Monday 5 January 2026"
    );

    // The stored rows: the case, the company (normalised), and the event.
    let stored = case_record::Entity::find_by_id(id)
        .one(app.db.reader())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "received");
    let co = company::Entity::find()
        .filter(company::Column::OrgNumber.eq("556012-5790"))
        .one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(co.unwrap().id, stored.company_id);
    let events = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(id))
        .all(app.db.reader())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "created");
    assert_eq!(events[0].data["reference"], format!("BN {year}/0001"));

    let got = app.get(&format!("/api/v1/cases/{id}"), Some(&anna)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.body, r.body);

    // The next case of the department takes the next serial; another department has its own.
    let second = app.create_case(&anna, json!({})).await;
    assert_eq!(second["reference"], format!("BN {year}/0002"));
    let omar = app.token("omar").await;
    let mhf = app
        .create_case(
            &omar,
            json!({"area": "food_control", "title": "Registrering av livsmedelsanläggning"}),
        )
        .await;
    assert_eq!(mhf["reference"], format!("MHN {year}/0001"));
    assert!(mhf["case_type"].is_null());
}

#[tokio::test]
async fn invalid_registrations_name_every_bad_field_and_write_nothing() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let r = app
        .post(
            "/api/v1/cases",
            Some(&anna),
            &json!({"org_number": "556012-5791", "area": "bygglov", "title": "", "received_at": "2999-01-01T00:00:00Z",
                    "assignee": "nobody", "description": "x".repeat(20_001)}),
        )
        .await;
    let fields = r.invalid_fields();
    for f in [
        "org_number",
        "company_name",
        "area",
        "title",
        "description",
        "received_at",
        "assignee",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }
    let r = app.post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "food_control", "case_type": "permit", "title": "t"})).await;
    assert_eq!(r.invalid_fields(), ["case_type"]);
    let r = app.post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "building_permit", "case_type": "skyscraper", "title": "t"})).await;
    assert_eq!(r.invalid_fields(), ["case_type"]);
    let r = app.post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t", "assignee": "omar"})).await;
    assert_eq!(
        r.invalid_fields(),
        ["assignee"],
        "an assignee from another department"
    );
    let r = app.post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t", "status": "decided"})).await;
    assert_eq!(
        r.invalid_fields(),
        ["status"],
        "unknown fields are refused, not ignored"
    );
    for table in ["case_record", "case_event", "company", "reference_series"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn cases_outside_the_callers_department_do_not_exist_for_them() {
    let (app, [anna, omar, lars, root]) = spawn_app_as(["anna", "omar", "lars", "root"]).await;
    let case = app.create_case(&anna, json!({})).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}");
    for token in [&omar, &lars] {
        let nf = app.get(&path, Some(token)).await;
        nf.problem(404);
        // The same answer as for a case that does not exist at all.
        let none = app.get("/api/v1/cases/999999", Some(token)).await;
        assert_eq!(nf.body, none.body);
        app.get(&format!("{path}/events"), Some(token))
            .await
            .problem(404);
        app.get(&format!("{path}/notes"), Some(token))
            .await
            .problem(404);
        app.post(
            &format!("{path}/notes"),
            Some(token),
            &json!({"text": "hej"}),
        )
        .await
        .problem(404);
        app.patch(&path, Some(token), &json!({"title": "Kapad"}), None)
            .await
            .problem(404);
        app.transition(token, id, json!({"to": "in_progress"}))
            .await
            .problem(404);
        let list = app.get("/api/v1/cases", Some(token)).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
        let list = app.get("/api/v1/cases?department=SBF", Some(token)).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    }
    // Registering in another department is refused and writes nothing.
    let r = app.post("/api/v1/cases", Some(&omar), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t", "department": "SBF"})).await;
    r.problem(403);
    assert_eq!(app.count("case_record").await, 1);
    // Nothing changed for the owner; the admin sees everything.
    let own = app.get(&path, Some(&anna)).await;
    assert_eq!(own.body["version"], 1);
    assert_eq!(app.count("case_event").await, 1);
    assert_eq!(app.get(&path, Some(&root)).await.status, 200);
    let all = app.get("/api/v1/cases", Some(&root)).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    // An admin registers in any department, naming it.
    let by_admin = app
        .create_case(&root, json!({"department": "RTJ", "area": "fire_safety"}))
        .await;
    assert!(by_admin["reference"].as_str().unwrap().starts_with("RTN "));
    let r = app.post("/api/v1/cases", Some(&root), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t"})).await;
    assert_eq!(r.invalid_fields(), ["department"]);
}

#[tokio::test]
async fn editing_honours_if_match_and_records_old_and_new_values() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.create_case(&anna, json!({"assignee": "anna"})).await;
    let path = format!("/api/v1/cases/{}", case["id"]);
    let r = app
        .patch_if(&path, &anna, 1, json!({"title": "Nytt namn"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["title"], "Nytt namn");
    assert_eq!(r.header("etag"), Some("\"2\""));
    // A stale version: 412, nothing changes, no event.
    let stale = app
        .patch_if(&path, &anna, 1, json!({"title": "Förlorad ändring"}))
        .await;
    stale.problem(412);
    assert_eq!(stale.header("etag"), Some("\"2\""));
    let now = app.get(&path, Some(&anna)).await;
    assert_eq!(now.body["title"], "Nytt namn");
    assert_eq!(now.body["version"], 2);
    let events = app.get(&format!("{path}/events"), Some(&anna)).await;
    let items = events.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["kind"], "updated");
    assert_eq!(items[1]["actor"], "anna");
    assert_eq!(items[1]["department"], "SBF");
    assert_eq!(
        items[1]["data"]["changes"]["title"],
        json!({"from": "Nybyggnad av restaurang", "to": "Nytt namn"})
    );
    // Bad input.
    assert_eq!(
        app.patch(&path, Some(&anna), &json!({}), None)
            .await
            .invalid_fields(),
        ["body"]
    );
    assert_eq!(
        app.patch(&path, Some(&anna), &json!({"title": ""}), None)
            .await
            .invalid_fields(),
        ["title"]
    );
    assert_eq!(
        app.patch(&path, Some(&anna), &json!({"status": "closed"}), None)
            .await
            .invalid_fields(),
        ["status"]
    );
    app.patch(
        &path,
        Some(&anna),
        &json!({"title": "x"}),
        Some("yesterday"),
    )
    .await
    .problem(400);
    // A change to the same value is no change: no new version, no event.
    let same = app
        .patch(&path, Some(&anna), &json!({"title": "Nytt namn"}), None)
        .await;
    assert_eq!(same.body["version"], 2);
    assert_eq!(app.count("case_event").await, 2);
}

#[tokio::test]
async fn officers_take_cases_and_managers_reassign_them() {
    let (app, [anna, erik, maria]) = spawn_app_as(["anna", "erik", "maria"]).await;
    let case = app.create_case(&anna, json!({})).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}");
    assert!(case["assignee"].is_null());
    // An officer may not give a case to someone else...
    app.patch_case(&anna, id, json!({"assignee": "erik"}))
        .await
        .problem(403);
    // ...but may take an unassigned one.
    let taken = app.patch_case(&erik, id, json!({"assignee": "erik"})).await;
    assert_eq!(taken.body["assignee"], "erik");
    // Nor take one that is someone else's.
    app.patch_case(&anna, id, json!({"assignee": "anna"}))
        .await
        .problem(403);
    // A manager reassigns; the event shows from and to.
    let moved = app
        .patch_case(&maria, id, json!({"assignee": "anna"}))
        .await;
    assert_eq!(moved.body["assignee"], "anna");
    let events = app.get(&format!("{path}/events"), Some(&maria)).await;
    let last = events.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["data"]["changes"]["assignee"],
        json!({"from": "erik", "to": "anna"})
    );
    assert_eq!(last["actor"], "maria");
    // Not to someone outside the department; and anyone may let go of their own case.
    assert_eq!(
        app.patch_case(&maria, id, json!({"assignee": "omar"}))
            .await
            .invalid_fields(),
        ["assignee"]
    );
    let released = app.patch_case(&anna, id, json!({"assignee": null})).await;
    assert!(released.body["assignee"].is_null(), "{}", released.text);
    // Officers may not register a case for a colleague either.
    let r = app.post("/api/v1/cases", Some(&anna), &json!({"org_number": "556012-5790", "company_name": "A", "area": "other", "title": "t", "assignee": "erik"})).await;
    r.problem(403);
}

/// The list query that searches for `case`'s diarienummer, its space and slash encoded.
fn by_reference(case: &Value) -> String {
    let reference = case["reference"].as_str().unwrap();
    format!("q={}", reference.replace(' ', "%20").replace('/', "%2F"))
}

#[tokio::test]
async fn the_list_filters_by_every_field() {
    let (app, [anna, erik, root]) = spawn_app_as(["anna", "erik", "root"]).await;
    let a = app
        .create_case(
            &anna,
            json!({"assignee": "anna", "title": "Fasadskylt för Pizzeria Roma"}),
        )
        .await;
    let b = app.create_case(&erik, json!({"assignee": "erik", "area": "land_use", "org_number": "556074-7569", "company_name": "Söderby Bageri AB"})).await;
    let c = app
        .create_case(&anna, json!({"title": "100% ombyggnad_av kök"}))
        .await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    app.transition(&anna, id(&a), json!({"to": "in_progress"}))
        .await;
    assert_eq!(
        ids(&app, &anna, "").await,
        [id(&c), id(&b), id(&a)],
        "newest first"
    );
    assert_eq!(ids(&app, &anna, "status=in_progress").await, [id(&a)]);
    assert_eq!(
        ids(&app, &anna, "status=received,in_progress").await.len(),
        3
    );
    assert_eq!(ids(&app, &anna, "area=land_use").await, [id(&b)]);
    assert_eq!(ids(&app, &anna, "assignee=me").await, [id(&a)]);
    assert_eq!(ids(&app, &anna, "assignee=erik").await, [id(&b)]);
    assert_eq!(ids(&app, &anna, "org_number=5560747569").await, [id(&b)]);
    assert_eq!(ids(&app, &anna, "q=pizzeria").await, [id(&a)]);
    assert_eq!(
        ids(&app, &anna, "q=BAGERI").await,
        [id(&b)],
        "company name, any case"
    );
    assert_eq!(
        ids(&app, &anna, "q=100%25").await,
        [id(&c)],
        "punctuation separates words"
    );
    assert_eq!(ids(&app, &anna, "q=ombyggnad_av").await, [id(&c)]);
    assert_eq!(
        ids(&app, &anna, "q=%25_").await,
        [0i64; 0],
        "no word, no match"
    );
    assert_eq!(ids(&app, &anna, &by_reference(&a)).await, [id(&a)]);
    assert_eq!(ids(&app, &root, "department=SBF").await.len(), 3);
    assert_eq!(ids(&app, &root, "department=MHF").await.len(), 0);
    let cases = [
        ("status=open", "status"),
        ("area=x", "area"),
        ("department=NOPE", "department"),
        ("assignee=ghost", "assignee"),
        ("org_number=123", "org_number"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
    ];
    assert_each_query_names(&app, "/api/v1/cases", &anna, &cases).await;
}

/// Issue 17.5: `q` searches each engine's full-text index: every word, in any order, each as a
/// prefix (and stemmed on PostgreSQL), best match first; a diarienummer or an organisation
/// number matches exactly; an edit is found at once by its new words and no longer by the old.
/// A search matching more cases than are ranked (`RANKED_AT_MOST`, 1 000) comes newest first,
/// every match reachable page by page; fewer matches come best first. What decides is what
/// the caller may search: hidden words of confidential cases count for no one who cannot see
/// them, so the order cannot tell how many there are.
#[tokio::test]
async fn a_search_too_common_to_rank_comes_newest_first_every_match_a_page_away() {
    let (app, [anna, root]) = spawn_app_as(["anna", "root"]).await;
    let n = lots_cases::search::RANKED_AT_MOST as usize + 1;
    let lines: String = (1..=n)
        .map(|i| {
            json!({"reference": format!("BN 2025/{i:04}"), "org_number": "556036-0793",
                   "company_name": "Exempel AB", "area": "building_permit", "department": "SBF",
                   "title": "Tillbyggnad av butikslokal", "received_at": "2025-03-01T09:00:00Z"})
            .to_string()
                + "\n"
        })
        .collect();
    let r = app.import_ndjson(&root, lines).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kiosk = app
        .case_id(&anna, json!({"title": "Tillbyggnad av kiosk"}))
        .await;
    // Every page newest first, no case twice, all of them in the end.
    let seen = every_page(&app, &anna, "q=tillbyggnad&limit=400", |r| {
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["order"], "newest", "{}", r.text);
    })
    .await;
    assert_eq!(seen.len(), n + 1);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(seen[0], kiosk);
    // The officer's search page says why and how to rank.
    let mut b = crate::web::Browser::logged_in(&app, "anna").await;
    let page = b.get("/arenden/sok?q=tillbyggnad").await;
    assert!(
        page.body.contains("Fler än 1\u{a0}000 ärenden matchar")
            && page.body.contains("Lägg till fler ord"),
        "{}",
        page.body
    );
    let page = b.get("/arenden/sok?q=tillbyggnad%20kiosk").await;
    assert!(!page.body.contains("Fler än 1\u{a0}000"), "{}", page.body);
    // Two words that few cases hold together are ranked.
    let r = app
        .get("/api/v1/cases?q=tillbyggnad%20kiosk", Some(&anna))
        .await;
    assert_eq!(r.body["order"], "relevance", "{}", r.text);
    assert_eq!(integers_of_items(&r.body), [kiosk]);
    // The same cases confidential: their titles are hidden from the admin, whose search of the
    // word then finds the one public case, ranked as any search of one match is.
    app.db
        .writer()
        .execute_unprepared(
            "UPDATE case_record SET confidential_statute = 'OSL 30:23' \
             WHERE reference LIKE 'BN 2025/%'",
        )
        .await
        .unwrap();
    let r = app.get("/api/v1/cases?q=tillbyggnad", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["order"], "relevance", "{}", r.text);
    assert_eq!(integers_of_items(&r.body), [kiosk]);
    // Their owners still see and search them all.
    let r = app.get("/api/v1/cases?q=tillbyggnad", Some(&anna)).await;
    assert_eq!(r.body["order"], "newest", "{}", r.text);
    // A list without words is newest first; `sort=due_date` says so too.
    let r = app.get("/api/v1/cases?limit=1", Some(&anna)).await;
    assert_eq!(r.body["order"], "newest", "{}", r.text);
    let r = app
        .get("/api/v1/cases?limit=1&sort=due_date", Some(&anna))
        .await;
    assert_eq!(r.body["order"], "due_date", "{}", r.text);
}

fn integers_of_items(body: &Value) -> Vec<i64> {
    crate::helpers::integers_of(&body["items"], "id")
}

#[tokio::test]
async fn search_finds_every_word_in_any_order_best_match_first() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let titled = app
        .create_case(&anna, json!({"title": "Bygglov för restaurangen"}))
        .await;
    let named = app
        .create_case(
            &anna,
            json!({"title": "Ändrad användning", "org_number": "556074-7569",
                   "company_name": "Restaurang Bygglov Norra AB"}),
        )
        .await;
    let other = app
        .create_case(
            &anna,
            json!({"title": "Rivningslov för förrådet", "labels": ["strandskydd"]}),
        )
        .await;
    // The words in the title rank above the same words in the company's name.
    for q in [
        "bygglov%20restaurang",
        "restaurang%20bygglov",
        "BYGGLOV%20restaur",
    ] {
        assert_eq!(
            ids(&app, &anna, &format!("q={q}")).await,
            [id(&titled), id(&named)],
            "q={q}"
        );
    }
    assert_eq!(ids(&app, &anna, "q=restaurangen").await[0], id(&titled));
    assert_eq!(ids(&app, &anna, "q=bygglov%20rivning").await, [0i64; 0]);
    assert_eq!(ids(&app, &anna, "q=f%C3%B6rr%C3%A5d").await, [id(&other)]);
    assert_eq!(ids(&app, &anna, "q=strandskydd").await, [id(&other)]);
    // `sort` still orders a search when asked.
    assert_eq!(
        ids(&app, &anna, "q=bygglov&sort=newest").await,
        [id(&named), id(&titled)]
    );
    // A page of one, then the next: the ranked order, no case twice.
    let first = app
        .get("/api/v1/cases?q=bygglov&limit=1", Some(&anna))
        .await;
    assert_eq!(first.body["items"][0]["id"], id(&titled), "{}", first.text);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(
            &format!("/api/v1/cases?q=bygglov&limit=1&cursor={cursor}"),
            Some(&anna),
        )
        .await;
    assert_eq!(second.body["items"][0]["id"], id(&named), "{}", second.text);
    assert!(second.body["next_cursor"].is_null(), "{}", second.text);
    // A diarienummer and an organisation number match exactly, with or without the dash.
    assert_eq!(ids(&app, &anna, &by_reference(&named)).await, [id(&named)]);
    assert_eq!(ids(&app, &anna, "q=556074-7569").await, [id(&named)]);
    assert_eq!(ids(&app, &anna, "q=5560747569").await, [id(&named)]);
    // An edit of the title or the labels is found at once; the old words no longer are.
    let r = app
        .patch_case(
            &anna,
            id(&other),
            json!({"title": "Rivningslov för garaget", "labels": ["kulturmiljö"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&app, &anna, "q=garaget").await, [id(&other)]);
    assert_eq!(ids(&app, &anna, "q=kulturmilj%C3%B6").await, [id(&other)]);
    assert_eq!(ids(&app, &anna, "q=f%C3%B6rr%C3%A5d").await, [0i64; 0]);
    assert_eq!(ids(&app, &anna, "q=strandskydd").await, [0i64; 0]);
}

#[tokio::test]
async fn paging_never_repeats_or_skips_a_case_while_cases_are_added() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            app.create_case(&anna, json!({"title": format!("Ärende {i}")}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=3&cursor={c}"),
            None => "/api/v1/cases?limit=3".to_string(),
        };
        let r = app.get(&q, Some(&anna)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_i64().unwrap()));
        pages += 1;
        // Someone registers a case while we page.
        app.create_case(&anna, json!({"title": "Nytt under tiden"}))
            .await;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no case twice: {seen:?}");
    created.reverse();
    assert_eq!(
        seen, created,
        "every case that existed, newest first, exactly once"
    );
}

/// Concurrent registrations share transactions (`registrar`): a batch mixes departments, new
/// and known companies and the same new company twice, and still each department's series runs
/// 1–50 without gap or duplicate, each case has its own company, event and announcement.
#[tokio::test]
async fn fifty_concurrent_registrations_get_serials_one_to_fifty() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let orgs = ["556012-5790", "556074-7569", "212000-0142"];
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/cases");
            let (token, area) = if i % 2 == 0 {
                (anna.clone(), "building_permit")
            } else {
                (omar.clone(), "environment_health")
            };
            let org = orgs[i % 3];
            tokio::spawn(async move {
                let body = json!({"org_number": org, "company_name": format!("Samtidigt {org}"),
                                  "area": area, "title": format!("Samtidigt {i}")});
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let case: Value = r.json().await.unwrap();
                (i, org, status, case)
            })
        })
        .collect();
    for t in tasks {
        let (i, org, status, case) = t.await.unwrap();
        assert_eq!(status, 201, "{case}");
        assert_eq!(case["title"], format!("Samtidigt {i}"));
        assert_eq!(case["org_number"], org, "{case}");
        assert_eq!(case["department"], if i % 2 == 0 { "SBF" } else { "MHF" });
    }
    let rows = case_record::Entity::find()
        .order_by_asc(case_record::Column::Id)
        .all(app.db.reader())
        .await
        .unwrap();
    for prefix in ["BN", "MHN"] {
        let mut serials: Vec<u32> = rows
            .iter()
            .map(|c| lots_core::Reference::parse(&c.reference).unwrap())
            .filter(|r| r.prefix() == prefix)
            .map(|r| r.serial())
            .collect();
        serials.sort_unstable();
        assert_eq!(serials, (1..=50).collect::<Vec<u32>>(), "{prefix}");
    }
    assert_eq!(app.count("company").await, 3);
    // Each company keeps the first name it was registered with, whichever request that was.
    let companies = company::Entity::find().all(app.db.reader()).await.unwrap();
    for c in &companies {
        assert_eq!(c.name, format!("Samtidigt {}", c.org_number));
    }
    for case in &rows {
        let company = companies.iter().find(|c| c.id == case.company_id).unwrap();
        let i: usize = case.title["Samtidigt ".len()..].parse().unwrap();
        assert_eq!(company.org_number, orgs[i % 3], "{}", case.title);
    }
    let events = case_event::Entity::find()
        .all(app.db.reader())
        .await
        .unwrap();
    assert_eq!(events.len(), 100);
    for case in &rows {
        let created: Vec<_> = events.iter().filter(|e| e.case_id == case.id).collect();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].kind, "created");
        assert_eq!(created[0].data["reference"], case.reference);
    }
    let announced = outbox::Entity::find()
        .filter(outbox::Column::EventType.eq("case.created"))
        .all(app.db.reader())
        .await
        .unwrap();
    let mut announced: Vec<(Option<i64>, Option<i64>)> = announced
        .iter()
        .map(|o| (o.case_id, o.case_event_id))
        .collect();
    announced.sort_unstable();
    let mut expected: Vec<(Option<i64>, Option<i64>)> = events
        .iter()
        .map(|e| (Some(e.case_id), Some(e.id)))
        .collect();
    expected.sort_unstable();
    assert_eq!(announced, expected);
    // Written by the registrar, in at most as many transactions as cases (concurrent ones
    // share a commit), none rolled back; /metrics says so.
    let metrics = app.get("/metrics", None).await.text;
    let counter = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"))
            .parse()
            .unwrap()
    };
    assert_eq!(counter("lots_registrations_total"), 100);
    let transactions = counter("lots_registration_transactions_total");
    assert!((1..=100).contains(&transactions), "{transactions}");
    assert_eq!(counter("lots_registration_failed_batches_total"), 0);
}
