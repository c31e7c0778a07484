//! The sufficient statistics of a group of cases, and the figures they give. The same
//! accumulators fold facts one by one (a month cut by a date filter, the in-memory records) and
//! add rollup rows, so both routes give the same figures by construction.

use std::collections::BTreeMap;

use lots_core::nki::{FACTORS, band};

use crate::compute::{NkiGroup, Summary};
use crate::rollup::fact::{Answer, Fact, Span};
use crate::stats::{Moments, Regression};

const DAY: f64 = 86_400.0;

/// Durations of a group: their count and sums, and exact histograms of whole days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Durations {
    pub n: u64,
    pub seconds: i64,
    pub working: i64,
    /// Whole calendar days → how many.
    pub by_days: BTreeMap<i64, u64>,
    /// Working days → how many.
    pub by_working: BTreeMap<i64, u64>,
}

impl Durations {
    pub fn add(&mut self, s: &Span) {
        self.n += 1;
        self.seconds += s.seconds;
        self.working += s.working;
        *self.by_days.entry(s.days).or_default() += 1;
        *self.by_working.entry(s.working).or_default() += 1;
    }

    /// Adds `n` durations as long as `like` in whole days and working days, whose seconds sum
    /// to `seconds` (`span_db::durations`: running spans that began in the same hour, ended
    /// spans counted per whole days and working days).
    pub fn add_alike(&mut self, like: &Span, n: u64, seconds: i64) {
        self.n += n;
        self.seconds += seconds;
        self.working += like.working * n as i64;
        *self.by_days.entry(like.days).or_default() += n;
        *self.by_working.entry(like.working).or_default() += n;
    }

    pub fn merge(&mut self, o: &Durations) {
        self.n += o.n;
        self.seconds += o.seconds;
        self.working += o.working;
        for (mine, theirs) in [
            (&mut self.by_days, &o.by_days),
            (&mut self.by_working, &o.by_working),
        ] {
            for (v, n) in theirs {
                *mine.entry(*v).or_default() += n;
            }
        }
    }

    /// n, the means (calendar days from the exact seconds), p50 and p90 of the whole days.
    pub fn summary(&self) -> Summary {
        let n = self.n as f64;
        let mean = |sum: f64| (self.n > 0).then(|| sum / n);
        Summary {
            n: self.n as usize,
            mean_days: mean(self.seconds as f64 / DAY),
            p50_days: quantile(&self.by_days, 0.5),
            p90_days: quantile(&self.by_days, 0.9),
            mean_working_days: mean(self.working as f64),
            p50_working_days: quantile(&self.by_working, 0.5),
            p90_working_days: quantile(&self.by_working, 0.9),
        }
    }
}

/// The `p` quantile of the values a histogram counts, with linear interpolation between order
/// statistics (numpy's default), exactly as over the values themselves.
pub fn quantile(hist: &BTreeMap<i64, u64>, p: f64) -> Option<f64> {
    let total: u64 = hist.values().sum();
    if total == 0 {
        return None;
    }
    let h = (total - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as u64;
    let nth = |k: u64| -> f64 {
        let mut seen = 0;
        for (v, n) in hist {
            seen += n;
            if k < seen {
                return *v as f64;
            }
        }
        hist.keys().next_back().map_or(0.0, |v| *v as f64)
    };
    let (a, b) = (nth(lo), nth(h.ceil() as u64));
    Some(a + (h - lo as f64) * (b - a))
}

/// n, Σx and Σx² of some values: their mean, and with the spread, their t-interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub n: u64,
    pub sum: f64,
    pub sum2: f64,
}

impl Sums {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum2 += x * x;
    }

    pub fn merge(&mut self, o: &Sums) {
        self.n += o.n;
        self.sum += o.sum;
        self.sum2 += o.sum2;
    }

    pub fn moments(&self) -> Option<Moments> {
        Moments::from_sums(self.n, self.sum, self.sum2)
    }

    /// As an NKI group (the values standing for NKI: an Insikt factor's own index); below the
    /// reporting threshold only `n` and `suppressed` are given.
    pub fn group(&self, group: String, threshold: usize) -> NkiGroup {
        Answers {
            nki: *self,
            ..Answers::default()
        }
        .group(group, threshold)
    }
}

/// Survey answers of a group: NKI's and each factor's sums, and lead time in weeks against NKI
/// (the linkage's regression sums).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub nki: Sums,
    pub weeks: f64,
    pub weeks2: f64,
    pub weeks_nki: f64,
    pub factors: [Sums; 6],
}

impl Answers {
    pub fn add(&mut self, a: &Answer, weeks: f64) {
        self.nki.add(a.nki);
        self.weeks += weeks;
        self.weeks2 += weeks * weeks;
        self.weeks_nki += weeks * a.nki;
        for (slot, v) in self.factors.iter_mut().zip(a.factors) {
            if let Some(v) = v {
                slot.add(v);
            }
        }
    }

