//! Bulk import of case histories from older systems (NDJSON, one case a line; API.md). Every
//! line, and the order of its events against the lifecycle, is checked before anything is
//! written; a file with a bad line imports nothing unless `skip_invalid` is set. A reference that
//! exists is refused, so re-importing never duplicates. Imported history is not announced: it
//! writes no outbox rows and sends no webhooks.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use lots_core::nki::{Answers, Instrument};
use lots_core::{Actor, Area, CaseStatus, Decision, OrgNumber, Reference, Role};
use lots_store::bulk::{insert_all, reserve_ids};
use lots_store::entity::{
    app_user, case_event, case_note, case_record, company, department, handoff, reference_series,
    supplement_request, survey_response,
};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use serde::{Deserialize, Serialize};

use crate::cases::Cases;
use crate::deadlines::apply_clock;
use crate::error::{ServiceError, ServiceResult};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Import the good lines and report the bad ones.
    pub skip_invalid: bool,
    /// Create departments and users that do not exist (users get no usable password).
    pub create_missing: bool,
    pub instrument: Instrument,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CaseImportReport {
    pub lines: usize,
    pub imported: usize,
    /// Every bad line; without `skip_invalid`, one bad line means nothing was imported.
    pub errors: Vec<LineError>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    pub reference: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    reference: String,
    org_number: String,
    company_name: String,
    area: String,
    case_type: Option<String>,
    department: String,
    title: String,
    description: Option<String>,
    assignee: Option<String>,
    received_at: DateTime<Utc>,
    #[serde(default)]
    events: Vec<Event>,
    survey: Option<Survey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    at: DateTime<Utc>,
    #[serde(rename = "type")]
    event_type: String,
    actor: Option<String>,
    to: Option<String>,
    decision: Option<String>,
    reason: Option<String>,
    text: Option<String>,
    message: Option<String>,
    handoff: Option<String>,
    to_department: Option<String>,
    kind: Option<String>,
    response: Option<String>,
    weeks: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Survey {
    answered_at: DateTime<Utc>,
    q_overall: i64,
    q_expectations: i64,
    q_ideal: i64,
    #[serde(default)]
    factors: HashMap<String, i64>,
    comment: Option<String>,
}

impl Survey {
    fn answers(&self) -> Answers {
        let f = |k: &str| self.factors.get(k).copied();
        Answers {
            q_overall: self.q_overall,
            q_expectations: self.q_expectations,
            q_ideal: self.q_ideal,
            factors: lots_core::nki::FACTORS.map(f),
        }
    }
}

/// A line that passed every check, with what writing it needs.
struct Checked {
    line: Line,
    reference: Reference,
    org: OrgNumber,
    area: Area,
    case_type: Option<String>,
}

const HANDOFF_KINDS: [&str; 3] = ["transfer", "consultation", "contact"];

impl Cases {
    pub async fn import_cases(
        &self,
        actor: &Actor,
        body: &[u8],
        options: &ImportOptions,
        progress: &(dyn Fn(usize) + Sync),
    ) -> ServiceResult<CaseImportReport> {
        if !actor.is_admin() {
            return Err(ServiceError::Forbidden(
                "only an admin imports case histories".into(),
            ));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| ServiceError::invalid("body", "must be UTF-8 NDJSON"))?;
        let now = self.clock.now();
        let mut report = CaseImportReport::default();
        let mut deps: HashMap<String, department::Model> = department::Entity::find()
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(|d| (d.code.clone(), d))
            .collect();
        let mut users: HashMap<String, app_user::Model> = app_user::Entity::find()
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(|u| (u.username.clone(), u))
            .collect();
        let mut parsed: Vec<(usize, Result<Line, String>)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            parsed.push((
                i + 1,
                serde_json::from_str::<Line>(raw).map_err(|e| format!("not a case line: {e}")),
            ));
        }
        report.lines = parsed.len();
        // As stored: `BN 2026/00042` and `BN 2026/0042` are the same diarienummer.
        let references: Vec<String> = parsed
            .iter()
            .filter_map(|(_, l)| l.as_ref().ok())
            .filter_map(|l| Reference::parse(&l.reference).ok())
            .map(|r| r.to_string())
            .collect();
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in references.chunks(5000) {
            existing.extend(
                case_record::Entity::find()
                    .filter(case_record::Column::Reference.is_in(chunk.to_vec()))
                    .all(self.db.reader())
                    .await?
                    .into_iter()
                    .map(|c| c.reference),
            );
        }
        // The active case types of each area, as for cases registered live.
        let mut types: HashMap<Area, Vec<String>> = HashMap::new();
        for area in Area::ALL {
            types.insert(
                *area,
                crate::case_types::active_types(self.db.reader(), *area).await?,
            );
        }
        let mut missing_deps: HashSet<String> = HashSet::new();
        let mut missing_users: HashSet<String> = HashSet::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut good = Vec::new();
        for (line_no, parsed) in parsed {
            let line = match parsed {
                Ok(l) => l,
                Err(message) => {
                    report.errors.push(LineError {
                        line: line_no,
                        reference: None,
                        message,
                    });
                    continue;
                }
            };
            let mut need_deps = Vec::new();
            let mut need_users = Vec::new();
            let result = check(
                &line,
                now,
                &existing,
                &mut seen,
                &deps,
                &users,
                &mut need_deps,
                &mut need_users,
                options.create_missing,
                &options.instrument,
                &types,
            );
            match result {
                Ok(c) => {
                    missing_deps.extend(need_deps);
                    missing_users.extend(need_users);
                    good.push(c);
                }
                Err(message) => report.errors.push(LineError {
                    line: line_no,
                    reference: Some(line.reference.clone()),
                    message,
                }),
            }
        }
        if !report.errors.is_empty() && !options.skip_invalid {
            return Ok(report);
        }
        // Create what is missing (only with create_missing; otherwise the checks refused it).
        for code in missing_deps {
            let prefix = good
                .iter()
                .find(|c| c.line.department == code)
                .map_or("IMP".to_string(), |c| c.reference.prefix().to_string());
            let d = department::ActiveModel {
                code: Set(code.clone()),
                name: Set(code.clone()),
                diary_prefix: Set(if deps.values().any(|d| d.diary_prefix == prefix) {
                    format!("X{}", deps.len())
                } else {
                    prefix
                }),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(self.db.writer())
            .await?;
            deps.insert(code, d);
        }
        for username in missing_users {
            let u = app_user::ActiveModel {
                username: Set(username.clone()),
                display_name: Set(username.clone()),
                // No password can match this: imported people log in only after an admin sets one.
                password_hash: Set("!imported".into()),
                role: Set(Role::Officer.as_str().into()),
                department_id: Set(None),
                active: Set(false),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(self.db.writer())
            .await?;
            users.insert(username, u);
        }
        let mut done = 0;
        for batch in good.chunks(BATCH) {
            let tx = self.db.begin().await?;
            self.write_batch(&tx, batch, &deps, &users, options, now)
                .await?;
            tx.commit().await?;
            done += batch.len();
            progress(done);
        }
        report.imported = done;
        Ok(report)
    }

    /// Writes a batch of checked lines with one multi-row insert per table: ids are reserved
    /// first, so that events, handoffs, supplements, notes and answers can point at their case
    /// before anything is sent.
    async fn write_batch(
        &self,
        tx: &DatabaseTransaction,
        batch: &[Checked],
        deps: &HashMap<String, department::Model>,
        users: &HashMap<String, app_user::Model>,
        options: &ImportOptions,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let companies = upsert_companies(tx, batch, now).await?;
        let case_ids = reserve_ids(tx, "case_record", batch.len()).await?;
        let count = |kind: &str| {
            batch
                .iter()
                .map(|c| {
                    c.line
                        .events
                        .iter()
                        .filter(|e| e.event_type == kind)
                        .count()
                })
                .sum::<usize>()
        };
        let mut supplement_ids =
            reserve_ids(tx, "supplement_request", count("supplement_requested"))
                .await?
                .into_iter();
        let mut note_ids = reserve_ids(tx, "case_note", count("note"))
            .await?
            .into_iter();
        lots_store::touch::touch(tx, &case_ids).await?;
        let mut rows = Rows::default();
        let mut serials: HashMap<(i64, i32), u32> = HashMap::new();
        let codes: HashMap<i64, &str> = deps.values().map(|d| (d.id, d.code.as_str())).collect();
        for (c, case_id) in batch.iter().zip(case_ids.iter().copied()) {
            let company_id = *companies
                .get(c.org.as_str())
                .ok_or_else(|| ServiceError::Internal(format!("company {}", c.org.as_str())))?;
            let ids = Ids {
                case: case_id,
                company: company_id,
                supplements: &mut supplement_ids,
                notes: &mut note_ids,
            };
            self.build(c, ids, deps, users, &codes, options, now, &mut rows)?;
            // Keep the department's diary series ahead of every imported serial.
            if let Some(d) = deps
                .values()
                .find(|d| d.diary_prefix == c.reference.prefix())
            {
                let top = serials.entry((d.id, c.reference.year())).or_default();
                *top = (*top).max(c.reference.serial());
            }
        }
        insert_all(tx, rows.cases).await?;
        insert_all(tx, rows.supplements).await?;
        insert_all(tx, rows.notes).await?;
        insert_all(tx, rows.handoffs).await?;
        insert_all(tx, rows.events).await?;
        insert_all(tx, rows.surveys).await?;
        for ((department_id, year), serial) in serials {
            let stmt = Query::insert()
                .into_table(reference_series::Entity)
                .columns([reference_series::Column::DepartmentId, reference_series::Column::Year, reference_series::Column::LastSerial])
                .values_panic([department_id.into(), year.into(), i64::from(serial).into()])
                .on_conflict(
                    OnConflict::columns([reference_series::Column::DepartmentId, reference_series::Column::Year])
                        .value(
                            reference_series::Column::LastSerial,
                            Expr::cust_with_values(
                                "CASE WHEN reference_series.last_serial > $1 THEN reference_series.last_serial ELSE $1 END",
                                [i64::from(serial)],
                            ),
                        )
                        .to_owned(),
                )
                .to_owned();
            tx.execute(&stmt).await?;
        }
        Ok(())
    }

    /// The rows of one case: the case with its final state and statutory clock, its events in
    /// order, and what they created.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        c: &Checked,
        ids: Ids<'_>,
        deps: &HashMap<String, department::Model>,
        users: &HashMap<String, app_user::Model>,
        codes: &HashMap<i64, &str>,
        options: &ImportOptions,
        now: DateTime<Utc>,
        rows: &mut Rows,
    ) -> ServiceResult<()> {
        let l = &c.line;
        let case_id = ids.case;
        let dep = |code: &str| {
            deps.get(code)
                .map(|d| d.id)
                .ok_or_else(|| ServiceError::Internal(format!("department {code}")))
        };
        let user = |name: &Option<String>| name.as_ref().and_then(|n| users.get(n)).map(|u| u.id);
        let code = |id: i64| codes.get(&id).map(|c| (*c).to_string());
        let first_dep = dep(&l.department)?;
        let first_actor = l
            .events
            .first()
            .and_then(|e| user(&e.actor))
            .or(user(&l.assignee));
        // The events in order; a clock-relevant copy of each feeds the statutory deadline.
        let mut events: Vec<EventRow> = vec![(
            l.received_at,
            "created",
            first_actor,
            Some(first_dep),
            serde_json::json!({"reference": c.reference.to_string(), "imported": true}),
        )];
        let mut status = CaseStatus::Received;
        let mut owner = first_dep;
        let mut decision = None;
        let (mut decided_at, mut closed_at) = (None, None);
        let mut handoffs: Vec<(String, handoff::ActiveModel)> = Vec::new();
        let mut open_supplement: Option<i64> = None;
        for e in &l.events {
            let actor_id = user(&e.actor);
            let actor_dep = e
                .actor
                .as_ref()
                .and_then(|a| users.get(a))
                .and_then(|u| u.department_id)
                .or(Some(owner));
            let mut push = |kind: &'static str, data: serde_json::Value| {
                events.push((e.at, kind, actor_id, actor_dep, data));
            };
            match e.event_type.as_str() {
                "supplement_requested" => {
                    let requested_by = actor_id.or(first_actor);
                    let id = match requested_by {
                        Some(by) => {
                            let id = ids.supplements.next().ok_or_else(|| {
                                ServiceError::Internal("too few supplement ids".into())
                            })?;
                            rows.supplements.push(supplement_request::ActiveModel {
                                id: Set(id),
                                case_id: Set(case_id),
                                message: Set(e
                                    .message
                                    .clone()
                                    .or(e.reason.clone())
                                    .unwrap_or_else(|| "Begäran om komplettering".into())),
                                requested_at: Set(e.at),
                                requested_by: Set(by),
                                received_at: Set(None),
                                received_by: Set(None),
                            });
                            Some(id)
                        }
                        None => None,
                    };
                    open_supplement = id;
                    push(
                        "supplement_requested",
                        serde_json::json!({"request_id": id, "message": e.message}),
                    );
                    push(
                        "status_changed",
                        serde_json::json!({"from": status, "to": "awaiting_supplement", "reason": e.reason}),
                    );
                    status = CaseStatus::AwaitingSupplement;
                }
                "supplement_received" => {
                    if let Some(id) = open_supplement.take() {
                        if let Some(r) = rows
                            .supplements
                            .iter_mut()
                            .rev()
                            .find(|r| r.id.as_ref() == &id)
                        {
                            r.received_at = Set(Some(e.at));
                            r.received_by = Set(actor_id);
                        }
                        push("supplement_received", serde_json::json!({"request_id": id}));
                    }
                    push(
                        "status_changed",
                        serde_json::json!({"from": status, "to": "in_progress", "reason": e.reason}),
                    );
                    status = CaseStatus::InProgress;
                }
                "status_changed" | "decided" | "closed" | "withdrawn" => {
                    let to = target(e).unwrap_or(status);
                    if to == CaseStatus::Decided {
                        decision = e.decision.clone();
                        decided_at = Some(e.at);
                    }
                    if matches!(to, CaseStatus::Closed | CaseStatus::Withdrawn) {
                        closed_at = Some(e.at);
                    }
                    push(
                        "status_changed",
                        serde_json::json!({"from": status, "to": to, "reason": e.reason, "decision": e.decision}),
                    );
                    status = to;
                }
                "note" => {
                    if let Some(author) = actor_id {
                        let id = ids
                            .notes
                            .next()
                            .ok_or_else(|| ServiceError::Internal("too few note ids".into()))?;
                        rows.notes.push(case_note::ActiveModel {
                            id: Set(id),
                            case_id: Set(case_id),
                            author_id: Set(author),
                            text: Set(e.text.clone().unwrap_or_default()),
                            created_at: Set(e.at),
                            visibility: Set("internal".into()),
                            confidential_statute: Set(None),
                        });
                        push(
                            "note_added",
                            serde_json::json!({"note_id": id, "text": e.text}),
                        );
                    }
                }
                "deadline_extended" => push(
                    "deadline_extended",
                    serde_json::json!({"weeks": e.weeks.unwrap_or(10), "reason": e.reason}),
                ),
                "decision_requested" => {
                    push("decision_requested", serde_json::json!({"note": e.reason}))
                }
                t if t.starts_with("handoff_") => {
                    let key = e.handoff.clone().unwrap_or_default();
                    if t == "handoff_requested" {
                        handoffs.push((
                            key.clone(),
                            handoff::ActiveModel {
                                case_id: Set(case_id),
                                kind: Set(e.kind.clone().unwrap_or_default()),
                                status: Set("requested".into()),
                                from_department_id: Set(owner),
                                to_department_id: Set(dep(e
                                    .to_department
                                    .as_deref()
                                    .unwrap_or_default())?),
                                message: Set(e.message.clone().unwrap_or_default()),
                                response: Set(None),
                                decline_reason: Set(None),
                                due_date: Set(None),
                                requested_by: Set(actor_id.or(first_actor).unwrap_or_default()),
                                requested_at: Set(e.at),
                                accepted_by: Set(None),
                                accepted_at: Set(None),
                                completed_by: Set(None),
                                completed_at: Set(None),
                                closed_by: Set(None),
                                closed_at: Set(None),
                                version: Set(1),
                                ..Default::default()
                            },
                        ));
                    }
                    let Some((_, h)) = handoffs.iter_mut().rev().find(|(k, _)| *k == key) else {
                        continue;
                    };
                    let (from, to) = (*h.from_department_id.as_ref(), *h.to_department_id.as_ref());
                    let kind = h.kind.as_ref().clone();
                    let data = serde_json::json!({"handoff_key": key, "handoff_kind": kind, "from_department": code(from), "to_department": code(to)});
                    let t: &'static str = match t {
                        "handoff_accepted" => {
                            h.status = Set("accepted".into());
                            h.accepted_at = Set(Some(e.at));
                            h.accepted_by = Set(actor_id);
                            if kind == "transfer" {
                                owner = to;
                                // As in the live service, an accepted transfer is done: the
                                // new department owns the case. A completion the file gives
                                // later is taken instead.
                                let completed_later = l.events.iter().any(|x| {
                                    x.event_type == "handoff_completed" && x.handoff == e.handoff
                                });
                                if !completed_later {
                                    h.status = Set("completed".into());
                                    h.completed_at = Set(Some(e.at));
                                    h.completed_by = Set(actor_id);
                                    let mut completed = data.clone();
                                    completed["ownership_moved"] = true.into();
                                    push("handoff_accepted", data);
                                    push("handoff_completed", completed);
                                    continue;
                                }
                            }
                            "handoff_accepted"
                        }
                        "handoff_completed" => {
                            h.status = Set("completed".into());
                            h.completed_at = Set(Some(e.at));
                            h.completed_by = Set(actor_id);
                            h.response = Set(e.response.clone());
                            "handoff_completed"
                        }
                        "handoff_declined" | "handoff_cancelled" => {
                            let declined = t == "handoff_declined";
                            h.status = Set(if declined { "declined" } else { "cancelled" }.into());
                            h.closed_at = Set(Some(e.at));
                            h.closed_by = Set(actor_id);
                            h.decline_reason = Set(e.reason.clone());
                            if declined {
                                "handoff_declined"
                            } else {
                                "handoff_cancelled"
                            }
                        }
                        _ => "handoff_requested",
                    };
                    push(t, data);
                }
                _ => {}
            }
        }
        let last_at = l.events.last().map_or(l.received_at, |e| e.at);
        let mut case = case_record::ActiveModel {
            id: Set(case_id),
            reference: Set(c.reference.to_string()),
            department_id: Set(owner),
            company_id: Set(ids.company),
            area: Set(c.area.as_str().into()),
            case_type: Set(c.case_type.clone()),
            title: Set(l.title.trim().into()),
            description: Set(l.description.clone().unwrap_or_default()),
            assignee_id: Set(user(&l.assignee)),
            status: Set(status.as_str().into()),
            decision: Set(decision),
            received_at: Set(l.received_at),
            complete_at: Set(None),
            decided_at: Set(decided_at),
            closed_at: Set(closed_at),
            version: Set(1 + l.events.len() as i64),
            created_at: Set(l.received_at),
            updated_at: Set(last_at),
            due_date: Set(None),
            deadline_paused: Set(false),
            extension_weeks: Set(None),
            decision_due_date: Set(None),
            priority: Set("normal".into()),
            labels: Set(serde_json::json!([])),
            confidential_statute: Set(None),
        };
        // The statutory clock from the imported events, as for live cases.
        let clock_events: Vec<case_event::Model> = events
            .iter()
            .enumerate()
            .filter(|(_, (_, kind, ..))| {
                matches!(
                    *kind,
                    "supplement_requested"
                        | "supplement_received"
                        | "deadline_extended"
                        | "decision_requested"
                )
            })
            .map(
                |(i, (at, kind, actor_id, department_id, data))| case_event::Model {
                    id: i as i64,
                    case_id,
                    at: *at,
                    kind: (*kind).to_string(),
                    actor_id: *actor_id,
                    department_id: *department_id,
                    data: data.clone(),
                },
            )
            .collect();
        apply_clock(
            &mut case,
            self.rules.for_case(c.area, c.case_type.as_deref()),
            l.received_at,
            &clock_events,
        );
        rows.cases.push(case);
        rows.handoffs.extend(handoffs.into_iter().map(|(_, h)| h));
        rows.events.extend(
            events
                .into_iter()
                .map(
                    |(at, kind, actor_id, department_id, data)| case_event::ActiveModel {
                        case_id: Set(case_id),
                        at: Set(at),
                        kind: Set(kind.into()),
                        actor_id: Set(actor_id),
                        department_id: Set(department_id),
                        data: Set(data),
                        ..Default::default()
                    },
                ),
        );
        if let Some(s) = &l.survey {
            let answers = s.answers();
            let scores = options.instrument.score(&answers);
            let small = |v: Option<i64>| v.and_then(|v| i16::try_from(v).ok());
            rows.surveys.push(survey_response::ActiveModel {
                case_id: Set(case_id),
                invitation_id: Set(None),
                source: Set("import".into()),
                q_overall: Set(small(Some(s.q_overall)).unwrap_or_default()),
                q_expectations: Set(small(Some(s.q_expectations)).unwrap_or_default()),
                q_ideal: Set(small(Some(s.q_ideal)).unwrap_or_default()),
                f_information: Set(small(answers.factors[0])),
                f_accessibility: Set(small(answers.factors[1])),
                f_treatment: Set(small(answers.factors[2])),
                f_competence: Set(small(answers.factors[3])),
                f_legal_certainty: Set(small(answers.factors[4])),
                f_efficiency: Set(small(answers.factors[5])),
                comment: Set(s.comment.clone()),
                nki: Set(scores.nki),
                i_information: Set(scores.factors[0]),
                i_accessibility: Set(scores.factors[1]),
                i_treatment: Set(scores.factors[2]),
                i_competence: Set(scores.factors[3]),
                i_legal_certainty: Set(scores.factors[4]),
                i_efficiency: Set(scores.factors[5]),
                answered_at: Set(s.answered_at),
                created_at: Set(now),
                ..Default::default()
            });
        }
        Ok(())
    }
}

