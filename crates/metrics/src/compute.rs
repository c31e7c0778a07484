//! The metrics, as pure functions of records and "now". Definitions: docs/metrics.md.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lots_core::TIME_ZONE;
use lots_core::calendar::working_days_between;
use lots_core::deadline::fee_reduction_fifths;
use lots_core::nki::Band;
use serde::Serialize;

use crate::records::{CaseRecord, SurveyRecord};
use crate::rollup::fact::{Answer, Fact};
use crate::rollup::span::{Kind, Length, spans_of};
use crate::rollup::span_db::Held;
use crate::rollup::sums::{self, Answers, Durations, Group, quantile as whole_quantile};
use crate::stats::{Correlation, Regression, quantile_sorted, spearman, welch_of};

const DAY: f64 = 86_400.0;

pub(crate) fn date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&TIME_ZONE).date_naive()
}

/// The Stockholm month of an instant, `YYYY-MM`.
pub(crate) fn month(t: DateTime<Utc>) -> String {
    let d = date(t);
    format!("{:04}-{:02}", d.year(), d.month())
}

fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / DAY
}

fn working(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    working_days_between(date(from), date(to)).max(0) as f64
}

/// How to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Department,
    Area,
    Month,
    /// How the cases came in (`officer`, `e-service`, `import`).
    Channel,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "department" => Some(Self::Department),
            "area" => Some(Self::Area),
            "month" => Some(Self::Month),
            "channel" => Some(Self::Channel),
            _ => None,
        }
    }

    /// The group of a case decided at `decided` (borrowed where it can be: metrics group a
    /// million records per request).
    fn key(self, c: &CaseRecord, decided: DateTime<Utc>) -> Cow<'_, str> {
        match self {
            GroupBy::Department => Cow::Borrowed(&c.department),
            GroupBy::Area => Cow::Borrowed(&c.area),
            GroupBy::Month => Cow::Owned(month(decided)),
            GroupBy::Channel => Cow::Borrowed(&c.channel),
        }
    }
}

/// n, mean, median and 90th percentile of durations, in calendar and working days.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub n: usize,
    pub mean_days: Option<f64>,
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub mean_working_days: Option<f64>,
    pub p50_working_days: Option<f64>,
    pub p90_working_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HandlingTimes {
    pub group: String,
    /// Received → decided.
    pub lead_time: Summary,
    /// The statutory clock: complete application → decided (supplement waits excluded).
    pub statutory_handling_time: Summary,
}

/// Lead time and statutory handling time of decided cases, per group.
pub fn handling_times(records: &[&CaseRecord], by: GroupBy) -> Vec<HandlingTimes> {
    let mut groups: BTreeMap<Cow<str>, Group> = BTreeMap::new();
    for c in records {
        let Some(decided) = c.decided_at else {
            continue;
        };
        groups
            .entry(by.key(c, decided))
            .or_default()
            .add(&Fact::of(c));
    }
    groups
        .into_iter()
        .map(|(group, g)| HandlingTimes::of(group.into_owned(), &g))
        .collect()
}

/// Handling times per group, from groups of decided cases (the rollups').
pub fn handling_times_of(groups: &BTreeMap<String, Group>) -> Vec<HandlingTimes> {
    groups
        .iter()
        .filter(|(_, g)| g.lead.n > 0)
        .map(|(name, g)| HandlingTimes::of(name.clone(), g))
        .collect()
}

/// NKI per group of answered cases, from groups of decided cases (the rollups').
pub fn nki_of(groups: &BTreeMap<String, Group>, threshold: usize) -> Vec<NkiGroup> {
    groups
        .iter()
        .filter(|(_, g)| g.answers.n() > 0)
        .map(|(name, g)| g.answers.group(name.clone(), threshold))
        .collect()
}

impl HandlingTimes {
    pub fn of(group: String, g: &Group) -> Self {
        Self {
            group,
            lead_time: g.lead.summary(),
            statutory_handling_time: g.statutory.summary(),
        }
    }
}

/// The share of one area's cases, received in one month, that came through the e-service.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChannelShare {
    pub area: String,
    /// The Stockholm month the cases were received, `YYYY-MM`.
    pub month: String,
    pub cases: usize,
    pub e_service: usize,
    /// `e_service / cases`, 0–1.
    pub share: f64,
}

/// How long the cases of one channel took.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChannelTimes {
    pub channel: String,
    /// Received → complete (the application is whole and the statutory clock starts): what a
    /// good e-service shortens, since it asks for what is needed at once.
    pub to_complete: Summary,
    /// Received → decided.
    pub lead_time: Summary,
}

/// What the channels show: the e-service's share per area and month, the times per channel,
/// and NKI per channel.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Channels {
    pub share: Vec<ChannelShare>,
    pub times: Vec<ChannelTimes>,
    /// Groups under the reporting threshold come back suppressed.
    pub nki: Vec<NkiGroup>,
}

/// The channel the e-service's cases have.
pub const E_SERVICE: &str = "e-service";

pub fn channels(records: &[&CaseRecord], threshold: usize) -> Channels {
    let mut groups: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    let mut times: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for c in records {
        let f = Fact::of(c);
        let key = vec![
            f.cell.area.clone(),
            f.cell.received_month.clone(),
            f.cell.channel.clone(),
        ];
        groups.entry(key).or_default().add(&f);
        times
            .entry(vec![f.cell.channel.clone()])
            .or_default()
            .add(&f);
    }
    channels_of(&groups, &times, threshold)
}

