//! The pages' shell (landmarks, skip link, navigation) and the Swedish formats of dates,
//! times and numbers. Everything dynamic goes through `esc`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use lots_cases::FieldError;
use lots_core::{Area, CaseStatus, Decision, Role, TIME_ZONE};

pub use crate::routes::survey_page::esc;

/// A fingerprint of the stylesheet (FNV-1a), so that its URL changes whenever it does and it
/// can be cached for a year.
pub const CSS_HASH: u64 = {
    let bytes = CSS.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
};

/// Who is logged in, as the page header shows them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<String>,
    pub csrf: String,
}

impl Viewer {
    /// The hidden CSRF field every form carries.
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(&self.csrf)
        )
    }
}

/// A whole page: `current` is the navigation entry to mark.
pub fn page(
    status: StatusCode,
    title: &str,
    viewer: Option<&Viewer>,
    current: &str,
    main: &str,
) -> Response {
    let mut nav = String::new();
    if let Some(v) = viewer {
        let mut items: Vec<(&str, &str, &str)> = Vec::new();
        if v.role != Role::Manager {
            items.push(("/arenden", "Mina ärenden", "mina"));
            items.push(("/arenden/sok", "Sök ärenden", "sok"));
            items.push(("/arenden/nytt", "Registrera ärende", "nytt"));
        } else {
            items.push(("/arenden/sok", "Ärenden", "sok"));
        }
        items.push(("/overlamningar", "Överlämningar", "overlamningar"));
        items.push(("/foretag", "Företag", "foretag"));
        items.push(("/samordnade", "Samordnade ärenden", "samordnade"));
        if v.role != Role::Officer {
            items.push(("/oversikt", "Översikt", "oversikt"));
        }
        nav.push_str("<nav aria-label=\"Huvudmeny\"><ul>");
        for (href, label, key) in items {
            let cur = if key == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            nav.push_str(&format!("<li><a href=\"{href}\"{cur}>{label}</a></li>"));
        }
        nav.push_str("</ul></nav>");
        nav.push_str(&format!(
            "<div class=\"who\"><span>{} ({}{})</span><form method=\"post\" action=\"/logga-ut\">{}<button type=\"submit\" class=\"link\">Logga ut</button></form></div>",
            esc(&v.display_name),
            role_sv(v.role),
            v.department.as_deref().map(|d| format!(", {}", esc(d))).unwrap_or_default(),
            v.csrf_field()
        ));
    }
    let body = format!(
        "<!doctype html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} – Lots</title>\n<link rel=\"stylesheet\" href=\"/assets/lots.css?v={CSS_HASH:016x}\">\n</head>\n<body>\n<a class=\"skip\" href=\"#innehall\">Hoppa till innehållet</a>\n<header class=\"top\"><div class=\"brand\"><a href=\"/\">Lots</a> <span>ärenden för företag</span></div>{nav}</header>\n<main id=\"innehall\" tabindex=\"-1\">\n{main}\n</main>\n<footer><p>Lots – handläggning av företagsärenden. Tider visas i svensk tid.</p></footer>\n</body>\n</html>\n",
        esc(title)
    );
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// A page that only says something (an error, a refusal).
pub fn message(status: StatusCode, title: &str, text: &str, viewer: Option<&Viewer>) -> Response {
    page(
        status,
        title,
        viewer,
        "",
        &format!(
            "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/\">Till startsidan</a></p>",
            esc(title),
            esc(text)
        ),
    )
}

pub fn role_sv(r: Role) -> &'static str {
    match r {
        Role::Officer => "handläggare",
        Role::Manager => "chef",
        Role::Admin => "administratör",
    }
}

pub fn status_sv(s: CaseStatus) -> &'static str {
    s.label_sv()
}

pub fn status_sv_str(s: &str) -> String {
    s.parse::<CaseStatus>()
        .map(|s| s.label_sv().to_string())
        .unwrap_or_else(|_| s.to_string())
}

pub fn area_sv(a: &str) -> String {
    a.parse::<Area>()
        .map(|a| a.label_sv().to_string())
        .unwrap_or_else(|_| a.to_string())
}

pub fn decision_sv(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "Bifall",
        Decision::Rejected => "Avslag",
        Decision::Dismissed => "Avvisning",
        Decision::WrittenOff => "Avskrivning",
    }
}

pub fn decision_sv_str(d: &str) -> String {
    d.parse::<Decision>()
        .map(|d| decision_sv(d).to_string())
        .unwrap_or_else(|_| d.to_string())
}

pub fn handoff_kind_sv(k: &str) -> &str {
    match k {
        "transfer" => "Överlämning",
        "consultation" => "Remiss",
        "contact" => "Kontakt",
        other => other,
    }
}

pub fn handoff_status_sv(s: &str) -> &str {
    match s {
        "requested" => "Begärd",
        "accepted" => "Accepterad",
        "completed" => "Slutförd",
        "declined" => "Avböjd",
        "cancelled" => "Återkallad",
        other => other,
    }
}

const MONTHS: [&str; 12] = [
    "jan.", "feb.", "mars", "apr.", "maj", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "dec.",
];

/// `27 nov. 2026`.
pub fn date_sv(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// A date as `<time>`: `27 nov. 2026`, machine-readable `2026-11-27`.
pub fn date_html(d: NaiveDate) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        d.format("%Y-%m-%d"),
        date_sv(d)
    )
}

