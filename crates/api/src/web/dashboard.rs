//! The managers' dashboard: bottlenecks and their cost in NKI points, NKI per area, NKI against
//! lead time, deadline compliance and open cases by age, for a chosen period, department and
//! area. Charts are server-rendered SVG, each followed by a table with the same figures.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lots_cases::ServiceError;
use lots_core::Area;
use lots_core::nki::Band;
use lots_metrics::MetricFilter;
use lots_metrics::compute::{self, NkiGroup};
use lots_metrics::rollup::figures::Figures;

use maud::{Markup, html};

use super::html::{self, area_sv, error_summary, field_error, int, num, opt_num};
use super::{WebUser, service_error_page};
use crate::state::AppState;

#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct DashboardQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    area: String,
}

fn band_sv(b: Band) -> &'static str {
    match b {
        Band::VeryHigh => "Mycket högt",
        Band::High => "Högt",
        Band::Acceptable => "Godkänt",
        Band::Low => "Lågt",
        Band::VeryLow => "Mycket lågt",
    }
}

/// An SVG chart in a figure with its caption; `labelled` is the id prefix of title and desc.
fn figure(
    id: &str,
    view_box: String,
    title: &str,
    desc: &str,
    caption: Markup,
    content: Markup,
) -> Markup {
    html! {
        figure {
            svg role="img" aria-labelledby=(format!("{id}-t {id}-d")) viewBox=(view_box) width="100%" {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (desc) }
                (content)
            }
            figcaption { (caption) }
        }
    }
}

fn same_figures(title: &str) -> Markup {
    html! { (title) " " span class="hint" { "(samma siffror i tabellen nedan)" } }
}

/// A horizontal bar chart: one bar per (label, value), values ≥ 0.
pub(crate) fn bar_chart(
    id: &str,
    title: &str,
    desc: &str,
    bars: &[(String, f64)],
    unit: &str,
) -> Markup {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1e-9);
    let row = 26.0;
    let left = 190.0;
    let width = 640.0;
    let height = 20.0 + row * bars.len() as f64;
    let content = html! {
        @for (i, (label, value)) in bars.iter().enumerate() {
            @let y = 10.0 + row * i as f64;
            @let w = (width - left - 90.0) * value / max;
            text x=(left - 6.0) y=(y + 13.0) text-anchor="end" { (label) }
            rect x=(left) y=(y) width=(format!("{:.1}", w.max(1.0))) height="18" fill="#005a9c" {}
            text x=(format!("{:.1}", left + w + 6.0)) y=(y + 13.0) { (num(*value, 1)) " " (unit) }
        }
    };
    figure(
        id,
        format!("0 0 {width} {height}"),
        title,
        desc,
        same_figures(title),
        content,
    )
}

/// NKI per group with 95 % CI whiskers on a 0–100 axis; suppressed groups are labelled so.
fn nki_chart(id: &str, title: &str, groups: &[(String, &NkiGroup)]) -> Markup {
    let row = 26.0;
    let left = 190.0;
    let scale = 4.0; // px per NKI point
    let height = 40.0 + row * groups.len() as f64;
    let axis_y = 14.0 + row * groups.len() as f64;
    let content = html! {
        @for (i, (label, g)) in groups.iter().enumerate() {
            @let y = 10.0 + row * i as f64;
            text x=(left - 6.0) y=(y + 13.0) text-anchor="end" { (label) }
            @match g.nki {
                Some(v) if !g.suppressed => {
                    rect x=(left) y=(y) width=(format!("{:.1}", v * scale)) height="18" fill="#2f6f4f" {}
                    @if let (Some(lo), Some(hi)) = (g.ci_low, g.ci_high) {
                        @let (lo, hi) = (lo.clamp(0.0, 100.0), hi.clamp(0.0, 100.0));
                        line x1=(format!("{:.1}", left + lo * scale)) x2=(format!("{:.1}", left + hi * scale))
                            y1=(format!("{:.1}", y + 9.0)) y2=(format!("{:.1}", y + 9.0))
                            stroke="#1b1b1b" stroke-width="2" {}
                    }
                    text x=(format!("{:.1}", left + 100.0 * scale + 6.0)) y=(y + 13.0) { (num(v, 0)) }
                },
                _ => text x=(left) y=(y + 13.0) { "För få svar – visas inte" },
            }
        }
        @for tick in [0.0, 50.0, 62.0, 70.0, 80.0, 100.0] {
            text x=(format!("{:.1}", left + tick * scale)) y=(format!("{:.1}", axis_y + 12.0)) text-anchor="middle" { (num(tick, 0)) }
        }
    };
    figure(
        id,
        format!("0 0 640 {height}"),
        title,
        "NKI 0–100 per grupp med 95 % konfidensintervall; grupper med för få svar visas inte.",
        same_figures(title),
        content,
    )
}

