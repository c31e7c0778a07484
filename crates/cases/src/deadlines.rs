//! The statutory clock on cases: supplement requests, the one extension, a party's request for a
//! decision (FL 12 §), and keeping each case's stored clock state current from its events.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::case_event as ev;
use lots_core::deadline::{
    self, DeadlineFacts, DeadlineRule, DeadlineState, DeadlineView, Supplement,
};
use lots_core::{Actor, CaseEvent, CaseStatus, EventKind, TIME_ZONE};
use lots_store::entity::{case_event, case_record, supplement_request};
use lots_store::events::append;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::access::Granted;
use crate::cases::{Cases, check_version, save};
use crate::error::{Problems, ServiceError, ServiceResult};
use crate::stored::{case_area, case_status, stored_event};
use crate::view::{CaseView, Lookups};

/// Event kinds that move the clock.
pub const CLOCK_EVENTS: [EventKind; 4] = [
    EventKind::SupplementRequested,
    EventKind::SupplementReceived,
    EventKind::DeadlineExtended,
    EventKind::DecisionRequested,
];

/// `POST /api/v1/cases/{id}/supplement-requests`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "Komplettera med situationsplan och fasadritningar."}))]
pub struct NewSupplementRequest {
    /// What the company is asked to send.
    pub message: Option<String>,
}

/// A request for a supplement (begäran om komplettering).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplementView {
    pub id: i64,
    pub case_id: i64,
    pub message: String,
    pub requested_at: DateTime<Utc>,
    pub requested_by: Option<String>,
    /// When the supplement came in; null while the case waits for it.
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
}

/// `POST /api/v1/cases/{id}/deadline-extensions`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Ärendet kräver samråd med länsstyrelsen", "weeks": 10}))]
pub struct NewExtension {
    /// Why; the extension is a decision of its own and must be explained.
    pub reason: Option<String>,
    /// How many weeks; defaults to the most the law allows (10 for permits, 4 for notifications).
    pub weeks: Option<u32>,
}

/// `POST /api/v1/cases/{id}/decision-requests`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Sökanden begärde skriftligen avgörande den 7 september."}))]
pub struct NewDecisionRequest {
    pub note: Option<String>,
}

/// The Stockholm calendar date of an instant.
pub fn stockholm_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&TIME_ZONE).date_naive()
}

/// Refuses with 409 unless `status` is an open one, saying why a closed case cannot.
fn require_open(case: &case_record::Model, why: &str) -> ServiceResult<()> {
    if case_status(case)?.is_open() {
        Ok(())
    } else {
        Err(ServiceError::Conflict(format!(
            "the case is {}; {why}",
            case.status
        )))
    }
}

impl Cases {
    pub(crate) fn rule_for(
        &self,
        case: &case_record::Model,
    ) -> ServiceResult<Option<&DeadlineRule>> {
        Ok(self
            .rules
            .for_case(case_area(case)?, case.case_type.as_deref()))
    }

    /// The `deadline` object of a case as of today.
    pub(crate) fn deadline_view(
        &self,
        case: &case_record::Model,
    ) -> ServiceResult<Option<DeadlineView>> {
        let Some(rule) = self.rule_for(case)? else {
            return Ok(None);
        };
        let state = DeadlineState {
            started_on: case.complete_at.map(stockholm_date),
            due_date: case.due_date,
            paused: case.deadline_paused,
            extension_weeks: case.extension_weeks.and_then(|w| u32::try_from(w).ok()),
            decision_due_date: case.decision_due_date,
        };
        let ended_on = if case_status(case)?.is_open() {
            None
        } else {
            case.decided_at.or(case.closed_at).map(stockholm_date)
        };
        let dates = deadline::CaseDates {
            received_on: stockholm_date(case.received_at),
            ended_on,
        };
        Ok(Some(deadline::view(
            rule,
            &state,
            dates,
            stockholm_date(self.clock.now()),
        )))
    }

