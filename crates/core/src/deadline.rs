//! Statutory deadlines and service targets: the rules (as data), and the clock computed from a
//! case's facts in Europe/Stockholm dates.
//!
//! - PBL 9 kap. 27 §: a building permit (lov, förhandsbesked) is decided within 10 weeks of a
//!   complete application, extendable once by at most 10 weeks. If the department asks for a
//!   supplement within 3 weeks of receipt, the clock runs from the day the supplement arrives.
//! - PBL 10 kap. 23 a §: a notification (anmälan) within 4 weeks, extendable once by 4.
//! - PBL 12 kap. 8 a §: the fee is reduced by one fifth per started week past the deadline.
//! - Lag (1930:173) 2 §: a deadline ending on a non-working day moves to the next working day.
//! - Förvaltningslagen (2017:900) 12 §: a case not decided within 6 months may be asked to be
//!   decided; the authority then decides within 4 weeks.
//! - Other areas have no statutory deadline; their service targets are configurable.

use chrono::{Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::Area;
use crate::calendar::{next_working_day, working_days_between};

/// A supplement request must come within this many days of receipt to restart the clock.
pub const SUPPLEMENT_WINDOW_DAYS: i64 = 21;
/// Förvaltningslagen 12 §: the age after which a party may ask for a decision.
pub const DECISION_REQUEST_AFTER_MONTHS: u32 = 6;
/// Förvaltningslagen 12 §: the authority then decides within four weeks.
pub const DECISION_REQUEST_WEEKS: i64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Set by law.
    Statutory,
    /// The municipality's own service target; not law.
    Target,
}

/// One rule: the deadline for cases of an area (and case type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRule {
    pub area: Area,
    /// Only cases of this type; `None` for the whole area.
    #[serde(default)]
    pub case_type: Option<String>,
    pub kind: DeadlineKind,
    pub weeks: u32,
    /// The one extension's maximum, in weeks; 0 when none is allowed.
    #[serde(default)]
    pub max_extension_weeks: u32,
    /// Whether PBL 12 kap. 8 a § fee reduction applies.
    #[serde(default)]
    pub fee_reduction: bool,
    /// Where the rule comes from (a statute, or the municipality's service promise).
    #[serde(default)]
    pub source: String,
}

/// The rules in force, looked up by area and case type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRules(Vec<DeadlineRule>);

impl Default for DeadlineRules {
    fn default() -> Self {
        let rule =
            |area, case_type: Option<&str>, kind, weeks, ext, fee, source: &str| DeadlineRule {
                area,
                case_type: case_type.map(Into::into),
                kind,
                weeks,
                max_extension_weeks: ext,
                fee_reduction: fee,
                source: source.into(),
            };
        use DeadlineKind::{Statutory, Target};
        Self(vec![
            rule(
                Area::BuildingPermit,
                Some("permit"),
                Statutory,
                10,
                10,
                true,
                "PBL (2010:900) 9 kap. 27 §, 12 kap. 8 a §",
            ),
            rule(
                Area::BuildingPermit,
                Some("notification"),
                Statutory,
                4,
                4,
                true,
                "PBL (2010:900) 10 kap. 23 a §, 12 kap. 8 a §",
            ),
            rule(
                Area::ServingLicence,
                None,
                Target,
                8,
                0,
                false,
                "Servicemål: serveringstillstånd inom 8 veckor",
            ),
            rule(
                Area::FoodControl,
                None,
                Target,
                2,
                0,
                false,
                "Servicemål: registrering av livsmedelsanläggning inom 2 veckor",
            ),
            rule(
                Area::EnvironmentHealth,
                None,
                Target,
                6,
                0,
                false,
                "Servicemål: miljö- och hälsoskydd inom 6 veckor",
            ),
            rule(
                Area::FireSafety,
                None,
                Target,
                6,
                0,
                false,
                "Servicemål: tillstånd för brandfarlig vara inom 6 veckor",
            ),
            rule(
                Area::LandUse,
                None,
                Target,
                4,
                0,
                false,
                "Servicemål: markupplåtelse inom 4 veckor",
            ),
        ])
    }
}

