//! Kolada's Insikt values in the store, and the municipality against the others: per KPI and
//! year its value beside the national median and its peer group's, its rank and percentile
//! among those that report, and its own survey-based NKI for the same year beside the official
//! one. Definitions: docs/metrics.md.

use chrono::{DateTime, Datelike, Utc};
use lots_core::kolada::{KoladaValue, NKI_KPIS, median, standing};
use lots_core::{Area, TIME_ZONE};
use lots_store::Db;
use lots_store::entity::kolada_value;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Serialize;

use crate::compute::nki_group;
use crate::records::CaseRecord;

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
    /// The authority area; null for the total over all areas.
    pub area: Option<Area>,
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
    /// null under the reporting threshold.
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

fn year_of(t: DateTime<Utc>) -> i32 {
    t.with_timezone(&TIME_ZONE).year()
}

/// The comparison for `year` of `municipality` with the others and its `peers`, per Insikt
/// NKI KPI (only `area`'s and the total when an area is given); `records` give the own NKI.
pub async fn comparison(
    db: &Db,
    municipality: &str,
    peers: &[String],
    year: i32,
    area: Option<Area>,
    records: &[&CaseRecord],
    threshold: usize,
) -> Result<Vec<Comparison>, DbErr> {
    let kpis: Vec<(&str, Option<Area>)> = NKI_KPIS
        .iter()
        .copied()
        .filter(|(_, a)| area.is_none() || a.is_none() || *a == area)
        .collect();
    let rows = kolada_value::Entity::find()
        .filter(kolada_value::Column::Period.eq(year))
        .filter(kolada_value::Column::Gender.eq("T"))
        .filter(kolada_value::Column::Kpi.is_in(kpis.iter().map(|(k, _)| *k)))
        .all(db.reader())
        .await?;
    let mut out = Vec::new();
    for (kpi, kpi_area) in kpis {
        let of_kpi: Vec<&kolada_value::Model> = rows
            .iter()
            .filter(|r| r.kpi == kpi && r.municipality != "0000")
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
        let answers: Vec<&crate::records::SurveyRecord> = records
            .iter()
            .filter(|c| kpi_area.is_none_or(|a| c.area.as_str() == a.as_str()))
            .filter(|c| c.decided_at.is_some_and(|d| year_of(d) == year))
            .filter_map(|c| c.survey.as_ref())
            .collect();
        let own = nki_group(kpi.to_string(), &answers, threshold);
        let agrees = match (value, own.ci_low, own.ci_high) {
            (Some(v), Some(lo), Some(hi)) if !own.suppressed => Some((lo..=hi).contains(&v)),
            _ => None,
        };
        out.push(Comparison {
            kpi: kpi.to_string(),
            area: kpi_area,
            year,
            value,
            national_median: median(&all),
            peer_median: median(&peer),
            rank: standing.map(|s| s.0),
            of: all.len(),
            percentile: standing.map(|s| s.2),
            own_survey_nki: own.nki.filter(|_| !own.suppressed),
            own_ci_low: own.ci_low.filter(|_| !own.suppressed),
            own_ci_high: own.ci_high.filter(|_| !own.suppressed),
            own_n: own.n,
            agrees,
            values: of_kpi
                .iter()
                .filter_map(|r| r.value.map(|v| (r.municipality.clone(), v)))
                .collect(),
        });
    }
    Ok(out)
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

/// The latest year with a value of `municipality`'s total NKI, if any.
pub async fn latest_year(db: &Db, municipality: &str) -> Result<Option<i32>, DbErr> {
    Ok(kolada_value::Entity::find()
        .filter(kolada_value::Column::Municipality.eq(municipality))
        .filter(kolada_value::Column::Kpi.eq(NKI_KPIS[0].0))
        .filter(kolada_value::Column::Value.is_not_null())
        .all(db.reader())
        .await?
        .into_iter()
        .map(|r| r.period)
        .max())
}

/// The settings key of the peer group (kommunkoder separated by commas), used when the
/// configuration gives none.
pub const PEER_GROUP_SETTING: &str = "peer_group";

/// The municipalities to compare with: the configured ones, else the stored setting.
pub async fn peer_group(db: &Db, configured: &[String]) -> Result<Vec<String>, DbErr> {
    if !configured.is_empty() {
        return Ok(configured.to_vec());
    }
    Ok(lots_store::settings::get(db.reader(), PEER_GROUP_SETTING)
        .await?
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}
