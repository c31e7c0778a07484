//! Statistics on plain numbers: means, quantiles, t-intervals, Spearman's rank correlation with
//! a Fisher-z interval, and the least-squares slope with its standard error. Conventions follow
//! numpy/scipy so that an independent computation gives the same figures.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The sample standard deviation (n − 1).
pub fn std_dev(xs: &[f64]) -> Option<f64> {
    let m = mean(xs)?;
    (xs.len() > 1)
        .then(|| (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt())
}

/// The `p` quantile (0–1) with linear interpolation between order statistics (numpy's default).
pub fn quantile(xs: &[f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    // The two order statistics by selection, not a sort: linear in n, the same values.
    let mut v = xs.to_vec();
    let (lo, hi, frac) = positions(v.len(), p);
    let (_, at_lo, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    let at_lo = *at_lo;
    let at_hi = if hi == lo {
        at_lo
    } else {
        above.iter().copied().min_by(f64::total_cmp)?
    };
    Some(at_lo + frac * (at_hi - at_lo))
}

/// As `quantile`, of `n` values given in ascending order by `at(i)`: only the two order
/// statistics it needs are asked for.
pub fn quantile_sorted(n: usize, p: f64, at: impl Fn(usize) -> f64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let (lo, hi, frac) = positions(n, p);
    let at_lo = at(lo);
    let at_hi = if hi == lo { at_lo } else { at(hi) };
    Some(at_lo + frac * (at_hi - at_lo))
}

/// The 0-based positions of the order statistics the `p` quantile of `n` values lies between,
/// and how far between.
pub fn positions(n: usize, p: f64) -> (usize, usize, f64) {
    let h = (n.max(1) - 1) as f64 * p.clamp(0.0, 1.0);
    (h.floor() as usize, h.ceil() as usize, h - h.floor())
}

/// A sample's size, mean and sum of squared deviations from it: all that a t-interval or
/// Welch's test needs, from the values or from running sums (the rollups keep Σx and Σx²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    pub fn of(xs: &[f64]) -> Option<Self> {
        let m = mean(xs)?;
        Some(Self {
            n: xs.len() as f64,
            mean: m,
            m2: xs.iter().map(|x| (x - m).powi(2)).sum(),
        })
    }

    /// From n, Σx and Σx² (`None` for an empty sample).
    pub fn from_sums(n: u64, sum: f64, sum2: f64) -> Option<Self> {
        (n > 0).then(|| {
            let mean = sum / n as f64;
            Self {
                n: n as f64,
                mean,
                m2: (sum2 - sum * mean).max(0.0),
            }
        })
    }

    /// The sample standard deviation (n − 1).
    pub fn std_dev(&self) -> Option<f64> {
        (self.n > 1.0).then(|| (self.m2 / (self.n - 1.0)).sqrt())
    }

    /// The 95 % t-interval of the mean.
    pub fn t_interval(&self) -> Option<(f64, f64)> {
        let se = self.std_dev()? / self.n.sqrt();
        let t = StudentsT::new(0.0, 1.0, self.n - 1.0)
            .ok()?
            .inverse_cdf(0.975);
        Some((self.mean - t * se, self.mean + t * se))
    }
}

/// The 95 % t-interval of the mean.
pub fn t_interval(xs: &[f64]) -> Option<(f64, f64)> {
    Moments::of(xs)?.t_interval()
}

/// Ranks from 1, ties given their average rank.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x)?, mean(y)?);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Spearman's ρ (Pearson on average ranks, as scipy.stats.spearmanr) with a 95 % interval by the
/// Fisher transformation, `tanh(atanh(ρ) ± 1.96 / √(n − 3))`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Correlation {
    /// The pairs ρ is computed on.
    pub n: usize,
    /// The answered cases they stand for: more than `n` when ρ is computed on a sample (of the
    /// first answered cases in a fixed pseudo-random order), else `n`.
    pub population: usize,
    pub rho: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// How many pairs `x` and `y` make: `None` unless they are as long as each other and at least
/// `min` long.
fn paired_len(x: &[f64], y: &[f64], min: usize) -> Option<usize> {
    (x.len() == y.len() && x.len() >= min).then_some(x.len())
}

pub fn spearman(x: &[f64], y: &[f64]) -> Option<Correlation> {
    let n = paired_len(x, y, 4)?;
    let rho = pearson(&ranks(x), &ranks(y))?;
    let z = rho.clamp(-0.999_999_999, 0.999_999_999).atanh();
    let q = Normal::new(0.0, 1.0).ok()?.inverse_cdf(0.975);
    let half = q / ((n - 3) as f64).sqrt();
    Some(Correlation {
        n,
        population: n,
        rho,
        ci_low: (z - half).tanh(),
        ci_high: (z + half).tanh(),
    })
}

/// The ordinary least-squares line `y = intercept + slope · x`, with the slope's standard error
/// and 95 % t-interval (n − 2 degrees of freedom), as statsmodels' OLS reports them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Regression {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

pub fn ols(x: &[f64], y: &[f64]) -> Option<Regression> {
    let n = paired_len(x, y, 3)?;
    let (mx, my) = (mean(x)?, mean(y)?);
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - intercept - slope * a).powi(2))
        .sum();
    Regression::fitted(n, (n - 2) as f64, (slope, intercept), sse, sxx)
}