/// An event about to be written: when, kind, actor, department, data.
type EventRow = (
    DateTime<Utc>,
    &'static str,
    Option<i64>,
    Option<i64>,
    serde_json::Value,
);

/// Cases per transaction.
const BATCH: usize = 2000;

/// The ids a case's rows take.
struct Ids<'a> {
    case: i64,
    company: i64,
    supplements: &'a mut std::vec::IntoIter<i64>,
    notes: &'a mut std::vec::IntoIter<i64>,
}

/// A batch's rows, table by table.
#[derive(Default)]
struct Rows {
    cases: Vec<case_record::ActiveModel>,
    events: Vec<case_event::ActiveModel>,
    supplements: Vec<supplement_request::ActiveModel>,
    notes: Vec<case_note::ActiveModel>,
    handoffs: Vec<handoff::ActiveModel>,
    surveys: Vec<survey_response::ActiveModel>,
}

/// Creates or renames the batch's companies (the last name in the file wins) and answers each
/// org number's id.
async fn upsert_companies(
    tx: &DatabaseTransaction,
    batch: &[Checked],
    now: DateTime<Utc>,
) -> ServiceResult<HashMap<String, i64>> {
    let names: BTreeMap<&str, &str> = batch
        .iter()
        .map(|c| (c.org.as_str(), c.line.company_name.trim()))
        .collect();
    let names: Vec<(&str, &str)> = names.into_iter().collect();
    let mut ids = HashMap::with_capacity(names.len());
    for chunk in names.chunks(1000) {
        let mut stmt = Query::insert();
        stmt.into_table(company::Entity).columns([
            company::Column::OrgNumber,
            company::Column::Name,
            company::Column::CreatedAt,
            company::Column::UpdatedAt,
        ]);
        for (org, name) in chunk {
            stmt.values_panic([(*org).into(), (*name).into(), now.into(), now.into()]);
        }
        stmt.on_conflict(
            OnConflict::column(company::Column::OrgNumber)
                .update_columns([company::Column::Name, company::Column::UpdatedAt])
                .to_owned(),
        );
        tx.execute(&stmt).await?;
        let orgs: Vec<&str> = chunk.iter().map(|(org, _)| *org).collect();
        for m in company::Entity::find()
            .filter(company::Column::OrgNumber.is_in(orgs))
            .all(tx)
            .await?
        {
            ids.insert(m.org_number, m.id);
        }
    }
    Ok(ids)
}

