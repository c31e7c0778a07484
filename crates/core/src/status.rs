//! The case lifecycle of DOMAIN.md and its transition table, and the kinds of decision.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// inkommen
    Received,
    /// under handläggning
    InProgress,
    /// väntar på komplettering
    AwaitingSupplement,
    /// beslutad
    Decided,
    /// avslutad
    Closed,
    /// återkallad
    Withdrawn,
}

crate::text_enum!(CaseStatus, "status", {
    Received => "received",
    InProgress => "in_progress",
    AwaitingSupplement => "awaiting_supplement",
    Decided => "decided",
    Closed => "closed",
    Withdrawn => "withdrawn",
});

impl CaseStatus {
    /// The statuses a case may move to from `self`:
    /// received → in_progress ⇄ awaiting_supplement → decided → closed, and withdrawn from any
    /// open status. A case awaiting a supplement may be decided without it (typically dismissed).
    pub fn successors(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            Received => &[InProgress, Withdrawn],
            InProgress => &[AwaitingSupplement, Decided, Withdrawn],
            AwaitingSupplement => &[InProgress, Decided, Withdrawn],
            Decided => &[Closed],
            Closed | Withdrawn => &[],
        }
    }

    pub fn can_become(self, to: CaseStatus) -> bool {
        self.successors().contains(&to)
    }

    /// Open cases are still being handled: nothing decided, nothing withdrawn.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseStatus::Received | CaseStatus::InProgress | CaseStatus::AwaitingSupplement
        )
    }

    pub fn label_sv(self) -> &'static str {
        match self {
            CaseStatus::Received => "Inkommen",
            CaseStatus::InProgress => "Under handläggning",
            CaseStatus::AwaitingSupplement => "Väntar på komplettering",
            CaseStatus::Decided => "Beslutad",
            CaseStatus::Closed => "Avslutad",
            CaseStatus::Withdrawn => "Återkallad",
        }
    }
}

/// The outcome of a decided case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// bifall
    Approved,
    /// avslag
    Rejected,
    /// avvisning
    Dismissed,
    /// avskrivning
    WrittenOff,
}

crate::text_enum!(Decision, "decision", {
    Approved => "approved",
    Rejected => "rejected",
    Dismissed => "dismissed",
    WrittenOff => "written_off",
});

#[cfg(test)]
mod tests {
    use super::CaseStatus::{self, *};

    #[test]
    fn the_transition_table_is_the_one_of_the_domain() {
        let allowed = [
            (Received, InProgress),
            (Received, Withdrawn),
            (InProgress, AwaitingSupplement),
            (InProgress, Decided),
            (InProgress, Withdrawn),
            (AwaitingSupplement, InProgress),
            (AwaitingSupplement, Decided),
            (AwaitingSupplement, Withdrawn),
            (Decided, Closed),
        ];
        for from in CaseStatus::ALL {
            for to in CaseStatus::ALL {
                assert_eq!(
                    from.can_become(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn terminal_states_go_nowhere_and_only_open_states_can_be_withdrawn() {
        assert!(Closed.successors().is_empty());
        assert!(Withdrawn.successors().is_empty());
        for s in CaseStatus::ALL {
            assert_eq!(s.can_become(Withdrawn), s.is_open(), "{s}");
        }
    }
}