    pub fn merge(&mut self, o: &Answers) {
        self.nki.merge(&o.nki);
        self.weeks += o.weeks;
        self.weeks2 += o.weeks2;
        self.weeks_nki += o.weeks_nki;
        for (a, b) in self.factors.iter_mut().zip(&o.factors) {
            a.merge(b);
        }
    }

    pub fn n(&self) -> u64 {
        self.nki.n
    }

    pub fn moments(&self) -> Option<Moments> {
        self.nki.moments()
    }

    /// NKI of the group; below the reporting threshold only `n` and `suppressed` are given.
    pub fn group(&self, group: String, threshold: usize) -> NkiGroup {
        let n = self.nki.n as usize;
        if n < threshold {
            return NkiGroup {
                group,
                n,
                suppressed: true,
                nki: None,
                ci_low: None,
                ci_high: None,
                band: None,
                factors: None,
            };
        }
        let m = self.moments();
        let ci = m.and_then(|m| m.t_interval());
        let factors = FACTORS
            .iter()
            .zip(&self.factors)
            .map(|(name, f)| (name.to_string(), f.moments().map(|m| m.mean)))
            .collect();
        NkiGroup {
            group,
            n,
            suppressed: false,
            nki: m.map(|m| m.mean),
            ci_low: ci.map(|c| c.0),
            ci_high: ci.map(|c| c.1),
            band: m.map(|m| band(m.mean)),
            factors: Some(factors),
        }
    }
}

/// The OLS slope of NKI on lead time in weeks within groups (each group centred on its own
/// means), from each group's sums: `stats::within_slope` over the values, without them.
pub fn within_slope(groups: &[&Answers]) -> Option<Regression> {
    let (mut n, mut k) = (0u64, 0usize);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for g in groups.iter().filter(|g| g.n() > 0) {
        let m = g.n() as f64;
        sxx += g.weeks2 - g.weeks * g.weeks / m;
        sxy += g.weeks_nki - g.weeks * g.nki.sum / m;
        syy += g.nki.sum2 - g.nki.sum * g.nki.sum / m;
        n += g.n();
        k += 1;
    }
    let n = n as usize;
    if k == 0 || n < k + 2 || sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Regression::within(n, k, slope, (syy - slope * sxy).max(0.0), sxx)
}

/// The OLS line of NKI on lead time in weeks over a group, from its sums: `stats::ols` over the
/// values, without them.
pub fn ols(a: &Answers) -> Option<Regression> {
    let n = a.n();
    if n < 3 {
        return None;
    }
    let m = n as f64;
    let sxx = a.weeks2 - a.weeks * a.weeks / m;
    // Equal lead times leave only rounding in Σx² − (Σx)²/n.
    if sxx <= 1e-12 * a.weeks2.max(1.0) {
        return None;
    }
    let sxy = a.weeks_nki - a.weeks * a.nki.sum / m;
    let syy = a.nki.sum2 - a.nki.sum * a.nki.sum / m;
    let slope = sxy / sxx;
    let intercept = (a.nki.sum - slope * a.weeks) / m;
    Regression::fitted(
        n as usize,
        m - 2.0,
        (slope, intercept),
        (syy - slope * sxy).max(0.0),
        sxx,
    )
}

/// Everything the rollups keep of a group of cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub cases: u64,
    pub lead: Durations,
    pub statutory: Durations,
    pub answers: Answers,
    /// Received → complete application, of every case whose clock started.
    pub to_complete: Durations,
    /// Decided cases with a due date, and of them those decided on or before it.
    pub due: u64,
    pub on_time: u64,
}

impl Group {
    pub fn add(&mut self, f: &Fact) {
        self.cases += 1;
        if let Some(s) = &f.lead {
            self.lead.add(s);
            if let Some(a) = &f.answer {
                self.answers.add(a, s.weeks());
            }
        }
        if let Some(s) = &f.statutory {
            self.statutory.add(s);
        }
        if let Some(s) = &f.to_complete {
            self.to_complete.add(s);
        }
        if let Some(on_time) = f.on_time {
            self.due += 1;
            self.on_time += u64::from(on_time);
        }
    }

    /// The histogram of a `rollup_hist` measure (as `hist_mut`).
    pub fn hist(&self, measure: i32) -> Option<&BTreeMap<i64, u64>> {
        Some(match measure {
            0 => &self.lead.by_days,
            1 => &self.lead.by_working,
            2 => &self.statutory.by_days,
            3 => &self.statutory.by_working,
            4 => &self.to_complete.by_days,
            5 => &self.to_complete.by_working,
            _ => return None,
        })
    }

