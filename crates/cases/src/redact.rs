//! The one redaction step on the way out. Every view of a case, a party, an event, a handoff or
//! a webhook payload passes through here with the caller's `CaseAccess` (or `Sight::NONE` for a
//! receiver outside the municipality); nothing is masked by hand at a call site. What is hidden
//! from whom is decided in `lots_core::access`; this module only applies it.

use lots_core::CaseEvent;
use lots_core::OrgNumberKind;
use lots_core::PartyKind;
use lots_core::access::CaseAccess;
pub use lots_core::access::Sight;
use lots_store::entity::case_party;
use serde_json::{Value, json};

use crate::error::ServiceResult;
use crate::record::PartyView;
use crate::stored::stored;
use crate::view::CaseView;

/// Something shown to a caller that may hold protected content.
pub trait Redact {
    /// Hides what `access` does not let the caller see.
    fn redact(&mut self, access: &CaseAccess);
}

impl Redact for CaseView {
    /// A confidential case keeps what the public diary shows: reference, company, area,
    /// department, status and dates; its title reads `[sekretess]` and its description and labels
    /// are gone. A sole trader's number and name are personal data.
    fn redact(&mut self, access: &CaseAccess) {
        if !access.sight.personal && is_personal_org_number(&self.org_number) {
            self.org_number = mask_org_number(&self.org_number);
            self.company_name = REDACTED.to_string();
        }
        if access.hides_content() {
            self.title = CONFIDENTIAL.to_string();
            self.description = String::new();
            self.labels = Vec::new();
        }
    }
}

/// A text of a confidential case (a handoff's message, an answer, a reason) as the caller may
/// see it.
pub fn case_text(access: &CaseAccess, text: String) -> String {
    if access.hides_content() {
        CONFIDENTIAL.to_string()
    } else {
        text
    }
}

/// Whether an organisation number is a sole trader's, that is, a personnummer.
fn is_personal_org_number(org_number: &str) -> bool {
    lots_core::OrgNumber::parse(org_number).is_ok_and(|o| o.kind() == OrgNumberKind::Personal)
}

/// A sole trader's organisation number masked like a personnummer: the date stays.
fn mask_org_number(org_number: &str) -> String {
    format!("{}-****", org_number.get(..6).unwrap_or_default())
}

/// The company of a case as a receiver outside the municipality may see it: nothing of a
/// confidential case's, and for a sole trader (whose organisation number is a personnummer) no
/// number or name, which are personal data. Returns `(org_number, company_name)`.
pub fn outside_company(
    case_confidential: bool,
    org_number: Option<&str>,
    name: Option<&str>,
) -> (Value, Value) {
    if case_confidential {
        return (json!(CONFIDENTIAL), json!(CONFIDENTIAL));
    }
    match org_number {
        Some(o) if is_personal_org_number(o) => (json!(mask_org_number(o)), json!(REDACTED)),
        _ => (json!(org_number), json!(name)),
    }
}

/// An event's data as a receiver outside the municipality may see it: nothing protected, and
/// no company of a confidential case.
pub fn outside_event_data(event: &CaseEvent, case_confidential: bool) -> Value {
    let mut out = redact_event(event, case_confidential, Sight::NONE);
    if case_confidential {
        hide_company(&mut out);
    }
    out
}

fn hide_company(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if matches!(k.as_str(), "org_number" | "company_name") && !val.is_null() {
                    *val = json!(CONFIDENTIAL);
                } else {
                    hide_company(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_company),
        _ => {}
    }
}

/// What replaces personal data for those who may not see it.
pub const REDACTED: &str = "[personuppgift]";
/// What replaces confidential content for those who may not see it.
pub const CONFIDENTIAL: &str = "[sekretess]";

