//! What one case contributes to the rollups (`metric_fact`): the cell it counts in and its
//! figures, from its metric record.

use chrono::{DateTime, NaiveDate, Utc};
use lots_core::calendar::working_days_between;

use crate::compute::{date, month};
use crate::records::CaseRecord;
use crate::rollup::span::{CaseSpan, Kind, spans_of};

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
    /// An answered, decided case: how many handoffs it had and how many departments it passed
    /// through (its spans of kind `Queue` and `Passage`), the linkage's buckets.
    pub handoffs: Option<i64>,
    pub departments: Option<i64>,
    /// The case's place in a fixed pseudo-random order: the linkage's bounded sample is the
    /// first answered cases of each area in it.
    pub sample: i64,
    /// The decision, in milliseconds since the Unix epoch.
    pub decided_ms: Option<i64>,
    /// Still being handled (received, in progress or awaiting a supplement).
    pub open: bool,
}

/// A case id's place in the sample order: SplitMix64's finaliser of the id, as a non-negative
/// number (so that both databases order it alike).
pub fn sample_of(case_id: i64) -> i64 {
    let mut z = (case_id as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 1) as i64
}

impl Fact {
    pub fn of(c: &CaseRecord) -> Self {
        Self::with_spans(c, &spans_of(c))
    }

    /// The fact of `c`, whose spans are `spans`.
    pub fn with_spans(c: &CaseRecord, spans: &[CaseSpan]) -> Self {
        let decided = c.decided_at;
        let answer = decided.and(c.survey.as_ref()).map(|s| Answer {
            nki: s.nki,
            factors: s.factors,
        });
        let count = |kind: Kind| {
            answer.map(|_| spans.iter().filter(|s| s.measured.kind == kind).count() as i64)
        };
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
            answer,
            to_complete: c
                .complete_at
                .map(|complete| Span::between(c.received_at, complete)),
            due_date: c.due_date,
            on_time: decided.zip(c.due_date).map(|(d, due)| date(d) <= due),
            handoffs: count(Kind::Queue),
            departments: count(Kind::Passage),
            sample: sample_of(c.id),
            decided_ms: decided.map(|d| d.timestamp_millis()),
            open: c.is_open(),
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

    #[test]
    fn the_sample_order_is_fixed_non_negative_and_scrambled() {
        let keys: Vec<i64> = (1..=1_000).map(sample_of).collect();
        assert!(keys.iter().all(|k| *k >= 0));
        assert_eq!(sample_of(1), keys[0]);
        // Not the ids' order: about half of neighbours are out of order.
        let descents = keys.windows(2).filter(|w| w[0] > w[1]).count();
        assert!((400..600).contains(&descents), "{descents}");
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
    }
}