impl DeadlineRules {
    /// The defaults with `overrides` in place of the rules for the same area and case type.
    pub fn with_overrides(overrides: &[DeadlineRule]) -> Self {
        let mut rules = Self::default().0;
        for o in overrides {
            rules.retain(|r| !(r.area == o.area && r.case_type == o.case_type));
            rules.push(o.clone());
        }
        Self(rules)
    }

    /// The rule for a case: one for its exact type first, else one for its whole area.
    /// The rule for a case of `area` and `case_type`. A case type without a rule of its own
    /// follows its class: `notification` for the types named `…_notification` (anmälan), and
    /// for building cases `permit` for every other (lov, förhandsbesked).
    pub fn for_case(&self, area: Area, case_type: Option<&str>) -> Option<&DeadlineRule> {
        let exact = |t: Option<&str>| {
            self.0
                .iter()
                .find(|r| r.area == area && r.case_type.is_some() && r.case_type.as_deref() == t)
        };
        let class = case_type.map(|t| {
            if t.ends_with("_notification") {
                "notification"
            } else if area == Area::BuildingPermit {
                "permit"
            } else {
                t
            }
        });
        exact(case_type).or_else(|| exact(class)).or_else(|| {
            self.0
                .iter()
                .find(|r| r.area == area && r.case_type.is_none())
        })
    }

    pub fn all(&self) -> &[DeadlineRule] {
        &self.0
    }
}

/// A supplement request and the day the supplement came in, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supplement {
    pub requested_on: NaiveDate,
    pub received_on: Option<NaiveDate>,
}

/// What the clock depends on, as dates in Stockholm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadlineFacts {
    pub received_on: NaiveDate,
    pub supplements: Vec<Supplement>,
    pub extension_weeks: Option<u32>,
    pub decision_requested_on: Option<NaiveDate>,
}

/// The clock's state: what is stored on the case and changes only with its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineState {
    /// The day the clock started; `None` while it waits for a supplement.
    pub started_on: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub paused: bool,
    pub extension_weeks: Option<u32>,
    /// Förvaltningslagen 12 §: the due date of a party's request for a decision.
    pub decision_due_date: Option<NaiveDate>,
}

/// Computes the clock of a case under `rule` from its facts.
pub fn compute(rule: &DeadlineRule, facts: &DeadlineFacts) -> DeadlineState {
    let decision_due_date = facts
        .decision_requested_on
        .map(|d| next_working_day(d + Duration::weeks(DECISION_REQUEST_WEEKS)));
    let mut state = DeadlineState {
        started_on: None,
        due_date: None,
        paused: false,
        extension_weeks: facts.extension_weeks,
        decision_due_date,
    };
    let weeks = i64::from(rule.weeks) + i64::from(facts.extension_weeks.unwrap_or(0));
    match rule.kind {
        DeadlineKind::Statutory => {
            // Only a request made within three weeks of receipt restarts the clock, from the
            // day its supplement came in; a later request changes nothing.
            let window_end = facts.received_on + Duration::days(SUPPLEMENT_WINDOW_DAYS);
            let early = facts
                .supplements
                .iter()
                .filter(|s| s.requested_on <= window_end);
            let mut start = facts.received_on;
            for s in early {
                match s.received_on {
                    None => {
                        state.paused = true;
                        return state;
                    }
                    Some(day) => start = start.max(day),
                }
            }
            state.started_on = Some(start);
            state.due_date = Some(next_working_day(start + Duration::weeks(weeks)));
        }
        DeadlineKind::Target => {
            // A service target does not count the days the company took to send a supplement.
            let mut waited = 0;
            for s in &facts.supplements {
                match s.received_on {
                    None => {
                        state.paused = true;
                        state.started_on = Some(facts.received_on);
                        return state;
                    }
                    Some(day) => waited += (day - s.requested_on).num_days().max(0),
                }
            }
            state.started_on = Some(facts.received_on);
            state.due_date = Some(next_working_day(
                facts.received_on + Duration::weeks(weeks) + Duration::days(waited),
            ));
        }
    }
    state
}

