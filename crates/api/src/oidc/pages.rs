//! The sign-in pages of the identity providers: `/logga-in/oidc` (officers) and
//! `/foretag/logga-in` (company representatives) send the browser to the provider with PKCE, a
//! fresh `state` and `nonce` kept in a short-lived signed cookie; the callbacks check them, let
//! the provider's token be verified, map the person, and start a server-side session. Every
//! refusal is a Swedish page that says what to do, and creates nothing.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use lots_cases::external::Refusal;
use maud::html;
use serde::Deserialize;

use super::mapping::{self, Unmapped};
use super::provider::{OidcError, Provider};
use crate::state::AppState;
use crate::web::{html as page, session, with_cookie};

/// The cookie that carries a sign-in in progress from the start to the callback.
const FLOW_COOKIE: &str = "lots_oidc";
const FLOW_PURPOSE: &str = "oidc flow v1";
/// How long the person has at the provider.
const FLOW_TTL_SECONDS: i64 = 600;
/// The company representatives' login cookie.
pub const COMPANY_COOKIE: &str = "lots_foretag";
const COMPANY_PURPOSE: &str = "company session v1";
/// How long a representative's login lasts.
const COMPANY_TTL_SECONDS: i64 = 2 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Officers,
    Companies,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Officers => "o",
            Kind::Companies => "c",
        }
    }

    fn restart(self) -> &'static str {
        match self {
            Kind::Officers => "/logga-in",
            Kind::Companies => "/foretag/logga-in",
        }
    }

    fn provider(self, state: &AppState) -> Option<&Provider> {
        match self {
            Kind::Officers => state.oidc.officers.as_ref().map(|(p, _)| p),
            Kind::Companies => state.oidc.companies.as_ref().map(|(p, _)| p),
        }
    }
}

/// A sign-in in progress, as its cookie holds it.
struct Flow {
    kind: Kind,
    state: String,
    nonce: String,
    verifier: String,
}

fn read_flow(headers: &HeaderMap, state: &AppState) -> Option<Flow> {
    let value = session::named_cookie(headers, FLOW_COOKIE)?;
    let payload = state.session.open(FLOW_PURPOSE, value)?;
    let mut parts = payload.split('|');
    let kind = match parts.next()? {
        "o" => Kind::Officers,
        "c" => Kind::Companies,
        _ => return None,
    };
    let (st, nonce, verifier) = (parts.next()?, parts.next()?, parts.next()?);
    let expires: i64 = parts.next()?.parse().ok()?;
    if expires <= state.clock.now().timestamp() || parts.next().is_some() {
        return None;
    }
    Some(Flow {
        kind,
        state: st.to_string(),
        nonce: nonce.to_string(),
        verifier: verifier.to_string(),
    })
}

fn clear_flow(state: &AppState) -> axum::http::HeaderValue {
    state.session.other_cookie(FLOW_COOKIE, "", 0, true)
}

/// `GET /logga-in/oidc`: to the municipality's provider.
pub async fn officers_start(State(state): State<AppState>) -> Response {
    start(&state, Kind::Officers).await
}

/// `GET /foretag/logga-in`: to the e-ID broker.
pub async fn companies_start(State(state): State<AppState>) -> Response {
    start(&state, Kind::Companies).await
}

