//! E-services: the catalogue, an admin's forms as data, and applying through them as a company
//! would, with documents and mistakes, anonymously and signed in.

use reqwest::multipart::{Form, Part};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_contains, csrf_of, spawn_app, strings_of};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// Publishes shipped e-service `slug` by giving it department `department`.
async fn publish(app: &TestApp, slug: &str, department: &str) -> Value {
    let root = app.token("root").await;
    let all = app.get("/api/v1/e-services", Some(&root)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let s = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == slug)
        .unwrap()
        .clone();
    let body = json!({"area": s["area"], "case_type": s["case_type"], "department": department,
        "title": s["title"], "title_en": s["title_en"], "summary": s["summary"],
        "summary_en": s["summary_en"], "form": s["form"], "position": s["position"]});
    let r = app
        .put(&format!("/api/v1/e-services/{slug}"), Some(&root), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["published"], true);
    r.body
}

fn answers(form: Form, pairs: &[(&str, &str)]) -> Form {
    pairs
        .iter()
        .fold(form, |f, (k, v)| f.text(k.to_string(), v.to_string()))
}

/// A whole application for a building permit, with its two required drawings.
fn building_application() -> Form {
    answers(
        Form::new(),
        &[
            ("e_service", "bygglov"),
            ("org_number", "5560360793"),
            ("company_name", "Söderby Krog AB"),
            ("contact_name", "Anna Berg"),
            ("contact_email", "anna@soderbykrog.se"),
            ("contact_phone", "08-123 456 78"),
            ("property", "Haninge Söderby 1:23"),
            ("address", "Söderbyvägen 4, 136 91 Haninge"),
            ("measure", "extension"),
            ("floor_area", "42"),
            ("description", "Tillbyggnad av matsalen med en glasveranda."),
        ],
    )
    .part(
        "drawings",
        Part::bytes(PDF.to_vec()).file_name("ritning.pdf"),
    )
    .part(
        "site_plan",
        Part::bytes(PNG.to_vec()).file_name("situationsplan.png"),
    )
}

