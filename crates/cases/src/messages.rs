//! Messages between a case's department and its company. An officer of the owning department
//! writes to the company; the company answers from its side (a signed-in representative, or
//! whoever holds the case's follow link). Each message is also an event in the case's history,
//! written in the same transaction. A message from the company is unread until someone of the
//! department reads the case's messages; the officers' lists show such cases first.

use chrono::{DateTime, Utc};
use lots_core::case_event::Message;
use lots_core::{Actor, CaseEvent};
use lots_store::entity::{case_message, case_record};
use lots_store::events::{NewEvent, append};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use crate::access::Granted;
use crate::cases::Cases;
use crate::error::{Problems, ServiceError, ServiceResult};
use crate::redact::case_text;
use crate::view::Lookups;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ToCompany,
    FromCompany,
}

lots_core::text_enum!(Direction, "message direction", {
    ToCompany => "to_company",
    FromCompany => "from_company",
});

/// `POST …/messages`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Vi behöver en skalenlig situationsplan. Har ni en sådan?"}))]
pub struct NewMessage {
    /// 1–10 000 characters.
    pub text: Option<String>,
}

/// A message as the department sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub direction: Direction,
    pub text: String,
    /// The officer who wrote it (to the company).
    pub author: Option<String>,
    /// Who sent it from the company's side, as they signed in (or "följlänk").
    pub sender: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the department first read it (from the company).
    pub read_at: Option<DateTime<Utc>>,
}

/// A message as the company sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyMessage {
    pub direction: Direction,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

fn checked_text(input: &NewMessage) -> ServiceResult<String> {
    let mut p = Problems::default();
    let text = p.text("text", input.text.as_deref(), 1, 10_000);
    p.finish()?;
    text.ok_or_else(|| ServiceError::Internal("validated text missing".into()))
}

