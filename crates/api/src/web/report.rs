//! The report for the board (nämnden): `/oversikt/rapport?year=`, one year's figures on a
//! print-ready A4 page (the print stylesheet keeps each chart with its table on one page), and
//! the same figures as a workbook (`/api/v1/reports/board.xlsx?year=`), both rendered from
//! `lots_metrics::report::BoardReport`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use lots_cases::ServiceResult;
use lots_core::{Actor, Area, TIME_ZONE};
use lots_metrics::report::{AreaTrend, AreaYear, BoardReport};
use maud::{Markup, html};

use super::html::{self, int, num, opt_num};
use super::{WebUser, service_error_page};
use crate::state::AppState;

/// The years a report may cover.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// The current Stockholm year.
pub fn this_year(state: &AppState) -> i32 {
    state.clock.now().with_timezone(&TIME_ZONE).year()
}

/// `year` checked (a missing one is this year), or the field's error.
pub fn report_year(state: &AppState, year: Option<&str>) -> Result<i32, String> {
    match year.map(str::trim).filter(|y| !y.is_empty()) {
        None => Ok(this_year(state)),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| YEARS.contains(y))
            .ok_or_else(|| "must be a year such as 2025".to_string()),
    }
}

/// The board's report of `year` over what `actor` may see (managers: their department).
pub async fn board_report(
    state: &AppState,
    actor: &Actor,
    year: i32,
) -> ServiceResult<BoardReport> {
    let now = state.clock.now();
    let inputs = state
        .rollups
        .board_inputs(&state.db, actor, year, now)
        .await?;
    let standing = super::key_figures::standing(state, &inputs.decided, Some(year)).await?;
    Ok(lots_metrics::report::board(
        &inputs,
        year,
        state.config.nki_threshold,
        standing,
        state.clock.now(),
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    year: Option<String>,
}

fn area_label(a: Option<Area>) -> &'static str {
    a.map_or("Alla områden", Area::label_sv)
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{}\u{a0}%", num(v * 100.0, 0)))
}

fn nki_text(a: &AreaYear) -> Markup {
    match (a.nki.nki, a.nki.ci_low, a.nki.ci_high) {
        (Some(v), Some(lo), Some(hi)) if !a.nki.suppressed => {
            html! { (num(v, 0)) " " span class="hint" { "(" (num(lo, 0)) "–" (num(hi, 0)) ")" } }
        }
        _ => html! { span class="hint" { "för få svar" } },
    }
}

fn change_text(a: &AreaYear) -> Markup {
    match a.change.as_ref().filter(|c| !c.suppressed) {
        Some(c) => {
            let d = c.difference.unwrap_or_default();
            let p = c.p_value.unwrap_or(1.0);
            html! {
                (if d >= 0.0 { "+" } else { "−" }) (num(d.abs(), 1))
                " " span class="hint" { "(p = " (num(p, 3)) ", " (if p < 0.05 { "säkerställd" } else { "inte säkerställd" }) ")" }
            }
        }
        None => html! { span class="hint" { "–" } },
    }
}

fn key_figures(r: &BoardReport) -> Markup {
    let all = &r.areas[0];
    html! {
        section class="sheet" aria-labelledby="r-key" {
            h2 id="r-key" { "Nyckeltal " (r.year) }
            div class="figures" {
                div class="figure-card" {
                    h3 { "NKI" }
                    p class="big" { (nki_text(all)) }
                    p class="hint" { (int(all.nki.n)) " enkätsvar" }
                    p { "Sedan " (r.year - 1) ": " (change_text(all)) }
                }
                div class="figure-card" {
                    h3 { "Beslut inom fristen" }
                    p class="big" { (share(all.share_on_time)) }
                    p class="hint" { (int(all.on_time)) " av " (int(all.with_deadline)) " beslut med frist" }
                }
                div class="figure-card" {
                    h3 { "Handläggningstid" }
                    p class="big" { (opt_num(all.lead_time_p50_days, 0)) " dagar" }
                    p class="hint" { "median, inkommet till beslut, " (int(all.decided)) " beslut" }
                }
                div class="figure-card" {
                    h3 { "Inkomna ärenden" }
                    p class="big" { (int(all.received)) }
                    p class="hint" { "under " (r.year) }
                }
            }
            table {
                caption { "Per myndighetsområde " (r.year) }
                (html::numeric_head_row(&[("Område", false), ("Inkomna", true), ("Beslutade", true), ("I tid", true), ("Median dagar", true), ("NKI (95 % KI)", true), ("Förändring sedan året före", true)]))
                tbody {
                    @for a in &r.areas {
                        tr {
                            td { (area_label(a.area)) }
                            td class="n" { (int(a.received)) }
                            td class="n" { (int(a.decided)) }
                            td class="n" { (share(a.share_on_time)) }
                            td class="n" { (opt_num(a.lead_time_p50_days, 0)) }
                            td class="n" { (nki_text(a)) }
                            td class="n" { (change_text(a)) }
                        }
                    }
                }
            }
        }
    }
}

/// Line styles for the trend chart's series: colour and dash, so that lines differ without
/// colour too.
const SERIES: [(&str, &str); 8] = [
    ("#1b1b1b", ""),
    ("#005a9c", "6 3"),
    ("#b3470a", "2 3"),
    ("#2f6f4f", "8 3 2 3"),
    ("#6b3fa0", "4 4"),
    ("#8a6d00", "1 2"),
    ("#a1264b", "10 4"),
    ("#3d4a57", "3 6"),
];

/// NKI per tertial, a line per area (all areas the heavy black one) on a 40–100 axis.
fn trend_chart(trends: &[&AreaTrend]) -> Markup {
    let mut periods: Vec<&str> = trends
        .iter()
        .flat_map(|t| t.points.iter().map(|p| p.period.as_str()))
        .collect();
    periods.sort_unstable();
    periods.dedup();
    let (left, right, top, bottom) = (40.0, 460.0, 10.0, 210.0);
    let x = |i: usize| left + (right - left) * i as f64 / (periods.len().max(2) - 1) as f64;
    let y = |v: f64| bottom - (bottom - top) * (v.clamp(40.0, 100.0) - 40.0) / 60.0;
    let content = html! {
        @for tick in [40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0] {
            line x1=(left) x2=(right) y1=(format!("{:.1}", y(tick))) y2=(format!("{:.1}", y(tick))) stroke="#e1e4e8" {}
            text x=(left - 6.0) y=(format!("{:.1}", y(tick) + 4.0)) text-anchor="end" { (num(tick, 0)) }
        }
        @for (i, p) in periods.iter().enumerate() {
            text x=(format!("{:.1}", x(i))) y=(bottom + 16.0) text-anchor="middle" { (p.replace("-T", " T")) }
        }
        @for (k, t) in trends.iter().enumerate() {
            @let (colour, dash) = SERIES[k % SERIES.len()];
            @let pts: Vec<String> = t.points.iter()
                .filter(|p| !p.suppressed)
                .filter_map(|p| Some(format!("{:.1},{:.1}", x(periods.iter().position(|q| *q == p.period)?), y(p.nki?))))
                .collect();
            @if !pts.is_empty() {
                polyline points=(pts.join(" ")) fill="none" stroke=(colour) stroke-width=(if k == 0 { "3" } else { "2" }) stroke-dasharray=(dash) {}
            }
            line x1="480" x2="510" y1=(14.0 + 18.0 * k as f64) y2=(14.0 + 18.0 * k as f64) stroke=(colour) stroke-width=(if k == 0 { "3" } else { "2" }) stroke-dasharray=(dash) {}
            text x="516" y=(18.0 + 18.0 * k as f64) { (area_label(t.area)) }
        }
    };
    let desc: String = trends
        .iter()
        .map(|t| {
            let shown: Vec<String> = t
                .points
                .iter()
                .filter(|p| !p.suppressed)
                .filter_map(|p| Some(format!("{} {}", p.period, num(p.nki?, 0))))
                .collect();
            format!(
                "{}: {}. ",
                area_label(t.area),
                if shown.is_empty() {
                    "för få svar".to_string()
                } else {
                    shown.join(", ")
                }
            )
        })
        .collect();
    html! {
        figure {
            svg role="img" aria-labelledby="r-trend-t r-trend-d" viewBox="0 0 720 240" width="100%" {
                title id="r-trend-t" { "NKI per tertial och myndighetsområde" }
                desc id="r-trend-d" { (desc) }
                (content)
            }
            figcaption { "NKI per tertial; tertialer med för få svar saknas i linjen." }
        }
    }
}

fn trends_section(r: &BoardReport) -> Markup {
    let shown: Vec<&AreaTrend> = r
        .trends
        .iter()
        .filter(|t| t.points.iter().any(|p| !p.suppressed && p.nki.is_some()))
        .collect();
    html! {
        section class="sheet" aria-labelledby="r-trend" {
            h2 id="r-trend" { "NKI över tid, " (r.year - 2) "–" (r.year) }
            @if shown.is_empty() {
                p { "För få enkätsvar för att visa NKI över tid." }
            } @else {
                (trend_chart(&shown))
                table {
                    caption { "NKI per tertial (enkätsvar inom parentes)" }
                    (html::numeric_head_row(&[("Område", false), ("Tertial", false), ("NKI", true), ("95 % KI", true), ("Svar", true)]))
                    tbody {
                        @for t in &r.trends {
                            @for p in &t.points {
                                tr {
                                    td { (area_label(t.area)) }
                                    td { (p.period) }
                                    @if p.suppressed {
                                        td class="suppressed" colspan="2" { "För få svar" }
                                    } @else {
                                        td class="n" { (opt_num(p.nki, 1)) }
                                        td class="n" { (opt_num(p.ci_low, 1)) "–" (opt_num(p.ci_high, 1)) }
                                    }
                                    td class="n" { (int(p.n)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn compliance_section(r: &BoardReport) -> Markup {
    html! {
        section class="sheet" aria-labelledby="r-dl" {
            h2 id="r-dl" { "Fristefterlevnad " (r.year) }
            @if r.compliance.is_empty() {
                p { "Inga beslut med frist under året." }
            } @else {
                (super::dashboard::compliance_heat_map(&r.compliance))
                table {
                    caption { "Beslut inom fristen per område och månad" }
                    (html::numeric_head_row(&[("Område", false), ("Månad", false), ("Beslutade", true), ("I tid", true), ("Andel i tid", true)]))
                    tbody {
                        @for c in &r.compliance {
                            tr {
                                td { (html::area_sv(&c.area)) }
                                td { (c.month) }
                                td class="n" { (int(c.decided)) }
                                td class="n" { (int(c.on_time)) }
                                td class="n" { (share(Some(c.share_on_time))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn bottlenecks_section(r: &BoardReport) -> Markup {
    let bars: Vec<(String, f64)> = r
        .bottlenecks
        .iter()
        .map(|e| (format!("{} → {}", e.from, e.to), e.total_delay_days))
        .collect();
    html! {
        section class="sheet" aria-labelledby="r-bn" {
            h2 id="r-bn" { "Flaskhalsar mellan förvaltningar" }
            @if r.bottlenecks.is_empty() {
                p { "Inga överlämningar i årets beslutade ärenden." }
            } @else {
                (super::dashboard::bar_chart("r-bn-c", "Dagar i överlämningar, totalt per väg", "Stapeldiagram: summan av kö- och arbetstid i överlämningar per väg mellan förvaltningar, för årets beslutade ärenden.", &bars, "dagar"))
                table {
                    caption { "Överlämningar i årets beslutade ärenden" }
                    (html::numeric_head_row(&[("Från", false), ("Till", false), ("Antal", true), ("Kö, median dagar", true), ("Arbete, median dagar", true), ("Dagar totalt", true)]))
                    tbody {
                        @for e in &r.bottlenecks {
                            tr {
                                td { (e.from) }
                                td { (e.to) }
                                td class="n" { (int(e.count)) }
                                td class="n" { (opt_num(e.queue_p50_days, 1)) }
                                td class="n" { (opt_num(e.work_p50_days, 1)) }
                                td class="n" { (num(e.total_delay_days, 0)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn standing_section(r: &BoardReport) -> Markup {
    use super::key_figures::{standing_plots, standing_table, who};
    html! {
        section class="sheet" aria-labelledby="r-cmp" {
            @match &r.standing {
                Some(s) => {
                    h2 id="r-cmp" { "Jämfört med andra kommuner (Insikt " (s.year) ")" }
                    @if s.year != r.year {
                        p { "Insikts resultat för ett år publiceras året efter; " (s.year) " är det senaste som finns i Lots." }
                    }
                    p {
                        "Varje prick är en kommun med värde i Kolada; den stora orange är vi (" (who(s)) "), "
                        "blå är jämförelsegruppen (" (int(s.peers.len())) " kommuner) och strecket är rikets median."
                    }
                    (standing_plots(s))
                    (standing_table(s))
                },
                None => {
                    h2 id="r-cmp" { "Jämfört med andra kommuner" }
                    p { "Inga värden från Kolada till och med " (r.year) " (eller ingen kommunkod inställd)." }
                },
            }
        }
    }
}

fn year_form(year: i32, this_year: i32, error: Option<&str>) -> Markup {
    html! {
        form class="filters no-print" method="get" action="/oversikt/rapport" novalidate {
            div class="field" {
                label for="r-year" { "År" }
                input id="r-year" name="year" type="number" inputmode="numeric" min="1990" max=(this_year) value=(year)
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "r-year-err")];
                @if let Some(e) = error { p id="r-year-err" class="error" { (e) } }
            }
            button type="submit" { "Visa" }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let now_year = this_year(&state);
    let year = match report_year(&state, q.year.as_deref()) {
        Ok(y) => y,
        Err(_) => {
            let main = html! {
                h1 { "Rapport till nämnden" }
                (year_form(now_year, now_year, Some("Ange ett år mellan 1990 och 2100, till exempel 2025.")))
            };
            return html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Rapport till nämnden",
                Some(&user.viewer),
                "oversikt",
                main,
            );
        }
    };
    let r = match board_report(&state, &user.actor, year).await {
        Ok(r) => r,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let who = r
        .standing
        .as_ref()
        .map(super::key_figures::who)
        .map(|w| format!(", {w}"))
        .unwrap_or_default();
    let today = state.clock.now().with_timezone(&TIME_ZONE).date_naive();
    let main = html! {
        div class="report" {
            h1 { "Rapport till nämnden " (r.year) }
            p class="hint" { "Företagens ärenden och nöjdhet" (who) ". Framtagen " (html::date_html(today)) " ur Lots." }
            (year_form(year, now_year, None))
            p class="no-print" {
                a href=(format!("/api/v1/reports/board.xlsx?year={year}")) download { "Ladda ned som Excel (.xlsx)" }
                " · Skriv ut eller spara som PDF med webbläsarens utskrift; sidan är anpassad för A4."
            }
            (key_figures(&r))
            (trends_section(&r))
            (compliance_section(&r))
            (bottlenecks_section(&r))
            (standing_section(&r))
        }
    };
    html::page(
        StatusCode::OK,
        &format!("Rapport till nämnden {year}"),
        Some(&user.viewer),
        "oversikt",
        main,
    )
}
