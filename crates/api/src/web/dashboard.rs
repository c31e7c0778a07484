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

use super::html::{self, area_sv, error_summary, esc, field_error, int, num, opt_num};
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

/// A horizontal bar chart: one bar per (label, value), values ≥ 0.
fn bar_chart(id: &str, title: &str, desc: &str, bars: &[(String, f64)], unit: &str) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1e-9);
    let row = 26.0;
    let left = 190.0;
    let width = 640.0;
    let height = 20.0 + row * bars.len() as f64;
    let mut s = format!(
        "<figure><svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {width} {height}\" width=\"100%\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let w = (width - left - 90.0) * value / max;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{}\" width=\"{:.1}\" height=\"18\" fill=\"#005a9c\"></rect><text x=\"{:.1}\" y=\"{}\">{} {}</text>",
            left - 6.0,
            y + 13.0,
            esc(label),
            y,
            w.max(1.0),
            left + w + 6.0,
            y + 13.0,
            num(*value, 1),
            esc(unit)
        ));
    }
    s.push_str(&format!(
        "</svg><figcaption>{} <span class=\"hint\">(samma siffror i tabellen nedan)</span></figcaption></figure>",
        esc(title)
    ));
    s
}

/// NKI per group with 95 % CI whiskers on a 0–100 axis; suppressed groups are labelled so.
fn nki_chart(id: &str, title: &str, groups: &[(String, &NkiGroup)]) -> String {
    let row = 26.0;
    let left = 190.0;
    let scale = 4.0; // px per NKI point
    let height = 40.0 + row * groups.len() as f64;
    let mut s = format!(
        "<figure><svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 640 {height}\" width=\"100%\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">NKI 0–100 per grupp med 95 % konfidensintervall; grupper med för få svar visas inte.</desc>",
        esc(title)
    );
    for (i, (label, g)) in groups.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 13.0,
            esc(label)
        ));
        match g.nki {
            Some(v) if !g.suppressed => {
                s.push_str(&format!(
                    "<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"18\" fill=\"#2f6f4f\"></rect>",
                    v * scale
                ));
                if let (Some(lo), Some(hi)) = (g.ci_low, g.ci_high) {
                    let (lo, hi) = (lo.clamp(0.0, 100.0), hi.clamp(0.0, 100.0));
                    s.push_str(&format!(
                        "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1b1b1b\" stroke-width=\"2\"></line>",
                        left + lo * scale,
                        left + hi * scale,
                        y + 9.0,
                        y + 9.0
                    ));
                }
                s.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                    left + 100.0 * scale + 6.0,
                    y + 13.0,
                    num(v, 0)
                ));
            }
            _ => s.push_str(&format!(
                "<text x=\"{left}\" y=\"{}\">För få svar – visas inte</text>",
                y + 13.0
            )),
        }
    }
    let axis_y = 14.0 + row * groups.len() as f64;
    for tick in [0.0, 50.0, 62.0, 70.0, 80.0, 100.0] {
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            left + tick * scale,
            axis_y + 12.0,
            num(tick, 0)
        ));
    }
    s.push_str(&format!(
        "</svg><figcaption>{} <span class=\"hint\">(samma siffror i tabellen nedan)</span></figcaption></figure>",
        esc(title)
    ));
    s
}

fn nki_cells(g: &NkiGroup) -> String {
    if g.suppressed || g.nki.is_none() {
        return "<td class=\"suppressed\" colspan=\"3\">För få svar – visas inte</td>".into();
    }
    format!(
        "<td class=\"n\">{}</td><td class=\"n\">{}–{}</td><td>{}</td>",
        opt_num(g.nki, 1),
        opt_num(g.ci_low, 1),
        opt_num(g.ci_high, 1),
        g.band.map(band_sv).unwrap_or("–")
    )
}

