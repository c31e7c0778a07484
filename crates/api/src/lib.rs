//! lots-api: the HTTP face of Lots. The axum router, authentication, problem+json errors,
//! the OpenAPI document and the operational endpoints. No business rule lives here.

pub mod auth;
pub mod config;
pub mod contract;
pub mod error;
pub mod extract;
pub mod oidc;
pub mod ops;
pub mod routes;
pub mod state;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use axum::response::{IntoResponse, Response};
use lots_cases::{
    AttachmentSettings, Attachments, CaseTypes, Cases, Companies, Directory, EServices, Record,
    Sessions,
};
use lots_core::Clock;
use lots_core::deadline::DeadlineRules;
use lots_handoff::Handoffs;
use lots_hooks::{SurveySettings, Surveys, Webhooks, Worker, WorkerSettings};
use lots_store::Db;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use config::Config;
use error::ApiError;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(title = "Lots", description = "Case handling across a Swedish municipality's departments: cases, their history and who may see them.\n\nErrors are RFC 9457 problem+json. Lists page with an opaque `cursor`. Changes take `If-Match`.", license(name = "MIT OR Apache-2.0")),
    modifiers(&BearerAuth),
    components(schemas(error::Problem, lots_hooks::webhooks::WebhookPayload, lots_hooks::webhooks::WebhookData)),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Logging in, and changing your password"),
        (name = "directory", description = "Departments, users and their sessions"),
        (name = "cases", description = "Cases (ärenden), their lifecycle, notes and history"),
        (name = "record", description = "The full case record: parties, premises, the decision and its legal basis, case types, attachments"),
        (name = "deadlines", description = "Statutory deadlines: supplement requests, the one extension, requests for a decision"),
        (name = "handoffs", description = "Contacts across departments: transfers, consultations, contacts"),
        (name = "companies", description = "A company's cases across departments, and bundles with a coordinator"),
        (name = "company side", description = "What companies see: a signed-in representative's cases, a case by its follow link, and the officers' follow links"),
        (name = "webhooks", description = "Signed webhooks (Standard Webhooks) and their delivery log"),
        (name = "surveys", description = "The NKI survey: the page companies answer, imports and the invitation export"),
        (name = "metrics", description = "Handling times, NKI, their linkage, bottlenecks, deadline compliance, exports (managers and admins)"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    use routes::{
        auth, cases, companies, deadlines, directory, e_services, handoffs, import, metrics,
        public, record, survey_page, surveys, webhooks,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::token))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::my_sessions))
        .routes(routes!(auth::end_my_session))
        .routes(routes!(auth::get_sign_in_policy, auth::set_sign_in_policy))
        .routes(routes!(
            directory::list_departments,
            directory::create_department
        ))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::update_user))
        .routes(routes!(directory::list_sessions, directory::end_sessions))
        .routes(routes!(directory::end_session))
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::get_case, cases::update_case))
        .routes(routes!(cases::transition_case))
        .routes(routes!(cases::add_note, cases::list_notes))
        .routes(routes!(cases::list_events))
        .routes(routes!(record::list_parties, record::add_party))
        .routes(routes!(record::update_party, record::remove_party))
        .routes(routes!(record::list_premises, record::add_premises))
        .routes(routes!(record::update_premises, record::remove_premises))
        .routes(routes!(record::get_decision))
        .routes(routes!(record::correct_decision))
        .routes(routes!(record::list_case_types, record::add_case_type))
        .routes(routes!(record::update_case_type))
        .merge(
            // Uploads are limited by `attachment_limit_bytes` as they stream, not by the body limit.
            OpenApiRouter::new()
                .routes(routes!(record::upload_attachment, record::list_attachments))
                .layer(DefaultBodyLimit::disable()),
        )
        // Two paths: one `routes!` each, or both would answer both methods.
        .routes(routes!(record::download_attachment))
        .routes(routes!(record::delete_attachment))
        .routes(routes!(
            deadlines::request_supplement,
            deadlines::list_supplements
        ))
        .routes(routes!(deadlines::receive_supplement))
        .routes(routes!(deadlines::extend_deadline))
        .routes(routes!(deadlines::request_decision))
        .routes(routes!(handoffs::request_handoff, handoffs::case_handoffs))
        .routes(routes!(handoffs::list_handoffs))
        .routes(routes!(handoffs::get_handoff))
        .routes(routes!(handoffs::accept_handoff))
        .routes(routes!(handoffs::complete_handoff))
        .routes(routes!(handoffs::decline_handoff))
        .routes(routes!(handoffs::cancel_handoff))
        .routes(routes!(companies::get_company))
        .routes(routes!(public::my_cases))
        .routes(routes!(public::my_case))
        .routes(routes!(public::follow))
        .routes(routes!(
            public::create_follow_link,
            public::list_follow_links
        ))
        .routes(routes!(public::revoke_follow_link))
        .routes(routes!(public::my_case_message))
        .routes(routes!(public::follow_message))
        .merge(
            // Documents are limited by `attachment_limit_bytes` as they stream.
            OpenApiRouter::new()
                .routes(routes!(public::follow_supplement))
                .routes(routes!(public::my_case_supplement))
                .routes(routes!(e_services::apply))
                .layer(DefaultBodyLimit::disable()),
        )
        .routes(routes!(e_services::catalogue))
        .routes(routes!(e_services::e_service))
        .routes(routes!(e_services::list_admin))
        .routes(routes!(e_services::put))
        .routes(routes!(public::list_messages, public::send_message))
        .routes(routes!(companies::create_bundle, companies::list_bundles))
        .routes(routes!(companies::get_bundle))
        .routes(routes!(companies::add_bundle_case))
        .routes(routes!(companies::remove_bundle_case))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::retry_delivery))
        .routes(routes!(surveys::import_responses))
        .routes(routes!(surveys::pending_invitations))
        .routes(routes!(survey_page::show, survey_page::answer))
        .routes(routes!(metrics::handling_times))
        .routes(routes!(metrics::nki))
        .routes(routes!(metrics::time_in_state))
        .routes(routes!(metrics::channels))
        .routes(routes!(metrics::nki_trend))
        .routes(routes!(metrics::nki_change))
        .routes(routes!(metrics::comparison))
        .routes(routes!(metrics::board_xlsx))
        .routes(routes!(metrics::linkage))
        .routes(routes!(metrics::bottlenecks))
        .routes(routes!(metrics::deadlines))
        .routes(routes!(metrics::cases_csv))
        .routes(routes!(metrics::xes))
        .routes(routes!(metrics::ocel))
        .routes(routes!(import::import_cases))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

