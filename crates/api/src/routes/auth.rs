//! Logging in, who am I, and changing my password.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lots_cases::directory::is_wrong_password;
use lots_cases::sign_in::{SignInPolicy, SignInPolicyInput};
use lots_cases::{PasswordChange, ServiceError, SessionView, UserView};
use serde::{Deserialize, Serialize};

use super::problems::{MalformedJson, NotAdmin, NotJson, NotLoggedIn};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "anna", "password": "the password printed by lots demo"}))]
pub struct TokenRequest {
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9...", "token_type": "Bearer", "expires_in": 3600}))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// Log in: exchange a username and password for an access token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()),
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        MalformedJson, NotJson,
        (status = 401, description = "Wrong username or password (the answer does not say which)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Password sign-in is turned off (`/api/v1/settings/sign-in`) and this is not the break-glass admin", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user; wait (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing", body = Problem, content_type = "application/problem+json")))]
pub async fn token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let mut missing = Vec::new();
    for (field, value) in [("username", &req.username), ("password", &req.password)] {
        if value.as_deref().is_none_or(str::is_empty) {
            missing.push(lots_cases::FieldError {
                field: field.into(),
                message: "is required".into(),
            });
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let username = req.username.as_deref().unwrap_or_default();
    if !password_allowed(&state, username).await? {
        return Err(ApiError::forbidden(
            "password sign-in is turned off: sign in through the municipality's identity provider",
        ));
    }
    if let Err(wait) = state.logins.check(username) {
        return Err(ApiError::too_many_requests(wait));
    }
    let user = state
        .directory
        .authenticate(
            req.username.as_deref().unwrap_or_default(),
            req.password.as_deref().unwrap_or_default(),
        )
        .await;
    let login = match user {
        Ok(u) => u,
        Err(ServiceError::BadCredentials) => {
            state.logins.failed(username);
            tracing::info!("failed login");
            return Err(ServiceError::BadCredentials.into());
        }
        Err(e) => return Err(e.into()),
    };
    state.logins.succeeded(username);
    let access_token = state
        .jwt
        .issue(&login.user, login.token_version, state.directory.now())?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_seconds(),
    }))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = UserView),
        NotLoggedIn))]
pub async fn me(Caller { state, actor }: Caller) -> ApiResult<Json<UserView>> {
    let user = state
        .directory
        .user(actor.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("log in again"))?;
    Ok(Json(user))
}

/// Change your own password. The current password is required and counts as a login attempt:
/// a wrong one answers 422 naming `old_password` and counts toward the same lock-out as failed
/// logins (after 10 within 15 minutes, 429). On success every web session of yours ends and
/// every token of yours stops working, this request's too: log in again with the new password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; log in again: your tokens and web sessions have ended"),
        MalformedJson, NotLoggedIn, NotJson,
        (status = 409, description = "You sign in through the identity provider and have no password in Lots", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`old_password` is missing or wrong, or `new_password` is missing, too short (under 12 characters), too long (over 1024 bytes), the username, a common password or the current one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins or wrong current passwords for this user; wait (Retry-After)", body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    if let Err(wait) = state.logins.check(&actor.username) {
        return Err(ApiError::too_many_requests(wait));
    }
    match state.directory.change_password(&actor, input).await {
        Ok(()) => {
            state.logins.succeeded(&actor.username);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(e) => {
            if is_wrong_password(&e) {
                state.logins.failed(&actor.username);
                tracing::info!("wrong current password in a password change");
            }
            Err(e.into())
        }
    }
}

/// Whether `username` may sign in with a password under the policy in force.
pub async fn password_allowed(state: &AppState, username: &str) -> ApiResult<bool> {
    let configured = state
        .oidc
        .officers
        .as_ref()
        .is_none_or(|(_, p)| p.local_login);
    Ok(state
        .directory
        .sign_in_policy(configured)
        .await?
        .allows_password(username))
}

/// Your own live web sessions: when each started and ends, when it was last used, the browser.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth",
    responses(
        (status = 200, description = "Your live web sessions, newest first", body = [SessionView]),
        NotLoggedIn))]
pub async fn my_sessions(Caller { state, actor }: Caller) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(state.sessions.list_own(&actor).await?))
}

/// End one of your own web sessions (log a browser out), by the `id` the list shows.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "The session's id as `GET /api/v1/me/sessions` shows it")),
    responses(
        (status = 204, description = "The session has ended; its cookie no longer works"),
        NotLoggedIn,
        (status = 404, description = "No live session of yours has that id", body = Problem, content_type = "application/problem+json")))]
pub async fn end_my_session(
    Caller { state, actor }: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.sessions.end_own(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How people may sign in (admin): whether password sign-in is on for everyone, and the
/// break-glass admin who keeps it when it is off.
#[utoipa::path(get, path = "/api/v1/settings/sign-in", tag = "auth",
    responses(
        (status = 200, description = "The policy in force", body = SignInPolicy),
        NotLoggedIn, NotAdmin))]
pub async fn get_sign_in_policy(Caller { state, actor }: Caller) -> ApiResult<Json<SignInPolicy>> {
    crate::auth::require(&actor, lots_core::access::Capability::Administer)?;
    let configured = state
        .oidc
        .officers
        .as_ref()
        .is_none_or(|(_, p)| p.local_login);
    Ok(Json(state.directory.sign_in_policy(configured).await?))
}

/// Turn password sign-in off for everyone but a break-glass admin, or on again (admin). Off
/// needs an identity provider for officers (`[oidc.officers]`) and a break-glass admin: an
/// active admin with a password.
#[utoipa::path(put, path = "/api/v1/settings/sign-in", tag = "auth",
    request_body = SignInPolicyInput,
    responses(
        (status = 200, description = "The policy now in force", body = SignInPolicy),
        MalformedJson, NotLoggedIn, NotAdmin, NotJson,
        (status = 422, description = "`local_login` missing, or false without an identity provider; `break_glass` missing (when off) or not an active admin with a password", body = Problem, content_type = "application/problem+json")))]
pub async fn set_sign_in_policy(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<SignInPolicyInput>,
) -> ApiResult<Json<SignInPolicy>> {
    crate::auth::require(&actor, lots_core::access::Capability::Administer)?;
    let configured = state.oidc.officers.is_some();
    Ok(Json(
        state
            .directory
            .set_sign_in_policy(&actor, input, configured)
            .await?,
    ))
}