    /// Recomputes the clock of `case` from its events and stores it on the row (same
    /// transaction as the event that changed it).
    pub(crate) async fn refresh_deadline(
        &self,
        tx: &DatabaseTransaction,
        case: case_record::Model,
    ) -> ServiceResult<case_record::Model> {
        let events = case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(case.id))
            .filter(case_event::Column::Kind.is_in(CLOCK_EVENTS.map(EventKind::as_str)))
            .order_by_asc(case_event::Column::Id)
            .all(tx)
            .await?;
        let mut model: case_record::ActiveModel = case.clone().into();
        apply_clock(&mut model, self.rule_for(&case)?, case.received_at, &events)?;
        Ok(model.update(tx).await?)
    }

    /// Writes what a status change means for supplements: moving to `awaiting_supplement` opens
    /// a request; leaving it for `in_progress` marks the open request received.
    pub(crate) async fn supplement_side_effects(
        &self,
        tx: &DatabaseTransaction,
        who: crate::cases::Who<'_>,
        case: &case_record::Model,
        (from, to): (CaseStatus, CaseStatus),
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> ServiceResult<Option<supplement_request::Model>> {
        if to == CaseStatus::AwaitingSupplement {
            let crate::cases::Who::Officer(actor) = who else {
                return Err(ServiceError::Internal(
                    "only an officer requests a supplement".into(),
                ));
            };
            let request = supplement_request::ActiveModel {
                case_id: Set(case.id),
                message: Set(reason.unwrap_or("Begäran om komplettering").to_string()),
                requested_at: Set(now),
                requested_by: Set(actor.user_id),
                received_at: Set(None),
                received_by: Set(None),
                ..Default::default()
            }
            .insert(tx)
            .await?;
            let requested = CaseEvent::SupplementRequested(ev::SupplementRequested {
                request_id: Some(request.id),
                message: Some(request.message.clone()),
            });
            append(tx, self.event(actor, case, now, requested)).await?;
            return Ok(Some(request));
        }
        if from == CaseStatus::AwaitingSupplement && to == CaseStatus::InProgress {
            let open = supplement_request::Entity::find()
                .filter(supplement_request::Column::CaseId.eq(case.id))
                .filter(supplement_request::Column::ReceivedAt.is_null())
                .order_by_desc(supplement_request::Column::Id)
                .one(tx)
                .await?;
            if let Some(open) = open {
                let mut model: supplement_request::ActiveModel = open.into();
                model.received_at = Set(Some(now));
                model.received_by = Set(who.user_id());
                let request = model.update(tx).await?;
                let received = CaseEvent::SupplementReceived(ev::SupplementReceived {
                    request_id: request.id,
                });
                append(tx, self.event_by(who, case, now, received)).await?;
                return Ok(Some(request));
            }
        }
        Ok(None)
    }
}

/// What moves a case's statutory clock by an officer's act: supplement requests and their
/// answers, extensions of the deadline and the applicant's request for a decision (the clock
/// itself, `rule_for` and `refresh_deadline`, stays with the lifecycle that every change runs).
#[derive(Debug, Clone)]
pub struct Supplements {
    cases: Cases,
}

