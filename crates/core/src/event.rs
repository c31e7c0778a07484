//! The kinds of entry in a case's history (`case_event.kind`), and the kinds and statuses of a
//! handoff between departments. Every writer names a kind through these types and every reader
//! matches on them, so a kind cannot be misspelt at one end and missed at the other.

use serde::{Deserialize, Serialize};

/// What happened to a case: the `kind` of one entry of its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Registered (or imported).
    Created,
    /// Title, description, assignee, priority, labels or secrecy changed.
    Updated,
    StatusChanged,
    NoteAdded,
    PartyAdded,
    PartyChanged,
    PartyRemoved,
    PremisesAdded,
    PremisesChanged,
    PremisesRemoved,
    AttachmentAdded,
    AttachmentDeleted,
    DecisionRegistered,
    DecisionCorrected,
    SupplementRequested,
    SupplementReceived,
    DeadlineExtended,
    /// The applicant asked for the case to be decided (FL 12 §).
    DecisionRequested,
    HandoffRequested,
    HandoffAccepted,
    HandoffCompleted,
    HandoffDeclined,
    HandoffCancelled,
    BundleAdded,
    BundleRemoved,
    /// The department wrote to the company.
    MessageSent,
    /// The company wrote to the department.
    MessageReceived,
}

crate::text_enum!(EventKind, "event kind", {
    Created => "created",
    Updated => "updated",
    StatusChanged => "status_changed",
    NoteAdded => "note_added",
    PartyAdded => "party_added",
    PartyChanged => "party_changed",
    PartyRemoved => "party_removed",
    PremisesAdded => "premises_added",
    PremisesChanged => "premises_changed",
    PremisesRemoved => "premises_removed",
    AttachmentAdded => "attachment_added",
    AttachmentDeleted => "attachment_deleted",
    DecisionRegistered => "decision_registered",
    DecisionCorrected => "decision_corrected",
    SupplementRequested => "supplement_requested",
    SupplementReceived => "supplement_received",
    DeadlineExtended => "deadline_extended",
    DecisionRequested => "decision_requested",
    HandoffRequested => "handoff_requested",
    HandoffAccepted => "handoff_accepted",
    HandoffCompleted => "handoff_completed",
    HandoffDeclined => "handoff_declined",
    HandoffCancelled => "handoff_cancelled",
    BundleAdded => "bundle_added",
    BundleRemoved => "bundle_removed",
    MessageSent => "message_sent",
    MessageReceived => "message_received",
});

impl EventKind {
    /// A step of a handoff between departments.
    pub fn is_handoff(self) -> bool {
        matches!(
            self,
            EventKind::HandoffRequested
                | EventKind::HandoffAccepted
                | EventKind::HandoffCompleted
                | EventKind::HandoffDeclined
                | EventKind::HandoffCancelled
        )
    }
}

/// What a handoff asks of the receiving department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffKind {
    /// överlämning: responsibility moves once the receiver accepts.
    Transfer,
    /// remiss, samråd: an opinion is asked for, perhaps by a date.
    Consultation,
    /// kontakt: for information only.
    Contact,
}

crate::text_enum!(HandoffKind, "handoff kind", {
    Transfer => "transfer",
    Consultation => "consultation",
    Contact => "contact",
});

/// Where a handoff stands: requested → accepted → completed, or declined / cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffStatus {
    Requested,
    Accepted,
    Completed,
    Declined,
    Cancelled,
}

crate::text_enum!(HandoffStatus, "handoff status", {
    Requested => "requested",
    Accepted => "accepted",
    Completed => "completed",
    Declined => "declined",
    Cancelled => "cancelled",
});

impl HandoffStatus {
    /// Still waiting on the receiving department: requested or accepted.
    pub fn is_open(self) -> bool {
        matches!(self, HandoffStatus::Requested | HandoffStatus::Accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr + Serialize,
        T: for<'de> Deserialize<'de> + std::fmt::Display,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let text = v.to_string();
            assert_eq!(text.parse::<T>().unwrap(), *v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text));
            assert_eq!(
                serde_json::from_value::<T>(serde_json::json!(text)).unwrap(),
                *v
            );
        }
    }

    #[test]
    fn event_kinds_round_trip_through_text_and_serde() {
        round_trips(EventKind::ALL);
        assert_eq!(EventKind::StatusChanged.as_str(), "status_changed");
        assert_eq!(EventKind::ALL.len(), 27);
    }

    #[test]
    fn handoff_kinds_and_statuses_round_trip() {
        round_trips(HandoffKind::ALL);
        round_trips(HandoffStatus::ALL);
        let open: Vec<_> = HandoffStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [&HandoffStatus::Requested, &HandoffStatus::Accepted]);
    }

    #[test]
    fn unknown_values_are_errors_that_name_the_choices() {
        let err = "status_change".parse::<EventKind>().unwrap_err();
        assert_eq!(err.kind, "event kind");
        assert!(err.expected.contains("status_changed"), "{err}");
        let err = "remiss".parse::<HandoffKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown handoff kind `remiss`; expected one of: transfer, consultation, contact"
        );
        assert!("pending".parse::<HandoffStatus>().is_err());
        assert!("".parse::<EventKind>().is_err());
        assert!(serde_json::from_value::<HandoffStatus>(serde_json::json!("Requested")).is_err());
    }

    #[test]
    fn handoff_kinds_are_exactly_the_handoff_steps() {
        let steps: Vec<_> = EventKind::ALL.iter().filter(|k| k.is_handoff()).collect();
        assert_eq!(steps.len(), 5);
        assert!(steps.iter().all(|k| k.as_str().starts_with("handoff_")));
    }
}