async fn apply(app: &TestApp, form: Form, cookie: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url("/api/v1/public/applications"))
        .multipart(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn fields_of(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every row an application writes, counted.
async fn written(app: &TestApp) -> [i64; 6] {
    [
        app.count("case_record").await,
        app.count("case_party").await,
        app.count("case_premises").await,
        app.count("case_attachment").await,
        app.count("case_follow_link").await,
        app.count("mail_outbox").await,
    ]
}

#[tokio::test]
async fn the_shipped_e_services_are_published_when_an_admin_gives_them_a_department() {
    let app = spawn_app().await;
    let public = app.get("/api/v1/public/e-services", None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body, json!([]), "none published yet");
    let root = app.token("root").await;
    let all = app.get("/api/v1/e-services", Some(&root)).await;
    let slugs = strings_of(&all.body, "slug");
    assert_eq!(
        slugs,
        [
            "bygglov",
            "livsmedelsanlaggning",
            "serveringstillstand",
            "miljofarlig-verksamhet",
            "brandfarlig-vara"
        ]
    );
    assert!(
        all.body
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["published"] == false)
    );
    let anna = app.token("anna").await;
    assert_eq!(app.get("/api/v1/e-services", Some(&anna)).await.status, 403);
    assert_eq!(
        app.get_status("/api/v1/public/e-services/bygglov", None)
            .await,
        404
    );

    publish(&app, "bygglov", "SBF").await;
    let public = app.get("/api/v1/public/e-services", None).await;
    let list = public.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let s = &list[0];
    assert_eq!(s["slug"], "bygglov");
    assert_eq!(s["area"], "building_permit");
    assert_eq!(s["case_type"], "permit");
    assert_eq!(s["department_name"], "Samhällsbyggnadsförvaltningen");
    let steps = s["form"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let first = &steps[0]["fields"][0];
    assert_eq!(first["name"], "org_number");
    assert_eq!(first["type"], "org_number");
    assert_eq!(first["required"], true);
    let measure = steps[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "measure")
        .unwrap();
    assert_eq!(measure["type"], "choice");
    assert_eq!(measure["options"][0]["value"], "new_building");
    let one = app.get("/api/v1/public/e-services/bygglov", None).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["form"], s["form"]);
}

#[tokio::test]
async fn an_admin_changes_a_form_without_a_release_and_a_bad_form_changes_nothing() {
    let app = spawn_app().await;
    let before = publish(&app, "bygglov", "SBF").await;
    let root = app.token("root").await;
    let mut form = before["form"].clone();
    // Without the contact's e-mail, with two fields of one name, of a wrong type for a field the
    // case takes, and a choice without options.
    let applicant = form["steps"][0]["fields"].as_array_mut().unwrap();
    applicant.retain(|f| f["name"] != "contact_email");
    applicant[1]["type"] = json!("email");
    let second = form["steps"][1]["fields"].as_array_mut().unwrap();
    second.push(json!({"name": "measure", "type": "text", "label": "Igen"}));
    second.push(json!({"name": "roof", "type": "choice", "label": "Tak"}));
    let bad =
        json!({"area": "building_permit", "department": "NOPE", "title": "Bygglov", "form": form});
    let r = app
        .put("/api/v1/e-services/bygglov", Some(&root), &bad)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let fields = fields_of(&r.body);
    for f in [
        "department",
        "form",
        "form.steps[0].fields[1].type",
        "form.steps[1].fields[5].name",
        "form.steps[1].fields[6].options",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let after = app.get("/api/v1/public/e-services/bygglov", None).await;
    assert_eq!(after.body["form"], before["form"], "nothing changed");

    // A new e-service with a one-step form; the catalogue shows it at once, and an officer may
    // not make one.
    let skylt = json!({"area": "building_permit", "case_type": "notification", "department": "SBF",
        "title": "Anmälan om skylt", "summary": "För skyltar och ljusanordningar.", "position": -1,
        "form": {"steps": [{"title": "Uppgifter", "fields": [
            {"name": "org_number", "type": "org_number", "label": "Organisationsnummer", "required": true},
            {"name": "company_name", "type": "text", "label": "Företag", "required": true},
            {"name": "contact_name", "type": "text", "label": "Kontaktperson", "required": true},
            {"name": "contact_email", "type": "email", "label": "E-post", "required": true},
            {"name": "lit", "type": "choice", "label": "Belyst", "required": true,
             "options": [{"value": "yes", "label": "Ja"}, {"value": "no", "label": "Nej"}]}]}]}});
    let anna = app.token("anna").await;
    let r = app
        .put("/api/v1/e-services/skylt", Some(&anna), &skylt)
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .put("/api/v1/e-services/skylt", Some(&root), &skylt)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let public = app.get("/api/v1/public/e-services", None).await;
    assert_eq!(public.body[0]["slug"], "skylt", "ordered by position");
    let r = app
        .put("/api/v1/e-services/Bad%20Slug", Some(&root), &skylt)
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(fields_of(&r.body), ["slug"]);
}

#[tokio::test]
async fn an_application_creates_the_case_with_its_parties_premises_documents_and_receipt() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let (status, body) = apply(&app, building_application(), None).await;
    assert_eq!(status, 201, "{body}");
    let reference = body["reference"].as_str().unwrap();
    assert!(reference.starts_with("BN "), "{reference}");
    assert_eq!(body["department"], "Samhällsbyggnadsförvaltningen");
    assert!(body["due_date"].is_string(), "the statutory clock started");
    let follow_url = body["follow_url"].as_str().unwrap();
    let token = follow_url.rsplit('/').next().unwrap();
    assert!(follow_url.starts_with(&format!(
        "{}/folj/",
        app.state.config.base_url().trim_end_matches('/')
    )));

    // The case, as the department sees it.
    let anna = app.token("anna").await;
    let list = app
        .get(
            &format!("/api/v1/cases?q={}", reference.replace(' ', "%20")),
            Some(&anna),
        )
        .await;
    let id = list.body["items"][0]["id"].as_i64().unwrap();
    let case = app.get(&format!("/api/v1/cases/{id}"), Some(&anna)).await;
    assert_eq!(case.body["channel"], "e-service");
    assert_eq!(case.body["status"], "received");
    assert_eq!(case.body["department"], "SBF");
    assert_eq!(case.body["case_type"], "permit");
    assert_eq!(case.body["title"], "Ansökan om bygglov");
    assert_eq!(
        case.body["description"],
        "Tillbyggnad av matsalen med en glasveranda."
    );
    let parties = app
        .get(&format!("/api/v1/cases/{id}/parties"), Some(&anna))
        .await;
    let parties = parties.body["items"].as_array().unwrap();
    assert_eq!(parties.len(), 2);
    let org = parties
        .iter()
        .find(|p| p["kind"] == "organisation")
        .unwrap();
    assert_eq!(org["org_number"], "556036-0793");
    assert_eq!(org["roles"], json!(["applicant"]));
    let person = parties.iter().find(|p| p["kind"] == "person").unwrap();
    assert_eq!(person["name"], "Anna Berg");
    assert_eq!(person["email"], "anna@soderbykrog.se");
    assert_eq!(person["roles"], json!(["contact"]));
    let premises = app
        .get(&format!("/api/v1/cases/{id}/premises"), Some(&anna))
        .await;
    assert_eq!(
        premises.body["items"][0]["property_designation"],
        "Haninge Söderby 1:23"
    );
    assert_eq!(premises.body["items"][0]["main"], true);
    let docs = app
        .get(&format!("/api/v1/cases/{id}/attachments"), Some(&anna))
        .await;
    let docs = docs.body["items"].as_array().unwrap();
    let names: Vec<&str> = docs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let drawing = docs.iter().find(|d| d["name"] == "ritning.pdf").unwrap();
    assert_eq!(drawing["category"], "drawing");
    assert_eq!(drawing["content_type"], "application/pdf");
    assert_eq!(drawing["sent_by"], "Anna Berg (via e-tjänst)");
    let answers = docs
        .iter()
        .find(|d| d["category"] == "application")
        .unwrap();
    let text = app
        .client
        .get(app.url(&format!(
            "/api/v1/cases/{id}/attachments/{}/content",
            answers["id"]
        )))
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("Diarienummer: {reference}")),
        "{text}"
    );
    assert!(
        text.contains("Åtgärd: Tillbyggnad"),
        "the choice by its label: {text}"
    );
    assert!(
        text.contains("Ritningar (plan, fasad, sektion): ritning.pdf"),
        "{text}"
    );

    // Every change is an event of the company's (no user of Lots made it).
    let events = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&anna))
        .await;
    let events = events.body["items"]
        .as_array()
        .or(events.body.as_array())
        .unwrap()
        .clone();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for (kind, n) in [
        ("created", 1),
        ("party_added", 2),
        ("premises_added", 1),
        ("attachment_added", 3),
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            n,
            "{kind} in {kinds:?}"
        );
    }
    assert!(events.iter().all(|e| e["actor"].is_null()), "{events:?}");

    // The receipt mail, to the contact, with the diarienummer and the follow link.
    let mail = app
        .query_one(&format!(
            "SELECT to_address, subject, body, kind FROM mail_outbox WHERE case_id = {id}"
        ))
        .await;
    assert_eq!(mail[0], "anna@soderbykrog.se");
    assert!(mail[1].contains(reference), "{mail:?}");
    assert!(mail[2].contains(&format!("/folj/{token}")), "{mail:?}");
    assert_eq!(mail[3], "receipt");

    // The follow link opens the case as the company sees it.
    let followed = app
        .get(&format!("/api/v1/public/follow/{token}"), None)
        .await;
    assert_eq!(followed.status, 200, "{}", followed.text);
    assert_eq!(followed.body["reference"], reference);
}

