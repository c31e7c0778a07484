//! The dashboard's first screen: a handful of key figures, each with a small trend line and its
//! numbers behind a disclosure. NKI now and whether its change since the year before is more
//! than noise (Welch), the share decided within the deadline, the median lead time, and the
//! costliest bottleneck. The lines are server-rendered SVG, described for screen readers.

use std::collections::BTreeMap;

use lots_metrics::compute::{self, Bottlenecks, Deadlines, TrendPoint};
use lots_metrics::kolada::Comparison;
use lots_metrics::rollup::figures::{Figures, LATEST_MONTHS};
use maud::{Markup, html};

use super::html::{self, num};

/// One point of a trend line: its period's label and value (`None`: not shown, e.g. too few
/// answers).
pub(crate) type Point = (String, Option<f64>);

/// A trend line of `points`, 120 × 32, scaled to its own range; the last point is marked.
pub(crate) fn sparkline(id: &str, title: &str, points: &[Point], unit: &str) -> Markup {
    let shown: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v))| v.map(|v| (i, v)))
        .collect();
    let (lo, hi) = shown
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let span = (hi - lo).max(1e-9);
    let x = |i: usize| 4.0 + 112.0 * i as f64 / (points.len().max(2) - 1) as f64;
    let y = |v: f64| 28.0 - 24.0 * (v - lo) / span;
    let path: Vec<String> = shown
        .iter()
        .map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v)))
        .collect();
    let desc = match (shown.first(), shown.last()) {
        (Some((i, a)), Some((j, b))) if i != j => format!(
            "Från {} {unit} ({}) till {} {unit} ({}), {} perioder.",
            num(*a, 1),
            points[*i].0,
            num(*b, 1),
            points[*j].0,
            points.len()
        ),
        _ => "För få perioder för en linje.".to_string(),
    };
    html! {
        @if shown.len() >= 2 {
            svg class="spark" role="img" aria-labelledby=(format!("{id}-t {id}-d")) viewBox="0 0 120 32" width="120" height="32" {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (desc) }
                polyline points=(path.join(" ")) fill="none" stroke="#005a9c" stroke-width="2" {}
                @if let Some((i, v)) = shown.last() {
                    circle cx=(format!("{:.1}", x(*i))) cy=(format!("{:.1}", y(*v))) r="3" fill="#005a9c" {}
                }
            }
        }
        details {
            summary { "Siffrorna bakom " span class="visually-hidden" { "(" (title) ")" } }
            table {
                caption { (title) }
                (html::numeric_head_row(&[("Period", false), (unit, true)]))
                tbody {
                    @for (label, v) in points {
                        tr { td { (label) } td class="n" { @match v { Some(v) => (num(*v, 1)), None => "–" } } }
                    }
                }
            }
        }
    }
}

/// NKI now (the latest year with enough answers), its change since the year before and
/// whether it is significant, with NKI per tertial as the line.
fn nki_figure(f: &Figures, threshold: usize) -> Markup {
    let years = compute::trend(&f.by_year, threshold);
    let line: Vec<Point> = f
        .tertials
        .iter()
        .map(|t| (t.period.clone(), t.nki.filter(|_| !t.suppressed)))
        .collect();
    let now = years
        .iter()
        .rev()
        .find(|y| !y.suppressed && y.nki.is_some());
    let before = now.and_then(|n| {
        let year: i32 = n.period.parse().ok()?;
        years.iter().find(|y| y.period == (year - 1).to_string())
    });
    let change = match (before, now) {
        (Some(b), Some(n)) => Some(compute::change(&f.by_year, &b.period, &n.period, threshold)),
        _ => None,
    };
    html! {
        div class="figure-card" {
            h3 { "NKI" }
            @match now {
                Some(n) => {
                    p class="big" { (num(n.nki.unwrap_or_default(), 0)) }
                    p class="hint" { (n.period) ", " (html::int(n.n)) " svar" }
                    @match change.as_ref().filter(|c| !c.suppressed) {
                        Some(c) => {
                            @let d = c.difference.unwrap_or_default();
                            @let p = c.p_value.unwrap_or(1.0);
                            p {
                                (if d >= 0.0 { "+" } else { "" }) (num(d, 1)) " sedan " (c.a) ", "
                                @if p < 0.05 { strong { "statistiskt säkerställd" } } @else { "inte statistiskt säkerställd" }
                                " (p = " (num(p, 3)) ")"
                            }
                        },
                        None => p class="hint" { "Ingen jämförelse med året före (för få svar)." },
                    }
                },
                None => p { "För få svar för ett NKI." },
            }
            (sparkline("k-nki", "NKI per tertial", &line, "NKI"))
        }
    }
}

