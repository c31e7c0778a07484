//! The web pages: server-rendered Swedish HTML for officers and managers, on the same service
//! functions and `Actor` as the JSON API. A signed cookie naming a server-side session logs in;
//! every form carries the session's CSRF token. Not part of the OpenAPI document.

pub mod apply;
pub mod case_page;
pub mod cases;
pub mod company;
pub mod coordination;
pub mod dashboard;
pub mod html;
pub mod key_figures;
pub mod report;
pub mod session;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lots_cases::{FieldError, ServiceError};
use lots_core::{Actor, Role};

use crate::state::AppState;
use html::Viewer;
use session::Session;

/// The pages, merged into the application beside the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/lots.css", get(css))
        .route("/logga-in", get(login_form).post(login))
        .route("/logga-ut", post(logout))
        .route("/arenden", get(cases::mine))
        .route("/arenden/sok", get(cases::search))
        .route("/arenden/nytt", get(cases::new_form).post(cases::register))
        .route("/arenden/{id}", get(cases::show))
        .route("/arenden/{id}/status", post(cases::change_status))
        .route(
            "/arenden/{id}/komplettering",
            post(cases::request_supplement),
        )
        .route(
            "/arenden/{id}/komplettering/{rid}/inkommen",
            post(cases::receive_supplement),
        )
        .route("/arenden/{id}/forlangning", post(cases::extend))
        .route("/arenden/{id}/anteckning", post(cases::note))
        .route("/arenden/{id}/meddelande", post(cases::message))
        .route("/arenden/{id}/foljlank", post(cases::create_follow_link))
        .route(
            "/arenden/{id}/foljlank/{link}/aterkalla",
            post(cases::revoke_follow_link),
        )
        .route("/arenden/{id}/overlamning", post(cases::hand_off))
        .route("/arenden/{id}/uppgifter", post(cases::edit))
        .route("/arenden/{id}/avgorande", post(cases::request_decision))
        .route("/overlamningar", get(coordination::inbox))
        .route(
            "/overlamningar/{id}/{action}",
            post(coordination::handoff_action),
        )
        .route("/foretag", get(coordination::company))
        .route(
            "/samordnade",
            get(coordination::bundles).post(coordination::create_bundle),
        )
        .route("/samordnade/{id}", get(coordination::bundle))
        .route(
            "/samordnade/{id}/arenden",
            post(coordination::add_to_bundle),
        )
        .route("/oversikt", get(dashboard::dashboard))
        .route("/oversikt/rapport", get(report::page))
        .route("/logga-in/oidc", get(crate::oidc::pages::officers_start))
        .route(
            crate::oidc::OFFICERS_CALLBACK,
            get(crate::oidc::pages::officers_callback),
        )
        .route(
            "/foretag/logga-in",
            get(crate::oidc::pages::companies_start),
        )
        .route(
            crate::oidc::COMPANIES_CALLBACK,
            get(crate::oidc::pages::companies_callback),
        )
        .route(
            "/foretag/logga-ut",
            post(crate::oidc::pages::company_logout),
        )
        .route("/mina-arenden", get(company::mine))
        .route("/mina-arenden/{id}", get(company::one))
        .route("/mina-arenden/{id}/meddelanden", post(company::one_message))
        .route(
            "/mina-arenden/{id}/kompletteringar/{rid}",
            post(company::one_supplement),
        )
        .route("/e-tjanster", get(apply::catalogue))
        .route(
            "/e-tjanster/{slug}",
            // Documents are limited by `attachment_limit_bytes` as they stream.
            get(apply::form)
                .post(apply::post)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/folj/{token}", get(company::follow))
        .route("/folj/{token}/meddelanden", post(company::follow_message))
        .route(
            "/folj/{token}/kompletteringar/{rid}",
            post(company::follow_supplement),
        )
}

/// A logged-in user of the pages. A request without a valid session is sent to the login page.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub actor: Actor,
    pub viewer: Viewer,
    pub session: Session,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let refuse = || -> Response {
            if parts.method == Method::GET || parts.method == Method::HEAD {
                Redirect::to("/logga-in").into_response()
            } else {
                html::message(
                    StatusCode::FORBIDDEN,
                    "Du är inte inloggad",
                    "Logga in igen och försök på nytt. Inget har ändrats.",
                    None,
                )
            }
        };
        resolve(&parts.headers, state).await.ok_or_else(refuse)
    }
}

/// The logged-in user behind the session cookie in `headers`, if any: the session's row must
/// exist, not have expired, and belong to an active user.
pub async fn resolve(headers: &HeaderMap, state: &AppState) -> Option<WebUser> {
    let live = session::live(headers, state).await?;
    let viewer = Viewer {
        username: live.actor.username.clone(),
        display_name: live.display_name,
        role: live.actor.role,
        department: live.department,
        csrf: live.csrf.clone(),
    };
    Some(WebUser {
        actor: live.actor,
        viewer,
        session: Session {
            id: live.id,
            csrf: live.csrf,
        },
    })
}

