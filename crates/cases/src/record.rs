//! The full case record beyond the case row: parties (intressenter) in their roles, premises
//! (anläggning/fastighet), and what confidentiality (sekretess) and personal data hide from
//! whom. Every change is an event with the old and the new value.

use chrono::{DateTime, Utc};
use lots_core::case_event::{self as ev, Change, Changes};
use lots_core::{
    Actor, CaseEvent, OrgNumber, PartyKind, PartyRole, PersonalNumber, PremisesType,
    PropertyDesignation, StatuteReference,
};
use lots_store::entity::{case_party, case_premises, case_record};
use lots_store::events::append;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Granted;
use crate::cases::{Cases, check_if_match, present};
use crate::error::{Problems, ServiceError, ServiceResult};
pub use crate::redact::{CONFIDENTIAL, REDACTED, Sight, party_view, redact_event};
use crate::stored::{stored, stored_opt};

/// `{statute}`: marks a case, note or attachment confidential under OSL.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"statute": "OSL 26 kap. 1 §"}))]
pub struct ConfidentialInput {
    /// The OSL provision, e.g. `OSL 26 kap. 1 §` or `SFS 2009:400 26 kap. 1 §`.
    pub statute: Option<String>,
}

/// How a confidential record is marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Confidentiality {
    /// The provision, written out: `SFS 2009:400 26 kap. 1 §`.
    pub statute: String,
}

/// Checks a confidentiality marking: an OSL provision with its chapter and section.
pub fn parse_confidential(
    p: &mut Problems,
    field: &str,
    input: &ConfidentialInput,
) -> Option<String> {
    let Some(s) = input.statute.as_deref() else {
        p.add(&format!("{field}.statute"), "is required");
        return None;
    };
    let r = p.check(&format!("{field}.statute"), StatuteReference::parse(s))?;
    if !r.is_osl() {
        p.add(
            &format!("{field}.statute"),
            "confidentiality rests on the Public Access to Information and Secrecy Act: `OSL {chapter} kap. {section} §` (SFS 2009:400)",
        );
        return None;
    }
    if r.chapter.is_none() || r.section.is_none() {
        p.add(
            &format!("{field}.statute"),
            "name the chapter and section, e.g. `OSL 26 kap. 1 §`",
        );
        return None;
    }
    Some(r.to_string())
}

/// `POST /api/v1/cases/{id}/parties`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "organisation", "org_number": "556012-5790", "name": "Söderby Krog AB",
    "roles": ["applicant", "operator"], "email": "info@soderbykrog.se", "phone": "08-123 456 78",
    "address": "Söderbyvägen 4, 136 91 Haninge"}))]
