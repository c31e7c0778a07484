//! Decisions (beslut): the outcome, the legal basis as statute references, the text, who
//! decided and when, and the validity of a time-limited permit. A registered decision is never
//! edited: a correction is a new decision that names the one it corrects, with a reason.

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::case_event::{self as ev, Change, Changes};
use lots_core::{Actor, CaseEvent, CaseStatus, Decision, StatuteReference};
use lots_store::entity::{case_decision, case_record};
use lots_store::events::append;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access::Granted;
use crate::cases::{Cases, present, save};
use crate::error::{Problems, ServiceError, ServiceResult};
use crate::record::CONFIDENTIAL;
use crate::stored::{case_status, stored, stored_opt};

/// One statute reference of a decision's legal basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalBasisView {
    /// The act's SFS number, `2010:900`.
    pub sfs: String,
    pub chapter: Option<u32>,
    pub section: Option<String>,
    /// Written out: `SFS 2010:900 9 kap. 31 §`.
    pub text: String,
}

impl From<&StatuteReference> for LegalBasisView {
    fn from(r: &StatuteReference) -> Self {
        Self {
            sfs: r.sfs.clone(),
            chapter: r.chapter,
            section: r.section.clone(),
            text: r.to_string(),
        }
    }
}

/// The details of a decision, given with the `decided` transition.
#[derive(Debug, Clone, Default)]
pub struct DecisionDetails {
    pub legal_basis: Vec<StatuteReference>,
    pub text: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// A registered decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": 3, "outcome": "approved", "legal_basis": [{"sfs": "2010:900", "chapter": 9,
    "section": "31", "text": "SFS 2010:900 9 kap. 31 §"}], "text": "Bygglov beviljas.", "valid_from": null,
    "valid_to": null, "decided_by": "anna", "decided_at": "2026-11-27T10:00:00Z", "corrects_id": null,
    "correction_reason": null}))]
pub struct DecisionView {
    pub id: Option<i64>,
    pub outcome: Decision,
    pub legal_basis: Vec<LegalBasisView>,
    pub text: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// For a correction: the decision it corrects.
    pub corrects_id: Option<i64>,
    pub correction_reason: Option<String>,
}

/// `GET /api/v1/cases/{id}/decision`: the decision in force and every earlier version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionRecord {
    /// The decision in force: the latest correction, or the original.
    pub current: DecisionView,
    /// Every registered version, oldest first (the original, then each correction).
    pub history: Vec<DecisionView>,
}

/// `POST /api/v1/cases/{id}/decision/corrections`: the reason, and the fields that change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Fel lagrum angivet i beslutet", "legal_basis": ["SFS 2010:900 9 kap. 30 §"]}))]
pub struct DecisionCorrection {
    pub reason: Option<String>,
    /// approved, rejected, dismissed, written_off.
    pub outcome: Option<String>,
    /// Statute references: `"SFS 2010:900 9 kap. 31 §"` or `{sfs, chapter?, section?}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub legal_basis: Option<Vec<Value>>,
    pub text: Option<String>,
    /// YYYY-MM-DD; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub valid_from: Option<Option<String>>,
    /// YYYY-MM-DD; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub valid_to: Option<Option<String>>,
}

/// Parses a legal basis: each item a written reference or an object `{sfs, chapter?, section?}`.
pub fn parse_legal_basis(p: &mut Problems, items: &[Value]) -> Vec<StatuteReference> {
    let mut out = Vec::new();
    if items.len() > 20 {
        p.add("legal_basis", "at most 20 references");
        return out;
    }
    for (i, item) in items.iter().enumerate() {
        let field = format!("legal_basis[{i}]");
        let parsed = match item {
            Value::String(s) => StatuteReference::parse(s),
            Value::Object(o) => {
                let unknown: Vec<&String> = o
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "sfs" | "chapter" | "section"))
                    .collect();
                if let Some(k) = unknown.first() {
                    p.add(
                        &field,
                        format!("unknown field `{k}`, expected sfs, chapter, section"),
                    );
                    continue;
                }
                let text = |k: &str| match o.get(k) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                match text("sfs") {
                    None => {
                        p.add(&format!("{field}.sfs"), "is required, e.g. `2010:900`");
                        continue;
                    }
                    Some(sfs) => StatuteReference::new(
                        &sfs,
                        text("chapter").as_deref(),
                        text("section").as_deref(),
                    ),
                }
            }
            _ => {
                p.add(&field, "must be a statute reference like `SFS 2010:900 9 kap. 31 §` or {sfs, chapter, section}");
                continue;
            }
        };
        if let Some(r) = p.check(&field, parsed)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}

pub fn parse_date(p: &mut Problems, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match v.parse::<NaiveDate>() {
        Ok(d) => Some(d),
        Err(_) => {
            p.add(field, "must be a date, YYYY-MM-DD");
            None
        }
    }
}