/// Fee reduction under PBL 12 kap. 8 a §: one fifth per started week past `due`, at most five.
pub fn fee_reduction_fifths(due: NaiveDate, end: NaiveDate) -> u8 {
    let late = (end - due).num_days();
    if late <= 0 {
        0
    } else {
        ((late + 6) / 7).min(5) as u8
    }
}

/// The party's request for a decision, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DecisionRequestView {
    pub due_date: NaiveDate,
    /// Working days until the due date (negative when past); null once decided.
    pub days_left: Option<i64>,
    pub overdue: bool,
}

/// The `deadline` object of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    pub kind: DeadlineKind,
    /// Null while the clock waits for a supplement requested within three weeks of receipt.
    pub due_date: Option<NaiveDate>,
    pub extended: bool,
    pub paused: bool,
    /// Working days from today until the due date, negative when it has passed; null once the
    /// case is decided or while paused.
    pub days_left: Option<i64>,
    /// Past the due date: today for an open case, at the decision for a decided one.
    pub overdue: bool,
    /// Building cases only: fifths of the fee to reduce (PBL 12 kap. 8 a §), frozen at decision.
    pub fee_reduction_fifths: Option<u8>,
    /// Förvaltningslagen 12 §: open and received more than six months ago.
    pub older_than_six_months: bool,
    /// A party's request for a decision (FL 12 §), with its own four-week deadline.
    pub decision_request: Option<DecisionRequestView>,
    /// The statute or service promise behind the deadline.
    pub source: String,
}

/// What the view needs beyond the stored state.
#[derive(Debug, Clone, Copy)]
pub struct CaseDates {
    pub received_on: NaiveDate,
    /// The day of the decision (or withdrawal: the day the case stopped being open).
    pub ended_on: Option<NaiveDate>,
}

pub fn view(
    rule: &DeadlineRule,
    state: &DeadlineState,
    dates: CaseDates,
    today: NaiveDate,
) -> DeadlineView {
    let end = dates.ended_on.unwrap_or(today);
    let open = dates.ended_on.is_none();
    let days_left = |due: NaiveDate| open.then(|| working_days_between(today, due));
    DeadlineView {
        kind: rule.kind,
        due_date: state.due_date,
        extended: state.extension_weeks.is_some(),
        paused: state.paused && open,
        days_left: state.due_date.and_then(days_left),
        overdue: state.due_date.is_some_and(|due| end > due),
        fee_reduction_fifths: rule.fee_reduction.then(|| {
            state
                .due_date
                .map_or(0, |due| fee_reduction_fifths(due, end))
        }),
        older_than_six_months: open && is_six_months_old(dates.received_on, today),
        decision_request: state.decision_due_date.map(|due| DecisionRequestView {
            due_date: due,
            days_left: days_left(due),
            overdue: end > due,
        }),
        source: rule.source.clone(),
    }
}

