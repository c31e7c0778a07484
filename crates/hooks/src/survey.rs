//! Survey invitations and answers. One invitation per decided case; its token (at least 128
//! random bits) is derived from a random nonce with the survey key, so that only its hash and the
//! nonce are stored: a copy of the database alone reveals no working link. Answers are scored
//! with the NKI instrument when they are stored.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use lots_cases::error::require_admin;
use lots_cases::{FieldError, ServiceError, ServiceResult};
use lots_core::nki::{Answers, FACTORS, Instrument};
use lots_core::{Actor, Secret};
use lots_store::Db;
use lots_store::entity::{case_record, company, department, survey_invitation, survey_response};
use lots_store::lookup::by_ids;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The survey's settings.
/// An imported row's checked answers with their comment, and when they were given; `None`
/// where the row was wrong.
type RowAnswers = (Option<(Answers, Option<String>)>, Option<DateTime<Utc>>);

#[derive(Debug, Clone)]
pub struct SurveySettings {
    pub key: Secret,
    pub instrument: Instrument,
    pub token_days: i64,
    /// Where the survey pages are served, e.g. `https://lots.kommun.se`.
    pub public_base_url: String,
}

#[derive(Debug, Clone)]
pub struct Surveys {
    db: Db,
    settings: SurveySettings,
}

/// Why a token cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Open,
    Answered,
    Expired,
}

/// What the survey page shows: nothing that identifies anyone beyond the case itself.
#[derive(Debug, Clone)]
pub struct SurveyContext {
    pub invitation_id: i64,
    pub reference: String,
    pub company_name: String,
    pub department_name: String,
    pub state: TokenState,
}

/// An answer as sent (form or JSON).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"q_overall": 8, "q_expectations": 7, "q_ideal": 7,
    "factors": {"information": 5, "accessibility": 4, "treatment": 6, "competence": 5, "legal_certainty": 5, "efficiency": 3},
    "comment": "Snabbt och vänligt."}))]
pub struct SurveyAnswer {
    /// 1–10: how satisfied overall.
    pub q_overall: Option<i64>,
    /// 1–10: how well expectations were met.
    pub q_expectations: Option<i64>,
    /// 1–10: how close to an ideal service.
    pub q_ideal: Option<i64>,
    /// 1–6 each; any may be left out.
    pub factors: Option<FactorAnswers>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorAnswers {
    pub information: Option<i64>,
    pub accessibility: Option<i64>,
    pub treatment: Option<i64>,
    pub competence: Option<i64>,
    pub legal_certainty: Option<i64>,
    pub efficiency: Option<i64>,
}

impl FactorAnswers {
    fn array(&self) -> [Option<i64>; 6] {
        [
            self.information,
            self.accessibility,
            self.treatment,
            self.competence,
            self.legal_certainty,
            self.efficiency,
        ]
    }
}

/// What an import did, or would have done.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    /// Rows identical to an answer already stored (a re-import).
    pub unchanged: usize,
    /// Every bad row; when there is one, nothing was imported.
    pub errors: Vec<ImportError>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    /// 1-based: the line of the file (the header of a CSV file is line 1).
    pub row: usize,
    pub reference: Option<String>,
    pub errors: Vec<FieldError>,
}

/// One imported row, flat (CSV) or with nested factors (NDJSON).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportRow {
    reference: Option<String>,
    q_overall: Option<i64>,
    q_expectations: Option<i64>,
    q_ideal: Option<i64>,
    factors: Option<FactorAnswers>,
    information: Option<i64>,
    accessibility: Option<i64>,
    treatment: Option<i64>,
    competence: Option<i64>,
    legal_certainty: Option<i64>,
    efficiency: Option<i64>,
    comment: Option<String>,
    answered_at: Option<String>,
}

impl Surveys {
    pub fn new(db: Db, settings: SurveySettings) -> Self {
        Self { db, settings }
    }

    pub fn settings(&self) -> &SurveySettings {
        &self.settings
    }

    /// The token of an invitation's nonce: HMAC-SHA256 with the survey key, 256 bits.
    pub fn token(&self, nonce: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.settings.key.expose().as_bytes())
            .unwrap_or_else(|_| unreachable_hmac());
        mac.update(b"lots-survey-token:");
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Where companies reach Lots.
    pub fn public_base_url(&self) -> &str {
        &self.settings.public_base_url
    }