pub struct NewParty {
    /// organisation or person.
    pub kind: Option<String>,
    /// Organisations: the organisationsnummer.
    pub org_number: Option<String>,
    /// People: personnummer or samordningsnummer (personal data).
    pub personal_number: Option<String>,
    pub name: Option<String>,
    /// One or more of applicant, operator, property_owner, contact, invoice_recipient, agent, signatory.
    pub roles: Option<Vec<String>>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// `PATCH /api/v1/cases/{id}/parties/{party_id}`: only the fields present change; `null`
/// clears a contact detail. The identity (kind, number) does not change: remove and add.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"roles": ["applicant", "operator", "invoice_recipient"], "phone": null}))]
pub struct PartyPatch {
    pub name: Option<String>,
    pub roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
}

/// A party on a case. For a caller outside the owning department a person's number is
/// masked (`19811218-****`) and their name and contact details read `[personuppgift]`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyView {
    pub id: i64,
    pub kind: PartyKind,
    pub org_number: Option<String>,
    pub personal_number: Option<String>,
    pub name: String,
    pub roles: Vec<PartyRole>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/cases/{id}/premises`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"property_designation": "Haninge Söderby 1:23", "address": "Söderbyvägen 4, 136 91 Haninge",
    "sign_name": "Söderby Krog", "premises_type": "restaurant", "main": true}))]
pub struct NewPremises {
    /// Fastighetsbeteckning: municipality, block, number (`Haninge Söderby 1:23`).
    pub property_designation: Option<String>,
    pub address: Option<String>,
    /// The name on the sign.
    pub sign_name: Option<String>,
    /// restaurant, cafe, shop, food_production, industry, office, residential, school, care,
    /// hotel, warehouse, agriculture, other.
    pub premises_type: Option<String>,
    /// The case's main premises; the first premises of a case is main by default.
    pub main: Option<bool>,
}

/// `PATCH /api/v1/cases/{id}/premises/{premises_id}`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sign_name": "Söderby Krog & Bar", "main": true}))]
pub struct PremisesPatch {
    pub property_designation: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sign_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub premises_type: Option<Option<String>>,
    /// `true` makes this the main premises (the others stop being main).
    pub main: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PremisesView {
    pub id: i64,
    pub property_designation: String,
    pub address: Option<String>,
    pub sign_name: Option<String>,
    pub premises_type: Option<PremisesType>,
    pub main: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn optional_text(p: &mut Problems, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| p.text(field, Some(s), 1, max))
}

fn check_email(p: &mut Problems, v: Option<&str>) -> Option<String> {
    let e = optional_text(p, "email", v, 254)?;
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if ok {
        Some(e)
    } else {
        p.add("email", "must be an email address, e.g. namn@example.se");
        None
    }
}

fn check_phone(p: &mut Problems, v: Option<&str>) -> Option<String> {
    let ph = optional_text(p, "phone", v, 40)?;
    let digits = ph.chars().filter(char::is_ascii_digit).count();
    if digits >= 5
        && ph
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c))
    {
        Some(ph)
    } else {
        p.add(
            "phone",
            "must be a phone number: at least 5 digits, with spaces, +, - or () only",
        );
        None
    }
}

fn check_roles(p: &mut Problems, roles: Option<&Vec<String>>) -> Option<Vec<PartyRole>> {
    let Some(roles) = roles else {
        p.add("roles", "is required: one or more roles");
        return None;
    };
    if roles.is_empty() {
        p.add("roles", "must name at least one role");
        return None;
    }
    let mut out = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        if let Some(role) = p.check(&format!("roles[{i}]"), r.trim().parse::<PartyRole>()) {
            out.push(role);
        }
    }
    out.sort();
    out.dedup();
    (out.len() == roles.len() || !out.is_empty()).then_some(out)
}

/// A party as its events record it.
pub(crate) fn party_snapshot(m: &case_party::Model) -> ServiceResult<ev::PartySnapshot> {
    let kind: PartyKind = stored("case_party", m.id, &m.kind)?;
    let roles = crate::stored::party_roles(m)?;
    Ok(ev::PartySnapshot {
        party_id: m.id,
        party_kind: kind,
        party: ev::Party {
            kind,
            org_number: m.org_number.clone(),
            personal_number: m.personal_number.clone(),
            name: m.name.clone(),
            roles,
            email: m.email.clone(),
            phone: m.phone.clone(),
            address: m.address.clone(),
        },
    })
}

/// Premises as their events record them.
pub(crate) fn premises_snapshot(m: &case_premises::Model) -> ServiceResult<ev::PremisesSnapshot> {
    Ok(ev::PremisesSnapshot {
        premises_id: m.id,
        premises: ev::Premises {
            property_designation: m.property_designation.clone(),
            address: m.address.clone(),
            sign_name: m.sign_name.clone(),
            premises_type: stored_opt("case_premises", m.id, m.premises_type.as_deref())?,
            main: m.main,
        },
    })
}

/// The change of a premises' `main` mark, as its event records it.
fn main_moved(premises_id: i64, main: bool) -> CaseEvent {
    let changes = Changes::from([("main".to_string(), Change::new(!main, main))]);
    CaseEvent::PremisesChanged(ev::PremisesChanged {
        premises_id,
        changes,
    })
}

pub fn premises_view(m: case_premises::Model) -> ServiceResult<PremisesView> {
    Ok(PremisesView {
        id: m.id,
        property_designation: m.property_designation,
        address: m.address,
        sign_name: m.sign_name,
        premises_type: stored_opt("case_premises", m.id, m.premises_type.as_deref())?,
        main: m.main,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Parties and premises are part of an open or decided case; a closed or withdrawn one is
/// archived as it was.
fn check_changeable(case: &case_record::Model) -> ServiceResult<()> {
    match case.status.as_str() {
        "closed" | "withdrawn" => Err(ServiceError::Conflict(format!(
            "the case is {}; its parties and premises can no longer be changed",
            case.status
        ))),
        _ => Ok(()),
    }
}

/// The party `party_id` of `case`; a party of another case is not found.
async fn party_of(
    tx: &DatabaseTransaction,
    case: &case_record::Model,
    party_id: i64,
) -> ServiceResult<case_party::Model> {
    case_party::Entity::find_by_id(party_id)
        .one(tx)
        .await?
        .filter(|m| m.case_id == case.id)
        .ok_or(ServiceError::NotFound("party"))
}

/// The premises of case `case_id`, oldest first.
async fn premises_rows(
    tx: &DatabaseTransaction,
    case_id: i64,
) -> ServiceResult<Vec<case_premises::Model>> {
    Ok(case_premises::Entity::find()
        .filter(case_premises::Column::CaseId.eq(case_id))
        .order_by_asc(case_premises::Column::Id)
        .all(tx)
        .await?)
}

/// The premises `premises_id` among a case's `premises`.
fn one_of(
    premises: &[case_premises::Model],
    premises_id: i64,
) -> ServiceResult<case_premises::Model> {
    premises
        .iter()
        .find(|m| m.id == premises_id)
        .cloned()
        .ok_or(ServiceError::NotFound("premises"))
}

/// The case record beyond the case row: its parties and premises, a service of their own over
/// the cases they belong to (it asks `Cases` who may read and change each case).
#[derive(Debug, Clone)]
pub struct Record {
    cases: Cases,
}

impl Record {
    pub fn new(cases: Cases) -> Self {
        Self { cases }
    }

    /// The case `id` if the caller may change it and its record is still open to change.
    async fn changeable(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        id: i64,
    ) -> ServiceResult<Granted> {
        let case = self.cases.owned(tx, actor, id).await?;
        check_changeable(&case)?;
        Ok(case)
    }

    pub async fn parties(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<PartyView>> {
        let case = self.cases.granted(actor, id).await?;
        self.parties_of(&case).await
    }

    /// `parties` of a case the request has already read, with the caller's access to it.
    pub async fn parties_of(&self, case: &Granted) -> ServiceResult<Vec<PartyView>> {
        let sight = case.access.sight;
        if case.confidential_statute.is_some() && !sight.confidential {
            return Ok(Vec::new());
        }
        let rows = case
            .rows::<case_party::Entity>(&self.cases.db, case_party::Column::CaseId)
            .await?;
        rows.into_iter().map(|m| party_view(m, sight)).collect()
    }

    pub async fn add_party(
        &self,
        actor: &Actor,
        id: i64,
        input: NewParty,
    ) -> ServiceResult<PartyView> {
        let now = self.cases.clock.now();
        let today = crate::deadlines::stockholm_date(now);
        let mut p = Problems::default();
        let kind = match input.kind.as_deref() {
            None => {
                p.add("kind", "is required: organisation or person");
                None
            }
            Some(k) => p.check("kind", k.trim().parse::<PartyKind>()),
        };
        let mut org_number = None;
        let mut personal_number = None;
        match kind {
            Some(PartyKind::Organisation) => {
                if input.personal_number.is_some() {
                    p.add(
                        "personal_number",
                        "is given for people only; an organisation has org_number",
                    );
                }
                match input.org_number.as_deref() {
                    None => p.add("org_number", "is required for an organisation"),
                    Some(o) => org_number = p.check("org_number", OrgNumber::parse(o)),
                }
            }
            Some(PartyKind::Person) => {
                if input.org_number.is_some() {
                    p.add(
                        "org_number",
                        "is given for organisations only; a person has personal_number",
                    );
                }
                match input.personal_number.as_deref() {
                    None => p.add("personal_number", "is required for a person"),
                    Some(n) => {
                        personal_number =
                            p.check("personal_number", PersonalNumber::parse_on(n, today))
                    }
                }
            }
            None => {}
        }
        let name = p.text("name", input.name.as_deref(), 1, 200);
        let roles = check_roles(&mut p, input.roles.as_ref());
        let email = check_email(&mut p, input.email.as_deref());
        let phone = check_phone(&mut p, input.phone.as_deref());
        let address = optional_text(&mut p, "address", input.address.as_deref(), 400);
        p.finish()?;
        let (Some(kind), Some(name), Some(roles)) = (kind, name, roles) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let party = case_party::ActiveModel {
            case_id: Set(case.id),
            kind: Set(kind.as_str().to_string()),
            org_number: Set(org_number.map(|o| o.as_str().to_string())),
            personal_number: Set(personal_number.map(|n| n.as_str().to_string())),
            name: Set(name),
            roles: Set(json!(roles)),
            email: Set(email),
            phone: Set(phone),
            address: Set(address),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let added = CaseEvent::PartyAdded(party_snapshot(&party)?);
        append(&tx, self.cases.event(actor, &case, now, added)).await?;
        tx.commit().await?;
        party_view(party, case.access.sight)
    }

    pub async fn update_party(
        &self,
        actor: &Actor,
        id: i64,
        party_id: i64,
        patch: PartyPatch,
        if_match: Option<i64>,
    ) -> ServiceResult<PartyView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let name = patch
            .name
            .as_deref()
            .and_then(|n| p.text("name", Some(n), 1, 200));
        let roles = patch
            .roles
            .as_ref()
            .and_then(|r| check_roles(&mut p, Some(r)));
        let email = patch
            .email
            .as_ref()
            .map(|e| check_email(&mut p, e.as_deref()));
        let phone = patch
            .phone
            .as_ref()
            .map(|e| check_phone(&mut p, e.as_deref()));
        let address = patch
            .address
            .as_ref()
            .map(|a| optional_text(&mut p, "address", a.as_deref(), 400));
        if patch.name.is_none()
            && patch.roles.is_none()
            && patch.email.is_none()
            && patch.phone.is_none()
            && patch.address.is_none()
        {
            p.add(
                "body",
                "names no field to change (name, roles, email, phone, address)",
            );
        }
        p.finish()?;
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let party = party_of(&tx, &case, party_id).await?;
        check_if_match(if_match, party.version)?;
        let mut changes = Changes::new();
        let mut model: case_party::ActiveModel = party.clone().into();
        if let Some(n) = name.filter(|n| *n != party.name) {
            changes.insert("name".into(), Change::new(&party.name, &n));
            model.name = Set(n);
        }
        if let Some(r) = roles.map(|r| json!(r)).filter(|r| *r != party.roles) {
            changes.insert("roles".into(), Change::new(&party.roles, &r));
            model.roles = Set(r);
        }
        for (field, new, old, set) in [
            ("email", email, &party.email, &mut model.email),
            ("phone", phone, &party.phone, &mut model.phone),
            ("address", address, &party.address, &mut model.address),
        ] {
            if let Some(new) = new.filter(|n| n != old) {
                changes.insert(field.into(), Change::new(old, &new));
                *set = Set(new);
            }
        }
        if changes.is_empty() {
            tx.commit().await?;
            return party_view(party, case.access.sight);
        }
        model.version = Set(party.version + 1);
        model.updated_at = Set(now);
        let updated = model.update(&tx).await?;
        let changed = CaseEvent::PartyChanged(ev::PartyChanged {
            party_id: party.id,
            party_kind: stored("case_party", party.id, &party.kind)?,
            changes,
        });
        append(&tx, self.cases.event(actor, &case, now, changed)).await?;
        tx.commit().await?;
        party_view(updated, case.access.sight)
    }

    pub async fn remove_party(&self, actor: &Actor, id: i64, party_id: i64) -> ServiceResult<()> {
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let party = party_of(&tx, &case, party_id).await?;
        case_party::Entity::delete_by_id(party.id).exec(&tx).await?;
        let removed = CaseEvent::PartyRemoved(party_snapshot(&party)?);
        append(&tx, self.cases.event(actor, &case, now, removed)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn premises(&self, actor: &Actor, id: i64) -> ServiceResult<Vec<PremisesView>> {
        let case = self.cases.granted(actor, id).await?;
        self.premises_of(&case).await
    }

    /// `premises` of a case the request has already read, with the caller's access to it.
    pub async fn premises_of(&self, case: &Granted) -> ServiceResult<Vec<PremisesView>> {
        if case.confidential_statute.is_some() && !case.access.sight.confidential {
            return Ok(Vec::new());
        }
        let mut rows = case
            .rows::<case_premises::Entity>(&self.cases.db, case_premises::Column::CaseId)
            .await?;
        // The main premises first, then the oldest first (a stable sort of rows in key order).
        rows.sort_by_key(|r| !r.main);
        rows.into_iter().map(premises_view).collect()
    }

    pub async fn add_premises(
        &self,
        actor: &Actor,
        id: i64,
        input: NewPremises,
    ) -> ServiceResult<PremisesView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let designation = match input.property_designation.as_deref() {
            None => {
                p.add(
                    "property_designation",
                    "is required, e.g. `Haninge Söderby 1:23`",
                );
                None
            }
            Some(d) => p.check("property_designation", PropertyDesignation::parse(d)),
        };
        let address = optional_text(&mut p, "address", input.address.as_deref(), 400);
        let sign_name = optional_text(&mut p, "sign_name", input.sign_name.as_deref(), 200);
        let premises_type = input
            .premises_type
            .as_deref()
            .and_then(|t| p.check("premises_type", t.trim().parse::<PremisesType>()));
        p.finish()?;
        let Some(designation) = designation else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let existing = premises_rows(&tx, case.id).await?;
        let main = input.main.unwrap_or(existing.is_empty()) || existing.is_empty();
        if main {
            self.unmark_main(&tx, actor, &case, &existing, None, now)
                .await?;
        }
        let row = case_premises::ActiveModel {
            case_id: Set(case.id),
            property_designation: Set(designation.to_string()),
            address: Set(address),
            sign_name: Set(sign_name),
            premises_type: Set(premises_type.map(|t| t.as_str().to_string())),
            main: Set(main),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let added = CaseEvent::PremisesAdded(premises_snapshot(&row)?);
        append(&tx, self.cases.event(actor, &case, now, added)).await?;
        tx.commit().await?;
        premises_view(row)
    }

    /// Unmarks the main premises other than `keep`, each with its event.
    async fn unmark_main(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        case: &case_record::Model,
        existing: &[case_premises::Model],
        keep: Option<i64>,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        for other in existing.iter().filter(|o| o.main && Some(o.id) != keep) {
            let mut m: case_premises::ActiveModel = other.clone().into();
            m.main = Set(false);
            m.version = Set(other.version + 1);
            m.updated_at = Set(now);
            m.update(tx).await?;
            append(
                tx,
                self.cases
                    .event(actor, case, now, main_moved(other.id, false)),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn update_premises(
        &self,
        actor: &Actor,
        id: i64,
        premises_id: i64,
        patch: PremisesPatch,
        if_match: Option<i64>,
    ) -> ServiceResult<PremisesView> {
        let now = self.cases.clock.now();
        let mut p = Problems::default();
        let designation = patch
            .property_designation
            .as_deref()
            .and_then(|d| p.check("property_designation", PropertyDesignation::parse(d)))
            .map(|d| d.to_string());
        let address = patch
            .address
            .as_ref()
            .map(|a| optional_text(&mut p, "address", a.as_deref(), 400));
        let sign_name = patch
            .sign_name
            .as_ref()
            .map(|a| optional_text(&mut p, "sign_name", a.as_deref(), 200));
        let premises_type = patch.premises_type.as_ref().map(|t| {
            t.as_deref()
                .and_then(|t| p.check("premises_type", t.trim().parse::<PremisesType>()))
                .map(|t| t.as_str().to_string())
        });
        if patch.main == Some(false) {
            p.add(
                "main",
                "mark another premises main instead; a case with premises keeps one main",
            );
        }
        if patch.property_designation.is_none()
            && patch.address.is_none()
            && patch.sign_name.is_none()
            && patch.premises_type.is_none()
            && patch.main.is_none()
        {
            p.add(
                "body",
                "names no field to change (property_designation, address, sign_name, premises_type, main)",
            );
        }
        p.finish()?;
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let existing = premises_rows(&tx, case.id).await?;
        let row = one_of(&existing, premises_id)?;
        check_if_match(if_match, row.version)?;
        let mut changes = Changes::new();
        let mut model: case_premises::ActiveModel = row.clone().into();
        if let Some(d) = designation.filter(|d| *d != row.property_designation) {
            changes.insert(
                "property_designation".into(),
                Change::new(&row.property_designation, &d),
            );
            model.property_designation = Set(d);
        }
        for (field, new, old, set) in [
            ("address", address, &row.address, &mut model.address),
            ("sign_name", sign_name, &row.sign_name, &mut model.sign_name),
            (
                "premises_type",
                premises_type,
                &row.premises_type,
                &mut model.premises_type,
            ),
        ] {
            if let Some(new) = new.filter(|n| n != old) {
                changes.insert(field.into(), Change::new(old, &new));
                *set = Set(new);
            }
        }
        if patch.main == Some(true) && !row.main {
            self.unmark_main(&tx, actor, &case, &existing, Some(row.id), now)
                .await?;
            changes.insert("main".into(), Change::new(false, true));
            model.main = Set(true);
        }
        if changes.is_empty() {
            tx.commit().await?;
            return premises_view(row);
        }
        model.version = Set(row.version + 1);
        model.updated_at = Set(now);
        let updated = model.update(&tx).await?;
        let changed = CaseEvent::PremisesChanged(ev::PremisesChanged {
            premises_id: row.id,
            changes,
        });
        append(&tx, self.cases.event(actor, &case, now, changed)).await?;
        tx.commit().await?;
        premises_view(updated)
    }

    /// Removes premises; if they were the main ones, the oldest remaining become main.
    pub async fn remove_premises(
        &self,
        actor: &Actor,
        id: i64,
        premises_id: i64,
    ) -> ServiceResult<()> {
        let now = self.cases.clock.now();
        let tx = self.cases.db.begin().await?;
        let case = self.changeable(&tx, actor, id).await?;
        let existing = premises_rows(&tx, case.id).await?;
        let row = one_of(&existing, premises_id)?;
        case_premises::Entity::delete_by_id(row.id)
            .exec(&tx)
            .await?;
        let removed = CaseEvent::PremisesRemoved(premises_snapshot(&row)?);
        append(&tx, self.cases.event(actor, &case, now, removed)).await?;
        if row.main
            && let Some(next) = existing.iter().find(|m| m.id != row.id)
        {
            let mut m: case_premises::ActiveModel = next.clone().into();
            m.main = Set(true);
            m.version = Set(next.version + 1);
            m.updated_at = Set(now);
            m.update(&tx).await?;
            append(
                &tx,
                self.cases
                    .event(actor, &case, now, main_moved(next.id, true)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::redact_event_data;
    use serde_json::Value;

    #[test]
    fn personal_data_is_masked_and_confidential_content_replaced() {
        let data = json!({"party_id": 1, "party_kind": "person", "party": {"kind": "person",
            "personal_number": "19811218-9876", "name": "Anna Andersson", "email": "anna@example.se",
            "phone": "070-123 45 67", "address": null, "roles": ["agent"]}});
        let out = redact_event_data(data.clone(), false, Sight::NONE);
        let text = out.to_string();
        assert!(
            !text.contains("9876") && !text.contains("Anna") && !text.contains("anna@"),
            "{text}"
        );
        assert_eq!(out["party"]["personal_number"], json!("19811218-****"));
        assert_eq!(out["party"]["roles"], json!(["agent"]));
        assert_eq!(out["party"]["address"], Value::Null);
        let owner = Sight {
            confidential: true,
            personal: true,
        };
        assert_eq!(redact_event_data(data.clone(), false, owner), data);

        let change = json!({"party_id": 1, "party_kind": "person", "changes": {"name": {"from": "A", "to": "B"}, "roles": {"from": [], "to": ["agent"]}}});
        let out = redact_event_data(change.clone(), false, Sight::NONE);
        assert_eq!(
            out["changes"]["name"],
            json!({"from": REDACTED, "to": REDACTED})
        );
        assert_eq!(out["changes"]["roles"]["to"], json!(["agent"]));

        let note =
            json!({"note_id": 3, "text": "Hemligt", "confidential": "SFS 2009:400 26 kap. 1 §"});
        let out = redact_event_data(
            note.clone(),
            false,
            Sight {
                confidential: false,
                personal: true,
            },
        );
        assert_eq!(out["text"], json!(CONFIDENTIAL));
        let created = json!({"title": "Skyddat boende", "reference": "BN 2026/0001"});
        let out = redact_event_data(created.clone(), true, Sight::NONE);
        assert_eq!(out["title"], json!(CONFIDENTIAL));
        assert_eq!(out["reference"], json!("BN 2026/0001"));
    }

    #[test]
    fn confidentiality_needs_an_osl_provision() {
        let mut p = Problems::default();
        let ok = parse_confidential(
            &mut p,
            "confidential",
            &ConfidentialInput {
                statute: Some("OSL 26 kap. 1 §".into()),
            },
        );
        assert_eq!(ok.as_deref(), Some("SFS 2009:400 26 kap. 1 §"));
        assert!(
            parse_confidential(
                &mut p,
                "confidential",
                &ConfidentialInput {
                    statute: Some("PBL 9 kap. 31 §".into())
                }
            )
            .is_none()
        );
        assert!(
            parse_confidential(
                &mut p,
                "confidential",
                &ConfidentialInput {
                    statute: Some("OSL".into())
                }
            )
            .is_none()
        );
        assert!(p.finish().is_err());
    }
}
