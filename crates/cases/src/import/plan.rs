//! Planning: what to write in which order, and the rows of each batch of checked lines, built
//! column by column and bound into statements.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use lots_core::case_event::{
    self as ev, Accepted, Closed, Completed, HandoffRef, HandoffStep, Requested,
};
use lots_core::deadline::DeadlineRules;
use lots_core::{CaseEvent, CaseStatus, Decision};
use lots_store::bulk::{Column, Prepared, Table};
use sea_orm::DbBackend;

use super::check::{Checked, Directory, Good, Needs};
use super::parse::{Event, Line, Survey, parse, target};
use super::source::{ImportSource, Layout};
use super::write::{handoff_table, note_table, supplement_table, survey_table};
use super::{BATCH, LineError};
use crate::deadlines::{ClockEvent, clock as clock_of};
use crate::error::{ServiceError, ServiceResult};

/// What the import writes, once the first pass found the good lines.
pub(super) struct Plan {
    /// The lines to write, a part of the source at a time and in each in the order the cases
    /// were received: ids follow it, and the indexes on received and due dates grow at their
    /// ends instead of everywhere at once.
    pub(super) order: Vec<Planned>,
    pub(super) missing_deps: BTreeSet<String>,
    pub(super) missing_users: BTreeSet<String>,
    /// The companies of the lines to import (org number, the file's last name for it), in
    /// the order of their first case.
    pub(super) companies: Vec<(String, String)>,
    /// How many cases, supplement requests and notes the import writes.
    pub(super) cases: usize,
    pub(super) supplements: usize,
    pub(super) notes: usize,
}

impl Plan {
    /// Plans the good lines whose reference is not among the `existing`; those that are become
    /// errors.
    pub(super) fn new(
        good: Vec<Good>,
        existing: &HashSet<String>,
        errors: &mut Vec<LineError>,
    ) -> Plan {
        let mut order: Vec<(Planned, Box<str>)> = Vec::new();
        let mut missing_deps: BTreeSet<String> = BTreeSet::new();
        let mut missing_users: BTreeSet<String> = BTreeSet::new();
        // The companies of the lines to import: the last name in the file wins.
        let mut companies: HashMap<Box<str>, Box<str>> = HashMap::new();
        let (mut cases, mut supplements, mut notes) = (0, 0, 0);
        for g in good {
            if existing.contains(&*g.reference) {
                errors.push(LineError {
                    line: g.line,
                    reference: Some(g.reference.into()),
                    message:
                        "reference: a case with this diarienummer exists; re-importing is refused"
                            .into(),
                });
            } else {
                if let Some(needs) = g.needs {
                    missing_deps.extend(needs.deps);
                    missing_users.extend(needs.users);
                }
                companies.insert(g.org.clone(), g.company);
                cases += 1;
                supplements += g.supplements as usize;
                notes += g.notes as usize;
                let planned = Planned {
                    part: g.part,
                    received_at: g.received_at,
                    line: g.line,
                    span: g.span,
                };
                order.push((planned, g.org));
            }
        }
        order.sort_unstable_by_key(|(o, _)| (o.part, o.received_at, o.line));
        // Companies take their ids in the order of their first case, like the cases.
        let companies: Vec<(String, String)> = order
            .iter()
            .filter_map(|(_, org)| companies.remove_entry(org))
            .map(|(org, name)| (org.into(), name.into()))
            .collect();
        let order = order.into_iter().map(|(o, _)| o).collect();
        Plan {
            order,
            missing_deps,
            missing_users,
            companies,
            cases,
            supplements,
            notes,
        }
    }
}

/// A line to write: which part of the source holds it, when its case was received, its number
/// and where it lies in its part.
pub(super) struct Planned {
    part: usize,
    received_at: DateTime<Utc>,
    line: usize,
    span: Range<usize>,
}

