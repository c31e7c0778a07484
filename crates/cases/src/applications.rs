//! Applying through an e-service: the answers to a published form are checked field by field
//! (every bad one named at once, in the company's language), and sending creates the case in
//! the e-service's department in one transaction: the applicant organisation and the contact
//! person as parties, the premises, the documents, the answers as a document on the case, the
//! channel `e-service`, a follow link and the receipt mail. Nothing is written when anything
//! fails.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::e_service::{AnswerProblem, Field, FieldType, Form, Reserved};
use lots_core::record::{PartyKind, PartyRole};
use lots_core::{AttachmentCategory, CaseEvent, OrgNumber, Priority, Representative, TIME_ZONE};
use lots_store::entity::{case_party, case_premises, case_record};
use lots_store::events::append;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use serde_json::json;

use crate::attachments::{Attachments, KeptFile, UploadError};
use crate::cases::{Channel, NewCaseChecked, Who};
use crate::company_mail::About;
use crate::e_services::Published;
use crate::error::{FieldError, ServiceError, ServiceResult};

/// The most files one application may carry, and one attachment field.
pub const MAX_FILES: usize = 20;
pub const MAX_FILES_PER_FIELD: usize = 10;

/// One refused answer: the field's name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub problem: AnswerProblem,
}

/// What the company sent: the text answers by field name, and which attachment fields have
/// files (the files themselves are checked as they arrive).
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub values: BTreeMap<String, String>,
    pub files: BTreeMap<String, usize>,
}

/// Checks the answers to `fields`: the kept answers, or every refusal.
pub fn check_fields<'a>(
    fields: impl Iterator<Item = &'a Field>,
    answers: &Answers,
    today: NaiveDate,
) -> Result<BTreeMap<String, String>, Vec<Refusal>> {
    let mut kept = BTreeMap::new();
    let mut refused = Vec::new();
    for f in fields {
        if f.kind == FieldType::Attachment {
            let n = answers.files.get(&f.name).copied().unwrap_or(0);
            if f.required && n == 0 {
                refused.push(Refusal {
                    field: f.name.clone(),
                    problem: AnswerProblem::Required,
                });
            }
            continue;
        }
        let raw = answers.values.get(&f.name).map_or("", String::as_str);
        match f.answer(raw, today) {
            Ok(Some(v)) => {
                kept.insert(f.name.clone(), v);
            }
            Ok(None) => {}
            Err(problem) => refused.push(Refusal {
                field: f.name.clone(),
                problem,
            }),
        }
    }
    if refused.is_empty() {
        Ok(kept)
    } else {
        Err(refused)
    }
}

/// The refusals as the API's field errors (English).
pub fn field_errors(refused: &[Refusal]) -> ServiceError {
    ServiceError::Validation(
        refused
            .iter()
            .map(|r| FieldError {
                field: r.field.clone(),
                message: r.problem.en(),
            })
            .collect(),
    )
}

/// Checks that every part names a field of `form` of the right kind, and the file counts.
pub fn check_parts(form: &Form, answers: &Answers) -> ServiceResult<()> {
    let mut errors = Vec::new();
    let mut add = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.to_string(),
            message: message.to_string(),
        })
    };
    for name in answers.values.keys() {
        match form.field(name) {
            None => add(name, "is not a field of this e-service"),
            Some(f) if f.kind == FieldType::Attachment => {
                add(name, "is an attachment: send it as a file part")
            }
            Some(_) => {}
        }
    }
    for (name, n) in &answers.files {
        match form.field(name) {
            Some(f) if f.kind == FieldType::Attachment => {
                if *n > MAX_FILES_PER_FIELD {
                    add(name, &format!("takes at most {MAX_FILES_PER_FIELD} files"));
                }
            }
            _ => add(name, "is not an attachment field of this e-service"),
        }
    }
    if answers.files.values().sum::<usize>() > MAX_FILES {
        add(
            "files",
            &format!("at most {MAX_FILES} files in one application"),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(errors))
    }
}

/// The case an application made.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub case_id: i64,
    pub reference: String,
    /// The follow link's token (only its hash is kept).
    pub follow_token: String,
    pub received_at: DateTime<Utc>,
    pub due_date: Option<NaiveDate>,
    pub department_name: String,
}

