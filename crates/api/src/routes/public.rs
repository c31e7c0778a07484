//! The company side of the API: a signed-in company representative's cases (their session
//! cookie from `/foretag/logga-in`), one case by its follow link, and the officers' follow
//! links. What is shown is decided by `lots_core::access::CompanyAccess`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use lots_cases::company_side::{
    CompanyCaseSummary, CompanyCaseView, CompanySupplement, FollowLinkView, NewFollowLink,
};
use lots_cases::messages::{CompanyMessage, MessageView, NewMessage};
use lots_cases::representatives::LiveRepresentative;
use serde::Serialize;

use super::problems::{
    AlreadyAnswered, AnswerRefused, BadMessageText, DocumentTooLarge, MalformedJson, NoSuchCase,
    NoSuchCaseOfTheirs, NoSuchLink, NotJson, NotLoggedIn, NotMultipartDocuments,
    NotSignedInCompany, OtherDepartmentsCase, TooManyCompanyPosts, UnreadableMultipart,
};
use super::{CaseId, created};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Id, MultipartBody};
use crate::state::AppState;

/// The signed-in company representative behind the request's company cookie.
pub struct Representative(pub LiveRepresentative);

impl FromRequestParts<AppState> for Representative {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::oidc::pages::representative(&parts.headers, state)
            .await
            .map(Representative)
            .ok_or_else(|| {
                ApiError::unauthorized("sign in with e-legitimation at /foretag/logga-in")
            })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompanyCaseList {
    pub items: Vec<CompanyCaseSummary>,
}

/// The cases the signed-in representative follows: where their personnummer is on the case as
/// applicant, signatory, agent or contact, and every case of a company they sign for.
#[utoipa::path(get, path = "/api/v1/public/my/cases", tag = "company side", security(()),
    responses(
        (status = 200, description = "Their cases, newest first", body = CompanyCaseList),
        (status = 401, description = "Not signed in with e-legitimation (the `lots_foretag` cookie)", body = Problem, content_type = "application/problem+json")))]
pub async fn my_cases(
    State(state): State<AppState>,
    Representative(live): Representative,
) -> ApiResult<Json<CompanyCaseList>> {
    Ok(Json(CompanyCaseList {
        items: state
            .company_side
            .representative_cases(&live.representative)
            .await?,
    }))
}

/// One case the signed-in representative follows, as the company sees it.
#[utoipa::path(get, path = "/api/v1/public/my/cases/{id}", tag = "company side", security(()),
    params(CaseId),
    responses(
        (status = 200, description = "The case", body = CompanyCaseView),
        NotSignedInCompany, NoSuchCaseOfTheirs))]
pub async fn my_case(
    State(state): State<AppState>,
    Representative(live): Representative,
    Id(id): Id,
) -> ApiResult<Json<CompanyCaseView>> {
    Ok(Json(
        state
            .company_side
            .representative_case(&live.representative, id)
            .await?,
    ))
}

/// The case a follow link opens, as the company sees it (no sign-in: the link is the key).
#[utoipa::path(get, path = "/api/v1/public/follow/{token}", tag = "company side", security(()),
    params(("token" = String, Path, description = "The token of the follow link")),
    responses(
        (status = 200, description = "The case", body = CompanyCaseView),
        NoSuchLink))]
pub async fn follow(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<CompanyCaseView>> {
    Ok(Json(state.company_side.followed_case(&token).await?))
}

/// Make a link that lets whoever holds it follow the case (to send to the company). The token
/// is in this answer only; Lots keeps its hash.
#[utoipa::path(post, path = "/api/v1/cases/{id}/follow-links", tag = "company side",
    params(CaseId),
    responses(
        (status = 201, description = "Made", body = NewFollowLink),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase))]
pub async fn create_follow_link(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<NewFollowLink>)> {
    let mut link = state.company_side.create_follow_link(&actor, id).await?;
    link.path = format!(
        "{}{}",
        state.config.base_url().trim_end_matches('/'),
        link.path
    );
    Ok(created(link))
}

/// The case's follow links, newest first (never their tokens).
#[utoipa::path(get, path = "/api/v1/cases/{id}/follow-links", tag = "company side",
    params(CaseId),
    responses(
        (status = 200, description = "The links", body = [FollowLinkView]),
        NotLoggedIn, OtherDepartmentsCase, NoSuchCase))]
