//! Sign-in through a real OpenID provider: the certified Node `oidc-provider`, started per test
//! from `tests/oidc/provider.mjs` (see its README), with Lots registered as a client by dynamic
//! registration, people defined per test, key rotation, forged and stale ID tokens, access
//! tokens for the API, the companies' e-ID sign-in, and a provider that is down.
//!
//! The harness's packages are installed (`npm ci` in tests/oidc) on first use. Without Node or
//! npm these tests say so and pass, unless `LOTS_REQUIRE_OIDC_TESTS` is set (as `.ci/run` sets
//! it), when they fail.

use std::collections::HashMap;
use std::process::Stdio;

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{PASSWORD, PendingApp, TestApp, assert_contains, spawn_app_with};

/// The test provider, ended when dropped.
pub struct Idp {
    pub issuer: String,
    child: tokio::process::Child,
    http: reqwest::Client,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `npm ci` in the harness's folder, once per test run, when its packages are missing.
fn install_harness(dir: &std::path::Path) -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        if dir.join("node_modules/oidc-provider").exists() {
            return true;
        }
        eprintln!(
            "installing the OpenID provider harness: npm ci in {}",
            dir.display()
        );
        std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn harness_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

impl Idp {
    /// Starts a provider, or `None` (with a note) where Node or the harness is not installed.
    pub async fn start() -> Option<Self> {
        let dir = harness_dir();
        let installed = install_harness(&dir)
            && std::process::Command::new("node")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(
                std::env::var_os("LOTS_REQUIRE_OIDC_TESTS").is_none(),
                "the OpenID provider harness is not installed: run `npm ci` in tests/oidc"
            );
            eprintln!("skipped: no Node or no tests/oidc/node_modules (npm ci in tests/oidc)");
            return None;
        }
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("provider.mjs"))
            .env("PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let issuer = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read the provider") {
                if let Some(url) = line.strip_prefix("READY ") {
                    return url.trim().to_string();
                }
            }
            panic!("the provider ended before it was ready");
        })
        .await
        .expect("the provider was not ready within 30 s");
        lots_hooks::install_tls_provider();
        // Keep reading its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Self {
            issuer,
            child,
            http: reqwest::Client::new(),
        })
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/__test/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("control");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Defines the person `id` with `claims`.
    pub async fn account(&self, id: &str, claims: Value) {
        self.control("accounts", json!({"id": id, "claims": claims}))
            .await;
    }

    pub async fn mischief(&self, mode: &str) {
        self.control("mischief", json!({"mode": mode})).await;
    }

    pub async fn rotate(&self, drop_old: bool) {
        self.control("rotate", json!({"drop_old": drop_old})).await;
    }

    /// An access token for `account`, signed by the provider's key (or a foreign one).
    pub async fn access_token(&self, body: Value) -> String {
        self.control("token", body).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Registers a client with `redirect_uris`; returns its id and secret.
    pub async fn register(&self, redirect_uris: &[String]) -> (String, String) {
        let r = self
            .http
            .post(format!("{}/reg", self.issuer))
            .json(&json!({
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            }))
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value = r.json().await.expect("registration");
        (
            body["client_id"].as_str().expect("client_id").to_string(),
            body["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_string(),
        )
    }
}

/// The officers' mapping every test uses.
const MAPPING: &str = r#"
[[map]]
group = "lots-admin"
role = "admin"
[[map]]
group = "lots-sbf-chef"
role = "manager"
department = "SBF"
[[map]]
group = "lots-sbf-handlaggare"
role = "officer"
department = "SBF"
[[map]]
group = "lots-mhf-handlaggare"
role = "officer"
department = "MHF"
"#;

fn mapping() -> Vec<lots_api::oidc::config::MapRule> {
    #[derive(serde::Deserialize)]
    struct M {
        map: Vec<lots_api::oidc::config::MapRule>,
    }
    toml::from_str::<M>(MAPPING).expect("mapping").map
}

fn client(issuer: &str, id: &str, secret: &str) -> lots_api::oidc::config::Client {
    lots_api::oidc::config::Client {
        issuer: issuer.to_string(),
        client_id: id.to_string(),
        client_secret: Some(lots_core::Secret::new(secret)),
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
    }
}

/// Lots, registered with `idp` for both officers and companies.
async fn app_with(idp: &Idp) -> TestApp {
    let pending = PendingApp::bind().await;
    let (id, secret) = idp
        .register(&[
            format!("{}/logga-in/oidc/callback", pending.base),
            format!("{}/foretag/logga-in/callback", pending.base),
        ])
        .await;
    let issuer = idp.issuer.clone();
    pending
        .start(move |c| {
            c.oidc.officers = Some(lots_api::oidc::config::OfficersProvider {
                client: client(&issuer, &id, &secret),
                username_claim: "preferred_username".into(),
                name_claim: "name".into(),
                groups_claim: "groups".into(),
                local_login: true,
                api_audience: Some("lots".into()),
                map: mapping(),
            });
            c.oidc.companies = Some(lots_api::oidc::config::CompaniesProvider {
                client: client(&issuer, &id, &secret),
                personal_number_claim: "personal_number".into(),
                name_claim: "name".into(),
            });
        })
        .await
}

/// A browser: cookies kept per origin (Lots and the provider share a host), no redirect
/// followed by itself.
pub struct Browser {
    http: reqwest::Client,
    jars: HashMap<String, HashMap<String, String>>,
}

/// Where a walk through redirects ended.
#[derive(Debug)]
pub struct Landing {
    pub status: StatusCode,
    pub url: String,
    pub location: Option<String>,
    pub body: String,
}

fn origin(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default().to_string()
}

impl Browser {
    pub fn new() -> Self {
        lots_hooks::install_tls_provider();
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            jars: HashMap::new(),
        }
    }

    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jars.get(&origin(url))?.get(name).cloned()
    }

    pub fn set_cookie(&mut self, url: &str, name: &str, value: &str) {
        self.jars
            .entry(origin(url))
            .or_default()
            .insert(name.to_string(), value.to_string());
    }

    /// One GET, cookies sent and kept.
    pub async fn get(&mut self, url: &str) -> Landing {
        let jar = self.jars.entry(origin(url)).or_default();
        let mut req = self.http.get(url);
        if !jar.is_empty() {
            let header = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", header);
        }
        let r = req.send().await.expect("GET");
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attributes) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty()
                || attributes.contains("Max-Age=0")
                || attributes.contains("max-age=0")
                || attributes.contains("expires=Thu, 01 Jan 1970")
            {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.to_string());
            }
        }
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Landing {
            status,
            url: url.to_string(),
            location,
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// Follows redirects from `url`, logging in at the provider as `login` when it asks, until
    /// a page that is not a redirect (or one to `stop_at`, not followed).
    pub async fn walk(&mut self, url: &str, login: &str, stop_at: Option<&str>) -> Landing {
        let mut url = url.to_string();
        for _ in 0..20 {
            let landing = self.get(&url).await;
            let Some(location) = landing.location.clone() else {
                return landing;
            };
            let next = absolute(&url, &location);
            if stop_at.is_some_and(|s| next.contains(s)) {
                return landing;
            }
            url = if next.contains("/interaction/") && !next.contains("login=") {
                format!("{next}?login={login}")
            } else {
                next
            };
        }
        panic!("too many redirects");
    }
}