    pub fn url(&self, token: &str) -> String {
        format!(
            "{}/survey/{token}",
            self.settings.public_base_url.trim_end_matches('/')
        )
    }

    /// Creates the case's invitation in `tx` unless it has one; `Some` when created.
    pub async fn invite(
        &self,
        tx: &DatabaseTransaction,
        case_id: i64,
        now: DateTime<Utc>,
    ) -> ServiceResult<Option<survey_invitation::Model>> {
        let existing = survey_invitation::Entity::find()
            .filter(survey_invitation::Column::CaseId.eq(case_id))
            .one(tx)
            .await?;
        if existing.is_some() {
            return Ok(None);
        }
        let nonce = hex(&rand::random::<[u8; 16]>());
        let token = self.token(&nonce);
        let invitation = survey_invitation::ActiveModel {
            case_id: Set(case_id),
            nonce: Set(nonce),
            token_hash: Set(hash(&token)),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(self.settings.token_days)),
            answered_at: Set(None),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        self.mail_invitation(tx, case_id, &token, now).await?;
        Ok(Some(invitation))
    }

    /// The invitation mailed to the company's contact (when a party has an address), in `tx`.
    /// It names the case by its diarienummer only, so it says nothing of a confidential case.
    async fn mail_invitation(
        &self,
        tx: &DatabaseTransaction,
        case_id: i64,
        token: &str,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let Some(to) = lots_store::mail::company_address(tx, case_id).await? else {
            return Ok(());
        };
        let Some(case) = lots_store::entity::case_record::Entity::find_by_id(case_id)
            .one(tx)
            .await?
        else {
            return Ok(());
        };
        let body = format!(
            "Hej!\n\nKommunen har nyligen fattat beslut i ert ärende {reference}. Vi vill gärna veta hur ni upplevde vår service: det tar ett par minuter och hjälper oss att bli bättre. Svaren redovisas bara sammanställda.\n\nSvara här (länken gäller i {days} dagar):\n{url}\n\nTack på förhand!\n\nDet här mejlet går inte att svara på.\n",
            reference = case.reference,
            days = self.settings.token_days,
            url = self.url(token),
        );
        lots_store::mail::enqueue(
            tx,
            lots_store::mail::NewMail {
                to,
                subject: format!(
                    "Hur upplevde ni kommunens service? (ärende {})",
                    case.reference
                ),
                body,
                kind: "survey_invitation",
                case_id: Some(case_id),
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// The invitation behind a token and its state.
    pub async fn context(&self, token: &str, now: DateTime<Utc>) -> ServiceResult<SurveyContext> {
        if token.len() > 128 {
            return Err(ServiceError::NotFound("survey"));
        }
        let inv = survey_invitation::Entity::find()
            .filter(survey_invitation::Column::TokenHash.eq(hash(token)))
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("survey"))?;
        let case = case_record::Entity::find_by_id(inv.case_id)
            .one(self.db.reader())
            .await?
            .ok_or(ServiceError::NotFound("survey"))?;
        let co = company::Entity::find_by_id(case.company_id)
            .one(self.db.reader())
            .await?;
        let dep = department::Entity::find_by_id(case.department_id)
            .one(self.db.reader())
            .await?;
        let state = if inv.answered_at.is_some() {
            TokenState::Answered
        } else if now > inv.expires_at {
            TokenState::Expired
        } else {
            TokenState::Open
        };
        Ok(SurveyContext {
            invitation_id: inv.id,
            reference: case.reference,
            company_name: co.map(|c| c.name).unwrap_or_default(),
            department_name: dep.map(|d| d.name).unwrap_or_default(),
            state,
        })
    }

    /// Stores an answer given through the survey page. The caller maps the token's state:
    /// answered → 409, expired → 410, unknown → 404; invalid answers → 422 and nothing stored.
    pub async fn answer(
        &self,
        token: &str,
        input: SurveyAnswer,
        now: DateTime<Utc>,
    ) -> ServiceResult<TokenState> {
        let ctx = self.context(token, now).await?;
        if ctx.state != TokenState::Open {
            return Ok(ctx.state);
        }
        let (answers, comment) = self.validate(&input)?;
        let tx = self.db.begin().await?;
        let inv = survey_invitation::Entity::find_by_id(ctx.invitation_id)
            .one(&tx)
            .await?
            .ok_or(ServiceError::NotFound("survey"))?;
        if inv.answered_at.is_some() {
            return Ok(TokenState::Answered);
        }
        if survey_response::Entity::find()
            .filter(survey_response::Column::CaseId.eq(inv.case_id))
            .one(&tx)
            .await?
            .is_some()
        {
            return Ok(TokenState::Answered);
        }
        self.store(
            &tx,
            inv.case_id,
            Some(inv.id),
            "web",
            &answers,
            comment,
            now,
            now,
        )
        .await?;
        let mut m: survey_invitation::ActiveModel = inv.into();
        m.answered_at = Set(Some(now));
        m.update(&tx).await?;
        tx.commit().await?;
        Ok(TokenState::Open)
    }

    fn validate(&self, input: &SurveyAnswer) -> ServiceResult<(Answers, Option<String>)> {
        let mut errors = Vec::new();
        let mut required = |name: &str, v: Option<i64>| {
            if v.is_none() {
                errors.push(FieldError {
                    field: name.into(),
                    message: "is required".into(),
                });
            }
            v.unwrap_or(0)
        };
        let answers = Answers {
            q_overall: required("q_overall", input.q_overall),
            q_expectations: required("q_expectations", input.q_expectations),
            q_ideal: required("q_ideal", input.q_ideal),
            factors: input.factors.clone().unwrap_or_default().array(),
        };
        for (field, message) in self.settings.instrument.check(&answers) {
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError { field, message });
            }
        }
        let comment = input
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if comment.as_ref().is_some_and(|c| c.chars().count() > 4000) {
            errors.push(FieldError {
                field: "comment".into(),
                message: "must be at most 4000 characters".into(),
            });
        }
        if errors.is_empty() {
            Ok((answers, comment))
        } else {
            Err(ServiceError::Validation(errors))
        }
    }

