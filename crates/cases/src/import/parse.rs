//! Parsing: an NDJSON body into its lines, and a line into a typed `Line` whose text borrows
//! from the body.

use std::borrow::Cow;
use std::ops::Range;

use chrono::{DateTime, Utc};
use foldhash::HashMap;
use lots_core::CaseStatus;
use lots_core::nki::Answers;
use lots_core::rfc3339;
use serde::Deserialize;

// Lines are read borrowing their text from the file (`Cow` owns only text with escapes): a
// million-line import otherwise spends a fifth of its check allocating strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Line<'a> {
    #[serde(borrow)]
    pub(super) reference: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) org_number: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) company_name: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) area: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) case_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) department: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) title: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) assignee: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub(super) received_at: DateTime<Utc>,
    #[serde(default, borrow)]
    pub(super) events: Vec<Event<'a>>,
    #[serde(borrow)]
    pub(super) survey: Option<Survey<'a>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Event<'a> {
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub(super) at: DateTime<Utc>,
    #[serde(rename = "type", borrow)]
    pub(super) event_type: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) actor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) to: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) decision: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) handoff: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) to_department: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) response: Option<Cow<'a, str>>,
    pub(super) weeks: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Survey<'a> {
    #[serde(deserialize_with = "rfc3339::deserialize")]
    pub(super) answered_at: DateTime<Utc>,
    pub(super) q_overall: i64,
    pub(super) q_expectations: i64,
    pub(super) q_ideal: i64,
    #[serde(default)]
    pub(super) factors: HashMap<String, i64>,
    #[serde(borrow)]
    pub(super) comment: Option<Cow<'a, str>>,
}

impl Survey<'_> {
    pub(super) fn answers(&self) -> Answers {
        let f = |k: &str| self.factors.get(k).copied();
        Answers {
            q_overall: self.q_overall,
            q_expectations: self.q_expectations,
            q_ideal: self.q_ideal,
            factors: lots_core::nki::FACTORS.map(f),
        }
    }
}

/// The lines of an NDJSON body that are not blank, with their 1-based numbers and where they
/// lie in it.
pub(super) fn lines(body: &[u8]) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
    let mut start = 0;
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter_map(move |(i, l)| {
            let span = start..start + l.len();
            start += l.len() + 1;
            (!l.iter().all(u8::is_ascii_whitespace)).then_some((i + 1, span))
        })
}

pub(super) fn parse(raw: &[u8]) -> Result<Line<'_>, String> {
    serde_json::from_slice::<Line>(raw).map_err(|e| format!("not a case line: {e}"))
}

/// The status an event moves its case to, if it names one.
pub(super) fn target(e: &Event) -> Option<CaseStatus> {
    match &*e.event_type {
        "decided" => Some(CaseStatus::Decided),
        "closed" => Some(CaseStatus::Closed),
        "withdrawn" => Some(CaseStatus::Withdrawn),
        "supplement_requested" => Some(CaseStatus::AwaitingSupplement),
        "supplement_received" => Some(CaseStatus::InProgress),
        _ => e.to.as_deref().and_then(|t| t.parse().ok()),
    }
}
