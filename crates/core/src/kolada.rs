//! Kolada, the public database of municipal key figures: the Insikt KPIs (NKI of companies'
//! contacts with the municipality's authorities) and reading the responses of its API. Both the
//! v2 and the v3 shapes are read: `{"values": [{"kpi", "municipality", "period", "values":
//! [{"gender", "count", "status", "value"}]}]}`, where v3 may name the municipality
//! `municipality_id` and give the period as text. A value with a status flag (too few answers,
//! missing) is missing, never zero.

use serde::Deserialize;
use serde_json::Value;

use crate::Area;

/// Insikt's NKI per authority area; `None` is the total over all areas.
pub const NKI_KPIS: [(&str, Option<Area>); 7] = [
    ("U07451", None),
    ("U07447", Some(Area::BuildingPermit)),
    ("U07449", Some(Area::EnvironmentHealth)),
    ("U07455", Some(Area::FoodControl)),
    ("U07450", Some(Area::ServingLicence)),
    ("U07446", Some(Area::FireSafety)),
    ("U07448", Some(Area::LandUse)),
];

/// Insikt's service factors, total over the areas, in the order of `nki::FACTORS` (information,
/// accessibility, treatment, competence, legal certainty, efficiency): `FACTOR_KPIS[i]` is the
/// official index of the factor Lots' own survey records as `factors[i]`.
pub const FACTOR_KPIS: [&str; 6] = ["U07508", "U07509", "U07510", "U07511", "U07512", "U07513"];

/// Whether Lots keeps values of `kpi`.
pub fn is_insikt(kpi: &str) -> bool {
    NKI_KPIS.iter().any(|(k, _)| *k == kpi) || FACTOR_KPIS.contains(&kpi)
}

/// One value of one KPI for one municipality, year and gender.
#[derive(Debug, Clone, PartialEq)]
pub struct KoladaValue {
    pub kpi: String,
    /// SCB's four-digit kommunkod (`0136`); `0000` is the whole country.
    pub municipality: String,
    pub period: i32,
    /// `T` (total), `K`, `M`.
    pub gender: String,
    /// `None` when flagged or absent.
    pub value: Option<f64>,
    /// Kolada's flag, e.g. `Missing`; `None` for a plain value.
    pub status: Option<String>,
    pub count: Option<i32>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KoladaError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("no `values` array at the top: not a Kolada response")]
    NoValues,
    #[error("values[{0}]: {1}")]
    Item(usize, String),
}

#[derive(Deserialize)]
struct Response {
    values: Option<Vec<Value>>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The values of a Kolada response (v2 or v3) of the Insikt KPIs; other KPIs are left out.
pub fn parse(json: &str) -> Result<Vec<KoladaValue>, KoladaError> {
    let r: Response = serde_json::from_str(json).map_err(|e| KoladaError::Json(e.to_string()))?;
    let items = r.values.ok_or(KoladaError::NoValues)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let bad = |m: &str| KoladaError::Item(i, m.to_string());
        let kpi = item
            .get("kpi")
            .and_then(text)
            .ok_or_else(|| bad("no `kpi`"))?;
        if !is_insikt(&kpi) {
            continue;
        }
        let municipality = item
            .get("municipality")
            .or_else(|| item.get("municipality_id"))
            .and_then(text)
            .filter(|m| m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad("`municipality` is not a four-digit kommunkod"))?;
        let period = item
            .get("period")
            .and_then(text)
            .and_then(|p| p.parse::<i32>().ok())
            .filter(|p| (1990..=2100).contains(p))
            .ok_or_else(|| bad("`period` is not a year"))?;
        let values = item
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no `values` array"))?;
        for v in values {
            let gender = v
                .get("gender")
                .and_then(text)
                .filter(|g| matches!(g.as_str(), "T" | "K" | "M"))
                .ok_or_else(|| bad("`gender` must be T, K or M"))?;
            let status = v.get("status").and_then(text).filter(|s| !s.is_empty());
            let value = v
                .get("value")
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite() && status.is_none());
            let count = v
                .get("count")
                .and_then(Value::as_i64)
                .and_then(|c| i32::try_from(c).ok());
            out.push(KoladaValue {
                kpi: kpi.clone(),
                municipality: municipality.clone(),
                period,
                gender,
                value,
                status,
                count,
            });
        }
    }
    Ok(out)
}

/// The median of `xs` (numpy's: the mean of the two middle values of an even count).
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Where `own` stands among `all` (which holds it): rank 1 for the highest (ties share the
/// better rank), how many have a value, and the share with a lower value (0–100).
pub fn standing(own: f64, all: &[f64]) -> (usize, usize, f64) {
    let above = all.iter().filter(|v| **v > own).count();
    let below = all.iter().filter(|v| **v < own).count();
    let of = all.len();
    (
        above + 1,
        of,
        if of == 0 {
            0.0
        } else {
            100.0 * below as f64 / of as f64
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_v3_shapes_and_flags_read_as_missing_not_zero() {
        let v2 = r#"{"count": 2, "values": [
            {"kpi": "U07447", "municipality": "0136", "period": 2024,
             "values": [{"count": 1, "gender": "T", "status": "", "value": 71.0}]},
            {"kpi": "U07447", "municipality": "0180", "period": 2024,
             "values": [{"count": 1, "gender": "T", "status": "Missing", "value": null}]},
            {"kpi": "N00945", "municipality": "0180", "period": 2024,
             "values": [{"count": 1, "gender": "T", "status": "", "value": 5}]}]}"#;
        let got = parse(v2).unwrap();
        assert_eq!(got.len(), 2, "another KPI is left out");
        assert_eq!(got[0].value, Some(71.0));
        assert_eq!(got[1].value, None);
        assert_eq!(got[1].status.as_deref(), Some("Missing"));
        let v3 = r#"{"values": [{"kpi": "U07451", "municipality_id": "0136", "period": "2025",
            "values": [{"gender": "T", "count": 1, "status": null, "value": 64.5},
                       {"gender": "K", "count": 1, "status": "Too few", "value": 12}]}]}"#;
        let got = parse(v3).unwrap();
        assert_eq!((got[0].period, got[0].value), (2025, Some(64.5)));
        assert_eq!(
            got[1].value, None,
            "a flagged value is missing even with a number"
        );
        assert_eq!(parse("{}"), Err(KoladaError::NoValues));
        let bad = r#"{"values": [{"kpi": "U07451", "municipality": "136", "period": 2025, "values": []}]}"#;
        assert!(matches!(parse(bad), Err(KoladaError::Item(0, _))));
    }

    #[test]
    fn medians_ranks_and_percentiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let all = [60.0, 70.0, 70.0, 80.0, 50.0];
        assert_eq!(standing(70.0, &all), (2, 5, 40.0));
        assert_eq!(standing(80.0, &all), (1, 5, 80.0));
        assert_eq!(standing(50.0, &all), (5, 5, 0.0));
    }
}