    /// Stores a scored answer and announces it, in `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn store(
        &self,
        tx: &DatabaseTransaction,
        case_id: i64,
        invitation_id: Option<i64>,
        source: &str,
        a: &Answers,
        comment: Option<String>,
        answered_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let s = self.settings.instrument.score(a);
        let small = |v: i64| i16::try_from(v).unwrap_or_default();
        let f = |i: usize| a.factors[i].map(small);
        let idx = |i: usize| s.factors[i];
        survey_response::ActiveModel {
            case_id: Set(case_id),
            invitation_id: Set(invitation_id),
            source: Set(source.into()),
            q_overall: Set(small(a.q_overall)),
            q_expectations: Set(small(a.q_expectations)),
            q_ideal: Set(small(a.q_ideal)),
            f_information: Set(f(0)),
            f_accessibility: Set(f(1)),
            f_treatment: Set(f(2)),
            f_competence: Set(f(3)),
            f_legal_certainty: Set(f(4)),
            f_efficiency: Set(f(5)),
            comment: Set(comment),
            nki: Set(s.nki),
            i_information: Set(idx(0)),
            i_accessibility: Set(idx(1)),
            i_treatment: Set(idx(2)),
            i_competence: Set(idx(3)),
            i_legal_certainty: Set(idx(4)),
            i_efficiency: Set(idx(5)),
            answered_at: Set(answered_at),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        lots_store::touch::touch(tx, &[case_id]).await?;
        let payload = serde_json::json!({"source": source, "answered_at": answered_at});
        lots_store::outbox::enqueue(tx, "survey.answered", Some(case_id), None, payload, now)
            .await?;
        Ok(())
    }

