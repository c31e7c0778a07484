//! The errors a service call can end in. `api` maps each to one HTTP status and problem type.

use sea_orm::DbErr;
use serde::Serialize;

/// One invalid input field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as named in the request (`title`, `factors.treatment`).
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The request is valid but the resource's state forbids it (lifecycle, uniqueness).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` named a version that is no longer current.
    #[error("the resource has changed: version {current} is current")]
    PreconditionFailed { current: i64 },
    #[error("{0}")]
    Forbidden(String),
    /// Wrong username or password; deliberately says which of them.
    #[error("wrong username or password")]
    BadCredentials,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Collects every invalid field of an input before failing, so one answer names them all.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Runs `parse` and records its error under `field`; `None` when it failed.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed.map_err(|e| self.add(field, e.to_string())).ok()
    }

    /// A required text field, trimmed, between `min` and `max` characters.
    pub fn text(
        &mut self,
        field: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> Option<String> {
        match value.map(str::trim) {
            None if min > 0 => {
                self.add(field, "is required");
                None
            }
            None => Some(String::new()),
            Some(v) => self.check(field, text_len(v, min, max)).map(str::to_string),
        }
    }

    /// As `text`; and unless every character is one `allowed` admits, `message` is recorded.
    pub fn text_of(
        &mut self,
        field: &str,
        value: Option<&str>,
        (min, max): (usize, usize),
        allowed: fn(char) -> bool,
        message: &str,
    ) -> Option<String> {
        let text = self.text(field, value, min, max);
        if text.as_deref().is_some_and(|t| !t.chars().all(allowed)) {
            self.add(field, message);
        }
        text
    }

    pub fn finish(self) -> ServiceResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Validation(self.0))
        }
    }
}

pub fn text_len(v: &str, min: usize, max: usize) -> Result<&str, String> {
    let n = v.chars().count();
    if n < min {
        Err(if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        })
    } else if n > max {
        Err(format!("must be at most {max} characters"))
    } else if v
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        Err("must not contain control characters".to_string())
    } else {
        Ok(v)
    }
}

/// Refuses everyone but an admin with 403 and `message`.
pub fn require_admin(actor: &lots_core::Actor, message: &str) -> ServiceResult<()> {
    if lots_core::access::may(actor, lots_core::access::Capability::Administer) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(message.to_string()))
    }
}

/// For `map_err` on a write: a unique-constraint violation becomes a 409 with `message`, any
/// other error stays what it is.
pub fn conflict_if_duplicate(message: &'static str) -> impl FnOnce(DbErr) -> ServiceError {
    move |e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(message.into())
        } else {
            e.into()
        }
    }
}

/// Whether a database error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
