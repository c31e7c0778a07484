//! Logging in, tokens and who may do what with departments and users.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, Reply, TEST_SECRET, TestApp, assert_contains, spawn_app, spawn_app_as,
    spawn_app_with, spawn_second,
};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

#[tokio::test]
async fn login_returns_a_token_with_every_claim() {
    let app = spawn_app().await;
    let r = app.login("anna", crate::helpers::PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let claims = claims_of(r.body["access_token"].as_str().unwrap());
    assert_eq!(claims["role"], "officer");
    assert_eq!(claims["department"], "SBF");
    assert_eq!(claims["iss"], "lots");
    assert_eq!(claims["aud"], "lots-api");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["sub"].as_str().unwrap().parse::<i64>().is_ok());

    let me = app.get("/api/v1/me", r.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], "anna");
    assert_eq!(me.body["department"], "SBF");
    assert!(me.body.get("password_hash").is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_answer_alike() {
    let app = spawn_app().await;
    let wrong = app.login("anna", "not-the-password").await;
    let unknown = app.login("nobody", "not-the-password").await;
    wrong.problem(401);
    unknown.problem(401);
    assert_eq!(wrong.body, unknown.body);
    let missing = app.post("/api/v1/auth/token", None, &json!({})).await;
    assert_eq!(missing.invalid_fields(), ["username", "password"]);
}

async fn forged(app: &TestApp, header: Header, claims: Value, secret: &str) -> u16 {
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let r = app.get("/api/v1/me", Some(&token)).await;
    if r.status != 200 {
        r.problem(r.status.as_u16());
    }
    r.status.as_u16()
}

#[tokio::test]
async fn expired_tampered_unsigned_and_foreign_tokens_are_refused() {
    let app = spawn_app_with(TestApp::with_secret).await;
    let good = app.token("anna").await;
    let claims = claims_of(&good);
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let hs256 = Header::new(Algorithm::HS256);
    // The control: a token made the same way with the right claims is accepted.
    assert_eq!(
        forged(&app, hs256.clone(), claims.clone(), TEST_SECRET).await,
        200
    );
    let mut missing_exp = claims.clone();
    missing_exp.as_object_mut().unwrap().remove("exp");
    let (app_ref, header) = (&app, &hs256);
    let signed = move |claims: Value| forged(app_ref, header.clone(), claims, TEST_SECRET);
    for (why, claims) in [
        ("expired", with("exp", json!(now - 120))),
        ("audience", with("aud", json!("someone-else"))),
        ("issuer", with("iss", json!("evil"))),
        ("issued in the future", with("iat", json!(now + 3600))),
        // A token for a role the user does not have (signed correctly) is refused too.
        ("role changed", with("role", json!("admin"))),
        ("no exp", missing_exp),
    ] {
        assert_eq!(signed(claims).await, 401, "{why}");
    }
    let other_key = "another-secret-that-is-long-enough-000";
    assert_eq!(
        forged(&app, hs256.clone(), claims.clone(), other_key).await,
        401,
        "wrong key"
    );
    let hs512 = Header::new(Algorithm::HS512);
    assert_eq!(
        forged(&app, hs512, claims.clone(), TEST_SECRET).await,
        401,
        "wrong algorithm"
    );

    // Tampered: the payload says admin, the signature is the original one.
    let parts: Vec<&str> = good.split('.').collect();
    let evil = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&with("role", json!("admin"))).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], evil, parts[2]);
    app.get("/api/v1/me", Some(&tampered)).await.problem(401);
    // Unsigned: alg none.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    app.get("/api/v1/me", Some(&unsigned)).await.problem(401);
    // No token, a malformed header, garbage.
    app.get("/api/v1/me", None).await.problem(401);
    app.send(
        reqwest::Method::GET,
        "/api/v1/me",
        None,
        None,
        &[("authorization", "Basic YW5uYTp4")],
    )
    .await
    .problem(401);
    app.get("/api/v1/me", Some("not.a.token"))
        .await
        .problem(401);
}