/// The share of decided cases (with a deadline) decided in time, with the share per month.
fn compliance_figure(deadlines: &Deadlines) -> Markup {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in &deadlines.compliance {
        let e = by.entry(c.month.as_str()).or_default();
        e.0 += c.decided;
        e.1 += c.on_time;
    }
    let (decided, on_time) = by.values().fold((0, 0), |(d, o), (a, b)| (d + a, o + b));
    let line: Vec<Point> = by
        .iter()
        .rev()
        .take(LATEST_MONTHS)
        .rev()
        .map(|(m, (d, o))| {
            (
                (*m).to_string(),
                (*d > 0).then(|| 100.0 * *o as f64 / *d as f64),
            )
        })
        .collect();
    html! {
        div class="figure-card" {
            h3 { "Beslut inom fristen" }
            @if decided == 0 {
                p { "Inga beslut med frist i urvalet." }
            } @else {
                p class="big" { (num(100.0 * on_time as f64 / decided as f64, 0)) "\u{a0}%" }
                p class="hint" { (html::int(on_time)) " av " (html::int(decided)) " beslut" }
            }
            (sparkline("k-dl", "Andel i tid per månad (procent)", &line, "%"))
        }
    }
}

/// The median lead time (received → decided, whole calendar days) of the selection, with the
/// median per month of the decision.
fn lead_time_figure(f: &Figures) -> Markup {
    let line: Vec<Point> = f
        .lead_by_month
        .iter()
        .map(|h| (h.group.clone(), h.lead_time.p50_days))
        .collect();
    let all = f.lead.summary();
    html! {
        div class="figure-card" {
            h3 { "Handläggningstid" }
            @match all.p50_days {
                Some(m) => {
                    p class="big" { (num(m, 0)) " dagar" }
                    p class="hint" { "median från inkommet till beslut, " (html::int(all.n)) " beslut" }
                },
                None => p { "Inga beslutade ärenden i urvalet." },
            }
            (sparkline("k-lt", "Median handläggningstid per beslutsmånad (dagar)", &line, "dagar"))
        }
    }
}

/// The handoff edge that holds cases longest in all.
fn bottleneck_figure(bottlenecks: &Bottlenecks) -> Markup {
    let top = bottlenecks
        .edges
        .iter()
        .max_by(|a, b| a.total_delay_days.total_cmp(&b.total_delay_days));
    html! {
        div class="figure-card" {
            h3 { "Största flaskhalsen" }
            @match top {
                Some(e) => {
                    p class="big" { (e.from) " → " (e.to) }
                    p {
                        (html::int(e.count)) " överlämningar (" (html::handoff_kind_sv_str(&e.kind)) "), median "
                        (html::opt_num(e.queue_p50_days, 1)) " dagar i kö"
                        @if let Some(c) = e.nki_cost_per_case.filter(|c| *c > 0.0) { ", kostar " (num(c, 1)) " NKI-poäng per ärende" }
                        "."
                    }
                    p { a href="#bn-h" { "Alla flaskhalsar" } }
                },
                None => p { "Inga överlämningar mellan förvaltningar i urvalet." },
            }
        }
    }
}

/// The first screen: the key figures side by side.
pub fn section(f: &Figures, threshold: usize) -> Markup {
    html! {
        section aria-labelledby="key-h" {
            h2 id="key-h" { "Nyckeltal" }
            div class="figures" {
                (nki_figure(f, threshold))
                (compliance_figure(&f.deadlines))
                (lead_time_figure(f))
                (bottleneck_figure(&f.bottlenecks))
            }
        }
    }
}

