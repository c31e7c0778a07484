//! The pages' shell (landmarks, skip link, navigation), form helpers and the Swedish formats of
//! dates, times and numbers. Pages are maud templates: every interpolation is escaped.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use lots_cases::FieldError;
use lots_core::{Area, CaseStatus, Decision, HandoffKind, HandoffStatus, Role, TIME_ZONE};

use maud::{DOCTYPE, Markup, html};

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
    pub fn csrf_field(&self) -> Markup {
        csrf_input(&self.csrf)
    }
}

/// A hidden CSRF field with `token`.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The main menu and who is logged in.
fn navigation(v: &Viewer, current: &str) -> Markup {
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
    html! {
        nav aria-label="Huvudmeny" {
            ul {
                @for (href, label, key) in items {
                    li { a href=(href) aria-current=[(key == current).then_some("page")] { (label) } }
                }
            }
        }
        div class="who" {
            span {
                (v.display_name) " (" (role_sv(v.role))
                @if let Some(d) = &v.department { ", " (d) }
                ")"
            }
            form method="post" action="/logga-ut" {
                (v.csrf_field())
                button type="submit" class="link" { "Logga ut" }
            }
        }
    }
}

/// A whole page: `current` is the navigation entry to mark.
pub fn page(
    status: StatusCode,
    title: &str,
    viewer: Option<&Viewer>,
    current: &str,
    main: Markup,
) -> Response {
    let body = document(
        &format!("{title} – Lots"),
        stylesheet(),
        html! {
            a class="skip" href="#innehall" { "Hoppa till innehållet" }
            header class="top" {
                div class="brand" { a href="/" { "Lots" } " " span { "ärenden för företag" } }
                @if let Some(v) = viewer { (navigation(v, current)) }
            }
            main id="innehall" tabindex="-1" { (main) }
            footer { p { "Lots – handläggning av företagsärenden. Tider visas i svensk tid." } }
        },
    );
    page_response(status, body, &[])
}