impl Attachments {
    /// Sends an application to `service` with checked answers `kept` (see `check_fields`) and
    /// its documents; `applicant` is the signed-in representative, if any, whose personnummer
    /// the contact person gets, so the case is among theirs.
    pub async fn submit_application(
        &self,
        service: &Published,
        applicant: Option<&Representative>,
        kept: &BTreeMap<String, String>,
        documents: &[KeptFile],
    ) -> Result<Receipt, UploadError> {
        let cases = &self.cases;
        let now = cases.clock.now();
        let answer = |r: Reserved| kept.get(r.name()).cloned();
        let missing = || ServiceError::Internal("checked answers missing".into());
        let org_number = OrgNumber::parse(&answer(Reserved::OrgNumber).ok_or_else(missing)?)
            .map_err(|e| ServiceError::Internal(format!("checked org number: {e}")))?;
        let company_name = answer(Reserved::CompanyName).ok_or_else(missing)?;
        let department = cases
            .db
            .departments()
            .await?
            .get(&service.department_id)
            .cloned()
            .ok_or(ServiceError::NotFound("e-service"))?;
        let contact = answer(Reserved::ContactName).ok_or_else(missing)?;
        let sender = match applicant {
            Some(r) => format!("{} (inloggad)", r.name.as_deref().unwrap_or(&contact)),
            None => format!("{contact} (via e-tjänst)"),
        };
        let new = NewCaseChecked {
            org_number,
            company_name,
            area: service.area,
            case_type: service.case_type.clone(),
            title: service.title.clone(),
            description: answer(Reserved::Description).unwrap_or_default(),
            department,
            received_at: now,
            priority: Priority::Normal,
            labels: Vec::new(),
            confidential: None,
            assignee: None,
        };
        let tx = cases.db.begin().await?;
        let case = cases
            .insert_case(&tx, Who::Company, &new, Channel::EService, now)
            .await?;
        self.add_applicants(&tx, &case, &new, kept, applicant, now)
            .await?;
        let document = answers_document(service, &case, kept, documents, &sender);
        for d in documents {
            let category = service
                .form
                .field(&d.field)
                .and_then(|f| f.category)
                .unwrap_or(AttachmentCategory::Application);
            self.record_kept_file(&tx, &case, d, category, &sender, now)
                .await?;
        }
        self.keep_written_answers(
            &tx,
            &case,
            &format!("ansokan-{}.txt", case.reference.replace(['/', ' '], "-")),
            document.as_bytes(),
            &sender,
            now,
        )
        .await?;
        let token = cases.system_follow_link(&tx, case.id, now).await?;
        cases
            .mail_company(&tx, &case, About::Receipt(&token), now)
            .await?;
        tx.commit().await?;
        Ok(Receipt {
            case_id: case.id,
            reference: case.reference,
            follow_token: token,
            received_at: now,
            due_date: case.due_date,
            department_name: new.department.name,
        })
    }

