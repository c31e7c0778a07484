//! The board's report as an Excel workbook: one sheet per view of the print page, each a title,
//! a header row and the numbers as numbers (a suppressed or missing figure is an empty cell,
//! never zero), so the board's secretary can take them on into their own tables.

use lots_core::Area;
use lots_core::nki::factor_label_sv;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::kolada::Comparison;
use crate::report::BoardReport;

/// One cell of a row.
enum Cell {
    Text(String),
    Int(usize),
    /// A number with `decimals`; `None` leaves the cell empty.
    Num(Option<f64>, usize),
    /// A share 0–1 shown as per cent; `None` leaves the cell empty.
    Share(Option<f64>),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// A sheet named `name` with `title` in its first row and `head` in its third, then `rows`.
fn sheet(
    book: &mut Workbook,
    name: &str,
    title: &str,
    head: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let formats = [
        Format::new().set_num_format("0"),
        Format::new().set_num_format("0.0"),
        Format::new().set_num_format("0.00"),
        Format::new().set_num_format("0.000"),
    ];
    let share = Format::new().set_num_format("0%");
    let ws: &mut Worksheet = book.add_worksheet();
    ws.set_name(name)?;
    ws.write_string_with_format(0, 0, title, &Format::new().set_bold().set_font_size(14))?;
    for (j, h) in head.iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        for (j, cell) in row.iter().enumerate() {
            let c = j as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s)?;
                }
                Cell::Int(n) => {
                    ws.write_number_with_format(r, c, *n as f64, &formats[0])?;
                }
                Cell::Num(Some(v), d) => {
                    ws.write_number_with_format(r, c, *v, &formats[(*d).min(3)])?;
                }
                Cell::Share(Some(v)) => {
                    ws.write_number_with_format(r, c, *v, &share)?;
                }
                Cell::Num(None, _) | Cell::Share(None) => {}
            }
        }
    }
    ws.set_freeze_panes(3, 0)?;
    ws.autofit();
    Ok(())
}

fn area_label(a: Option<Area>) -> String {
    a.map_or_else(|| "Alla områden".to_string(), |a| a.label_sv().to_string())
}

/// What a comparison row is about: an area's NKI, the total, or a service factor.
pub fn kpi_label(c: &Comparison) -> String {
    match (c.factor, c.area) {
        (Some(f), _) => factor_label_sv(f).to_string(),
        (None, Some(a)) => format!("NKI {}", a.label_sv()),
        (None, None) => "NKI alla områden".to_string(),
    }
}

fn yes_no(b: Option<bool>) -> Cell {
    text(match b {
        Some(true) => "ja",
        Some(false) => "nej",
        None => "",
    })
}

fn key_figures(r: &BoardReport) -> Vec<Vec<Cell>> {
    r.areas
        .iter()
        .map(|a| {
            let shown = |v: Option<f64>| v.filter(|_| !a.nki.suppressed);
            let change = a.change.as_ref().filter(|c| !c.suppressed);
            vec![
                text(area_label(a.area)),
                Cell::Int(a.received),
                Cell::Int(a.decided),
                Cell::Int(a.with_deadline),
                Cell::Int(a.on_time),
                Cell::Share(a.share_on_time),
                Cell::Num(a.lead_time_p50_days, 1),
                Cell::Int(a.nki.n),
                Cell::Num(shown(a.nki.nki), 1),
                Cell::Num(shown(a.nki.ci_low), 1),
                Cell::Num(shown(a.nki.ci_high), 1),
                Cell::Num(change.and_then(|c| c.nki_a), 1),
                Cell::Num(change.and_then(|c| c.difference), 1),
                Cell::Num(change.and_then(|c| c.ci_low), 1),
                Cell::Num(change.and_then(|c| c.ci_high), 1),
                Cell::Num(change.and_then(|c| c.p_value), 3),
                yes_no(change.and_then(|c| c.p_value).map(|p| p < 0.05)),
            ]
        })
        .collect()
}

fn trends(r: &BoardReport) -> Vec<Vec<Cell>> {
    r.trends
        .iter()
        .flat_map(|t| {
            t.points.iter().map(|p| {
                let shown = |v: Option<f64>| v.filter(|_| !p.suppressed);
                vec![
                    text(area_label(t.area)),
                    text(p.period.clone()),
                    Cell::Int(p.n),
                    Cell::Num(shown(p.nki), 1),
                    Cell::Num(shown(p.ci_low), 1),
                    Cell::Num(shown(p.ci_high), 1),
                    text(if p.suppressed { "för få svar" } else { "" }),
                ]
            })
        })
        .collect()
}

fn comparison_rows(r: &BoardReport) -> Vec<Vec<Cell>> {
    let Some(s) = &r.standing else {
        return Vec::new();
    };
    s.items
        .iter()
        .map(|c| {
            vec![
                text(c.kpi.clone()),
                text(kpi_label(c)),
                Cell::Num(c.value, 0),
                Cell::Num(c.national_median, 1),
                Cell::Num(c.peer_median, 1),
                c.rank.map_or(text(""), Cell::Int),
                Cell::Int(c.of),
                Cell::Num(c.percentile, 0),
                Cell::Num(c.own_survey_nki, 1),
                Cell::Num(c.own_ci_low, 1),
                Cell::Num(c.own_ci_high, 1),
                Cell::Int(c.own_n),
                yes_no(c.agrees),
            ]
        })
        .collect()
}

