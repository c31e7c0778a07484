//! The durations a case has many of (`metric_span`, migration 19): its stays in each status, its
//! handoffs' time in queue and at work, and while it is open the time its owner has held it.
//! Each is either ended (its length) or running (the instant it started: a reader measures it up
//! to now). Time in state and the bottlenecks are computed from them, in memory or from the
//! rollups, by the same code.

use chrono::{DateTime, Utc};

use crate::records::CaseRecord;
use crate::rollup::fact::Span;

/// What a span measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A stay in a status that has ended (the case moved on).
    Stay = 0,
    /// A handoff from its request to its acceptance (or its closing).
    Queue = 1,
    /// An accepted handoff at work, up to its completion (or its closing).
    Work = 2,
    /// An open case held by the department that owns it, since receipt or the transfer that
    /// gave it the case.
    Held = 3,
    /// An answered, decided case's time with one department (`to`): the intervals it owned the
    /// case or had a consultation or contact about it open, up to the decision, summed. One per
    /// department the case passed through (the linkage's attribution and departments involved).
    Passage = 4,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Stay,
        Kind::Queue,
        Kind::Work,
        Kind::Held,
        Kind::Passage,
    ];

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i16) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// What is measured, beyond the case's cell: the kind and its subject (`""` where the kind has
/// none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Measured {
    pub kind: Kind,
    /// A stay's status.
    pub status: String,
    /// A handoff's departments and kind.
    pub from: String,
    pub to: String,
    pub handoff_kind: String,
}

impl Measured {
    fn stay(status: &str) -> Self {
        Self {
            kind: Kind::Stay,
            status: status.to_string(),
            from: String::new(),
            to: String::new(),
            handoff_kind: String::new(),
        }
    }

    fn passage(department: &str) -> Self {
        Self {
            kind: Kind::Passage,
            status: String::new(),
            from: String::new(),
            to: department.to_string(),
            handoff_kind: String::new(),
        }
    }

    fn handoff(kind: Kind, h: &crate::records::HandoffRecord) -> Self {
        Self {
            kind,
            status: String::new(),
            from: h.from.to_string(),
            to: h.to.to_string(),
            handoff_kind: h.kind.to_string(),
        }
    }
}

/// Ended, or running since an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Ended(Span),
    Running(DateTime<Utc>),
}

impl Length {
    fn between(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Self {
        match to {
            Some(to) => Length::Ended(Span::between(from, to)),
            None => Length::Running(from),
        }
    }

    /// Its length now: a running span measured up to `now`.
    pub fn at(&self, now: DateTime<Utc>) -> Span {
        match self {
            Length::Ended(s) => *s,
            Length::Running(since) => Span::between(*since, now),
        }
    }
}

/// One duration of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSpan {
    pub measured: Measured,
    pub length: Length,
}

/// Every span of a case, in a stable order (its stays, its handoffs' queue and work, its
/// holding): the `seq` of its rows.
pub fn spans_of(c: &CaseRecord) -> Vec<CaseSpan> {
    let mut out = Vec::new();
    let (mut status, mut since) = ("received", c.received_at);
    for (at, to) in &c.status_changes {
        out.push(CaseSpan {
            measured: Measured::stay(status),
            length: Length::Ended(Span::between(since, *at)),
        });
        status = to;
        since = *at;
    }
    for h in &c.handoffs {
        out.push(CaseSpan {
            measured: Measured::handoff(Kind::Queue, h),
            length: Length::between(h.requested_at, h.accepted_at.or(h.closed_at)),
        });
        if let Some(accepted) = h.accepted_at {
            out.push(CaseSpan {
                measured: Measured::handoff(Kind::Work, h),
                length: Length::between(accepted, h.completed_at.or(h.closed_at)),
            });
        }
    }
    if let (Some(decided), Some(_)) = (c.decided_at, &c.survey) {
        out.extend(passages(c, decided));
    }
    if c.is_open() {
        let since = c.owners.last().map_or(c.received_at, |(_, t)| *t);
        out.push(CaseSpan {
            measured: Measured {
                kind: Kind::Held,
                status: String::new(),
                from: String::new(),
                to: String::new(),
                handoff_kind: String::new(),
            },
            length: Length::Running(since),
        });
    }
    out
}

