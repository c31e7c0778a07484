//! The company view and bundles.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use lots_cases::{BundleCaseInput, BundleView, CompanyView, NewBundle};
use serde::{Deserialize, Serialize};

use super::created;
use super::problems::{InvalidFields, InvalidFilter, NotLoggedIn};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, Id};

/// A company and all its cases across every department: in full where the caller may open the
/// case, otherwise only what a coordinator needs.
#[utoipa::path(get, path = "/api/v1/companies/{org_number}", tag = "companies",
    params(("org_number" = String, Path, description = "Organisationsnummer, with or without hyphen")),
    responses(
        (status = 200, description = "The company and its cases", body = CompanyView),
        NotLoggedIn,
        (status = 404, description = "No case has been registered for this company", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid organisationsnummer", body = Problem, content_type = "application/problem+json")))]
pub async fn get_company(
    Caller { state, actor }: Caller,
    Path(org_number): Path<String>,
) -> ApiResult<Json<CompanyView>> {
    Ok(Json(state.companies.company(&actor, &org_number).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BundleList {
    pub items: Vec<BundleView>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BundleFilter {
    pub org_number: Option<String>,
}

/// Bundle a company's cases under one coordinator (företagslots).
#[utoipa::path(post, path = "/api/v1/bundles", tag = "companies",
    request_body = NewBundle,
    responses(
        (status = 201, description = "Created", body = BundleView),
        NotLoggedIn, InvalidFields))]
pub async fn create_bundle(
    Caller { state, actor }: Caller,
    ApiJson(input): ApiJson<NewBundle>,
) -> ApiResult<(StatusCode, Json<BundleView>)> {
    Ok(created(state.companies.create_bundle(&actor, input).await?))
}

/// Bundles, newest first, optionally of one company.
#[utoipa::path(get, path = "/api/v1/bundles", tag = "companies",
    params(BundleFilter),
    responses(
        (status = 200, description = "Bundles", body = BundleList),
        NotLoggedIn, InvalidFilter))]
pub async fn list_bundles(
    Caller { state, actor }: Caller,
    ApiQuery(filter): ApiQuery<BundleFilter>,
) -> ApiResult<Json<BundleList>> {
    Ok(Json(BundleList {
        items: state
            .companies
            .bundles(&actor, filter.org_number.as_deref())
            .await?,
    }))
}

/// A bundle: every case's status and open handoffs side by side.
#[utoipa::path(get, path = "/api/v1/bundles/{id}", tag = "companies",
    params(("id" = i64, Path, description = "The bundle id")),
    responses(
        (status = 200, description = "The bundle", body = BundleView),
        NotLoggedIn,
        (status = 404, description = "No such bundle", body = Problem, content_type = "application/problem+json")))]
pub async fn get_bundle(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<BundleView>> {
    Ok(Json(state.companies.bundle(&actor, id).await?))
}

/// Add a case of the same company (its own department or an admin).
#[utoipa::path(post, path = "/api/v1/bundles/{id}/cases", tag = "companies",
    params(("id" = i64, Path, description = "The bundle id")),
    request_body = BundleCaseInput,
    responses(
        (status = 201, description = "The bundle with the case", body = BundleView),
        NotLoggedIn,
        (status = 403, description = "Not the case's department", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bundle", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already in the bundle", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such case, or another company's", body = Problem, content_type = "application/problem+json")))]
pub async fn add_bundle_case(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<BundleCaseInput>,
) -> ApiResult<(StatusCode, Json<BundleView>)> {
    Ok(created(
        state.companies.add_to_bundle(&actor, id, input).await?,
    ))
}

/// Remove a case (its department, the coordinator or an admin).
#[utoipa::path(delete, path = "/api/v1/bundles/{id}/cases/{case_id}", tag = "companies",
    params(("id" = i64, Path, description = "The bundle id"), ("case_id" = i64, Path, description = "The case id")),
    responses(
        (status = 200, description = "The bundle without the case", body = BundleView),
        NotLoggedIn,
        (status = 403, description = "Neither the case's department nor the coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such bundle or case in it", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_bundle_case(
    Caller { state, actor }: Caller,
    Path((id, case_id)): Path<(String, String)>,
) -> ApiResult<Json<BundleView>> {
    let (id, case_id) = super::ids(&id, &case_id)?;
    Ok(Json(
        state
            .companies
            .remove_from_bundle(&actor, id, case_id)
            .await?,
    ))
}