/// The second pass: a thread parses and builds the next batch (of the lines in `order`) while
/// the writer writes the one before. It reads the parts of the source again as it comes to
/// them (each checked to be as the first pass found it), and holds only those of one batch.
pub(super) fn produce(
    source: ImportSource,
    layout: Layout,
    order: Vec<Planned>,
    mut builder: Builder,
    send: tokio::sync::mpsc::Sender<ServiceResult<Batch>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        // The parts the batch being built reads (a part is far larger than a batch: one or two).
        let mut held: Vec<(usize, Bytes)> = Vec::new();
        for chunk in order.chunks(BATCH) {
            held.retain(|(index, _)| *index >= chunk[0].part);
            for planned in chunk {
                if held.iter().all(|(index, _)| *index != planned.part) {
                    match source.part_again(&layout, planned.part) {
                        Ok(bytes) => held.push((planned.part, bytes)),
                        Err(e) => {
                            let e = ServiceError::Conflict(format!("file: {e}"));
                            let _ = send.blocking_send(Err(e));
                            return;
                        }
                    }
                }
            }
            let mut checked = Vec::with_capacity(chunk.len());
            // The first pass refused every repeat: the references of a batch are all that a
            // line is checked against again (the whole file's would hold every reference).
            let mut seen = HashSet::new();
            for planned in chunk {
                let Some((_, bytes)) = held.iter().find(|(index, _)| *index == planned.part) else {
                    continue;
                };
                let raw = &bytes[planned.span.clone()];
                // The first pass took this line: it parses and checks the same way again.
                let Ok(line) = parse(raw) else {
                    continue;
                };
                let Ok(facts) = builder.dir.check(&line, &mut seen, &mut Needs::default()) else {
                    continue;
                };
                checked.push(Checked { line, facts });
            }
            if send.blocking_send(builder.batch(&checked)).is_err() {
                return; // The writer stopped.
            }
        }
    })
}

/// A batch's statements, ready to run.
pub(super) struct Batch {
    pub(super) cases: usize,
    pub(super) case_ids: Vec<i64>,
    pub(super) statements: Vec<Prepared>,
}

/// Builds the rows of batches of checked lines and binds them into statements.
pub(super) struct Builder {
    pub(super) dir: Arc<Directory>,
    pub(super) rules: Arc<DeadlineRules>,
    pub(super) backend: DbBackend,
    /// On PostgreSQL, the columns' types: the batches are written with binary `COPY`.
    pub(super) pg_types: Option<lots_store::bulk::PgTypes>,
    /// Each department's code by id.
    pub(super) codes: HashMap<i64, String>,
    /// Each company's id by org number.
    pub(super) companies: HashMap<String, i64>,
    pub(super) ids: ReservedIds,
    pub(super) shared: Interner,
}

/// One allocation per distinct code (a status, an event kind, an area), shared by every row.
#[derive(Default)]
pub(super) struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    pub(super) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_string(), a.clone());
        a
    }
}

impl Builder {
    /// The statements of a batch, in an order that keeps every reference valid: cases, then
    /// what points at them.
    fn batch(&mut self, batch: &[Checked]) -> ServiceResult<Batch> {
        let mut rows = Rows::default();
        let mut serials: BTreeMap<(i64, i32), u32> = BTreeMap::new();
        let mut case_ids = Vec::with_capacity(batch.len());
        for c in batch {
            let case_id = next_id(&mut self.ids.cases, "case")?;
            case_ids.push(case_id);
            let company_id = *self.companies.get(c.facts.org.as_str()).ok_or_else(|| {
                ServiceError::Internal(format!("company {}", c.facts.org.as_str()))
            })?;
            self.build(c, case_id, company_id, &mut rows)?;
            // Keep the department's diary series ahead of every imported serial.
            if let Some(d) = self
                .dir
                .deps
                .values()
                .find(|d| d.diary_prefix == c.facts.reference.prefix())
            {
                let top = serials.entry((d.id, c.facts.reference.year())).or_default();
                *top = (*top).max(c.facts.reference.serial());
            }
        }
        let now = self.dir.now;
        let mut deps = Vec::new();
        let mut years = Vec::new();
        let mut tops = Vec::new();
        for ((d, y), top) in serials {
            deps.push(d);
            years.push(i64::from(y));
            tops.push(i64::from(top));
        }
        let series = Table::new("reference_series")
            .column("department_id", Column::Int(deps))
            .column("year", Column::Int(years))
            .column("last_serial", Column::Int(tops))
            .on_conflict(
                "ON CONFLICT (department_id, year) DO UPDATE SET last_serial = CASE \
                 WHEN excluded.last_serial > reference_series.last_serial \
                 THEN excluded.last_serial ELSE reference_series.last_serial END",
            );
        let mut statements = Vec::new();
        for table in [
            rows.cases.table(),
            supplement_table(rows.supplements),
            note_table(rows.notes),
            handoff_table(rows.handoffs),
            rows.events.table(),
            survey_table(rows.surveys, now),
            series,
        ] {
            statements.extend(table.prepare_with(self.backend, self.pg_types.as_ref())?);
        }
        Ok(Batch {
            cases: batch.len(),
            case_ids,
            statements,
        })
    }