/// Checks the validity period against the outcome.
pub fn check_validity(
    p: &mut Problems,
    outcome: Option<Decision>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) {
    if (from.is_some() || to.is_some()) && outcome.is_some_and(|o| o != Decision::Approved) {
        p.add(
            "valid_from",
            "a validity period belongs to an approval (a time-limited permit)",
        );
    }
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        p.add("valid_to", "must not lie before valid_from");
    }
}

fn legal_basis_json(refs: &[StatuteReference]) -> Value {
    json!(refs.iter().map(LegalBasisView::from).collect::<Vec<_>>())
}

impl Cases {
    /// Registers the decision of a case that has just become `decided`, in `tx`.
    pub(crate) async fn register_decision(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        case: &case_record::Model,
        outcome: Decision,
        details: DecisionDetails,
    ) -> ServiceResult<case_decision::Model> {
        let now = self.clock.now();
        let row = case_decision::ActiveModel {
            case_id: Set(case.id),
            outcome: Set(outcome.as_str().to_string()),
            legal_basis: Set(legal_basis_json(&details.legal_basis)),
            text: Set(details.text),
            valid_from: Set(details.valid_from),
            valid_to: Set(details.valid_to),
            decided_by: Set(actor.user_id),
            decided_at: Set(now),
            corrects_id: Set(None),
            correction_reason: Set(None),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let registered = CaseEvent::DecisionRegistered(ev::DecisionRegistered {
            decision_id: row.id,
            outcome: stored("case_decision", row.id, &row.outcome)?,
            legal_basis: row.legal_basis.clone(),
            text: row.text.clone(),
            valid_from: row.valid_from,
            valid_to: row.valid_to,
        });
        append(tx, self.event(actor, case, now, registered)).await?;
        Ok(row)
    }

    pub async fn decision(&self, actor: &Actor, id: i64) -> ServiceResult<DecisionRecord> {
        let case = self.granted(actor, id).await?;
        self.decision_of(&case).await
    }

    /// `decision` of a case the request has already read, with the caller's access to it.
    pub async fn decision_of(&self, case: &Granted) -> ServiceResult<DecisionRecord> {
        let rows = case
            .rows::<case_decision::Entity>(&self.db, case_decision::Column::CaseId)
            .await?;
        let users =
            crate::view::Lookups::load(&self.db, [], rows.iter().map(|r| r.decided_by)).await?;
        let hide = case.access.hides_content();
        let view = |r: case_decision::Model| -> ServiceResult<DecisionView> {
            Ok(DecisionView {
                id: Some(r.id),
                outcome: stored("case_decision", r.id, &r.outcome)?,
                legal_basis: if hide {
                    Vec::new()
                } else {
                    serde_json::from_value(r.legal_basis).unwrap_or_default()
                },
                text: if hide {
                    CONFIDENTIAL.to_string()
                } else {
                    r.text
                },
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                decided_by: users.username(Some(r.decided_by)),
                decided_at: Some(r.decided_at),
                corrects_id: r.corrects_id,
                correction_reason: if hide {
                    r.correction_reason.map(|_| CONFIDENTIAL.to_string())
                } else {
                    r.correction_reason
                },
            })
        };
        let history = rows
            .into_iter()
            .map(view)
            .collect::<ServiceResult<Vec<DecisionView>>>()?;
        let current = match history.last() {
            Some(c) => c.clone(),
            // Decided before decisions were registered (or imported): what the case knows.
            None => match stored_opt("case_record", case.id, case.decision.as_deref())? {
                Some(outcome) => DecisionView {
                    id: None,
                    outcome,
                    legal_basis: Vec::new(),
                    text: String::new(),
                    valid_from: None,
                    valid_to: None,
                    decided_by: None,
                    decided_at: case.decided_at,
                    corrects_id: None,
                    correction_reason: None,
                },
                None => return Err(ServiceError::NotFound("decision")),
            },
        };
        Ok(DecisionRecord { current, history })
    }

    /// Registers a correction of the decision in force: a new decision with a reason.
    pub async fn correct_decision(
        &self,
        actor: &Actor,
        id: i64,
        input: DecisionCorrection,
    ) -> ServiceResult<DecisionRecord> {
        let now = self.clock.now();
        let mut p = Problems::default();
        let reason = p.text("reason", input.reason.as_deref(), 1, 2000);
        let outcome = input
            .outcome
            .as_deref()
            .and_then(|o| p.check("outcome", o.trim().parse::<Decision>()));
        let legal_basis = input
            .legal_basis
            .as_deref()
            .map(|items| parse_legal_basis(&mut p, items));
        let text = input
            .text
            .as_deref()
            .and_then(|t| p.text("text", Some(t), 0, 50_000));
        let valid_from = parse_date(
            &mut p,
            "valid_from",
            input.valid_from.clone().flatten().as_deref(),
        );
        let valid_to = parse_date(
            &mut p,
            "valid_to",
            input.valid_to.clone().flatten().as_deref(),
        );
        if input.names_nothing() {
            p.add(
                "body",
                "names nothing to correct (outcome, legal_basis, text, valid_from, valid_to)",
            );
        }
        p.finish()?;
        let reason = reason.unwrap_or_default();
        let tx = self.db.begin().await?;
        let case = self.owned(&tx, actor, id).await?;
        let status = case_status(&case)?;
        if !matches!(status, CaseStatus::Decided | CaseStatus::Closed) {
            return Err(ServiceError::Conflict(format!(
                "a {status} case has no decision to correct"
            )));
        }
        let previous = case_decision::Entity::find()
            .filter(case_decision::Column::CaseId.eq(case.id))
            .order_by_desc(case_decision::Column::Id)
            .one(&tx)
            .await?;
        let prev_id = previous.as_ref().map(|d| d.id);
        let prev = DecisionFields::in_force(previous.as_ref(), &case);
        let new = DecisionFields {
            outcome: outcome.map_or(prev.outcome.clone(), |o| o.as_str().to_string()),
            basis: legal_basis
                .as_deref()
                .map_or(prev.basis.clone(), legal_basis_json),
            text: text.unwrap_or_else(|| prev.text.clone()),
            valid_from: if input.valid_from.is_some() {
                valid_from
            } else {
                prev.valid_from
            },
            valid_to: if input.valid_to.is_some() {
                valid_to
            } else {
                prev.valid_to
            },
        };
        let mut p = Problems::default();
        check_validity(
            &mut p,
            new.outcome.parse().ok(),
            new.valid_from,
            new.valid_to,
        );
        p.finish()?;
        let changes = prev.changes_to(&new);
        if changes.is_empty() {
            return Err(ServiceError::invalid(
                "body",
                "the correction changes nothing in the decision in force",
            ));
        }
        let (prev_outcome, new_outcome) = (prev.outcome, new.outcome.clone());
        let row = case_decision::ActiveModel {
            case_id: Set(case.id),
            outcome: Set(new.outcome),
            legal_basis: Set(new.basis),
            text: Set(new.text),
            valid_from: Set(new.valid_from),
            valid_to: Set(new.valid_to),
            decided_by: Set(actor.user_id),
            decided_at: Set(now),
            corrects_id: Set(prev_id),
            correction_reason: Set(Some(reason.clone())),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let case = if new_outcome != prev_outcome {
            let mut m: case_record::ActiveModel = case.case.clone().into();
            m.decision = Set(Some(new_outcome));
            save(&tx, m, &case, now).await?
        } else {
            case.case
        };
        let corrected = CaseEvent::DecisionCorrected(ev::DecisionCorrected {
            decision_id: row.id,
            corrects_id: prev_id,
            reason,
            changes,
        });
        append(&tx, self.event(actor, &case, now, corrected)).await?;
        tx.commit().await?;
        self.decision(actor, id).await
    }
}

impl DecisionCorrection {
    /// Whether the correction names no field of the decision.
    fn names_nothing(&self) -> bool {
        self.outcome.is_none()
            && self.legal_basis.is_none()
            && self.text.is_none()
            && self.valid_from.is_none()
            && self.valid_to.is_none()
    }
}

/// What a decision says: the fields a correction may change.
struct DecisionFields {
    outcome: String,
    basis: serde_json::Value,
    text: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

impl DecisionFields {
    /// The decision in force: the latest registered one, or (for a case decided before
    /// decisions were registered) the case's outcome with no legal basis or text.
    fn in_force(previous: Option<&case_decision::Model>, case: &case_record::Model) -> Self {
        match previous {
            Some(d) => Self {
                outcome: d.outcome.clone(),
                basis: d.legal_basis.clone(),
                text: d.text.clone(),
                valid_from: d.valid_from,
                valid_to: d.valid_to,
            },
            None => Self {
                outcome: case.decision.clone().unwrap_or_default(),
                basis: json!([]),
                text: String::new(),
                valid_from: None,
                valid_to: None,
            },
        }
    }

    /// Each field that differs in `new`, as `{from, to}`.
    fn changes_to(&self, new: &Self) -> Changes {
        let mut changes = Changes::new();
        let mut note = |field: &str, from: serde_json::Value, to: serde_json::Value| {
            if from != to {
                changes.insert(field.into(), Change { from, to });
            }
        };
        note("outcome", json!(self.outcome), json!(new.outcome));
        note("legal_basis", self.basis.clone(), new.basis.clone());
        note("text", json!(self.text), json!(new.text));
        note("valid_from", json!(self.valid_from), json!(new.valid_from));
        note("valid_to", json!(self.valid_to), json!(new.valid_to));
        changes
    }
}
