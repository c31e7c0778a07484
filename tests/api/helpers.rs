//! `spawn_app()`: a fresh database, migrated and seeded with three departments and their
//! people, and the real server listening on 127.0.0.1:0.

use std::sync::Arc;

use lots_api::{AppState, Config};
use lots_cases::{Directory, NewDepartment, NewUser};
use lots_core::{Clock, ManualClock, Secret, SystemClock};
use lots_migrations::{Migrator, MigratorTrait};
use lots_store::Db;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

pub const PASSWORD: &str = "test-password-1";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub config: Config,
    /// The server's state, for driving its worker by hand.
    pub state: AppState,
    store: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

enum TestDatabase {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts that this is a problem+json answer with `status`, and returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{}",
            self.text
        );
        assert!(
            self.body["title"].is_string() && self.body["detail"].is_string(),
            "{}",
            self.text
        );
        &self.body
    }

    /// Asserts as `problem` does, and returns the problem's detail.
    #[track_caller]
    pub fn problem_detail(&self, status: u16) -> &str {
        self.problem(status)["detail"].as_str().expect("a detail")
    }

    /// The fields a 422 names.
    #[track_caller]
    pub fn invalid_fields(&self) -> Vec<String> {
        let body = self.problem(422);
        body["errors"]
            .as_array()
            .expect("errors[]")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app()` and a token for each of `usernames`, in the same order.
pub async fn spawn_app_as<const N: usize>(usernames: [&str; N]) -> (TestApp, [String; N]) {
    let app = spawn_app().await;
    let mut tokens = Vec::with_capacity(N);
    for username in usernames {
        tokens.push(app.token(username).await);
    }
    let tokens = tokens.try_into().expect("one token per username");
    (app, tokens)
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_seeded(configure, true).await
}

/// As `spawn_app_with`, on an empty database when `seeded` is false.
pub async fn spawn_app_seeded(configure: impl FnOnce(&mut Config), seeded: bool) -> TestApp {
    spawn_app_routed(configure, seeded, axum::Router::new()).await
}

/// As `spawn_app_seeded`, serving the `extra` routes as well.
async fn spawn_app_routed(
    configure: impl FnOnce(&mut Config),
    seeded: bool,
    extra: axum::Router<AppState>,
) -> TestApp {
    let (url, store, db) = migrated_database(seeded).await;
    let mut config = Config {
        database_url: url,
        attachments_dir: Some(test_files_dir()),
        ..Config::default()
    };
    configure(&mut config);
    start(config, db, store, extra).await
}

/// As `spawn_app`, with the server's clock standing still at `now` (a `ManualClock`).
pub async fn spawn_app_at(now: chrono::DateTime<chrono::Utc>) -> TestApp {
    let (url, store, db) = migrated_database(true).await;
    // jsonwebtoken checks `exp` against the system clock, not the app's: a token issued at a
    // `now` in the past must live until the real present.
    let lag = u64::try_from((chrono::Utc::now() - now).num_seconds()).unwrap_or(0);
    let config = Config {
        database_url: url,
        token_ttl_seconds: 3600 + lag,
        ..Config::default()
    };
    start_on(
        listener().await,
        config,
        db,
        store,
        axum::Router::new(),
        Arc::new(ManualClock::new(now)),
    )
    .await
}

/// Starts a server on an existing app's database (as a second process would).
pub async fn spawn_second(app: &TestApp, config: Config) -> TestApp {
    let db = Db::connect(&app.config.database_url)
        .await
        .expect("connect");
    start(
        config,
        db,
        TestDatabase::Sqlite(std::path::PathBuf::new()),
        axum::Router::new(),
    )
    .await
}

pub async fn spawn_app_with_routes(extra: axum::Router<AppState>) -> TestApp {
    spawn_app_routed(|_| {}, true, extra).await
}

async fn start_client() -> reqwest::Client {
    lots_hooks::install_tls_provider();
    reqwest::Client::new()
}

async fn start(
    config: Config,
    db: Db,
    store: TestDatabase,
    extra: axum::Router<AppState>,
) -> TestApp {
    let clock = Arc::new(SystemClock);
    start_on(listener().await, config, db, store, extra, clock).await
}

/// A listener on a free port of 127.0.0.1.
async fn listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
}

/// A server whose address is taken before it starts, for tests that must name it in advance
/// (the redirect URIs registered with an identity provider).
pub struct PendingApp {
    listener: tokio::net::TcpListener,
    pub base: String,
}

impl PendingApp {
    pub async fn bind() -> Self {
        let listener = listener().await;
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        Self { listener, base }
    }

    /// Starts it on a fresh seeded database; its public base URL is where it listens.
    pub async fn start(self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let (url, store, db) = migrated_database(true).await;
        let mut config = Config {
            database_url: url,
            attachments_dir: Some(test_files_dir()),
            public_base_url: Some(self.base.clone()),
            ..Config::default()
        };
        configure(&mut config);
        start_on(
            self.listener,
            config,
            db,
            store,
            axum::Router::new(),
            Arc::new(SystemClock),
        )
        .await
    }
}

async fn start_on(
    listener: tokio::net::TcpListener,
    config: Config,
    db: Db,
    store: TestDatabase,
    extra: axum::Router<AppState>,
    clock: Arc<dyn Clock>,
) -> TestApp {
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState::new(config.clone(), db.clone(), clock)
        .await
        .expect("state");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = lots_api::app_with(state.clone(), extra);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        base,
        client: start_client().await,
        db,
        config,
        state,
        store,
        shutdown: Some(tx),
    }
}

/// A directory of its own for each test's attachments.
fn test_files_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("lots-test-files-{}", uuid::Uuid::new_v4().simple()))
}

/// A fresh database, migrated, and seeded when `seeded` is true: its URL, what to drop when the
/// test ends, and a connection.
async fn migrated_database(seeded: bool) -> (String, TestDatabase, Db) {
    let (url, store) = fresh_database().await;
    let db = Db::connect(&url).await.expect("connect");
    Migrator::up(db.writer(), None).await.expect("migrate");
    if seeded {
        seed(&db).await;
    }
    (url, store, db)
}

async fn fresh_database() -> (String, TestDatabase) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("lots_test_{}", &id[..16]);
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url.split('?').next().unwrap_or(&admin_url);
            let url = format!(
                "{}/{name}",
                &base[..base.rfind('/').expect("a database in TEST_DATABASE_URL")]
            );
            (url, TestDatabase::Postgres { admin_url, name })
        }
        _ => {
            let path = std::env::temp_dir().join(format!("lots-test-{id}.db"));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                TestDatabase::Sqlite(path),
            )
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(dir) = &self.config.attachments_dir
            && dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("lots-test-files-"))
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        match &self.store {
            TestDatabase::Sqlite(path) if !path.as_os_str().is_empty() => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        let admin = Database::connect(&admin_url).await.ok()?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await
                            .ok()?;
                        admin.close().await.ok()
                    })
                })
                .join();
            }
            _ => {}
        }
    }
}

/// Three departments; in SBF officers anna and erik and manager maria, in MHF officer omar and
/// manager lars, in RTJ officer nils; and admin root.
async fn seed(db: &Db) {
    let dir = Directory::new(db.clone(), Arc::new(SystemClock));
    for (code, name, prefix) in [
        ("SBF", "Samhällsbyggnadsförvaltningen", "BN"),
        ("MHF", "Miljö- och hälsoskyddsförvaltningen", "MHN"),
        ("RTJ", "Räddningstjänsten", "RTN"),
    ] {
        dir.add_department(NewDepartment {
            code: Some(code.into()),
            name: Some(name.into()),
            diary_prefix: Some(prefix.into()),
        })
        .await
        .expect("department");
    }
    for (username, role, dep) in [
        ("root", "admin", None),
        ("anna", "officer", Some("SBF")),
        ("erik", "officer", Some("SBF")),
        ("maria", "manager", Some("SBF")),
        ("omar", "officer", Some("MHF")),
        ("lars", "manager", Some("MHF")),
        ("nils", "officer", Some("RTJ")),
    ] {
        dir.add_user(NewUser {
            username: Some(username.into()),
            display_name: Some(format!("{username} test")),
            password: Some(PASSWORD.into()),
            role: Some(role.into()),
            department: dep.map(Into::into),
        })
        .await
        .expect("user");
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/v1/auth/token` with these credentials.
    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn token(&self, username: &str) -> String {
        let r = self.login(username, PASSWORD).await;
        assert_eq!(r.status, 200, "login {username}: {}", r.text);
        r.body["access_token"].as_str().expect("token").to_string()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("request")).await
    }

    /// The status `GET path` answers.
    pub async fn get_status(&self, path: &str, token: Option<&str>) -> StatusCode {
        self.get(path, token).await.status
    }

    /// `GET path` as `token`'s user, the response unread (for its bytes).
    pub async fn get_response(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Method::POST, path, token, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Method::PUT, path, token, Some(body), &[]).await
    }

    /// `post`, asserting that the answer has `status` (showing the body when it has not).
    pub async fn post_expecting(
        &self,
        status: u16,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Reply {
        let r = self.post(path, token, body).await;
        assert_eq!(r.status, status, "{}", r.text);
        r
    }

    /// A POST of `body` as it is, with `content_type` if one is given.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut req = self.client.post(self.url(path)).bearer_auth(token);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        read(req.body(body).send().await.expect("request")).await
    }

    /// A POST without a body.
    /// Imports case histories (`POST /api/v1/import/cases`, NDJSON) as `token`.
    pub async fn import_ndjson(&self, token: &str, body: impl Into<reqwest::Body>) -> Reply {
        let req = self
            .client
            .post(self.url("/api/v1/import/cases"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(body);
        read(req.send().await.unwrap()).await
    }

    pub async fn post_empty(&self, path: &str, token: &str) -> Reply {
        self.send(Method::POST, path, Some(token), None, &[]).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// Adds a note with `text` to case `id` as `token`'s user.
    pub async fn add_note(&self, token: &str, id: i64, text: &str) -> Reply {
        self.post(
            &format!("/api/v1/cases/{id}/notes"),
            Some(token),
            &serde_json::json!({ "text": text }),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        if_match: Option<&str>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> =
            if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.send(Method::PATCH, path, token, Some(body), &headers)
            .await
    }

    /// Registers a case as `token`'s user with sensible defaults overridden by `fields`.
    pub async fn create_case(&self, token: &str, fields: Value) -> Value {
        let mut body = serde_json::json!({
            "org_number": "556012-5790",
            "company_name": "Exempel AB",
            "area": "building_permit",
            "title": "Nybyggnad av restaurang",
        });
        if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
            for (k, v) in f {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.post("/api/v1/cases", Some(token), &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// `PATCH path` with `body` as `token`'s user, if the entity is at `version` (If-Match).
    pub async fn patch_if(&self, path: &str, token: &str, version: i64, body: Value) -> Reply {
        let etag = format!("\"{version}\"");
        self.patch(path, Some(token), &body, Some(&etag)).await
    }

    /// `PATCH /api/v1/cases/{id}` with `body`, without If-Match.
    pub async fn patch_case(&self, token: &str, id: i64, body: Value) -> Reply {
        self.patch(&format!("/api/v1/cases/{id}"), Some(token), &body, None)
            .await
    }

    /// Adds the building case type `solar_panels` ("Solceller") as `admin`; the answer (201).
    pub async fn add_solar_panels_type(&self, admin: &str) -> Reply {
        let body = serde_json::json!({"area": "building_permit", "code": "solar_panels", "label": "Solceller"});
        self.post_expecting(201, "/api/v1/case-types", Some(admin), &body)
            .await
    }

    /// `POST /api/v1/users` with `body` (an admin adding a user).
    pub async fn post_user(&self, token: &str, body: Value) -> Reply {
        self.post("/api/v1/users", Some(token), &body).await
    }

    /// `PATCH /api/v1/users/{id}` with `body` (an admin's change to a user).
    pub async fn patch_user(&self, token: &str, id: i64, body: Value) -> Reply {
        self.patch(&format!("/api/v1/users/{id}"), Some(token), &body, None)
            .await
    }

    /// Case `id` as `token`'s user reads it (`GET /api/v1/cases/{id}`): the answer's body.
    pub async fn case_body(&self, token: &str, id: i64) -> Value {
        self.get(&format!("/api/v1/cases/{id}"), Some(token))
            .await
            .body
    }

    /// Case `id`'s diarienummer, as `token`'s user reads it.
    pub async fn case_reference(&self, token: &str, id: i64) -> String {
        self.case_body(token, id).await["reference"]
            .as_str()
            .expect("a reference")
            .to_string()
    }

    /// Registers a case as `create_case` does; its id.
    pub async fn case_id(&self, token: &str, fields: Value) -> i64 {
        self.create_case(token, fields).await["id"]
            .as_i64()
            .expect("a case id")
    }

    /// Creates a bundle of the test company with `coordinator`, holding `case`; its id.
    pub async fn bundle_with(&self, token: &str, title: &str, coordinator: &str, case: i64) -> i64 {
        let r = self
            .post(
                "/api/v1/bundles",
                Some(token),
                &serde_json::json!({"org_number": "556012-5790", "title": title, "coordinator": coordinator}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let bundle = r.body["id"].as_i64().expect("a bundle id");
        let r = self
            .post(
                &format!("/api/v1/bundles/{bundle}/cases"),
                Some(token),
                &serde_json::json!({"case_id": case}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        bundle
    }

    /// Counts the rows of a table, straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        self.scalar(format!("SELECT COUNT(*) FROM {table}")).await
    }

    /// Counts the rows of a table that match a SQL condition.
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        self.scalar(format!("SELECT COUNT(*) FROM {table} WHERE {condition}"))
            .await
    }

    /// The cookie of a company representative signed in with e-legitimation (as the identity
    /// provider's callback would start their session).
    pub async fn representative_cookie(&self, personal_number: &str, name: &str) -> String {
        let who = lots_core::Representative {
            personal_number: lots_core::PersonalNumber::parse_on(
                personal_number,
                chrono::Utc::now().date_naive(),
            )
            .expect("personnummer"),
            name: Some(name.into()),
        };
        let s = self
            .state
            .representatives
            .start(&who, chrono::Duration::hours(1))
            .await
            .expect("session");
        format!(
            "lots_foretag={}",
            lots_api::oidc::pages::company_cookie(&self.state, &s.secret)
        )
    }

    /// The first row a SQL query answers, each column as text (`""` for null), straight from
    /// the database.
    pub async fn query_one(&self, sql: &str) -> Vec<String> {
        let row = self
            .db
            .reader()
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.backend(),
                sql.to_string(),
            ))
            .await
            .expect("query")
            .expect("row");
        (0..row.column_names().len())
            .map(|i| {
                row.try_get_by_index::<Option<String>>(i)
                    .expect("a text column")
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The single integer a SQL query answers, straight from the database.
    pub async fn scalar(&self, sql: String) -> i64 {
        let row = self
            .db
            .reader()
            .query_one_raw(sea_orm::Statement::from_string(self.db.backend(), sql))
            .await
            .expect("count")
            .expect("row");
        row.try_get_by_index::<i64>(0).expect("count value")
    }

    pub async fn transition(&self, token: &str, id: i64, body: Value) -> Reply {
        self.post(
            &format!("/api/v1/cases/{id}/transitions"),
            Some(token),
            &body,
        )
        .await
    }

    /// The stored row of user `username`, straight from the database.
    pub async fn user_row(&self, username: &str) -> lots_store::entity::app_user::Model {
        use lots_store::entity::app_user;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        app_user::Entity::find()
            .filter(app_user::Column::Username.eq(username))
            .one(self.db.reader())
            .await
            .expect("read app_user")
            .expect("the user exists")
    }

    /// How many web sessions user `username` has, straight from the database.
    pub async fn web_sessions_of(&self, username: &str) -> i64 {
        let id = self.user_row(username).await.id;
        self.count_where("web_session", &format!("user_id = {id}"))
            .await
    }

    /// Appends an event of `kind` to the log of case `case_id` directly, bypassing the services.
    pub async fn insert_event(&self, case_id: i64, at: chrono::DateTime<chrono::Utc>, kind: &str) {
        self.insert_event_data(case_id, at, kind, serde_json::json!({}))
            .await;
    }

    /// Appends an event row as it is given, past the services (as a program beside Lots
    /// could); returns its id.
    pub async fn insert_event_data(
        &self,
        case_id: i64,
        at: chrono::DateTime<chrono::Utc>,
        kind: &str,
        data: Value,
    ) -> i64 {
        use sea_orm::{ActiveModelTrait, Set};
        lots_store::entity::case_event::ActiveModel {
            case_id: Set(case_id),
            at: Set(at),
            kind: Set(kind.to_string()),
            actor_id: Set(None),
            department_id: Set(None),
            data: Set(data),
            ..Default::default()
        }
        .insert(self.db.writer())
        .await
        .expect("insert case_event")
        .id
    }

    pub fn with_secret(config: &mut Config) {
        config.jwt_secret = Some(Secret::new(TEST_SECRET));
    }
}

pub const TEST_SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

pub async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// The ids of the cases a list query returns, in order.
pub async fn ids(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let r = app
        .get(&format!("/api/v1/cases?{query}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    integers_of(&r.body["items"], "id")
}

/// The ids of the cases a list query returns, page after page (`next_cursor`), each page's
/// answer first given to `check`.
pub async fn every_page(
    app: &TestApp,
    token: &str,
    query: &str,
    check: impl Fn(&Reply),
) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(&format!("/api/v1/cases?{query}{cursor}"), Some(token))
            .await;
        check(&r);
        seen.extend(integers_of(&r.body["items"], "id"));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    seen
}

/// The events a case writes when it is registered and work on it starts.
pub const STARTED: [&str; 2] = ["created", "status_changed"];

/// The events of a supplement round: requested (the case waits), received (work resumes).
pub const SUPPLEMENT_ROUND: [&str; 4] = [
    "supplement_requested",
    "status_changed",
    "supplement_received",
    "status_changed",
];

/// The events of a handoff that runs its course: requested, accepted, completed.
pub const HANDOFF_DONE: [&str; 3] = ["handoff_requested", "handoff_accepted", "handoff_completed"];

/// The answer to `GET /api/v1/cases/{id}/events` as `token`'s user: its body.
pub async fn events_body(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/cases/{id}/events"), Some(token))
        .await
        .body
}

/// The kinds of case `id`'s events as `token` reads them, oldest first.
pub async fn event_kinds(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let events = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(token))
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    kinds(&events.body)
}

/// The kinds of the events in a `GET /api/v1/cases/{id}/events` answer, in order.
/// An admin outside any department, as the metrics' own loading is called with in tests.
pub fn root_actor() -> lots_core::Actor {
    lots_core::Actor {
        user_id: 0,
        username: "root".into(),
        role: lots_core::Role::Admin,
        department_id: None,
    }
}

pub fn kinds(events: &Value) -> Vec<String> {
    strings_of(&events["items"], "kind")
}

/// Asserts that `GET {path}?{query}` answers 422 naming exactly `field`, for each pair.
pub async fn assert_each_query_names(
    app: &TestApp,
    path: &str,
    token: &str,
    cases: &[(&str, &str)],
) {
    for (query, field) in cases {
        assert_eq!(
            app.get(&format!("{path}?{query}"), Some(token))
                .await
                .invalid_fields(),
            [*field],
            "{query}"
        );
    }
}

/// The `key` of every object in the array `list`, as strings, in order.
pub fn strings_of(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|item| item[key].as_str().expect("a string").to_string())
        .collect()
}

/// The `key` of every object in the array `list`, as integers, in order.
pub fn integers_of(list: &Value, key: &str) -> Vec<i64> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|item| item[key].as_i64().expect("an integer"))
        .collect()
}

/// The text from just after the first `marker` in `page` up to the next `"`: the value of the
/// attribute `marker` opens.
pub fn value_after(page: &str, marker: &str) -> String {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in {page}"))
        + marker.len();
    page[at..].split('"').next().unwrap().to_string()
}

/// Asserts that `text` contains `part`, showing the whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

/// The value of a page's CSRF field.
pub fn csrf_of(page: &str) -> String {
    value_after(page, r#"name="csrf" value=""#)
}

/// The object in the array `list` whose `key` is `value`.
pub fn find_item<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .expect("an array")
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no item with {key} = {value} in {list}"))
}

/// A command's standard output, once it is known to have succeeded (its output and errors are
/// the failure's message otherwise).
pub fn succeeded(out: &std::process::Output) -> String {
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

/// The reads `Db::read_all` and `Db::read_all_also` make on the calling thread (on a SQLite
/// file: `lots_store::direct`), and a case's parts read at once (on PostgreSQL:
/// `lots_store::prefetch`), give the models sea-orm's own reads give, row for row, for every
/// table they serve; how many rows were compared. Called at the end of tests that wrote those
/// tables through the API, so that what the server really stores (its dates and times, JSON,
/// nulls) is decoded both ways.
pub async fn assert_direct_reads_agree(db: &Db) -> usize {
    use lots_store::entity::{
        case_attachment, case_decision, case_event, case_follow_link, case_message, case_party,
        case_premises, case_record, company, handoff, supplement_request,
    };
    use sea_orm::{EntityTrait, QuerySelect, TryIntoModel};

    async fn same<E: EntityTrait>(db: &Db) -> usize
    where
        E::Model: PartialEq + std::fmt::Debug,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let direct = db.read_all(E::find()).await.expect("a direct read");
        let sqlx = E::find().all(db.reader()).await.expect("a read");
        assert_eq!(direct, sqlx, "{}", E::default().table_name());
        direct.len()
    }
    let mut rows = same::<case_event::Entity>(db).await
        + same::<handoff::Entity>(db).await
        + same::<supplement_request::Entity>(db).await
        + same::<case_message::Entity>(db).await
        + same::<case_party::Entity>(db).await
        + same::<case_premises::Entity>(db).await
        + same::<case_attachment::Entity>(db).await
        + same::<case_decision::Entity>(db).await
        + same::<case_follow_link::Entity>(db).await
        + same::<company::Entity>(db).await;
    let cases = case_record::Entity::find().all(db.reader()).await.unwrap();
    for case in cases {
        let pair = || {
            case_record::Entity::find_by_id(case.id)
                .select_also(company::Entity)
                .join(
                    sea_orm::JoinType::LeftJoin,
                    case_record::Entity::belongs_to(company::Entity)
                        .from(case_record::Column::CompanyId)
                        .to(company::Column::Id)
                        .into(),
                )
        };
        let direct = db
            .read_all_also(pair().limit(1))
            .await
            .expect("a direct read")
            .pop();
        let sqlx = pair().one(db.reader()).await.expect("a read");
        assert_eq!(direct, sqlx, "case {}", case.id);
        rows += 1 + same_at_once(db, case.id).await;
    }
    rows
}

/// A case's parts read at once agree with each part read on its own; how many rows.
async fn same_at_once(db: &Db, case_id: i64) -> usize {
    use lots_store::entity::{
        case_attachment, case_decision, case_event, case_follow_link, case_message, case_party,
        case_premises, handoff, supplement_request,
    };
    use lots_store::prefetch::CaseRows;
    use sea_orm::{EntityTrait, TryIntoModel};

    // Where parts are read at once (PostgreSQL), `case_rows` reads through sea-orm.
    async fn same<E: EntityTrait>(db: &Db, read: &CaseRows, case: E::Column, id: i64) -> usize
    where
        E::Model: PartialEq + std::fmt::Debug,
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let at_once = read.of::<E>(case, id).expect("read").expect("decoded");
        let sqlx = db.case_rows::<E>(case, id).await.expect("a read");
        assert_eq!(at_once, sqlx, "{} of case {id}", E::default().table_name());
        at_once.len()
    }
    let parts = lots_cases::cases::page_parts();
    let Some(read) = db
        .case_rows_at_once(case_id, &parts)
        .await
        .expect("read at once")
    else {
        return 0;
    };
    same::<case_event::Entity>(db, &read, case_event::Column::CaseId, case_id).await
        + same::<handoff::Entity>(db, &read, handoff::Column::CaseId, case_id).await
        + same::<supplement_request::Entity>(db, &read, supplement_request::Column::CaseId, case_id)
            .await
        + same::<case_message::Entity>(db, &read, case_message::Column::CaseId, case_id).await
        + same::<case_party::Entity>(db, &read, case_party::Column::CaseId, case_id).await
        + same::<case_premises::Entity>(db, &read, case_premises::Column::CaseId, case_id).await
        + same::<case_attachment::Entity>(db, &read, case_attachment::Column::CaseId, case_id).await
        + same::<case_decision::Entity>(db, &read, case_decision::Column::CaseId, case_id).await
        + same::<case_follow_link::Entity>(db, &read, case_follow_link::Column::CaseId, case_id)
            .await
}