fn absolute(from: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        let scheme = from.split("://").next().unwrap_or("http");
        format!("{scheme}://{}{location}", origin(from))
    }
}

/// A provider knowing `people` (id and claims), and Lots registered with it; `None` where the
/// harness cannot run (see `Idp::start`).
async fn provider_with(people: &[(&str, Value)]) -> Option<(Idp, TestApp)> {
    let idp = Idp::start().await?;
    let app = app_with(&idp).await;
    for (id, claims) in people {
        idp.account(id, claims.clone()).await;
    }
    Some((idp, app))
}

/// Signs `login` in as an officer; the final landing (the page after the callback).
async fn officer_sign_in(b: &mut Browser, app: &TestApp, login: &str) -> Landing {
    b.walk(&app.url("/logga-in/oidc"), login, None).await
}

async fn me_with_cookie(app: &TestApp, b: &Browser) -> (StatusCode, Value) {
    let Some(cookie) = b.cookie(&app.base, "lots_session") else {
        return (StatusCode::UNAUTHORIZED, Value::Null);
    };
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("lots_session={cookie}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_officer_is_created_on_first_sign_in_and_follows_the_mapping_later() {
    let claims = json!({"preferred_username": "Sara.Berg", "name": "Sara Berg",
            "groups": ["lots-sbf-handlaggare"], "email": "sara@kommun.example"});
    let Some((idp, app)) = provider_with(&[("sara-sub", claims)]).await else {
        return;
    };
    let users_before = app.count("app_user").await;
    let mut b = Browser::new();
    let landing = officer_sign_in(&mut b, &app, "sara-sub").await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert_contains(&landing.url, "/logga-in/oidc/callback");
    assert_contains(&landing.body, "Du är inloggad");
    // The sign-in in progress is forgotten.
    assert_eq!(b.cookie(&app.base, "lots_oidc"), None);
    let (status, me) = me_with_cookie(&app, &b).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "sara.berg");
    assert_eq!(me["display_name"], "Sara Berg");
    assert_eq!(me["role"], "officer");
    assert_eq!(me["department"], "SBF");
    assert_eq!(app.count("app_user").await, users_before + 1);
    let row = app.user_row("sara.berg").await;
    assert_eq!(
        row.external_subject.as_deref(),
        Some(format!("{} sara-sub", idp.issuer).as_str())
    );
    assert_eq!(row.password_hash, "!");
    // She has no password in Lots: the password form does not let her in.
    let r = app.login("sara.berg", "!").await;
    r.problem(401);
    // The pages know her.
    let page = b.get(&app.url("/arenden")).await;
    assert_eq!(page.status, 200, "{}", page.body);

    // Promoted at the provider: the next sign-in makes her a manager, and her earlier session
    // ends (a change of role ends every login, as an admin's change would).
    let old_cookie = b.cookie(&app.base, "lots_session").unwrap();
    idp.account(
        "sara-sub",
        json!({"preferred_username": "sara.berg", "name": "Sara Berg",
            "groups": ["lots-sbf-chef", "lots-sbf-handlaggare"]}),
    )
    .await;
    let mut b2 = Browser::new();
    let landing = officer_sign_in(&mut b2, &app, "sara-sub").await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    let (_, me) = me_with_cookie(&app, &b2).await;
    assert_eq!(
        (me["role"].as_str(), me["department"].as_str()),
        (Some("manager"), Some("SBF"))
    );
    assert_eq!(
        app.count("app_user").await,
        users_before + 1,
        "the same user"
    );
    let mut old = Browser::new();
    old.set_cookie(&app.base, "lots_session", &old_cookie);
    assert_eq!(me_with_cookie(&app, &old).await.0, 401);

    // Deactivated in Lots: the provider's word does not bring her back.
    let root = app.token("root").await;
    let id = me["id"].as_i64().unwrap();
    app.patch_user(&root, id, json!({"active": false})).await;
    let mut b3 = Browser::new();
    let landing = officer_sign_in(&mut b3, &app, "sara-sub").await;
    assert_eq!(landing.status, 403);
    assert_contains(&landing.body, "avstängt");
    assert_eq!(b3.cookie(&app.base, "lots_session"), None);
}