    /// Imports answers collected elsewhere (CSV with a header row, `;` or `,`, or NDJSON), keyed
    /// by diarienummer. Every row is checked first; one bad row and nothing is written. A row
    /// identical to a stored answer is counted unchanged, so a second import changes nothing.
    pub async fn import(
        &self,
        actor: &Actor,
        content_type: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> ServiceResult<ImportReport> {
        require_admin(actor, "only an admin imports survey answers")?;
        let rows = parse_rows(content_type, body)?;
        let mut report = ImportReport::default();
        let references: Vec<String> = rows
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok()?.reference.clone())
            .collect();
        let (cases, existing) = self.answered_cases(references).await?;
        let mut seen: HashMap<i64, usize> = HashMap::new();
        let mut ready = Vec::new();
        for (line, parsed) in rows {
            let row = match parsed {
                Ok(r) => r,
                Err(message) => {
                    report.errors.push(ImportError {
                        row: line,
                        reference: None,
                        errors: vec![FieldError {
                            field: "row".into(),
                            message,
                        }],
                    });
                    continue;
                }
            };
            let mut errors = Vec::new();
            let reference = row
                .reference
                .clone()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            let case = match &reference {
                None => {
                    errors.push(FieldError {
                        field: "reference".into(),
                        message: "is required".into(),
                    });
                    None
                }
                Some(r) => {
                    let c = cases.get(r);
                    match c {
                        None => errors.push(FieldError {
                            field: "reference".into(),
                            message: "no case has this diarienummer".into(),
                        }),
                        Some(c) if c.decided_at.is_none() => errors.push(FieldError {
                            field: "reference".into(),
                            message: "the case has not been decided".into(),
                        }),
                        _ => {}
                    }
                    c
                }
            };
            let (validated, answered_at) = self.row_answers(&row, now, &mut errors)?;
            if let Some(c) = case
                && let Some(first) = seen.insert(c.id, line)
            {
                errors.push(FieldError {
                    field: "reference".into(),
                    message: format!("the case is answered on row {first} already"),
                });
            }
            if !errors.is_empty() {
                report.errors.push(ImportError {
                    row: line,
                    reference,
                    errors,
                });
                continue;
            }
            let (Some(case), Some((answers, comment)), Some(answered_at)) =
                (case, validated, answered_at)
            else {
                continue;
            };
            match existing.get(&case.id) {
                Some(stored) if same_answer(stored, &answers, comment.as_deref()) => {
                    report.unchanged += 1
                }
                Some(_) => report.errors.push(ImportError {
                    row: line,
                    reference: Some(case.reference.clone()),
                    errors: vec![FieldError {
                        field: "reference".into(),
                        message: "the case already has a different answer".into(),
                    }],
                }),
                None => ready.push((case.id, answers, comment, answered_at)),
            }
        }
        if !report.errors.is_empty() {
            return Ok(report);
        }
        self.store_imported(&ready, now).await?;
        report.imported = ready.len();
        Ok(report)
    }