/// The channels from every case (open or decided): its counts and answers grouped by area,
/// Stockholm month received and channel, its durations' histograms by channel (the rollups').
pub fn channels_of(
    groups: &BTreeMap<Vec<String>, Group>,
    times: &BTreeMap<Vec<String>, Group>,
    threshold: usize,
) -> Channels {
    let mut shares: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut per_channel: BTreeMap<&str, Group> = BTreeMap::new();
    for (key, g) in groups {
        let [area, month, channel] = key.as_slice() else {
            continue;
        };
        let s = shares.entry((area, month)).or_default();
        s.0 += g.cases as usize;
        if channel == E_SERVICE {
            s.1 += g.cases as usize;
        }
        per_channel.entry(channel).or_default().merge(g);
    }
    let per_channel_times: BTreeMap<&str, &Group> = times
        .iter()
        .filter_map(|(key, g)| key.first().map(|c| (c.as_str(), g)))
        .collect();
    Channels {
        share: shares
            .into_iter()
            .map(|((area, month), (cases, e_service))| ChannelShare {
                area: area.to_string(),
                month: month.to_string(),
                cases,
                e_service,
                share: e_service as f64 / cases.max(1) as f64,
            })
            .collect(),
        times: per_channel_times
            .iter()
            .map(|(channel, g)| ChannelTimes {
                channel: channel.to_string(),
                to_complete: g.to_complete.summary(),
                lead_time: g.lead.summary(),
            })
            .collect(),
        nki: per_channel
            .iter()
            .filter(|(_, g)| g.answers.n() > 0)
            .map(|(channel, g)| g.answers.group(channel.to_string(), threshold))
            .collect(),
    }
}

/// The periods NKI is followed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Year,
    /// Jan–Apr, May–Aug, Sep–Dec: `2026-T1`.
    Tertial,
}

impl Period {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "year" => Some(Self::Year),
            "tertial" => Some(Self::Tertial),
            _ => None,
        }
    }

    /// The period of the Stockholm date of `t`.
    pub fn of(self, t: DateTime<Utc>) -> String {
        let d = date(t);
        match self {
            Period::Year => format!("{:04}", d.year()),
            Period::Tertial => format!("{:04}-T{}", d.year(), (d.month() - 1) / 4 + 1),
        }
    }

    /// The period of a Stockholm month, `YYYY-MM`.
    pub fn of_month(self, m: &str) -> Option<String> {
        let (y, mo) = month_parts(m)?;
        Some(match self {
            Period::Year => format!("{y:04}"),
            Period::Tertial => format!("{y:04}-T{}", (mo - 1) / 4 + 1),
        })
    }

    /// Which kind a period's name is: `2026` a year, `2026-T2` a tertial.
    pub fn named(s: &str) -> Option<Self> {
        let ok_year = |y: &str| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit());
        match s.split_once("-T") {
            None if ok_year(s) => Some(Period::Year),
            Some((y, t)) if ok_year(y) && matches!(t, "1" | "2" | "3") => Some(Period::Tertial),
            _ => None,
        }
    }
}

/// A Stockholm month's name, `YYYY-MM`, as its year and month (1–12).
pub fn month_parts(m: &str) -> Option<(i32, u32)> {
    let (y, mo) = m.split_once('-')?;
    let mo: u32 = mo.parse().ok().filter(|mo| (1..=12).contains(mo))?;
    Some((y.parse().ok()?, mo))
}

/// NKI in one period (of the cases decided in it).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    /// `2026`, or `2026-T2`.
    pub period: String,
    pub n: usize,
    /// Null when suppressed (fewer answers than the threshold) or without answers.
    pub nki: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub suppressed: bool,
}

/// The answers of each period, from groups by the month of decision (the rollups').
pub fn periods_of(months: &BTreeMap<String, Group>, period: Period) -> BTreeMap<String, Answers> {
    let mut by: BTreeMap<String, Answers> = BTreeMap::new();
    for (month, g) in months {
        if g.answers.n() == 0 {
            continue;
        }
        if let Some(p) = period.of_month(month) {
            by.entry(p).or_default().merge(&g.answers);
        }
    }
    by
}

/// NKI of each period's answers.
pub fn trend(by: &BTreeMap<String, Answers>, threshold: usize) -> Vec<TrendPoint> {
    by.iter()
        .map(|(p, answers)| {
            let g = answers.group(p.clone(), threshold);
            TrendPoint {
                period: p.clone(),
                n: g.n,
                nki: g.nki,
                ci_low: g.ci_low,
                ci_high: g.ci_high,
                suppressed: g.suppressed,
            }
        })
        .collect()
}

/// Whether NKI changed between two periods: the difference `b − a` with its 95 % interval and
/// Welch's p-value. Below the threshold in either period, only the counts are given.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NkiChange {
    pub a: String,
    pub b: String,
    pub n_a: usize,
    pub n_b: usize,
    pub nki_a: Option<f64>,
    pub nki_b: Option<f64>,
    pub difference: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Two-sided (Welch's t-test, unequal variances).
    pub p_value: Option<f64>,
    /// Fewer answers than the threshold in either period.
    pub suppressed: bool,
}

/// The change between periods `a` and `b` of the answers per period.
pub fn change(by: &BTreeMap<String, Answers>, a: &str, b: &str, threshold: usize) -> NkiChange {
    let none = Answers::default();
    let (xa, xb) = (by.get(a).unwrap_or(&none), by.get(b).unwrap_or(&none));
    let suppressed = (xa.n() as usize) < threshold || (xb.n() as usize) < threshold;
    let (ma, mb) = (xa.moments(), xb.moments());
    let test = (!suppressed)
        .then(|| ma.zip(mb).and_then(|(ma, mb)| welch_of(ma, mb)))
        .flatten();
    NkiChange {
        a: a.to_string(),
        b: b.to_string(),
        n_a: xa.n() as usize,
        n_b: xb.n() as usize,
        nki_a: ma.filter(|_| !suppressed).map(|m| m.mean),
        nki_b: mb.filter(|_| !suppressed).map(|m| m.mean),
        difference: test.map(|w| w.difference),
        ci_low: test.map(|w| w.ci_low),
        ci_high: test.map(|w| w.ci_high),
        p_value: test.map(|w| w.p_value),
        suppressed,
    }
}

