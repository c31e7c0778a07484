//! One error type for every handler, rendered in one place as RFC 9457 problem+json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lots_cases::{FieldError, ServiceError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"type": "/problems/validation", "title": "Invalid input", "status": 422,
    "detail": "2 fields are invalid", "errors": [{"field": "org_number", "message": "the check digit does not match (Luhn)"},
    {"field": "title", "message": "is required"}]}))]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For validation problems: every invalid field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    /// Extra header, e.g. `WWW-Authenticate` or `ETag`.
    header: Option<Box<(header::HeaderName, HeaderValue)>>,
}

impl ApiError {
    /// Names `field` in each of a validation problem's errors (e.g. the form field a document
    /// was sent for).
    pub fn for_field(self, field: &str) -> Self {
        if self.errors.is_empty() {
            return self;
        }
        let errors = self
            .errors
            .into_iter()
            .map(|e| FieldError {
                field: field.to_string(),
                message: e.message,
            })
            .collect();
        // Built again, so that the detail names the field too.
        Self::validation(errors)
    }

    /// Each invalid field and why, for a validation problem.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            header: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        );
        e.header = Some(Box::new((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"lots\""),
        )));
        e
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this resource does not accept that method",
        )
    }

    pub fn too_many_requests(retry_after_seconds: u64) -> Self {
        Self::slow_down(
            retry_after_seconds,
            "too many failed logins for this user; try again in",
        )
    }

    /// 429 with `Retry-After`: `what` is said before the wait (`… in N seconds`).
    pub fn slow_down(retry_after_seconds: u64, what: &str) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            format!("{what} {retry_after_seconds} seconds"),
        );
        e.header = HeaderValue::from_str(&retry_after_seconds.to_string())
            .ok()
            .map(|v| Box::new((header::RETRY_AFTER, v)));
        e
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn gone(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "gone", "Gone", detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("the request body exceeds {limit} bytes"),
        )
    }

    /// An uploaded file over the configured limit.
    pub fn file_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("the file exceeds the limit of {limit} bytes (attachment_limit_bytes)"),
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{}: {}", errors[0].field, errors[0].message),
            n => format!("{n} fields are invalid"),
        };
        Self {
            errors,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
                detail,
            )
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
            "the server took too long to answer; try again",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "something went wrong on our side; it has been logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, in words (the problem's `detail`).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Validation(errors) => Self::validation(errors),
            ServiceError::Conflict(detail) => {
                Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
            }
            ServiceError::PreconditionFailed { current } => {
                let mut err = Self::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition-failed",
                    "Precondition failed",
                    format!(
                        "If-Match names an old version; version {current} is current: read the case again"
                    ),
                );
                err.header = HeaderValue::from_str(&format!("\"{current}\""))
                    .ok()
                    .map(|v| Box::new((header::ETAG, v)));
                err
            }
            ServiceError::Forbidden(detail) => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            ServiceError::BadCredentials => Self::unauthorized("wrong username or password"),
            ServiceError::Database(err) => {
                tracing::error!(error = %err, "database error");
                Self::internal()
            }
            ServiceError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("/problems/{}", self.slug),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut response =
            (self.status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some((name, value)) = self.header.map(|b| *b) {
            headers.insert(name, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