/// The numeric id in a page's path; anything else is the Swedish "not found" page, not a 400.
#[derive(Debug, Clone, Copy)]
pub struct WebId(pub i64);

impl FromRequestParts<AppState> for WebId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(WebId(id)),
            Err(_) => Err(html::message(
                StatusCode::NOT_FOUND,
                "Hittades inte",
                "Adressen pekar inte på något ärende eller samordnat ärende.",
                None,
            )),
        }
    }
}

/// A posted form from a logged-in user whose CSRF token matched; anything else is refused with
/// 403 before a handler runs, so nothing changes.
#[derive(Debug)]
pub struct WebForm {
    pub user: WebUser,
    pub fields: HashMap<String, String>,
}

impl WebForm {
    /// The trimmed value of `name`, `None` when empty or absent.
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn raw(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

impl FromRequest<AppState> for WebForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let fields = read_form(req, state).await?;
        if !csrf_matches(fields.get("csrf").map(String::as_str), &user.session.csrf) {
            return Err(csrf_refused(Some(&user.viewer)));
        }
        Ok(WebForm { user, fields })
    }
}

pub(crate) async fn read_form(
    req: Request,
    state: &AppState,
) -> Result<HashMap<String, String>, Response> {
    let is_form = crate::extract::content_type(req.headers()).is_some_and(|v| {
        v.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(html::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Formuläret kunde inte läsas",
            "Skicka formuläret från sidan. Inget har ändrats.",
            None,
        ));
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|_| {
        html::message(
            StatusCode::BAD_REQUEST,
            "Formuläret kunde inte läsas",
            "Formuläret var för stort eller trasigt. Inget har ändrats.",
            None,
        )
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
        html::message(
            StatusCode::BAD_REQUEST,
            "Formuläret kunde inte läsas",
            "Formuläret var trasigt. Inget har ändrats.",
            None,
        )
    })?;
    Ok(pairs.into_iter().collect())
}

/// Compares in constant time, so a secret (a CSRF token, a sign-in's `state`) cannot be
/// guessed byte by byte.
pub(crate) fn csrf_matches(posted: Option<&str>, expected: &str) -> bool {
    let Some(posted) = posted else { return false };
    let (a, b) = (posted.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_refused(viewer: Option<&Viewer>) -> Response {
    html::message(
        StatusCode::FORBIDDEN,
        "Formuläret har gått ut",
        "Formuläret kom inte från den här inloggningen (säkerhetskoden saknas eller stämmer inte). Ladda om sidan och försök igen. Inget har ändrats.",
        viewer,
    )
}

/// The page for a service error that is not about a form's fields.
pub fn service_error_page(e: ServiceError, viewer: &Viewer) -> Response {
    match e {
        ServiceError::NotFound(_) => html::message(
            StatusCode::NOT_FOUND,
            "Hittades inte",
            "Det finns inget sådant, eller så har du inte behörighet att se det.",
            Some(viewer),
        ),
        ServiceError::Forbidden(_) => html::message(
            StatusCode::FORBIDDEN,
            "Ingen behörighet",
            "Du har inte behörighet till det här. Inget har ändrats.",
            Some(viewer),
        ),
        ServiceError::Validation(errors) => html::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Uppgifterna behöver rättas",
            &errors
                .iter()
                .map(|e| format!("{}: {}", e.field, html::message_sv(&e.message)))
                .collect::<Vec<_>>()
                .join(" "),
            Some(viewer),
        ),
        ServiceError::Conflict(_) | ServiceError::PreconditionFailed { .. } => html::message(
            StatusCode::CONFLICT,
            "Det gick inte",
            "Ärendet har ändrats eller tillåter inte det här just nu. Ladda om sidan. Inget har ändrats.",
            Some(viewer),
        ),
        other => {
            tracing::error!(error = %other, "web page error");
            html::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Något gick fel",
                "Något gick fel hos oss; felet är loggat. Försök igen om en stund.",
                Some(viewer),
            )
        }
    }
}

/// 303 See Other to `to` (after a successful form).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn css() -> Response {
    html::with_headers(
        html::CSS.into_response(),
        &[
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
    )
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match resolve(&headers, &state).await {
        Some(u) if u.actor.role == Role::Manager => see_other("/oversikt"),
        Some(_) => see_other("/arenden"),
        None => see_other("/logga-in"),
    }
}

/// What the sign-in page offers: the identity provider's button, and the password form for
/// everyone (`local`) or only for the break-glass admin.
#[derive(Debug, Clone, Copy)]
struct SignInOptions {
    provider: bool,
    local: bool,
}