/// NKI of a group; below the reporting threshold only `n` and `suppressed` are given.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NkiGroup {
    pub group: String,
    pub n: usize,
    pub suppressed: bool,
    pub nki: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub band: Option<Band>,
    /// The six factor indices (mean of the answers that rated the factor).
    pub factors: Option<BTreeMap<String, Option<f64>>>,
}

pub fn nki_group(group: String, answers: &[&SurveyRecord], threshold: usize) -> NkiGroup {
    let mut sums = Answers::default();
    for a in answers {
        sums.add(
            &Answer {
                nki: a.nki,
                factors: a.factors,
            },
            0.0,
        );
    }
    sums.group(group, threshold)
}

/// NKI per group of answered cases.
pub fn nki(records: &[&CaseRecord], by: GroupBy, threshold: usize) -> Vec<NkiGroup> {
    let mut groups: BTreeMap<Cow<str>, Vec<&SurveyRecord>> = BTreeMap::new();
    for c in records {
        if let (Some(s), Some(decided)) = (&c.survey, c.decided_at) {
            groups.entry(by.key(c, decided)).or_default().push(s);
        }
    }
    groups
        .into_iter()
        .map(|(g, a)| nki_group(g.into_owned(), &a, threshold))
        .collect()
}

/// NKI in a bucket (a lead-time quartile, a number of departments or handoffs).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub label: String,
    /// Lead time in weeks, lowest and highest in the bucket.
    pub weeks_from: Option<f64>,
    pub weeks_to: Option<f64>,
    #[serde(flatten)]
    pub nki: NkiGroup,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AreaLinkage {
    pub area: String,
    pub n: usize,
    pub spearman: Option<Correlation>,
    /// NKI points per week of lead time.
    pub slope: Option<Regression>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attribution {
    pub department: String,
    /// NKI of the answered cases that passed through the department.
    #[serde(flatten)]
    pub nki: NkiGroup,
    /// Of those cases' lead time, the share spent there (owning the case, or with a
    /// consultation or contact open).
    pub share_of_lead_time: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Linkage {
    /// Answered, decided cases.
    pub n: usize,
    /// Pooled: Spearman's ρ between lead time and NKI.
    pub spearman: Option<Correlation>,
    /// Pooled OLS slope: NKI points per week of lead time.
    pub slope: Option<Regression>,
    /// Within areas (each area centred on its own means): the slope that is not an area effect.
    pub slope_within_areas: Option<Regression>,
    pub by_area: Vec<AreaLinkage>,
    pub by_lead_time_quartile: Vec<Bucket>,
    pub by_departments_involved: Vec<Bucket>,
    pub by_handoffs: Vec<Bucket>,
    pub attribution: Vec<Attribution>,
}

/// An answered, decided case as the linkage sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredCase {
    pub area: String,
    /// Lead time in seconds and in whole calendar days (Stockholm dates).
    pub lead_seconds: i64,
    pub lead_days: i64,
    pub survey: SurveyRecord,
    /// How many handoffs it had.
    pub handoffs: usize,
    /// Each department it passed through, with the seconds spent there (`Kind::Passage`).
    pub passages: BTreeMap<String, i64>,
    /// Its place in the sample order (`fact::sample_of`).
    pub sample: i64,
}

impl AnsweredCase {
    /// The case as the linkage sees it, if it is decided and answered.
    pub fn of(c: &CaseRecord) -> Option<Self> {
        let decided = c.decided_at?;
        let survey = c.survey.clone()?;
        let mut passages: BTreeMap<String, i64> = BTreeMap::new();
        for s in spans_of(c) {
            if let (Kind::Passage, Length::Ended(span)) = (s.measured.kind, s.length) {
                *passages.entry(s.measured.to).or_default() += span.seconds;
            }
        }
        let lead = crate::rollup::fact::Span::between(c.received_at, decided);
        Some(Self {
            area: c.area.to_string(),
            lead_seconds: lead.seconds,
            lead_days: lead.days,
            survey,
            handoffs: c.handoffs.len(),
            passages,
            sample: crate::rollup::fact::sample_of(c.id),
        })
    }

    fn weeks(&self) -> f64 {
        self.lead_seconds as f64 / DAY / 7.0
    }
}

/// The cases that passed through a department: their answers, the seconds they spent there and
/// their lead times, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Through {
    pub answers: Answers,
    pub spent: i64,
    pub lead: i64,
}

/// One answered case of the sample: its place in the sample order, lead time in weeks, NKI.
pub type SamplePoint = (i64, f64, f64);

/// What the linkage is computed from: sums (from the rollups, or folded from records in
/// memory), and per area the first answered cases in the sample order, for Spearman's ρ and
/// the scatter plot. Nothing in it grows with the number of answers beyond `sample_size` a
/// area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkageInputs {
    /// NKI and lead time in weeks, per area.
    pub areas: BTreeMap<String, Answers>,
    /// Answers per lead time in whole calendar days, per departments passed through and per
    /// handoffs.
    pub by_lead_days: BTreeMap<i64, Answers>,
    pub by_departments: BTreeMap<i64, Answers>,
    pub by_handoffs: BTreeMap<i64, Answers>,
    pub through: BTreeMap<String, Through>,
    /// Per area, its first answered cases in the sample order (at most `sample_size`), in order.
    pub sample: BTreeMap<String, Vec<SamplePoint>>,
    pub sample_size: usize,
}

fn answer_of(s: &SurveyRecord) -> Answer {
    Answer {
        nki: s.nki,
        factors: s.factors,
    }
}