fn target(e: &Event) -> Option<CaseStatus> {
    match e.event_type.as_str() {
        "decided" => Some(CaseStatus::Decided),
        "closed" => Some(CaseStatus::Closed),
        "withdrawn" => Some(CaseStatus::Withdrawn),
        "supplement_requested" => Some(CaseStatus::AwaitingSupplement),
        "supplement_received" => Some(CaseStatus::InProgress),
        _ => e.to.as_deref().and_then(|t| t.parse().ok()),
    }
}

/// Checks one line against the lifecycle and the directory; the first problem as a message.
#[allow(clippy::too_many_arguments)]
fn check(
    l: &Line,
    now: DateTime<Utc>,
    existing: &HashSet<String>,
    seen: &mut HashSet<String>,
    deps: &HashMap<String, department::Model>,
    users: &HashMap<String, app_user::Model>,
    need_deps: &mut Vec<String>,
    need_users: &mut Vec<String>,
    create_missing: bool,
    instrument: &Instrument,
    case_types: &HashMap<Area, Vec<String>>,
) -> Result<Checked, String> {
    let reference = Reference::parse(&l.reference).map_err(|e| format!("reference: {e}"))?;
    if existing.contains(&reference.to_string()) {
        return Err(
            "reference: a case with this diarienummer exists; re-importing is refused".into(),
        );
    }
    if !seen.insert(reference.to_string()) {
        return Err("reference: appears twice in the file".into());
    }
    let org = OrgNumber::parse(&l.org_number).map_err(|e| format!("org_number: {e}"))?;
    if l.company_name.trim().is_empty() {
        return Err("company_name: is required".into());
    }
    let area: Area = l.area.parse().map_err(|e| format!("area: {e}"))?;
    let types = case_types.get(&area).map(Vec::as_slice).unwrap_or_default();
    let case_type = match (types, l.case_type.as_deref()) {
        ([], Some(_)) => return Err(format!("case_type: the area {area} has no case types")),
        // Building cases default to the first type (a permit); elsewhere a type is optional.
        (types, None) if area.case_types().is_empty() || types.is_empty() => None,
        (types, None) => Some(types[0].clone()),
        (types, Some(t)) if types.iter().any(|x| x == t) => Some(t.to_string()),
        (types, Some(_)) => return Err(format!("case_type: must be one of {}", types.join(", "))),
    };
    let title = l.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err("title: must be 1 to 200 characters".into());
    }
    if l.received_at > now || l.received_at.year() < 1990 {
        return Err("received_at: must lie between 1990 and now".into());
    }
    let mut need_dep = |code: &str| -> Result<(), String> {
        if deps.contains_key(code) {
            Ok(())
        } else if create_missing {
            need_deps.push(code.to_string());
            Ok(())
        } else {
            Err(format!(
                "department `{code}` does not exist (use create_missing to create it)"
            ))
        }
    };
    need_dep(&l.department)?;
    let mut need_user = |name: &Option<String>| -> Result<(), String> {
        match name {
            None => Ok(()),
            Some(n) if users.contains_key(n) => Ok(()),
            Some(n) if create_missing => {
                need_users.push(n.clone());
                Ok(())
            }
            Some(n) => Err(format!(
                "actor `{n}` does not exist (use create_missing to create it)"
            )),
        }
    };
    need_user(&l.assignee)?;
    let mut status = CaseStatus::Received;
    let mut last = l.received_at;
    let mut owner = l.department.clone();
    let mut handoffs: HashMap<String, (String, String, &str)> = HashMap::new();
    let mut decided_at = None;
    for (i, e) in l.events.iter().enumerate() {
        let at = format!("events[{i}]");
        if e.at < last {
            return Err(format!(
                "{at}: events must be in time order, and after received_at"
            ));
        }
        if e.at > now {
            return Err(format!("{at}: lies in the future"));
        }
        last = e.at;
        need_user(&e.actor).map_err(|m| format!("{at}: {m}"))?;
        match e.event_type.as_str() {
            "status_changed"
            | "decided"
            | "closed"
            | "withdrawn"
            | "supplement_requested"
            | "supplement_received" => {
                let to = target(e).ok_or_else(|| format!("{at}: `to` must be a status"))?;
                if !status.can_become(to) {
                    return Err(format!("{at}: a {status} case cannot become {to}"));
                }
                if to == CaseStatus::Decided {
                    e.decision
                        .as_deref()
                        .ok_or_else(|| format!("{at}: a decision needs `decision`"))?
                        .parse::<Decision>()
                        .map_err(|m| format!("{at}: {m}"))?;
                    decided_at = Some(e.at);
                }
                status = to;
            }
            "note" | "deadline_extended" | "decision_requested" => {}
            "handoff_requested" => {
                let key = e
                    .handoff
                    .clone()
                    .ok_or_else(|| format!("{at}: a handoff needs its `handoff` key"))?;
                let kind = e
                    .kind
                    .as_deref()
                    .filter(|k| HANDOFF_KINDS.contains(k))
                    .ok_or_else(|| {
                        format!("{at}: kind must be transfer, consultation or contact")
                    })?;
                let to = e
                    .to_department
                    .clone()
                    .ok_or_else(|| format!("{at}: to_department is required"))?;
                need_dep(&to).map_err(|m| format!("{at}: {m}"))?;
                if to == owner {
                    return Err(format!("{at}: a handoff to the case's own department"));
                }
                if handoffs
                    .insert(key, (to, "requested".into(), kind))
                    .is_some()
                {
                    return Err(format!("{at}: the handoff key is used twice"));
                }
            }
            t @ ("handoff_accepted" | "handoff_completed" | "handoff_declined"
            | "handoff_cancelled") => {
                let key = e.handoff.clone().unwrap_or_default();
                let (to, state, kind) = handoffs
                    .get_mut(&key)
                    .ok_or_else(|| format!("{at}: no handoff `{key}` was requested before"))?;
                let (from_states, next): (&[&str], &str) = match t {
                    "handoff_accepted" => (&["requested"], "accepted"),
                    "handoff_completed" => (&["accepted"], "completed"),
                    "handoff_declined" => (&["requested"], "declined"),
                    _ => (&["requested", "accepted"], "cancelled"),
                };
                if !from_states.contains(&state.as_str()) {
                    return Err(format!("{at}: a {state} handoff cannot become {next}"));
                }
                *state = next.to_string();
                if t == "handoff_accepted" && *kind == "transfer" {
                    owner = to.clone();
                }
            }
            other => return Err(format!("{at}: unknown event type `{other}`")),
        }
    }
    if let Some(s) = &l.survey {
        let Some(decided) = decided_at else {
            return Err("survey: the case was never decided".into());
        };
        if s.answered_at < decided || s.answered_at > now {
            return Err("survey: answered_at must lie between the decision and now".into());
        }
        if let Some(k) = s
            .factors
            .keys()
            .find(|k| !lots_core::nki::FACTORS.contains(&k.as_str()))
        {
            return Err(format!("survey: unknown factor `{k}`"));
        }
        let answers = s.answers();
        if let Some((field, message)) = instrument.check(&answers).into_iter().next() {
            return Err(format!("survey.{field}: {message}"));
        }
    }
    Ok(Checked {
        line: l.clone(),
        reference,
        org,
        area,
        case_type,
    })
}