/// A scatter of the answered cases: lead time in weeks against NKI.
fn scatter(points: &[(f64, f64)]) -> String {
    let (w, h, l, b) = (640.0, 320.0, 50.0, 40.0);
    let max_x = points.iter().map(|p| p.0).fold(1.0_f64, f64::max);
    let px = |x: f64| l + (w - l - 20.0) * x / max_x;
    let py = |y: f64| (h - b) - (h - b - 10.0) * y / 100.0;
    let mut s = format!(
        "<figure><svg role=\"img\" aria-labelledby=\"sc-t sc-d\" viewBox=\"0 0 {w} {h}\" width=\"100%\"><title id=\"sc-t\">NKI mot ledtid, besvarade ärenden</title><desc id=\"sc-d\">{} punkter; x-axeln ledtid i veckor (0–{}), y-axeln NKI 0–100. Tabellen med kvartiler nedan sammanfattar samma data.</desc>",
        points.len(),
        num(max_x, 0)
    );
    s.push_str(&format!(
        "<line x1=\"{l}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#1b1b1b\"></line><line x1=\"{l}\" y1=\"10\" x2=\"{l}\" y2=\"{}\" stroke=\"#1b1b1b\"></line>",
        h - b,
        w - 20.0,
        h - b,
        h - b
    ));
    for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            l - 6.0,
            py(t) + 4.0,
            num(t, 0)
        ));
    }
    for i in 0..=4 {
        let x = max_x * f64::from(i) / 4.0;
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            px(x),
            h - b + 16.0,
            num(x, 1)
        ));
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">Ledtid (veckor)</text><text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">NKI</text>",
        l + (w - l) / 2.0,
        h - 4.0,
        (h - b) / 2.0,
        (h - b) / 2.0
    ));
    for (x, y) in points {
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#005a9c\" fill-opacity=\"0.6\"></circle>",
            px(*x),
            py(*y)
        ));
    }
    s.push_str("</svg><figcaption>NKI mot ledtid för besvarade ärenden <span class=\"hint\">(sammanfattning per kvartil i tabellen nedan)</span></figcaption></figure>");
    s
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
        .records
        .selection(&state.db, &user.actor, &filter)
        .await;
    let (selection, errors) = match loaded {
        Ok(s) => (Some(s), Vec::new()),
        Err(ServiceError::Validation(e)) => (None, e),
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let records: Vec<&lots_metrics::CaseRecord> =
        selection.as_ref().map(|s| s.records()).unwrap_or_default();
    let label = |f: &str| {
        match f {
            "from" => "Från",
            "to" => "Till",
            "department" => "Förvaltning",
            "area" => "Myndighetsområde",
            o => o,
        }
        .to_string()
    };
    let mut m = String::from("<h1>Översikt</h1>");
    m.push_str(&error_summary(&errors, "d-", label));
    let (fe, fa) = field_error(&errors, "d-", "from");
    let (te, ta) = field_error(&errors, "d-", "to");
    let (de, da) = field_error(&errors, "d-", "department");
    let (ae, aa) = field_error(&errors, "d-", "area");
    let mut dep_opts = String::from("<option value=\"\">Alla (inom din behörighet)</option>");
    for d in &departments {
        let sel = if d.code == q.department {
            " selected"
        } else {
            ""
        };
        dep_opts.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            esc(&d.code),
            esc(&d.name)
        ));
    }
    let mut area_opts = String::from("<option value=\"\">Alla</option>");
    for a in Area::ALL {
        let sel = if a.as_str() == q.area {
            " selected"
        } else {
            ""
        };
        area_opts.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            a.as_str(),
            a.label_sv()
        ));
    }
    m.push_str(&format!(
        "<form method=\"get\" action=\"/oversikt\" class=\"filters\" aria-label=\"Urval\">\
<div><label for=\"d-from\">Från (inkom)</label><input type=\"date\" id=\"d-from\" name=\"from\" value=\"{}\"{fa}>{fe}</div>\
<div><label for=\"d-to\">Till och med</label><input type=\"date\" id=\"d-to\" name=\"to\" value=\"{}\"{ta}>{te}</div>\
<div><label for=\"d-department\">Förvaltning</label><select id=\"d-department\" name=\"department\"{da}>{dep_opts}</select>{de}</div>\
<div><label for=\"d-area\">Myndighetsområde</label><select id=\"d-area\" name=\"area\"{aa}>{area_opts}</select>{ae}</div>\
<div><button type=\"submit\">Visa</button></div></form>",
        esc(&q.from),
        esc(&q.to)
    ));
    let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
    m.push_str(&format!(
        "<p>Exportera urvalet: <a class=\"button\" href=\"/api/v1/export/cases.csv?{qs}\" download>Ärenden som CSV</a> <a class=\"button\" href=\"/api/v1/export/ocel?{qs}\" download>Händelselogg som OCEL 2.0</a> <a class=\"button\" href=\"/api/v1/export/xes?{qs}\" download>Händelselogg som XES</a></p>",
        qs = esc(&qs)
    ));
    if !errors.is_empty() {
        return html::page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Översikt",
            Some(&user.viewer),
            "oversikt",
            &m,
        );
    }
    let now = state.clock.now();
    let linkage = compute::linkage(
        &records,
        state.config.nki_threshold,
        state.config.nki_area_threshold,
    );
    let slope = linkage.slope_within_areas.as_ref().map(|r| r.slope);
    let bottlenecks = compute::bottlenecks(&records, slope, now);
    let nki = compute::nki(
        &records,
        lots_metrics::GroupBy::Area,
        state.config.nki_area_threshold,
    );
    let deadlines = compute::deadlines(&records, now, state.config.deadline_approaching_days);
    let open = records.iter().filter(|r| r.is_open()).count();
    m.push_str(&format!(
        "<p>Urvalet har {} ärenden, varav {} öppna och {} med enkätsvar.</p>",
        int(records.len()),
        int(open),
        int(linkage.n)
    ));

    // Bottlenecks.
    m.push_str("<section aria-labelledby=\"bn-h\"><h2 id=\"bn-h\">Flaskhalsar</h2>");
    m.push_str(&match slope {
        Some(s) => format!(
            "<p>Inom områdena ändras NKI med {} poäng per veckas ledtid; kostnaden i NKI-poäng nedan bygger på det sambandet.</p>",
            num(s, 2)
        ),
        None => "<p>För få enkätsvar för att räkna ut vad väntan kostar i NKI-poäng.</p>".into(),
    });
    if bottlenecks.edges.is_empty() {
        m.push_str("<p>Inga överlämningar i urvalet.</p>");
    } else {
        let bars: Vec<(String, f64)> = bottlenecks
            .edges
            .iter()
            .take(10)
            .map(|e| {
                (
                    format!("{} → {} ({})", e.from, e.to, html::handoff_kind_sv(&e.kind)),
                    e.total_delay_days,
                )
            })
            .collect();
        m.push_str(&bar_chart(
            "edges",
            "Överlämningar rangordnade efter total väntan (dagar)",
            "Stapeldiagram: total kö- och arbetstid per väg mellan förvaltningar.",
            &bars,
            "d",
        ));
        m.push_str("<table><caption>Överlämningsvägar, rangordnade efter total väntan</caption><thead><tr><th scope=\"col\">Från → till</th><th scope=\"col\">Slag</th><th scope=\"col\" class=\"n\">Antal</th><th scope=\"col\" class=\"n\">Kö p50 / p90 (dagar)</th><th scope=\"col\" class=\"n\">Arbete p50 / p90 (dagar)</th><th scope=\"col\" class=\"n\">Total väntan (dagar)</th><th scope=\"col\" class=\"n\">Kostnad per ärende (NKI-poäng)</th></tr></thead><tbody>");
        for e in &bottlenecks.edges {
            m.push_str(&format!(
                "<tr><td>{} → {}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} / {}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&e.from),
                esc(&e.to),
                html::handoff_kind_sv(&e.kind),
                int(e.count),
                opt_num(e.queue_p50_days, 1),
                opt_num(e.queue_p90_days, 1),
                opt_num(e.work_p50_days, 1),
                opt_num(e.work_p90_days, 1),
                num(e.total_delay_days, 1),
                opt_num(e.nki_cost_per_case, 2)
            ));
        }
        m.push_str("</tbody></table>");
    }
    if !bottlenecks.departments.is_empty() {
        m.push_str("<table><caption>Förvaltningar rangordnade efter hur länge de håller öppna ärenden</caption><thead><tr><th scope=\"col\">Förvaltning</th><th scope=\"col\" class=\"n\">Öppna ärenden</th><th scope=\"col\" class=\"n\">Hålltid p50 / p90 (dagar)</th><th scope=\"col\" class=\"n\">Hålltid p50 / p90 (arbetsdagar)</th><th scope=\"col\" class=\"n\">Kostnad per ärende vid p50 (NKI-poäng)</th></tr></thead><tbody>");
        for d in &bottlenecks.departments {
            let cost = match (slope, d.holding_p50_days) {
                (Some(s), Some(p50)) => Some(-s * p50 / 7.0),
                _ => None,
            };
            m.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} / {}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td></tr>",
                esc(&d.department),
                int(d.open_cases),
                opt_num(d.holding_p50_days, 1),
                opt_num(d.holding_p90_days, 1),
                opt_num(d.holding_p50_working_days, 0),
                opt_num(d.holding_p90_working_days, 0),
                opt_num(cost, 2)
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("</section>");

    // NKI per area.
    m.push_str("<section aria-labelledby=\"nki-h\"><h2 id=\"nki-h\">NKI per myndighetsområde</h2>");
    m.push_str(&format!(
        "<p>Ett resultat visas bara med minst {} svar; färre redovisas inte, för att skydda de svarande.</p>",
        state.config.nki_area_threshold
    ));
    if nki.is_empty() {
        m.push_str("<p>Inga enkätsvar i urvalet.</p>");
    } else {
        let groups: Vec<(String, &NkiGroup)> = nki.iter().map(|g| (area_sv(&g.group), g)).collect();
        m.push_str(&nki_chart("nkiarea", "NKI per myndighetsområde", &groups));
        m.push_str("<table><caption>NKI per myndighetsområde</caption><thead><tr><th scope=\"col\">Myndighetsområde</th><th scope=\"col\" class=\"n\">Svar</th><th scope=\"col\" class=\"n\">NKI</th><th scope=\"col\" class=\"n\">95 % konfidensintervall</th><th scope=\"col\">Nivå</th></tr></thead><tbody>");
        for (label, g) in &groups {
            m.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}</td>{}</tr>",
                esc(label),
                int(g.n),
                nki_cells(g)
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("</section>");

    // NKI against lead time.
    m.push_str("<section aria-labelledby=\"lt-h\"><h2 id=\"lt-h\">NKI och ledtid</h2>");
    if let Some(c) = &linkage.spearman {
        m.push_str(&format!(
            "<p>Rangkorrelation (Spearman) mellan ledtid och NKI: {} (95 % KI {} till {}, n = {}).</p>",
            num(c.rho, 2),
            num(c.ci_low, 2),
            num(c.ci_high, 2),
            int(c.n)
        ));
    }
    if let Some(r) = &linkage.slope {
        m.push_str(&format!(
            "<p>NKI ändras med {} poäng per veckas ledtid (95 % KI {} till {}).</p>",
            num(r.slope, 2),
            num(r.ci_low, 2),
            num(r.ci_high, 2)
        ));
    }
    let points: Vec<(f64, f64)> = records
        .iter()
        .filter_map(|r| {
            let s = r.survey.as_ref()?;
            let d = r.decided_at?;
            Some((
                (d - r.received_at).num_seconds() as f64 / 86400.0 / 7.0,
                s.nki,
            ))
        })
        .collect();
    if points.is_empty() {
        m.push_str("<p>Inga besvarade ärenden i urvalet.</p>");
    } else {
        m.push_str(&scatter(&points));
    }
    if !linkage.by_lead_time_quartile.is_empty() {
        m.push_str("<table><caption>NKI per ledtidskvartil</caption><thead><tr><th scope=\"col\">Kvartil</th><th scope=\"col\" class=\"n\">Ledtid (veckor)</th><th scope=\"col\" class=\"n\">Svar</th><th scope=\"col\" class=\"n\">NKI</th><th scope=\"col\" class=\"n\">95 % konfidensintervall</th><th scope=\"col\">Nivå</th></tr></thead><tbody>");
        for b in &linkage.by_lead_time_quartile {
            m.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}–{}</td><td class=\"n\">{}</td>{}</tr>",
                esc(&b.label),
                opt_num(b.weeks_from, 1),
                opt_num(b.weeks_to, 1),
                int(b.nki.n),
                nki_cells(&b.nki)
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("</section>");

    // Deadlines.
    m.push_str("<section aria-labelledby=\"dl-h\"><h2 id=\"dl-h\">Fristefterlevnad</h2>");
    if deadlines.compliance.is_empty() {
        m.push_str("<p>Inga beslutade ärenden med frist i urvalet.</p>");
    } else {
        m.push_str("<table><caption>Beslut inom fristen per område och månad</caption><thead><tr><th scope=\"col\">Myndighetsområde</th><th scope=\"col\">Månad</th><th scope=\"col\" class=\"n\">Beslutade</th><th scope=\"col\" class=\"n\">I tid</th><th scope=\"col\" class=\"n\">Andel i tid</th></tr></thead><tbody>");
        for c in &deadlines.compliance {
            m.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}\u{a0}%</td></tr>",
                esc(&area_sv(&c.area)),
                esc(&c.month),
                int(c.decided),
                int(c.on_time),
                num(c.share_on_time * 100.0, 0)
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str(&format!(
        "<p>{} öppna ärenden har passerat sin frist och {} har den inom {} arbetsdagar. {} beslut ger avgiftsreduktion (PBL 12 kap. 8 a §).</p>",
        int(deadlines.overdue.len()),
        int(deadlines.due_soon.len()),
        state.config.deadline_approaching_days,
        int(deadlines.fee_reductions.len())
    ));
    if !deadlines.overdue.is_empty() {
        m.push_str("<table><caption>Försenade öppna ärenden</caption><thead><tr><th scope=\"col\">Diarienummer</th><th scope=\"col\">Område</th><th scope=\"col\">Förvaltning</th><th scope=\"col\">Frist</th><th scope=\"col\" class=\"n\">Arbetsdagar</th></tr></thead><tbody>");
        for c in deadlines.overdue.iter().take(50) {
            m.push_str(&format!(
                "<tr><td><a href=\"/arenden/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                c.id,
                esc(&c.reference),
                esc(&area_sv(&c.area)),
                esc(&c.department),
                html::date_html(c.due_date),
                num(c.days_left as f64, 0)
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("</section>");

    // Open cases by age.
    m.push_str(
        "<section aria-labelledby=\"age-h\"><h2 id=\"age-h\">Öppna ärenden efter ålder</h2>",
    );
    let bars: Vec<(String, f64)> = bottlenecks
        .open_cases_by_age
        .iter()
        .map(|a| (a.band.clone(), a.open_cases as f64))
        .collect();
    m.push_str(&bar_chart(
        "age",
        "Öppna ärenden efter ålder",
        "Stapeldiagram: antal öppna ärenden per åldersintervall sedan de kom in.",
        &bars,
        "st.",
    ));
    m.push_str("<table><caption>Öppna ärenden efter ålder</caption><thead><tr><th scope=\"col\">Ålder</th><th scope=\"col\" class=\"n\">Öppna ärenden</th></tr></thead><tbody>");
    for a in &bottlenecks.open_cases_by_age {
        m.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&a.band),
            int(a.open_cases)
        ));
    }
    m.push_str("</tbody></table></section>");
    html::page(
        StatusCode::OK,
        "Översikt",
        Some(&user.viewer),
        "oversikt",
        &m,
    )
}