/// The OpenAPI document the code describes; `openapi/openapi.json` must equal it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = contract::complete(api_doc_uncompleted());
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// The document as the annotations alone give it, before `contract` completes it.
fn api_doc_uncompleted() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// The OpenAPI document as the pretty JSON that is checked in.
pub fn openapi_json() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Messages and supplement answers one follow link or one company login may send in an hour.
pub const COMPANY_POSTS_PER_HOUR: u32 = 30;

impl AppState {
    /// Connects the services to `db`, reading or creating the token-signing secret.
    pub async fn new(config: Config, db: Db, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // Other processes' changes to users and sessions (PostgreSQL); it ends with the runtime.
        tokio::spawn(lots_store::identity::listen(
            db.clone(),
            std::future::pending(),
        ));
        let secret = auth::signing_secret(&config, &db, clock.now()).await?;
        let jwt = Arc::new(auth::JwtKeys::new(&secret, &config));
        let session = Arc::new(web::session::SessionKey::derive(
            &secret,
            config.base_url().starts_with("https://"),
        ));
        let survey_key = auth::stored_secret(
            config.survey_secret.as_ref(),
            &db,
            "survey_secret",
            "LOTS_SURVEY_SECRET",
            "survey-token",
            clock.now(),
        )
        .await?;
        let surveys = Surveys::new(
            db.clone(),
            SurveySettings {
                key: survey_key,
                instrument: config.nki.clone(),
                token_days: config.survey_token_days,
                public_base_url: config.base_url(),
            },
        );
        let webhooks = Webhooks::new(
            db.clone(),
            clock.clone(),
            chrono::Duration::hours(config.webhook_dead_letter_hours),
            config.webhook_allow_private_networks,
        );
        let cases = Cases::new(
            db.clone(),
            clock.clone(),
            Arc::new(DeadlineRules::with_overrides(&config.deadlines)),
        )
        .with_base_url(&config.base_url());
        let e_services = EServices::new(cases.clone());
        let added = e_services.add_builtin_e_services().await?;
        if added > 0 {
            tracing::info!(
                e_services = added,
                "added the e-services Lots ships with (unpublished until an admin gives each a department)"
            );
        }
        let attachments = Attachments::new(
            cases.clone(),
            AttachmentSettings {
                dir: config.attachments_path(),
                max_bytes: config.attachment_limit_bytes,
            },
        );
        // A draft untouched for 30 days is never opened again: its row goes at start, and the
        // bytes of the documents only it held.
        let dropped = attachments.forget_old_drafts().await?;
        if dropped > 0 {
            tracing::info!(
                documents = dropped,
                "removed the documents of forgotten application drafts"
            );
        }
        match attachments.remove_stale_uploads().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                files = n,
                "removed temporary files of uploads that never finished"
            ),
            Err(e) => tracing::warn!(error = %e, "could not look for stale temporary upload files"),
        }
        let oidc = Arc::new(oidc::Oidc::new(&config)?);
        Ok(Self::from_services(state::Services {
            directory: Directory::new(db.clone(), clock.clone()),
            representatives: lots_cases::representatives::Representatives::new(
                db.clone(),
                clock.clone(),
            ),
            oidc,
            company_posts: Arc::new(auth::RateLimit::new(
                COMPANY_POSTS_PER_HOUR,
                std::time::Duration::from_secs(3600),
            )),
            applications: Arc::new(auth::RateLimit::new(
                routes::e_services::APPLICATIONS_PER_HOUR,
                std::time::Duration::from_secs(3600),
            )),
            draft_posts: Arc::new(auth::RateLimit::new(
                routes::e_services::DRAFT_POSTS_PER_HOUR,
                std::time::Duration::from_secs(3600),
            )),
            sessions: Sessions::new(db.clone(), clock.clone()),
            attachments,
            cases: cases.clone(),
            supplements: lots_cases::Supplements::new(cases.clone()),
            messages: lots_cases::Messages::new(cases.clone()),
            drafts: lots_cases::Drafts::new(cases.clone()),
            company_side: lots_cases::CompanySide::new(cases.clone()),
            companies: Companies::new(cases.clone()),
            case_types: CaseTypes::new(db.clone(), clock.clone()),
            record: Record::new(cases.clone()),
            e_services,
            handoffs: Handoffs::new(db.clone(), clock.clone(), cases),
            surveys,
            webhooks,
            clock,
            config: Arc::new(config),
            db,
            jwt,
            metrics: Arc::default(),
            logins: Arc::default(),
            rollups: Arc::default(),
            session,
        }))
    }
}