fn nki_cells(g: &NkiGroup) -> Markup {
    if g.suppressed || g.nki.is_none() {
        return html! { td class="suppressed" colspan="3" { "För få svar – visas inte" } };
    }
    html! {
        td class="n" { (opt_num(g.nki, 1)) }
        td class="n" { (opt_num(g.ci_low, 1)) "–" (opt_num(g.ci_high, 1)) }
        td { (g.band.map(band_sv).unwrap_or("–")) }
    }
}

/// A scatter of the answered cases: lead time in weeks against NKI.
fn scatter(points: &[(f64, f64)]) -> Markup {
    let (w, h, l, b) = (640.0, 320.0, 50.0, 40.0);
    let max_x = points.iter().map(|p| p.0).fold(1.0_f64, f64::max);
    let px = |x: f64| l + (w - l - 20.0) * x / max_x;
    let py = |y: f64| (h - b) - (h - b - 10.0) * y / 100.0;
    let desc = format!(
        "{} punkter; x-axeln ledtid i veckor (0–{}), y-axeln NKI 0–100. Tabellen med kvartiler nedan sammanfattar samma data.",
        points.len(),
        num(max_x, 0)
    );
    let f1 = |v: f64| format!("{v:.1}");
    let content = html! {
        line x1=(l) y1=(h - b) x2=(w - 20.0) y2=(h - b) stroke="#1b1b1b" {}
        line x1=(l) y1="10" x2=(l) y2=(h - b) stroke="#1b1b1b" {}
        @for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
            text x=(l - 6.0) y=(f1(py(t) + 4.0)) text-anchor="end" { (num(t, 0)) }
        }
        @for i in 0..=4 {
            @let x = max_x * f64::from(i) / 4.0;
            text x=(f1(px(x))) y=(h - b + 16.0) text-anchor="middle" { (num(x, 1)) }
        }
        text x=(f1(l + (w - l) / 2.0)) y=(h - 4.0) text-anchor="middle" { "Ledtid (veckor)" }
        text x="14" y=(f1((h - b) / 2.0)) transform=(format!("rotate(-90 14 {})", f1((h - b) / 2.0))) text-anchor="middle" { "NKI" }
        @for (x, y) in points {
            circle cx=(f1(px(*x))) cy=(f1(py(*y))) r="3" fill="#005a9c" fill-opacity="0.6" {}
        }
    };
    let caption = html! {
        "NKI mot ledtid för besvarade ärenden " span class="hint" { "(sammanfattning per kvartil i tabellen nedan)" }
    };
    figure(
        "sc",
        format!("0 0 {w} {h}"),
        "NKI mot ledtid, besvarade ärenden",
        &desc,
        caption,
        content,
    )
}

fn filter_label(f: &str) -> String {
    match f {
        "from" => "Från",
        "to" => "Till",
        "department" => "Förvaltning",
        "area" => "Myndighetsområde",
        o => o,
    }
    .to_string()
}

