//! Who may sign in with a password (the break-glass policy), and your own sessions.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_contains, spawn_app, spawn_app_with};
use crate::web::Browser;

fn with_provider(c: &mut lots_api::Config) {
    // Configured, never contacted by these tests.
    c.oidc.officers = Some(
        toml::from_str(
            r#"
issuer = "http://127.0.0.1:9"
client_id = "lots"
client_secret = "secret"
[[map]]
group = "lots-admin"
role = "admin"
"#,
        )
        .unwrap(),
    );
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_for_all_but_the_break_glass_admin() {
    let app = spawn_app_with(with_provider).await;
    let root = app.token("root").await;
    let anna = app.token("anna").await;
    let policy = app.get("/api/v1/settings/sign-in", Some(&root)).await;
    assert_eq!(
        policy.body,
        json!({"local_login": true, "break_glass": null})
    );
    // Only an admin decides.
    let off = json!({"local_login": false, "break_glass": "root"});
    app.put("/api/v1/settings/sign-in", Some(&anna), &off)
        .await
        .problem(403);
    app.get("/api/v1/settings/sign-in", Some(&anna))
        .await
        .problem(403);
    // The break-glass account must be an active admin with a password; off needs one.
    for (body, field) in [
        (json!({"local_login": false}), "break_glass"),
        (
            json!({"local_login": false, "break_glass": "anna"}),
            "break_glass",
        ),
        (
            json!({"local_login": false, "break_glass": "nobody"}),
            "break_glass",
        ),
        (json!({"break_glass": "root"}), "local_login"),
    ] {
        let r = app
            .put("/api/v1/settings/sign-in", Some(&root), &body)
            .await;
        assert_eq!(r.invalid_fields(), [field], "{body}");
    }
    assert_eq!(
        app.count_where("setting", "key = 'sign_in_policy'").await,
        0
    );
    let r = app.put("/api/v1/settings/sign-in", Some(&root), &off).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, off);
    // Everyone else's password is refused before it is checked; the break-glass admin's works.
    let r = app.login("anna", PASSWORD).await;
    assert!(
        r.problem_detail(403).contains("identity provider"),
        "{}",
        r.text
    );
    app.login("anna", "a wrong password").await.problem(403);
    app.token("root").await;
    app.token(" root").await;
    // Tokens issued before keep working until they expire (turning passwords off is not a
    // revocation).
    assert_eq!(app.get("/api/v1/me", Some(&anna)).await.status, 200);
    // The page: the provider's button first, the form folded away for the break-glass admin.
    let mut b = Browser::new(&app);
    let page = b.get("/logga-in").await;
    assert_contains(&page.body, "Logga in med kommunens konto");
    assert_contains(&page.body, "Reservinloggning för administratör");
    let csrf = crate::helpers::csrf_of(&page.body);
    let r = b.post_login(&csrf, "anna", PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_contains(&r.body, "Inloggning med lösenord är avstängd");
    assert_eq!(app.web_sessions_of("anna").await, 0);
    b.login("root").await;
    // On again.
    let on = json!({"local_login": true});
    let r = app.put("/api/v1/settings/sign-in", Some(&root), &on).await;
    assert_eq!(r.body, json!({"local_login": true, "break_glass": null}));
    app.token("anna").await;
}

#[tokio::test]
async fn without_an_identity_provider_password_sign_in_cannot_be_turned_off() {
    let app = spawn_app().await;
    let root = app.token("root").await;
    let r = app
        .put(
            "/api/v1/settings/sign-in",
            Some(&root),
            &json!({"local_login": false, "break_glass": "root"}),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["local_login"]);
    app.token("anna").await;
    let page = Browser::new(&app).get("/logga-in").await;
    assert!(!page.body.contains("kommunens konto"));
}

#[tokio::test]
async fn you_can_list_and_end_your_own_sessions_but_not_anyone_elses() {
    let app = spawn_app().await;
    let mut first = Browser::logged_in(&app, "anna").await;
    let mut second = Browser::logged_in(&app, "anna").await;
    let mut eriks = Browser::logged_in(&app, "erik").await;
    let anna = app.token("anna").await;
    let erik = app.token("erik").await;
    let mine = app.get("/api/v1/me/sessions", Some(&anna)).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let list = mine.body.as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", mine.text);
    for s in list {
        let id = s["id"].as_str().unwrap();
        assert_eq!(id.len(), 12);
        assert_eq!(s["user_agent"], "Lots test browser");
    }
    // Newest first: the second browser's.
    let newest = list[0]["id"].as_str().unwrap().to_string();
    // Erik cannot end it; a malformed id is not found either.
    app.delete(&format!("/api/v1/me/sessions/{newest}"), &erik)
        .await
        .problem(404);
    app.delete("/api/v1/me/sessions/zz", &anna)
        .await
        .problem(404);
    assert_eq!(app.web_sessions_of("anna").await, 2);
    let r = app
        .delete(&format!("/api/v1/me/sessions/{newest}"), &anna)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.web_sessions_of("anna").await, 1);
    assert_eq!(second.get("/arenden").await.status, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/arenden").await.status, StatusCode::OK);
    assert_eq!(eriks.get("/arenden").await.status, StatusCode::OK);
    // Ended already: not found.
    app.delete(&format!("/api/v1/me/sessions/{newest}"), &anna)
        .await
        .problem(404);
}

#[tokio::test]
async fn an_admin_can_log_one_browser_of_a_user_out() {
    let app = spawn_app().await;
    let mut first = Browser::logged_in(&app, "anna").await;
    let mut second = Browser::logged_in(&app, "anna").await;
    let root = app.token("root").await;
    let anna = app.user_row("anna").await;
    let list = app
        .get(&format!("/api/v1/users/{}/sessions", anna.id), Some(&root))
        .await;
    let newest = list.body[0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/users/{}/sessions/{newest}", anna.id);
    let erik = app.token("erik").await;
    app.delete(&path, &erik).await.problem(403);
    let other = app.user_row("erik").await;
    app.delete(
        &format!("/api/v1/users/{}/sessions/{newest}", other.id),
        &root,
    )
    .await
    .problem(404);
    assert_eq!(app.delete(&path, &root).await.status, 204);
    assert_eq!(second.get("/arenden").await.status, StatusCode::SEE_OTHER);
    assert_eq!(first.get("/arenden").await.status, StatusCode::OK);
    // Her tokens go on working: one browser was ended, not the person.
    assert_eq!(
        app.get_status("/api/v1/me", Some(&app.token("anna").await))
            .await,
        200
    );
}
