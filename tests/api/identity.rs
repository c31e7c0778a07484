//! The caller check reads users and web sessions from memory (`lots_store::identity`): what
//! changes them must still refuse a token or a cookie at once, in the process that made the
//! change and, on PostgreSQL, in every other process on the same database.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_contains, spawn_app, spawn_second};
use crate::web::Browser;

const NEW_PASSWORD: &str = "en helt ny och lång lösenfras";

fn on_postgres(app: &TestApp) -> bool {
    app.config.database_url.starts_with("postgres")
}

/// Two `lots` processes on one database; none on SQLite, where a database file has one
/// `lots serve` (README) and there is nothing to tell another process.
async fn two_processes() -> Option<(TestApp, TestApp)> {
    let app = spawn_app().await;
    if !on_postgres(&app) {
        return None;
    }
    let second = spawn_second(&app, app.config.clone()).await;
    Some((app, second))
}

/// Waits up to two seconds for `path` to answer `status` to `token` on `app` (another process
/// hears of a change when PostgreSQL delivers its notification, a moment after the commit).
async fn answers_within(app: &TestApp, path: &str, token: &str, status: u16) -> u16 {
    let started = Instant::now();
    loop {
        let got = app.get(path, Some(token)).await.status.as_u16();
        if got == status || started.elapsed() > Duration::from_secs(2) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_name_changed_by_an_admin_shows_on_the_next_page_of_a_cached_session() {
    let app = spawn_app().await;
    let mut b = Browser::logged_in(&app, "anna").await;
    assert!(b.get("/arenden").await.body.contains("anna test"));
    let admin = app.token("root").await;
    let anna = app.user_row("anna").await.id;
    let r = app
        .patch_user(&admin, anna, json!({"display_name": "Anna Berg"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The name is not a reason to end the session; the page shows the new one at once.
    let page = b.get("/arenden").await;
    assert_eq!(page.status, 200);
    assert_contains(&page.body, "Anna Berg");
}

#[tokio::test]
async fn a_user_reactivated_by_an_admin_logs_in_again_at_once() {
    let app = spawn_app().await;
    let admin = app.token("root").await;
    let anna = app.user_row("anna").await.id;
    let token = app.token("anna").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    let off = app.patch_user(&admin, anna, json!({"active": false})).await;
    assert_eq!(off.status, 200, "{}", off.text);
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    let on = app.patch_user(&admin, anna, json!({"active": true})).await;
    assert_eq!(on.status, 200, "{}", on.text);
    // The old token stays refused (deactivating revoked it); a new login works at once.
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    let fresh = app.token("anna").await;
    assert_eq!(app.get("/api/v1/me", Some(&fresh)).await.status, 200);
}

#[tokio::test]
async fn a_password_changed_through_one_process_refuses_the_token_in_another() {
    let Some((app, second)) = two_processes().await else {
        return;
    };
    let token = app.token("anna").await;
    // The second process has checked (and keeps) anna's row.
    for _ in 0..3 {
        assert_eq!(second.get("/api/v1/me", Some(&token)).await.status, 200);
    }
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        answers_within(&second, "/api/v1/me", &token, 401).await,
        401
    );
}

#[tokio::test]
async fn a_cookie_logged_out_through_one_process_is_refused_by_another() {
    let Some((app, second)) = two_processes().await else {
        return;
    };
    let (mut b, csrf) = Browser::with_csrf(&app, "anna").await;
    let cookie = b.cookie().expect("a session cookie");
    // The same cookie opens a page on the second process (which now keeps the session).
    let mut copy = Browser::new(&second);
    copy.set_cookie(&cookie);
    assert_eq!(copy.get("/arenden").await.status, 200);
    let out = b.post("/logga-ut", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, reqwest::StatusCode::SEE_OTHER);
    let started = Instant::now();
    loop {
        let page = copy.get("/arenden").await;
        if page.status == reqwest::StatusCode::SEE_OTHER {
            assert_eq!(page.location.as_deref(), Some("/logga-in"));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the copied cookie still opens pages on the second process"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Case types are read from memory on every registration: one deactivated through one process
/// (or at a SQL prompt) is refused by another at once, on PostgreSQL, and one added is offered.
#[tokio::test]
async fn a_case_type_changed_through_one_process_is_seen_by_another_at_once() {
    use sea_orm::ConnectionTrait;
    let Some((app, second)) = two_processes().await else {
        return;
    };
    let anna = app.token("anna").await;
    let root = app.token("root").await;
    let register = |case_type: &'static str| {
        let second = &second;
        let anna = anna.clone();
        async move {
            let body = json!({"org_number": "556012-5790", "company_name": "Exempel AB",
                "area": "building_permit", "case_type": case_type, "title": "Solceller"});
            second.post("/api/v1/cases", Some(&anna), &body).await
        }
    };
    // The second process has read the case types (and keeps them).
    assert_eq!(register("permit").await.status, 201);
    let t = app.add_solar_panels_type(&root).await;
    let within = |case_type: &'static str, status: u16| async move {
        let started = Instant::now();
        loop {
            let got = register(case_type).await.status.as_u16();
            if got == status || started.elapsed() > Duration::from_secs(2) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_eq!(within("solar_panels", 201).await, 201);
    let off = app
        .patch(
            &format!("/api/v1/case-types/{}", t.body["id"]),
            Some(&root),
            &json!({"active": false}),
            None,
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(within("solar_panels", 422).await, 422);
    // A change made beside Lots reaches it too.
    app.db
        .writer()
        .execute_unprepared("UPDATE case_type SET active = false WHERE code = 'permit'")
        .await
        .unwrap();
    assert_eq!(within("permit", 422).await, 422);
}