/// A decided case's time with each department it passed through (its owners, every department
/// that accepted a handoff about it, its owner now): the intervals that department owned it, and
/// its consultations and contacts about it (whatever became of them) until they ended, each cut
/// at the decision, summed; a department with none has a span of no length.
fn passages(c: &CaseRecord, decided: DateTime<Utc>) -> Vec<CaseSpan> {
    c.department_codes()
        .into_iter()
        .map(|d| {
            let mut spans: Vec<Span> = Vec::new();
            for (i, (owner, from)) in c.owners.iter().enumerate() {
                if owner == d {
                    let to = c.owners.get(i + 1).map_or(decided, |(_, t)| *t);
                    spans.push(Span::between(*from, to.min(decided)));
                }
            }
            for h in c
                .handoffs
                .iter()
                .filter(|h| h.to == d && h.kind != lots_core::HandoffKind::Transfer.as_str())
            {
                let end = h.completed_at.or(h.closed_at).unwrap_or(decided);
                spans.push(Span::between(h.requested_at, end.min(decided)));
            }
            let total = spans.iter().fold(
                Span {
                    seconds: 0,
                    working: 0,
                    days: 0,
                },
                |a, s| Span {
                    seconds: a.seconds + s.seconds,
                    working: a.working + s.working,
                    days: a.days + s.days,
                },
            );
            CaseSpan {
                measured: Measured::passage(d),
                length: Length::Ended(total),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::HandoffRecord;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn an_answered_decided_case_has_one_passage_per_department_it_passed_through() {
        let handoff =
            |kind: &str, to: &str, from: DateTime<Utc>, end: Option<DateTime<Utc>>| HandoffRecord {
                kind: kind.into(),
                from: "SBF".into(),
                to: to.into(),
                status: "completed".into(),
                requested_at: from,
                accepted_at: Some(from),
                completed_at: end,
                closed_at: None,
            };
        let mut c = CaseRecord {
            id: 2,
            reference: "BN 2026/0002".into(),
            area: "building_permit".into(),
            case_type: None,
            department: "SBF".into(),
            channel: "officer".into(),
            status: "decided".into(),
            received_at: t(2, 9),
            complete_at: None,
            decided_at: Some(t(20, 9)),
            due_date: None,
            owners: vec![("SBF".into(), t(2, 9))],
            // Two consultations of MF (one still open at the decision: cut there).
            handoffs: vec![
                handoff("consultation", "MF", t(3, 9), Some(t(5, 9))),
                handoff("consultation", "MF", t(18, 9), None),
            ],
            survey: None,
            status_changes: Vec::new(),
        };
        // Not answered: no passages.
        assert!(
            spans_of(&c)
                .iter()
                .all(|s| s.measured.kind != Kind::Passage)
        );
        c.survey = Some(crate::records::SurveyRecord {
            nki: 70.0,
            factors: [None; 6],
        });
        let passages: Vec<(String, i64)> = spans_of(&c)
            .into_iter()
            .filter(|s| s.measured.kind == Kind::Passage)
            .map(|s| (s.measured.to, s.length.at(t(30, 9)).seconds))
            .collect();
        let day = 86_400;
        assert_eq!(
            passages,
            [("MF".to_string(), 4 * day), ("SBF".to_string(), 18 * day)]
        );
    }

    #[test]
    fn a_case_has_its_stays_handoffs_and_holding() {
        let c = CaseRecord {
            id: 1,
            reference: "BN 2026/0001".into(),
            area: "building_permit".into(),
            case_type: None,
            department: "MF".into(),
            channel: "officer".into(),
            status: "in_progress".into(),
            received_at: t(2, 9),
            complete_at: None,
            decided_at: None,
            due_date: None,
            owners: vec![("SBF".into(), t(2, 9)), ("MF".into(), t(10, 9))],
            handoffs: vec![
                HandoffRecord {
                    kind: "transfer".into(),
                    from: "SBF".into(),
                    to: "MF".into(),
                    status: "completed".into(),
                    requested_at: t(5, 9),
                    accepted_at: Some(t(10, 9)),
                    completed_at: Some(t(10, 9)),
                    closed_at: None,
                },
                HandoffRecord {
                    kind: "consultation".into(),
                    from: "MF".into(),
                    to: "RTJ".into(),
                    status: "requested".into(),
                    requested_at: t(11, 9),
                    accepted_at: None,
                    completed_at: None,
                    closed_at: None,
                },
            ],
            survey: None,
            status_changes: vec![(t(3, 9), "in_progress".into())],
        };
        let spans = spans_of(&c);
        let kinds: Vec<(Kind, &str)> = spans
            .iter()
            .map(|s| (s.measured.kind, s.measured.to.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (Kind::Stay, ""),
                (Kind::Queue, "MF"),
                (Kind::Work, "MF"),
                (Kind::Queue, "RTJ"),
                (Kind::Held, ""),
            ]
        );
        assert_eq!(spans[0].measured.status, "received");
        assert_eq!(
            spans[0].length,
            Length::Ended(Span::between(t(2, 9), t(3, 9)))
        );
        assert_eq!(spans[1].length.at(t(30, 9)).days, 5);
        // Running: measured up to now.
        assert_eq!(spans[3].length, Length::Running(t(11, 9)));
        assert_eq!(spans[3].length.at(t(13, 9)).days, 2);
        // Held by its owner since the transfer.
        assert_eq!(spans[4].length, Length::Running(t(10, 9)));
    }
}