/// The language of a company page: Swedish, or English (`?lang=en`, or the browser's
/// preference). The officers' pages are Swedish only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// `?lang=` when it names one, else the `Accept-Language` tag of highest weight that is
    /// Swedish or English, else Swedish.
    pub fn of(query: Option<&str>, headers: &axum::http::HeaderMap) -> Self {
        match query.map(str::trim) {
            Some("en") => return Lang::En,
            Some("sv") => return Lang::Sv,
            _ => {}
        }
        let Some(accept) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Sv;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("sv") => Lang::Sv,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Sv, |(_, l)| l)
    }

    /// `path` with this language kept (`?lang=en` for English).
    /// `sv` or `en`, whichever is this language's (a page's table of texts).
    pub fn pick<T>(self, sv: T, en: T) -> T {
        match self {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }

    /// The address of the same page in the other language.
    pub fn other(self, path: &str) -> String {
        match self {
            Lang::Sv => Lang::En.keep(path),
            Lang::En if path.contains('?') => format!("{path}&lang=sv"),
            Lang::En => format!("{path}?lang=sv"),
        }
    }

    pub fn keep(self, path: &str) -> String {
        match self {
            Lang::Sv => path.to_string(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

/// The link to the pages' stylesheet, named by its hash so that it may be cached for good.
fn stylesheet() -> Markup {
    html! { link rel="stylesheet" href=(format!("/assets/lots.css?v={CSS_HASH:016x}")); }
}

/// A company page in `lang` that only says something: `title`, `text`, then `after` (e.g. a
/// link onwards).
pub fn plain_in(
    lang: Lang,
    status: StatusCode,
    (title, text): (&str, &str),
    path: &str,
    after: Markup,
) -> Response {
    page_in(
        lang,
        status,
        title,
        &lang.other(path),
        html! { h1 { (title) } p { (text) } (after) },
    )
}

/// A company page in `lang`: no navigation, a link to the same page in the other language
/// (`other`, the path to link to).
pub fn page_in(lang: Lang, status: StatusCode, title: &str, other: &str, main: Markup) -> Response {
    let (skip, tagline, footer, switch, switch_lang) = match lang {
        Lang::Sv => (
            "Hoppa till innehållet",
            "ärenden för företag",
            "Lots – kommunens ärenden för företag. Tider visas i svensk tid.",
            "In English",
            "en",
        ),
        Lang::En => (
            "Skip to content",
            "cases for businesses",
            "Lots – the municipality's cases for businesses. Times are Swedish time.",
            "På svenska",
            "sv",
        ),
    };
    let body = document_in(
        lang.code(),
        &format!("{title} – Lots"),
        stylesheet(),
        html! {
            a class="skip" href="#innehall" { (skip) }
            header class="top" {
                div class="brand" { a href="/" { "Lots" } " " span { (tagline) } }
                nav aria-label=(if lang == Lang::Sv { "Språk" } else { "Language" }) {
                    a href=(other) lang=(switch_lang) hreflang=(switch_lang) { (switch) }
                }
            }
            main id="innehall" tabindex="-1" { (main) }
            footer { p { (footer) } }
        },
    );
    page_response(status, body, &[(header::VARY, "Accept-Language")])
}

/// A page's answer: `body` with the headers every page carries (never cached or sniffed,
/// nothing from elsewhere, no Referer beyond the site), then `extra`.
fn page_response(
    status: StatusCode,
    body: Markup,
    extra: &[(HeaderName, &'static str)],
) -> Response {
    let response = with_headers(
        (status, Html(body.into_string())).into_response(),
        &[
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "same-origin"),
        ],
    );
    with_headers(response, extra)
}

/// An HTML document in Swedish: its `title`, what else its head holds (the styles), its body.
pub fn document(title: &str, styles: Markup, body: Markup) -> Markup {
    document_in("sv", title, styles, body)
}

/// An HTML document in language `lang` (`sv`, `en`).
pub fn document_in(lang: &str, title: &str, styles: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE) "\n"
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                (styles)
            }
            body { (body) }
        }
    }
}

/// A table head of `scope="col"` cells.
pub fn head_row(columns: &[&str]) -> Markup {
    html! { thead { tr { @for c in columns { th scope="col" { (c) } } } } }
}

/// A table head of `scope="col"` cells; `numeric` columns get `class="n"`.
pub fn numeric_head_row(columns: &[(&str, bool)]) -> Markup {
    html! {
        thead { tr { @for (c, numeric) in columns { th scope="col" class=[numeric.then_some("n")] { (c) } } } }
    }
}

/// `response` with each of `headers` set (replacing any value it had).
pub fn with_headers(mut response: Response, headers: &[(HeaderName, &'static str)]) -> Response {
    let h = response.headers_mut();
    for (name, value) in headers {
        h.insert(name.clone(), HeaderValue::from_static(value));
    }
    response
}

/// A page that only says something (an error, a refusal).
pub fn message(status: StatusCode, title: &str, text: &str, viewer: Option<&Viewer>) -> Response {
    page(
        status,
        title,
        viewer,
        "",
        html! {
            h1 { (title) }
            p { (text) }
            p { a href="/" { "Till startsidan" } }
        },
    )
}

/// The success notice at the top of a page after a form went through.
pub fn done_notice(text: &str) -> Markup {
    html! { div class="ok" role="status" { p { (text) } } }
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

pub fn handoff_kind_sv(k: HandoffKind) -> &'static str {
    match k {
        HandoffKind::Transfer => "Överlämning",
        HandoffKind::Consultation => "Remiss",
        HandoffKind::Contact => "Kontakt",
    }
}

/// `handoff_kind_sv` of a kind given as text (an event's data, a metric's group); other text as
/// it is.
pub fn handoff_kind_sv_str(k: &str) -> &str {
    match k.parse::<HandoffKind>() {
        Ok(kind) => handoff_kind_sv(kind),
        Err(_) => k,
    }
}

pub fn handoff_status_sv(s: HandoffStatus) -> &'static str {
    match s {
        HandoffStatus::Requested => "Begärd",
        HandoffStatus::Accepted => "Accepterad",
        HandoffStatus::Completed => "Slutförd",
        HandoffStatus::Declined => "Avböjd",
        HandoffStatus::Cancelled => "Återkallad",
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
pub fn date_html(d: NaiveDate) -> Markup {
    html! { time datetime=(d.format("%Y-%m-%d").to_string()) { (date_sv(d)) } }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date in `lang`: `27 nov. 2026` or `27 Nov 2026`.
fn date_text(lang: Lang, d: NaiveDate) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Sv => date_sv(d),
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
    }
}

/// A date as `<time>` in `lang`.
pub fn date_in(lang: Lang, d: NaiveDate) -> Markup {
    html! { time datetime=(d.format("%Y-%m-%d").to_string()) { (date_text(lang, d)) } }
}

/// An instant in Stockholm time in `lang`.
pub fn time_in(lang: Lang, t: DateTime<Utc>) -> Markup {
    let local = t.with_timezone(&TIME_ZONE);
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (date_text(lang, local.date_naive())) " " (local.format("%H:%M").to_string())
        }
    }
}

/// An instant in Stockholm time: `27 nov. 2026 14:05`.
pub fn time_html(t: DateTime<Utc>) -> Markup {
    let local = t.with_timezone(&TIME_ZONE);
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
            (date_sv(local.date_naive())) " " (local.format("%H:%M").to_string())
        }
    }
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
) -> Markup {
    if errors.is_empty() {
        return html! {};
    }
    html! {
        div class="errors" role="alert" {
            h2 { "Något behöver rättas" }
            ul {
                @for e in errors {
                    li { a href=(format!("#{prefix}{}", e.field)) { (label(&e.field)) ": " (message_sv(&e.message)) } }
                }
            }
        }
    }
}