    /// The rows of one case: the case with its final state and statutory clock, its events in
    /// order, and what they created.
    fn build(
        &mut self,
        c: &Checked,
        case_id: i64,
        company_id: i64,
        rows: &mut Rows,
    ) -> ServiceResult<()> {
        let l = &c.line;
        let dir = &*self.dir;
        let first_dep = dep_id(dir, &l.department)?;
        let first_actor = l
            .events
            .first()
            .and_then(|e| user_id(dir, e.actor.as_deref()))
            .or(user_id(dir, l.assignee.as_deref()));
        let first_supplement = rows.supplements.len();
        let mut case = CaseBuild {
            case_id,
            first_actor,
            first_supplement,
            dir,
            codes: &self.codes,
            ids: &mut self.ids,
            events: EventCase {
                case_id,
                cols: &mut rows.events,
                shared: &mut self.shared,
            },
            supplements: &mut rows.supplements,
            notes: &mut rows.notes,
            state: CaseState {
                clock: Vec::new(),
                status: CaseStatus::Received,
                owner: first_dep,
                decision: None,
                decided_at: None,
                closed_at: None,
                handoffs: Vec::new(),
                open_supplement: None,
            },
        };
        let created = By {
            at: l.received_at,
            actor_id: first_actor,
            actor_dep: Some(first_dep),
        };
        let imported = ev::Created::Imported(ev::Imported {
            imported: true,
            reference: c.facts.reference.to_string(),
        });
        case.events.push(created, &CaseEvent::Created(imported));
        for (i, e) in l.events.iter().enumerate() {
            case.event(l, i, e)?;
        }
        let state = case.state;
        self.case_row(c, case_id, company_id, state, rows);
        if let Some(s) = &l.survey {
            rows.surveys.push(self.survey_row(case_id, s));
        }
        Ok(())
    }

    /// The case's row, with its final state and the statutory clock from the imported events
    /// (as for live cases); and the rows of its handoffs.
    fn case_row(
        &mut self,
        c: &Checked,
        case_id: i64,
        company_id: i64,
        state: CaseState<'_>,
        rows: &mut Rows,
    ) {
        let l = &c.line;
        let stored = clock_of(
            self.rules
                .for_case(c.facts.area, c.facts.case_type.as_deref()),
            l.received_at,
            state.clock,
        );
        let last_at = l.events.last().map_or(l.received_at, |e| e.at);
        let dir = &*self.dir;
        let shared = &mut self.shared;
        let r = &mut rows.cases;
        r.id.push(case_id);
        r.reference.push(c.facts.reference.to_string());
        r.department_id.push(state.owner);
        r.company_id.push(company_id);
        r.area.push(shared.get(c.facts.area.as_str()));
        r.case_type
            .push(c.facts.case_type.as_deref().map(|t| shared.get(t)));
        r.title.push(l.title.trim().to_string());
        r.description
            .push(l.description.as_deref().unwrap_or_default().to_string());
        r.assignee_id.push(user_id(dir, l.assignee.as_deref()));
        r.status.push(shared.get(state.status.as_str()));
        r.decision.push(state.decision.map(|d| shared.get(d)));
        r.received_at.push(l.received_at);
        r.complete_at.push(stored.complete_at);
        r.decided_at.push(state.decided_at);
        r.closed_at.push(state.closed_at);
        r.version.push(1 + l.events.len() as i64);
        r.updated_at.push(last_at);
        r.due_date.push(stored.due_date);
        r.deadline_paused.push(stored.paused);
        r.extension_weeks
            .push(stored.extension_weeks.map(i64::from));
        r.decision_due_date.push(stored.decision_due_date);
        r.priority.push(shared.get("normal"));
        r.labels.push("[]".to_string());
        rows.handoffs
            .extend(state.handoffs.into_iter().map(|(_, h)| h));
    }