/// The choice of period, department and area, and the export buttons for it.
fn filter_form(
    q: &DashboardQuery,
    departments: &[lots_cases::DepartmentView],
    errors: &[lots_cases::FieldError],
) -> Markup {
    let from = field_error(errors, "d-", "from");
    let to = field_error(errors, "d-", "to");
    let dep = field_error(errors, "d-", "department");
    let area = field_error(errors, "d-", "area");
    let qs = serde_urlencoded::to_string(q).unwrap_or_default();
    html! {
        form method="get" action="/oversikt" class="filters" aria-label="Urval" {
            div {
                label for="d-from" { "Från (inkom)" }
                input type="date" id="d-from" name="from" value=(q.from)
                    aria-invalid=[from.invalid()] aria-describedby=[from.described_by()];
                (from.message())
            }
            div {
                label for="d-to" { "Till och med" }
                input type="date" id="d-to" name="to" value=(q.to)
                    aria-invalid=[to.invalid()] aria-describedby=[to.described_by()];
                (to.message())
            }
            div {
                label for="d-department" { "Förvaltning" }
                select id="d-department" name="department" aria-invalid=[dep.invalid()] aria-describedby=[dep.described_by()] {
                    option value="" { "Alla (inom din behörighet)" }
                    @for d in departments {
                        option value=(d.code) selected[d.code == q.department] { (d.name) }
                    }
                }
                (dep.message())
            }
            div {
                label for="d-area" { "Myndighetsområde" }
                select id="d-area" name="area" aria-invalid=[area.invalid()] aria-describedby=[area.described_by()] {
                    option value="" { "Alla" }
                    @for a in Area::ALL {
                        option value=(a.as_str()) selected[a.as_str() == q.area] { (a.label_sv()) }
                    }
                }
                (area.message())
            }
            div { button type="submit" { "Visa" } }
        }
        p {
            "Exportera urvalet: "
            a class="button" href=(format!("/api/v1/export/cases.csv?{qs}")) download { "Ärenden som CSV" } " "
            a class="button" href=(format!("/api/v1/export/ocel?{qs}")) download { "Händelselogg som OCEL 2.0" } " "
            a class="button" href=(format!("/api/v1/export/xes?{qs}")) download { "Händelselogg som XES" }
        }
    }
}

fn edges_table(bottlenecks: &compute::Bottlenecks) -> Markup {
    html! {
        table {
            caption { "Överlämningsvägar, rangordnade efter total väntan" }
            (html::numeric_head_row(&[("Från → till", false), ("Slag", false), ("Antal", true), ("Kö p50 / p90 (dagar)", true), ("Arbete p50 / p90 (dagar)", true), ("Total väntan (dagar)", true), ("Kostnad per ärende (NKI-poäng)", true)]))
            tbody {
                @for e in &bottlenecks.edges {
                    tr {
                        td { (e.from) " → " (e.to) }
                        td { (html::handoff_kind_sv_str(&e.kind)) }
                        td class="n" { (int(e.count)) }
                        td class="n" { (opt_num(e.queue_p50_days, 1)) " / " (opt_num(e.queue_p90_days, 1)) }
                        td class="n" { (opt_num(e.work_p50_days, 1)) " / " (opt_num(e.work_p90_days, 1)) }
                        td class="n" { (num(e.total_delay_days, 1)) }
                        td class="n" { (opt_num(e.nki_cost_per_case, 2)) }
                    }
                }
            }
        }
    }
}

fn holding_table(bottlenecks: &compute::Bottlenecks, slope: Option<f64>) -> Markup {
    html! {
        table {
            caption { "Förvaltningar rangordnade efter hur länge de håller öppna ärenden" }
            (html::numeric_head_row(&[("Förvaltning", false), ("Öppna ärenden", true), ("Hålltid p50 / p90 (dagar)", true), ("Hålltid p50 / p90 (arbetsdagar)", true), ("Kostnad per ärende vid p50 (NKI-poäng)", true)]))
            tbody {
                @for d in &bottlenecks.departments {
                    @let cost = match (slope, d.holding_p50_days) {
                        (Some(s), Some(p50)) => Some(-s * p50 / 7.0),
                        _ => None,
                    };
                    tr {
                        td { (d.department) }
                        td class="n" { (int(d.open_cases)) }
                        td class="n" { (opt_num(d.holding_p50_days, 1)) " / " (opt_num(d.holding_p90_days, 1)) }
                        td class="n" { (opt_num(d.holding_p50_working_days, 0)) " / " (opt_num(d.holding_p90_working_days, 0)) }
                        td class="n" { (opt_num(cost, 2)) }
                    }
                }
            }
        }
    }
}

fn bottlenecks_section(bottlenecks: &compute::Bottlenecks, slope: Option<f64>) -> Markup {
    let bars: Vec<(String, f64)> = bottlenecks
        .edges
        .iter()
        .take(10)
        .map(|e| {
            (
                format!(
                    "{} → {} ({})",
                    e.from,
                    e.to,
                    html::handoff_kind_sv_str(&e.kind)
                ),
                e.total_delay_days,
            )
        })
        .collect();
    html! {
        section aria-labelledby="bn-h" {
            h2 id="bn-h" { "Flaskhalsar" }
            @match slope {
                Some(s) => p { "Inom områdena ändras NKI med " (num(s, 2)) " poäng per veckas ledtid; kostnaden i NKI-poäng nedan bygger på det sambandet." },
                None => p { "För få enkätsvar för att räkna ut vad väntan kostar i NKI-poäng." },
            }
            @if bottlenecks.edges.is_empty() {
                p { "Inga överlämningar i urvalet." }
            } @else {
                (bar_chart(
                    "edges",
                    "Överlämningar rangordnade efter total väntan (dagar)",
                    "Stapeldiagram: total kö- och arbetstid per väg mellan förvaltningar.",
                    &bars,
                    "d",
                ))
                (edges_table(bottlenecks))
            }
            @if !bottlenecks.departments.is_empty() { (holding_table(bottlenecks, slope)) }
        }
    }
}