    /// The applicant organisation, the contact person and the premises, each with its event.
    async fn add_applicants(
        &self,
        tx: &DatabaseTransaction,
        case: &case_record::Model,
        new: &NewCaseChecked,
        kept: &BTreeMap<String, String>,
        applicant: Option<&Representative>,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let cases = &self.cases;
        let answer = |r: Reserved| kept.get(r.name()).cloned();
        let party = |kind: PartyKind, roles: &[PartyRole]| case_party::ActiveModel {
            case_id: Set(case.id),
            kind: Set(kind.as_str().to_string()),
            roles: Set(json!(roles)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let mut organisation = party(PartyKind::Organisation, &[PartyRole::Applicant]);
        organisation.org_number = Set(Some(new.org_number.as_str().to_string()));
        organisation.name = Set(new.company_name.clone());
        organisation.address = Set(answer(Reserved::Address));
        let mut person = party(PartyKind::Person, &[PartyRole::Contact]);
        person.name = Set(answer(Reserved::ContactName).unwrap_or_default());
        person.personal_number = Set(applicant
            .map(|r| r.personal_number.as_str().to_string())
            .or_else(|| answer(Reserved::ContactPersonalNumber)));
        person.email = Set(answer(Reserved::ContactEmail));
        person.phone = Set(answer(Reserved::ContactPhone));
        for row in [organisation, person] {
            let row = row.insert(tx).await?;
            let added = CaseEvent::PartyAdded(crate::record::party_snapshot(&row)?);
            append(tx, cases.event_by(Who::Company, case, now, added)).await?;
        }
        if let Some(property) = answer(Reserved::Property) {
            let row = case_premises::ActiveModel {
                case_id: Set(case.id),
                property_designation: Set(property),
                address: Set(answer(Reserved::Address)),
                sign_name: Set(kept.get("sign_name").cloned()),
                premises_type: Set(None),
                main: Set(true),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(tx)
            .await?;
            let added = CaseEvent::PremisesAdded(crate::record::premises_snapshot(&row)?);
            append(tx, cases.event_by(Who::Company, case, now, added)).await?;
        }
        Ok(())
    }
}

/// The answers as the document kept on the case: each step's fields with their answers, the
/// files by name. A personnummer is shown masked (the full one is on the contact party, where
/// the access rules decide who sees it).
fn answers_document(
    service: &Published,
    case: &case_record::Model,
    kept: &BTreeMap<String, String>,
    documents: &[KeptFile],
    sender: &str,
) -> String {
    let at = case.received_at.with_timezone(&TIME_ZONE);
    let mut out = format!(
        "Ansökan via e-tjänst: {}\nDiarienummer: {}\nInkom: {}\nSkickad av: {sender}\n",
        service.title,
        case.reference,
        at.format("%Y-%m-%d %H:%M")
    );
    for step in &service.form.steps {
        out.push_str(&format!("\n== {} ==\n", step.title));
        for f in &step.fields {
            let shown = if f.kind == FieldType::Attachment {
                let names: Vec<String> = documents
                    .iter()
                    .filter(|d| d.field == f.name)
                    .map(|d| format!("{} ({} byte)", d.name, d.size))
                    .collect();
                if names.is_empty() {
                    "–".to_string()
                } else {
                    names.join(", ")
                }
            } else {
                match kept.get(&f.name) {
                    None => "–".to_string(),
                    Some(v) if f.kind == FieldType::PersonalNumber => mask(v),
                    Some(v) => f.shown(v, false).to_string(),
                }
            };
            out.push_str(&format!("{}: {shown}\n", f.label));
        }
    }
    out
}

fn mask(personal_number: &str) -> String {
    let keep: String = personal_number.chars().take(9).collect();
    format!("{keep}XXXX")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lots_core::e_service::builtin;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    }

    fn good() -> Answers {
        let mut a = Answers::default();
        for (k, v) in [
            ("org_number", "556036-0793"),
            ("company_name", "Söderby Krog AB"),
            ("contact_name", "Anna Berg"),
            ("contact_email", "anna@soderbykrog.se"),
            ("property", "Haninge Söderby 1:23"),
            ("address", "Söderbyvägen 4, 136 91 Haninge"),
            ("measure", "extension"),
            ("description", "En uteservering"),
        ] {
            a.values.insert(k.into(), v.into());
        }
        a.files.insert("drawings".into(), 1);
        a.files.insert("site_plan".into(), 1);
        a
    }

    #[test]
    fn a_whole_application_is_kept_in_written_form() {
        let form = builtin().unwrap().remove(0).form;
        let kept = check_fields(form.fields(), &good(), today()).unwrap();
        assert_eq!(kept["org_number"], "556036-0793");
        assert_eq!(kept["measure"], "extension");
        assert!(!kept.contains_key("contact_phone"));
    }

    #[test]
    fn every_bad_answer_and_missing_file_is_named() {
        let form = builtin().unwrap().remove(0).form;
        let mut a = good();
        a.values.insert("org_number".into(), "123".into());
        a.values.insert("measure".into(), "demolition".into());
        a.files.remove("site_plan");
        let refused = check_fields(form.fields(), &a, today()).unwrap_err();
        let names: Vec<&str> = refused.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(names, ["org_number", "measure", "site_plan"]);
    }

    #[test]
    fn parts_that_are_no_field_or_of_the_wrong_kind_are_refused() {
        let form = builtin().unwrap().remove(0).form;
        let mut a = good();
        a.values.insert("is_admin".into(), "true".into());
        a.values.insert("drawings".into(), "x".into());
        a.files.insert("company_name".into(), 1);
        a.files
            .insert("other_documents".into(), MAX_FILES_PER_FIELD + 1);
        let Err(ServiceError::Validation(errors)) = check_parts(&form, &a) else {
            panic!("refused")
        };
        let names: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            ["drawings", "is_admin", "company_name", "other_documents"]
        );
    }

    #[test]
    fn a_personal_number_in_the_document_is_masked() {
        assert_eq!(mask("19800101-1234"), "19800101-XXXX");
    }
}
