//! One entry of a case's history with what it carries: [`CaseEvent`] is the one type every
//! writer of `case_event` builds (the live services and the import) and every reader parses
//! (history, deadlines, webhooks). The stored row is `kind` and `data`; `data` is the payload of
//! the kind's variant, serialized by serde, so a key cannot be misspelt at one end and missed at
//! the other, and a row whose data does not fit its kind is an error, not a silent default.
//!
//! Fields that every writer has always written are plain; a field that one writer leaves out
//! (the import knows less than the live service) is an `Option`, written as `null` where it is
//! not known, except the import's own markers (`imported`, `handoff_key`, `ownership_moved`),
//! which are left out where they do not apply.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Area, AttachmentCategory, CaseStatus, Decision, EventKind, HandoffKind, NoteVisibility,
    PartyKind, PartyRole, PremisesType, Priority,
};

/// A field's change: what it was and what it became. The values are the field's own JSON (a
/// text, a list of labels, a decision's legal basis…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub from: Value,
    pub to: Value,
}

impl Change {
    pub fn new(from: impl Serialize, to: impl Serialize) -> Self {
        // Values of plain data (texts, numbers, lists, dates) always serialize.
        Change {
            from: serde_json::to_value(from).unwrap_or(Value::Null),
            to: serde_json::to_value(to).unwrap_or(Value::Null),
        }
    }
}

/// The changed fields of an update, by name.
pub type Changes = BTreeMap<String, Change>;

/// `created`: how a case came into the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Created {
    /// Registered in Lots (by an officer or through an e-service).
    Registered(Box<Registered>),
    /// Brought over from an earlier system by the import.
    Imported(Imported),
}

/// A case as it was registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub reference: String,
    pub org_number: String,
    pub company_name: String,
    pub area: Area,
    pub case_type: Option<String>,
    pub title: String,
    pub department: String,
    pub assignee: Option<String>,
    pub received_at: DateTime<Utc>,
    pub priority: Priority,
    pub labels: Vec<String>,
    /// The statute a case registered as confidential was marked with.
    pub confidential: Option<String>,
    /// `officer` or `e-service`.
    #[serde(default)]
    pub channel: Option<String>,
}

/// A case as the import brought it over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub imported: bool,
    pub reference: String,
}

/// `updated`: the case's own fields that changed (title, description, assignee, priority,
/// labels, confidential).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Updated {
    pub changes: Changes,
}

/// `status_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChanged {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub reason: Option<String>,
    pub decision: Option<Decision>,
}

/// `note_added`. The import writes neither visibility nor secrecy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub note_id: i64,
    pub text: Option<String>,
    #[serde(default)]
    pub visibility: Option<NoteVisibility>,
    /// The statute a confidential note was marked with.
    #[serde(default)]
    pub confidential: Option<String>,
}

/// A party as it stood when an event was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub kind: PartyKind,
    pub org_number: Option<String>,
    pub personal_number: Option<String>,
    pub name: String,
    pub roles: Vec<PartyRole>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// `party_added` and `party_removed`: the party as it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartySnapshot {
    pub party_id: i64,
    pub party_kind: PartyKind,
    pub party: Party,
}

/// `party_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyChanged {
    pub party_id: i64,
    pub party_kind: PartyKind,
    pub changes: Changes,
}

/// Premises as they stood when an event was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Premises {
    pub property_designation: String,
    pub address: Option<String>,
    pub sign_name: Option<String>,
    pub premises_type: Option<PremisesType>,
    pub main: bool,
}

/// `premises_added` and `premises_removed`: the premises as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PremisesSnapshot {
    pub premises_id: i64,
    pub premises: Premises,
}

/// `premises_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PremisesChanged {
    pub premises_id: i64,
    pub changes: Changes,
}

/// `attachment_added`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentAdded {
    pub attachment_id: i64,
    pub name: String,
    pub category: AttachmentCategory,
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    /// The statute a confidential document was marked with.
    pub confidential: Option<String>,
}

/// `attachment_deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentDeleted {
    pub attachment_id: i64,
    pub name: String,
    pub sha256: String,
    pub reason: Option<String>,
    pub confidential: Option<String>,
}

