//! The report for the board (nämnden): one year's figures in the shape the board reads them.
//! Per authority area and for all areas: cases received and decided, the share decided within
//! the deadline, the median lead time, NKI with its interval and whether the change since the
//! year before is more than noise; NKI per tertial over three years; deadline compliance per
//! month; the costliest handoffs; and, where Kolada's values are imported, the municipality
//! against the others. The print page and the workbook are both rendered from it, so they show
//! the same figures. Years are Stockholm calendar years of the decision (of receipt for
//! "received").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lots_core::Area;
use serde::Serialize;

use crate::compute::{self, Compliance, Edge, Edges, NkiChange, Period, TrendPoint};
use crate::kolada::Comparison;
use crate::records::CaseRecord;
use crate::rollup::fact::Fact;
use crate::rollup::span::{Kind, spans_of};
use crate::rollup::sums::Group;

/// One area's year (or all areas', `area` null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaYear {
    pub area: Option<Area>,
    pub received: usize,
    pub decided: usize,
    /// Decided cases that had a deadline, and of those decided on or before it.
    pub with_deadline: usize,
    pub on_time: usize,
    /// `on_time / with_deadline`, 0–1; null without such decisions.
    pub share_on_time: Option<f64>,
    /// Median days from receipt to decision of the cases decided in the year.
    pub lead_time_p50_days: Option<f64>,
    /// NKI of the year's decided cases with answers (suppressed below the threshold).
    pub nki: TrendPoint,
    /// From the year before to this one (Welch); absent when neither year has answers.
    pub change: Option<NkiChange>,
}

/// NKI per tertial of one area (or all, `area` null) over the report's three years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaTrend {
    pub area: Option<Area>,
    pub points: Vec<TrendPoint>,
}

/// The municipality against the others in the report's year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    pub year: i32,
    pub municipality: String,
    pub municipality_name: Option<String>,
    pub peers: Vec<String>,
    pub items: Vec<Comparison>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardReport {
    pub year: i32,
    /// All areas first, then each area that had cases, in the areas' order.
    pub areas: Vec<AreaYear>,
    pub trends: Vec<AreaTrend>,
    /// Per area and month of the year.
    pub compliance: Vec<Compliance>,
    /// The handoff edges of the year's decided cases, costliest (most days held in all) first,
    /// at most ten.
    pub bottlenecks: Vec<Edge>,
    pub standing: Option<Standing>,
}

/// What the board's report is computed from: every case by area and Stockholm month received,
/// the decided ones by area and month of decision (with the lead times' histograms of the
/// report's year), and the handoff edges of the cases decided in the report's year.
#[derive(Debug, Default)]
pub struct BoardInputs {
    pub received: BTreeMap<Vec<String>, Group>,
    pub decided: BTreeMap<Vec<String>, Group>,
    pub edges: Edges,
}

impl BoardInputs {
    /// From the cases' records, for the report of `year`.
    pub fn of(records: &[&CaseRecord], year: i32, now: DateTime<Utc>) -> Self {
        let mut inputs = Self::default();
        for c in records {
            let f = Fact::of(c);
            let area = f.cell.area.clone();
            inputs
                .received
                .entry(vec![area.clone(), f.cell.received_month.clone()])
                .or_default()
                .add(&f);
            if f.cell.decided_month.is_empty() {
                continue;
            }
            inputs
                .decided
                .entry(vec![area, f.cell.decided_month.clone()])
                .or_default()
                .add(&f);
            if year_of_month(&f.cell.decided_month) != Some(year) {
                continue;
            }
            for s in spans_of(c) {
                let m = &s.measured;
                let key = vec![m.from.clone(), m.to.clone(), m.handoff_kind.clone()];
                let edges = match m.kind {
                    Kind::Queue => &mut inputs.edges.queue,
                    Kind::Work => &mut inputs.edges.work,
                    _ => continue,
                };
                edges.entry(key).or_default().add(&s.length.at(now));
            }
        }
        inputs
    }
}

/// The year of a month's name (`YYYY-MM`).
pub fn year_of_month(month: &str) -> Option<i32> {
    month.get(..4)?.parse().ok()
}

/// The groups of `area` (all areas: `None`) whose month lies in `years`, merged per month.
fn months_of(
    groups: &BTreeMap<Vec<String>, Group>,
    area: Option<Area>,
    years: std::ops::RangeInclusive<i32>,
) -> BTreeMap<String, Group> {
    let mut out: BTreeMap<String, Group> = BTreeMap::new();
    for (key, g) in groups {
        let [a, month] = key.as_slice() else { continue };
        let in_area = area.is_none_or(|x| x.as_str() == a);
        if in_area && year_of_month(month).is_some_and(|y| years.contains(&y)) {
            out.entry(month.clone()).or_default().merge(g);
        }
    }
    out
}

fn area_year(inputs: &BoardInputs, area: Option<Area>, year: i32, threshold: usize) -> AreaYear {
    let mut decided = Group::default();
    for g in months_of(&inputs.decided, area, year..=year).values() {
        decided.merge(g);
    }
    let by_year = compute::periods_of(
        &months_of(&inputs.decided, area, year - 1..=year),
        Period::Year,
    );
    let this = year.to_string();
    let nki = compute::trend(&by_year, threshold)
        .into_iter()
        .find(|p| p.period == this)
        .unwrap_or(TrendPoint {
            period: this.clone(),
            n: 0,
            nki: None,
            ci_low: None,
            ci_high: None,
            suppressed: true,
        });
    let change = Some(compute::change(
        &by_year,
        &(year - 1).to_string(),
        &this,
        threshold,
    ))
    .filter(|c| c.n_a + c.n_b > 0);
    let received: u64 = months_of(&inputs.received, area, year..=year)
        .values()
        .map(|g| g.cases)
        .sum();
    AreaYear {
        area,
        received: received as usize,
        decided: decided.lead.n as usize,
        with_deadline: decided.due as usize,
        on_time: decided.on_time as usize,
        share_on_time: (decided.due > 0).then(|| decided.on_time as f64 / decided.due as f64),
        lead_time_p50_days: decided.lead.summary().p50_days,
        nki,
        change,
    }
}

