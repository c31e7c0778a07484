//! Logging in, tokens and who may do what with departments and users.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, spawn_app, spawn_app_with, spawn_second};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

#[tokio::test]
async fn login_returns_a_token_with_every_claim() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "anna", "password": crate::helpers::PASSWORD}),
        )
        .await;
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
    let wrong = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "anna", "password": "not-the-password"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "nobody", "password": "not-the-password"}),
        )
        .await;
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
    assert_eq!(
        forged(
            &app,
            hs256.clone(),
            with("exp", json!(now - 120)),
            TEST_SECRET
        )
        .await,
        401,
        "expired"
    );
    assert_eq!(
        forged(
            &app,
            hs256.clone(),
            with("aud", json!("someone-else")),
            TEST_SECRET
        )
        .await,
        401,
        "audience"
    );
    assert_eq!(
        forged(&app, hs256.clone(), with("iss", json!("evil")), TEST_SECRET).await,
        401,
        "issuer"
    );
    assert_eq!(
        forged(
            &app,
            hs256.clone(),
            with("iat", json!(now + 3600)),
            TEST_SECRET
        )
        .await,
        401,
        "issued in the future"
    );
    assert_eq!(
        forged(
            &app,
            hs256.clone(),
            claims.clone(),
            "another-secret-that-is-long-enough-000"
        )
        .await,
        401,
        "wrong key"
    );
    assert_eq!(
        forged(
            &app,
            Header::new(Algorithm::HS512),
            claims.clone(),
            TEST_SECRET
        )
        .await,
        401,
        "wrong algorithm"
    );
    // A token for a role the user does not have (signed correctly) is refused too.
    assert_eq!(
        forged(
            &app,
            hs256.clone(),
            with("role", json!("admin")),
            TEST_SECRET
        )
        .await,
        401,
        "role changed"
    );
    let mut missing_exp = claims.clone();
    missing_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        forged(&app, hs256, missing_exp, TEST_SECRET).await,
        401,
        "no exp"
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
    let app = spawn_app().await;
    let token = app.token("erik").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    use sea_orm::ConnectionTrait;
    app.db
        .writer()
        .execute_unprepared("UPDATE app_user SET active = false WHERE username = 'erik'")
        .await
        .unwrap();
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    let login = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "erik", "password": crate::helpers::PASSWORD}),
        )
        .await;
    login.problem(401);
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
    let app = spawn_app().await;
    let officer = app.token("anna").await;
    let admin = app.token("root").await;
    let dep = json!({"code": "KSF", "name": "Kommunstyrelseförvaltningen", "diary_prefix": "KS"});
    app.post("/api/v1/departments", Some(&officer), &dep)
        .await
        .problem(403);
    let created = app.post("/api/v1/departments", Some(&admin), &dep).await;
    assert_eq!(created.status, 201, "{}", created.text);
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
    let made = app.post("/api/v1/users", Some(&admin), &user).await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.body["department"], "KSF");
    assert!(!made.text.contains("long-enough-pw") && !made.text.contains("argon2"));
    app.post("/api/v1/users", Some(&admin), &user)
        .await
        .problem(409);
    let bad = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "X", "password": "short", "role": "boss"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["username", "password", "role"]);
    let no_dep = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "lisa", "password": "long-enough-pw", "role": "manager"}),
        )
        .await;
    assert_eq!(no_dep.invalid_fields(), ["department"]);
    let kim = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "kim", "password": "long-enough-pw"}),
        )
        .await;
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
        app.post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "erik", "password": "guess-guess"}),
        )
        .await
        .problem(401);
    }
    // Locked: even the right password is refused now, with the time to wait.
    let locked = app
        .post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "erik", "password": crate::helpers::PASSWORD}),
        )
        .await;
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
        app.post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "nobody", "password": "guess-guess"}),
        )
        .await;
    }
    app.post(
        "/api/v1/auth/token",
        None,
        &json!({"username": "nobody", "password": "x"}),
    )
    .await
    .problem(429);
    assert_eq!(
        app.post(
            "/api/v1/auth/token",
            None,
            &json!({"username": "anna", "password": crate::helpers::PASSWORD})
        )
        .await
        .status,
        200
    );
}