/// Whether a case received on `received_on` is at least six months old on `today`.
pub fn is_six_months_old(received_on: NaiveDate, today: NaiveDate) -> bool {
    received_on
        .checked_add_months(Months::new(DECISION_REQUEST_AFTER_MONTHS))
        .is_some_and(|d| today >= d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn permit() -> DeadlineRule {
        DeadlineRules::default()
            .for_case(Area::BuildingPermit, Some("permit"))
            .unwrap()
            .clone()
    }

    /// A supplement requested on one day and, if it has come in, received on another.
    fn supplement(requested: &str, received: Option<&str>) -> Supplement {
        Supplement {
            requested_on: d(requested),
            received_on: received.map(d),
        }
    }

    /// The view on `today` of a case received on `received` and still open.
    fn open_on(
        rule: &DeadlineRule,
        s: &DeadlineState,
        received: &str,
        today: &str,
    ) -> DeadlineView {
        let dates = CaseDates {
            received_on: d(received),
            ended_on: None,
        };
        view(rule, s, dates, d(today))
    }

    fn facts(received: &str) -> DeadlineFacts {
        DeadlineFacts {
            received_on: d(received),
            ..Default::default()
        }
    }

    #[test]
    fn rules_are_found_by_type_then_area_and_can_be_overridden() {
        let rules = DeadlineRules::default();
        assert_eq!(
            rules
                .for_case(Area::BuildingPermit, Some("permit"))
                .unwrap()
                .weeks,
            10
        );
        assert_eq!(
            rules
                .for_case(Area::BuildingPermit, Some("notification"))
                .unwrap()
                .weeks,
            4
        );
        assert_eq!(rules.for_case(Area::BuildingPermit, None), None);
        assert_eq!(
            rules.for_case(Area::ServingLicence, None).unwrap().kind,
            DeadlineKind::Target
        );
        assert_eq!(rules.for_case(Area::Other, None), None);
        let custom = DeadlineRule {
            weeks: 6,
            ..rules.for_case(Area::ServingLicence, None).unwrap().clone()
        };
        let rules = DeadlineRules::with_overrides(&[custom]);
        assert_eq!(rules.for_case(Area::ServingLicence, None).unwrap().weeks, 6);
        assert_eq!(rules.all().len(), DeadlineRules::default().all().len());
    }

    /// Worked example 1 (docs/deadlines.md): received Monday 2 March 2026, complete. Ten weeks
    /// later is Monday 11 May 2026, a working day.
    #[test]
    fn example_plain_permit() {
        let s = compute(&permit(), &facts("2026-03-02"));
        assert_eq!(s.due_date, Some(d("2026-05-11")));
        assert_eq!(s.started_on, Some(d("2026-03-02")));
    }

    /// Worked example 2: received Friday 10 April 2026; ten weeks later is Friday 19 June 2026,
    /// midsommarafton, so the deadline moves to Monday 22 June.
    #[test]
    fn example_due_on_midsummer_eve_moves_to_monday() {
        let s = compute(&permit(), &facts("2026-04-10"));
        assert_eq!(s.due_date, Some(d("2026-06-22")));
    }

    /// Worked example 3: received 1 December 2025; supplement requested 15 December (within three
    /// weeks), received 22 January 2026: the clock runs from 22 January; ten weeks is Thursday
    /// 2 April 2026. A second request on 9 February (outside the window) moves nothing.
    #[test]
    fn example_supplement_within_three_weeks_restarts_the_clock() {
        let mut f = facts("2025-12-01");
        f.supplements.push(supplement("2025-12-15", None));
        let waiting = compute(&permit(), &f);
        assert!(waiting.paused);
        assert_eq!(waiting.due_date, None);
        f.supplements[0].received_on = Some(d("2026-01-22"));
        f.supplements.push(supplement("2026-02-09", None));
        let s = compute(&permit(), &f);
        assert!(!s.paused);
        assert_eq!(s.started_on, Some(d("2026-01-22")));
        assert_eq!(s.due_date, Some(d("2026-04-02")));
    }

    /// Worked example 4: a request on day 22 is too late to move the clock.
    #[test]
    fn example_late_supplement_request_does_not_move_the_clock() {
        let mut f = facts("2026-03-02");
        f.supplements
            .push(supplement("2026-03-24", Some("2026-04-20")));
        assert_eq!(compute(&permit(), &f).due_date, Some(d("2026-05-11")));
        f.supplements[0].requested_on = d("2026-03-23");
        // Day 21 still counts: the clock now runs from 20 April; ten weeks → 29 June 2026.
        assert_eq!(compute(&permit(), &f).due_date, Some(d("2026-06-29")));
    }

    /// Worked example 5: received 17 October 2025 and extended by ten weeks: 20 weeks later is
    /// Friday 6 March 2026. Without an extension, a case received 16 October 2026 would be due on
    /// Christmas Day, which moves it past the weekend to Monday 28 December.
    #[test]
    fn example_extension_and_christmas() {
        let mut f = facts("2025-10-17");
        f.extension_weeks = Some(10);
        assert_eq!(compute(&permit(), &f).due_date, Some(d("2026-03-06")));
        assert_eq!(
            compute(&permit(), &facts("2026-10-16")).due_date,
            Some(d("2026-12-28")),
            "25 Dec → 28 Dec"
        );
    }

    /// Worked example 6: the fee reduction. Due Monday 11 May 2026; decided 12 May: one started
    /// week late, one fifth. Decided 25 May (14 days): two fifths. Decided in August: five.
    #[test]
    fn example_fee_reduction() {
        let due = d("2026-05-11");
        assert_eq!(fee_reduction_fifths(due, d("2026-05-11")), 0);
        assert_eq!(fee_reduction_fifths(due, d("2026-05-12")), 1);
        assert_eq!(fee_reduction_fifths(due, d("2026-05-18")), 1);
        assert_eq!(fee_reduction_fifths(due, d("2026-05-19")), 2);
        assert_eq!(fee_reduction_fifths(due, d("2026-05-25")), 2);
        assert_eq!(fee_reduction_fifths(due, d("2026-08-01")), 5);
        let s = compute(&permit(), &facts("2026-03-02"));
        let v = view(
            &permit(),
            &s,
            CaseDates {
                received_on: d("2026-03-02"),
                ended_on: Some(d("2026-05-19")),
            },
            d("2026-11-27"),
        );
        assert_eq!(
            v.fee_reduction_fifths,
            Some(2),
            "frozen at the decision, whatever today is"
        );
        assert!(v.overdue);
        assert_eq!(v.days_left, None);
    }

    /// Worked example 7: Förvaltningslagen 12 §. Received 2 March 2026, still open on 3 September:
    /// older than six months. A request for a decision on 7 September 2026 must be decided by
    /// Monday 5 October 2026.
    #[test]
    fn example_six_months_and_decision_request() {
        let mut f = facts("2026-03-02");
        f.decision_requested_on = Some(d("2026-09-07"));
        let s = compute(&permit(), &f);
        assert_eq!(s.decision_due_date, Some(d("2026-10-05")));
        let open = |today| open_on(&permit(), &s, "2026-03-02", today);
        assert!(!open("2026-09-01").older_than_six_months);
        assert!(open("2026-09-02").older_than_six_months);
        let v = open("2026-09-28");
        let req = v.decision_request.unwrap();
        assert_eq!(req.days_left, Some(5));
        assert!(!req.overdue);
        assert!(open("2026-10-06").decision_request.unwrap().overdue);
    }

    #[test]
    fn days_left_counts_working_days_and_goes_negative() {
        let s = compute(&permit(), &facts("2026-03-02"));
        let at = |today| open_on(&permit(), &s, "2026-03-02", today);
        assert_eq!(at("2026-05-04").days_left, Some(5));
        assert_eq!(at("2026-05-11").days_left, Some(0));
        assert!(!at("2026-05-11").overdue, "the due date itself is in time");
        assert_eq!(at("2026-05-13").days_left, Some(-2));
        assert!(at("2026-05-12").overdue);
        assert_eq!(at("2026-05-13").fee_reduction_fifths, Some(1));
    }

    #[test]
    fn targets_skip_the_days_spent_waiting_for_the_company() {
        let rule = DeadlineRules::default()
            .for_case(Area::FoodControl, None)
            .unwrap()
            .clone();
        let mut f = facts("2026-11-02");
        assert_eq!(compute(&rule, &f).due_date, Some(d("2026-11-16")));
        f.supplements
            .push(supplement("2026-11-04", Some("2026-11-11")));
        assert_eq!(compute(&rule, &f).due_date, Some(d("2026-11-23")));
        let v = open_on(&rule, &compute(&rule, &f), "2026-11-02", "2026-11-20");
        assert_eq!(v.fee_reduction_fifths, None);
        assert_eq!(v.kind, DeadlineKind::Target);
    }
}