/// `decision_registered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRegistered {
    pub decision_id: i64,
    pub outcome: Decision,
    /// A list of `{sfs, chapter, section}`.
    pub legal_basis: Value,
    pub text: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// `decision_corrected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionCorrected {
    pub decision_id: i64,
    /// The decision it corrects.
    pub corrects_id: Option<i64>,
    pub reason: String,
    pub changes: Changes,
}

/// `supplement_requested`. The import has no request row when the file names no officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplementRequested {
    pub request_id: Option<i64>,
    pub message: Option<String>,
}

/// `supplement_received`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplementReceived {
    pub request_id: i64,
}

/// `deadline_extended` (FL 11 §: once, by at most as long as the deadline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineExtended {
    pub weeks: u32,
    pub reason: Option<String>,
    #[serde(default)]
    pub previous_due_date: Option<NaiveDate>,
}

/// `decision_requested` (FL 12 §).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequested {
    pub note: Option<String>,
}

/// Which handoff a step belongs to: its id in Lots, or the import file's key for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_key: Option<String>,
    pub handoff_kind: HandoffKind,
    pub from_department: Option<String>,
    pub to_department: Option<String>,
}

/// A step of a handoff: which handoff, and what the step carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffStep<T> {
    #[serde(flatten)]
    pub handoff: HandoffRef,
    #[serde(flatten)]
    pub step: T,
}

/// `handoff_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requested {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

/// `handoff_accepted`: nothing more.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accepted {}

/// `handoff_completed`: the answer, or that a transfer moved the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completed {
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_moved: Option<bool>,
}

/// `handoff_declined` and `handoff_cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `bundle_added` and `bundle_removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleChange {
    pub bundle_id: i64,
    pub title: String,
}

/// `message_sent` and `message_received`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub text: String,
}

macro_rules! case_events {
    ($($variant:ident($payload:ty)),+ $(,)?) => {
        /// What happened to a case, with what it carries: one variant a kind.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "data", rename_all = "snake_case")]
        pub enum CaseEvent {
            $($variant($payload)),+
        }

        impl CaseEvent {
            /// The event's kind, as stored in `case_event.kind`.
            pub fn kind(&self) -> EventKind {
                match self {
                    $(CaseEvent::$variant(_) => EventKind::$variant),+
                }
            }

            /// The event's data, as stored in `case_event.data`.
            pub fn data(&self) -> Value {
                // Every payload is plain data: serializing it cannot fail.
                match self {
                    $(CaseEvent::$variant(p) => serde_json::to_value(p)),+
                }
                .unwrap_or(Value::Null)
            }

            /// The event's data as JSON text (the import's `COPY` writes it so).
            pub fn data_text(&self) -> String {
                match self {
                    $(CaseEvent::$variant(p) => serde_json::to_string(p)),+
                }
                .unwrap_or_else(|_| "null".to_string())
            }

            /// The event a stored row holds: its kind and its data, which must fit the kind.
            pub fn from_stored(kind: EventKind, data: Value) -> Result<Self, serde_json::Error> {
                Self::read(kind, &data)
            }

            /// `from_stored` from the data as borrowed (nothing of it is copied that the
            /// payload does not keep).
            pub fn read(kind: EventKind, data: &Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    $(EventKind::$variant => {
                        CaseEvent::$variant(<$payload as Deserialize>::deserialize(data)?)
                    }),+
                })
            }
        }
    };
}