#[tokio::test]
async fn a_bad_application_names_every_field_and_creates_nothing() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let nothing = written(&app).await;

    let (status, body) = apply(&app, Form::new().text("org_number", "5560360793"), None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields_of(&body), ["e_service"]);
    let (status, body) = apply(
        &app,
        Form::new().text("e_service", "livsmedelsanlaggning"),
        None,
    )
    .await;
    assert_eq!(status, 422, "unpublished: {body}");
    assert_eq!(fields_of(&body), ["e_service"]);

    let mistakes = answers(
        Form::new(),
        &[
            ("e_service", "bygglov"),
            ("org_number", "556036-0794"),
            ("company_name", "Söderby Krog AB"),
            ("contact_name", ""),
            ("contact_email", "anna@"),
            ("property", "Söderby"),
            ("address", "Söderbyvägen 4, 136 91 Haninge"),
            ("measure", "demolition"),
            ("floor_area", "stor"),
            ("description", "Rivning"),
            ("is_admin", "true"),
        ],
    )
    .part(
        "drawings",
        Part::bytes(PDF.to_vec()).file_name("ritning.pdf"),
    );
    let (status, body) = apply(&app, mistakes, None).await;
    assert_eq!(status, 422, "{body}");
    let mut fields = fields_of(&body);
    fields.sort();
    assert_eq!(
        fields,
        [
            "contact_email",
            "contact_name",
            "floor_area",
            "is_admin",
            "measure",
            "org_number",
            "property",
            "site_plan"
        ]
    );

    // A document that is not what its name says is refused by its field.
    let lying = building_application().part(
        "other_documents",
        Part::bytes(b"GIF89a....".to_vec()).file_name("intyg.pdf"),
    );
    let (status, body) = apply(&app, lying, None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields_of(&body), ["other_documents"]);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("other_documents: "),
        "{body}"
    );

    // The robots' trap.
    let trapped = building_application().text("website", "http://spam.example");
    let (status, body) = apply(&app, trapped, None).await;
    assert_eq!(status, 422);
    assert_eq!(fields_of(&body), ["website"]);

    assert_eq!(written(&app).await, nothing, "nothing written");
    let tmp = app.state.config.attachments_path().join("tmp");
    let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no temporary file left in {}", tmp.display());
}

