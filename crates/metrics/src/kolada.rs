//! Kolada's Insikt values in the store, and the municipality against the others: per KPI and
//! year its value beside the national median and its peer group's, its rank and percentile
//! among those that report, and its own survey-based NKI for the same year beside the official
//! one. Definitions: docs/metrics.md.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lots_core::Area;
use lots_core::kolada::{FACTOR_KPIS, KoladaValue, NKI_KPIS, median, standing};
use lots_core::nki::FACTORS;
use lots_store::Db;
use lots_store::entity::kolada_value;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Serialize;

use crate::records::CaseRecord;
use crate::rollup::fact::Fact;
use crate::rollup::sums::{Answers, Group};

/// Writes `values`, replacing what was there for the same KPI, municipality, year and gender,
/// in one transaction; returns how many.
pub async fn import(db: &Db, values: &[KoladaValue], now: DateTime<Utc>) -> Result<usize, DbErr> {
    let tx = db.writer().begin().await?;
    for chunk in values.chunks(500) {
        let rows = chunk.iter().map(|v| kolada_value::ActiveModel {
            kpi: Set(v.kpi.clone()),
            municipality: Set(v.municipality.clone()),
            period: Set(v.period),
            gender: Set(v.gender.clone()),
            value: Set(v.value),
            status: Set(v.status.clone()),
            count: Set(v.count),
            imported_at: Set(now),
            ..Default::default()
        });
        kolada_value::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    kolada_value::Column::Kpi,
                    kolada_value::Column::Municipality,
                    kolada_value::Column::Period,
                    kolada_value::Column::Gender,
                ])
                .update_columns([
                    kolada_value::Column::Value,
                    kolada_value::Column::Status,
                    kolada_value::Column::Count,
                    kolada_value::Column::ImportedAt,
                ])
                .to_owned(),
            )
            .exec(&tx)
            .await?;
    }
    tx.commit().await?;
    Ok(values.len())
}

/// One KPI of one year: the municipality among the others.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub kpi: String,
    /// The authority area; null for the total over all areas (and for every factor).
    pub area: Option<Area>,
    /// For a service factor's KPI (`U07508`–`U07513`) the factor (`information`,
    /// `accessibility`, `treatment`, `competence`, `legal_certainty`, `efficiency`); null for
    /// an NKI KPI.
    pub factor: Option<&'static str>,
    pub year: i32,
    /// The municipality's official value; null when missing or flagged.
    pub value: Option<f64>,
    /// Over every municipality with a value (the whole country's row `0000` left out).
    pub national_median: Option<f64>,
    /// Over the peer group's municipalities with a value.
    pub peer_median: Option<f64>,
    /// 1 = the highest value; ties share the better rank.
    pub rank: Option<usize>,
    /// How many municipalities have a value.
    pub of: usize,
    /// The share of those with a lower value, 0–100.
    pub percentile: Option<f64>,
    /// Lots' own NKI of the cases decided that year (in the area), with its interval and n;
    /// null under the reporting threshold. For a factor, the own index of that factor (the
    /// answers that rated it).
    pub own_survey_nki: Option<f64>,
    pub own_ci_low: Option<f64>,
    pub own_ci_high: Option<f64>,
    pub own_n: usize,
    /// Whether the official value lies within the own NKI's 95 % interval (null when either
    /// is missing): they measure the same thing, so a no is worth a look.
    pub agrees: Option<bool>,
    /// Every municipality's value (kommunkod, value), for a chart; not in the API's answer.
    #[serde(skip)]
    pub values: Vec<(String, f64)>,
}

/// One KPI to compare: its id, its area (none: all areas) and, for a service factor, the
/// factor's index in the survey's answers.
#[derive(Clone, Copy)]
struct Kpi {
    id: &'static str,
    area: Option<Area>,
    factor: Option<usize>,
}

/// The KPIs a comparison covers: each area's NKI and the total (only `area`'s and the total
/// when an area is given), and the six factors when no area is.
fn kpis(area: Option<Area>) -> Vec<Kpi> {
    let nki = NKI_KPIS
        .iter()
        .filter(|(_, a)| area.is_none() || a.is_none() || *a == area)
        .map(|&(id, a)| Kpi {
            id,
            area: a,
            factor: None,
        });
    let factors = FACTOR_KPIS
        .iter()
        .enumerate()
        .filter(|_| area.is_none())
        .map(|(i, &id)| Kpi {
            id,
            area: None,
            factor: Some(i),
        });
    nki.chain(factors).collect()
}

/// The comparison for `year` of `municipality` with the others and its `peers`, per Insikt
/// KPI (see `kpis`); `own` gives the own survey's figures: the decided cases grouped by area
/// and Stockholm month of decision (`[area, "YYYY-MM"]`), from the rollups or from records
/// (`own_of`).
pub async fn comparison(
    db: &Db,
    municipality: &str,
    peers: &[String],
    year: i32,
    area: Option<Area>,
    own: &BTreeMap<Vec<String>, Group>,
    threshold: usize,
) -> Result<Vec<Comparison>, DbErr> {
    let kpis = kpis(area);
    let rows = kolada_value::Entity::find()
        .filter(kolada_value::Column::Period.eq(year))
        .filter(kolada_value::Column::Gender.eq("T"))
        .filter(kolada_value::Column::Kpi.is_in(kpis.iter().map(|k| k.id)))
        .all(db.reader())
        .await?;
    Ok(kpis
        .into_iter()
        .map(|kpi| compare(kpi, &rows, municipality, peers, year, own, threshold))
        .collect())
}