/// A message from the company's side on `case`, with its event, in `tx`.
pub(crate) async fn record_company_message(
    tx: &sea_orm::DatabaseTransaction,
    case: &case_record::Model,
    sender: &str,
    text: &str,
    now: DateTime<Utc>,
) -> ServiceResult<case_message::Model> {
    let m = case_message::ActiveModel {
        case_id: Set(case.id),
        direction: Set(Direction::FromCompany.as_str().into()),
        text: Set(text.to_string()),
        author_id: Set(None),
        sender: Set(Some(sender.chars().take(200).collect())),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    append(
        tx,
        NewEvent {
            case_id: case.id,
            at: now,
            actor_id: None,
            department_id: None,
            event: CaseEvent::MessageReceived(Message {
                message_id: m.id,
                text: m.text.clone(),
            }),
        },
    )
    .await?;
    Ok(m)
}

/// The messages between a case's officers and its company: sent by mail from the case, received
/// from the company's side (a follow link or a representative's login), read on the case.
#[derive(Debug, Clone)]
pub struct Messages {
    cases: Cases,
}

impl Messages {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }

    /// Writes to the company of case `id` (its department's officers and managers).
    pub async fn send_message(
        &self,
        actor: &Actor,
        id: i64,
        input: NewMessage,
    ) -> ServiceResult<MessageView> {
        let text = checked_text(&input)?;
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, id).await?;
        let m = case_message::ActiveModel {
            case_id: Set(case.id),
            direction: Set(Direction::ToCompany.as_str().into()),
            text: Set(text.clone()),
            author_id: Set(Some(actor.user_id)),
            sender: Set(None),
            created_at: Set(now),
            read_at: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        append(
            &tx,
            self.cases.event(
                actor,
                &case,
                now,
                CaseEvent::MessageSent(Message {
                    message_id: m.id,
                    text: m.text.clone(),
                }),
            ),
        )
        .await?;
        self.cases
            .mail_company(&tx, &case, crate::company_mail::About::Message(&text), now)
            .await?;
        tx.commit().await?;
        Ok(MessageView {
            id: m.id,
            direction: Direction::ToCompany,
            text: m.text,
            author: Some(actor.username.clone()),
            sender: None,
            created_at: m.created_at,
            read_at: None,
        })
    }

    /// The messages of case `id`, oldest first, for anyone who may read the case; when the
    /// reader is of the owning department, the company's unread messages are marked read.
    pub async fn messages(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<MessageView>> {
        let case = self.cases.granted(actor, id).await?;
        self.messages_of(&case).await
    }

    /// `messages` of a case the request has already read, with the caller's access to it.
    pub async fn messages_of(&self, case: &Granted) -> ServiceResult<Vec<MessageView>> {
        let mut rows = case
            .rows::<case_message::Entity>(&self.cases.db, case_message::Column::CaseId)
            .await?;
        // Read by the department it was written to: the owning department, not an admin's
        // technical access nor a department tied by a handoff. Only when there is something
        // to mark does a page view write (it queues behind every other write on SQLite).
        let from_company = Direction::FromCompany.as_str();
        let unread = |m: &case_message::Model| m.read_at.is_none() && m.direction == from_company;
        let shown: Vec<i64> = rows.iter().filter(|m| unread(m)).map(|m| m.id).collect();
        if case.access.relation == lots_core::access::Relation::Owner && !shown.is_empty() {
            // Exactly those shown: one that arrives meanwhile stays unread.
            let now = self.cases.clock.now();
            case_message::Entity::update_many()
                .col_expr(case_message::Column::ReadAt, Expr::value(now))
                .filter(case_message::Column::Id.is_in(shown))
                .filter(case_message::Column::ReadAt.is_null())
                .exec(self.cases.db.writer())
                .await?;
            for m in rows.iter_mut().filter(|m| unread(m)) {
                m.read_at = Some(now);
            }
        }
        let users =
            Lookups::load(&self.cases.db, [], rows.iter().filter_map(|m| m.author_id)).await?;
        rows.into_iter()
            .map(|m| {
                Ok(MessageView {
                    id: m.id,
                    direction: crate::stored::stored("case_message", m.id, &m.direction)?,
                    text: case_text(&case.access, m.text),
                    author: users.username(m.author_id),
                    sender: m.sender,
                    created_at: m.created_at,
                    read_at: m.read_at,
                })
            })
            .collect()
    }

    /// A message from the company's side on `case`, which the caller has already found them
    /// allowed to follow; `sender` is who they signed in as.
    pub async fn receive_message(
        &self,
        case: &case_record::Model,
        sender: &str,
        input: NewMessage,
    ) -> ServiceResult<CompanyMessage> {
        let text = checked_text(&input)?;
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let m = record_company_message(&tx, case, sender, &text, now).await?;
        tx.commit().await?;
        Ok(CompanyMessage {
            direction: Direction::FromCompany,
            text: m.text,
            created_at: m.created_at,
        })
    }

    /// The messages of a case as its company sees them, oldest first.
    pub(crate) async fn company_messages(
        &self,
        case_id: i64,
    ) -> ServiceResult<Vec<CompanyMessage>> {
        case_message::Entity::find()
            .filter(case_message::Column::CaseId.eq(case_id))
            .order_by_asc(case_message::Column::Id)
            .all(self.cases.db.reader())
            .await?
            .into_iter()
            .map(|m| {
                Ok(CompanyMessage {
                    direction: crate::stored::stored("case_message", m.id, &m.direction)?,
                    text: m.text,
                    created_at: m.created_at,
                })
            })
            .collect()
    }
}

/// The ids of the cases holding a message from the company that nobody has read yet.
pub(crate) fn unread_from_company() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(case_message::Column::CaseId)
        .from(case_message::Entity)
        .and_where(case_message::Column::ReadAt.is_null())
        .and_where(case_message::Column::Direction.eq(Direction::FromCompany.as_str()))
        .to_owned()
}

/// Whether the case of the enclosing statement's `case_record` row holds a message from the
/// company that nobody has read yet (one look at its messages by the case's index).
pub(crate) fn has_unread_from_company() -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        unread_from_company()
            .and_where(
                Expr::col((case_message::Entity, case_message::Column::CaseId))
                    .equals((case_record::Entity, case_record::Column::Id)),
            )
            .to_owned(),
    )
}