#[tokio::test]
async fn a_deactivated_users_token_stops_working() {
    let (app, [token]) = spawn_app_as(["erik"]).await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    let erik = app.user_row("erik").await.id;
    let admin = app.token("root").await;
    let off = app.patch_user(&admin, erik, json!({"active": false})).await;
    assert_eq!(off.status, 200, "{}", off.text);
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    let login = app.login("erik", crate::helpers::PASSWORD).await;
    login.problem(401);
}

#[tokio::test]
async fn on_postgres_a_user_deactivated_with_sql_beside_lots_is_refused_at_once() {
    let app = spawn_app().await;
    if !app.config.database_url.starts_with("postgres") {
        // SQLite: change users through Lots while it runs (README).
        return;
    }
    let token = app.token("erik").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    use sea_orm::ConnectionTrait;
    app.db
        .writer()
        .execute_unprepared("UPDATE app_user SET active = false WHERE username = 'erik'")
        .await
        .unwrap();
    // The trigger's notification reaches the process a moment after the commit.
    let started = std::time::Instant::now();
    while app.get("/api/v1/me", Some(&token)).await.status == 200 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "still accepted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.get("/api/v1/me", Some(&token)).await.problem(401);
}

#[tokio::test]
async fn without_a_configured_secret_one_is_generated_once_and_shared() {
    let app = spawn_app().await;
    assert_eq!(app.count_where("setting", "key = 'jwt_secret'").await, 1);
    let token = app.token("anna").await;
    // A second process on the same database accepts the first one's tokens.
    let second = spawn_second(&app, app.config.clone()).await;
    assert_eq!(second.get("/api/v1/me", Some(&token)).await.status, 200);
    assert_eq!(app.count_where("setting", "key = 'jwt_secret'").await, 1);
}