/// The OLS slope of `y` on `x` within groups: each group's values centred on its own means
/// before fitting (the fixed-effects "within" estimator), so that a group that is both slow and
/// unpopular does not pass for an effect of time. Degrees of freedom n − groups − 1, as
/// statsmodels' `y ~ x + C(group)`: a group of one counts in n and in the groups (its centred
/// point is 0, 0), and so adds nothing but is not dropped from n.
pub fn within_slope(groups: &[(Vec<f64>, Vec<f64>)]) -> Option<Regression> {
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut k = 0;
    for (gx, gy) in groups {
        if gx.is_empty() {
            continue;
        }
        let (mx, my) = (mean(gx)?, mean(gy)?);
        x.extend(gx.iter().map(|v| v - mx));
        y.extend(gy.iter().map(|v| v - my));
        k += 1;
    }
    let n = x.len();
    if k == 0 || n < k + 2 {
        return None;
    }
    let sxx: f64 = x.iter().map(|a| a * a).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>() / sxx;
    let sse: f64 = x.iter().zip(&y).map(|(a, b)| (b - slope * a).powi(2)).sum();
    Regression::within(n, k, slope, sse, sxx)
}

impl Regression {
    /// The within-groups fit of `slope` over `n` points in `k` groups, with its residual sum of
    /// squares and the centred Σx²: its standard error and 95 % interval on n − k − 1 degrees
    /// of freedom.
    pub fn within(n: usize, k: usize, slope: f64, sse: f64, sxx: f64) -> Option<Regression> {
        Regression::fitted(n, (n - k - 1) as f64, (slope, 0.0), sse, sxx)
    }

    /// A line fitted over `n` points with `df` residual degrees of freedom, its residual sum of
    /// squares and the centred Σx²: its standard error and 95 % t-interval.
    pub fn fitted(
        n: usize,
        df: f64,
        (slope, intercept): (f64, f64),
        sse: f64,
        sxx: f64,
    ) -> Option<Regression> {
        let std_error = (sse / df / sxx).sqrt();
        let t = StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975);
        Some(Regression {
            n,
            slope,
            intercept,
            std_error,
            ci_low: slope - t * std_error,
            ci_high: slope + t * std_error,
        })
    }
}

/// Welch's t-test of the difference of two means: the difference (`b − a`), its 95 % interval
/// on the Welch–Satterthwaite degrees of freedom, and the two-sided p-value, as
/// `scipy.stats.ttest_ind(b, a, equal_var=False)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub df: f64,
}

pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    welch_of(Moments::of(a)?, Moments::of(b)?)
}