    /// A row's answers, checked as a web answer is, and when they were given (not in the
    /// future); what is wrong goes to `errors`.
    fn row_answers(
        &self,
        row: &ImportRow,
        now: DateTime<Utc>,
        errors: &mut Vec<FieldError>,
    ) -> ServiceResult<RowAnswers> {
        let factors = row.factors.clone().unwrap_or(FactorAnswers {
            information: row.information,
            accessibility: row.accessibility,
            treatment: row.treatment,
            competence: row.competence,
            legal_certainty: row.legal_certainty,
            efficiency: row.efficiency,
        });
        let input = SurveyAnswer {
            q_overall: row.q_overall,
            q_expectations: row.q_expectations,
            q_ideal: row.q_ideal,
            factors: Some(factors),
            comment: row.comment.clone(),
        };
        let validated = match self.validate(&input) {
            Ok(v) => Some(v),
            Err(ServiceError::Validation(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        };
        let answered_at = match row.answered_at.as_deref() {
            None => Some(now),
            Some(s) => match DateTime::parse_from_rfc3339(s.trim()) {
                Ok(t) if t.with_timezone(&Utc) <= now => Some(t.with_timezone(&Utc)),
                _ => {
                    errors.push(FieldError {
                        field: "answered_at".into(),
                        message: "must be an RFC 3339 instant, not in the future".into(),
                    });
                    None
                }
            },
        };
        Ok((validated, answered_at))
    }

    /// The cases of `references`, by reference, and the answers they already have, by case.
    async fn answered_cases(
        &self,
        references: Vec<String>,
    ) -> ServiceResult<(
        HashMap<String, case_record::Model>,
        HashMap<i64, survey_response::Model>,
    )> {
        let cases: HashMap<String, case_record::Model> = if references.is_empty() {
            HashMap::new()
        } else {
            case_record::Entity::find()
                .filter(case_record::Column::Reference.is_in(references))
                .all(self.db.reader())
                .await?
                .into_iter()
                .map(|c| (c.reference.clone(), c))
                .collect()
        };
        let existing = by_ids::<survey_response::Entity, _>(
            self.db.reader(),
            survey_response::Column::CaseId,
            cases.values().map(|c| c.id),
            |r| r.case_id,
        )
        .await?;
        Ok((cases, existing))
    }

    /// Stores imported answers in one transaction, marking their invitations answered.
    async fn store_imported(
        &self,
        ready: &[(i64, Answers, Option<String>, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let tx = self.db.begin().await?;
        for (case_id, answers, comment, answered_at) in ready {
            let inv = survey_invitation::Entity::find()
                .filter(survey_invitation::Column::CaseId.eq(*case_id))
                .one(&tx)
                .await?;
            self.store(
                &tx,
                *case_id,
                inv.as_ref().map(|i| i.id),
                "import",
                answers,
                comment.clone(),
                *answered_at,
                now,
            )
            .await?;
            if let Some(inv) = inv.filter(|i| i.answered_at.is_none()) {
                let mut m: survey_invitation::ActiveModel = inv.into();
                m.answered_at = Set(Some(*answered_at));
                m.update(&tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pending invitations (not answered, not expired) with their links, as CSV for a survey
    /// provider: `;`-separated, UTF-8 with a BOM so that Excel keeps å, ä and ö.
    pub async fn pending_csv(&self, actor: &Actor, now: DateTime<Utc>) -> ServiceResult<String> {
        require_admin(actor, "only an admin exports survey invitations")?;
        let invitations = survey_invitation::Entity::find()
            .filter(survey_invitation::Column::AnsweredAt.is_null())
            .filter(survey_invitation::Column::ExpiresAt.gt(now))
            .order_by_asc(survey_invitation::Column::Id)
            .all(self.db.reader())
            .await?;
        let cases = by_ids::<case_record::Entity, _>(
            self.db.reader(),
            case_record::Column::Id,
            invitations.iter().map(|i| i.case_id),
            |c| c.id,
        )
        .await?;
        let lookups =
            lots_cases::view::Lookups::load(&self.db, cases.values().map(|c| c.company_id), [])
                .await?;
        let mut out = String::from(
            "\u{feff}reference;org_number;company_name;area;department;decided_at;expires_at;survey_url\r\n",
        );
        for inv in invitations {
            let Some(c) = cases.get(&inv.case_id) else {
                continue;
            };
            let co = lookups.companies.get(&c.company_id);
            let dep = lookups.departments.get(&c.department_id);
            // The file goes to a survey provider outside the municipality: nothing of a
            // confidential case's company.
            let (org_number, company_name) = if c.confidential_statute.is_some() {
                let hidden = lots_cases::redact::CONFIDENTIAL.to_string();
                (hidden.clone(), hidden)
            } else {
                (
                    co.map(|x| x.org_number.clone()).unwrap_or_default(),
                    co.map(|x| x.name.clone()).unwrap_or_default(),
                )
            };
            let fields = [
                c.reference.clone(),
                org_number,
                company_name,
                c.area.clone(),
                dep.map(|d| d.code.clone()).unwrap_or_default(),
                c.decided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                inv.expires_at.to_rfc3339(),
                self.url(&self.token(&inv.nonce)),
            ];
            out.push_str(
                &fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// The token of an invitation (for the `survey.invited` webhook at send time).
    pub async fn token_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        invitation_id: i64,
    ) -> ServiceResult<Option<(String, DateTime<Utc>)>> {
        Ok(survey_invitation::Entity::find_by_id(invitation_id)
            .one(conn)
            .await?
            .map(|i| (self.token(&i.nonce), i.expires_at)))
    }
}

fn unreachable_hmac() -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot happen.
    Hmac::<Sha256>::new_from_slice(b"k").unwrap_or_else(|_| std::process::abort())
}

fn same_answer(stored: &survey_response::Model, a: &Answers, comment: Option<&str>) -> bool {
    let f = [
        stored.f_information,
        stored.f_accessibility,
        stored.f_treatment,
        stored.f_competence,
        stored.f_legal_certainty,
        stored.f_efficiency,
    ]
    .map(|v| v.map(i64::from));
    i64::from(stored.q_overall) == a.q_overall
        && i64::from(stored.q_expectations) == a.q_expectations
        && i64::from(stored.q_ideal) == a.q_ideal
        && f == a.factors
        && stored.comment.as_deref() == comment
}

/// Parses the rows of an import, each with its line number.
fn parse_rows(
    content_type: &str,
    body: &[u8],
) -> ServiceResult<Vec<(usize, Result<ImportRow, String>)>> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ServiceError::invalid("body", "must be UTF-8 text"))?;
    let text = text.trim_start_matches('\u{feff}');
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/x-ndjson"
        || essence == "application/ndjson"
        || essence == "application/jsonl"
    {
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (
                    i + 1,
                    serde_json::from_str::<ImportRow>(l)
                        .map_err(|e| format!("not a valid JSON row: {e}")),
                )
            })
            .collect());
    }
    if essence != "text/csv" {
        return Err(ServiceError::invalid(
            "content-type",
            "send text/csv or application/x-ndjson",
        ));
    }
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServiceError::invalid("body", format!("unreadable CSV header: {e}")))?
        .clone();
    let known = [
        "reference",
        "q_overall",
        "q_expectations",
        "q_ideal",
        "comment",
        "answered_at",
    ];
    if let Some(h) = headers
        .iter()
        .find(|h| !known.contains(h) && !FACTORS.contains(h))
    {
        return Err(ServiceError::invalid(
            "body",
            format!("unknown CSV column `{h}`"),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let parsed = record
            .map_err(|e| format!("unreadable CSV row: {e}"))
            .and_then(|rec| {
                let mut map = serde_json::Map::new();
                for (h, v) in headers.iter().zip(rec.iter()) {
                    if v.is_empty() {
                        continue;
                    }
                    let value = match h {
                        "reference" | "comment" | "answered_at" => {
                            serde_json::Value::String(v.to_string())
                        }
                        _ => match v.parse::<i64>() {
                            Ok(n) => serde_json::Value::from(n),
                            Err(_) => return Err(format!("{h}: `{v}` is not a whole number")),
                        },
                    };
                    map.insert(h.to_string(), value);
                }
                serde_json::from_value::<ImportRow>(serde_json::Value::Object(map))
                    .map_err(|e| e.to_string())
            });
        rows.push((line, parsed));
    }
    Ok(rows)
}

fn csv_field(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_ndjson_rows_parse_with_their_line_numbers() {
        let csv = "\u{feff}reference;q_overall;q_expectations;q_ideal;information;comment\nBN 2026/0001;8;7;7;5;Bra\nBN 2026/0002;x;7;7;;\n";
        let rows = parse_rows("text/csv", csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        let r = rows[0].1.as_ref().unwrap();
        assert_eq!(
            (r.reference.as_deref(), r.q_overall, r.information),
            (Some("BN 2026/0001"), Some(8), Some(5))
        );
        assert!(rows[1].1.as_ref().unwrap_err().contains("q_overall"));
        let nd = "{\"reference\": \"BN 2026/0001\", \"q_overall\": 8, \"factors\": {\"treatment\": 6}}\n\nnot json\n";
        let rows = parse_rows("application/x-ndjson", nd.as_bytes()).unwrap();
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(
            rows[0]
                .1
                .as_ref()
                .unwrap()
                .factors
                .as_ref()
                .unwrap()
                .treatment,
            Some(6)
        );
        assert!(rows[1].1.is_err());
        assert!(parse_rows("text/plain", b"x").is_err());
        assert!(parse_rows("text/csv", b"reference;colour\nx;y\n").is_err());
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("Söderby AB"), "Söderby AB");
        assert_eq!(csv_field("A;B"), "\"A;B\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
