//! The plain records metrics compute on, whatever their source (the store, a fixture, a
//! benchmark's generator).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::CaseStatus;

/// A short code that many records share (a department, an area, a status, a handoff kind): one
/// allocation per distinct value when the loader interns it, so that metrics over a million
/// records compare codes that sit in cache rather than a million scattered copies.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(Arc<str>);

impl Code {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for Code {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Code {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// Hands out one shared `Code` per distinct value.
#[derive(Default)]
pub struct Interner(std::collections::HashMap<String, Code>);

impl Interner {
    pub fn code(&mut self, s: &str) -> Code {
        if let Some(c) = self.0.get(s) {
            return c.clone();
        }
        let c = Code::from(s);
        self.0.insert(s.to_string(), c.clone());
        c
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandoffRecord {
    pub kind: Code,
    pub from: Code,
    pub to: Code,
    pub status: Code,
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
    pub area: Code,
    pub case_type: Option<Code>,
    /// The department that owns the case now.
    pub department: Code,
    /// How the case came in: `officer`, `e-service` or `import`.
    pub channel: Code,
    pub status: Code,
    pub received_at: DateTime<Utc>,
    /// When the statutory clock started (complete application).
    pub complete_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    /// Who owned the case from when: the first owner from receipt, then each accepted transfer.
    pub owners: Vec<(Code, DateTime<Utc>)>,
    pub handoffs: Vec<HandoffRecord>,
    pub survey: Option<SurveyRecord>,
    /// The status changes of its history, in order: when, and to which status.
    pub status_changes: Vec<(DateTime<Utc>, Code)>,
}

impl CaseRecord {
    pub fn is_open(&self) -> bool {
        self.status
            .parse::<CaseStatus>()
            .is_ok_and(CaseStatus::is_open)
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
}
