//! The e-mails Lots writes to a company about its case, in Swedish: a new message from the
//! department, and a request for a supplement. Each carries a fresh follow link (only its hash
//! is kept) so the company can read and answer without an account, and is put in the mail
//! outbox in the transaction of its cause. A confidential case's mail says only that there is
//! something to read, never what. A case whose parties have no e-mail address gets no mail.

use chrono::{DateTime, Utc};
use lots_store::entity::{case_record, department};
use lots_store::mail::{NewMail, company_address, enqueue};
use sea_orm::{DatabaseTransaction, EntityTrait};

use crate::cases::Cases;
use crate::error::ServiceResult;

/// What a mail is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About<'a> {
    /// The department wrote `text` to the company.
    Message(&'a str),
    /// The department asks for a supplement: `text` says what.
    SupplementRequest(&'a str),
    /// The case is decided, with this outcome.
    Decided(Option<lots_core::Decision>),
    /// An application came in through an e-service; the mail carries this follow link's token.
    Receipt(&'a str),
}

fn outcome_sv(d: lots_core::Decision) -> &'static str {
    use lots_core::Decision::*;
    match d {
        Approved => "ansökan beviljas",
        Rejected => "ansökan avslås",
        Dismissed => "ansökan avvisas",
        WrittenOff => "ärendet skrivs av",
    }
}

impl Cases {
    /// Puts the mail about `case` in the outbox, in `tx`; `None` when the case has no address.
    pub(crate) async fn mail_company(
        &self,
        tx: &DatabaseTransaction,
        case: &case_record::Model,
        about: About<'_>,
        now: DateTime<Utc>,
    ) -> ServiceResult<Option<i64>> {
        let Some(to) = company_address(tx, case.id).await? else {
            return Ok(None);
        };
        let department = department::Entity::find_by_id(case.department_id)
            .one(tx)
            .await?
            .map(|d| d.name)
            .unwrap_or_else(|| "Kommunen".into());
        let link = match about {
            About::Receipt(token) => token.to_string(),
            _ => self.system_follow_link(tx, case.id, now).await?,
        };
        let due = case
            .due_date
            .map(|d| format!("Enligt lagens tidsfrist ska beslut fattas senast {d}, räknat från att ansökan är komplett."))
            .unwrap_or_default();
        let url = format!("{}/folj/{link}", self.base_url.trim_end_matches('/'));
        let confidential = case.confidential_statute.is_some();
        let (kind, subject, lead, content) = match about {
            About::Message(text) => (
                "message",
                format!("Nytt meddelande i ärende {}", case.reference),
                format!(
                    "{department} har skickat ett meddelande i ert ärende {}.",
                    case.reference
                ),
                text,
            ),
            About::SupplementRequest(text) => (
                "supplement_request",
                format!("Begäran om komplettering i ärende {}", case.reference),
                format!(
                    "{department} behöver en komplettering i ert ärende {} för att kunna fortsätta handläggningen. Handläggningstiden räknas inte medan vi väntar på den.",
                    case.reference
                ),
                text,
            ),
            About::Decided(outcome) => (
                "decision",
                format!("Beslut i ärende {}", case.reference),
                format!(
                    "{department} har fattat beslut i ert ärende {}{}.",
                    case.reference,
                    outcome
                        .map(|o| format!(": {}", outcome_sv(o)))
                        .unwrap_or_default()
                ),
                "Beslutet, med skälen, lagrummen och hur ni överklagar, finns på sidan nedan.",
            ),
            About::Receipt(_) => (
                "receipt",
                format!("Vi har tagit emot er ansökan, ärende {}", case.reference),
                format!(
                    "{department} har tagit emot er ansökan och registrerat den som ärende {}. Ange diarienumret om ni kontaktar oss.",
                    case.reference
                ),
                due.as_str(),
            ),
        };
        let body = if confidential {
            format!(
                "Hej!\n\n{lead}\n\nÄrendet omfattas av sekretess, så innehållet står inte i det här mejlet. Läs det här:\n{url}\n\nMed vänlig hälsning\n{department}\n\nDet här mejlet går inte att svara på; svara via länken.\n"
            )
        } else {
            format!(
                "Hej!\n\n{lead}\n\nÄrende: {}\n\n{content}\n\nLäs och svara här:\n{url}\n\nMed vänlig hälsning\n{department}\n\nDet här mejlet går inte att svara på; svara via länken.\n",
                case.title
            )
        };
        let mail = enqueue(
            tx,
            NewMail {
                to,
                subject,
                body,
                kind,
                case_id: Some(case.id),
            },
            now,
        )
        .await?;
        Ok(Some(mail.id))
    }
}

#[cfg(test)]
mod tests {
    use super::About;

    #[test]
    fn abouts_compare() {
        assert_ne!(About::Message("a"), About::SupplementRequest("a"));
    }
}