/// Whether a form field has an error: the message beside the field, and the attributes
/// (`aria-invalid`, `aria-describedby`) tying it to the input.
#[derive(Debug, Clone, Default)]
pub struct FieldState {
    error: Option<(String, String)>,
}

impl FieldState {
    /// `Some("true")` when the field has an error, for `aria-invalid`.
    pub fn invalid(&self) -> Option<&'static str> {
        self.error.as_ref().map(|_| "true")
    }

    /// The id of the error message, for `aria-describedby`.
    pub fn described_by(&self) -> Option<&str> {
        self.error.as_ref().map(|(id, _)| id.as_str())
    }

    /// `aria-describedby` for a field that also has the hint `hint_id`.
    pub fn described_by_with(&self, hint_id: &str) -> String {
        match self.described_by() {
            Some(id) => format!("{hint_id} {id}"),
            None => hint_id.to_string(),
        }
    }

    /// The message beside the field (nothing when the field is fine).
    pub fn message(&self) -> Markup {
        html! {
            @if let Some((id, text)) = &self.error {
                p class="error" id=(id) { (text) }
            }
        }
    }
}

/// The state of `field` among `errors`; its message gets the id `{prefix}{field}-error`.
pub fn field_error(errors: &[FieldError], prefix: &str, field: &str) -> FieldState {
    FieldState {
        error: errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| (format!("{prefix}{field}-error"), message_sv(&e.message))),
    }
}

/// A `<select>` with `options` as (value, label), `chosen` selected.
pub fn select(
    id: &str,
    name: &str,
    options: &[(&str, &str)],
    chosen: &str,
    attrs: SelectAttrs<'_>,
) -> Markup {
    html! {
        select id=(id) name=(name) required[attrs.required]
            aria-invalid=[attrs.invalid] aria-describedby=[attrs.described_by] {
            @for (value, label) in options {
                option value=(value) selected[*value == chosen] { (label) }
            }
        }
    }
}

/// The optional attributes of a `select`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectAttrs<'a> {
    pub required: bool,
    pub invalid: Option<&'a str>,
    pub described_by: Option<&'a str>,
}

impl<'a> SelectAttrs<'a> {
    /// The error attributes of `state`.
    pub fn of(state: &'a FieldState) -> Self {
        SelectAttrs {
            required: false,
            invalid: state.invalid(),
            described_by: state.described_by(),
        }
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
        assert!(time_html(t).into_string().contains("6 juli 2026 01:30"));
    }
}

#[cfg(test)]
mod lang_tests {
    use super::Lang;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_address_wins_then_the_best_weighted_known_language_then_swedish() {
        assert_eq!(Lang::of(Some("en"), &accept("sv")), Lang::En);
        assert_eq!(Lang::of(Some("sv"), &accept("en")), Lang::Sv);
        assert_eq!(Lang::of(Some("de"), &accept("en-US,en;q=0.8")), Lang::En);
        assert_eq!(Lang::of(None, &accept("de-DE,en;q=0.7,sv;q=0.9")), Lang::Sv);
        assert_eq!(Lang::of(None, &accept("fr, de;q=0.5")), Lang::Sv);
        assert_eq!(Lang::of(None, &HeaderMap::new()), Lang::Sv);
        assert_eq!(Lang::En.keep("/folj/x"), "/folj/x?lang=en");
        assert_eq!(Lang::En.keep("/a?b=1"), "/a?b=1&lang=en");
        assert_eq!(Lang::Sv.keep("/a"), "/a");
    }
}