impl LinkageInputs {
    /// From the cases themselves.
    pub fn of(cases: &[AnsweredCase], sample_size: usize) -> Self {
        let mut i = LinkageInputs {
            sample_size,
            ..Default::default()
        };
        for c in cases {
            let a = answer_of(&c.survey);
            i.areas
                .entry(c.area.clone())
                .or_default()
                .add(&a, c.weeks());
            for (map, key) in [
                (&mut i.by_lead_days, c.lead_days),
                (&mut i.by_departments, c.passages.len() as i64),
                (&mut i.by_handoffs, c.handoffs as i64),
            ] {
                map.entry(key).or_default().add(&a, 0.0);
            }
            for (d, spent) in &c.passages {
                let t = i.through.entry(d.clone()).or_default();
                t.answers.add(&a, 0.0);
                t.spent += spent;
                t.lead += c.lead_seconds;
            }
            i.sample
                .entry(c.area.clone())
                .or_default()
                .push((c.sample, c.weeks(), c.survey.nki));
        }
        for points in i.sample.values_mut() {
            points.sort_by_key(|p| p.0);
            points.truncate(sample_size);
        }
        i
    }

    /// The first answered cases of every area in the sample order, at most `sample_size`: each
    /// area's own sample holds all of its cases among them.
    pub fn pooled_sample(&self) -> Vec<SamplePoint> {
        let mut all: Vec<SamplePoint> = self.sample.values().flatten().copied().collect();
        all.sort_by_key(|p| p.0);
        all.truncate(self.sample_size);
        all
    }
}

/// Spearman's ρ of a sample that stands for `population` answered cases.
fn sampled_spearman(points: &[SamplePoint], population: usize) -> Option<Correlation> {
    let x: Vec<f64> = points.iter().map(|p| p.1).collect();
    let y: Vec<f64> = points.iter().map(|p| p.2).collect();
    spearman(&x, &y).map(|c| Correlation { population, ..c })
}

/// How lead time, departments and handoffs relate to NKI, from the cases' records.
pub fn linkage(records: &[&CaseRecord], threshold: usize, area_threshold: usize) -> Linkage {
    let cases: Vec<AnsweredCase> = records.iter().filter_map(|c| AnsweredCase::of(c)).collect();
    linkage_from(
        &LinkageInputs::of(&cases, usize::MAX),
        threshold,
        area_threshold,
    )
}