    /// The row of a case's survey, scored by the import's instrument.
    fn survey_row(&self, case_id: i64, s: &Survey<'_>) -> SurveyRow {
        let answers = s.answers();
        let scores = self.dir.instrument.score(&answers);
        let small = |v: i64| i16::try_from(v).unwrap_or_default();
        SurveyRow {
            case_id,
            answers: [s.q_overall, s.q_expectations, s.q_ideal].map(small),
            factors: answers
                .factors
                .map(|f| f.and_then(|v| i16::try_from(v).ok())),
            comment: s.comment.as_deref().map(str::to_string),
            nki: scores.nki,
            indices: scores.factors,
            answered_at: s.answered_at,
        }
    }
}

/// The next of the ids reserved for a table's rows (`what` names them in the error).
pub(super) fn next_id(ids: &mut std::vec::IntoIter<i64>, what: &str) -> ServiceResult<i64> {
    ids.next()
        .ok_or_else(|| ServiceError::Internal(format!("too few {what} ids")))
}

fn dep_id(dir: &Directory, code: &str) -> ServiceResult<i64> {
    dir.deps
        .get(code)
        .map(|d| d.id)
        .ok_or_else(|| ServiceError::Internal(format!("department {code}")))
}

fn user_id(dir: &Directory, name: Option<&str>) -> Option<i64> {
    name.and_then(|n| dir.users.get(n)).map(|u| u.id)
}

/// Where a case's events have brought it so far, as the builder follows them.
struct CaseState<'l> {
    clock: Vec<ClockEvent>,
    status: CaseStatus,
    owner: i64,
    decision: Option<&'l str>,
    decided_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    /// The case's handoffs by their keys in the file.
    handoffs: Vec<(&'l str, HandoffRow)>,
    /// The supplement request not yet answered.
    open_supplement: Option<i64>,
}

/// The rows of one case in the making: its state, and where its rows go.
struct CaseBuild<'b, 'l> {
    case_id: i64,
    /// Who acts when an event names nobody: the first event's actor, or the assignee.
    first_actor: Option<i64>,
    /// The batch's first supplement request of this case.
    first_supplement: usize,
    dir: &'b Directory,
    codes: &'b HashMap<i64, String>,
    ids: &'b mut ReservedIds,
    events: EventCase<'b>,
    supplements: &'b mut Vec<SupplementRow>,
    notes: &'b mut Vec<NoteRow>,
    state: CaseState<'l>,
}

/// When an event happened, who did it and for which department.
#[derive(Clone, Copy)]
struct By {
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_dep: Option<i64>,
}

/// A `status_changed` event's data.
fn status_changed(
    from: CaseStatus,
    to: CaseStatus,
    decision: Option<Decision>,
    reason: Option<&str>,
) -> CaseEvent {
    CaseEvent::StatusChanged(ev::StatusChanged {
        from,
        to,
        reason: reason.map(str::to_string),
        decision,
    })
}