impl Supplements {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }

    pub async fn request_supplement(
        &self,
        actor: &Actor,
        id: i64,
        input: NewSupplementRequest,
        if_match: Option<i64>,
    ) -> ServiceResult<SupplementView> {
        let mut p = Problems::default();
        let message = p.text("message", input.message.as_deref(), 1, 5000);
        p.finish()?;
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, id).await?;
        check_version(&case, if_match)?;
        match case_status(&case)? {
            CaseStatus::InProgress => {}
            CaseStatus::AwaitingSupplement => {
                return Err(ServiceError::Conflict(
                    "a supplement request is already open; mark it received first".into(),
                ));
            }
            _ => {
                return Err(ServiceError::Conflict(format!(
                    "supplements are requested while a case is in_progress; this one is {}",
                    case.status
                )));
            }
        }
        let (_, request) = self
            .cases
            .change_status(
                &tx,
                actor,
                case.case,
                CaseStatus::AwaitingSupplement,
                message,
                None,
            )
            .await?;
        tx.commit().await?;
        let request = request
            .ok_or_else(|| ServiceError::Internal("no supplement request written".into()))?;
        self.supplement_view(request).await
    }

    pub async fn receive_supplement(
        &self,
        actor: &Actor,
        id: i64,
        request_id: i64,
    ) -> ServiceResult<SupplementView> {
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, id).await?;
        let request = supplement_request::Entity::find_by_id(request_id)
            .one(&tx)
            .await?
            .filter(|r| r.case_id == case.id)
            .ok_or(ServiceError::NotFound("supplement request"))?;
        if request.received_at.is_some() {
            return Err(ServiceError::Conflict(
                "this supplement has already been received".into(),
            ));
        }
        if case_status(&case)? != CaseStatus::AwaitingSupplement {
            return Err(ServiceError::Conflict(format!(
                "the case no longer waits for a supplement; it is {}",
                case.status
            )));
        }
        self.cases
            .change_status(
                &tx,
                actor,
                case.case,
                CaseStatus::InProgress,
                Some("Kompletteringen har kommit in".into()),
                None,
            )
            .await?;
        tx.commit().await?;
        let request = supplement_request::Entity::find_by_id(request_id)
            .one(self.cases.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("supplement request"))?;
        self.supplement_view(request).await
    }

    pub async fn supplements(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<SupplementView>> {
        let case = self.cases.granted(actor, id).await?;
        self.supplements_of(&case).await
    }

    /// `supplements` of a case the request has already read, with the caller's access to it.
    pub async fn supplements_of(&self, case: &Granted) -> ServiceResult<Vec<SupplementView>> {
        let rows = case
            .rows::<supplement_request::Entity>(&self.cases.db, supplement_request::Column::CaseId)
            .await?;
        let mut users: Vec<i64> = rows.iter().map(|r| r.requested_by).collect();
        users.extend(rows.iter().filter_map(|r| r.received_by));
        let lookups = Lookups::load(&self.cases.db, [], users).await?;
        let hide = case.access.hides_content();
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut v = supplement(&lookups, r);
                if hide {
                    v.message = crate::record::CONFIDENTIAL.to_string();
                }
                v
            })
            .collect())
    }

    async fn supplement_view(&self, r: supplement_request::Model) -> ServiceResult<SupplementView> {
        let lookups = Lookups::load(
            &self.cases.db,
            [],
            [Some(r.requested_by), r.received_by].into_iter().flatten(),
        )
        .await?;
        Ok(supplement(&lookups, r))
    }

    pub async fn extend_deadline(
        &self,
        actor: &Actor,
        id: i64,
        input: NewExtension,
        if_match: Option<i64>,
    ) -> ServiceResult<CaseView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let reason = p.text("reason", input.reason.as_deref(), 1, 2000);
        p.finish()?;
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, id).await?;
        check_version(&case, if_match)?;
        let rule = self
            .cases
            .rule_for(&case)?
            .filter(|r| r.max_extension_weeks > 0)
            .cloned()
            .ok_or_else(|| {
                ServiceError::Conflict(
                    "cases of this area and type have no statutory deadline to extend".into(),
                )
            })?;
        let weeks = input.weeks.unwrap_or(rule.max_extension_weeks);
        if weeks == 0 || weeks > rule.max_extension_weeks {
            return Err(ServiceError::invalid(
                "weeks",
                format!("must be from 1 to {}", rule.max_extension_weeks),
            ));
        }
        require_open(&case, "only an open case's deadline can be extended")?;
        if case.extension_weeks.is_some() {
            return Err(ServiceError::Conflict(
                "the deadline has already been extended once; the law allows one extension".into(),
            ));
        }
        let Some(due) = case.due_date else {
            return Err(ServiceError::Conflict(
                "the clock has not started: the case waits for a supplement".into(),
            ));
        };
        if stockholm_date(now) > due {
            return Err(ServiceError::Conflict(format!(
                "the deadline passed on {due}; it can no longer be extended"
            )));
        }
        let extended = CaseEvent::DeadlineExtended(ev::DeadlineExtended {
            weeks,
            reason,
            previous_due_date: Some(due),
        });
        append(&tx, self.cases.event(actor, &case, now, extended)).await?;
        let refreshed = self.cases.refresh_deadline(&tx, case.case.clone()).await?;
        let saved = save(&tx, refreshed.into(), &case, now).await?;
        tx.commit().await?;
        self.cases.view_owned(actor, saved).await
    }

    pub async fn request_decision(
        &self,
        actor: &Actor,
        id: i64,
        input: NewDecisionRequest,
    ) -> ServiceResult<CaseView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let note = input
            .note
            .as_deref()
            .and_then(|n| p.text("note", Some(n), 0, 2000));
        p.finish()?;
        let tx = self.cases.db.begin().await?;
        let case = self.cases.owned(&tx, actor, id).await?;
        require_open(&case, "there is nothing left to decide")?;
        let received_on = stockholm_date(case.received_at);
        if !deadline::is_six_months_old(received_on, stockholm_date(now)) {
            return Err(ServiceError::Conflict(
                "a party may ask for a decision once the case is six months old (förvaltningslagen 12 §)".into(),
            ));
        }
        if case.decision_due_date.is_some() {
            return Err(ServiceError::Conflict(
                "a request for a decision is already registered".into(),
            ));
        }
        append(
            &tx,
            self.cases.event(
                actor,
                &case,
                now,
                CaseEvent::DecisionRequested(ev::DecisionRequested { note }),
            ),
        )
        .await?;
        let refreshed = self.cases.refresh_deadline(&tx, case.case.clone()).await?;
        let saved = save(&tx, refreshed.into(), &case, now).await?;
        tx.commit().await?;
        self.cases.view_owned(actor, saved).await
    }
}