pub async fn list_follow_links(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<Vec<FollowLinkView>>> {
    Ok(Json(state.company_side.follow_links(&actor, id).await?))
}

/// Revoke a follow link: it opens nothing from now on.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/follow-links/{link_id}", tag = "company side",
    params(("id" = i64, Path, description = "The case id"), ("link_id" = i64, Path, description = "The link id")),
    responses(
        (status = 204, description = "Revoked"),
        NotLoggedIn, OtherDepartmentsCase,
        (status = 404, description = "No such case or link", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_follow_link(
    Caller { state, actor }: Caller,
    Path((id, link_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, link_id) = super::ids(&id, &link_id)?;
    state
        .company_side
        .revoke_follow_link(&actor, id, link_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Write to the department about a case the signed-in representative follows (JSON only, so
/// no other site's form can send one).
#[utoipa::path(post, path = "/api/v1/public/my/cases/{id}/messages", tag = "company side", security(()),
    params(CaseId),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Sent", body = CompanyMessage),
        MalformedJson, NotSignedInCompany, NoSuchCaseOfTheirs, NotJson, BadMessageText, TooManyCompanyPosts))]
pub async fn my_case_message(
    State(state): State<AppState>,
    Representative(live): Representative,
    Id(id): Id,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<CompanyMessage>)> {
    let (case, _) = state
        .company_side
        .represented(&live.representative, id)
        .await?;
    company_post(&state, &person_key(&live))?;
    let sender = sender_of(&live);
    let m = state
        .messages
        .receive_message(&case, &sender, input)
        .await?;
    Ok(created(m))
}

/// The rate-limit key of a follow link (its hash: the token itself is not kept).
pub fn link_key(token: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(token.as_bytes());
    format!(
        "link:{}",
        hash.iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// The rate-limit key of a signed-in representative: the person, whichever login.
pub fn person_key(live: &LiveRepresentative) -> String {
    format!("person:{}", live.representative.personal_number.as_str())
}

/// Counts one thing sent from the company's side under `key`; 429 over the limit.
pub fn company_post(state: &AppState, key: &str) -> ApiResult<()> {
    state.company_posts.hit(key).map_err(|wait| {
        ApiError::slow_down(
            wait,
            "too many messages and answers from this link or login; try again in",
        )
    })
}

/// Who sent a message from the company's side, as the department sees it.
pub fn sender_of(live: &LiveRepresentative) -> String {
    let r = &live.representative;
    match &r.name {
        Some(n) => format!("{n} (e-legitimation)"),
        None => format!("{} (e-legitimation)", r.personal_number.masked()),
    }
}

/// The sender of a message sent with a follow link.
pub const FOLLOW_LINK_SENDER: &str = "via följlänk";

/// Write to the department about the case a follow link opens.
#[utoipa::path(post, path = "/api/v1/public/follow/{token}/messages", tag = "company side", security(()),
    params(("token" = String, Path, description = "The token of the follow link")),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Sent", body = CompanyMessage),
        MalformedJson, NoSuchLink, NotJson, BadMessageText, TooManyCompanyPosts))]
pub async fn follow_message(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<CompanyMessage>)> {
    let case = state.company_side.followed(&token).await?;
    company_post(&state, &link_key(&token))?;
    let m = state
        .messages
        .receive_message(&case, FOLLOW_LINK_SENDER, input)
        .await?;
    Ok(created(m))
}

/// The messages between the department and the company, oldest first. Reading them as the
/// owning department marks the company's messages read.
#[utoipa::path(get, path = "/api/v1/cases/{id}/messages", tag = "company side",
    params(CaseId),
    responses(
        (status = 200, description = "The messages", body = [MessageView]),
        NotLoggedIn, NoSuchCase))]
pub async fn list_messages(
    Caller { state, actor }: Caller,
    Id(id): Id,
) -> ApiResult<Json<Vec<MessageView>>> {
    Ok(Json(state.messages.messages(&actor, id).await?))
}

/// Write to the company (the case's department).
#[utoipa::path(post, path = "/api/v1/cases/{id}/messages", tag = "company side",
    params(CaseId),
    request_body = NewMessage,
    responses(
        (status = 201, description = "Sent", body = MessageView),
        MalformedJson, NotLoggedIn, OtherDepartmentsCase, NoSuchCase, NotJson, BadMessageText))]
pub async fn send_message(
    Caller { state, actor }: Caller,
    Id(id): Id,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let m = state.messages.send_message(&actor, id, input).await?;
    Ok(created(m))
}

/// An answer to a supplement request as sent: its text and its documents, each already
/// checked (type by its bytes, size within the attachment limit) and waiting in a temporary
/// file that goes away if the answer is not kept.
pub(crate) struct Answer {
    pub text: Option<String>,
    pub documents: Vec<lots_cases::attachments::CompanyDocument>,
    /// The page form's CSRF token (a signed-in representative's form carries one).
    pub csrf: Option<String>,
}

/// Reads the parts of a supplement answer: `text`, and each document as a part `file`.
pub(crate) async fn read_answer(state: &AppState, multipart: MultipartBody) -> ApiResult<Answer> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type(
            "send the answer as multipart/form-data: a `text` part, and each document as a `file` part",
        )
    })?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("the multipart body could not be read: {e}"))
    };
    let mut answer = Answer {
        text: None,
        documents: Vec::new(),
        csrf: None,
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" if answer.csrf.is_none() => {
                answer.csrf = Some(
                    field
                        .text()
                        .await
                        .map_err(unreadable)?
                        .chars()
                        .take(128)
                        .collect(),
                );
            }
            "text" if answer.text.is_none() => {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > 64 * 1024 {
                        return Err(ApiError::invalid(
                            "text",
                            "is longer than 10 000 characters",
                        ));
                    }
                }
                answer.text = Some(
                    String::from_utf8(buf)
                        .map_err(|_| ApiError::invalid("text", "is not UTF-8"))?,
                );
            }
            "file" => {
                if answer.documents.len() >= lots_cases::Attachments::MAX_COMPANY_DOCUMENTS {
                    return Err(ApiError::invalid(
                        "file",
                        format!(
                            "at most {} documents with one answer",
                            lots_cases::Attachments::MAX_COMPANY_DOCUMENTS
                        ),
                    ));
                }
                let document = read_document(state, &mut field).await?;
                answer.documents.push(document);
            }
            other => {
                return Err(ApiError::invalid(
                    other.chars().take(64).collect::<String>(),
                    "is not a part of an answer (`text`, and documents as `file`)",
                ));
            }
        }
    }
    Ok(answer)
}