impl<'l> CaseBuild<'_, 'l> {
    /// The rows of the `i`th event of the line `l`.
    fn event(&mut self, l: &'l Line<'_>, i: usize, e: &'l Event<'_>) -> ServiceResult<()> {
        let dir = self.dir;
        let by = By {
            at: e.at,
            actor_id: user_id(dir, e.actor.as_deref()),
            actor_dep: e
                .actor
                .as_ref()
                .and_then(|a| dir.users.get(&**a))
                .and_then(|u| u.department_id)
                .or(Some(self.state.owner)),
        };
        match &*e.event_type {
            "supplement_requested" => self.supplement_requested(i, e, by)?,
            "supplement_received" => self.supplement_received(e, by),
            "status_changed" | "decided" | "closed" | "withdrawn" => self.status_changed(e, by),
            "note" => self.note(e, by)?,
            "deadline_extended" => {
                let weeks = e.weeks.unwrap_or(10);
                let s = &mut self.state;
                s.clock
                    .push(ClockEvent::DeadlineExtended { weeks: Some(weeks) });
                let reason = e.reason.as_deref();
                let extended = CaseEvent::DeadlineExtended(ev::DeadlineExtended {
                    weeks,
                    reason: reason.map(str::to_string),
                    previous_due_date: None,
                });
                self.events.push(by, &extended);
            }
            "decision_requested" => {
                self.state
                    .clock
                    .push(ClockEvent::DecisionRequested { at: e.at });
                let requested = CaseEvent::DecisionRequested(ev::DecisionRequested {
                    note: e.reason.as_deref().map(str::to_string),
                });
                self.events.push(by, &requested);
            }
            t if t.starts_with("handoff_") => self.handoff(l, t, e, by)?,
            _ => {}
        }
        Ok(())
    }

    fn supplement_requested(&mut self, i: usize, e: &Event<'_>, by: By) -> ServiceResult<()> {
        let id = match by.actor_id.or(self.first_actor) {
            Some(requested_by) => {
                let id = next_id(&mut self.ids.supplements, "supplement")?;
                self.supplements.push(SupplementRow {
                    id,
                    case_id: self.case_id,
                    message: e
                        .message
                        .as_deref()
                        .or(e.reason.as_deref())
                        .unwrap_or("Begäran om komplettering")
                        .to_string(),
                    requested_at: e.at,
                    requested_by,
                    received_at: None,
                    received_by: None,
                });
                Some(id)
            }
            None => None,
        };
        let s = &mut self.state;
        s.open_supplement = id;
        s.clock.push(ClockEvent::SupplementRequested {
            // Without a request row the clock still pauses, keyed by position.
            request: id.unwrap_or(-(i as i64) - 1),
            at: e.at,
        });
        let message = e.message.as_deref();
        let requested = CaseEvent::SupplementRequested(ev::SupplementRequested {
            request_id: id,
            message: message.map(str::to_string),
        });
        self.events.push(by, &requested);
        let to = CaseStatus::AwaitingSupplement;
        let changed = status_changed(s.status, to, None, e.reason.as_deref());
        self.events.push(by, &changed);
        s.status = to;
        Ok(())
    }

    fn supplement_received(&mut self, e: &Event<'_>, by: By) {
        let s = &mut self.state;
        if let Some(id) = s.open_supplement.take() {
            if let Some(r) = self.supplements[self.first_supplement..]
                .iter_mut()
                .rev()
                .find(|r| r.id == id)
            {
                r.received_at = Some(e.at);
                r.received_by = by.actor_id;
            }
            s.clock.push(ClockEvent::SupplementReceived {
                request: id,
                at: e.at,
            });
            let received = CaseEvent::SupplementReceived(ev::SupplementReceived { request_id: id });
            self.events.push(by, &received);
        }
        let to = CaseStatus::InProgress;
        let changed = status_changed(s.status, to, None, e.reason.as_deref());
        self.events.push(by, &changed);
        s.status = to;
    }

    /// A status change, a decision, a closing or a withdrawal.
    fn status_changed(&mut self, e: &'l Event<'_>, by: By) {
        let s = &mut self.state;
        let to = target(e).unwrap_or(s.status);
        if to == CaseStatus::Decided {
            s.decision = e.decision.as_deref();
            s.decided_at = Some(e.at);
        }
        if matches!(to, CaseStatus::Closed | CaseStatus::Withdrawn) {
            s.closed_at = Some(e.at);
        }
        // The check made sure that a decision names a known outcome.
        let decision = (to == CaseStatus::Decided)
            .then(|| e.decision.as_deref().and_then(|d| d.parse().ok()))
            .flatten();
        let changed = status_changed(s.status, to, decision, e.reason.as_deref());
        self.events.push(by, &changed);
        s.status = to;
    }

    /// A note, when the file says who wrote it.
    fn note(&mut self, e: &Event<'_>, by: By) -> ServiceResult<()> {
        let Some(author_id) = by.actor_id else {
            return Ok(());
        };
        let id = next_id(&mut self.ids.notes, "note")?;
        self.notes.push(NoteRow {
            id,
            case_id: self.case_id,
            author_id,
            text: e.text.as_deref().unwrap_or_default().to_string(),
            created_at: e.at,
        });
        let added = CaseEvent::NoteAdded(ev::NoteAdded {
            note_id: id,
            text: e.text.as_deref().map(str::to_string),
            visibility: None,
            confidential: None,
        });
        self.events.push(by, &added);
        Ok(())
    }

    /// A handoff's request, or a step of one requested before (`t`, the event's type).
    fn handoff(&mut self, l: &Line<'_>, t: &str, e: &'l Event<'_>, by: By) -> ServiceResult<()> {
        let key = e.handoff.as_deref().unwrap_or_default();
        if t == "handoff_requested" {
            let row = self.handoff_row(e, by)?;
            self.state.handoffs.push((key, row));
        }
        let Some((_, h)) = self
            .state
            .handoffs
            .iter_mut()
            .rev()
            .find(|(k, _)| *k == key)
        else {
            return Ok(());
        };
        let (from, to) = (h.from_department_id, h.to_department_id);
        let handoff = HandoffRef {
            handoff_id: None,
            handoff_key: Some(key.to_string()),
            handoff_kind: h.kind.parse().map_err(|e| {
                ServiceError::Internal(format!("an imported handoff passed its check: {e}"))
            })?,
            from_department: self.codes.get(&from).cloned(),
            to_department: self.codes.get(&to).cloned(),
        };
        let event = match t {
            "handoff_accepted" => {
                let transfer = h.kind == "transfer";
                h.status = "accepted";
                h.accepted_at = Some(e.at);
                h.accepted_by = by.actor_id;
                let accepted = CaseEvent::HandoffAccepted(HandoffStep {
                    handoff: handoff.clone(),
                    step: Accepted {},
                });
                if transfer {
                    self.state.owner = to;
                    // As in the live service, an accepted transfer is done: the new department
                    // owns the case. A completion the file gives later is taken instead.
                    let completed_later = l
                        .events
                        .iter()
                        .any(|x| x.event_type == "handoff_completed" && x.handoff == e.handoff);
                    if !completed_later {
                        h.status = "completed";
                        h.completed_at = Some(e.at);
                        h.completed_by = by.actor_id;
                        let completed = CaseEvent::HandoffCompleted(HandoffStep {
                            handoff,
                            step: Completed {
                                response: None,
                                ownership_moved: Some(true),
                            },
                        });
                        self.events.push(by, &accepted);
                        self.events.push(by, &completed);
                        return Ok(());
                    }
                }
                accepted
            }
            "handoff_completed" => {
                h.status = "completed";
                h.completed_at = Some(e.at);
                h.completed_by = by.actor_id;
                h.response = e.response.as_deref().map(str::to_string);
                CaseEvent::HandoffCompleted(HandoffStep {
                    handoff,
                    step: Completed {
                        response: h.response.clone(),
                        ownership_moved: None,
                    },
                })
            }
            "handoff_declined" | "handoff_cancelled" => {
                let declined = t == "handoff_declined";
                h.status = if declined { "declined" } else { "cancelled" };
                h.closed_at = Some(e.at);
                h.closed_by = by.actor_id;
                h.decline_reason = e.reason.as_deref().map(str::to_string);
                let step = HandoffStep {
                    handoff,
                    step: Closed {
                        reason: e.reason.as_deref().map(str::to_string),
                    },
                };
                if declined {
                    CaseEvent::HandoffDeclined(step)
                } else {
                    CaseEvent::HandoffCancelled(step)
                }
            }
            _ => CaseEvent::HandoffRequested(HandoffStep {
                handoff,
                step: Requested {
                    message: Some(h.message.clone()),
                    due_date: None,
                },
            }),
        };
        self.events.push(by, &event);
        Ok(())
    }

    /// A requested handoff's row, from the case's department at the time.
    fn handoff_row(&self, e: &Event<'_>, by: By) -> ServiceResult<HandoffRow> {
        Ok(HandoffRow {
            case_id: self.case_id,
            kind: e.kind.as_deref().unwrap_or_default().to_string(),
            status: "requested",
            from_department_id: self.state.owner,
            to_department_id: dep_id(self.dir, e.to_department.as_deref().unwrap_or_default())?,
            message: e.message.as_deref().unwrap_or_default().to_string(),
            response: None,
            decline_reason: None,
            requested_by: by.actor_id.or(self.first_actor).unwrap_or_default(),
            requested_at: e.at,
            accepted_by: None,
            accepted_at: None,
            completed_by: None,
            completed_at: None,
            closed_by: None,
            closed_at: None,
        })
    }
}