#[tokio::test]
async fn a_person_whose_groups_map_to_nothing_is_refused_and_nothing_is_created() {
    let claims = json!({"preferred_username": "olle", "name": "Olle", "groups": ["ekonomi"]});
    let Some((_idp, app)) = provider_with(&[("outsider", claims)]).await else {
        return;
    };
    let users = app.count("app_user").await;
    let mut b = Browser::new();
    let landing = officer_sign_in(&mut b, &app, "outsider").await;
    assert_eq!(landing.status, 403, "{}", landing.body);
    assert!(landing.body.contains("<html lang=\"sv\">"));
    assert_contains(&landing.body, "ingen behörighet i Lots");
    assert!(landing.body.contains("Inget konto har skapats"));
    assert_eq!(app.count("app_user").await, users);
    assert_eq!(app.count("web_session").await, 0);
    assert_eq!(b.cookie(&app.base, "lots_session"), None);
}

#[tokio::test]
async fn every_forged_or_stale_id_token_is_refused() {
    let claims = json!({"preferred_username": "kim", "name": "Kim", "groups": ["lots-admin"]});
    let Some((idp, app)) = provider_with(&[("kim", claims)]).await else {
        return;
    };
    let users = app.count("app_user").await;
    for mode in [
        "tamper",
        "expired",
        "wrong_nonce",
        "wrong_audience",
        "wrong_issuer",
        "unknown_key",
        "none_alg",
    ] {
        idp.mischief(mode).await;
        let mut b = Browser::new();
        let landing = officer_sign_in(&mut b, &app, "kim").await;
        assert_eq!(landing.status, 401, "{mode}: {}", landing.body);
        assert!(
            landing.body.contains("kunde inte verifieras"),
            "{mode}: {}",
            landing.body
        );
        assert_eq!(b.cookie(&app.base, "lots_session"), None, "{mode}");
    }
    assert_eq!(app.count("app_user").await, users);
    assert_eq!(app.count("web_session").await, 0);
    // The same provider, behaving: the sign-in works.
    idp.mischief("none").await;
    let mut b = Browser::new();
    let landing = officer_sign_in(&mut b, &app, "kim").await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert_eq!(me_with_cookie(&app, &b).await.1["role"], "admin");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_and_honoured() {
    let claims = json!({"preferred_username": "sara", "groups": ["lots-sbf-handlaggare"]});
    let Some((idp, app)) = provider_with(&[("sara", claims)]).await else {
        return;
    };
    let mut b = Browser::new();
    assert_eq!(officer_sign_in(&mut b, &app, "sara").await.status, 200);
    // A new key, the old one gone: Lots holds only the old in its cache.
    idp.rotate(true).await;
    let mut b = Browser::new();
    let landing = officer_sign_in(&mut b, &app, "sara").await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert_eq!(me_with_cookie(&app, &b).await.0, 200);
}

#[tokio::test]
async fn a_callback_without_its_state_or_from_another_browser_is_refused() {
    let claims = json!({"preferred_username": "sara", "groups": ["lots-sbf-handlaggare"]});
    let Some((_idp, app)) = provider_with(&[("sara", claims)]).await else {
        return;
    };
    // Walk to the callback but do not take it; then take it in another browser (no flow
    // cookie), and with a changed state.
    let mut b = Browser::new();
    let before = b
        .walk(
            &app.url("/logga-in/oidc"),
            "sara",
            Some("/logga-in/oidc/callback"),
        )
        .await;
    let callback = absolute(&before.url, before.location.as_deref().unwrap());
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );
    let mut other = Browser::new();
    let r = other.get(&callback).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Börja om"));
    let forged = callback.replace("state=", "state=x");
    let r = b.get(&forged).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(app.count("web_session").await, 0);
    // The provider's error comes back as a page, not a 500.
    let mut b = Browser::new();
    let start = b.get(&app.url("/logga-in/oidc")).await;
    let auth = start.location.unwrap();
    let state = auth
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let r = b
        .get(&app.url(&format!(
            "/logga-in/oidc/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("avbröts"));
}

#[tokio::test]
async fn the_sign_in_page_offers_the_provider_and_the_password_form() {
    let Some((idp, app)) = provider_with(&[]).await else {
        return;
    };
    let mut b = Browser::new();
    let page = b.get(&app.url("/logga-in")).await;
    assert!(page.body.contains("Logga in med kommunens konto"));
    assert!(page.body.contains("href=\"/logga-in/oidc\""));
    assert!(page.body.contains("name=\"password\""));
    // The authorization request: code flow with PKCE (S256), state, nonce, the scopes.
    let start = b.get(&app.url("/logga-in/oidc")).await;
    assert_eq!(start.status, 303);
    let auth = start.location.unwrap();
    assert!(auth.starts_with(&idp.issuer), "{auth}");
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "scope=openid+profile+email",
    ] {
        assert!(auth.contains(part), "{part} in {auth}");
    }
    let flow = b.cookie(&app.base, "lots_oidc").expect("the flow cookie");
    assert!(!flow.is_empty());
}

#[tokio::test]
async fn a_provider_that_is_down_gives_a_clear_page_and_the_password_still_works() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let down = issuer.clone();
    let app = spawn_app_with(move |c| {
        c.oidc.officers = Some(lots_api::oidc::config::OfficersProvider {
            client: client(&issuer, "lots", "secret"),
            username_claim: "preferred_username".into(),
            name_claim: "name".into(),
            groups_claim: "groups".into(),
            local_login: true,
            api_audience: None,
            map: mapping(),
        });
    })
    .await;
    let r = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(app.url("/logga-in/oidc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(body.contains("Inloggningstjänsten svarar inte"), "{body}");
    assert!(body.contains("href=\"/logga-in\""), "{body}");
    // Tokens that look like the provider's do not make every request wait on it: after one
    // failed discovery, the next ones are refused at once for a few seconds.
    let provider = lots_api::oidc::provider::Provider::new(
        client(&down, "lots", "secret"),
        "http://127.0.0.1/cb",
    )
    .unwrap();
    let header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"RS256","kid":"k1"}"#,
    );
    let token = format!("{header}.e30.c2ln");
    let first = provider
        .verify_access_token(&token, "lots")
        .await
        .unwrap_err();
    assert!(first.to_string().contains("discovery"), "{first}");
    let second = provider
        .verify_access_token(&token, "lots")
        .await
        .unwrap_err();
    assert!(second.to_string().contains("a moment ago"), "{second}");
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    // Passwords still work, on the API and on the page.
    app.token("anna").await;
    crate::web::Browser::logged_in(&app, "anna").await;
    let _ = PASSWORD;
}

#[tokio::test]
async fn the_api_accepts_the_providers_access_tokens_and_refuses_forged_ones() {
    let Some((idp, app)) = provider_with(&[("omar-sub", json!({"preferred_username": "omar.k", "name": "Omar K", "groups": ["lots-mhf-handlaggare"]}))]).await else {
        return;
    };
    let token = idp
        .access_token(json!({"account": "omar-sub", "audience": "lots", "expires_in": 300}))
        .await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["username"], "omar.k");
    assert_eq!(me.body["department"], "MHF");
    // The same token again: the same user, nothing created twice.
    let users = app.count("app_user").await;
    let cases = app.get("/api/v1/cases", Some(&token)).await;
    assert_eq!(cases.status, 200, "{}", cases.text);
    assert_eq!(app.count("app_user").await, users);
    // Forged and stale variants.
    for (what, body) in [
        (
            "wrong audience",
            json!({"account": "omar-sub", "audience": "someone-else", "expires_in": 300}),
        ),
        (
            "expired",
            json!({"account": "omar-sub", "audience": "lots", "expires_in": -120}),
        ),
        (
            "unknown key",
            json!({"account": "omar-sub", "audience": "lots", "expires_in": 300, "key": "unknown"}),
        ),
        (
            "wrong issuer",
            json!({"account": "omar-sub", "audience": "lots", "expires_in": 300, "issuer": "http://evil.example"}),
        ),
    ] {
        let forged = idp.access_token(body).await;
        let r = app.get("/api/v1/me", Some(&forged)).await;
        r.problem(401);
        assert_eq!(r.status, 401, "{what}");
    }
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    parts[1] = parts[1].chars().rev().collect();
    app.get("/api/v1/me", Some(&parts.join(".")))
        .await
        .problem(401);
    // Someone the mapping does not know.
    idp.account(
        "x",
        json!({"preferred_username": "x1", "groups": ["ekonomi"]}),
    )
    .await;
    let t = idp
        .access_token(json!({"account": "x", "audience": "lots", "expires_in": 300}))
        .await;
    app.get("/api/v1/me", Some(&t)).await.problem(403);
    // Lots' own tokens keep working.
    let own = app.token("anna").await;
    assert_eq!(app.get("/api/v1/me", Some(&own)).await.status, 200);
    // Deactivated in Lots: the provider's token stops working at once.
    let root = app.token("root").await;
    let id = me.body["id"].as_i64().unwrap();
    app.patch_user(&root, id, json!({"active": false})).await;
    app.get("/api/v1/me", Some(&token)).await.problem(401);
}