#[tokio::test]
async fn only_admins_create_departments_and_users() {
    let (app, [officer, admin]) = spawn_app_as(["anna", "root"]).await;
    let dep = json!({"code": "KSF", "name": "Kommunstyrelseförvaltningen", "diary_prefix": "KS"});
    app.post("/api/v1/departments", Some(&officer), &dep)
        .await
        .problem(403);
    let created = app
        .post_expecting(201, "/api/v1/departments", Some(&admin), &dep)
        .await;
    assert_eq!(created.body["diary_prefix"], "KS");
    app.post("/api/v1/departments", Some(&admin), &dep)
        .await
        .problem(409);
    let bad = app
        .post(
            "/api/v1/departments",
            Some(&admin),
            &json!({"code": "k s", "diary_prefix": "ks1"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["code", "name", "diary_prefix"]);
    let list = app.get("/api/v1/departments", Some(&officer)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 4);

    let user = json!({"username": "kim", "display_name": "Kim Ek", "password": "long-enough-pw", "role": "officer", "department": "KSF"});
    app.post("/api/v1/users", Some(&officer), &user)
        .await
        .problem(403);
    app.get("/api/v1/users", Some(&officer)).await.problem(403);
    let made = app
        .post_expecting(201, "/api/v1/users", Some(&admin), &user)
        .await;
    assert_eq!(made.body["department"], "KSF");
    assert!(!made.text.contains("long-enough-pw") && !made.text.contains("argon2"));
    app.post("/api/v1/users", Some(&admin), &user)
        .await
        .problem(409);
    let bad = app
        .post_user(
            &admin,
            json!({"username": "X", "password": "short", "role": "boss"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["username", "password", "role"]);
    let no_dep = app
        .post_user(
            &admin,
            json!({"username": "lisa", "password": "long-enough-pw", "role": "manager"}),
        )
        .await;
    assert_eq!(no_dep.invalid_fields(), ["department"]);
    let kim = app.login("kim", "long-enough-pw").await;
    assert_eq!(
        claims_of(kim.body["access_token"].as_str().unwrap())["department"],
        "KSF"
    );
    let users = app.get("/api/v1/users", Some(&admin)).await;
    assert!(
        users
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u.get("password_hash").is_none())
    );
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_username_for_a_while() {
    let app = spawn_app().await;
    for _ in 0..10 {
        app.login("erik", "guess-guess").await.problem(401);
    }
    // Locked: even the right password is refused now, with the time to wait.
    let locked = app.login("erik", crate::helpers::PASSWORD).await;
    locked.problem(429);
    assert!(
        locked
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // An unknown name locks the same way, so the lock reveals nothing; other users log in.
    for _ in 0..10 {
        app.login("nobody", "guess-guess").await;
    }
    app.login("nobody", "x").await.problem(429);
    assert_eq!(
        app.login("anna", crate::helpers::PASSWORD).await.status,
        200
    );
}

const NEW_PASSWORD: &str = "ett nytt och längre lösenord";

async fn change_password(app: &TestApp, token: &str, old: &str, new: &str) -> Reply {
    app.post(
        "/api/v1/me/password",
        Some(token),
        &json!({"old_password": old, "new_password": new}),
    )
    .await
}

#[tokio::test]
async fn a_password_change_revokes_earlier_tokens_and_only_the_new_password_logs_in() {
    let (app, [first, second]) = spawn_app_as(["anna", "anna"]).await;
    assert_eq!(claims_of(&first)["ver"], 0);
    let r = change_password(&app, &first, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    // Every token issued before, the one that changed the password too, is refused.
    for token in [&first, &second] {
        let me = app.get("/api/v1/me", Some(token)).await;
        let detail = me.problem_detail(401).to_string();
        assert!(detail.contains("log in again"), "{detail}");
    }
    app.login("anna", PASSWORD).await.problem(401);
    let after = app.login("anna", NEW_PASSWORD).await;
    assert_eq!(after.status, 200, "{}", after.text);
    let token = after.body["access_token"].as_str().unwrap();
    assert_eq!(claims_of(token)["ver"], 1);
    assert_eq!(
        app.get("/api/v1/me", Some(token)).await.body["username"],
        "anna"
    );
    // The stored row: a new argon2id hash (never the password itself), the version bumped;
    // nobody else's changed.
    let row = app.user_row("anna").await;
    assert_eq!(row.token_version, 1);
    assert!(row.password_hash.starts_with("$argon2id$"));
    assert!(!row.password_hash.contains(NEW_PASSWORD));
    assert_eq!(app.user_row("erik").await.token_version, 0);
    assert_eq!(
        app.get_status("/api/v1/me", Some(&app.token("erik").await))
            .await,
        200
    );
}

#[tokio::test]
async fn a_token_without_a_version_counts_as_version_0_until_the_user_is_revoked() {
    let app = spawn_app_with(TestApp::with_secret).await;
    let mut claims = claims_of(&app.token("erik").await);
    claims.as_object_mut().unwrap().remove("ver");
    let old = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&old)).await.status, 200);
    let admin = app.token("root").await;
    let id = app.user_row("erik").await.id;
    let r = app
        .delete(&format!("/api/v1/users/{id}/sessions"), &admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/api/v1/me", Some(&old)).await.problem(401);
    assert_eq!(app.user_row("erik").await.token_version, 1);
    // A forged token claiming the new version is still refused: the signature covers `ver`.
    let mut bumped = claims_of(&old);
    bumped["ver"] = json!(1);
    let parts: Vec<&str> = old.split('.').collect();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&bumped).unwrap());
    app.get(
        "/api/v1/me",
        Some(&format!("{}.{payload}.{}", parts[0], parts[2])),
    )
    .await
    .problem(401);
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login() {
    let (app, [token]) = spawn_app_as(["erik"]).await;
    let hash_before = app.user_row("erik").await.password_hash;
    let wrong = change_password(&app, &token, "not-my-password", NEW_PASSWORD).await;
    assert_eq!(wrong.invalid_fields(), ["old_password"]);
    assert_eq!(
        wrong.body["errors"][0]["message"],
        "is not your current password"
    );
    let missing = app
        .post("/api/v1/me/password", Some(&token), &json!({}))
        .await;
    assert_eq!(missing.invalid_fields(), ["old_password", "new_password"]);
    let same = change_password(&app, &token, PASSWORD, PASSWORD).await;
    assert_eq!(same.invalid_fields(), ["new_password"]);
    assert_contains(&same.text, "must differ");
    let row = app.user_row("erik").await;
    assert_eq!((row.password_hash, row.token_version), (hash_before, 0));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    // Ten wrong guesses lock the username, for logins and password changes alike, even with
    // the right password: the endpoint is no free guessing oracle.
    for _ in 0..9 {
        change_password(&app, &token, "guess-guess-guess", NEW_PASSWORD)
            .await
            .problem(422);
    }
    let locked = change_password(&app, &token, PASSWORD, NEW_PASSWORD).await;
    locked.problem(429);
    assert!(locked.header("retry-after").is_some());
    app.login("erik", PASSWORD).await.problem(429);
    assert_eq!(app.user_row("erik").await.token_version, 0);
    // Other users are not locked.
    assert_eq!(app.login("anna", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn the_password_policy_refuses_short_long_common_and_username_passwords_everywhere() {
    let (app, [admin, anna]) = spawn_app_as(["root", "anna"]).await;
    let anna_id = app.user_row("anna").await.id;
    let too_long = "x".repeat(1025);
    let refused = [
        ("elva tecken", "must be at least 12 characters"),
        ("Password1234", "most common passwords"),
        ("qwerty123456", "most common passwords"),
        ("LÖSENORD123456", "most common passwords"),
        (too_long.as_str(), "must be at most 1024 bytes"),
    ];
    for (pw, reason) in refused {
        let create = app
            .post_user(
                &admin,
                json!({"username": "kim", "password": pw, "role": "admin"}),
            )
            .await;
        assert_eq!(create.invalid_fields(), ["password"], "{pw}");
        let message = create.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{pw}: {message}");
        let patch = app
            .patch_user(&admin, anna_id, json!({"password": pw}))
            .await;
        assert_eq!(patch.invalid_fields(), ["password"], "{pw}");
        assert_contains(&patch.text, reason);
        let own = change_password(&app, &anna, PASSWORD, pw).await;
        assert_eq!(own.invalid_fields(), ["new_password"], "{pw}");
        assert_contains(&own.text, reason);
    }
    // The username, in any case, on every path.
    let as_name = app
        .post_user(
            &admin,
            json!({"username": "lindqvist.anna", "password": "Lindqvist.Anna", "role": "admin"}),
        )
        .await;
    assert_eq!(as_name.invalid_fields(), ["password"]);
    assert!(as_name.text.contains("must not be the username"));
    // Nothing was stored: no new user, anna's password and version unchanged.
    assert_eq!(
        app.count_where("app_user", "username IN ('kim', 'lindqvist.anna')")
            .await,
        0
    );
    assert_eq!(app.user_row("anna").await.token_version, 0);
    assert_eq!(app.get("/api/v1/me", Some(&anna)).await.status, 200);
    // A long passphrase passes; its owner cannot change it to their username either.
    let made = app
        .post_expecting(
            201,
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "lindqvist.anna", "password": NEW_PASSWORD, "role": "admin"}),
        )
        .await;
    let lindqvist = app.login("lindqvist.anna", NEW_PASSWORD).await;
    let own = change_password(
        &app,
        lindqvist.body["access_token"].as_str().unwrap(),
        NEW_PASSWORD,
        "LINDQVIST.ANNA",
    )
    .await;
    assert_eq!(own.invalid_fields(), ["new_password"]);
    assert!(own.text.contains("must not be the username"));
    let by_admin = app
        .patch_user(
            &admin,
            made.body["id"].as_i64().unwrap(),
            json!({"password": "lindqvist.anna"}),
        )
        .await;
    assert_eq!(by_admin.invalid_fields(), ["password"]);
}

#[tokio::test]
async fn only_admins_change_users_and_end_their_sessions() {
    let app = spawn_app().await;
    let erik_id = app.user_row("erik").await.id;
    let anna_id = app.user_row("anna").await.id;
    for who in ["anna", "maria"] {
        let token = app.token(who).await;
        app.patch_user(&token, erik_id, json!({"active": false}))
            .await
            .problem(403);
        app.get(&format!("/api/v1/users/{erik_id}/sessions"), Some(&token))
            .await
            .problem(403);
        app.delete(&format!("/api/v1/users/{erik_id}/sessions"), &token)
            .await
            .problem(403);
        // Not on themselves either: nobody makes themselves admin.
        app.patch_user(&token, anna_id, json!({"role": "admin"}))
            .await
            .problem(403);
    }
    let erik = app.user_row("erik").await;
    assert!(erik.active);
    assert_eq!(erik.token_version, 0);
    assert_eq!(app.user_row("anna").await.role, "officer");
    // An admin asking about a user who does not exist gets 404.
    let admin = app.token("root").await;
    for path in ["/api/v1/users/999999", "/api/v1/users/abc"] {
        app.patch(path, Some(&admin), &json!({"active": false}), None)
            .await
            .problem(404);
        app.get(&format!("{path}/sessions"), Some(&admin))
            .await
            .problem(404);
        app.delete(&format!("{path}/sessions"), &admin)
            .await
            .problem(404);
    }
}

#[tokio::test]
async fn an_admin_patch_changes_a_user_and_ends_their_logins_when_it_must() {
    let (app, [admin, erik]) = spawn_app_as(["root", "erik"]).await;
    let id = app.user_row("erik").await.id;
    // A new display name ends nothing.
    let r = app
        .patch_user(&admin, id, json!({"display_name": "Erik Ek"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "Erik Ek");
    assert_eq!(r.body["active"], true);
    assert_eq!(
        app.get("/api/v1/me", Some(&erik)).await.body["display_name"],
        "Erik Ek"
    );
    assert_eq!(app.user_row("erik").await.token_version, 0);

    // Deactivating ends his token at once, and he cannot log in.
    let r = app.patch_user(&admin, id, json!({"active": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], false);
    app.get("/api/v1/me", Some(&erik)).await.problem(401);
    app.login("erik", PASSWORD).await.problem(401);
    let row = app.user_row("erik").await;
    assert_eq!((row.active, row.token_version), (false, 1));

    // Reactivated, he logs in again; a move to another department ends that token too.
    let r = app.patch_user(&admin, id, json!({"active": true})).await;
    assert_eq!(r.body["active"], true);
    let erik = app.token("erik").await;
    let r = app
        .patch_user(&admin, id, json!({"department": "MHF"}))
        .await;
    assert_eq!(r.body["department"], "MHF", "{}", r.text);
    app.get("/api/v1/me", Some(&erik)).await.problem(401);
    assert_eq!(app.user_row("erik").await.token_version, 2);

    // A new password from the admin: the old one stops working, the new one logs in.
    let r = app
        .patch_user(&admin, id, json!({"password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(NEW_PASSWORD) && !r.text.contains("argon2"));
    app.login("erik", PASSWORD).await.problem(401);
    let new = app.login("erik", NEW_PASSWORD).await;
    assert_eq!(
        claims_of(new.body["access_token"].as_str().unwrap())["ver"],
        3
    );
    let row = app.user_row("erik").await;
    assert!(row.password_hash.starts_with("$argon2id$"));
    assert!(!row.password_hash.contains(NEW_PASSWORD));

    // Invalid changes name their field and change nothing.
    let r = app
        .patch_user(&admin, id, json!({"department": null}))
        .await;
    assert_eq!(r.invalid_fields(), ["department"]);
    let r = app
        .patch_user(&admin, id, json!({"role": "boss", "department": "XYZ"}))
        .await;
    assert_eq!(r.invalid_fields(), ["role", "department"]);
    // An admin cannot deactivate themselves (and so lock everyone out).
    let root = app.user_row("root").await.id;
    let r = app.patch_user(&admin, root, json!({"active": false})).await;
    assert_eq!(r.invalid_fields(), ["active"]);
    assert_eq!(app.get("/api/v1/me", Some(&admin)).await.status, 200);
    let row = app.user_row("erik").await;
    assert_eq!(
        (row.role.as_str(), row.token_version, row.active),
        ("officer", 3, true)
    );
}