/// A batch's rows, table by table.
#[derive(Default)]
pub(super) struct Rows {
    cases: CaseCols,
    events: EventCols,
    supplements: Vec<SupplementRow>,
    notes: Vec<NoteRow>,
    handoffs: Vec<HandoffRow>,
    surveys: Vec<SurveyRow>,
}

/// Ids reserved for the rows of the whole import.
pub(super) struct ReservedIds {
    pub(super) cases: std::vec::IntoIter<i64>,
    pub(super) supplements: std::vec::IntoIter<i64>,
    pub(super) notes: std::vec::IntoIter<i64>,
}

/// `case_record` rows, column by column.
#[derive(Default)]
pub(super) struct CaseCols {
    pub(super) id: Vec<i64>,
    pub(super) reference: Vec<String>,
    pub(super) department_id: Vec<i64>,
    pub(super) company_id: Vec<i64>,
    pub(super) area: Vec<Arc<str>>,
    pub(super) case_type: Vec<Option<Arc<str>>>,
    pub(super) title: Vec<String>,
    pub(super) description: Vec<String>,
    pub(super) assignee_id: Vec<Option<i64>>,
    pub(super) status: Vec<Arc<str>>,
    pub(super) decision: Vec<Option<Arc<str>>>,
    pub(super) received_at: Vec<DateTime<Utc>>,
    pub(super) complete_at: Vec<Option<DateTime<Utc>>>,
    pub(super) decided_at: Vec<Option<DateTime<Utc>>>,
    pub(super) closed_at: Vec<Option<DateTime<Utc>>>,
    pub(super) version: Vec<i64>,
    pub(super) updated_at: Vec<DateTime<Utc>>,
    pub(super) due_date: Vec<Option<NaiveDate>>,
    pub(super) deadline_paused: Vec<bool>,
    pub(super) extension_weeks: Vec<Option<i64>>,
    pub(super) decision_due_date: Vec<Option<NaiveDate>>,
    pub(super) priority: Vec<Arc<str>>,
    pub(super) labels: Vec<String>,
}