/// The board's report of `year` from `inputs` (already scoped to the reader), with `standing`
/// from Kolada when known. `now` places the handoffs still running.
pub fn board(
    inputs: &BoardInputs,
    year: i32,
    threshold: usize,
    standing: Option<Standing>,
    now: DateTime<Utc>,
) -> BoardReport {
    let scopes: Vec<Option<Area>> = std::iter::once(None)
        .chain(
            Area::ALL
                .iter()
                .copied()
                .filter(|a| {
                    inputs
                        .received
                        .keys()
                        .any(|k| k.first().is_some_and(|x| x == a.as_str()))
                })
                .map(Some),
        )
        .collect();
    let areas = scopes
        .iter()
        .map(|&a| area_year(inputs, a, year, threshold))
        .collect();
    let trends = scopes
        .iter()
        .map(|&a| AreaTrend {
            area: a,
            points: compute::trend(
                &compute::periods_of(
                    &months_of(&inputs.decided, a, year - 2..=year),
                    Period::Tertial,
                ),
                threshold,
            ),
        })
        .collect();
    let this_year: BTreeMap<Vec<String>, Group> = inputs
        .decided
        .iter()
        .filter(|(k, _)| k.get(1).and_then(|m| year_of_month(m)) == Some(year))
        .map(|(k, g)| (k.clone(), g.clone()))
        .collect();
    let compliance = compute::deadlines_of(&this_year, &[], now, 0).compliance;
    let mut bottlenecks =
        compute::bottlenecks_of(compute::Holding::default(), &inputs.edges, None).edges;
    bottlenecks.truncate(10);
    BoardReport {
        year,
        areas,
        trends,
        compliance,
        bottlenecks,
        standing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::SurveyRecord;
    use chrono::{NaiveDate, TimeZone};

    fn case(
        id: i64,
        area: &str,
        received: (i32, u32, u32),
        decided: Option<(i32, u32, u32)>,
        nki: Option<f64>,
    ) -> CaseRecord {
        let at = |(y, m, d): (i32, u32, u32)| Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap();
        CaseRecord {
            id,
            reference: format!("X {id}"),
            area: area.into(),
            case_type: None,
            department: "SBF".into(),
            channel: "officer".into(),
            status: if decided.is_some() {
                "decided"
            } else {
                "received"
            }
            .into(),
            received_at: at(received),
            complete_at: None,
            decided_at: decided.map(at),
            due_date: Some(
                NaiveDate::from_ymd_opt(received.0, received.1, received.2).unwrap()
                    + chrono::Days::new(30),
            ),
            owners: Vec::new(),
            handoffs: Vec::new(),
            survey: nki.map(|nki| SurveyRecord {
                nki,
                factors: [None; 6],
            }),
            status_changes: Vec::new(),
        }
    }

    #[test]
    fn a_year_counts_what_was_received_and_decided_in_it_and_compares_nki_with_the_year_before() {
        let mut cases = Vec::new();
        for i in 0..8 {
            // 2025: decided within 10 days, NKI 60 ± 1.
            cases.push(case(
                i,
                "building_permit",
                (2025, 3, 1),
                Some((2025, 3, 11)),
                Some(59.0 + (i % 3) as f64),
            ));
            // 2026: decided after 40 days (late), NKI 70 ± 1.
            cases.push(case(
                100 + i,
                "building_permit",
                (2026, 2, 1),
                Some((2026, 3, 13)),
                Some(69.0 + (i % 3) as f64),
            ));
        }
        cases.push(case(200, "food_control", (2026, 5, 4), None, None));
        let refs: Vec<&CaseRecord> = cases.iter().collect();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let r = board(&BoardInputs::of(&refs, 2026, now), 2026, 7, None, now);
        let all = &r.areas[0];
        assert_eq!(all.area, None);
        assert_eq!(
            (all.received, all.decided, all.with_deadline, all.on_time),
            (9, 8, 8, 0)
        );
        assert_eq!(all.share_on_time, Some(0.0));
        assert_eq!(all.lead_time_p50_days, Some(40.0));
        assert_eq!(all.nki.n, 8);
        let change = all.change.as_ref().unwrap();
        assert_eq!((change.a.as_str(), change.b.as_str()), ("2025", "2026"));
        assert!((change.difference.unwrap() - 10.0).abs() < 1e-9);
        assert!(change.p_value.unwrap() < 0.001);
        let areas: Vec<Option<Area>> = r.areas.iter().map(|a| a.area).collect();
        assert_eq!(
            areas,
            [None, Some(Area::BuildingPermit), Some(Area::FoodControl)]
        );
        let food = &r.areas[2];
        assert_eq!(
            (food.received, food.decided, food.share_on_time),
            (1, 0, None)
        );
        assert!(food.nki.suppressed && food.change.is_none());
        // Compliance of the year only: March 2026, none in time.
        assert_eq!(r.compliance.len(), 1);
        assert_eq!(
            (r.compliance[0].month.as_str(), r.compliance[0].on_time),
            ("2026-03", 0)
        );
        let tertials: Vec<&str> = r.trends[0]
            .points
            .iter()
            .map(|p| p.period.as_str())
            .collect();
        assert_eq!(tertials, ["2025-T1", "2026-T1"]);
    }
}
