//! Departments and users.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lots_cases::{DepartmentView, NewDepartment, NewUser, UserView};

use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

/// All departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "directory",
    responses(
        (status = 200, description = "Every department", body = [DepartmentView]),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json")))]
pub async fn list_departments(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<Vec<DepartmentView>>> {
    Ok(Json(state.directory.list_departments(&actor).await?))
}

/// Create a department (admin).
#[utoipa::path(post, path = "/api/v1/departments", tag = "directory",
    request_body = NewDepartment,
    responses(
        (status = 201, description = "Created", body = DepartmentView),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code or diary prefix is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_department(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(input): ApiJson<NewDepartment>,
) -> ApiResult<(StatusCode, Json<DepartmentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.directory.create_department(&actor, input).await?),
    ))
}

/// All users (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "directory",
    responses(
        (status = 200, description = "Every user", body = [UserView]),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(state.directory.list_users(&actor).await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "directory",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.directory.create_user(&actor, input).await?),
    ))
}