fn nki_section(nki: &[NkiGroup], threshold: impl std::fmt::Display) -> Markup {
    let groups: Vec<(String, &NkiGroup)> = nki.iter().map(|g| (area_sv(&g.group), g)).collect();
    html! {
        section aria-labelledby="nki-h" {
            h2 id="nki-h" { "NKI per myndighetsområde" }
            p { "Ett resultat visas bara med minst " (maud::display(threshold)) " svar; färre redovisas inte, för att skydda de svarande." }
            @if nki.is_empty() {
                p { "Inga enkätsvar i urvalet." }
            } @else {
                (nki_chart("nkiarea", "NKI per myndighetsområde", &groups))
                table {
                    caption { "NKI per myndighetsområde" }
                    (html::numeric_head_row(&[("Myndighetsområde", false), ("Svar", true), ("NKI", true), ("95 % konfidensintervall", true), ("Nivå", false)]))
                    tbody {
                        @for (label, g) in &groups {
                            tr { td { (label) } td class="n" { (int(g.n)) } (nki_cells(g)) }
                        }
                    }
                }
            }
        }
    }
}

fn channel_sv(c: &str) -> &str {
    match c {
        "officer" => "Registrerat av handläggare",
        "e-service" => "E-tjänst",
        "import" => "Importerat",
        other => other,
    }
}

fn percent(share: f64) -> String {
    format!("{} %", html::num(share * 100.0, 0))
}