/// Answer a supplement request of the case a follow link opens, with text and documents: the
/// request is marked received and the case goes back to in progress (the clock as the deadline
/// rules say); the text is kept as a message from the company and each document as an
/// attachment (category supplement) sent by the company, all in one transaction.
#[utoipa::path(post, path = "/api/v1/public/follow/{token}/supplements/{request_id}", tag = "company side", security(()),
    params(("token" = String, Path, description = "The token of the follow link"), ("request_id" = i64, Path, description = "The supplement request")),
    request_body(content = SupplementAnswerForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Received", body = CompanySupplement),
        UnreadableMultipart, AlreadyAnswered, DocumentTooLarge, NotMultipartDocuments, AnswerRefused, TooManyCompanyPosts,
        (status = 404, description = "No such link, case or request", body = Problem, content_type = "application/problem+json")))]
pub async fn follow_supplement(
    State(state): State<AppState>,
    Path((token, request_id)): Path<(String, String)>,
    multipart: MultipartBody,
) -> ApiResult<(StatusCode, Json<CompanySupplement>)> {
    let request_id: i64 = request_id
        .parse()
        .map_err(|_| ApiError::not_found("no such resource"))?;
    let case = state.company_side.followed(&token).await?;
    company_post(&state, &link_key(&token))?;
    take_answer(&state, case.id, request_id, FOLLOW_LINK_SENDER, multipart).await
}

/// The same, for a case the signed-in representative follows.
#[utoipa::path(post, path = "/api/v1/public/my/cases/{id}/supplements/{request_id}", tag = "company side", security(()),
    params(("id" = i64, Path, description = "The case id"), ("request_id" = i64, Path, description = "The supplement request")),
    request_body(content = SupplementAnswerForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Received", body = CompanySupplement),
        UnreadableMultipart, NotSignedInCompany, AlreadyAnswered, DocumentTooLarge, NotMultipartDocuments, AnswerRefused, TooManyCompanyPosts,
        (status = 404, description = "No such case among theirs, or no such request", body = Problem, content_type = "application/problem+json")))]
pub async fn my_case_supplement(
    State(state): State<AppState>,
    Representative(live): Representative,
    Path((id, request_id)): Path<(String, String)>,
    multipart: MultipartBody,
) -> ApiResult<(StatusCode, Json<CompanySupplement>)> {
    let (id, request_id) = super::ids(&id, &request_id)?;
    let (case, _) = state
        .company_side
        .represented(&live.representative, id)
        .await?;
    company_post(&state, &person_key(&live))?;
    take_answer(&state, case.id, request_id, &sender_of(&live), multipart).await
}

/// Reads the answer sent by `sender` to supplement request `request_id` of case `case_id` and
/// keeps it (the request received, the text a message, the documents attachments).
async fn take_answer(
    state: &AppState,
    case_id: i64,
    request_id: i64,
    sender: &str,
    multipart: MultipartBody,
) -> ApiResult<(StatusCode, Json<CompanySupplement>)> {
    let sent = read_answer(state, multipart).await?;
    let answer = state
        .attachments
        .answer_supplement(
            case_id,
            request_id,
            sender,
            sent.text.as_deref(),
            sent.documents,
        )
        .await
        .map_err(super::record::upload_error)?;
    Ok(created(answer))
}

/// The parts of a supplement answer; no others.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SupplementAnswerForm {
    /// What the company sends, 1–10 000 characters.
    text: String,
    /// Documents (PDF, PNG, JPEG, …, checked by their bytes), up to ten, each a part `file`.
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    file: Option<Vec<Vec<u8>>>,
}

/// Reads one file part into a checked document of the company's: streamed to a temporary file
/// within the attachment limit, its type checked by its bytes; the file goes away unless kept.
pub(crate) async fn read_document(
    state: &AppState,
    field: &mut axum::extract::multipart::Field<'_>,
) -> ApiResult<lots_cases::attachments::CompanyDocument> {
    let input = lots_cases::NewAttachment {
        name: field.file_name().map(str::to_string),
        declared_type: field.content_type().map(str::to_string),
        ..Default::default()
    };
    let mut upload = state
        .attachments
        .begin()
        .await
        .map_err(super::record::upload_error)?;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_request(format!("the multipart body could not be read: {e}")))?
    {
        upload
            .write(&chunk)
            .await
            .map_err(super::record::upload_error)?;
    }
    state
        .attachments
        .check_company_document(input, upload)
        .await
        .map_err(super::record::upload_error)
}
