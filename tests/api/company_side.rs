//! The company side: a representative's cases and what they see of them, follow links, and
//! every way one company could see another's case or an internal note, tried.

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, assert_contains, spawn_app, strings_of};

/// Kim: contact on Exempel AB's first case. Sara: signatory on Exempel AB's first case, so she
/// follows all of Exempel AB's cases. Other persons' data must never reach either.
const KIM: &str = "19811218-9876";
const SARA: &str = "19900101-2385";
const BO: &str = "19700101-1233";
const OTHER_PERSON: &str = "19850505-1238";

async fn get_as(app: &TestApp, path: &str, cookie: &str) -> (u16, Value, String) {
    let r = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

async fn party(app: &TestApp, token: &str, case: i64, body: Value) {
    let r = app
        .post(&format!("/api/v1/cases/{case}/parties"), Some(token), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn note(app: &TestApp, token: &str, case: i64, body: Value) {
    let r = app
        .post(&format!("/api/v1/cases/{case}/notes"), Some(token), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

struct World {
    app: TestApp,
    anna: String,
    first: i64,
    second: i64,
    other_company: i64,
    secret: i64,
}

impl World {
    /// Anna makes a follow link to `case`: the answer.
    async fn make_link(&self, case: i64) -> Reply {
        self.app
            .post(
                &format!("/api/v1/cases/{case}/follow-links"),
                Some(&self.anna),
                &json!({}),
            )
            .await
    }

    /// Anna makes a follow link to `case`: its token.
    async fn link_token(&self, case: i64) -> String {
        self.make_link(case).await.body["token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

async fn world() -> World {
    let app = spawn_app().await;
    let anna = app.token("anna").await;
    let first = app
        .case_id(&anna, json!({"title": "Uteservering på torget", "description": "Sökanden vill ha 40 platser."}))
        .await;
    let second = app
        .case_id(&anna, json!({"title": "Skylt på fasaden"}))
        .await;
    let other_company = app
        .case_id(
            &anna,
            json!({"org_number": "556677-8899", "company_name": "Annat Bolag AB", "title": "Annat bolags bygglov"}),
        )
        .await;
    let secret = app
        .case_id(
            &anna,
            json!({"title": "Skyddat ärende", "description": "Skyddad adress hos Per",
                "confidential": {"statute": "OSL 26 kap. 1 §"}}),
        )
        .await;
    party(&app, &anna, first, json!({"kind": "person", "personal_number": KIM, "name": "Kim Kontakt", "roles": ["contact"]})).await;
    party(&app, &anna, first, json!({"kind": "person", "personal_number": SARA, "name": "Sara Firmatecknare", "roles": ["signatory"]})).await;
    party(&app, &anna, first, json!({"kind": "person", "personal_number": OTHER_PERSON, "name": "Olle Granne", "roles": ["property_owner"], "email": "olle@example.se"})).await;
    party(&app, &anna, other_company, json!({"kind": "person", "personal_number": BO, "name": "Bo Annat", "roles": ["applicant"]})).await;
    party(&app, &anna, secret, json!({"kind": "person", "personal_number": KIM, "name": "Kim Kontakt", "roles": ["applicant"]})).await;
    note(
        &app,
        &anna,
        first,
        json!({"text": "Vi har tagit emot er ansökan.", "visibility": "public"}),
    )
    .await;
    note(
        &app,
        &anna,
        first,
        json!({"text": "Internt: ring miljö om bullret."}),
    )
    .await;
    note(&app, &anna, first, json!({"text": "Sekretess: grannen har klagat.", "confidential": {"statute": "OSL 26 kap. 1 §"}})).await;
    note(
        &app,
        &anna,
        secret,
        json!({"text": "Offentligt men i skyddat ärende.", "visibility": "public"}),
    )
    .await;
    World {
        app,
        anna,
        first,
        second,
        other_company,
        secret,
    }
}

fn ids(list: &Value) -> Vec<i64> {
    let mut v: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn a_representative_follows_their_cases_and_sees_only_what_the_company_may() {
    let w = world().await;
    let app = &w.app;
    let kim = app.representative_cookie(KIM, "Kim Kontakt").await;
    let sara = app.representative_cookie(SARA, "Sara Firmatecknare").await;
    let stranger = app.representative_cookie("19121212-1212", "Främling").await;

    // Kim is on the first case and the confidential one; Sara signs for Exempel AB, so she
    // follows every case of it (the confidential one too), never Annat Bolag's.
    let (status, list, _) = get_as(app, "/api/v1/public/my/cases", &kim).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), [w.first, w.secret]);
    let (_, list, _) = get_as(app, "/api/v1/public/my/cases", &sara).await;
    assert_eq!(ids(&list), [w.first, w.second, w.secret]);
    let (_, list, _) = get_as(app, "/api/v1/public/my/cases", &stranger).await;
    assert_eq!(ids(&list), Vec::<i64>::new());

    // The first case as Kim sees it: the public note only, no one else's personal data.
    let (status, view, text) =
        get_as(app, &format!("/api/v1/public/my/cases/{}", w.first), &kim).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(view["title"], "Uteservering på torget");
    assert_eq!(view["status"], "received");
    assert_eq!(view["company"]["org_number"], "556012-5790");
    let notes = strings_of(&view["notes"], "text");
    assert_eq!(notes, ["Vi har tagit emot er ansökan."]);
    for never in [
        "Internt",
        "Sekretess: grannen",
        OTHER_PERSON,
        "Olle Granne",
        "olle@example.se",
        SARA,
        "anna",
        "assignee",
    ] {
        assert!(!text.contains(never), "{never} in {text}");
    }
    // The confidential case: status and dates, nothing of its content.
    let (status, view, text) =
        get_as(app, &format!("/api/v1/public/my/cases/{}", w.secret), &kim).await;
    assert_eq!(status, 200);
    assert_eq!(view["confidential"], true);
    assert_eq!(view["title"], Value::Null);
    assert_eq!(view["description"], Value::Null);
    assert_eq!(view["notes"], json!([]));
    for never in [
        "Skyddat ärende",
        "Skyddad adress",
        "Offentligt men i skyddat",
    ] {
        assert!(!text.contains(never), "{never} in {text}");
    }
    // Anything else is not found: another company's case, one that does not exist, nonsense.
    for path in [
        format!("/api/v1/public/my/cases/{}", w.other_company),
        format!("/api/v1/public/my/cases/{}", w.second),
        "/api/v1/public/my/cases/999999".to_string(),
        "/api/v1/public/my/cases/x".to_string(),
    ] {
        let (status, _, text) = get_as(app, &path, &kim).await;
        assert_eq!(status, 404, "{path}: {text}");
    }
    // The pages say the same, in Swedish.
    let (status, _, page) = get_as(app, "/mina-arenden", &kim).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("19811218-****") && !page.contains("9876"),
        "{page}"
    );
    assert!(page.contains("Uteservering på torget") && page.contains("Ärende med sekretess"));
    assert!(!page.contains("Skylt på fasaden") && !page.contains("Annat bolags"));
    let (status, _, page) = get_as(app, &format!("/mina-arenden/{}", w.first), &kim).await;
    assert_eq!(status, 200);
    assert!(page.contains("Vi har tagit emot er ansökan.") && !page.contains("Internt"));
    assert!(page.contains("Inkommet – väntar på handläggning"));
    let (status, _, _) = get_as(app, &format!("/mina-arenden/{}", w.other_company), &kim).await;
    assert_eq!(status, 404);
    // Without a company login: 401 on the API, the sign-in offer (or 404 without a provider)
    // on the page; an officer's token opens nothing here.
    let (status, _, _) = get_as(app, "/api/v1/public/my/cases", "").await;
    assert_eq!(status, 401);
    let r = app.get("/api/v1/public/my/cases", Some(&w.anna)).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_follow_link_opens_one_case_until_it_is_revoked() {
    let w = world().await;
    let app = &w.app;
    let r = w.make_link(w.first).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    assert!(token.len() >= 43);
    assert_eq!(
        r.body["path"],
        format!("{}/folj/{token}", app.config.base_url())
    );
    let link = r.body["id"].as_i64().unwrap();
    // Only the hash is stored.
    assert_eq!(
        app.count_where("case_follow_link", &format!("token_hash = '{token}'"))
            .await,
        0
    );

    let (status, view, text) = get_as(app, &format!("/api/v1/public/follow/{token}"), "").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(view["id"], w.first);
    assert!(!text.contains("Internt") && !text.contains(OTHER_PERSON));
    let (status, _, page) = get_as(app, &format!("/folj/{token}"), "").await;
    assert_eq!(status, 200);
    assert!(page.contains("Uteservering på torget"), "{page}");
    // A guessed or altered token opens nothing.
    let mut altered = token.clone();
    altered.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    for bad in [altered.as_str(), "short", &"A".repeat(43)] {
        let (status, _, _) = get_as(app, &format!("/api/v1/public/follow/{bad}"), "").await;
        assert_eq!(status, 404, "{bad}");
    }
    // Only the owning department makes, lists and revokes links; the list never shows a token.
    let omar = app.token("omar").await;
    app.post(
        &format!("/api/v1/cases/{}/follow-links", w.first),
        Some(&omar),
        &json!({}),
    )
    .await
    .problem(404);
    let list = app
        .get(
            &format!("/api/v1/cases/{}/follow-links", w.first),
            Some(&w.anna),
        )
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(!list.text.contains(&token));
    app.delete(
        &format!("/api/v1/cases/{}/follow-links/{link}", w.first),
        &omar,
    )
    .await
    .problem(404);
    app.delete(
        &format!("/api/v1/cases/{}/follow-links/{link}", w.second),
        &w.anna,
    )
    .await
    .problem(404);
    let r = app
        .delete(
            &format!("/api/v1/cases/{}/follow-links/{link}", w.first),
            &w.anna,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let (status, _, _) = get_as(app, &format!("/api/v1/public/follow/{token}"), "").await;
    assert_eq!(status, 404);
    let (status, _, page) = get_as(app, &format!("/folj/{token}"), "").await;
    assert_eq!(status, 404);
    assert!(page.contains("återkallats"));
    // A confidential case's link shows status and dates only.
    let token = w.link_token(w.secret).await;
    let (_, view, text) = get_as(app, &format!("/api/v1/public/follow/{token}"), "").await;
    assert_eq!(view["title"], Value::Null);
    assert!(!text.contains("Skyddad adress") && !text.contains("Offentligt men i skyddat"));
}

async fn post_as(app: &TestApp, path: &str, cookie: &str, body: &Value) -> (u16, String) {
    let r = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn messages_go_both_ways_and_the_companys_unread_ones_come_first() {
    let w = world().await;
    let app = &w.app;
    let kim = app.representative_cookie(KIM, "Kim Kontakt").await;
    let r = app
        .patch_case(&w.anna, w.first, json!({"assignee": "anna"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The department writes; the company reads it on its side.
    let r = app
        .post(
            &format!("/api/v1/cases/{}/messages", w.first),
            Some(&w.anna),
            &json!({"text": "Har ni en situationsplan?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["direction"], "to_company");
    let (_, view, _) = get_as(app, &format!("/api/v1/public/my/cases/{}", w.first), &kim).await;
    assert_eq!(view["messages"][0]["text"], "Har ni en situationsplan?");
    assert_eq!(view["messages"][0]["direction"], "to_company");
    // The company answers: as JSON only (no other site's form can send one), with text.
    let path = format!("/api/v1/public/my/cases/{}/messages", w.first);
    let (status, text) = post_as(
        app,
        &path,
        &kim,
        &json!({"text": "Ja, den kommer i morgon."}),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let form = app
        .client
        .post(app.url(&path))
        .header("cookie", &kim)
        .form(&[("text", "från en annan webbplats")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let (status, _) = post_as(app, &path, &kim, &json!({"text": "  "})).await;
    assert_eq!(status, 422);
    let (status, _) = post_as(
        app,
        &format!("/api/v1/public/my/cases/{}/messages", w.other_company),
        &kim,
        &json!({"text": "hej"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(app.count("case_message").await, 2);
    // Through a follow link too; a revoked one writes nothing.
    let token = w.link_token(w.first).await;
    let (status, _) = post_as(
        app,
        &format!("/api/v1/public/follow/{token}/messages"),
        "",
        &json!({"text": "Och ritningen bifogas."}),
    )
    .await;
    assert_eq!(status, 201);
    let page_post = app
        .client
        .post(app.url(&format!("/folj/{token}/meddelanden")))
        .form(&[("text", "Från sidan.")])
        .send()
        .await
        .unwrap();
    assert!(
        page_post.url().path().starts_with("/folj/"),
        "{}",
        page_post.url()
    );
    assert_eq!(app.count("case_message").await, 4);
    // The officer's Mina ärenden puts the case with unread messages first, and says so.
    let mut b = crate::web::Browser::logged_in(app, "anna").await;
    let page = b.get("/arenden").await;
    assert_contains(&page.body, "Olästa meddelanden från företag (1 ärende)");
    // Another department cannot read them; reading them as the department marks them read.
    let omar = app.token("omar").await;
    app.get(&format!("/api/v1/cases/{}/messages", w.first), Some(&omar))
        .await
        .problem(404);
    let list = app
        .get(
            &format!("/api/v1/cases/{}/messages", w.first),
            Some(&w.anna),
        )
        .await;
    assert_eq!(list.status, 200);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[1]["sender"], "Kim Kontakt (e-legitimation)");
    assert_eq!(items[2]["sender"], "via följlänk");
    assert_eq!(
        app.count_where(
            "case_message",
            "direction = 'from_company' and read_at is null"
        )
        .await,
        0
    );
    let page = b.get("/arenden").await;
    assert!(!page.body.contains("Olästa meddelanden"));
    let page = b.get(&format!("/arenden/{}", w.first)).await;
    assert!(
        page.body.contains("Meddelanden med företaget")
            && page.body.contains("Ja, den kommer i morgon.")
    );
    // Each message is an event in the history.
    let kinds = crate::helpers::event_kinds(app, &w.anna, w.first).await;
    assert_eq!(kinds.iter().filter(|k| *k == "message_sent").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "message_received").count(), 3);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&w.app.db).await > 1);
}

async fn multipart_post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: reqwest::multipart::Form,
) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A multipart POST of one text part `name` = `value`.
async fn text_post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    name: &str,
    value: &str,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().text(name.to_string(), value.to_string());
    multipart_post(app, path, cookie, form).await
}

#[tokio::test]
async fn a_supplement_is_answered_online_and_the_case_goes_back_to_handling() {
    let w = world().await;
    let app = &w.app;
    assert_eq!(
        app.transition(&w.anna, w.first, json!({"to": "in_progress"}))
            .await
            .status,
        200
    );
    let r = app
        .post(
            &format!("/api/v1/cases/{}/supplement-requests", w.first),
            Some(&w.anna),
            &json!({"message": "Skicka en situationsplan."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = r.body["id"].as_i64().unwrap();
    let token = w.link_token(w.first).await;
    let (_, view, _) = get_as(app, &format!("/api/v1/public/follow/{token}"), "").await;
    assert_eq!(view["status"], "awaiting_supplement");
    assert_eq!(
        view["supplement_requests"][0]["message"],
        "Skicka en situationsplan."
    );
    assert!(
        view["expected_of_you"]
            .as_str()
            .unwrap()
            .contains("komplettering")
    );
    let (_, _, page) = get_as(app, &format!("/folj/{token}"), "").await;
    assert!(page.contains(&format!("/folj/{token}/kompletteringar/{request}")));

    let path = format!("/api/v1/public/follow/{token}/supplements/{request}");
    // Bad answers change nothing: a document that is not what its name says, an empty one, no
    // text, an unknown part.
    let lying = reqwest::multipart::Form::new()
        .text("text", "Här är planen.")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 ok".to_vec()).file_name("plan.pdf"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"GIF89a....".to_vec()).file_name("foto.png"),
        );
    let (status, body) = multipart_post(app, &path, "", lying).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "file");
    let empty = reqwest::multipart::Form::new()
        .text("text", "Här är planen.")
        .part(
            "file",
            reqwest::multipart::Part::bytes(Vec::new()).file_name("tom.pdf"),
        );
    let (status, _) = multipart_post(app, &path, "", empty).await;
    assert_eq!(status, 422);
    assert_eq!(app.count("case_attachment").await, 0);
    let (status, _) = text_post(app, &path, "", "text", "  ").await;
    assert_eq!(status, 422);
    let (status, body) = text_post(app, &path, "", "note", "x").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("note"))
    );
    assert_eq!(
        app.count_where("supplement_request", "received_at is not null")
            .await,
        0
    );
    // Another case's request, through this link: not found.
    let (status, _) = multipart_post(
        app,
        &format!("/api/v1/public/follow/{token}/supplements/999999"),
        "",
        reqwest::multipart::Form::new().text("text", "x"),
    )
    .await;
    assert_eq!(status, 404);

    // The answer: received, back in handling, the text kept as the company's message, the
    // document as an attachment the company sent.
    let answer = reqwest::multipart::Form::new()
        .text("text", "Planen skickas med e-post i dag.")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 situationsplan".to_vec())
                .file_name("situationsplan.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let (status, body) = multipart_post(app, &path, "", answer).await;
    assert_eq!(status, 201, "{body}");
    let documents = app
        .get(
            &format!("/api/v1/cases/{}/attachments", w.first),
            Some(&w.anna),
        )
        .await;
    assert_eq!(documents.status, 200, "{}", documents.text);
    let doc = &documents.body["items"].as_array().unwrap()[0];
    assert_eq!(doc["name"], "situationsplan.pdf");
    assert_eq!(doc["category"], "supplement");
    assert_eq!(doc["created_by"], Value::Null);
    assert_eq!(doc["sent_by"], "via följlänk");
    let (_, view, _) = get_as(app, &format!("/api/v1/public/follow/{token}"), "").await;
    assert_eq!(view["documents"][0]["name"], "situationsplan.pdf");
    assert!(body["received_at"].is_string());
    let case = app
        .get(&format!("/api/v1/cases/{}", w.first), Some(&w.anna))
        .await;
    assert_eq!(case.body["status"], "in_progress");
    assert_eq!(
        app.count_where(
            "supplement_request",
            "received_at is not null and received_by is null"
        )
        .await,
        1
    );
    let kinds = crate::helpers::event_kinds(app, &w.anna, w.first).await;
    assert!(
        kinds.ends_with(&[
            "message_received".into(),
            "supplement_received".into(),
            "status_changed".into(),
            "attachment_added".into()
        ]),
        "{kinds:?}"
    );
    let messages = app
        .get(
            &format!("/api/v1/cases/{}/messages", w.first),
            Some(&w.anna),
        )
        .await;
    assert_eq!(
        messages.body[0]["text"],
        "Komplettering: Planen skickas med e-post i dag."
    );
    // Once only.
    let (status, _) = text_post(app, &path, "", "text", "igen").await;
    assert_eq!(status, 409);
    let (_, _, page) = get_as(app, &format!("/folj/{token}"), "").await;
    assert!(!page.contains("/kompletteringar/"), "no form once received");
    // A signed-in representative has the same; another company's case is not found.
    let kim = app.representative_cookie(KIM, "Kim Kontakt").await;
    let mine = format!("/api/v1/public/my/cases/{}/supplements/{request}", w.first);
    let (status, _) = text_post(app, &mine, &kim, "text", "x").await;
    assert_eq!(status, 409);
    let theirs = format!(
        "/api/v1/public/my/cases/{}/supplements/{request}",
        w.other_company
    );
    let (status, _) = text_post(app, &theirs, &kim, "text", "x").await;
    assert_eq!(status, 404);
    let (status, _) = text_post(app, &mine, "", "text", "x").await;
    assert_eq!(status, 401);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&w.app.db).await > 1);
}

#[tokio::test]
async fn one_follow_link_cannot_flood_a_case() {
    let w = world().await;
    let app = &w.app;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        tokens.push(w.link_token(w.first).await);
    }
    let path = format!("/api/v1/public/follow/{}/messages", tokens[0]);
    for i in 0..lots_api::COMPANY_POSTS_PER_HOUR {
        let (status, text) = post_as(app, &path, "", &json!({"text": format!("nr {i}")})).await;
        assert_eq!(status, 201, "{text}");
    }
    let r = app
        .client
        .post(app.url(&path))
        .json(&json!({"text": "en till"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait));
    let messages = app.count("case_message").await;
    assert_eq!(messages, i64::from(lots_api::COMPANY_POSTS_PER_HOUR));
    // The page says so in Swedish, and another link is not held back.
    let page = app
        .client
        .post(app.url(&format!("/folj/{}/meddelanden", tokens[0])))
        .form(&[("text", "från sidan")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.text().await.unwrap().contains("Vänta en stund"));
    let other = format!("/api/v1/public/follow/{}/messages", tokens[1]);
    let (status, _) = post_as(app, &other, "", &json!({"text": "hej"})).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_company_pages_speak_english_when_asked() {
    let w = world().await;
    let app = &w.app;
    let token = w.link_token(w.first).await;
    let (status, _, sv) = get_as(app, &format!("/folj/{token}"), "").await;
    assert_eq!(status, 200);
    assert!(sv.contains("<html lang=\"sv\">") && sv.contains("Vad väntar vi på från er?"));
    assert!(
        sv.contains(&format!("href=\"/folj/{token}?lang=en\"")),
        "a link to English"
    );
    let (_, _, en) = get_as(app, &format!("/folj/{token}?lang=en"), "").await;
    assert!(en.contains("<html lang=\"en\">"), "{en}");
    for text in [
        "What do we need from you?",
        "Received – waiting to be handled",
        "Write to the case officer",
        "Notes from the municipality",
    ] {
        assert!(en.contains(text), "{text}");
    }
    assert!(!en.contains("Vad väntar vi"));
    // The form keeps the language, and so does the page it leads back to.
    assert!(en.contains(&format!("action=\"/folj/{token}/meddelanden?lang=en\"")));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&format!("/folj/{token}/meddelanden?lang=en")))
        .form(&[("text", "Hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("lang=en")
    );
    // The browser's preference decides when the address does not.
    let r = app
        .client
        .get(app.url(&format!("/folj/{token}")))
        .header("accept-language", "en-GB,en;q=0.9,sv;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html lang=\"en\">"));
    let (status, _, gone) = get_as(
        app,
        "/folj/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA?lang=en",
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert!(gone.contains("Case not found"));
}

#[tokio::test]
async fn an_officer_makes_and_revokes_follow_links_on_the_case_page() {
    let w = world().await;
    let app = &w.app;
    let (mut b, csrf) = crate::web::Browser::with_csrf(app, "anna").await;
    let page = b.get(&format!("/arenden/{}", w.first)).await;
    assert_contains(&page.body, "Skapa följlänk");
    let made = b
        .post(
            &format!("/arenden/{}/foljlank", w.first),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let url = crate::helpers::value_after(&made.body, "id=\"follow-url\" readonly value=\"");
    let token = url.rsplit('/').next().unwrap().to_string();
    let (status, _, _) = get_as(app, &format!("/folj/{token}"), "").await;
    assert_eq!(status, 200);
    // Another department's officer cannot make one; without the CSRF token nothing happens.
    let (mut omar, omar_csrf) = crate::web::Browser::with_csrf(app, "omar").await;
    let r = omar
        .post(
            &format!("/arenden/{}/foljlank", w.first),
            &[("csrf", &omar_csrf)],
        )
        .await;
    assert_eq!(r.status, 404);
    let r = b.post(&format!("/arenden/{}/foljlank", w.first), &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.count("case_follow_link").await, 1);
    // Revoked from the page: the link opens nothing.
    let link = app
        .count_where("case_follow_link", "revoked_at is null")
        .await;
    assert_eq!(link, 1);
    let id: i64 = app
        .get(
            &format!("/api/v1/cases/{}/follow-links", w.first),
            Some(&w.anna),
        )
        .await
        .body[0]["id"]
        .as_i64()
        .unwrap();
    let r = b
        .post(
            &format!("/arenden/{}/foljlank/{id}/aterkalla", w.first),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303);
    let (status, _, _) = get_as(app, &format!("/folj/{token}"), "").await;
    assert_eq!(status, 404);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&w.app.db).await > 1);
}
