//! The mail outbox: an e-mail is written here in the same transaction as the change that causes
//! it (a message to the company, a supplement request), so that it is sent if and only if the
//! change happened; the worker sends it (`lots_hooks::mail`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;

use crate::entity::{case_party, mail_outbox};

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What it is about: `message`, `supplement_request`, ….
    pub kind: &'static str,
    pub case_id: Option<i64>,
}

/// Puts `mail` in the outbox on `conn` (the transaction of its cause), due at once.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    mail: NewMail,
    now: DateTime<Utc>,
) -> Result<mail_outbox::Model, DbErr> {
    mail_outbox::ActiveModel {
        to_address: Set(mail.to),
        subject: Set(mail.subject.chars().take(300).collect()),
        body: Set(mail.body),
        kind: Set(mail.kind.to_string()),
        case_id: Set(mail.case_id),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// The roles whose e-mail reaches the company about a case, in the order they are asked.
const MAILED_ROLES: [&str; 4] = ["contact", "applicant", "agent", "signatory"];

/// The address the company of case `case_id` is written to: the e-mail of its contact person,
/// else of its applicant, agent or signatory (the first party with one in that order).
pub async fn company_address<C: ConnectionTrait>(
    conn: &C,
    case_id: i64,
) -> Result<Option<String>, DbErr> {
    let parties = case_party::Entity::find()
        .filter(case_party::Column::CaseId.eq(case_id))
        .filter(case_party::Column::Email.is_not_null())
        .all(conn)
        .await?;
    let has = |p: &case_party::Model, role: &str| {
        p.roles
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r == &Value::from(role)))
    };
    Ok(MAILED_ROLES.iter().find_map(|role| {
        parties
            .iter()
            .filter(|p| has(p, role))
            .find_map(|p| p.email.clone().filter(|e| !e.trim().is_empty()))
    }))
}