/// NKI over time in each area: a line per area of NKI per tertial (suppressed tertials left
/// out), its numbers behind a disclosure.
pub fn area_trends(area_tertials: &[(String, Vec<TrendPoint>)]) -> Markup {
    let lines: Vec<(&str, Vec<Point>)> = area_tertials
        .iter()
        .map(|(a, trend)| {
            let points = trend
                .iter()
                .map(|t| (t.period.clone(), t.nki.filter(|_| !t.suppressed)))
                .collect();
            (a.as_str(), points)
        })
        .filter(|(_, p): &(&str, Vec<Point>)| p.iter().any(|(_, v)| v.is_some()))
        .collect();
    html! {
        @if !lines.is_empty() {
            h3 { "NKI över tid per myndighetsområde (per tertial)" }
            div class="figures" {
                @for (i, (area, points)) in lines.iter().enumerate() {
                    div class="figure-card" {
                        h4 { (html::area_sv(area)) }
                        (sparkline(&format!("t-{i}"), &format!("NKI per tertial, {}", html::area_sv(area)), points, "NKI"))
                    }
                }
            }
        }
    }
}

pub use lots_metrics::report::Standing;

/// The comparison, when the municipality's code is known and Kolada values for it are
/// imported: of the latest year with its total NKI (up to `year`, when given).
pub async fn standing(
    state: &crate::state::AppState,
    own: &BTreeMap<Vec<String>, lots_metrics::rollup::sums::Group>,
    year: Option<i32>,
) -> Result<Option<Standing>, sea_orm::DbErr> {
    use lots_metrics::kolada;
    let configured = state.config.municipality_code.as_deref();
    let Some(municipality) = kolada::municipality_code(&state.db, configured).await? else {
        return Ok(None);
    };
    // Insikt's results of a year come out the next spring: a report of this year shows the
    // latest year published, and says which.
    let Some(year) = kolada::latest_year(&state.db, &municipality, year).await? else {
        return Ok(None);
    };
    let peers = kolada::peer_group(&state.db, &state.config.peer_group, &municipality).await?;
    let comparisons = kolada::comparison(
        &state.db,
        &municipality,
        &peers,
        year,
        None,
        own,
        state.config.nki_threshold,
    )
    .await?;
    let items: Vec<_> = comparisons
        .into_iter()
        .filter(|c| c.value.is_some())
        .collect();
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(Standing {
        municipality_name: lots_core::municipality::name(&municipality).map(str::to_string),
        year,
        municipality,
        peers,
        items,
    }))
}

pub(crate) fn kpi_label(c: &Comparison) -> String {
    match (c.factor, c.area) {
        (Some(f), _) => lots_core::nki::factor_label_sv(f).to_string(),
        (None, Some(a)) => html::area_sv(a.as_str()),
        (None, None) => "NKI, alla områden".to_string(),
    }
}

/// The municipality's name and code, as the pages name it.
pub(crate) fn who(s: &Standing) -> String {
    match &s.municipality_name {
        Some(n) => format!("{n} ({})", s.municipality),
        None => s.municipality.clone(),
    }
}