#[tokio::test]
async fn a_company_representative_signs_in_with_a_personnummer_and_gets_no_officer_rights() {
    let claims = json!({"name": "Kim Företagare", "personal_number": "198112189876"});
    let Some((idp, app)) = provider_with(&[("eid-1", claims)]).await else {
        return;
    };
    let mut b = Browser::new();
    let landing = b.walk(&app.url("/foretag/logga-in"), "eid-1", None).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert!(landing.url.contains("/foretag/logga-in/callback"));
    let home = b.get(&app.url("/mina-arenden")).await;
    assert_eq!(home.status, 200);
    assert_contains(&home.body, "Kim Företagare");
    assert_contains(&home.body, "19811218-****");
    assert!(
        !home.body.contains("9876"),
        "the whole number is never shown"
    );
    assert_eq!(app.count("company_session").await, 1);
    // No officer rights: the cookie opens neither the officers' pages nor the API, and no user
    // was created.
    let users_named = app
        .count_where("app_user", "display_name = 'Kim Företagare'")
        .await;
    assert_eq!(users_named, 0);
    assert_eq!(b.get(&app.url("/arenden")).await.status, 303);
    let company = b.cookie(&app.base, "lots_foretag").unwrap();
    let r = app
        .client
        .get(app.url("/api/v1/cases"))
        .header("cookie", format!("lots_foretag={company}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Logging out ends the login on the server: a copy of the cookie no longer works.
    let csrf = crate::helpers::csrf_of(&home.body);
    let r = app
        .client
        .post(app.url("/foretag/logga-ut"))
        .header("cookie", format!("lots_foretag={company}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status() == 200,
        "{}",
        r.status()
    );
    assert_eq!(app.count("company_session").await, 0);
    let mut copy = Browser::new();
    copy.set_cookie(&app.base, "lots_foretag", &company);
    let page = copy.get(&app.url("/mina-arenden")).await;
    assert!(!page.body.contains("Kim Företagare"));
    assert!(page.body.contains("Logga in med e-legitimation"));

    // A broker that sends no valid personnummer: refused, nothing kept.
    idp.account(
        "eid-2",
        json!({"name": "Fel", "personal_number": "198112189877"}),
    )
    .await;
    let mut b = Browser::new();
    let landing = b.walk(&app.url("/foretag/logga-in"), "eid-2", None).await;
    assert_eq!(landing.status, 403, "{}", landing.body);
    assert!(landing.body.contains("personnummer"));
    assert_eq!(app.count("company_session").await, 0);
}