async fn sign_in_options(state: &AppState) -> SignInOptions {
    let provider = state.oidc.officers.is_some();
    let configured = state
        .oidc
        .officers
        .as_ref()
        .is_none_or(|(_, p)| p.local_login);
    let local = match state.directory.sign_in_policy(configured).await {
        Ok(p) => p.local_login,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the sign-in policy");
            configured
        }
    };
    SignInOptions { provider, local }
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    username: &str,
    error: Option<&str>,
    options: SignInOptions,
) -> Response {
    let invalid = error.map(|_| "true");
    let described_by = error.map(|_| "login-error");
    let form = maud::html! {
        form method="post" action="/logga-in" {
            (html::csrf_input(csrf))
            label for="username" { "Användarnamn" }
            input type="text" id="username" name="username" autocomplete="username" required
                value=(username) aria-describedby=[described_by] aria-invalid=[invalid];
            label for="password" { "Lösenord" }
            input type="password" id="password" name="password" autocomplete="current-password"
                required aria-describedby=[described_by] aria-invalid=[invalid];
            p { button type="submit" { "Logga in" } }
        }
    };
    html::page(
        status,
        "Logga in",
        None,
        "",
        maud::html! {
            h1 { "Logga in" }
            @if let Some(e) = error {
                div class="errors" role="alert" id="login-error" { p { (e) } }
            }
            @if options.provider {
                p { a class="button" href="/logga-in/oidc" { "Logga in med kommunens konto" } }
            }
            @if options.local || !options.provider {
                @if options.provider { h2 { "Eller med användarnamn och lösenord" } }
                (form)
            } @else {
                details open[error.is_some()] {
                    summary { "Reservinloggning för administratör" }
                    p { "Inloggning med lösenord är avstängd för alla utom reservkontot." }
                    (form)
                }
            }
        },
    )
}

pub(crate) fn with_cookie(mut r: Response, cookie: HeaderValue) -> Response {
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r
}

async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if resolve(&headers, &state).await.is_some() {
        return see_other("/");
    }
    let now = state.clock.now();
    let options = sign_in_options(&state).await;
    match session::anonymous(&headers, &state) {
        Some(s) => login_page(StatusCode::OK, &s.csrf, "", None, options),
        None => {
            let s = state.session.new_anonymous(now);
            with_cookie(
                login_page(StatusCode::OK, &s.csrf, "", None, options),
                state.session.set_anonymous_cookie(&s, now),
            )
        }
    }
}

async fn login(State(state): State<AppState>, req: Request) -> Response {
    let now = state.clock.now();
    let current = session::anonymous(req.headers(), &state);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fields = match read_form(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(current) = current else {
        return csrf_refused(None);
    };
    if !csrf_matches(fields.get("csrf").map(String::as_str), &current.csrf) {
        return csrf_refused(None);
    }
    let username = fields
        .get("username")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let password = fields.get("password").cloned().unwrap_or_default();
    let options = sign_in_options(&state).await;
    if username.is_empty() || password.is_empty() {
        return login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &current.csrf,
            &username,
            Some("Fyll i både användarnamn och lösenord."),
            options,
        );
    }
    match crate::routes::auth::password_allowed(&state, &username).await {
        Ok(true) => {}
        Ok(false) => {
            return login_page(
                StatusCode::FORBIDDEN,
                &current.csrf,
                &username,
                Some("Inloggning med lösenord är avstängd. Logga in med kommunens konto."),
                options,
            );
        }
        Err(_) => {
            return html::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Något gick fel",
                "Inloggningen gick inte att genomföra just nu. Försök igen om en stund.",
                None,
            );
        }
    }
    if state.logins.check(&username).is_err() {
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &current.csrf,
            &username,
            Some("För många misslyckade inloggningar. Vänta en stund och försök igen."),
            options,
        );
    }
    let ttl = chrono::Duration::seconds(session::TTL_SECONDS);
    let started = match state.directory.authenticate(&username, &password).await {
        Ok(login) => {
            state.logins.succeeded(&username);
            state
                .sessions
                .start(login.user.id, user_agent.as_deref(), ttl)
                .await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(s) => with_cookie(
            see_other("/"),
            state.session.set_login_cookie(&s.secret, s.expires_at, now),
        ),
        Err(ServiceError::BadCredentials) => {
            state.logins.failed(&username);
            login_page(
                StatusCode::UNAUTHORIZED,
                &current.csrf,
                &username,
                Some("Fel användarnamn eller lösenord."),
                options,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "login failed");
            html::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Något gick fel",
                "Inloggningen gick inte att genomföra just nu. Försök igen om en stund.",
                None,
            )
        }
    }
}

/// Logs out: the session's row is deleted, so the cookie (and any copy of it) stops working at
/// once, and the browser's cookie is cleared. The form's CSRF token proves the user meant it.
async fn logout(State(state): State<AppState>, form: WebForm) -> Response {
    if let Err(e) = state.sessions.end(&form.user.session.id).await {
        tracing::error!(error = %e, "cannot end a web session");
        return html::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Något gick fel",
            "Utloggningen gick inte att genomföra just nu. Försök igen om en stund.",
            Some(&form.user.viewer),
        );
    }
    with_cookie(see_other("/logga-in"), state.session.clear_cookie())
}

/// Field errors keyed by field name, for the forms.
pub fn errors_of(e: &ServiceError) -> Option<Vec<FieldError>> {
    match e {
        ServiceError::Validation(v) => Some(v.clone()),
        _ => None,
    }
}