/// `case_event` rows, column by column.
#[derive(Default)]
pub(super) struct EventCols {
    pub(super) case_id: Vec<i64>,
    pub(super) at: Vec<DateTime<Utc>>,
    pub(super) kind: Vec<Arc<str>>,
    pub(super) actor_id: Vec<Option<i64>>,
    pub(super) department_id: Vec<Option<i64>>,
    pub(super) data: Vec<String>,
}

/// One case's events, appended in order.
struct EventCase<'a> {
    case_id: i64,
    cols: &'a mut EventCols,
    shared: &'a mut Interner,
}

impl EventCase<'_> {
    fn push(&mut self, by: By, event: &CaseEvent) {
        let c = &mut *self.cols;
        c.case_id.push(self.case_id);
        c.at.push(by.at);
        c.kind.push(self.shared.get(event.kind().as_str()));
        c.actor_id.push(by.actor_id);
        c.department_id.push(by.actor_dep);
        c.data.push(event.data_text());
    }
}

pub(super) struct SupplementRow {
    pub(super) id: i64,
    pub(super) case_id: i64,
    pub(super) message: String,
    pub(super) requested_at: DateTime<Utc>,
    pub(super) requested_by: i64,
    pub(super) received_at: Option<DateTime<Utc>>,
    pub(super) received_by: Option<i64>,
}

pub(super) struct NoteRow {
    pub(super) id: i64,
    pub(super) case_id: i64,
    pub(super) author_id: i64,
    pub(super) text: String,
    pub(super) created_at: DateTime<Utc>,
}

pub(super) struct HandoffRow {
    pub(super) case_id: i64,
    pub(super) kind: String,
    pub(super) status: &'static str,
    pub(super) from_department_id: i64,
    pub(super) to_department_id: i64,
    pub(super) message: String,
    pub(super) response: Option<String>,
    pub(super) decline_reason: Option<String>,
    pub(super) requested_by: i64,
    pub(super) requested_at: DateTime<Utc>,
    pub(super) accepted_by: Option<i64>,
    pub(super) accepted_at: Option<DateTime<Utc>>,
    pub(super) completed_by: Option<i64>,
    pub(super) completed_at: Option<DateTime<Utc>>,
    pub(super) closed_by: Option<i64>,
    pub(super) closed_at: Option<DateTime<Utc>>,
}

pub(super) struct SurveyRow {
    pub(super) case_id: i64,
    /// q_overall, q_expectations, q_ideal.
    pub(super) answers: [i16; 3],
    pub(super) factors: [Option<i16>; 6],
    pub(super) comment: Option<String>,
    pub(super) nki: f64,
    pub(super) indices: [Option<f64>; 6],
    pub(super) answered_at: DateTime<Utc>,
}