    /// The histogram a `rollup_hist` measure counts into: 0 lead time in calendar days, 1 in
    /// working days, 2 and 3 the statutory time, 4 and 5 the time to a complete application.
    pub fn hist_mut(&mut self, measure: i32) -> Option<&mut BTreeMap<i64, u64>> {
        Some(match measure {
            0 => &mut self.lead.by_days,
            1 => &mut self.lead.by_working,
            2 => &mut self.statutory.by_days,
            3 => &mut self.statutory.by_working,
            4 => &mut self.to_complete.by_days,
            5 => &mut self.to_complete.by_working,
            _ => return None,
        })
    }

    pub fn merge(&mut self, o: &Group) {
        self.cases += o.cases;
        self.lead.merge(&o.lead);
        self.statutory.merge(&o.statutory);
        self.answers.merge(&o.answers);
        self.to_complete.merge(&o.to_complete);
        self.due += o.due;
        self.on_time += o.on_time;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histograms_quantiles_are_the_values_quantiles() {
        let values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let mut hist = BTreeMap::new();
        for v in values {
            *hist.entry(v as i64).or_default() += 1;
        }
        for p in [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(
                quantile(&hist, p),
                crate::stats::quantile(&values, p),
                "p = {p}"
            );
        }
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
    }

    #[test]
    fn the_within_slope_from_sums_is_the_slope_from_the_values() {
        let groups: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![1.0, 2.5, 4.0, 7.0], vec![80.0, 71.0, 66.0, 52.0]),
            (vec![0.5, 3.0, 3.5], vec![90.0, 70.0, 75.0]),
            (vec![2.0], vec![60.0]),
        ];
        let sums: Vec<Answers> = groups
            .iter()
            .map(|(x, y)| {
                let mut a = Answers::default();
                for (w, v) in x.iter().zip(y) {
                    a.add(
                        &Answer {
                            nki: *v,
                            factors: [None; 6],
                        },
                        *w,
                    );
                }
                a
            })
            .collect();
        let from_sums = within_slope(&sums.iter().collect::<Vec<_>>()).unwrap();
        let from_values = crate::stats::within_slope(&groups).unwrap();
        assert_eq!(from_sums.n, from_values.n);
        for (a, b) in [
            (from_sums.slope, from_values.slope),
            (from_sums.std_error, from_values.std_error),
            (from_sums.ci_low, from_values.ci_low),
            (from_sums.ci_high, from_values.ci_high),
        ] {
            assert!((a - b).abs() < 1e-9, "{a} against {b}");
        }
        assert_eq!(within_slope(&[]), None);
    }

    #[test]
    fn the_line_from_sums_is_the_line_from_the_values() {
        let x = [1.0, 2.5, 4.0, 7.0, 0.5, 3.0, 3.5];
        let y = [80.0, 71.0, 66.0, 52.0, 90.0, 70.0, 75.0];
        let mut a = Answers::default();
        for (w, v) in x.iter().zip(&y) {
            a.add(
                &Answer {
                    nki: *v,
                    factors: [None; 6],
                },
                *w,
            );
        }
        let (s, v) = (ols(&a).unwrap(), crate::stats::ols(&x, &y).unwrap());
        assert_eq!(s.n, v.n);
        for (p, q) in [
            (s.slope, v.slope),
            (s.intercept, v.intercept),
            (s.std_error, v.std_error),
            (s.ci_low, v.ci_low),
            (s.ci_high, v.ci_high),
        ] {
            assert!((p - q).abs() < 1e-9, "{p} against {q}");
        }
        // Equal lead times fit no line.
        let mut flat = Answers::default();
        for v in y {
            flat.add(
                &Answer {
                    nki: v,
                    factors: [None; 6],
                },
                2.0,
            );
        }
        assert_eq!(ols(&flat), None);
    }

    #[test]
    fn nki_from_sums_is_nki_from_the_answers() {
        let nki = [70.0, 55.5, 81.25, 90.0, 66.6, 72.0, 48.0, 77.7];
        let mut a = Answers::default();
        for v in nki {
            a.add(
                &Answer {
                    nki: v,
                    factors: [Some(v), None, None, None, None, None],
                },
                1.0,
            );
        }
        let g = a.group("x".into(), 7);
        let m = crate::stats::mean(&nki).unwrap();
        let (lo, hi) = crate::stats::t_interval(&nki).unwrap();
        assert!((g.nki.unwrap() - m).abs() < 1e-9);
        assert!((g.ci_low.unwrap() - lo).abs() < 1e-9);
        assert!((g.ci_high.unwrap() - hi).abs() < 1e-9);
        let f = g.factors.unwrap();
        assert!((f["information"].unwrap() - m).abs() < 1e-9);
        assert_eq!(f["accessibility"], None);
        // Under the threshold: the count only.
        let s = a.group("x".into(), 9);
        assert!(s.suppressed && s.nki.is_none() && s.factors.is_none());
    }
}