#[tokio::test]
async fn anonymous_applications_are_limited_per_address() {
    let app = spawn_app().await;
    for _ in 0..lots_api::routes::e_services::APPLICATIONS_PER_HOUR {
        let (status, _) = apply(&app, Form::new().text("e_service", "bygglov"), None).await;
        assert_eq!(status, 422);
    }
    let r = app
        .client
        .post(app.url("/api/v1/public/applications"))
        .multipart(building_application())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(app.count("case_record").await, 0);
}

#[tokio::test]
async fn a_signed_in_representative_applies_and_finds_the_case_among_theirs() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let cookie = app
        .representative_cookie("19811218-9876", "Kim Andersson")
        .await;
    let (status, body) = apply(&app, building_application(), Some(&cookie)).await;
    assert_eq!(status, 201, "{body}");
    let mine = app
        .client
        .get(app.url("/api/v1/public/my/cases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let mine: Value = mine.json().await.unwrap();
    let refs = strings_of(&mine["items"], "reference");
    assert_eq!(refs, [body["reference"].as_str().unwrap()]);
    let stored = app
        .query_one("SELECT personal_number, name FROM case_party WHERE kind = 'person'")
        .await;
    assert_eq!(stored[0], "19811218-9876");
}

/// A client that shows redirects instead of following them, and one page's answer.
struct Browser {
    client: reqwest::Client,
    cookie: String,
    /// A company representative's sign-in cookie, sent beside the draft's.
    signed_in: String,
}

impl Browser {
    fn new() -> Self {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
            signed_in: String::new(),
        }
    }

    fn cookies(&self) -> String {
        [self.cookie.as_str(), self.signed_in.as_str()]
            .iter()
            .filter(|c| !c.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            if let Some(v) = c.strip_prefix("lots_ansokan=") {
                let v = v.split(';').next().unwrap();
                self.cookie = format!("lots_ansokan={v}");
            }
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(app.url(path))
            .header("cookie", self.cookies())
            .send()
            .await
            .unwrap();
        self.remember(&r);
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(&mut self, app: &TestApp, path: &str, form: Form) -> (u16, String, String) {
        let r = self
            .client
            .post(app.url(path))
            .header("cookie", self.cookies())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.remember(&r);
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status().as_u16(), location, r.text().await.unwrap())
    }
}

#[tokio::test]
async fn the_pages_take_an_application_step_by_step_with_errors_beside_the_fields() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let mut b = Browser::new();
    let (status, page) = b.get(&app, "/e-tjanster").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Ansökan om bygglov") && page.contains("/e-tjanster/bygglov"),
        "{page}"
    );
    let (_, english) = b.get(&app, "/e-tjanster?lang=en").await;
    assert!(english.contains("Application for a building permit"));

    let (status, page) = b.get(&app, "/e-tjanster/bygglov").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Steg 1 av 3") && page.contains(r#"autocomplete="organization""#),
        "{page}"
    );
    assert_eq!(
        app.count("application_draft").await,
        0,
        "reading makes no draft"
    );

    // Step 1 with mistakes: the same step, each error beside its field, in Swedish.
    let step1 = |org: &str| {
        answers(
            Form::new(),
            &[
                ("steg", "1"),
                ("action", "next"),
                ("org_number", org),
                ("company_name", "Söderby Krog AB"),
                ("contact_name", "Anna Berg"),
                ("contact_email", "anna@soderbykrog.se"),
            ],
        )
    };
    let (status, _, page) = b.post(&app, "/e-tjanster/bygglov", step1("123")).await;
    assert_eq!(status, 422);
    assert!(b.cookie.starts_with("lots_ansokan="), "a draft cookie");
    assert_eq!(app.count("application_draft").await, 1);
    assert!(page.contains(r#"id="f-org_number-error""#), "{page}");
    assert!(
        page.contains("Ange ett giltigt organisationsnummer"),
        "{page}"
    );
    assert!(page.contains(r#"aria-invalid="true""#));
    assert!(page.contains("Söderby Krog AB"), "the answers stay");
    let (status, to, _) = b
        .post(&app, "/e-tjanster/bygglov", step1("5560360793"))
        .await;
    assert_eq!((status, to.as_str()), (303, "/e-tjanster/bygglov?steg=2"));

    let step2 = answers(
        Form::new(),
        &[
            ("steg", "2"),
            ("action", "next"),
            ("property", "Haninge Söderby 1:23"),
            ("address", "Söderbyvägen 4, 136 91 Haninge"),
            ("measure", "facade"),
            ("description", "Ny fasad."),
        ],
    );
    let (status, to, _) = b.post(&app, "/e-tjanster/bygglov", step2).await;
    assert_eq!((status, to.as_str()), (303, "/e-tjanster/bygglov?steg=3"));

    // Step 3: one drawing is missing; then both, and one removed and sent again.
    let only_one = Form::new().text("steg", "3").text("action", "next").part(
        "drawings",
        Part::bytes(PDF.to_vec()).file_name("ritning.pdf"),
    );
    let (status, _, page) = b.post(&app, "/e-tjanster/bygglov", only_one).await;
    assert_eq!(status, 422);
    assert!(
        page.contains(r#"id="f-site_plan-error""#) && page.contains("Bifogat: ritning.pdf"),
        "{page}"
    );
    let plan = Form::new()
        .text("steg", "3")
        .text("action", "next")
        .part("site_plan", Part::bytes(PNG.to_vec()).file_name("plan.png"));
    let (status, to, _) = b.post(&app, "/e-tjanster/bygglov", plan).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/e-tjanster/bygglov?steg=sammanfattning")
    );

    let (status, summary) = b.get(&app, "/e-tjanster/bygglov?steg=sammanfattning").await;
    assert_eq!(status, 200);
    for shown in ["556036-0793", "Fasadändring", "ritning.pdf", "plan.png"] {
        assert!(summary.contains(shown), "{shown} in {summary}");
    }
    assert_eq!(app.count("case_record").await, 0, "nothing sent yet");
    let send = Form::new()
        .text("steg", "sammanfattning")
        .text("action", "send")
        .text("website", "");
    let (status, _, receipt) = b.post(&app, "/e-tjanster/bygglov", send).await;
    assert_eq!(status, 200, "{receipt}");
    let reference = app
        .query_one("SELECT reference, channel FROM case_record")
        .await;
    assert!(receipt.contains(&reference[0]), "{receipt}");
    assert_eq!(reference[1], "e-service");
    assert!(receipt.contains("/folj/"), "the follow link");
    assert_eq!(app.count("case_attachment").await, 3);
    assert_eq!(app.count("application_draft").await, 0, "the draft is gone");

    // Sending again from the same page makes nothing: the draft went with the application.
    let again = Form::new()
        .text("steg", "sammanfattning")
        .text("action", "send");
    let (status, _, _) = b.post(&app, "/e-tjanster/bygglov", again).await;
    assert_eq!(status, 422);
    assert_eq!(app.count("case_record").await, 1);
}

#[tokio::test]
async fn managers_see_how_cases_come_in_by_channel() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let anna = app.token("anna").await;
    app.case_id(&anna, json!({"title": "Registrerad av handläggare"}))
        .await;
    let (status, _) = apply(&app, building_application(), None).await;
    assert_eq!(status, 201);

    let maria = app.token("maria").await;
    let r = app.get("/api/v1/metrics/channels", Some(&maria)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let share = r.body["share"].as_array().unwrap();
    assert_eq!(share.len(), 1, "{share:?}");
    assert_eq!(share[0]["area"], "building_permit");
    assert_eq!(share[0]["cases"], 2);
    assert_eq!(share[0]["e_service"], 1);
    assert_eq!(share[0]["share"], 0.5);
    let channels = strings_of(&r.body["times"], "channel");
    assert_eq!(channels, ["e-service", "officer"]);
    // Another department's manager sees none of SBF's cases; an officer has no metrics.
    let lars = app.token("lars").await;
    let other = app.get("/api/v1/metrics/channels", Some(&lars)).await;
    assert_eq!(other.body["share"], json!([]));
    assert_eq!(
        app.get_status("/api/v1/metrics/channels", Some(&anna))
            .await,
        403
    );
    // The other metrics group by channel too.
    let by = app
        .get(
            "/api/v1/metrics/handling-times?group_by=channel",
            Some(&maria),
        )
        .await;
    assert_eq!(by.status, 200, "{}", by.text);
    let bad = app
        .get("/api/v1/metrics/nki?group_by=colour", Some(&maria))
        .await;
    assert_eq!(bad.status, 422);

    // The managers' dashboard shows it.
    let mut b = crate::web::Browser::logged_in(&app, "maria").await;
    let dash = b.get("/oversikt").await;
    assert_contains(&dash.body, "Hur ärendena kommer in");
    assert!(dash.body.contains("50 %"));
    assert!(dash.body.contains("E-tjänst"));
}

#[tokio::test]
async fn a_signed_in_representatives_draft_follows_them_to_another_browser() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let kim = app
        .representative_cookie("19811218-9876", "Kim Andersson")
        .await;
    let mut first = Browser::new();
    first.signed_in = kim.clone();
    let (_, page) = first.get(&app, "/e-tjanster/bygglov").await;
    assert!(page.contains("inloggad med e-legitimation"), "{page}");
    let step1 = |csrf: Option<&str>| {
        let f = answers(
            Form::new(),
            &[
                ("steg", "1"),
                ("action", "next"),
                ("org_number", "5560360793"),
                ("company_name", "Kims Kafé AB"),
                ("contact_name", "Kim Andersson"),
                ("contact_email", "kim@kimskafe.se"),
            ],
        );
        match csrf {
            Some(c) => f.text("csrf", c.to_string()),
            None => f,
        }
    };
    // Without the page's CSRF token a signed-in post is refused and keeps nothing.
    let (status, _, _) = first.post(&app, "/e-tjanster/bygglov", step1(None)).await;
    assert_eq!(status, 403);
    assert_eq!(app.count("application_draft").await, 0);
    let (status, to, _) = first
        .post(&app, "/e-tjanster/bygglov", step1(Some(&csrf_of(&page))))
        .await;
    assert_eq!((status, to.as_str()), (303, "/e-tjanster/bygglov?steg=2"));

    // Another browser, signed in as Kim, without the first one's draft cookie.
    let mut second = Browser::new();
    second.signed_in = kim;
    let (_, page) = second.get(&app, "/e-tjanster/bygglov?steg=1").await;
    assert!(
        page.contains("Kims Kafé AB") && page.contains("556036-0793"),
        "{page}"
    );
    // Someone else, anonymous, sees an empty form.
    let (_, page) = Browser::new().get(&app, "/e-tjanster/bygglov?steg=1").await;
    assert!(!page.contains("Kims Kafé AB"));
}

/// The one draft's documents' SHA-256, from its row.
async fn drafted(app: &TestApp) -> Vec<String> {
    let files = app
        .query_one("SELECT CAST(files AS TEXT) FROM application_draft")
        .await;
    let files: Value = serde_json::from_str(&files[0]).unwrap();
    files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["sha256"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_document_taken_off_a_draft_or_left_in_a_forgotten_one_leaves_the_disk() {
    let app = spawn_app().await;
    publish(&app, "bygglov", "SBF").await;
    let blob = |sha: &str| {
        app.state
            .config
            .attachments_path()
            .join(&sha[..2])
            .join(sha)
    };
    let mut b = Browser::new();
    let drawing = |bytes: &'static [u8]| {
        Form::new().text("steg", "3").text("action", "next").part(
            "drawings",
            Part::bytes(bytes.to_vec()).file_name("ritning.pdf"),
        )
    };
    let (status, _, _) = b
        .post(
            &app,
            "/e-tjanster/bygglov",
            drawing(b"%PDF-1.4\nfirst draft\n"),
        )
        .await;
    assert_eq!(status, 422, "the site plan is missing");
    let first = drafted(&app).await;
    assert_eq!(first.len(), 1);
    assert!(blob(&first[0]).exists());
    let remove = Form::new().text("steg", "3").text("action", "remove:0");
    let (status, to, _) = b.post(&app, "/e-tjanster/bygglov", remove).await;
    assert_eq!((status, to.as_str()), (303, "/e-tjanster/bygglov?steg=3"));
    assert!(drafted(&app).await.is_empty());
    assert!(!blob(&first[0]).exists(), "taken off, its bytes went");

    let (status, _, _) = b
        .post(
            &app,
            "/e-tjanster/bygglov",
            drawing(b"%PDF-1.4\nleft behind\n"),
        )
        .await;
    assert_eq!(status, 422);
    let left = drafted(&app).await;
    // Not yet 30 days: nothing goes.
    assert_eq!(app.state.attachments.forget_old_drafts().await.unwrap(), 0);
    assert!(blob(&left[0]).exists());
    let old = (chrono::Utc::now() - chrono::Duration::days(31)).format("%Y-%m-%d %H:%M:%S+00:00");
    app.db
        .writer()
        .execute_unprepared(&format!(
            "UPDATE application_draft SET updated_at = '{old}'"
        ))
        .await
        .unwrap();
    assert_eq!(app.state.attachments.forget_old_drafts().await.unwrap(), 1);
    assert_eq!(app.count("application_draft").await, 0);
    assert!(!blob(&left[0]).exists(), "a forgotten draft's bytes went");
}