/// How cases come in: the e-service's share per area over the last six months of the
/// selection, the days to a complete application and to the decision, and NKI per channel.
fn channels_section(ch: &compute::Channels, threshold: usize) -> Markup {
    let mut months: Vec<&str> = ch.share.iter().map(|s| s.month.as_str()).collect();
    months.sort_unstable();
    months.dedup();
    let months: Vec<&str> = months.iter().rev().take(6).rev().copied().collect();
    let mut areas: Vec<&str> = ch.share.iter().map(|s| s.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    let cell = |area: &str, month: &str| {
        ch.share
            .iter()
            .find(|s| s.area == area && s.month == month)
            .map_or("–".to_string(), |s| percent(s.share))
    };
    let total = |area: &str| {
        let (n, e) = ch
            .share
            .iter()
            .filter(|s| s.area == area)
            .fold((0, 0), |(n, e), s| (n + s.cases, e + s.e_service));
        if n == 0 {
            "–".to_string()
        } else {
            percent(e as f64 / n as f64)
        }
    };
    let mut head: Vec<(String, bool)> = vec![("Myndighetsområde".into(), false)];
    head.extend(months.iter().map(|m| ((*m).to_string(), true)));
    head.push(("Hela urvalet".into(), true));
    let head: Vec<(&str, bool)> = head.iter().map(|(h, n)| (h.as_str(), *n)).collect();
    html! {
        section aria-labelledby="channels-h" {
            h2 id="channels-h" { "Hur ärendena kommer in" }
            @if ch.share.is_empty() {
                p { "Inga ärenden i urvalet." }
            } @else {
                table {
                    caption { "Andel ärenden som kom via e-tjänst, per myndighetsområde och månad de kom in" }
                    (html::numeric_head_row(&head))
                    tbody {
                        @for a in &areas {
                            tr {
                                td { (area_sv(a)) }
                                @for m in &months { td class="n" { (cell(a, m)) } }
                                td class="n" { (total(a)) }
                            }
                        }
                    }
                }
                table {
                    caption { "Dagar till komplett ansökan och till beslut, per kanal (median)" }
                    (html::numeric_head_row(&[("Kanal", false), ("Kompletta", true), ("Till komplett", true), ("Beslutade", true), ("Till beslut", true)]))
                    tbody {
                        @for t in &ch.times {
                            tr {
                                td { (channel_sv(&t.channel)) }
                                td class="n" { (int(t.to_complete.n)) }
                                td class="n" { (opt_num(t.to_complete.p50_days, 1)) }
                                td class="n" { (int(t.lead_time.n)) }
                                td class="n" { (opt_num(t.lead_time.p50_days, 1)) }
                            }
                        }
                    }
                }
                @if ch.nki.is_empty() {
                    p { "Inga enkätsvar att jämföra kanalerna med." }
                } @else {
                    table {
                        caption { "NKI per kanal (minst " (threshold) " svar)" }
                        (html::numeric_head_row(&[("Kanal", false), ("Svar", true), ("NKI", true), ("95 % konfidensintervall", true), ("Nivå", false)]))
                        tbody {
                            @for g in &ch.nki {
                                tr { td { (channel_sv(&g.group)) } td class="n" { (int(g.n)) } (nki_cells(g)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn lead_time_section(points: &[(f64, f64)], linkage: &compute::Linkage) -> Markup {
    html! {
        section aria-labelledby="lt-h" {
            h2 id="lt-h" { "NKI och ledtid" }
            @if let Some(c) = &linkage.spearman {
                p {
                    "Rangkorrelation (Spearman) mellan ledtid och NKI: " (num(c.rho, 2)) " (95 % KI "
                    (num(c.ci_low, 2)) " till " (num(c.ci_high, 2)) ", n = " (int(c.n))
                    @if c.population > c.n {
                        ", ett fast slumpurval ur " (int(c.population)) " besvarade ärenden"
                    }
                    ")."
                }
            }
            @if let Some(r) = &linkage.slope {
                p {
                    "NKI ändras med " (num(r.slope, 2)) " poäng per veckas ledtid (95 % KI "
                    (num(r.ci_low, 2)) " till " (num(r.ci_high, 2)) ")."
                }
            }
            @if points.is_empty() {
                p { "Inga besvarade ärenden i urvalet." }
            } @else {
                (scatter(points))
                @if points.len() < linkage.n {
                    p { "Diagrammet visar " (int(points.len())) " av " (int(linkage.n))
                        " besvarade ärenden, ett fast slumpurval." }
                }
            }
            @if !linkage.by_lead_time_quartile.is_empty() {
                table {
                    caption { "NKI per ledtidskvartil" }
                    (html::numeric_head_row(&[("Kvartil", false), ("Ledtid (veckor)", true), ("Svar", true), ("NKI", true), ("95 % konfidensintervall", true), ("Nivå", false)]))
                    tbody {
                        @for b in &linkage.by_lead_time_quartile {
                            tr {
                                td { (b.label) }
                                td class="n" { (opt_num(b.weeks_from, 1)) "–" (opt_num(b.weeks_to, 1)) }
                                td class="n" { (int(b.nki.n)) }
                                (nki_cells(&b.nki))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The share decided in time as a heat map: an area per row, a month per column (the last 12),
/// darker for a higher share; each cell says its figures on hover and to screen readers.
pub(crate) fn compliance_heat_map(compliance: &[compute::Compliance]) -> Markup {
    let mut months: Vec<&str> = compliance.iter().map(|c| c.month.as_str()).collect();
    months.sort_unstable();
    months.dedup();
    let months: Vec<&str> = months.iter().rev().take(12).rev().copied().collect();
    let mut areas: Vec<&str> = compliance.iter().map(|c| c.area.as_str()).collect();
    areas.sort_unstable();
    areas.dedup();
    let (left, top, cell) = (190.0, 36.0, 36.0);
    let width = (left + cell * months.len() as f64 + 10.0).max(640.0);
    let height = top + cell * areas.len() as f64 + 36.0;
    // Light to dark blue; the text on the darker half is white (contrast ≥ 4.5:1 either way).
    let shade = |share: f64| {
        let steps = [
            "#e8f0f8", "#c4d8ec", "#8fb4d9", "#3d75ad", "#005a9c", "#003b66",
        ];
        let i = ((share * 5.0).round() as usize).min(5);
        (steps[i], if i >= 3 { "on-dark" } else { "on-light" })
    };
    let content = html! {
        @for (j, m) in months.iter().enumerate() {
            @let x = format!("{:.1}", left + cell * j as f64 + cell / 2.0);
            @if j == 0 || m.ends_with("-01") {
                text x=(x) y="12" text-anchor="middle" { (m.get(..4).unwrap_or(m)) }
            }
            text x=(x) y="28" text-anchor="middle" { (m.get(5..).unwrap_or(m)) }
        }
        @for (i, a) in areas.iter().enumerate() {
            @let y = top + cell * i as f64;
            text x=(left - 6.0) y=(format!("{:.1}", y + cell / 2.0 + 4.0)) text-anchor="end" { (area_sv(a)) }
            @for (j, m) in months.iter().enumerate() {
                @if let Some(c) = compliance.iter().find(|c| c.area == *a && c.month == *m) {
                    @let (fill, ink) = shade(c.share_on_time);
                    @let x = left + cell * j as f64;
                    g {
                        title { (area_sv(a)) ", " (m) ": " (num(c.share_on_time * 100.0, 0)) " % i tid (" (int(c.on_time)) " av " (int(c.decided)) ")" }
                        rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(cell - 2.0) height=(cell - 2.0) fill=(fill) {}
                        text class=(ink) x=(format!("{:.1}", x + cell / 2.0 - 1.0)) y=(format!("{:.1}", y + cell / 2.0 + 3.0)) text-anchor="middle" { (num(c.share_on_time * 100.0, 0)) }
                    }
                }
            }
        }
        text x="0" y=(format!("{:.1}", height - 10.0)) { "Procent av besluten (med frist) som fattades i tid; tom ruta: inga beslut den månaden." }
    };
    figure(
        "compliance",
        format!("0 0 {width:.0} {height:.0}"),
        "Beslut inom fristen per område och månad",
        "Värmekarta: andelen beslut i tid per myndighetsområde (rader) och beslutsmånad (kolumner), de senaste tolv månaderna; mörkare ruta är högre andel.",
        html! { "Beslut inom fristen per område och månad" },
        content,
    )
}

fn deadlines_section(
    deadlines: &compute::Deadlines,
    approaching_days: impl std::fmt::Display,
) -> Markup {
    html! {
        section aria-labelledby="dl-h" {
            h2 id="dl-h" { "Fristefterlevnad" }
            @if deadlines.compliance.is_empty() {
                p { "Inga beslutade ärenden med frist i urvalet." }
            } @else {
                (compliance_heat_map(&deadlines.compliance))
                details {
                    summary { "Siffrorna bakom kartan" }
                table {
                    caption { "Beslut inom fristen per område och månad" }
                    (html::numeric_head_row(&[("Myndighetsområde", false), ("Månad", false), ("Beslutade", true), ("I tid", true), ("Andel i tid", true)]))
                    tbody {
                        @for c in &deadlines.compliance {
                            tr {
                                td { (area_sv(&c.area)) }
                                td { (c.month) }
                                td class="n" { (int(c.decided)) }
                                td class="n" { (int(c.on_time)) }
                                td class="n" { (num(c.share_on_time * 100.0, 0)) "\u{a0}%" }
                            }
                        }
                    }
                }
                }
            }
            p {
                (int(deadlines.overdue_total)) " öppna ärenden har passerat sin frist och "
                (int(deadlines.due_soon_total)) " har den inom " (maud::display(approaching_days))
                " arbetsdagar. " (int(deadlines.fee_reductions_total))
                " beslut ger avgiftsreduktion (PBL 12 kap. 8 a §)."
            }
            @if !deadlines.overdue.is_empty() {
                table {
                    caption {
                        "Försenade öppna ärenden"
                        @if deadlines.overdue_total > 50 {
                            " – de 50 äldsta fristerna av " (int(deadlines.overdue_total))
                        }
                    }
                    (html::numeric_head_row(&[("Diarienummer", false), ("Område", false), ("Förvaltning", false), ("Frist", false), ("Arbetsdagar", true)]))
                    tbody {
                        @for c in deadlines.overdue.iter().take(50) {
                            tr {
                                td { a href=(format!("/arenden/{}", c.id)) { (c.reference) } }
                                td { (area_sv(&c.area)) }
                                td { (c.department) }
                                td { (html::date_html(c.due_date)) }
                                td class="n" { (num(c.days_left as f64, 0)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn age_section(bottlenecks: &compute::Bottlenecks) -> Markup {
    let bars: Vec<(String, f64)> = bottlenecks
        .open_cases_by_age
        .iter()
        .map(|a| (a.band.clone(), a.open_cases as f64))
        .collect();
    html! {
        section aria-labelledby="age-h" {
            h2 id="age-h" { "Öppna ärenden efter ålder" }
            (bar_chart(
                "age",
                "Öppna ärenden efter ålder",
                "Stapeldiagram: antal öppna ärenden per åldersintervall sedan de kom in.",
                &bars,
                "st.",
            ))
            table {
                caption { "Öppna ärenden efter ålder" }
                (html::numeric_head_row(&[("Ålder", false), ("Öppna ärenden", true)]))
                tbody {
                    @for a in &bottlenecks.open_cases_by_age {
                        tr { td { (a.band) } td class="n" { (int(a.open_cases)) } }
                    }
                }
            }
        }
    }
}

/// The figures of a selection, section by section.
fn sections(state: &AppState, f: &Figures) -> Markup {
    let slope = f.linkage.slope_within_areas.as_ref().map(|r| r.slope);
    let threshold = state.config.nki_threshold;
    html! {
        p {
            "Urvalet har " (int(f.cases as usize)) " ärenden, varav " (int(f.open)) " öppna och "
            (int(f.linkage.n)) " med enkätsvar."
        }
        (super::key_figures::section(f, threshold))
        (bottlenecks_section(&f.bottlenecks, slope))
        (nki_section(&f.nki_by_area, state.config.nki_area_threshold))
        (super::key_figures::area_trends(&f.area_tertials))
        (lead_time_section(&f.points, &f.linkage))
        (deadlines_section(&f.deadlines, state.config.deadline_approaching_days))
        (channels_section(&f.channels, threshold))
        (age_section(&f.bottlenecks))
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let filter = MetricFilter {
        from: Some(q.from.clone()).filter(|s| !s.trim().is_empty()),
        to: Some(q.to.clone()).filter(|s| !s.trim().is_empty()),
        department: Some(q.department.clone()).filter(|s| !s.trim().is_empty()),
        area: Some(q.area.clone()).filter(|s| !s.trim().is_empty()),
        group_by: None,
    };
    let departments = state
        .directory
        .list_departments(&user.actor)
        .await
        .unwrap_or_default();
    let loaded = state
        .rollups
        .figures(
            &state.db,
            &user.actor,
            &filter,
            state.config.metric_settings(),
            state.clock.now(),
        )
        .await;
    let (figures, errors) = match loaded {
        Ok(f) => (Some(f), Vec::new()),
        Err(ServiceError::Validation(e)) => (None, e),
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let standing = match &figures {
        Some(f) => match super::key_figures::standing(&state, &f.own, None).await {
            Ok(s) => s,
            Err(e) => return service_error_page(e.into(), &user.viewer),
        },
        None => None,
    };
    let main = html! {
        h1 { "Översikt" }
        p { a href="/oversikt/rapport" { "Rapport till nämnden" } " – årets siffror för utskrift och som Excel-fil." }
        (error_summary(&errors, "d-", filter_label))
        (filter_form(&q, &departments, &errors))
        @if let Some(f) = &figures {
            (sections(&state, f))
            @if let Some(s) = &standing { (super::key_figures::standing_section(s)) }
        }
    };
    html::page(status, "Översikt", Some(&user.viewer), "oversikt", main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lots_metrics::stats::Correlation;

    fn linkage(n: usize, rho_n: usize) -> compute::Linkage {
        compute::Linkage {
            n,
            spearman: Some(Correlation {
                n: rho_n,
                population: n,
                rho: -0.5,
                ci_low: -0.6,
                ci_high: -0.4,
            }),
            slope: None,
            slope_within_areas: None,
            by_area: Vec::new(),
            by_lead_time_quartile: Vec::new(),
            by_departments_involved: Vec::new(),
            by_handoffs: Vec::new(),
            attribution: Vec::new(),
        }
    }

    #[test]
    fn a_sampled_correlation_and_plot_say_of_how_many() {
        let points = vec![(1.0, 70.0), (2.0, 60.0), (3.0, 65.0)];
        let whole = lead_time_section(&points, &linkage(3, 3)).into_string();
        assert!(!whole.contains("slumpurval"), "{whole}");
        let sampled = lead_time_section(&points, &linkage(12_000, 3)).into_string();
        let many = int(12_000);
        assert!(
            sampled.contains(&format!("n = 3, ett fast slumpurval ur {many} besvarade")),
            "{sampled}"
        );
        assert!(
            sampled.contains(&format!("visar 3 av {many} besvarade")),
            "{sampled}"
        );
    }
}
