//! NKI (Nöjd-Kund-Index): scoring one answer with the survey instrument, and the reporting bands.
//!
//! The default instrument: three index questions (overall satisfaction, expectations met,
//! closeness to the ideal) on a 1–10 scale, rescaled `(x − 1) / 9 × 100` and averaged with equal
//! weights; six service factors on a 1–6 scale, each rescaled `(x − 1) / 5 × 100`.

use serde::{Deserialize, Serialize};

/// The six service factors, in their fixed order.
pub const FACTORS: [&str; 6] = [
    "information",
    "accessibility",
    "treatment",
    "competence",
    "legal_certainty",
    "efficiency",
];

/// A factor's name as Insikt's Swedish reports give it; the name itself if it is not a factor.
pub fn factor_label_sv(factor: &str) -> &str {
    match factor {
        "information" => "Information",
        "accessibility" => "Tillgänglighet",
        "treatment" => "Bemötande",
        "competence" => "Kompetens",
        "legal_certainty" => "Rättssäkerhet",
        "efficiency" => "Effektivitet",
        other => other,
    }
}

/// The survey instrument: scales and the weights of the three index questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Instrument {
    /// Weights of q_overall, q_expectations, q_ideal.
    pub index_weights: [f64; 3],
    pub index_scale: (u8, u8),
    pub factor_scale: (u8, u8),
}

impl Default for Instrument {
    fn default() -> Self {
        Self {
            index_weights: [1.0, 1.0, 1.0],
            index_scale: (1, 10),
            factor_scale: (1, 6),
        }
    }
}

/// One respondent's answers; a factor may be left out ("vet ej").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answers {
    pub q_overall: i64,
    pub q_expectations: i64,
    pub q_ideal: i64,
    pub factors: [Option<i64>; 6],
}

/// The indices of one answer, 0–100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub nki: f64,
    pub factors: [Option<f64>; 6],
}

impl Instrument {
    pub fn validate(&self) -> Result<(), String> {
        let (lo, hi) = self.index_scale;
        let (flo, fhi) = self.factor_scale;
        if lo >= hi || flo >= fhi {
            return Err("a scale must run from a lower to a higher value".into());
        }
        if self
            .index_weights
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
            || self.index_weights.iter().sum::<f64>() <= 0.0
        {
            return Err("index weights must be non-negative and not all zero".into());
        }
        Ok(())
    }

    /// Every answer outside its scale, as (field, message).
    pub fn check(&self, a: &Answers) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let (lo, hi) = self.index_scale;
        for (name, v) in [
            ("q_overall", a.q_overall),
            ("q_expectations", a.q_expectations),
            ("q_ideal", a.q_ideal),
        ] {
            if !(i64::from(lo)..=i64::from(hi)).contains(&v) {
                out.push((
                    name.to_string(),
                    format!("must be a whole number from {lo} to {hi}"),
                ));
            }
        }
        let (lo, hi) = self.factor_scale;
        for (name, v) in FACTORS.iter().zip(a.factors) {
            if v.is_some_and(|v| !(i64::from(lo)..=i64::from(hi)).contains(&v)) {
                out.push((
                    format!("factors.{name}"),
                    format!("must be a whole number from {lo} to {hi}"),
                ));
            }
        }
        out
    }

    /// The NKI and factor indices of a valid answer.
    pub fn score(&self, a: &Answers) -> Scores {
        let rescale =
            |x: i64, (lo, hi): (u8, u8)| (x - i64::from(lo)) as f64 / f64::from(hi - lo) * 100.0;
        let w = self.index_weights;
        let q = [a.q_overall, a.q_expectations, a.q_ideal];
        let nki = q
            .iter()
            .zip(w)
            .map(|(x, w)| rescale(*x, self.index_scale) * w)
            .sum::<f64>()
            / w.iter().sum::<f64>();
        Scores {
            nki,
            factors: a.factors.map(|f| f.map(|x| rescale(x, self.factor_scale))),
        }
    }
}

/// The reporting bands of NKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// ≥ 80, mycket högt
    VeryHigh,
    /// 70–79, högt
    High,
    /// 62–69, godkänt
    Acceptable,
    /// 50–61, lågt
    Low,
    /// < 50, mycket lågt
    VeryLow,
}

pub fn band(nki: f64) -> Band {
    match nki {
        n if n >= 80.0 => Band::VeryHigh,
        n if n >= 70.0 => Band::High,
        n if n >= 62.0 => Band::Acceptable,
        n if n >= 50.0 => Band::Low,
        _ => Band::VeryLow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(q: [i64; 3], f: [Option<i64>; 6]) -> Answers {
        Answers {
            q_overall: q[0],
            q_expectations: q[1],
            q_ideal: q[2],
            factors: f,
        }
    }

    #[test]
    fn the_default_instrument_rescales_and_averages() {
        let i = Instrument::default();
        let s = i.score(&answers([10, 10, 10], [Some(6); 6]));
        assert_eq!(s.nki, 100.0);
        assert_eq!(s.factors, [Some(100.0); 6]);
        let s = i.score(&answers([1, 1, 1], [Some(1), None, None, None, None, None]));
        assert_eq!(s.nki, 0.0);
        assert_eq!(s.factors[0], Some(0.0));
        assert_eq!(s.factors[1], None);
        // (7/9 + 6/9 + 6/9) / 3 × 100 = 70.37…; factor 5 → 80, 4 → 60.
        let s = i.score(&answers(
            [8, 7, 7],
            [Some(5), Some(4), None, None, None, None],
        ));
        assert!((s.nki - (7.0 + 6.0 + 6.0) / 27.0 * 100.0).abs() < 1e-9);
        assert_eq!(s.factors[0], Some(80.0));
        assert_eq!(s.factors[1], Some(60.0));
    }

    #[test]
    fn weights_are_configurable() {
        let i = Instrument {
            index_weights: [2.0, 1.0, 1.0],
            ..Default::default()
        };
        let s = i.score(&answers([10, 1, 1], [None; 6]));
        assert!((s.nki - 50.0).abs() < 1e-9);
        assert!(
            Instrument {
                index_weights: [0.0; 3],
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn out_of_range_answers_are_named() {
        let i = Instrument::default();
        let bad = i.check(&answers(
            [0, 11, 5],
            [Some(7), Some(0), None, None, None, Some(6)],
        ));
        let fields: Vec<&str> = bad.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "q_overall",
                "q_expectations",
                "factors.information",
                "factors.accessibility"
            ]
        );
    }

    #[test]
    fn bands_follow_the_reporting_rules() {
        assert_eq!(band(80.0), Band::VeryHigh);
        assert_eq!(band(79.9), Band::High);
        assert_eq!(band(70.0), Band::High);
        assert_eq!(band(69.9), Band::Acceptable);
        assert_eq!(band(62.0), Band::Acceptable);
        assert_eq!(band(61.9), Band::Low);
        assert_eq!(band(50.0), Band::Low);
        assert_eq!(band(49.9), Band::VeryLow);
    }
}
