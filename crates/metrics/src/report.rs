//! The report for the board (nämnden): one year's figures in the shape the board reads them.
//! Per authority area and for all areas: cases received and decided, the share decided within
//! the deadline, the median lead time, NKI with its interval and whether the change since the
//! year before is more than noise; NKI per tertial over three years; deadline compliance per
//! month; the costliest handoffs; and, where Kolada's values are imported, the municipality
//! against the others. The print page and the workbook are both rendered from it, so they show
//! the same figures. Years are Stockholm calendar years of the decision (of receipt for
//! "received").

use chrono::{DateTime, Datelike, Utc};
use lots_core::{Area, TIME_ZONE};
use serde::Serialize;

use crate::compute::{self, Compliance, Edge, NkiChange, Period, TrendPoint};
use crate::kolada::Comparison;
use crate::records::CaseRecord;
use crate::stats::quantile;

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

fn year_of(t: DateTime<Utc>) -> i32 {
    t.with_timezone(&TIME_ZONE).year()
}

fn in_area(c: &CaseRecord, area: Option<Area>) -> bool {
    area.is_none_or(|a| c.area.as_str() == a.as_str())
}

fn area_year(records: &[&CaseRecord], area: Option<Area>, year: i32, threshold: usize) -> AreaYear {
    let mine: Vec<&CaseRecord> = records
        .iter()
        .copied()
        .filter(|c| in_area(c, area))
        .collect();
    let decided: Vec<&CaseRecord> = mine
        .iter()
        .copied()
        .filter(|c| c.decided_at.is_some_and(|d| year_of(d) == year))
        .collect();
    let mut with_deadline = 0;
    let mut on_time = 0;
    let mut lead = Vec::with_capacity(decided.len());
    for c in &decided {
        let Some(d) = c.decided_at else { continue };
        lead.push((d - c.received_at).num_seconds() as f64 / 86_400.0);
        if let Some(due) = c.due_date {
            with_deadline += 1;
            if d.with_timezone(&TIME_ZONE).date_naive() <= due {
                on_time += 1;
            }
        }
    }
    let this = year.to_string();
    let nki = compute::nki_trend(&decided, Period::Year, threshold)
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
    let change = compute::nki_change(&mine, &(year - 1).to_string(), &this, threshold)
        .filter(|c| c.n_a + c.n_b > 0);
    AreaYear {
        area,
        received: mine
            .iter()
            .filter(|c| year_of(c.received_at) == year)
            .count(),
        decided: decided.len(),
        with_deadline,
        on_time,
        share_on_time: (with_deadline > 0).then(|| on_time as f64 / with_deadline as f64),
        lead_time_p50_days: quantile(&lead, 0.5),
        nki,
        change,
    }
}

/// The board's report of `year` over `records` (already scoped to the reader), with
/// `standing` from Kolada when known. `now` places the open cases of the bottlenecks.
pub fn board(
    records: &[&CaseRecord],
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
                .filter(|a| records.iter().any(|c| c.area.as_str() == a.as_str()))
                .map(Some),
        )
        .collect();
    let areas = scopes
        .iter()
        .map(|&a| area_year(records, a, year, threshold))
        .collect();
    let three_years: Vec<&CaseRecord> = records
        .iter()
        .copied()
        .filter(|c| {
            c.decided_at
                .is_some_and(|d| (year - 2..=year).contains(&year_of(d)))
        })
        .collect();
    let trends = scopes
        .iter()
        .map(|&a| {
            let mine: Vec<&CaseRecord> = three_years
                .iter()
                .copied()
                .filter(|c| in_area(c, a))
                .collect();
            AreaTrend {
                area: a,
                points: compute::nki_trend(&mine, Period::Tertial, threshold),
            }
        })
        .collect();
    let decided: Vec<&CaseRecord> = records
        .iter()
        .copied()
        .filter(|c| c.decided_at.is_some_and(|d| year_of(d) == year))
        .collect();
    let compliance = compute::deadlines(&decided, now, 0).compliance;
    let mut bottlenecks = compute::bottlenecks(&decided, None, now).edges;
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
        let r = board(&refs, 2026, 7, None, now);
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