async fn start(state: &AppState, kind: Kind) -> Response {
    let Some(provider) = kind.provider(state) else {
        return not_configured();
    };
    match provider.start().await {
        Ok(started) => {
            let now = state.clock.now().timestamp();
            let payload = format!(
                "{}|{}|{}|{}|{}",
                kind.tag(),
                started.state,
                started.nonce,
                started.pkce_verifier,
                now + FLOW_TTL_SECONDS
            );
            let cookie = state.session.other_cookie(
                FLOW_COOKIE,
                &state.session.seal(FLOW_PURPOSE, &payload),
                FLOW_TTL_SECONDS,
                true,
            );
            let mut r = crate::web::see_other(&started.url);
            r.headers_mut().append(header::SET_COOKIE, cookie);
            r
        }
        Err(e) => {
            tracing::error!(error = %e, issuer = provider.issuer(), "cannot start a sign-in");
            unavailable(state, kind).await
        }
    }
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /logga-in/oidc/callback`.
pub async fn officers_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let claims = match verified(&state, &headers, &q, Kind::Officers).await {
        Ok(c) => c,
        Err(r) => return with_cookie(r, clear_flow(&state)),
    };
    let Some((_, settings)) = &state.oidc.officers else {
        return not_configured();
    };
    let r = officer_login(&state, &headers, settings, &claims).await;
    with_cookie(r, clear_flow(&state))
}

async fn officer_login(
    state: &AppState,
    headers: &HeaderMap,
    settings: &super::config::OfficersProvider,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Response {
    let who = match mapping::officer(settings, claims) {
        Ok(w) => w,
        Err(e) => {
            tracing::info!(reason = %e, "a sign-in maps to nobody in Lots");
            return match e {
                Unmapped::NoRule => refused(
                    "Du har ingen behörighet i Lots",
                    "Du är inloggad hos kommunen, men ditt konto hör inte till någon grupp som ger behörighet i Lots. Kontakta din chef eller Lots administratör om du behöver komma åt Lots. Inget konto har skapats.",
                ),
                _ => refused(
                    "Inloggningen gav inte de uppgifter Lots behöver",
                    "Kommunens inloggning skickade inte ditt användarnamn. Kontakta Lots administratör. Inget konto har skapats.",
                ),
            };
        }
    };
    let result = async {
        let policy = state.directory.sign_in_policy(settings.local_login).await?;
        state
            .directory
            .provision(&who, policy.break_glass.as_deref())
            .await
    }
    .await;
    let login = match result {
        Ok(Ok(l)) => l,
        Ok(Err(refusal)) => {
            tracing::warn!(reason = %refusal, username = %who.username, "refused a sign-in");
            return refusal_page(&refusal);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot provision a signed-in user");
            return failed();
        }
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    match state
        .sessions
        .start(
            login.user.id,
            user_agent,
            Duration::seconds(session::TTL_SECONDS),
        )
        .await
    {
        Ok(s) => {
            let now = state.clock.now();
            tracing::info!(username = %login.user.username, "signed in through the identity provider");
            with_cookie(
                continue_to("/"),
                state.session.set_login_cookie(&s.secret, s.expires_at, now),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start a web session");
            failed()
        }
    }
}

/// `GET /foretag/logga-in/callback`.
pub async fn companies_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let claims = match verified(&state, &headers, &q, Kind::Companies).await {
        Ok(c) => c,
        Err(r) => return with_cookie(r, clear_flow(&state)),
    };
    let Some((_, settings)) = &state.oidc.companies else {
        return not_configured();
    };
    let today = state.clock.now().date_naive();
    let who = match mapping::representative(settings, &claims, today) {
        Ok(w) => w,
        Err(e) => {
            tracing::info!(reason = %e, "a company sign-in without a valid personnummer");
            return with_cookie(
                refused(
                    "Inloggningen gav inget giltigt personnummer",
                    "E-legitimationen skickade inget giltigt personnummer, så vi vet inte vem du är. Försök igen, eller kontakta kommunen.",
                ),
                clear_flow(&state),
            );
        }
    };
    let r = match state
        .representatives
        .start(&who, Duration::seconds(COMPANY_TTL_SECONDS))
        .await
    {
        Ok(s) => {
            let max_age = (s.expires_at - state.clock.now()).num_seconds().max(0);
            let cookie = state.session.other_cookie(
                COMPANY_COOKIE,
                &company_cookie(&state, &s.secret),
                max_age,
                false,
            );
            with_cookie(continue_to("/mina-arenden"), cookie)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start a company session");
            failed()
        }
    };
    with_cookie(r, clear_flow(&state))
}

/// The checks every callback makes: a sign-in of this kind was started in this browser and has
/// not expired, `state` is the one it was started with, the provider did not report an error,
/// and the code exchange gives a verified ID token (signature, issuer, audience, expiry,
/// nonce). Returns its claims, or the page that says what went wrong.
async fn verified(
    state: &AppState,
    headers: &HeaderMap,
    q: &Callback,
    kind: Kind,
) -> Result<serde_json::Map<String, serde_json::Value>, Response> {
    let Some(provider) = kind.provider(state) else {
        return Err(not_configured());
    };
    let flow = read_flow(headers, state).filter(|f| f.kind == kind);
    let Some(flow) = flow.filter(|f| {
        q.state
            .as_deref()
            .is_some_and(|s| crate::web::csrf_matches(Some(s), &f.state))
    }) else {
        tracing::info!("a sign-in callback without its matching state");
        return Err(restart_page(
            kind,
            StatusCode::BAD_REQUEST,
            "Inloggningen kunde inte slutföras",
            "Inloggningen tog för lång tid, eller startades i en annan flik eller webbläsare. Börja om.",
        ));
    };
    if let Some(error) = &q.error {
        tracing::info!(error = %error.chars().take(100).collect::<String>(), "the provider ended a sign-in with an error");
        return Err(restart_page(
            kind,
            StatusCode::UNAUTHORIZED,
            "Inloggningen avbröts",
            "Inloggningen avbröts eller nekades hos identitetsleverantören. Du kan börja om.",
        ));
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        return Err(restart_page(
            kind,
            StatusCode::BAD_REQUEST,
            "Inloggningen kunde inte slutföras",
            "Svaret från inloggningen saknade en kod. Börja om.",
        ));
    };
    provider
        .finish(code, &flow.verifier, &flow.nonce)
        .await
        .map_err(|e| match e {
            OidcError::Unavailable(_) => {
                tracing::error!(error = %e, "a sign-in failed at the provider");
                restart_page(
                    kind,
                    StatusCode::BAD_GATEWAY,
                    "Inloggningstjänsten svarar inte",
                    "Vi kunde inte nå identitetsleverantören för att slutföra inloggningen. Försök igen om en stund.",
                )
            }
            OidcError::Refused(_) | OidcError::Invalid(_) => {
                tracing::warn!(error = %e, "refused a sign-in");
                restart_page(
                    kind,
                    StatusCode::UNAUTHORIZED,
                    "Inloggningen kunde inte verifieras",
                    "Svaret från identitetsleverantören gick inte att lita på, så du är inte inloggad. Börja om; kontakta kommunen om det händer igen.",
                )
            }
        })
}

/// A page that sends the browser on with a plain link and a refresh: the login cookie is
/// `SameSite=Strict`, so it only comes along on a navigation that starts here, not on the end of
/// the provider's redirect chain.
fn continue_to(to: &'static str) -> Response {
    let r = page::page(
        StatusCode::OK,
        "Du är inloggad",
        None,
        "",
        html! {
            meta http-equiv="refresh" content=(format!("0;url={to}"));
            h1 { "Du är inloggad" }
            p { a href=(to) { "Fortsätt" } }
        },
    );
    r.into_response()
}

pub(crate) fn not_configured() -> Response {
    page::message(
        StatusCode::NOT_FOUND,
        "Inloggningen finns inte",
        "Den här inloggningen är inte inställd i Lots.",
        None,
    )
}

async fn unavailable(state: &AppState, kind: Kind) -> Response {
    let password = kind == Kind::Officers
        && state
            .directory
            .sign_in_policy(
                state
                    .oidc
                    .officers
                    .as_ref()
                    .is_none_or(|(_, s)| s.local_login),
            )
            .await
            .is_ok_and(|p| p.local_login);
    page::page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Inloggningstjänsten svarar inte",
        None,
        "",
        html! {
            h1 { "Inloggningstjänsten svarar inte" }
            p { "Vi når inte identitetsleverantören just nu. Försök igen om en stund." }
            @if password {
                p { a href="/logga-in" { "Logga in med användarnamn och lösenord i stället" } }
            } @else {
                p { a href=(kind.restart()) { "Försök igen" } }
            }
        },
    )
}

fn restart_page(kind: Kind, status: StatusCode, title: &str, text: &str) -> Response {
    page::page(
        status,
        title,
        None,
        "",
        html! {
            h1 { (title) }
            p { (text) }
            p { a href=(kind.restart()) { "Till inloggningen" } }
        },
    )
}

fn refused(title: &str, text: &str) -> Response {
    page::message(StatusCode::FORBIDDEN, title, text, None)
}

fn refusal_page(r: &Refusal) -> Response {
    match r {
        Refusal::Deactivated => refused(
            "Ditt konto är avstängt i Lots",
            "Ditt konto i Lots är avstängt. Kontakta Lots administratör om det är fel.",
        ),
        Refusal::UsernameTaken => refused(
            "Användarnamnet används redan",
            "Ditt användarnamn hör redan till en annan person i Lots. Kontakta Lots administratör. Inget har ändrats.",
        ),
        Refusal::BreakGlass => refused(
            "Det här kontot loggar in med lösenord",
            "Reservkontot för administratören loggar bara in med lösenord. Inget har ändrats.",
        ),
        Refusal::BadUsername => refused(
            "Inloggningen gav inte de uppgifter Lots behöver",
            "Kommunens inloggning skickade inget användbart användarnamn. Kontakta Lots administratör. Inget konto har skapats.",
        ),
        Refusal::UnknownDepartment(_) => refused(
            "Lots är inte färdiginställt",
            "Din grupp hos kommunen pekar på en förvaltning som inte finns i Lots. Kontakta Lots administratör. Inget konto har skapats.",
        ),
    }
}

fn failed() -> Response {
    page::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Något gick fel",
        "Inloggningen gick inte att genomföra just nu; felet är loggat. Försök igen om en stund.",
        None,
    )
}

/// The value of the company cookie that carries a representative's session `secret`.
pub fn company_cookie(state: &AppState, secret: &str) -> String {
    state.session.seal(COMPANY_PURPOSE, secret)
}

/// The representative behind the request's company cookie, if their login is live.
pub async fn representative(
    headers: &HeaderMap,
    state: &AppState,
) -> Option<lots_cases::representatives::LiveRepresentative> {
    let value = session::named_cookie(headers, COMPANY_COOKIE)?;
    let secret = state.session.open(COMPANY_PURPOSE, value)?;
    match state.representatives.resolve(&secret).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot look up a company session");
            None
        }
    }
}

/// `POST /foretag/logga-ut`: ends the representative's login on the server.
pub async fn company_logout(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let live = representative(req.headers(), &state).await;
    let fields = match crate::web::read_form(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(live) = live else {
        return crate::web::see_other("/mina-arenden");
    };
    if !crate::web::csrf_matches(fields.get("csrf").map(String::as_str), &live.csrf) {
        return page::message(
            StatusCode::FORBIDDEN,
            "Formuläret har gått ut",
            "Ladda om sidan och försök igen.",
            None,
        );
    }
    if let Err(e) = state.representatives.end(&live.id).await {
        tracing::error!(error = %e, "cannot end a company session");
        return failed();
    }
    with_cookie(
        crate::web::see_other("/mina-arenden"),
        state.session.other_cookie(COMPANY_COOKIE, "", 0, false),
    )
}
