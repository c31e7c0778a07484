//! What one case contributes to the rollups (`metric_fact`): the cell it counts in and its
//! figures, from its metric record.

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::calendar::working_days_between;

use crate::compute::{date, month};
use crate::records::CaseRecord;

/// A rollup cell: department (the case's owner now) × area × channel × the Stockholm months the
/// case was received and decided (`""` while it is open).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub department: String,
    pub area: String,
    pub channel: String,
    pub received_month: String,
    pub decided_month: String,
}

/// A duration three ways: elapsed seconds, Swedish working days and whole calendar days
/// between the Stockholm dates (the later counted, the earlier not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub seconds: i64,
    pub working: i64,
    pub days: i64,
}

impl Span {
    /// From `from` to `to`; never negative.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let (a, b) = (date(from), date(to));
        Self {
            seconds: (to - from).num_seconds().max(0),
            working: working_days_between(a, b).max(0),
            days: (b - a).num_days().max(0),
        }
    }

    /// In (fractional) weeks, as the linkage measures lead time.
    pub fn weeks(&self) -> f64 {
        self.seconds as f64 / (7.0 * 86_400.0)
    }
}

/// A decided case's survey answer: its NKI and the factor indices it rated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    pub nki: f64,
    pub factors: [Option<f64>; 6],
}

/// One case's contribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub case_id: i64,
    pub cell: Cell,
    /// Received, in milliseconds since the Unix epoch.
    pub received_ms: i64,
    /// Received → decided.
    pub lead: Option<Span>,
    /// Complete application → decided (the statutory clock).
    pub statutory: Option<Span>,
    /// The answer of a decided case.
    pub answer: Option<Answer>,
    /// Received → complete application, open or decided.
    pub to_complete: Option<Span>,
    pub due_date: Option<NaiveDate>,
    /// A decided case with a due date: decided on or before it (the Stockholm date).
    pub on_time: Option<bool>,
}

impl Fact {
    pub fn of(c: &CaseRecord) -> Self {
        let decided = c.decided_at;
        Self {
            case_id: c.id,
            cell: Cell {
                department: c.department.to_string(),
                area: c.area.to_string(),
                channel: c.channel.to_string(),
                received_month: month(c.received_at),
                decided_month: decided.map(month).unwrap_or_default(),
            },
            received_ms: c.received_at.timestamp_millis(),
            lead: decided.map(|d| Span::between(c.received_at, d)),
            statutory: decided
                .zip(c.complete_at)
                .map(|(d, start)| Span::between(start, d)),
            answer: decided.and(c.survey.as_ref()).map(|s| Answer {
                nki: s.nki,
                factors: s.factors,
            }),
            to_complete: c
                .complete_at
                .map(|complete| Span::between(c.received_at, complete)),
            due_date: c.due_date,
            on_time: decided.zip(c.due_date).map(|(d, due)| date(d) <= due),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_span_counts_stockholm_dates_and_working_days() {
        // Friday 23:30 UTC is Saturday in Stockholm; Monday 07:00 UTC is Monday.
        let from = Utc.with_ymd_and_hms(2026, 3, 6, 23, 30, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 3, 9, 7, 0, 0).unwrap();
        let s = Span::between(from, to);
        assert_eq!(s.seconds, 2 * 86_400 + 7 * 3_600 + 30 * 60);
        assert_eq!(s.days, 2);
        assert_eq!(s.working, 1);
        // Backwards is nothing, not negative.
        assert_eq!(Span::between(to, from).seconds, 0);
    }
}