/// Welch's test from each sample's moments.
pub fn welch_of(a: Moments, b: Moments) -> Option<Welch> {
    let (na, nb) = (a.n, b.n);
    let va = a.std_dev()?.powi(2) / na;
    let vb = b.std_dev()?.powi(2) / nb;
    let se = (va + vb).sqrt();
    if se == 0.0 || !se.is_finite() {
        return None;
    }
    let difference = b.mean - a.mean;
    let df = (va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let half = t.inverse_cdf(0.975) * se;
    Some(Welch {
        difference,
        ci_low: difference - half,
        ci_high: difference + half,
        p_value: (2.0 * (1.0 - t.cdf((difference / se).abs()))).clamp(0.0, 1.0),
        df,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: [f64; 12] = [1.0, 2.5, 2.5, 4.0, 7.0, 3.0, 9.5, 11.0, 6.0, 8.0, 12.5, 5.0];
    const Y: [f64; 12] = [
        88.9, 81.5, 77.8, 74.1, 70.4, 85.2, 59.3, 55.6, 66.7, 62.9, 51.9, 77.8,
    ];

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} ≠ {b}");
    }

    /// Expected values computed with numpy 1.x / scipy 1.x / statsmodels (see the note in
    /// docs/metrics.md): np.quantile, scipy.stats.t.interval, scipy.stats.spearmanr, sm.OLS.
    #[test]
    fn agree_with_numpy_scipy_and_statsmodels() {
        close(mean(&Y).unwrap(), 71.00833333333334);
        close(quantile(&X, 0.5).unwrap(), 5.5);
        close(quantile(&X, 0.9).unwrap(), 10.85);
        close(quantile(&X, 0.25).unwrap(), 2.875);
        let (lo, hi) = t_interval(&Y).unwrap();
        close(lo, ORACLE.t_low);
        close(hi, ORACLE.t_high);
        let c = spearman(&X, &Y).unwrap();
        close(c.rho, ORACLE.rho);
        close(c.ci_low, ORACLE.rho_low);
        close(c.ci_high, ORACLE.rho_high);
        let r = ols(&X, &Y).unwrap();
        close(r.slope, ORACLE.slope);
        close(r.intercept, ORACLE.intercept);
        close(r.std_error, ORACLE.se);
        close(r.ci_low, ORACLE.slope_low);
        close(r.ci_high, ORACLE.slope_high);
    }

    struct Oracle {
        t_low: f64,
        t_high: f64,
        rho: f64,
        rho_low: f64,
        rho_high: f64,
        slope: f64,
        intercept: f64,
        se: f64,
        slope_low: f64,
        slope_high: f64,
    }

    const ORACLE: Oracle = include!("../oracle/stats.rs.in");

    #[test]
    fn quantiles_by_selection_equal_those_of_the_sorted_values() {
        // A fixed pseudo-random sample with ties.
        let mut x = 7u64;
        let xs: Vec<f64> = (0..1001)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) % 97) as f64 / 4.0
            })
            .collect();
        for n in [1, 2, 3, 10, 1001] {
            let mut s = xs[..n].to_vec();
            s.sort_by(f64::total_cmp);
            for p in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0] {
                let h = (n - 1) as f64 * p;
                let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
                let expected = s[lo] + (h - lo as f64) * (s[hi] - s[lo]);
                assert_eq!(quantile(&xs[..n], p), Some(expected), "n {n}, p {p}");
                // Asked for the two order statistics alone, the same figure.
                let asked = std::cell::RefCell::new(Vec::new());
                let sorted = quantile_sorted(n, p, |i| {
                    asked.borrow_mut().push(i);
                    s[i]
                });
                assert_eq!(sorted, Some(expected), "n {n}, p {p}");
                assert!(asked.borrow().iter().all(|&i| i == lo || i == hi));
            }
        }
        assert_eq!(quantile_sorted(0, 0.5, |_| unreachable!()), None);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), [2.0, 3.5, 3.5, 1.0]);
    }

    #[test]
    fn the_within_slope_ignores_differences_between_groups() {
        // Two groups with the same slope −2 but far apart: pooled OLS would see a rising line.
        let a = (vec![1.0, 2.0, 3.0, 4.0], vec![50.0, 48.0, 46.0, 44.0]);
        let b = (vec![11.0, 12.0, 13.0, 14.0], vec![90.0, 88.0, 86.0, 84.1]);
        let pooled = ols(
            &[a.0.clone(), b.0.clone()].concat(),
            &[a.1.clone(), b.1.clone()].concat(),
        )
        .unwrap();
        assert!(pooled.slope > 0.0);
        let within = within_slope(&[a.clone(), b.clone()]).unwrap();
        assert!((within.slope + 2.0).abs() < 0.02, "{}", within.slope);
        // A group of one answer changes nothing but n (statsmodels' nobs): the same slope,
        // standard error and interval, since it adds one observation and one group.
        let with_one = within_slope(&[a, b, (vec![7.0], vec![60.0])]).unwrap();
        assert_eq!(with_one.n, within.n + 1);
        assert!((with_one.slope - within.slope).abs() < 1e-12);
        assert!((with_one.std_error - within.std_error).abs() < 1e-12);
        assert!((with_one.ci_low - within.ci_low).abs() < 1e-12);
    }

    #[test]
    fn welch_agrees_with_scipy() {
        // scipy.stats.ttest_ind(b, a, equal_var=False) and its confidence_interval(0.95).
        let a = [64.0, 70.0, 58.0, 61.0, 72.0, 66.0, 59.0, 63.0, 68.0, 60.0];
        let b = [
            71.0, 75.0, 69.0, 80.0, 66.0, 74.0, 78.0, 70.0, 72.0, 77.0, 73.0,
        ];
        let w = welch(&a, &b).unwrap();
        close(w.difference, 9.081818181818193);
        close(w.ci_low, 4.944461408625547);
        close(w.ci_high, 13.219174955010839);
        close(w.p_value, 0.00021711109394622252);
        close(w.df, 17.975367644551486);
        assert!(welch(&[70.0], &b).is_none(), "one answer has no variance");
        assert!(
            welch(&[70.0, 70.0], &[70.0, 70.0]).is_none(),
            "no spread, no test"
        );
    }

    #[test]
    fn too_little_data_gives_nothing() {
        assert_eq!(mean(&[]), None);
        assert_eq!(t_interval(&[1.0]), None);
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(ols(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }
}