/// The view of a party as `sight` allows.
pub fn party_view(m: case_party::Model, sight: Sight) -> ServiceResult<PartyView> {
    let kind: PartyKind = stored("case_party", m.id, &m.kind)?;
    let person = kind == PartyKind::Person;
    let hide = |v: Option<String>| {
        if sight.personal {
            v
        } else {
            v.map(|_| REDACTED.to_string())
        }
    };
    let roles = crate::stored::party_roles(&m)?;
    Ok(PartyView {
        id: m.id,
        kind,
        org_number: m.org_number,
        personal_number: if sight.personal {
            m.personal_number
        } else {
            m.personal_number.map(|n| mask_personal_number(&n))
        },
        name: if person && !sight.personal {
            REDACTED.to_string()
        } else {
            m.name
        },
        roles,
        email: hide(m.email),
        phone: hide(m.phone),
        address: hide(m.address),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn mask_personal_number(n: &str) -> String {
    match n.get(..8) {
        Some(date) => format!("{date}-****"),
        None => "****".to_string(),
    }
}

/// The keys of an event's data that hold personal data.
const PERSONAL_KEYS: [&str; 4] = ["personal_number", "email", "phone", "address"];
/// The keys of an event's data that hold a case's or record's content.
const CONTENT_KEYS: [&str; 14] = [
    "title",
    "description",
    "text",
    "reason",
    "legal_basis",
    "name",
    "message",
    "response",
    "labels",
    // An FL 12 § request's note.
    "note",
    // A document's hash would confirm a guess of its content.
    "sha256",
    "sign_name",
    "property_designation",
    "address",
];

/// An event's data as `sight` allows: personal data masked, and the content of a confidential
/// case, note or attachment replaced by `[sekretess]`.
pub fn redact_event(event: &CaseEvent, case_confidential: bool, sight: Sight) -> Value {
    redact_event_data(event.data(), case_confidential, sight)
}

/// `redact_event` on an event's data as stored.
pub(crate) fn redact_event_data(mut data: Value, case_confidential: bool, sight: Sight) -> Value {
    let confidential = case_confidential
        || data
            .get("confidential")
            .is_some_and(|c| !c.is_null() && c != &json!(false));
    if !sight.personal {
        redact_personal(&mut data);
    }
    if confidential && !sight.confidential {
        redact_content(&mut data);
    }
    data
}

fn redact_personal(v: &mut Value) {
    // A sole trader's organisation number is a personnummer, and its company name a person's.
    if let Value::Object(map) = v
        && map
            .get("org_number")
            .and_then(Value::as_str)
            .is_some_and(is_personal_org_number)
    {
        if let Some(Value::String(o)) = map.get("org_number").cloned() {
            map.insert("org_number".into(), json!(mask_org_number(&o)));
        }
        if map.get("company_name").is_some_and(|n| !n.is_null()) {
            map.insert("company_name".into(), json!(REDACTED));
        }
    }
    let person = v
        .get("kind")
        .or_else(|| v.get("party_kind"))
        .and_then(Value::as_str)
        == Some("person");
    if let Value::Object(map) = v {
        for (k, val) in map.iter_mut() {
            if PERSONAL_KEYS.contains(&k.as_str()) || (person && k == "name") {
                *val = mask_value(k, val);
            } else if k == "changes" && person {
                if let Value::Object(changes) = val {
                    for (field, change) in changes.iter_mut() {
                        if PERSONAL_KEYS.contains(&field.as_str()) || field == "name" {
                            *change = json!({"from": mask_value(field, &change["from"]), "to": mask_value(field, &change["to"])});
                        }
                    }
                }
            } else if k == "changes" {
                if let Value::Object(changes) = val {
                    for (field, change) in changes.iter_mut() {
                        if PERSONAL_KEYS.contains(&field.as_str()) {
                            *change = json!({"from": mask_value(field, &change["from"]), "to": mask_value(field, &change["to"])});
                        }
                    }
                }
            } else {
                redact_personal(val);
            }
        }
    } else if let Value::Array(items) = v {
        items.iter_mut().for_each(redact_personal);
    }
}

fn mask_value(key: &str, v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) if key == "personal_number" => json!(mask_personal_number(s)),
        _ => json!(REDACTED),
    }
}

fn redact_content(v: &mut Value) {
    if let Value::Object(map) = v {
        for (k, val) in map.iter_mut() {
            if CONTENT_KEYS.contains(&k.as_str()) && !val.is_null() {
                *val = json!(CONFIDENTIAL);
            } else if k == "changes" {
                if let Value::Object(changes) = val {
                    for change in changes.values_mut() {
                        *change = json!({"from": CONFIDENTIAL, "to": CONFIDENTIAL});
                    }
                }
            } else if matches!(k.as_str(), "party" | "premises" | "attachment") {
                *val = json!(CONFIDENTIAL);
            } else {
                redact_content(val);
            }
        }
    }
}