fn compare(
    kpi: Kpi,
    rows: &[kolada_value::Model],
    municipality: &str,
    peers: &[String],
    year: i32,
    own: &BTreeMap<Vec<String>, Group>,
    threshold: usize,
) -> Comparison {
    let of_kpi: Vec<&kolada_value::Model> = rows
        .iter()
        .filter(|r| r.kpi == kpi.id && r.municipality != "0000")
        .collect();
    let all: Vec<f64> = of_kpi.iter().filter_map(|r| r.value).collect();
    let peer: Vec<f64> = of_kpi
        .iter()
        .filter(|r| peers.contains(&r.municipality))
        .filter_map(|r| r.value)
        .collect();
    let value = of_kpi
        .iter()
        .find(|r| r.municipality == municipality)
        .and_then(|r| r.value);
    let standing = value.map(|v| standing(v, &all));
    let mut answers = Answers::default();
    let prefix = format!("{year:04}");
    for (key, g) in own {
        let [area, month] = key.as_slice() else {
            continue;
        };
        if kpi.area.is_none_or(|a| area == a.as_str()) && month.get(..4) == Some(prefix.as_str()) {
            answers.merge(&g.answers);
        }
    }
    let own = match kpi.factor {
        None => answers.group(kpi.id.to_string(), threshold),
        // The factor's own index, as an NKI group over the answers that rated it.
        Some(i) => answers.factors[i].group(kpi.id.to_string(), threshold),
    };
    let shown = |v: Option<f64>| v.filter(|_| !own.suppressed);
    let agrees = match (value, shown(own.ci_low), shown(own.ci_high)) {
        (Some(v), Some(lo), Some(hi)) => Some((lo..=hi).contains(&v)),
        _ => None,
    };
    Comparison {
        kpi: kpi.id.to_string(),
        area: kpi.area,
        factor: kpi.factor.map(|i| FACTORS[i]),
        year,
        value,
        national_median: median(&all),
        peer_median: median(&peer),
        rank: standing.map(|s| s.0),
        of: all.len(),
        percentile: standing.map(|s| s.2),
        own_survey_nki: shown(own.nki),
        own_ci_low: shown(own.ci_low),
        own_ci_high: shown(own.ci_high),
        own_n: own.n,
        agrees,
        values: of_kpi
            .iter()
            .filter_map(|r| r.value.map(|v| (r.municipality.clone(), v)))
            .collect(),
    }
}

/// The decided cases of `records` grouped as `comparison` takes them: by area and Stockholm
/// month of decision.
pub fn own_of(records: &[&CaseRecord]) -> BTreeMap<Vec<String>, Group> {
    let mut out: BTreeMap<Vec<String>, Group> = BTreeMap::new();
    for c in records {
        let Some(decided) = c.decided_at else {
            continue;
        };
        out.entry(vec![c.area.to_string(), crate::compute::month(decided)])
            .or_default()
            .add(&Fact::of(c));
    }
    out
}

/// The settings key under which a municipality's kommunkod is kept when the configuration does
/// not give one (the demo sets it).
pub const MUNICIPALITY_SETTING: &str = "municipality_code";

/// This municipality's kommunkod: the configured one, else the stored setting.
pub async fn municipality_code(db: &Db, configured: Option<&str>) -> Result<Option<String>, DbErr> {
    if let Some(c) = configured {
        return Ok(Some(c.to_string()));
    }
    lots_store::settings::get(db.reader(), MUNICIPALITY_SETTING).await
}

/// The latest year (up to `up_to`, when given) with a value of `municipality`'s total NKI.
pub async fn latest_year(
    db: &Db,
    municipality: &str,
    up_to: Option<i32>,
) -> Result<Option<i32>, DbErr> {
    Ok(kolada_value::Entity::find()
        .filter(kolada_value::Column::Municipality.eq(municipality))
        .filter(kolada_value::Column::Kpi.eq(NKI_KPIS[0].0))
        .filter(kolada_value::Column::Value.is_not_null())
        .filter(kolada_value::Column::Period.lte(up_to.unwrap_or(i32::MAX)))
        .all(db.reader())
        .await?
        .into_iter()
        .map(|r| r.period)
        .max())
}

/// The settings key of the peer group (kommunkoder separated by commas), used when the
/// configuration gives none.
pub const PEER_GROUP_SETTING: &str = "peer_group";

/// The municipalities to compare with: the configured ones, else the stored setting; either
/// may name one SKR municipality group (`B3`, `Större stad`), which stands for its members.
/// Unknown codes in the setting are left out (the configuration is checked at start), and so
/// is `own`: the municipality is compared with its peers, not with itself.
pub async fn peer_group(db: &Db, configured: &[String], own: &str) -> Result<Vec<String>, DbErr> {
    let entries: Vec<String> = if configured.is_empty() {
        lots_store::settings::get(db.reader(), PEER_GROUP_SETTING)
            .await?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        configured.to_vec()
    };
    let peers = lots_core::municipality::peer_group(&entries).unwrap_or_else(|_| {
        entries
            .into_iter()
            .filter(|e| lots_core::municipality::find(e).is_some())
            .collect()
    });
    Ok(peers.into_iter().filter(|p| p != own).collect())
}
