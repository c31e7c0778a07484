//! Departments, users, and ending users' sessions.

use axum::Json;
use axum::http::StatusCode;
use lots_cases::{DepartmentView, NewDepartment, NewUser, SessionView, UserPatch, UserView};

use super::created;
use super::problems::{InvalidFields, MalformedJson, NoSuchUser, NotAdmin, NotJson, NotLoggedIn};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Id};

/// All departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "directory",
    responses(
        (status = 200, description = "Every department", body = [DepartmentView]),
        NotLoggedIn))]
pub async fn list_departments(
    Caller { state, actor }: Caller,
) -> ApiResult<Json<Vec<DepartmentView>>> {
    Ok(Json(state.directory.list_departments(&actor).await?))
}

/// Create a department (admin).
#[utoipa::path(post, path = "/api/v1/departments", tag = "directory",
    request_body = NewDepartment,
    responses(
        (status = 201, description = "Created", body = DepartmentView),
        NotLoggedIn, NotAdmin, InvalidFields,
        (status = 409, description = "The code or diary prefix is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create_department(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewDepartment>,
) -> ApiResult<(StatusCode, Json<DepartmentView>)> {
    Ok(created(
        state.directory.create_department(&actor, input).await?,
    ))
}

/// All users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "directory",
    responses(
        (status = 200, description = "Every user", body = [UserView]),
        NotLoggedIn, NotAdmin))]
pub async fn list_users(Caller { state, actor }: Caller) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(state.directory.list_users(&actor).await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "directory",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        NotLoggedIn, NotAdmin, InvalidFields,
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok(created(state.directory.create_user(&actor, input).await?))
}

/// Change a user (admin): display name, password, active, role, department. A new password,
/// `active: false`, another role or another department ends the user's web sessions and
/// invalidates their tokens at once. An admin cannot deactivate themselves.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "directory",
    params(("id" = i64, Path, description = "The user id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The user as changed", body = UserView),
        MalformedJson, NotLoggedIn, NotAdmin, NoSuchUser, NotJson,
        (status = 422, description = "Invalid fields: a password against the policy, an unknown role or department, an officer or manager without a department, deactivating yourself", body = Problem, content_type = "application/problem+json")))]
pub async fn update_user(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(state.directory.update_user(&actor, id, patch).await?))
}

/// A user's live web sessions (admin): when each started and ends, when it was last used, and
/// the browser; never a session's secret, only the start of its key.
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "directory",
    params(("id" = i64, Path, description = "The user id")),
    responses(
        (status = 200, description = "The user's live web sessions, newest first", body = [SessionView]),
        NotLoggedIn, NotAdmin, NoSuchUser))]
pub async fn list_sessions(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(state.sessions.list(&actor, id).await?))
}

/// Log a user out everywhere (admin): every web session of theirs ends and every token of
/// theirs stops working.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "directory",
    params(("id" = i64, Path, description = "The user id")),
    responses(
        (status = 204, description = "Every session ended and every token revoked"),
        NotLoggedIn, NotAdmin, NoSuchUser))]
pub async fn end_sessions(Caller { state, actor }: Caller, Id(id): Id) -> ApiResult<StatusCode> {
    state.sessions.end_all(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log one browser of a user out (admin), by the session `id` their list shows; their other
/// sessions and their tokens go on working.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions/{session_id}", tag = "directory",
    params(("id" = i64, Path, description = "The user id"), ("session_id" = String, Path, description = "The session's id as the list shows it")),
    responses(
        (status = 204, description = "That session has ended"),
        NotLoggedIn, NotAdmin,
        (status = 404, description = "No such user, or no live session of theirs has that id", body = Problem, content_type = "application/problem+json")))]
pub async fn end_session(
    Caller { state, actor }: Caller,
    axum::extract::Path((id, session_id)): axum::extract::Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| crate::error::ApiError::not_found("no such resource"))?;
    state.sessions.end_one(&actor, id, &session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