/// A ranked dot plot of `items`: every municipality's value as a grey dot on a 40–100 axis, the
/// peer group's in blue, this municipality's larger and orange, the national median a line.
pub(crate) fn dot_plot(id: &str, s: &Standing, items: &[&Comparison], title: &str) -> Markup {
    let (left, right, row) = (170.0, 620.0, 34.0);
    let x = |v: f64| left + (right - left) * ((v.clamp(40.0, 100.0) - 40.0) / 60.0);
    let height = 30.0 + row * items.len() as f64;
    let content = html! {
        @for tick in [40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0] {
            line x1=(format!("{:.1}", x(tick))) x2=(format!("{:.1}", x(tick))) y1="8" y2=(format!("{:.1}", height - 16.0)) stroke="#d0d4da" {}
            text x=(format!("{:.1}", x(tick))) y=(format!("{:.1}", height - 4.0)) text-anchor="middle" { (num(tick, 0)) }
        }
        @for (i, c) in items.iter().enumerate() {
            @let y = 20.0 + row * i as f64;
            text x=(left - 8.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" { (kpi_label(c)) }
            @for (m, v) in &c.values {
                @let peer = s.peers.contains(m);
                circle cx=(format!("{:.1}", x(*v))) cy=(format!("{y:.1}")) r="3.5"
                    fill=(if peer { "#3d75ad" } else { "#9aa3ad" }) fill-opacity="0.8" {}
            }
            @if let Some(m) = c.national_median {
                line x1=(format!("{:.1}", x(m))) x2=(format!("{:.1}", x(m))) y1=(format!("{:.1}", y - 9.0)) y2=(format!("{:.1}", y + 9.0)) stroke="#1b1b1b" stroke-width="2" {}
            }
            @if let Some(v) = c.value {
                circle cx=(format!("{:.1}", x(v))) cy=(format!("{y:.1}")) r="6" fill="#b3470a" stroke="#ffffff" stroke-width="1.5" {}
            }
        }
    };
    html! {
        figure {
            svg role="img" aria-labelledby=(format!("{id}-t {id}-d")) viewBox=(format!("0 0 640 {height:.0}")) width="100%" {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) {
                    @for c in items {
                        (kpi_label(c)) ": " (html::opt_num(c.value, 0)) ", plats " (c.rank.map(|r| r.to_string()).unwrap_or_default()) " av " (c.of) ". "
                    }
                }
                (content)
            }
            figcaption { (title) " " span class="hint" { "(samma siffror i tabellen)" } }
        }
    }
}

/// The comparison's figures as a table.
pub(crate) fn standing_table(s: &Standing) -> Markup {
    html! {
        table {
            caption { "Insikt " (s.year) ": vi mot rikets och jämförelsegruppens median, och vår egen enkät" }
            (html::numeric_head_row(&[("Mått", false), ("Vårt värde", true), ("Rikets median", true), ("Gruppens median", true), ("Plats", true), ("Percentil", true), ("Egen enkät (95 % KI)", true)]))
            tbody {
                @for c in &s.items {
                    tr {
                        td { (kpi_label(c)) }
                        td class="n" { (html::opt_num(c.value, 0)) }
                        td class="n" { (html::opt_num(c.national_median, 1)) }
                        td class="n" { (html::opt_num(c.peer_median, 1)) }
                        td class="n" { (c.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into())) " av " (c.of) }
                        td class="n" { (html::opt_num(c.percentile, 0)) }
                        td class="n" {
                            @match (c.own_survey_nki, c.own_ci_low, c.own_ci_high) {
                                (Some(n), Some(lo), Some(hi)) => { (num(n, 1)) " (" (num(lo, 1)) "–" (num(hi, 1)) ")" @if c.agrees == Some(false) { " – avviker" } },
                                _ => "För få svar",
                            }
                        }
                    }
                }
            }
        }
    }
}

/// NKI per area and the service factors, each as a dot plot.
pub(crate) fn standing_plots(s: &Standing) -> Markup {
    let (nki, factors): (Vec<&Comparison>, Vec<&Comparison>) =
        s.items.iter().partition(|c| c.factor.is_none());
    html! {
        @if !nki.is_empty() {
            (dot_plot("cmp", s, &nki, &format!("NKI i Insikt {} per område, alla kommuner", s.year)))
        }
        @if !factors.is_empty() {
            (dot_plot("cmpf", s, &factors, &format!("Serviceområden i Insikt {}, alla kommuner", s.year)))
        }
    }
}

/// The comparison on the dashboard: the dot plots, the figures behind a disclosure.
pub fn standing_section(s: &Standing) -> Markup {
    html! {
        section aria-labelledby="cmp-h" {
            h2 id="cmp-h" { "Jämfört med andra kommuner (Insikt " (s.year) ")" }
            p {
                "Varje prick är en kommun med värde i Kolada; den stora orange är vi (" (who(s)) "), "
                "blå är jämförelsegruppen och strecket är rikets median."
            }
            (standing_plots(s))
            details {
                summary { "Siffrorna bakom jämförelsen" }
                (standing_table(s))
            }
        }
    }
}
