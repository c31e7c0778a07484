//! The plain records metrics compute on, whatever their source (the store, a fixture, a
//! benchmark's generator).

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct HandoffRecord {
    pub kind: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Declined or cancelled at.
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SurveyRecord {
    pub nki: f64,
    pub factors: [Option<f64>; 6],
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: i64,
    pub reference: String,
    pub area: String,
    pub case_type: Option<String>,
    /// The department that owns the case now.
    pub department: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    /// When the statutory clock started (complete application).
    pub complete_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    /// Who owned the case from when: the first owner from receipt, then each accepted transfer.
    pub owners: Vec<(String, DateTime<Utc>)>,
    pub handoffs: Vec<HandoffRecord>,
    pub survey: Option<SurveyRecord>,
    /// The status changes of its history, in order: when, and to which status.
    pub status_changes: Vec<(DateTime<Utc>, String)>,
}

impl CaseRecord {
    pub fn is_open(&self) -> bool {
        matches!(
            self.status.as_str(),
            "received" | "in_progress" | "awaiting_supplement"
        )
    }

    /// The departments the case passed through, borrowed: its owners and every department
    /// that accepted a handoff about it.
    pub fn department_codes(&self) -> Vec<&str> {
        let mut d: Vec<&str> = self.owners.iter().map(|(o, _)| o.as_str()).collect();
        d.extend(
            self.handoffs
                .iter()
                .filter(|h| h.accepted_at.is_some())
                .map(|h| h.to.as_str()),
        );
        d.push(&self.department);
        d.sort_unstable();
        d.dedup();
        d
    }

    /// The departments the case passed through: its owners and every department it consulted
    /// or contacted.
    pub fn departments(&self) -> Vec<String> {
        let mut d: Vec<String> = self.owners.iter().map(|(o, _)| o.clone()).collect();
        d.extend(
            self.handoffs
                .iter()
                .filter(|h| h.accepted_at.is_some())
                .map(|h| h.to.clone()),
        );
        d.push(self.department.clone());
        d.sort();
        d.dedup();
        d
    }
}