case_events! {
    Created(Created),
    Updated(Updated),
    StatusChanged(StatusChanged),
    NoteAdded(NoteAdded),
    PartyAdded(PartySnapshot),
    PartyChanged(PartyChanged),
    PartyRemoved(PartySnapshot),
    PremisesAdded(PremisesSnapshot),
    PremisesChanged(PremisesChanged),
    PremisesRemoved(PremisesSnapshot),
    AttachmentAdded(AttachmentAdded),
    AttachmentDeleted(AttachmentDeleted),
    DecisionRegistered(DecisionRegistered),
    DecisionCorrected(DecisionCorrected),
    SupplementRequested(SupplementRequested),
    SupplementReceived(SupplementReceived),
    DeadlineExtended(DeadlineExtended),
    DecisionRequested(DecisionRequested),
    HandoffRequested(HandoffStep<Requested>),
    HandoffAccepted(HandoffStep<Accepted>),
    HandoffCompleted(HandoffStep<Completed>),
    HandoffDeclined(HandoffStep<Closed>),
    HandoffCancelled(HandoffStep<Closed>),
    BundleAdded(BundleChange),
    BundleRemoved(BundleChange),
    MessageSent(Message),
    MessageReceived(Message),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(e: &CaseEvent) -> CaseEvent {
        CaseEvent::from_stored(e.kind(), e.data()).expect("an event reads back as written")
    }

    #[test]
    fn every_kind_has_one_variant() {
        // The macro maps each variant to the kind of the same name; this checks that no kind
        // is without a variant by parsing one stored row of each.
        let samples = [
            (
                EventKind::Created,
                json!({"imported": true, "reference": "BN 2020/1"}),
            ),
            (
                EventKind::Updated,
                json!({"changes": {"title": {"from": "a", "to": "b"}}}),
            ),
            (
                EventKind::StatusChanged,
                json!({"from": "received", "to": "in_progress", "reason": null, "decision": null}),
            ),
            (
                EventKind::NoteAdded,
                json!({"note_id": 1, "text": "x", "visibility": "internal", "confidential": null}),
            ),
            (
                EventKind::HandoffAccepted,
                json!({"handoff_id": 3, "handoff_kind": "consultation", "from_department": "BN", "to_department": "MHN"}),
            ),
            (EventKind::SupplementReceived, json!({"request_id": 4})),
            (
                EventKind::MessageSent,
                json!({"message_id": 2, "text": "Hej"}),
            ),
        ];
        for (kind, data) in samples {
            let e = CaseEvent::from_stored(kind, data.clone()).unwrap();
            assert_eq!(e.kind(), kind);
            assert_eq!(e.data(), data, "{kind}");
        }
        assert_eq!(EventKind::ALL.len(), 27);
    }

    #[test]
    fn a_registered_and_an_imported_case_read_back_as_what_they_were() {
        let registered = json!({
            "reference": "BN 2026/0001", "org_number": "556012-5790", "company_name": "Exempel AB",
            "area": "building_permit", "case_type": null, "title": "Bygglov", "department": "BN",
            "assignee": null, "received_at": "2026-11-02T09:00:00Z", "priority": "normal",
            "labels": [], "confidential": null, "channel": "officer"
        });
        let e = CaseEvent::from_stored(EventKind::Created, registered.clone()).unwrap();
        assert!(matches!(&e, CaseEvent::Created(Created::Registered(r)) if r.department == "BN"));
        assert_eq!(e.data(), registered);
        let imported = json!({"imported": true, "reference": "BN 2019/0007"});
        let e = CaseEvent::from_stored(EventKind::Created, imported.clone()).unwrap();
        assert!(matches!(&e, CaseEvent::Created(Created::Imported(_))));
        assert_eq!(round_trip(&e).data(), imported);
    }

    #[test]
    fn data_that_does_not_fit_its_kind_is_an_error() {
        for (kind, data) in [
            (
                EventKind::StatusChanged,
                json!({"from": "received", "to": "bygglov"}),
            ),
            (EventKind::SupplementReceived, json!({})),
            (EventKind::NoteAdded, json!("text")),
            (EventKind::Created, json!({"reference": "BN 2026/0001"})),
            (
                EventKind::HandoffRequested,
                json!({"handoff_id": 1, "handoff_kind": "advice"}),
            ),
        ] {
            assert!(
                CaseEvent::from_stored(kind, data.clone()).is_err(),
                "{kind} {data}"
            );
        }
    }

    #[test]
    fn a_handoff_step_writes_its_handoff_and_its_own_fields_side_by_side() {
        let e = CaseEvent::HandoffCompleted(HandoffStep {
            handoff: HandoffRef {
                handoff_id: Some(9),
                handoff_key: None,
                handoff_kind: HandoffKind::Transfer,
                from_department: Some("BN".into()),
                to_department: Some("MHN".into()),
            },
            step: Completed {
                response: None,
                ownership_moved: Some(true),
            },
        });
        assert_eq!(
            e.data(),
            json!({"handoff_id": 9, "handoff_kind": "transfer", "from_department": "BN",
                "to_department": "MHN", "response": null, "ownership_moved": true})
        );
        assert_eq!(round_trip(&e), e);
        assert_eq!(
            serde_json::from_str::<Value>(&e.data_text()).unwrap(),
            e.data()
        );
    }
}