/// How lead time, departments and handoffs relate to NKI over the answered, decided cases.
/// `threshold` suppresses small groups; `area_threshold` the rows of `by_area`, which compare
/// areas (docs/metrics.md, suppression). Exact from the sums, but Spearman's ρ: exact while an
/// area has no more answers than the sample holds, else computed on the sample (its `n`) and
/// saying how many it stands for (`population`).
pub fn linkage_from(i: &LinkageInputs, threshold: usize, area_threshold: usize) -> Linkage {
    let areas: BTreeMap<&String, &Answers> = i.areas.iter().filter(|(_, a)| a.n() > 0).collect();
    let mut pooled = Answers::default();
    for a in areas.values() {
        pooled.merge(a);
    }
    let n = pooled.n() as usize;
    let area_rows = areas
        .iter()
        .map(|(area, a)| {
            let an = a.n() as usize;
            let small = an < area_threshold;
            let sample = i.sample.get(*area).map_or(&[][..], Vec::as_slice);
            AreaLinkage {
                area: area.to_string(),
                n: an,
                spearman: if small {
                    None
                } else {
                    sampled_spearman(sample, an)
                },
                slope: if small { None } else { sums::ols(a) },
            }
        })
        .collect();
    // Quartiles of lead time in whole days (numpy's linear quantiles of the days as cut points;
    // upper bounds inclusive).
    let hist: BTreeMap<i64, u64> = i.by_lead_days.iter().map(|(d, a)| (*d, a.n())).collect();
    let cuts = [0.25, 0.5, 0.75].map(|p| whole_quantile(&hist, p));
    let mut quartiles: Vec<(Option<i64>, Option<i64>, Answers)> =
        vec![(None, None, Answers::default()); 4];
    for (day, a) in i.by_lead_days.iter().filter(|(_, a)| a.n() > 0) {
        let q = cuts
            .iter()
            .take_while(|cut| cut.is_some_and(|cut| *day as f64 > cut))
            .count();
        let (from, to, sums) = &mut quartiles[q];
        *from = Some(from.map_or(*day, |f| f.min(*day)));
        *to = Some(to.map_or(*day, |t| t.max(*day)));
        sums.merge(a);
    }
    let weeks = |d: Option<i64>| d.map(|d| d as f64 / 7.0);
    let by_lead_time_quartile = quartiles
        .iter()
        .enumerate()
        .map(|(q, (from, to, a))| Bucket {
            label: format!("Q{}", q + 1),
            weeks_from: weeks(*from),
            weeks_to: weeks(*to),
            nki: a.group(format!("Q{}", q + 1), threshold),
        })
        .collect();
    let bucketed = |m: &BTreeMap<i64, Answers>| {
        m.iter()
            .filter(|(_, a)| a.n() > 0)
            .map(|(k, a)| Bucket {
                label: k.to_string(),
                weeks_from: None,
                weeks_to: None,
                nki: a.group(k.to_string(), threshold),
            })
            .collect::<Vec<_>>()
    };
    // Attribution: the cases through each department, and the share of their lead time there.
    let attribution = i
        .through
        .iter()
        .filter(|(_, t)| t.answers.n() > 0)
        .map(|(department, t)| {
            let nki = t.answers.group(department.clone(), threshold);
            let share =
                (!nki.suppressed && t.lead > 0).then(|| (t.spent as f64 / t.lead as f64).min(1.0));
            Attribution {
                department: department.clone(),
                nki,
                share_of_lead_time: share,
            }
        })
        .collect();
    let suppressed = n < threshold;
    let groups: Vec<&Answers> = areas.values().copied().collect();
    Linkage {
        n,
        spearman: if suppressed {
            None
        } else {
            sampled_spearman(&i.pooled_sample(), n)
        },
        slope: if suppressed { None } else { sums::ols(&pooled) },
        slope_within_areas: if suppressed {
            None
        } else {
            sums::within_slope(&groups)
        },
        by_area: area_rows,
        by_lead_time_quartile,
        by_departments_involved: bucketed(&i.by_departments),
        by_handoffs: bucketed(&i.by_handoffs),
        attribution,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DepartmentLoad {
    pub department: String,
    pub open_cases: usize,
    /// How long the department has held its open cases so far, in days.
    pub holding_p50_days: Option<f64>,
    pub holding_p90_days: Option<f64>,
    pub holding_p50_working_days: Option<f64>,
    pub holding_p90_working_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: String,
    pub count: usize,
    /// Requested → accepted (or until now), days.
    pub queue_p50_days: Option<f64>,
    pub queue_p90_days: Option<f64>,
    /// Accepted → completed (or until now), days.
    pub work_p50_days: Option<f64>,
    pub work_p90_days: Option<f64>,
    /// The sum of queue and work time over the edge's handoffs, days.
    pub total_delay_days: f64,
    /// What the linkage slope (within areas) says one handoff's mean delay costs in NKI points.
    pub nki_cost_per_case: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AgeBand {
    pub band: String,
    pub open_cases: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bottlenecks {
    /// Ranked by p90 holding time.
    pub departments: Vec<DepartmentLoad>,
    /// Ranked by total delay.
    pub edges: Vec<Edge>,
    pub open_cases_by_age: Vec<AgeBand>,
    /// The slope used for the costs, NKI points per week of lead time.
    pub nki_points_per_week: Option<f64>,
}

/// The bottlenecks from the cases' records, as `bottlenecks_of` from their spans.
pub fn bottlenecks(
    records: &[&CaseRecord],
    slope_per_week: Option<f64>,
    now: DateTime<Utc>,
) -> Bottlenecks {
    let mut held = Vec::new();
    let mut edges = Edges::default();
    for c in records {
        for s in spans_of(c) {
            let m = &s.measured;
            let key = || vec![m.from.clone(), m.to.clone(), m.handoff_kind.clone()];
            match (m.kind, s.length) {
                (Kind::Queue, length) => edges.queue.entry(key()).or_default().add(&length.at(now)),
                (Kind::Work, length) => edges.work.entry(key()).or_default().add(&length.at(now)),
                (Kind::Held, Length::Running(since)) => held.push(Held {
                    department: c.department.to_string(),
                    since,
                    received: c.received_at,
                }),
                _ => {}
            }
        }
    }
    bottlenecks_of(holding_of(&held, now), &edges, slope_per_week)
}

/// The handoffs' time in queue and at work per edge (from, to, kind), up to now.
#[derive(Debug, Default)]
pub struct Edges {
    pub queue: BTreeMap<Vec<String>, Durations>,
    pub work: BTreeMap<Vec<String>, Durations>,
}

/// The open cases as held by their owners: each department's load (in no order) and how many
/// open cases there are in each band of age (`AGE_BANDS`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holding {
    pub departments: Vec<DepartmentLoad>,
    pub ages: [usize; 5],
}

/// The upper bounds, in days since receipt, of the open cases' age bands but the last.
pub const AGE_BANDS: [i64; 4] = [14, 42, 91, 182];

/// The band of an open case received `age` days ago.
fn age_band(age: f64) -> usize {
    AGE_BANDS
        .iter()
        .position(|&bound| age < bound as f64)
        .unwrap_or(AGE_BANDS.len())
}

/// The holding of the open cases held as `held` says.
pub fn holding_of(held: &[Held], now: DateTime<Utc>) -> Holding {
    let mut deps: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut ages = [0usize; 5];
    for h in held {
        deps.entry(h.department.as_str()).or_default().push(h.since);
        ages[age_band(days(h.received, now))] += 1;
    }
    let departments = deps
        .into_iter()
        .map(|(department, mut since)| {
            // Longest held last: the holding times in ascending order.
            since.sort_by(|a, b| b.cmp(a));
            department_load(department.to_string(), since.len(), |i| since[i], now)
        })
        .collect();
    Holding { departments, ages }
}

/// A department's load: the `n` open cases it holds, `since(i)` when it took the one it has
/// held the `i`-th shortest (0-based). Only the order statistics of its quantiles are asked for.
pub fn department_load(
    department: String,
    n: usize,
    since: impl Fn(usize) -> DateTime<Utc>,
    now: DateTime<Utc>,
) -> DepartmentLoad {
    // Both measures fall as `since` grows: one order serves both.
    let cal = |i: usize| days(since(i), now).max(0.0);
    let wd = |i: usize| working(since(i), now);
    DepartmentLoad {
        department,
        open_cases: n,
        holding_p50_days: quantile_sorted(n, 0.5, cal),
        holding_p90_days: quantile_sorted(n, 0.9, cal),
        holding_p50_working_days: quantile_sorted(n, 0.5, wd),
        holding_p90_working_days: quantile_sorted(n, 0.9, wd),
    }
}

/// Where cases wait: the open cases as held by their owners, and the handoffs per edge; the
/// edges' percentiles are of whole calendar days, their delay exact.
pub fn bottlenecks_of(holding: Holding, edges: &Edges, slope_per_week: Option<f64>) -> Bottlenecks {
    let Holding {
        mut departments,
        ages,
    } = holding;
    departments.sort_by(|a, b| {
        b.holding_p90_days
            .unwrap_or(0.0)
            .total_cmp(&a.holding_p90_days.unwrap_or(0.0))
    });

    let none = Durations::default();
    let mut edges: Vec<Edge> = edges
        .queue
        .iter()
        .filter_map(|(key, queue)| {
            let [from, to, kind] = key.as_slice() else {
                return None;
            };
            let work = edges.work.get(key).unwrap_or(&none);
            let total = (queue.seconds + work.seconds) as f64 / DAY;
            let mean_delay_weeks = total / queue.n.max(1) as f64 / 7.0;
            Some(Edge {
                count: queue.n as usize,
                queue_p50_days: whole_quantile(&queue.by_days, 0.5),
                queue_p90_days: whole_quantile(&queue.by_days, 0.9),
                work_p50_days: whole_quantile(&work.by_days, 0.5),
                work_p90_days: whole_quantile(&work.by_days, 0.9),
                total_delay_days: total,
                nki_cost_per_case: slope_per_week.map(|s| -s * mean_delay_weeks),
                from: from.clone(),
                to: to.clone(),
                kind: kind.clone(),
            })
        })
        .collect();
    edges.sort_by(|a, b| b.total_delay_days.total_cmp(&a.total_delay_days));
    let labels = [
        "0–2 veckor",
        "2–6 veckor",
        "6–13 veckor",
        "3–6 månader",
        "över 6 månader",
    ];
    Bottlenecks {
        departments,
        edges,
        open_cases_by_age: labels
            .iter()
            .zip(ages)
            .map(|(b, n)| AgeBand {
                band: b.to_string(),
                open_cases: n,
            })
            .collect(),
        nki_points_per_week: slope_per_week,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Compliance {
    pub area: String,
    /// The month of the decision, YYYY-MM.
    pub month: String,
    pub decided: usize,
    pub on_time: usize,
    pub share_on_time: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadlineCase {
    pub id: i64,
    pub reference: String,
    pub area: String,
    pub department: String,
    pub due_date: NaiveDate,
    /// Working days from today (negative when past).
    pub days_left: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeeReduction {
    pub id: i64,
    pub reference: String,
    pub due_date: NaiveDate,
    pub decided_on: NaiveDate,
    /// Fifths of the fee to reduce (PBL 12 kap. 8 a §).
    pub fifths: u8,
}

/// How many cases each list of the deadlines holds at most; its total is counted.
pub const DEADLINE_LIST: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Deadlines {
    pub compliance: Vec<Compliance>,
    /// Open cases past their due date, most overdue first (at most 200: `overdue_total` counts
    /// them all).
    pub overdue: Vec<DeadlineCase>,
    pub overdue_total: usize,
    /// Open cases due within `near_days` working days, soonest first (at most 200).
    pub due_soon: Vec<DeadlineCase>,
    pub due_soon_total: usize,
    /// Building permits decided after their due date, the latest decision first (at most 200).
    pub fee_reductions: Vec<FeeReduction>,
    pub fee_reductions_total: usize,
}

pub fn deadlines(records: &[&CaseRecord], now: DateTime<Utc>, near_days: i64) -> Deadlines {
    let mut groups: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for c in records {
        if let Some(decided) = c.decided_at {
            groups
                .entry(vec![c.area.to_string(), month(decided)])
                .or_default()
                .add(&Fact::of(c));
        }
    }
    deadlines_of(&groups, records, now, near_days)
}

/// The deadlines: compliance from decided cases grouped by area and Stockholm month of decision
/// (the rollups'), the lists from `records` (which must hold at least the open cases with a due
/// date and the late building decisions in scope).
pub fn deadlines_of(
    groups: &BTreeMap<Vec<String>, Group>,
    records: &[&CaseRecord],
    now: DateTime<Utc>,
    near_days: i64,
) -> Deadlines {
    let today = date(now);
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    let mut fee_reductions = Vec::new();
    for c in records {
        let Some(due) = c.due_date else { continue };
        if let Some(decided) = c.decided_at {
            let d = date(decided);
            if c.area == "building_permit" && d > due {
                let fee = FeeReduction {
                    id: c.id,
                    reference: c.reference.clone(),
                    due_date: due,
                    decided_on: d,
                    fifths: fee_reduction_fifths(due, d),
                };
                fee_reductions.push((decided, fee));
            }
        } else if c.is_open() {
            let item = DeadlineCase {
                id: c.id,
                reference: c.reference.clone(),
                area: c.area.to_string(),
                department: c.department.to_string(),
                due_date: due,
                days_left: working_days_between(today, due),
            };
            if today > due {
                overdue.push(item);
            } else if item.days_left <= near_days {
                due_soon.push(item);
            }
        }
    }
    overdue.sort_by_key(|c| (c.due_date, c.id));
    due_soon.sort_by_key(|c| (c.due_date, c.id));
    fee_reductions.sort_by_key(|(decided, f)| std::cmp::Reverse((*decided, f.id)));
    let totals = (overdue.len(), due_soon.len(), fee_reductions.len());
    overdue.truncate(DEADLINE_LIST);
    due_soon.truncate(DEADLINE_LIST);
    fee_reductions.truncate(DEADLINE_LIST);
    Deadlines {
        compliance: groups
            .iter()
            .filter(|(_, g)| g.due > 0)
            .filter_map(|(key, g)| match key.as_slice() {
                [area, month] => Some(Compliance {
                    area: area.clone(),
                    month: month.clone(),
                    decided: g.due as usize,
                    on_time: g.on_time as usize,
                    share_on_time: g.on_time as f64 / g.due as f64,
                }),
                _ => None,
            })
            .collect(),
        overdue,
        overdue_total: totals.0,
        due_soon,
        due_soon_total: totals.1,
        fee_reductions: fee_reductions.into_iter().map(|(_, f)| f).collect(),
        fee_reductions_total: totals.2,
    }
}

/// The last date whose working days from `today` are at most `near_days`: an open case due from
/// today up to it is due soon.
pub fn due_soon_until(today: NaiveDate, near_days: i64) -> NaiveDate {
    let mut last = today;
    while let Some(next) = last.succ_opt() {
        if working_days_between(today, next) > near_days {
            break;
        }
        last = next;
    }
    last
}

/// Time spent in one status, over the stays that have ended.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StateTime {
    pub group: String,
    pub status: String,
    #[serde(flatten)]
    pub summary: Summary,
}

/// Time in each status, from the history: every stay in a status that has ended (the case moved
/// on), per group of the case and status.
pub fn time_in_state(records: &[&CaseRecord], by: GroupBy) -> Vec<StateTime> {
    let mut groups: BTreeMap<Vec<String>, Durations> = BTreeMap::new();
    for c in records {
        let key = by.key(c, c.decided_at.unwrap_or(c.received_at));
        for s in spans_of(c) {
            if let (Kind::Stay, Length::Ended(span)) = (s.measured.kind, s.length) {
                groups
                    .entry(vec![key.to_string(), s.measured.status])
                    .or_default()
                    .add(&span);
            }
        }
    }
    time_in_state_of(&groups)
}

/// Time in each status from the stays' durations keyed [group, status]: n and means exact,
/// percentiles of whole calendar days and of working days.
pub fn time_in_state_of(groups: &BTreeMap<Vec<String>, Durations>) -> Vec<StateTime> {
    groups
        .iter()
        .filter_map(|(key, d)| match key.as_slice() {
            [group, status] => Some(StateTime {
                group: group.clone(),
                status: status.clone(),
                summary: d.summary(),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::HandoffRecord;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn case(
        id: i64,
        area: &str,
        dep: &str,
        received: &str,
        decided: Option<&str>,
        nki: Option<f64>,
    ) -> CaseRecord {
        CaseRecord {
            id,
            reference: format!("BN 2026/{id:04}"),
            area: area.into(),
            case_type: None,
            department: dep.into(),
            channel: "officer".into(),
            status: if decided.is_some() {
                "decided".into()
            } else {
                "in_progress".into()
            },
            received_at: t(received),
            complete_at: Some(t(received)),
            decided_at: decided.map(t),
            due_date: None,
            owners: vec![(dep.into(), t(received))],
            handoffs: Vec::new(),
            status_changes: Vec::new(),
            survey: nki.map(|n| SurveyRecord {
                nki: n,
                factors: [Some(60.0), None, None, None, None, Some(40.0)],
            }),
        }
    }

    #[test]
    fn periods_are_stockholm_years_and_tertials() {
        assert_eq!(
            Period::Year.of(t("2025-12-31T23:30:00Z")),
            "2026",
            "Stockholm is an hour ahead"
        );
        assert_eq!(Period::Tertial.of(t("2025-04-30T21:59:00Z")), "2025-T1");
        assert_eq!(Period::Tertial.of(t("2025-04-30T22:00:00Z")), "2025-T2");
        assert_eq!(Period::Tertial.of(t("2025-09-01T08:00:00Z")), "2025-T3");
        assert_eq!(Period::named("2025"), Some(Period::Year));
        assert_eq!(Period::named("2025-T3"), Some(Period::Tertial));
        for bad in ["2025-T4", "25", "2025-T", "x025", ""] {
            assert_eq!(Period::named(bad), None, "{bad}");
        }
    }

    #[test]
    fn channels_share_per_area_and_month_and_times_per_channel() {
        let mut a = case(
            1,
            "building_permit",
            "SBF",
            "2026-11-02T08:00:00Z",
            Some("2026-11-16T08:00:00Z"),
            None,
        );
        a.channel = E_SERVICE.into();
        let mut b = case(
            2,
            "building_permit",
            "SBF",
            "2026-11-03T08:00:00Z",
            None,
            None,
        );
        b.complete_at = Some(t("2026-11-06T08:00:00Z"));
        let c = case(
            3,
            "building_permit",
            "SBF",
            "2026-11-04T08:00:00Z",
            None,
            None,
        );
        let d = case(4, "food_control", "MHF", "2026-12-01T08:00:00Z", None, None);
        let all = [&a, &b, &c, &d];
        let ch = channels(&all, 7);
        assert_eq!(ch.share.len(), 2);
        let building = &ch.share[0];
        assert_eq!(
            (building.area.as_str(), building.month.as_str()),
            ("building_permit", "2026-11")
        );
        assert_eq!((building.cases, building.e_service), (3, 1));
        assert!((building.share - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(ch.share[1].e_service, 0);
        let officer = ch.times.iter().find(|t| t.channel == "officer").unwrap();
        assert_eq!(officer.to_complete.n, 3);
        assert_eq!(officer.to_complete.p50_days, Some(0.0));
        let online = ch.times.iter().find(|t| t.channel == E_SERVICE).unwrap();
        assert_eq!(online.to_complete.mean_days, Some(0.0));
        assert_eq!(online.lead_time.mean_days, Some(14.0));
        assert!(ch.nki.is_empty(), "no answers, no groups");
    }

    #[test]
    fn handling_times_in_calendar_and_working_days() {
        // Monday 2 Nov 08:00 → Monday 16 Nov 08:00: 14 days, 10 working days.
        let a = case(
            1,
            "food_control",
            "MHF",
            "2026-11-02T07:00:00Z",
            Some("2026-11-16T07:00:00Z"),
            None,
        );
        // Monday 2 Nov → Friday 6 Nov: 4 days, 4 working days.
        let b = case(
            2,
            "food_control",
            "MHF",
            "2026-11-02T07:00:00Z",
            Some("2026-11-06T07:00:00Z"),
            None,
        );
        let open = case(3, "food_control", "MHF", "2026-11-02T07:00:00Z", None, None);
        let out = handling_times(&[&a, &b, &open], GroupBy::Department);
        assert_eq!(out.len(), 1);
        let lead = &out[0].lead_time;
        assert_eq!(
            (lead.n, lead.mean_days, lead.p50_days),
            (2, Some(9.0), Some(9.0))
        );
        assert_eq!(
            (lead.mean_working_days, lead.p90_working_days),
            (Some(7.0), Some(9.4))
        );
        let by_month = handling_times(
            &[&case(
                4,
                "x",
                "D",
                "2026-10-30T07:00:00Z",
                Some("2026-10-31T23:30:00Z"),
                None,
            )],
            GroupBy::Month,
        );
        assert_eq!(
            by_month[0].group, "2026-11",
            "decided on 1 November in Stockholm"
        );
    }

    #[test]
    fn small_groups_are_suppressed_without_numbers() {
        let records: Vec<CaseRecord> = (0..8)
            .map(|i| {
                case(
                    i,
                    if i < 6 { "food_control" } else { "fire_safety" },
                    "MHF",
                    "2026-11-02T07:00:00Z",
                    Some("2026-11-06T07:00:00Z"),
                    Some(50.0 + i as f64),
                )
            })
            .collect();
        let out = nki(&records.iter().collect::<Vec<_>>(), GroupBy::Area, 3);
        let fire = out.iter().find(|g| g.group == "fire_safety").unwrap();
        assert!(
            fire.suppressed
                && fire.nki.is_none()
                && fire.ci_low.is_none()
                && fire.factors.is_none()
                && fire.band.is_none()
        );
        assert_eq!(fire.n, 2);
        let food = out.iter().find(|g| g.group == "food_control").unwrap();
        assert_eq!(food.nki, Some(52.5));
        assert_eq!(food.band, Some(Band::Low));
        assert_eq!(food.factors.as_ref().unwrap()["information"], Some(60.0));
        assert_eq!(food.factors.as_ref().unwrap()["accessibility"], None);
    }

    #[test]
    fn edges_are_ranked_by_delay_and_priced_with_the_slope() {
        let mut a = case(
            1,
            "building_permit",
            "SBF",
            "2026-10-01T07:00:00Z",
            None,
            None,
        );
        a.handoffs.push(HandoffRecord {
            kind: "consultation".into(),
            from: "SBF".into(),
            to: "MHF".into(),
            status: "completed".into(),
            requested_at: t("2026-10-02T07:00:00Z"),
            accepted_at: Some(t("2026-10-16T07:00:00Z")),
            completed_at: Some(t("2026-10-23T07:00:00Z")),
            closed_at: None,
        });
        a.handoffs.push(HandoffRecord {
            kind: "consultation".into(),
            from: "SBF".into(),
            to: "RTJ".into(),
            status: "completed".into(),
            requested_at: t("2026-10-02T07:00:00Z"),
            accepted_at: Some(t("2026-10-03T07:00:00Z")),
            completed_at: Some(t("2026-10-04T07:00:00Z")),
            closed_at: None,
        });
        let b = bottlenecks(&[&a], Some(-2.0), t("2026-11-01T07:00:00Z"));
        assert_eq!(b.edges[0].to, "MHF");
        assert_eq!(
            (
                b.edges[0].queue_p50_days,
                b.edges[0].work_p50_days,
                b.edges[0].total_delay_days
            ),
            (Some(14.0), Some(7.0), 21.0)
        );
        assert_eq!(
            b.edges[0].nki_cost_per_case,
            Some(6.0),
            "three weeks at two points a week"
        );
        assert_eq!(b.departments[0].open_cases, 1);
        assert_eq!(
            b.open_cases_by_age[1].open_cases, 1,
            "31 days old: 2–6 weeks"
        );
    }

    #[test]
    fn compliance_and_fee_reductions() {
        let mut on_time = case(
            1,
            "building_permit",
            "SBF",
            "2026-03-02T07:00:00Z",
            Some("2026-05-11T07:00:00Z"),
            None,
        );
        on_time.due_date = Some("2026-05-11".parse().unwrap());
        let mut late = case(
            2,
            "building_permit",
            "SBF",
            "2026-03-02T07:00:00Z",
            Some("2026-05-19T07:00:00Z"),
            None,
        );
        late.due_date = Some("2026-05-11".parse().unwrap());
        let mut open = case(
            3,
            "building_permit",
            "SBF",
            "2026-09-01T07:00:00Z",
            None,
            None,
        );
        open.due_date = Some("2026-11-30".parse().unwrap());
        let d = deadlines(&[&on_time, &late, &open], t("2026-11-27T10:00:00Z"), 5);
        assert_eq!(d.compliance.len(), 1);
        assert_eq!(
            (
                d.compliance[0].decided,
                d.compliance[0].on_time,
                d.compliance[0].share_on_time
            ),
            (2, 1, 0.5)
        );
        assert_eq!(d.fee_reductions.len(), 1);
        assert_eq!(d.fee_reductions[0].fifths, 2);
        assert_eq!(d.due_soon[0].days_left, 1);
        assert!(d.overdue.is_empty());
    }

    #[test]
    fn a_deadline_list_shows_the_first_two_hundred_and_counts_them_all() {
        let now = t("2026-11-27T10:00:00Z");
        let records: Vec<CaseRecord> = (1..=205)
            .map(|i| {
                let mut c = case(i, "food_control", "MHF", "2026-01-05T07:00:00Z", None, None);
                // Due dates from 2026-03-01, one a day, in reverse id order.
                c.due_date = "2026-03-01"
                    .parse::<NaiveDate>()
                    .unwrap()
                    .checked_add_days(chrono::Days::new(205 - i as u64));
                c
            })
            .collect();
        let refs: Vec<&CaseRecord> = records.iter().collect();
        let d = deadlines(&refs, now, 5);
        assert_eq!((d.overdue.len(), d.overdue_total), (DEADLINE_LIST, 205));
        // Most overdue first: the latest ids have the earliest due dates.
        assert_eq!(d.overdue[0].id, 205);
        assert_eq!(d.overdue[DEADLINE_LIST - 1].id, 6);
        assert_eq!((d.due_soon.len(), d.due_soon_total), (0, 0));
    }

    #[test]
    fn due_soon_ends_at_the_last_date_within_the_working_days() {
        // Friday 2026-11-27: five working days ahead end on Friday 2026-12-04 (the weekend
        // after it adds none).
        let friday: NaiveDate = "2026-11-27".parse().unwrap();
        assert_eq!(due_soon_until(friday, 5), "2026-12-06".parse().unwrap());
        assert_eq!(due_soon_until(friday, 0), "2026-11-29".parse().unwrap());
    }
}