impl AppState {
    /// The background worker for this configuration and database.
    pub fn worker(&self) -> anyhow::Result<Worker> {
        let c = &self.config;
        let settings = WorkerSettings {
            tick: std::time::Duration::from_millis(c.worker_tick_ms),
            delivery_timeout: std::time::Duration::from_secs(c.webhook_timeout_seconds),
            dead_letter_after: chrono::Duration::hours(c.webhook_dead_letter_hours),
            per_subscription: c.webhook_concurrency,
            base_backoff: std::time::Duration::from_secs(c.webhook_backoff_seconds),
            approaching_days: c.deadline_approaching_days,
            allow_private_networks: c.webhook_allow_private_networks,
            ..WorkerSettings::default()
        };
        let mailer =
            lots_hooks::mail::Mailer::new(c.smtp_url.as_ref(), &c.mail_from, c.mail_path())
                .map_err(anyhow::Error::msg)?;
        Ok(Worker::new(
            self.db.clone(),
            self.clock.clone(),
            settings,
            self.surveys.clone(),
        )
        .map_err(anyhow::Error::msg)?
        .with_mailer(Arc::new(mailer)))
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The application with `extra` routes behind the same middleware (for tests that need a
/// handler of their own, e.g. one that panics).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let (router, _) = api_router().split_for_parts();
    let router = router.merge(extra).merge(web::router());
    let doc = openapi();
    let body_limit = state.config.body_limit_bytes;
    router
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .fallback(|| async { ApiError::not_found("no such resource") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::timeout))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    // A survey link's token is a secret: it never reaches the logs.
                    let path = req.uri().path();
                    let path = if path.starts_with("/survey/") { "/survey/{token}" } else { path };
                    tracing::info_span!("request", method = %req.method(), uri = %path, request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CompressionLayer::new())
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(state)
}

fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %message, "a handler panicked");
    ApiError::internal().into_response()
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address keys the limit on anonymous applications.
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