/// Every municipality's value per KPI: a row per municipality, a column per KPI.
fn municipality_rows(r: &BoardReport, names: &dyn Fn(&str) -> Option<String>) -> Vec<Vec<Cell>> {
    let Some(s) = &r.standing else {
        return Vec::new();
    };
    let mut codes: Vec<&str> = s
        .items
        .iter()
        .flat_map(|c| c.values.iter().map(|(m, _)| m.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
        .into_iter()
        .map(|m| {
            let mut row = vec![text(m), text(names(m).unwrap_or_default())];
            row.extend(
                s.items
                    .iter()
                    .map(|c| Cell::Num(c.values.iter().find(|(k, _)| k == m).map(|(_, v)| *v), 0)),
            );
            row
        })
        .collect()
}

/// The year of the comparison: the latest Insikt year published up to the report's.
fn standing_year(r: &BoardReport) -> i32 {
    r.standing.as_ref().map_or(r.year, |s| s.year)
}

/// A sheet to write: its name, title, header row and rows.
type Sheet<'a> = (&'a str, String, &'a [&'a str], Vec<Vec<Cell>>);

/// The header rows of the sheets.
const KEY_HEAD: [&str; 17] = [
    "Område",
    "Inkomna",
    "Beslutade",
    "Beslut med frist",
    "I tid",
    "Andel i tid",
    "Median handläggningstid (dagar)",
    "Enkätsvar",
    "NKI",
    "NKI 95 % KI låg",
    "NKI 95 % KI hög",
    "NKI året före",
    "Förändring",
    "Förändring KI låg",
    "Förändring KI hög",
    "p-värde (Welch)",
    "Säkerställd (p < 0,05)",
];
const TREND_HEAD: [&str; 7] = [
    "Område",
    "Tertial",
    "Enkätsvar",
    "NKI",
    "95 % KI låg",
    "95 % KI hög",
    "Anmärkning",
];
const COMPLIANCE_HEAD: [&str; 5] = [
    "Område",
    "Månad",
    "Beslutade med frist",
    "I tid",
    "Andel i tid",
];
const EDGE_HEAD: [&str; 9] = [
    "Från",
    "Till",
    "Slag",
    "Antal",
    "Kö median (dagar)",
    "Kö 90:e percentil",
    "Arbete median (dagar)",
    "Arbete 90:e percentil",
    "Dagar totalt",
];
const COMPARISON_HEAD: [&str; 13] = [
    "KPI (Kolada)",
    "Mått",
    "Vårt värde",
    "Rikets median",
    "Jämförelsegruppens median",
    "Plats",
    "Av",
    "Percentil",
    "Egen enkät",
    "Egen 95 % KI låg",
    "Egen 95 % KI hög",
    "Egna svar",
    "Inom egen KI",
];

fn compliance_rows(r: &BoardReport) -> Vec<Vec<Cell>> {
    r.compliance
        .iter()
        .map(|c| {
            vec![
                text(area_label(c.area.parse().ok())),
                text(c.month.clone()),
                Cell::Int(c.decided),
                Cell::Int(c.on_time),
                Cell::Share(Some(c.share_on_time)),
            ]
        })
        .collect()
}

fn edge_rows(r: &BoardReport) -> Vec<Vec<Cell>> {
    r.bottlenecks
        .iter()
        .map(|e| {
            vec![
                text(e.from.clone()),
                text(e.to.clone()),
                text(e.kind.clone()),
                Cell::Int(e.count),
                Cell::Num(e.queue_p50_days, 1),
                Cell::Num(e.queue_p90_days, 1),
                Cell::Num(e.work_p50_days, 1),
                Cell::Num(e.work_p90_days, 1),
                Cell::Num(Some(e.total_delay_days), 1),
            ]
        })
        .collect()
}

/// The workbook of `r`; `names` gives a municipality's name from its kommunkod.
pub fn board_workbook(
    r: &BoardReport,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let who = r
        .standing
        .as_ref()
        .map(|s| {
            format!(
                " – {}",
                s.municipality_name.as_deref().unwrap_or(&s.municipality)
            )
        })
        .unwrap_or_default();
    let (y, insikt) = (r.year, standing_year(r));
    let sheets: [Sheet; 5] = [
        (
            "Nyckeltal",
            format!("Nyckeltal {y}{who}"),
            &KEY_HEAD,
            key_figures(r),
        ),
        (
            "NKI per tertial",
            format!("NKI per tertial {}–{y}{who}", y - 2),
            &TREND_HEAD,
            trends(r),
        ),
        (
            "Fristefterlevnad",
            format!("Beslut inom fristen per område och månad {y}{who}"),
            &COMPLIANCE_HEAD,
            compliance_rows(r),
        ),
        (
            "Flaskhalsar",
            format!("Överlämningar mellan förvaltningar, beslut {y}{who}"),
            &EDGE_HEAD,
            edge_rows(r),
        ),
        (
            "Jämförelse",
            format!("Insikt {insikt}: vi mot andra kommuner{who}"),
            &COMPARISON_HEAD,
            comparison_rows(r),
        ),
    ];
    for (name, title, head, rows) in sheets {
        sheet(&mut book, name, &title, head, rows)?;
    }
    let mut head = vec!["Kommunkod".to_string(), "Kommun".to_string()];
    if let Some(s) = &r.standing {
        head.extend(
            s.items
                .iter()
                .map(|c| format!("{} ({})", kpi_label(c), c.kpi)),
        );
    }
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    sheet(
        &mut book,
        "Alla kommuner",
        &format!("Insikt {insikt}: alla kommuners värden i Kolada"),
        &head,
        municipality_rows(r, names),
    )?;
    book.save_to_buffer()
}
