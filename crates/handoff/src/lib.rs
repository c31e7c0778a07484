//! lots-handoff: contacts across departments about a case. A `transfer` (överlämning) moves
//! responsibility once the receiving department accepts; a `consultation` (remiss, samråd) asks
//! another department for an opinion, perhaps by a date; a `contact` only informs. Each goes
//! requested → accepted → completed, or declined / cancelled, and every step is an event on the
//! case, written in the same transaction as the step.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use lots_cases::redact;
use lots_cases::stored::{case_area, case_status, handoff_kind, handoff_status};
use lots_cases::view::Lookups;
use lots_cases::{Cases, FieldError, ServiceError, ServiceResult, save};
use lots_core::access::{CaseAccess, CaseFacts, HandoffAccess, ListScope, Ties};
use lots_core::calendar::working_days_between;
use lots_core::case_event::{Accepted, Closed, Completed, HandoffRef, HandoffStep, Requested};
use lots_core::{
    Actor, Area, CaseEvent, CaseStatus, Clock, HandoffKind, HandoffStatus, TIME_ZONE,
    UnknownVariant,
};
use lots_store::Db;
use lots_store::entity::{case_record, department, handoff};
use lots_store::events::append;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/cases/{id}/handoffs`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to_department": "MHF", "kind": "consultation", "message": "Yttrande om ventilation och fettavskiljare önskas.", "due_date": "2026-12-11"}))]
pub struct NewHandoff {
    /// The receiving department's code.
    pub to_department: Option<String>,
    /// transfer, consultation or contact.
    pub kind: Option<String>,
    pub message: Option<String>,
    /// Consultations only: when the answer is needed (YYYY-MM-DD).
    pub due_date: Option<String>,
}

/// The body of complete, decline and cancel.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"response": "Inga synpunkter under förutsättning att fettavskiljare installeras."}))]
pub struct HandoffReply {
    /// `complete`: the answer (required for a consultation).
    pub response: Option<String>,
    /// `decline` (required) and `cancel` (optional): why.
    pub reason: Option<String>,
}

/// The list filters of `GET /api/v1/handoffs`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HandoffFilter {
    pub to_department: Option<String>,
    pub from_department: Option<String>,
    /// One status or several, comma-separated: requested, accepted, completed, declined, cancelled.
    pub status: Option<String>,
    /// A case id.
    pub case: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A span of time, in hours, calendar days and Swedish working days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Span {
    pub hours: f64,
    pub calendar_days: f64,
    /// Working days between the two Stockholm dates (the later one counted, the earlier not).
    pub working_days: i64,
    /// Still running: measured up to now.
    pub running: bool,
}

impl Span {
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>, running: bool) -> Self {
        let seconds = (to - from).num_seconds().max(0) as f64;
        let day = |t: DateTime<Utc>| t.with_timezone(&TIME_ZONE).date_naive();
        Span {
            hours: (seconds / 3600.0 * 100.0).round() / 100.0,
            calendar_days: (seconds / 86400.0 * 100.0).round() / 100.0,
            working_days: working_days_between(day(from), day(to)).max(0),
            running,
        }
    }
}

/// The case a handoff is about.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffCase {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub area: Area,
    /// The department that owns the case now.
    pub department: String,
    pub status: CaseStatus,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffView {
    pub id: i64,
    pub case: HandoffCase,
    pub kind: HandoffKind,
    pub status: HandoffStatus,
    pub from_department: String,
    pub to_department: String,
    pub message: String,
    pub response: Option<String>,
    pub decline_reason: Option<String>,
    pub due_date: Option<NaiveDate>,
    /// A consultation not answered by its due date.
    pub overdue: bool,
    pub requested_by: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Who declined or cancelled it, and when.
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Requested → accepted (or declined, cancelled, now).
    pub queue_time: Span,
    /// Accepted → completed (or cancelled, now); null before acceptance.
    pub work_time: Option<Span>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandoffPage {
    /// Oldest request first.
    pub items: Vec<HandoffView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Handoffs {
    db: Db,
    clock: Arc<dyn Clock>,
    cases: Cases,
}

/// Which side of a handoff the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Receiving,
    Requesting,
}

impl Handoffs {
    pub fn new(db: Db, clock: Arc<dyn Clock>, cases: Cases) -> Self {
        Self { db, clock, cases }
    }

    pub async fn request(
        &self,
        actor: &Actor,
        case_id: i64,
        input: NewHandoff,
    ) -> ServiceResult<HandoffView> {
        let now = self.clock.now();
        let HandoffFields {
            kind,
            message,
            due_date,
            to,
            mut errors,
        } = self.check_new_handoff(&input, now).await?;
        let tx = self.db.begin().await?;
        let case = self.cases.owned(&tx, actor, case_id).await?;
        if let Some(to) = &to
            && to.id == case.department_id
        {
            errors.push(FieldError {
                field: "to_department".into(),
                message: "is the case's own department".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let (Some(kind), Some(message), Some(to)) = (kind, message, to) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let status = case_status(&case)?;
        if matches!(status, CaseStatus::Closed | CaseStatus::Withdrawn)
            || (kind != HandoffKind::Contact && !status.is_open())
        {
            return Err(ServiceError::Conflict(format!(
                "the case is {status}; a {kind} is no longer possible"
            )));
        }
        if kind == HandoffKind::Transfer {
            let open = handoff::Entity::find()
                .filter(handoff::Column::CaseId.eq(case.id))
                .filter(handoff::Column::Kind.eq(HandoffKind::Transfer.as_str()))
                .filter(handoff::Column::Status.eq(HandoffStatus::Requested.as_str()))
                .one(&tx)
                .await?;
            if open.is_some() {
                return Err(ServiceError::Conflict(
                    "a transfer of this case is already waiting for an answer".into(),
                ));
            }
        }
        let h = handoff::ActiveModel {
            case_id: Set(case.id),
            kind: Set(kind.as_str().to_string()),
            status: Set(HandoffStatus::Requested.as_str().to_string()),
            from_department_id: Set(case.department_id),
            to_department_id: Set(to.id),
            message: Set(message),
            response: Set(None),
            decline_reason: Set(None),
            due_date: Set(due_date),
            requested_by: Set(actor.user_id),
            requested_at: Set(now),
            accepted_by: Set(None),
            accepted_at: Set(None),
            completed_by: Set(None),
            completed_at: Set(None),
            closed_by: Set(None),
            closed_at: Set(None),
            version: Set(1),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let step = Requested {
            message: Some(h.message.clone()),
            due_date: h.due_date,
        };
        self.record(&tx, actor, &case, &h, |handoff| {
            CaseEvent::HandoffRequested(HandoffStep { handoff, step })
        })
        .await?;
        tx.commit().await?;
        self.view(actor, h).await
    }

    /// Checks a new handoff's fields; every bad one is named in the errors returned.
    async fn check_new_handoff(
        &self,
        input: &NewHandoff,
        now: DateTime<Utc>,
    ) -> ServiceResult<HandoffFields> {
        let today = now.with_timezone(&TIME_ZONE).date_naive();
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let kind = match input.kind.as_deref().map(str::parse::<HandoffKind>) {
            Some(Ok(k)) => Some(k),
            Some(Err(e)) => {
                bad("kind", format!("must be one of: {}", e.expected));
                None
            }
            None => {
                bad("kind", "is required".into());
                None
            }
        };
        let message = match input.message.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() && m.chars().count() <= 5000 => Some(m.to_string()),
            Some(m) if !m.is_empty() => {
                bad("message", "must be at most 5000 characters".into());
                None
            }
            _ => {
                bad("message", "is required".into());
                None
            }
        };
        let due_date = match input.due_date.as_deref() {
            None => None,
            Some(d) => match d.parse::<NaiveDate>() {
                Ok(_) if kind != Some(HandoffKind::Consultation) => {
                    bad("due_date", "only a consultation has a due date".into());
                    None
                }
                Ok(day) if day < today => {
                    bad("due_date", "must not lie in the past".into());
                    None
                }
                Ok(day) => Some(day),
                Err(_) => {
                    bad("due_date", "must be a date, YYYY-MM-DD".into());
                    None
                }
            },
        };
        let to = match input.to_department.as_deref() {
            None => {
                bad("to_department", "is required".into());
                None
            }
            Some(code) => {
                let d = self.db.department_by_code(code.trim()).await?;
                if d.is_none() {
                    bad("to_department", "no such department".into());
                }
                d
            }
        };
        Ok(HandoffFields {
            kind,
            message,
            due_date,
            to,
            errors,
        })
    }

    pub async fn accept(&self, actor: &Actor, id: i64) -> ServiceResult<HandoffView> {
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        let h = self
            .acting(&tx, actor, id, Side::Receiving, "accept")
            .await?;
        expect_status(&h, &[HandoffStatus::Requested], HandoffStatus::Accepted)?;
        let mut m: handoff::ActiveModel = h.clone().into();
        m.status = Set(HandoffStatus::Accepted.as_str().to_string());
        m.accepted_by = Set(Some(actor.user_id));
        m.accepted_at = Set(Some(now));
        let case = case_record::Entity::find_by_id(h.case_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        let mut h = update(&tx, m, &h).await?;
        self.record(&tx, actor, &case, &h, |handoff| {
            CaseEvent::HandoffAccepted(HandoffStep {
                handoff,
                step: Accepted {},
            })
        })
        .await?;
        if handoff_kind(&h)? == HandoffKind::Transfer {
            // The receiving department owns the case from now on; the reference stays, and the
            // case waits for one of the new department's officers to take it.
            let mut c: case_record::ActiveModel = case.clone().into();
            c.department_id = Set(h.to_department_id);
            c.assignee_id = Set(None);
            let moved = save(&tx, c, &case, now).await?;
            let mut m: handoff::ActiveModel = h.clone().into();
            m.status = Set(HandoffStatus::Completed.as_str().to_string());
            m.completed_by = Set(Some(actor.user_id));
            m.completed_at = Set(Some(now));
            h = update(&tx, m, &h).await?;
            let step = Completed {
                response: None,
                ownership_moved: Some(true),
            };
            self.record(&tx, actor, &moved, &h, |handoff| {
                CaseEvent::HandoffCompleted(HandoffStep { handoff, step })
            })
            .await?;
        }
        tx.commit().await?;
        self.view(actor, h).await
    }

    pub async fn complete(
        &self,
        actor: &Actor,
        id: i64,
        input: HandoffReply,
    ) -> ServiceResult<HandoffView> {
        let now = self.clock.now();
        let tx = self.db.begin().await?;
        let h = self
            .acting(&tx, actor, id, Side::Receiving, "complete")
            .await?;
        let response = input
            .response
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if handoff_kind(&h)? == HandoffKind::Consultation && response.is_none() {
            return Err(ServiceError::invalid(
                "response",
                "a consultation is completed with its answer",
            ));
        }
        if response
            .as_ref()
            .is_some_and(|r| r.chars().count() > 20_000)
        {
            return Err(ServiceError::invalid(
                "response",
                "must be at most 20000 characters",
            ));
        }
        expect_status(&h, &[HandoffStatus::Accepted], HandoffStatus::Completed)?;
        let mut m: handoff::ActiveModel = h.clone().into();
        m.status = Set(HandoffStatus::Completed.as_str().to_string());
        m.response = Set(response.clone());
        m.completed_by = Set(Some(actor.user_id));
        m.completed_at = Set(Some(now));
        let h = update(&tx, m, &h).await?;
        let case = case_record::Entity::find_by_id(h.case_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        let step = Completed {
            response,
            ownership_moved: None,
        };
        self.record(&tx, actor, &case, &h, |handoff| {
            CaseEvent::HandoffCompleted(HandoffStep { handoff, step })
        })
        .await?;
        tx.commit().await?;
        self.view(actor, h).await
    }

    pub async fn decline(
        &self,
        actor: &Actor,
        id: i64,
        input: HandoffReply,
    ) -> ServiceResult<HandoffView> {
        self.close(actor, id, input, Side::Receiving).await
    }

    pub async fn cancel(
        &self,
        actor: &Actor,
        id: i64,
        input: HandoffReply,
    ) -> ServiceResult<HandoffView> {
        self.close(actor, id, input, Side::Requesting).await
    }

    async fn close(
        &self,
        actor: &Actor,
        id: i64,
        input: HandoffReply,
        side: Side,
    ) -> ServiceResult<HandoffView> {
        let now = self.clock.now();
        use HandoffStatus::{Accepted, Cancelled, Declined, Requested};
        let (verb, status, allowed): (&str, HandoffStatus, &[HandoffStatus]) = match side {
            Side::Receiving => ("decline", Declined, &[Requested]),
            Side::Requesting => ("cancel", Cancelled, &[Requested, Accepted]),
        };
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if side == Side::Receiving && reason.is_none() {
            return Err(ServiceError::invalid(
                "reason",
                "say why the handoff is declined",
            ));
        }
        if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
            return Err(ServiceError::invalid(
                "reason",
                "must be at most 2000 characters",
            ));
        }
        let tx = self.db.begin().await?;
        let h = self.acting(&tx, actor, id, side, verb).await?;
        expect_status(&h, allowed, status)?;
        let mut m: handoff::ActiveModel = h.clone().into();
        m.status = Set(status.as_str().to_string());
        m.closed_by = Set(Some(actor.user_id));
        m.closed_at = Set(Some(now));
        if side == Side::Receiving {
            m.decline_reason = Set(reason.clone());
        }
        let h = update(&tx, m, &h).await?;
        let case = case_record::Entity::find_by_id(h.case_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        self.record(&tx, actor, &case, &h, |handoff| {
            let step = HandoffStep {
                handoff,
                step: Closed { reason },
            };
            match side {
                Side::Receiving => CaseEvent::HandoffDeclined(step),
                Side::Requesting => CaseEvent::HandoffCancelled(step),
            }
        })
        .await?;
        tx.commit().await?;
        self.view(actor, h).await
    }

    /// Every handoff of a case the caller may read, oldest first: the owner sees each one's state.
    pub async fn of_case(&self, actor: &Actor, case_id: i64) -> ServiceResult<Vec<HandoffView>> {
        let case = self
            .cases
            .readable(self.db.reader(), actor, case_id)
            .await?;
        self.of_granted(actor, &case).await
    }

    /// `of_case` for a case the request has already read, with the caller's access to it.
    pub async fn of_granted(
        &self,
        actor: &Actor,
        case: &lots_cases::access::Granted,
    ) -> ServiceResult<Vec<HandoffView>> {
        let rows = case
            .rows::<handoff::Entity>(&self.db, handoff::Column::CaseId)
            .await?;
        self.views(actor, rows).await
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> ServiceResult<HandoffView> {
        let h = handoff::Entity::find_by_id(id)
            .one(self.db.reader())
            .await?
            .filter(|h| access(actor, h).read)
            .ok_or(ServiceError::NotFound("handoff"))?;
        self.view(actor, h).await
    }

    /// The handoffs the caller's department sent or received (admins: all), oldest request
    /// first, so a department sees what others have waited on it for longest.
    pub async fn list(&self, actor: &Actor, filter: HandoffFilter) -> ServiceResult<HandoffPage> {
        let mut errors = Vec::new();
        let mut cond = Condition::all();
        if let Some(dep) = ListScope::of(actor).department {
            cond = cond.add(
                Condition::any()
                    .add(handoff::Column::FromDepartmentId.eq(dep))
                    .add(handoff::Column::ToDepartmentId.eq(dep)),
            );
        }
        let deps = department::Entity::find().all(self.db.reader()).await?;
        let dep_id = |code: &str| deps.iter().find(|d| d.code == code).map(|d| d.id);
        for (field, value, column) in [
            (
                "to_department",
                &filter.to_department,
                handoff::Column::ToDepartmentId,
            ),
            (
                "from_department",
                &filter.from_department,
                handoff::Column::FromDepartmentId,
            ),
        ] {
            if let Some(code) = non_empty(value) {
                match dep_id(code) {
                    Some(id) => cond = cond.add(column.eq(id)),
                    None => errors.push(FieldError {
                        field: field.into(),
                        message: "no such department".into(),
                    }),
                }
            }
        }
        cond = kind_and_status(&filter, cond, &mut errors);
        if let Some(c) = non_empty(&filter.case) {
            match c.parse::<i64>() {
                Ok(id) => cond = cond.add(handoff::Column::CaseId.eq(id)),
                Err(_) => errors.push(FieldError {
                    field: "case".into(),
                    message: "must be a case id".into(),
                }),
            }
        }
        let limit = match non_empty(&filter.limit).map(str::parse::<u64>) {
            None => 50,
            Some(Ok(n)) if (1..=500).contains(&n) => n,
            Some(_) => {
                errors.push(FieldError {
                    field: "limit".into(),
                    message: "must be a whole number from 1 to 500".into(),
                });
                50
            }
        };
        if let Some(c) = non_empty(&filter.cursor) {
            match decode_cursor(c) {
                Some((at, id)) => {
                    cond = cond.add(
                        Condition::any()
                            .add(handoff::Column::RequestedAt.gt(at))
                            .add(
                                Condition::all()
                                    .add(handoff::Column::RequestedAt.eq(at))
                                    .add(handoff::Column::Id.gt(id)),
                            ),
                    )
                }
                None => errors.push(FieldError {
                    field: "cursor".into(),
                    message: "is not a cursor this API gave out".into(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let mut rows = handoff::Entity::find()
            .filter(cond)
            .order_by_asc(handoff::Column::RequestedAt)
            .order_by_asc(handoff::Column::Id)
            .limit(limit + 1)
            .all(self.db.reader())
            .await?;
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|h| encode_cursor(h.requested_at, h.id))
        } else {
            None
        };
        Ok(HandoffPage {
            items: self.views(actor, rows).await?,
            next_cursor,
        })
    }

    /// The handoff if the caller may take `verb` on it from `side`; `Forbidden` for the other
    /// side (who may see it), `NotFound` for anyone else.
    async fn acting(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        id: i64,
        side: Side,
        verb: &str,
    ) -> ServiceResult<handoff::Model> {
        let h = handoff::Entity::find_by_id(id)
            .one(tx)
            .await?
            .filter(|h| access(actor, h).read)
            .ok_or(ServiceError::NotFound("handoff"))?;
        let may = match side {
            Side::Receiving => access(actor, &h).receive,
            Side::Requesting => access(actor, &h).request,
        };
        if may {
            Ok(h)
        } else {
            let who = if side == Side::Receiving {
                "receiving"
            } else {
                "requesting"
            };
            Err(ServiceError::Forbidden(format!(
                "only the {who} department may {verb} this handoff"
            )))
        }
    }

    /// Appends a handoff step to the case's history, with both departments.
    async fn record(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        case: &case_record::Model,
        h: &handoff::Model,
        step: impl FnOnce(HandoffRef) -> CaseEvent,
    ) -> ServiceResult<()> {
        let deps = department::Entity::find()
            .filter(department::Column::Id.is_in([h.from_department_id, h.to_department_id]))
            .all(tx)
            .await?;
        let code = |id: i64| deps.iter().find(|d| d.id == id).map(|d| d.code.clone());
        let handoff = HandoffRef {
            handoff_id: Some(h.id),
            handoff_key: None,
            handoff_kind: handoff_kind(h)?,
            from_department: code(h.from_department_id),
            to_department: code(h.to_department_id),
        };
        let mut event = self
            .cases
            .event(actor, case, self.clock.now(), step(handoff));
        // The step is taken for the department on its side of the handoff.
        if !actor.is_admin() {
            event.department_id = actor.department_id;
        }
        append(tx, event).await?;
        Ok(())
    }

    async fn view(&self, actor: &Actor, h: handoff::Model) -> ServiceResult<HandoffView> {
        Ok(self.views(actor, vec![h]).await?.remove(0))
    }

    /// The handoffs as the caller may see them: their texts pass the one redaction step with
    /// the caller's access to each case (a confidential case's message, answer and reason read
    /// `[sekretess]` for everyone but its own department, as its history does).
    async fn views(
        &self,
        actor: &Actor,
        rows: Vec<handoff::Model>,
    ) -> ServiceResult<Vec<HandoffView>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let case_ids: HashSet<i64> = rows.iter().map(|h| h.case_id).collect();
        let cases = case_record::Entity::find()
            .filter(case_record::Column::Id.is_in(case_ids))
            .all(self.db.reader())
            .await?;
        let access = self.cases.access(self.db.reader(), actor, &cases).await?;
        let users: Vec<i64> = rows
            .iter()
            .flat_map(|h| {
                [
                    Some(h.requested_by),
                    h.accepted_by,
                    h.completed_by,
                    h.closed_by,
                ]
            })
            .flatten()
            .collect();
        let lookups = Lookups::load(&self.db, [], users).await?;
        let dep = |id: i64| {
            lookups
                .departments
                .get(&id)
                .map(|d| d.code.clone())
                .unwrap_or_default()
        };
        let now = self.clock.now();
        let today = now.with_timezone(&TIME_ZONE).date_naive();
        rows.into_iter()
            .map(|h| {
                let case = cases.iter().find(|c| c.id == h.case_id).ok_or_else(|| {
                    ServiceError::Internal(format!(
                        "handoff {} is about case {}, which is missing",
                        h.id, h.case_id
                    ))
                })?;
                let queue_end = h.accepted_at.or(h.closed_at);
                let work_time = h.accepted_at.map(|a| {
                    let end = h.completed_at.or(h.closed_at);
                    Span::between(a, end.unwrap_or(now), end.is_none())
                });
                let (kind, status) = (handoff_kind(&h)?, handoff_status(&h)?);
                let access = access
                    .get(&h.case_id)
                    .copied()
                    .unwrap_or(CaseAccess::decide(
                        actor,
                        CaseFacts {
                            department_id: -1,
                            confidential: true,
                        },
                        Ties::default(),
                    ));
                let text = |t: String| redact::case_text(&access, t);
                Ok(HandoffView {
                    id: h.id,
                    case: HandoffCase {
                        id: h.case_id,
                        reference: case.reference.clone(),
                        // A handoff summary never carries a confidential case's content.
                        title: if case.confidential_statute.is_some() {
                            lots_cases::record::CONFIDENTIAL.to_string()
                        } else {
                            case.title.clone()
                        },
                        area: case_area(case)?,
                        department: dep(case.department_id),
                        status: case_status(case)?,
                    },
                    overdue: status.is_open() && h.due_date.is_some_and(|d| today > d),
                    queue_time: Span::between(
                        h.requested_at,
                        queue_end.unwrap_or(now),
                        queue_end.is_none(),
                    ),
                    work_time,
                    from_department: dep(h.from_department_id),
                    to_department: dep(h.to_department_id),
                    requested_by: lookups.username(Some(h.requested_by)),
                    accepted_by: lookups.username(h.accepted_by),
                    completed_by: lookups.username(h.completed_by),
                    closed_by: lookups.username(h.closed_by),
                    kind,
                    status,
                    message: text(h.message),
                    response: h.response.map(text),
                    decline_reason: h.decline_reason.map(text),
                    due_date: h.due_date,
                    requested_at: h.requested_at,
                    accepted_at: h.accepted_at,
                    completed_at: h.completed_at,
                    closed_at: h.closed_at,
                    version: h.version,
                })
            })
            .collect()
    }
}

/// A new handoff's fields as checked, and what was wrong with them.
struct HandoffFields {
    kind: Option<HandoffKind>,
    message: Option<String>,
    due_date: Option<NaiveDate>,
    to: Option<department::Model>,
    errors: Vec<FieldError>,
}

/// What the caller may do with a handoff (the rule is `HandoffAccess`).
fn access(actor: &Actor, h: &handoff::Model) -> HandoffAccess {
    HandoffAccess::decide(actor, h.from_department_id, h.to_department_id)
}

fn expect_status(
    h: &handoff::Model,
    allowed: &[HandoffStatus],
    to: HandoffStatus,
) -> ServiceResult<()> {
    let status = handoff_status(h)?;
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(ServiceError::Conflict(format!(
            "a {status} handoff cannot become {to}"
        )))
    }
}

/// Saves a handoff's next version unless someone changed it meanwhile.
async fn update<C: ConnectionTrait>(
    conn: &C,
    mut m: handoff::ActiveModel,
    before: &handoff::Model,
) -> ServiceResult<handoff::Model> {
    m.version = Set(before.version + 1);
    let result = handoff::Entity::update_many()
        .set(m)
        .filter(handoff::Column::Id.eq(before.id))
        .filter(handoff::Column::Version.eq(before.version))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(ServiceError::Conflict(
            "the handoff was changed at the same time; try again".into(),
        ));
    }
    handoff::Entity::find_by_id(before.id)
        .one(conn)
        .await?
        .ok_or(ServiceError::NotFound("handoff"))
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn encode_cursor(at: DateTime<Utc>, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("h1:{}:{id}", at.to_rfc3339()))
}

fn decode_cursor(s: &str) -> Option<(DateTime<Utc>, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?.strip_prefix("h1:")?;
    let (at, id) = text.rsplit_once(':')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}

/// The list filter's `status` (a comma-separated list) and `kind`, each checked.
fn kind_and_status(
    filter: &HandoffFilter,
    mut cond: Condition,
    errors: &mut Vec<FieldError>,
) -> Condition {
    if let Some(s) = non_empty(&filter.status) {
        let wanted: Result<Vec<HandoffStatus>, UnknownVariant> =
            s.split(',').map(|w| w.trim().parse()).collect();
        match wanted {
            Ok(wanted) => {
                cond = cond.add(
                    handoff::Column::Status.is_in(wanted.into_iter().map(HandoffStatus::as_str)),
                )
            }
            Err(e) => errors.push(FieldError {
                field: "status".into(),
                message: format!(
                    "unknown status `{}`; expected one of: {}",
                    e.value, e.expected
                ),
            }),
        }
    }
    if let Some(k) = non_empty(&filter.kind) {
        match k.parse::<HandoffKind>() {
            Ok(k) => cond = cond.add(handoff::Column::Kind.eq(k.as_str())),
            Err(e) => errors.push(FieldError {
                field: "kind".into(),
                message: format!("must be one of: {}", e.expected),
            }),
        }
    }
    cond
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_count_calendar_and_working_days() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Thursday 24 Dec 2026 09:00 to Monday 28 Dec 09:00 Stockholm: 4 calendar days, and the
        // only working day counted is the 28th.
        let s = Span::between(t("2026-12-24T08:00:00Z"), t("2026-12-28T08:00:00Z"), false);
        assert_eq!((s.hours, s.calendar_days, s.working_days), (96.0, 4.0, 1));
        let same_day = Span::between(t("2026-11-27T08:00:00Z"), t("2026-11-27T14:00:00Z"), true);
        assert_eq!(
            (
                same_day.hours,
                same_day.calendar_days,
                same_day.working_days
            ),
            (6.0, 0.25, 0)
        );
    }

    #[test]
    fn cursors_round_trip() {
        let at: DateTime<Utc> = "2026-11-27T08:00:00.123456Z".parse().unwrap();
        assert_eq!(decode_cursor(&encode_cursor(at, 42)), Some((at, 42)));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
