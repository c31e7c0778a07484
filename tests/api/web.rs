//! The web pages over HTTP, without a browser: the session cookie, CSRF, access, Swedish pages
//! and the register form's validation. (The browser test is in tests/browser.)

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_contains, csrf_of, spawn_app, spawn_app_as};

const USER_AGENT: &str = "Lots test browser";

/// A browser-like client of the pages: no redirects followed, cookies handled by hand.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Vec<String>,
    pub body: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .user_agent(USER_AGENT)
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookie: None,
        }
    }

    /// A new browser logged in as `username` through the login form.
    pub async fn logged_in(app: &TestApp, username: &str) -> Self {
        Self::with_csrf(app, username).await.0
    }

    /// A new browser logged in as `username`, and its session's CSRF token.
    pub async fn with_csrf(app: &TestApp, username: &str) -> (Self, String) {
        let mut b = Self::new(app);
        let csrf = b.login(username).await;
        (b, csrf)
    }

    /// The cookie the browser holds now (`name=value`).
    pub fn cookie(&self) -> Option<String> {
        self.cookie.clone()
    }

    /// Makes the browser send `cookie` (a copy of another browser's).
    pub fn set_cookie(&mut self, cookie: &str) {
        self.cookie = Some(cookie.to_string());
    }

    async fn read(&mut self, r: reqwest::Response) -> Page {
        let set_cookie: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookie {
            let pair = c.split(';').next().unwrap();
            self.cookie = Some(pair.to_string()).filter(|p| p.as_str() != "lots_session=");
        }
        Page {
            status: r.status(),
            location: r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            set_cookie,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Sends `req` with the browser's cookie, and reads the page.
    async fn send(&mut self, mut req: reqwest::RequestBuilder) -> Page {
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        self.read(r).await
    }

    /// Posts the login form with these credentials.
    pub async fn post_login(&mut self, csrf: &str, username: &str, password: &str) -> Page {
        self.post(
            "/logga-in",
            &[
                ("csrf", csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs in through the login form; returns the session's CSRF token.
    pub async fn login(&mut self, username: &str) -> String {
        let form = self.get("/logga-in").await;
        assert_eq!(form.status, 200);
        let csrf = csrf_of(&form.body);
        let r = self.post_login(&csrf, username, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = self.get("/arenden/sok").await;
        assert_eq!(page.status, 200, "{}", page.body);
        csrf_of(&page.body)
    }
}

#[tokio::test]
async fn logging_in_sets_an_http_only_strict_cookie_and_the_pages_are_swedish() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    // Not logged in: every page sends to the login page.
    let r = b.get("/arenden").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/logga-in"));

    let form = b.get("/logga-in").await;
    assert!(form.body.contains("<html lang=\"sv\">"));
    assert!(
        form.body
            .contains("<label for=\"username\">Användarnamn</label>")
    );
    let csrf = csrf_of(&form.body);
    // The stylesheet is embedded, fingerprinted and cached for long.
    let href = form
        .body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap();
    let href = href.split('"').next().unwrap();
    assert!(href.starts_with("/assets/lots.css?v="), "{href}");
    let css = reqwest::get(format!("{}{href}", app.base)).await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );

    // A wrong password: refused, in Swedish, and no logged-in session.
    let wrong = b.post_login(&csrf, "anna", "fel").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Fel användarnamn eller lösenord."));
    assert!(wrong.set_cookie.is_empty());
    assert_eq!(b.get("/arenden").await.status, StatusCode::SEE_OTHER);

    let ok = b.post_login(&csrf, "anna", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let cookie = ok.set_cookie.first().expect("a session cookie");
    assert!(cookie.starts_with("lots_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let anna = app.token("anna").await;
    let case = app
        .create_case(
            &anna,
            json!({"assignee": "anna", "title": "Tillbyggnad av kafé"}),
        )
        .await;
    let mine = b.get("/arenden").await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("<h1>Mina ärenden</h1>"));
    assert!(mine.body.contains("Tillbyggnad av kafé"));
    assert!(mine.body.contains(case["reference"].as_str().unwrap()));
    assert!(mine.body.contains("arbetsdagar kvar"), "a deadline badge");
    assert!(mine.body.contains("Hoppa till innehållet"));
    let page = b.get(&format!("/arenden/{}", case["id"])).await;
    assert_eq!(page.status, 200);
    for text in [
        "Händelser",
        "Registrerat",
        "Lagstadgad frist",
        "Ändra status",
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }

    // Logging out ends the session.
    let csrf = csrf_of(&page.body);
    let out = b.post("/logga-ut", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie[0].contains("Max-Age=0"));
    assert_eq!(b.get("/arenden").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_is_refused_and_changes_nothing() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let (mut b, csrf) = Browser::with_csrf(&app, "anna").await;
    let notes_before = app.count("case_note").await;
    let cases_before = app.count("case_record").await;
    let events_before = app.count("case_event").await;

    let path = format!("/arenden/{id}/anteckning");
    let none = b.post(&path, &[("text", "utan token")]).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    assert!(none.body.contains("Formuläret har gått ut"));
    let wrong = b
        .post(&path, &[("csrf", "not-the-token"), ("text", "fel token")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let reg = b
        .post(
            "/arenden/nytt",
            &[
                ("org_number", "556012-5790"),
                ("company_name", "Exempel AB"),
                ("area", "food_control"),
                ("title", "Utan token"),
            ],
        )
        .await;
    assert_eq!(reg.status, StatusCode::FORBIDDEN);
    let status = b
        .post(
            &format!("/arenden/{id}/status"),
            &[("csrf", ""), ("to", "in_progress")],
        )
        .await;
    assert_eq!(status.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("case_note").await, notes_before);
    assert_eq!(app.count("case_record").await, cases_before);
    assert_eq!(app.count("case_event").await, events_before);

    // Another user's token is no good either.
    let (_other, erik_csrf) = Browser::with_csrf(&app, "erik").await;
    assert_ne!(erik_csrf, csrf);
    let cross = b
        .post(&path, &[("csrf", &erik_csrf), ("text", "eriks token")])
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("case_note").await, notes_before);

    // The right token works.
    let ok = b
        .post(&path, &[("csrf", &csrf), ("text", "Ringde sökanden.")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(app.count("case_note").await, notes_before + 1);
    let page = b.get(&format!("/arenden/{id}")).await;
    assert!(page.body.contains("Ringde sökanden."));

    // A form login without the login page's token is refused too.
    let mut fresh = Browser::new(&app);
    let r = fresh
        .post("/logga-in", &[("username", "anna"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.set_cookie.is_empty());
}

#[tokio::test]
async fn an_officer_cannot_open_or_change_another_departments_case() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app
        .create_case(&anna, json!({"title": "Hemligt för MHF"}))
        .await;
    let id = case["id"].as_i64().unwrap();
    let (mut b, csrf) = Browser::with_csrf(&app, "omar").await;
    // The API says 404 for a case the caller may not see; so do the pages.
    let api = app
        .get(
            &format!("/api/v1/cases/{id}"),
            Some(&app.token("omar").await),
        )
        .await;
    assert_eq!(api.status, 404);
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("Hemligt för MHF"));
    assert!(page.body.contains("Hittades inte"));
    let events = app.count("case_event").await;
    let r = b
        .post(
            &format!("/arenden/{id}/status"),
            &[("csrf", &csrf), ("to", "in_progress")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("case_event").await, events);
    let search = b.get("/arenden/sok?q=Hemligt").await;
    assert!(!search.body.contains("Hemligt för MHF"));
    let junk = b.get("/arenden/inte-ett-id").await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);
    assert!(junk.body.contains("Hittades inte"));
    // Officers have no dashboard.
    assert_eq!(b.get("/oversikt").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_register_form_with_bad_input_keeps_the_values_names_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let (mut b, csrf) = Browser::with_csrf(&app, "anna").await;
    let before = app.count("case_record").await;
    let r = b
        .post(
            "/arenden/nytt",
            &[
                ("csrf", &csrf),
                ("org_number", "556012-5791"),
                ("company_name", "Söderby <Pizzeria> AB"),
                ("area", "building_permit"),
                ("title", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("case_record").await, before);
    assert!(r.body.contains("value=\"Söderby &lt;Pizzeria&gt; AB\""));
    assert!(r.body.contains("value=\"556012-5791\""));
    assert!(r.body.contains("id=\"f-org_number-error\""));
    assert!(
        r.body
            .contains("aria-describedby=\"f-org_number-hint f-org_number-error\"")
    );
    assert!(r.body.contains("Organisationsnumret stämmer inte"));
    assert!(r.body.contains("id=\"f-title-error\""));
    assert!(r.body.contains("Fältet måste fyllas i."));
    assert!(r.body.contains("role=\"alert\""));
    // The chosen area stays chosen.
    assert!(
        r.body
            .contains("<option value=\"building_permit\" selected>")
    );

    let bad_date = b
        .post(
            "/arenden/nytt",
            &[
                ("csrf", &csrf),
                ("org_number", "556012-5790"),
                ("company_name", "Exempel AB"),
                ("area", "food_control"),
                ("title", "Registrering av livsmedelsanläggning"),
                ("received_at", "igår"),
            ],
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.body.contains("id=\"f-received_at-error\""));
    assert_eq!(app.count("case_record").await, before);

    let ok = b
        .post(
            "/arenden/nytt",
            &[
                ("csrf", &csrf),
                ("org_number", "5560125790"),
                ("company_name", "Exempel AB"),
                ("area", "food_control"),
                ("title", "Registrering av livsmedelsanläggning"),
                ("received_at", "2026-01-12"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(app.count("case_record").await, before + 1);
    let location = ok.location.unwrap();
    let page = b.get(&location).await;
    assert!(page.body.contains("Ärendet är registrerat."));
    assert!(page.body.contains("12 jan. 2026"), "Swedish date");
    assert!(page.body.contains("Livsmedelskontroll"));
}

#[tokio::test]
async fn the_board_report_is_a_page_for_managers_with_its_workbook_behind_a_link() {
    let app = spawn_app().await;
    let mut b = Browser::logged_in(&app, "maria").await;
    let dash = b.get("/oversikt").await;
    assert!(dash.body.contains(r#"href="/oversikt/rapport""#));
    let page = b.get("/oversikt/rapport?year=2025").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "Rapport till nämnden 2025",
        "Nyckeltal 2025",
        "NKI över tid, 2023–2025",
        "Fristefterlevnad 2025",
        "Flaskhalsar mellan förvaltningar",
        "Jämfört med andra kommuner",
        "För få enkätsvar",
        r#"href="/api/v1/reports/board.xlsx?year=2025""#,
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }
    let xlsx = b.get("/api/v1/reports/board.xlsx?year=2025").await;
    assert_eq!(xlsx.status, 200, "the session cookie opens the download");
    let bad = b.get("/oversikt/rapport?year=tjugo").await;
    assert_eq!(bad.status, 422);
    assert_contains(&bad.body, "Ange ett år");
    let mut officer = Browser::logged_in(&app, "anna").await;
    assert_eq!(
        officer.get("/oversikt/rapport").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_session_cookie_opens_exports_but_no_api_change() {
    let app = spawn_app().await;
    let mut b = Browser::logged_in(&app, "maria").await;
    let dash = b.get("/oversikt").await;
    assert_eq!(dash.status, 200, "{}", dash.body);
    for text in [
        "Översikt",
        "Flaskhalsar",
        "NKI per myndighetsområde",
        "Fristefterlevnad",
        "Öppna ärenden efter ålder",
    ] {
        assert!(dash.body.contains(text), "{text} missing");
    }
    let csv = b.get("/api/v1/export/cases.csv").await;
    assert_eq!(csv.status, 200);
    let ocel = b.get("/api/v1/export/ocel").await;
    assert_eq!(ocel.status, 200);
    assert!(ocel.body.contains("objectTypes") || ocel.body.contains("object"));
    // The cookie never authorises a change through the API.
    let mut req = b.client.post(format!("{}/api/v1/cases", b.base)).json(
        &json!({"org_number": "556012-5790", "company_name": "X AB", "area": "other", "title": "Via kaka"}),
    );
    req = req.header("cookie", b.cookie.clone().unwrap());
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.count("case_record").await, 0);
}

#[tokio::test]
async fn the_other_department_accepts_and_completes_a_consultation_from_its_inbox() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app
        .create_case(&anna, json!({"title": "Ny restaurang"}))
        .await;
    let id = case["id"].as_i64().unwrap();
    let h = app
        .post_expecting(
            201,
            &format!("/api/v1/cases/{id}/handoffs"),
            Some(&anna),
            &json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande om ventilation önskas."}),
        )
        .await;
    let hid = h.body["id"].as_i64().unwrap();
    let omar_token = app.token("omar").await;

    let (mut b, csrf) = Browser::with_csrf(&app, "omar").await;
    let inbox = b.get("/overlamningar").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains("Yttrande om ventilation önskas."));
    assert!(inbox.body.contains(case["reference"].as_str().unwrap()));

    let r = act(&mut b, &csrf, hid, "acceptera", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(handoff(&app, &omar_token, hid).await["status"], "accepted");

    // A consultation is completed with an answer: without one, the inbox says so and nothing changes.
    let r = act(&mut b, &csrf, hid, "slutfor", &[("response", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Inget har ändrats."));
    assert!(r.body.contains("En remiss slutförs med ett svar."));
    assert_eq!(handoff(&app, &omar_token, hid).await["status"], "accepted");

    let r = act(
        &mut b,
        &csrf,
        hid,
        "slutfor",
        &[("response", "Inga synpunkter.")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = handoff(&app, &omar_token, hid).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["response"], "Inga synpunkter.");
    // The receiving officer still sees the case, with the whole history.
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Överlämning slutförd"));
    // Accepting twice is refused without a change.
    let again = act(&mut b, &csrf, hid, "acceptera", &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_public_base_url_is_https() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.public_base_url = Some("https://lots.example.se".into());
    })
    .await;
    let mut b = Browser::new(&app);
    let form = b.get("/logga-in").await;
    let cookie = form.set_cookie.first().expect("the login form's session");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

/// Posts the inbox's form for `action` on handoff `hid`: the CSRF token and `fields`.
async fn act(b: &mut Browser, csrf: &str, hid: i64, action: &str, fields: &[(&str, &str)]) -> Page {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    b.post(&format!("/overlamningar/{hid}/{action}"), &form)
        .await
}

async fn handoff(app: &TestApp, token: &str, id: i64) -> serde_json::Value {
    app.get(&format!("/api/v1/handoffs/{id}"), Some(token))
        .await
        .body
}

#[tokio::test]
async fn a_manager_reassigns_a_case_from_its_page_and_an_officer_may_not() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.create_case(&anna, json!({"assignee": "anna"})).await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/arenden/{id}/uppgifter");
    let assignee = |app: &TestApp| {
        let url = format!("/api/v1/cases/{id}");
        let token = anna.clone();
        let app = app.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{app}{url}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()["assignee"]
                .clone()
        }
    };

    let (mut officer, csrf) = Browser::with_csrf(&app, "anna").await;
    let title = case["title"].as_str().unwrap();
    let r = officer
        .post(
            &path,
            &[("csrf", &csrf), ("title", title), ("assignee", "erik")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Du har inte behörighet"));
    assert_eq!(assignee(&app).await, "anna");

    let (mut manager, csrf) = Browser::with_csrf(&app, "maria").await;
    let r = manager
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("title", title),
                ("assignee", "ingen-alls"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Det finns ingen sådan användare."));
    assert!(
        r.body.contains("value=\"ingen-alls\""),
        "the typed value is kept"
    );
    assert_eq!(assignee(&app).await, "anna");
    let r = manager
        .post(
            &path,
            &[("csrf", &csrf), ("title", title), ("assignee", "erik")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(assignee(&app).await, "erik");
}

/// The case page shows the case record as the API does: the owning department sees parties in
/// their roles and the property; another department in a consultation sees the personal number
/// masked.
#[tokio::test]
async fn the_case_page_shows_parties_and_premises_with_personal_data_masked_outside_the_owner() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app
        .create_case(&anna, json!({"title": "Restaurang Söderby"}))
        .await;
    let id = case["id"].as_i64().unwrap();
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/parties"),
        Some(&anna),
        &json!({"kind": "person", "personal_number": "811218-9876", "name": "Per Persson", "roles": ["agent"], "phone": "08-123 45"}),
    )
    .await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/premises"),
        Some(&anna),
        &json!({"property_designation": "Haninge Söderby 1:23", "sign_name": "Söderby Krog", "premises_type": "restaurant"}),
    )
    .await;
    let mut b = Browser::logged_in(&app, "anna").await;
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200);
    for text in [
        "Ärendeakt",
        "Per Persson",
        "19811218-9876",
        "Ombud",
        "08-123 45",
        "Haninge Söderby 1:23",
        "Söderby Krog",
    ] {
        assert!(page.body.contains(text), "{text} missing");
    }
    // MHF, consulted about the case, sees it without the personal data.
    let h = app
        .post_expecting(
            201,
            &format!("/api/v1/cases/{id}/handoffs"),
            Some(&anna),
            &json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande?"}),
        )
        .await;
    let omar = app.token("omar").await;
    let hid = h.body["id"].as_i64().unwrap();
    let accepted = app
        .post_empty(&format!("/api/v1/handoffs/{hid}/accept"), &omar)
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let mut other = Browser::logged_in(&app, "omar").await;
    let page = other.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Haninge Söderby 1:23"));
    assert!(!page.body.contains("19811218-9876"));
    assert!(!page.body.contains("Per Persson"));
    assert!(!page.body.contains("08-123 45"));
}

/// A GET of `path` carrying `cookie` (a copied session cookie), redirects not followed.
async fn get_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, Option<String>) {
    let r = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status(), location)
}

#[tokio::test]
async fn logging_out_ends_the_session_on_the_server_so_a_copied_cookie_stops_working() {
    let app = spawn_app().await;
    let (mut b, csrf) = Browser::with_csrf(&app, "anna").await;
    let copied = b.cookie.clone().expect("a session cookie");
    // The copy works while the session lives: a page and an API read.
    assert_eq!(get_with_cookie(&app, "/arenden", &copied).await.0, 200);
    assert_eq!(get_with_cookie(&app, "/api/v1/me", &copied).await.0, 200);

    assert_eq!(app.web_sessions_of("anna").await, 1);
    let out = b.post("/logga-ut", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.web_sessions_of("anna").await, 0);

    // The copy no longer opens anything: the page sends to the login form, the API says 401.
    let (status, location) = get_with_cookie(&app, "/arenden", &copied).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/logga-in"));
    let (status, _) = get_with_cookie(&app, "/api/v1/cases", &copied).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_with_cookie(&app, "/api/v1/me", &copied).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The secret inside a login cookie (`lots_session=<base64 payload>.<signature>`).
fn secret_of(cookie: &str) -> String {
    use base64::Engine;
    let value = cookie.strip_prefix("lots_session=").unwrap();
    let body = value.split('.').next().unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .unwrap();
    let payload = String::from_utf8(payload).unwrap();
    payload
        .strip_prefix("s|")
        .expect("a login cookie")
        .to_string()
}

#[tokio::test]
async fn deactivating_a_user_ends_their_web_session_at_once() {
    let app = spawn_app().await;
    let b = Browser::logged_in(&app, "erik").await;
    let cookie = b.cookie.clone().unwrap();
    assert_eq!(app.web_sessions_of("erik").await, 1);
    let admin = app.token("root").await;
    let id = app.user_row("erik").await.id;
    let r = app.patch_user(&admin, id, json!({"active": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.web_sessions_of("erik").await, 0);
    let (status, location) = get_with_cookie(&app, "/arenden", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/logga-in"));
    let (status, _) = get_with_cookie(&app, "/api/v1/me", &cookie).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_the_web_sessions_too() {
    let app = spawn_app().await;
    let mut b = Browser::logged_in(&app, "anna").await;
    let token = app.token("anna").await;
    app.post_expecting(
        204,
        "/api/v1/me/password",
        Some(&token),
        &json!({"old_password": PASSWORD, "new_password": "ett nytt och längre lösenord"}),
    )
    .await;
    assert_eq!(app.web_sessions_of("anna").await, 0);
    let page = b.get("/arenden").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/logga-in"));
}

#[tokio::test]
async fn an_admin_lists_a_users_web_sessions_without_their_secrets_and_ends_them_all() {
    let app = spawn_app().await;
    let mut first = Browser::logged_in(&app, "anna").await;
    let mut second = Browser::logged_in(&app, "anna").await;
    let mut other = Browser::logged_in(&app, "erik").await;
    let token = app.token("anna").await;
    let admin = app.token("root").await;
    let id = app.user_row("anna").await.id;
    let path = format!("/api/v1/users/{id}/sessions");

    let list = app.get(&path, Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", list.text);
    use lots_store::entity::web_session;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = web_session::Entity::find()
        .filter(web_session::Column::UserId.eq(id))
        .all(app.db.reader())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for item in items {
        let prefix = item["id"].as_str().unwrap();
        assert_eq!(prefix.len(), 12, "{prefix}");
        assert!(rows.iter().any(|r| r.id.starts_with(prefix)), "{prefix}");
        assert_eq!(item["user_agent"], USER_AGENT);
        let created = chrono::DateTime::parse_from_rfc3339(item["created_at"].as_str().unwrap());
        let expires = chrono::DateTime::parse_from_rfc3339(item["expires_at"].as_str().unwrap());
        assert_eq!((expires.unwrap() - created.unwrap()).num_hours(), 8);
    }
    // The cookie's secret is nowhere: not in the answer, not in the table (only its SHA-256).
    for cookie in [&first.cookie, &second.cookie] {
        let secret = secret_of(cookie.as_deref().unwrap());
        assert!(!list.text.contains(&secret));
        assert!(rows.iter().all(|r| r.id != secret && r.csrf != secret));
        assert!(rows.iter().all(|r| r.id.len() == 64));
    }

    let r = app.delete(&path, &admin).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.web_sessions_of("anna").await, 0);
    assert_eq!(app.web_sessions_of("erik").await, 1);
    assert_eq!(app.user_row("anna").await.token_version, 1);
    assert_eq!(app.user_row("erik").await.token_version, 0);
    for b in [&mut first, &mut second] {
        assert_eq!(b.get("/arenden").await.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(other.get("/arenden").await.status, 200);
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    let empty = app.get(&path, Some(&admin)).await;
    assert_eq!(empty.body, json!([]));
}

/// Markup typed into a case's title or company name is shown as text on every page that shows
/// it: the templates escape, nothing has to remember to.
#[tokio::test]
async fn markup_in_a_title_or_company_name_is_shown_escaped_on_every_page() {
    const SCRIPT: &str = "<script>alert(1)</script>";
    const BREAKOUT: &str = "\"><img src=x onerror=alert(1)>";
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app
        .create_case(
            &anna,
            json!({
                "assignee": "anna",
                "title": format!("Kafé {SCRIPT} {BREAKOUT}"),
                "company_name": format!("Pizzeria {SCRIPT} {BREAKOUT} AB"),
            }),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/handoffs"),
        Some(&anna),
        &json!({"to_department": "MHF", "kind": "consultation", "message": format!("Yttrande {SCRIPT}")}),
    )
    .await;

    let assert_escaped = |what: &str, body: &str, shows_company: bool| {
        assert!(!body.contains(SCRIPT), "{what}: raw <script> in\n{body}");
        assert!(!body.contains("<img src=x"), "{what}: raw <img> in\n{body}");
        assert!(
            !body.contains(BREAKOUT),
            "{what}: attribute breakout in\n{body}"
        );
        assert!(
            body.contains("Kafé &lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
            "{what}: the escaped title is missing in\n{body}"
        );
        if shows_company {
            assert!(
                body.contains("Pizzeria &lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt; AB"),
                "{what}: the escaped company name is missing in\n{body}"
            );
        }
    };

    let mut b = Browser::logged_in(&app, "anna").await;
    let page = b.get(&format!("/arenden/{id}")).await;
    assert_eq!(page.status, 200);
    assert_escaped("case page", &page.body, true);
    let mine = b.get("/arenden").await;
    assert_eq!(mine.status, 200);
    assert_escaped("Mina ärenden", &mine.body, true);
    let search = b.get("/arenden/sok?q=Kaf%C3%A9").await;
    assert_eq!(search.status, 200);
    assert_escaped("search", &search.body, true);
    let company = b.get("/foretag?org=556012-5790").await;
    assert_eq!(company.status, 200);
    assert_escaped("company view", &company.body, true);

    let mut omar = Browser::logged_in(&app, "omar").await;
    let inbox = omar.get("/overlamningar").await;
    assert_eq!(inbox.status, 200);
    assert_escaped("handoff inbox", &inbox.body, false);
    assert!(
        inbox
            .body
            .contains("Yttrande &lt;script&gt;alert(1)&lt;/script&gt;")
    );
}

/// `n` open cases assigned to anna, titled `{title} {i}`; those for which `overdue(i)` holds
/// are received in March (due in May: overdue now). Their ids, in order.
async fn annas_open_cases(
    app: &TestApp,
    anna: &str,
    n: usize,
    title: &str,
    overdue: impl Fn(usize) -> bool,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut case = json!({"title": format!("{title} {i}"), "assignee": "anna"});
        if overdue(i) {
            case["received_at"] = json!("2026-03-02T08:00:00Z");
        }
        ids.push(app.case_id(anna, case).await);
    }
    ids
}

/// The link to the next page of *Mina ärenden*, where the page has one.
fn next_page(body: &str) -> Option<String> {
    body.split("<a href=\"/arenden?cursor=")
        .nth(1)
        .map(|s| format!("/arenden?cursor={}", s.split('"').next().unwrap()))
        .map(|link| link.replace("&amp;", "&"))
}

/// *Mina ärenden* names every open case of the officer's that holds a message from the company
/// nobody has read, on every page: the one on the first page, one that only a later page lists,
/// and with a cursor past the last case; the counts hold on each; another officer's case with an
/// unread message is not among them.
#[tokio::test]
async fn mina_arenden_names_every_case_with_an_unread_message_wherever_it_is_listed() {
    let (app, [anna, erik]) = spawn_app_as(["anna", "erik"]).await;
    // The first is overdue: it opens the first page.
    let ids = annas_open_cases(&app, &anna, 60, "Olast", |i| i == 0).await;
    let eriks = app
        .case_id(&erik, json!({"title": "Eriks", "assignee": "erik"}))
        .await;
    let (first, last) = (ids[0], ids[59]);
    for (case, token) in [(first, &anna), (last, &anna), (eriks, &erik)] {
        let link = app
            .post(
                &format!("/api/v1/cases/{case}/follow-links"),
                Some(token),
                &json!({}),
            )
            .await;
        assert_eq!(link.status, 201, "{:?}", link.body);
        let sent = app
            .post(
                &format!(
                    "/api/v1/public/follow/{}/messages",
                    link.body["token"].as_str().unwrap()
                ),
                None,
                &json!({"text": "Har ni fått ritningen?"}),
            )
            .await;
        assert_eq!(sent.status, 201, "{:?}", sent.body);
    }
    let mut b = Browser::logged_in(&app, "anna").await;
    let banner = |body: &str| -> Vec<String> {
        let text = body
            .split("Olästa meddelanden från företag")
            .nth(1)
            .unwrap_or_default()
            .split("</p>")
            .next()
            .unwrap_or_default()
            .to_string();
        text.split("<a href=\"/arenden/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    let expected = vec![format!("{first}#messages-h"), format!("{last}#messages-h")];
    let page = b.get("/arenden").await;
    assert_eq!(page.status, 200);
    assert_contains(&page.body, "Du har 60 öppna ärenden, varav 1 försenade");
    assert_contains(&page.body, "Olästa meddelanden från företag (2 ärenden)");
    assert_eq!(banner(&page.body), expected, "soonest due first");
    // The first page's table of them holds the last case too, which its list does not.
    let waiting = page
        .body
        .split("Ärenden med olästa meddelanden")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert!(waiting.contains(&format!("href=\"/arenden/{last}\"")));
    assert!(waiting.contains(&format!("href=\"/arenden/{first}\"")));
    assert!(!page.body.contains("Eriks"));
    let next = next_page(&page.body).expect("a second page");
    let second = b.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_contains(&second.body, "Du har 60 öppna ärenden, varav 1 försenade");
    assert_eq!(banner(&second.body), expected);
    assert!(!second.body.contains("Ärenden med olästa meddelanden"));
    // A cursor past the last case (d1:-:999999999): no case listed, the counts still right.
    let past = b.get("/arenden?cursor=ZDE6LTo5OTk5OTk5OTk").await;
    assert_eq!(past.status, 200, "{}", past.body);
    assert_contains(&past.body, "Du har 60 öppna ärenden, varav 1 försenade");
    assert_eq!(banner(&past.body), expected);
    assert!(!past.body.contains("Olast 1<"));
}

/// *Mina ärenden* shows the officer's open cases 50 at a time, soonest due first, with the count
/// of them all; the next page continues where the last ended, every case once, and a cursor that
/// is not one of ours starts over.
#[tokio::test]
async fn mina_arenden_comes_a_page_at_a_time_and_counts_every_open_case() {
    let (app, [anna, erik]) = spawn_app_as(["anna", "erik"]).await;
    let ids = annas_open_cases(&app, &anna, 120, "Sida", |i| i % 17 == 0).await;
    let mut overdue: Vec<String> = ids.iter().step_by(17).map(i64::to_string).collect();
    assert_eq!(overdue.len(), 8);
    // Not anna's.
    app.create_case(&erik, json!({"title": "Eriks", "assignee": "erik"}))
        .await;
    let mut b = Browser::logged_in(&app, "anna").await;
    let rows = |body: &str| -> Vec<String> {
        body.split("<td><a href=\"/arenden/")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    };
    let mut seen = Vec::new();
    let mut page = b.get("/arenden").await;
    assert_eq!(page.status, 200);
    assert_contains(&page.body, "Du har 120 öppna ärenden, varav 8 försenade");
    // Soonest due first: the overdue ones open the first page.
    let mut first: Vec<String> = rows(&page.body)[..8].to_vec();
    first.sort();
    overdue.sort();
    assert_eq!(first, overdue);
    for expected in [50, 50, 20] {
        let ids = rows(&page.body);
        assert_eq!(ids.len(), expected, "{}", page.body);
        seen.extend(ids);
        match next_page(&page.body) {
            Some(link) => {
                assert!(page.body.contains("Nästa 50 ärenden"));
                page = b.get(&link).await;
                assert_eq!(page.status, 200, "{}", page.body);
                assert!(page.body.contains("Till första sidan"));
            }
            None => assert_eq!(expected, 20, "the last page has no next link"),
        }
    }
    assert!(!page.body.contains("Eriks"));
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 120, "every case once");
    let bad = b.get("/arenden?cursor=inte-en-markor").await;
    assert_eq!(bad.status, StatusCode::SEE_OTHER);
    assert_eq!(bad.location.as_deref(), Some("/arenden"));
}