fn supplement(lookups: &Lookups, r: supplement_request::Model) -> SupplementView {
    SupplementView {
        id: r.id,
        case_id: r.case_id,
        message: r.message,
        requested_at: r.requested_at,
        requested_by: lookups.username(Some(r.requested_by)),
        received_at: r.received_at,
        received_by: lookups.username(r.received_by),
    }
}

/// An event that moves a case's statutory clock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClockEvent {
    SupplementRequested { request: i64, at: DateTime<Utc> },
    SupplementReceived { request: i64, at: DateTime<Utc> },
    DeadlineExtended { weeks: Option<u32> },
    DecisionRequested { at: DateTime<Utc> },
}

impl ClockEvent {
    /// The clock event a stored event is, if it is one.
    fn of(e: &case_event::Model) -> ServiceResult<Option<Self>> {
        Ok(Some(match stored_event(e)? {
            CaseEvent::SupplementRequested(r) => Self::SupplementRequested {
                // The import writes no request row where its file names no officer.
                request: r.request_id.unwrap_or(e.id),
                at: e.at,
            },
            CaseEvent::SupplementReceived(r) => Self::SupplementReceived {
                request: r.request_id,
                at: e.at,
            },
            CaseEvent::DeadlineExtended(x) => Self::DeadlineExtended {
                weeks: Some(x.weeks),
            },
            CaseEvent::DecisionRequested(_) => Self::DecisionRequested { at: e.at },
            _ => return Ok(None),
        }))
    }
}

/// The stored clock of a case: the columns of `case_record` it sets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct StoredClock {
    pub due_date: Option<NaiveDate>,
    pub paused: bool,
    pub extension_weeks: Option<i32>,
    pub decision_due_date: Option<NaiveDate>,
    pub complete_at: Option<DateTime<Utc>>,
}

/// A case's clock from its received time and clock events, in order.
pub(crate) fn clock(
    rule: Option<&DeadlineRule>,
    received_at: DateTime<Utc>,
    events: impl IntoIterator<Item = ClockEvent>,
) -> StoredClock {
    let Some(rule) = rule else {
        return StoredClock::default();
    };
    let mut facts = DeadlineFacts {
        received_on: stockholm_date(received_at),
        ..Default::default()
    };
    let mut requests: BTreeMap<i64, Supplement> = BTreeMap::new();
    let mut received_instants: BTreeMap<NaiveDate, DateTime<Utc>> = BTreeMap::new();
    for e in events {
        match e {
            ClockEvent::SupplementRequested { request, at } => {
                requests.insert(
                    request,
                    Supplement {
                        requested_on: stockholm_date(at),
                        received_on: None,
                    },
                );
            }
            ClockEvent::SupplementReceived { request, at } => {
                if let Some(s) = requests.get_mut(&request) {
                    let day = stockholm_date(at);
                    s.received_on = Some(day);
                    received_instants.entry(day).or_insert(at);
                }
            }
            ClockEvent::DeadlineExtended { weeks } => facts.extension_weeks = weeks,
            ClockEvent::DecisionRequested { at } => {
                facts.decision_requested_on = Some(stockholm_date(at));
            }
        }
    }
    facts.supplements = requests.into_values().collect();
    let state = deadline::compute(rule, &facts);
    StoredClock {
        due_date: state.due_date,
        paused: state.paused,
        extension_weeks: state.extension_weeks.and_then(|w| i32::try_from(w).ok()),
        decision_due_date: state.decision_due_date,
        // The application counts as complete from the instant the clock started.
        complete_at: state.started_on.map(|day| {
            if day == facts.received_on {
                received_at
            } else {
                received_instants.get(&day).copied().unwrap_or(received_at)
            }
        }),
    }
}

/// Sets the stored clock of a case from its received time and stored events.
pub(crate) fn apply_clock(
    model: &mut case_record::ActiveModel,
    rule: Option<&DeadlineRule>,
    received_at: DateTime<Utc>,
    events: &[case_event::Model],
) -> ServiceResult<()> {
    let mut moves = Vec::with_capacity(events.len());
    for e in events {
        moves.extend(ClockEvent::of(e)?);
    }
    let c = clock(rule, received_at, moves);
    model.due_date = Set(c.due_date);
    model.deadline_paused = Set(c.paused);
    model.extension_weeks = Set(c.extension_weeks);
    model.decision_due_date = Set(c.decision_due_date);
    model.complete_at = Set(c.complete_at);
    Ok(())
}