/// An instant in Stockholm time: `27 nov. 2026 14:05`.
pub fn time_html(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&TIME_ZONE);
    format!(
        "<time datetime=\"{}\">{} {}</time>",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        date_sv(local.date_naive()),
        local.format("%H:%M")
    )
}

/// A number with a decimal comma and spaces between thousands: `1 234,5`.
pub fn num(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

pub fn opt_num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".into(), |v| num(v, decimals))
}

/// Integer with space thousands.
pub fn int(v: usize) -> String {
    num(v as f64, 0)
}

/// The Swedish form of a service validation message.
pub fn message_sv(m: &str) -> String {
    let m = m.trim();
    if m == "is required" {
        return "Fältet måste fyllas i.".into();
    }
    if let Some(rest) = m.strip_prefix("must be at most ") {
        return format!("Får vara högst {}.", rest.replace(" characters", " tecken"));
    }
    if let Some(rest) = m.strip_prefix("must be at least ") {
        return format!(
            "Måste vara minst {}.",
            rest.replace(" characters", " tecken")
        );
    }
    if m.starts_with("must be 10 digits") {
        return "Skriv organisationsnumret med 10 siffror, NNNNNN-NNNN.".into();
    }
    if m.contains("check digit") || m.contains("Luhn") {
        return "Organisationsnumret stämmer inte (kontrollsiffran är fel).".into();
    }
    if m.contains("neither an organisation number") {
        return "Numret är varken ett organisationsnummer eller ett giltigt personnummer.".into();
    }
    if m.contains("third digit") {
        return "Organisationsnumret stämmer inte (tredje siffran ska vara minst 2).".into();
    }
    if m.starts_with("must not lie in the future") {
        return "Får inte ligga i framtiden.".into();
    }
    if m.starts_with("must be a date") {
        return "Skriv ett datum, ÅÅÅÅ-MM-DD.".into();
    }
    if let Some(rest) = m.strip_prefix("must be one of: ") {
        return format!("Välj ett av: {rest}.");
    }
    let known: &[(&str, &str)] = &[
        (
            "a consultation is completed with its answer",
            "En remiss slutförs med ett svar.",
        ),
        (
            "say why the handoff is declined",
            "Skriv varför överlämningen avböjs.",
        ),
        (
            "only a consultation has a due date",
            "Bara en remiss har ett svarsdatum.",
        ),
        ("must not lie in the past", "Får inte ligga bakåt i tiden."),
        (
            "is the case's own department",
            "Är ärendets egen förvaltning.",
        ),
        (
            "must be an active officer or manager",
            "Måste vara en aktiv handläggare eller chef.",
        ),
        ("no such case", "Det finns inget sådant ärende."),
        (
            "no case has been registered for this company",
            "Företaget har inga registrerade ärenden.",
        ),
        ("must be true or false", "Välj ja eller nej."),
        (
            "is only given when `to` is `decided`",
            "Välj bara ett beslut när ärendet beslutas.",
        ),
    ];
    if let Some((_, sv)) = known.iter().find(|(en, _)| *en == m) {
        return (*sv).to_string();
    }
    if m == "no such user" {
        return "Det finns ingen sådan användare.".into();
    }
    if m == "the user is deactivated" {
        return "Användaren är inaktiverad.".into();
    }
    if m.starts_with("must be an officer or manager of the case") {
        return "Måste vara handläggare eller chef i ärendets förvaltning.".into();
    }
    if m == "no such department" {
        return "Det finns ingen sådan förvaltning.".into();
    }
    if m.contains("cannot become") || m.contains("cannot change status") {
        return "Ärendet kan inte flyttas till den statusen nu.".into();
    }
    if m.starts_with("is required when `to` is `decided`") {
        return "Välj ett beslut.".into();
    }
    // Messages without a translation keep the service's own words.
    format!("{m}.")
}

/// A list of errors at the top of a form, linking to the fields.
pub fn error_summary(
    errors: &[FieldError],
    prefix: &str,
    label: impl Fn(&str) -> String,
) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut s =
        String::from("<div class=\"errors\" role=\"alert\"><h2>Något behöver rättas</h2><ul>");
    for e in errors {
        s.push_str(&format!(
            "<li><a href=\"#{prefix}{}\">{}: {}</a></li>",
            esc(&e.field),
            esc(&label(&e.field)),
            esc(&message_sv(&e.message))
        ));
    }
    s.push_str("</ul></div>");
    s
}

/// The error message of `field`, for beside the field, and the attributes tying it to the input.
pub fn field_error(errors: &[FieldError], prefix: &str, field: &str) -> (String, String) {
    match errors.iter().find(|e| e.field == field) {
        Some(e) => (
            format!(
                "<p class=\"error\" id=\"{prefix}{field}-error\">{}</p>",
                esc(&message_sv(&e.message))
            ),
            format!(" aria-invalid=\"true\" aria-describedby=\"{prefix}{field}-error\""),
        ),
        None => (String::new(), String::new()),
    }
}

pub const CSS: &str = include_str!("../../assets/lots.css");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_formats() {
        assert_eq!(num(3.5, 1), "3,5");
        assert_eq!(num(1234567.25, 2), "1\u{a0}234\u{a0}567,25");
        assert_eq!(num(-2.04, 1), "−2,0");
        assert_eq!(num(-0.01, 1), "0,0");
        assert_eq!(
            date_sv(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()),
            "27 nov. 2026"
        );
        let t = DateTime::parse_from_rfc3339("2026-07-05T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(time_html(t).contains("6 juli 2026 01:30"));
    }
}
