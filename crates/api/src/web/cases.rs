//! Officers' pages: my cases, search, registering a case, and the case page with its timeline,
//! deadline panel and actions.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use lots_cases::{
    CaseFilter, CasePatch, CaseView, FieldError, NewCase, NewDecisionRequest, NewExtension,
    NewNote, NewSupplementRequest, ServiceError, TransitionInput,
};
use lots_core::deadline::{DeadlineKind, DeadlineView};
use lots_core::{Area, CaseStatus, Decision, Role, TIME_ZONE};
use lots_handoff::NewHandoff;

use super::html::{
    self, date_html, decision_sv, error_summary, esc, field_error, handoff_kind_sv,
    handoff_status_sv, message_sv, status_sv, time_html,
};
use super::{WebForm, WebId, WebUser, see_other, service_error_page};
use crate::state::AppState;

/// The deadline badge of a case.
pub fn deadline_badge(d: Option<&DeadlineView>, status: CaseStatus) -> String {
    let Some(d) = d else {
        return "<span class=\"badge none\">Ingen frist</span>".into();
    };
    if !status.is_open() {
        return if d.overdue {
            "<span class=\"badge overdue\">Beslutad efter fristen</span>".into()
        } else {
            "<span class=\"badge fine\">Beslutad i tid</span>".into()
        };
    }
    if d.paused || d.due_date.is_none() {
        return "<span class=\"badge paused\">Fristen vilar (komplettering)</span>".into();
    }
    let due = d.due_date.map(html::date_sv).unwrap_or_default();
    match d.days_left {
        _ if d.overdue => format!("<span class=\"badge overdue\">Försenad – frist {due}</span>"),
        Some(n) if n <= 5 => format!(
            "<span class=\"badge soon\">{n} arbetsdag{} kvar – {due}</span>",
            if n == 1 { "" } else { "ar" }
        ),
        Some(n) => format!("<span class=\"badge fine\">{n} arbetsdagar kvar – {due}</span>"),
        None => format!("<span class=\"badge fine\">Frist {due}</span>"),
    }
}

/// A table of cases.
pub fn case_table(caption: &str, cases: &[CaseView]) -> String {
    if cases.is_empty() {
        return format!("<p>{}: inga ärenden.</p>", esc(caption));
    }
    let mut s = format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">Diarienummer</th><th scope=\"col\">Rubrik</th><th scope=\"col\">Företag</th><th scope=\"col\">Myndighetsområde</th><th scope=\"col\">Status</th><th scope=\"col\">Handläggare</th><th scope=\"col\">Frist</th></tr></thead><tbody>",
        esc(caption)
    );
    for c in cases {
        s.push_str(&format!(
            "<tr><td><a href=\"/arenden/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.id,
            esc(&c.reference),
            esc(&c.title),
            esc(&c.company_name),
            c.area.label_sv(),
            status_sv(c.status),
            esc(c.assignee.as_deref().unwrap_or("–")),
            deadline_badge(c.deadline.as_ref(), c.status)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

/// Mina ärenden: my open cases, overdue and nearly due first.
pub async fn mine(State(state): State<AppState>, user: WebUser) -> Response {
    let filter = CaseFilter {
        assignee: Some("me".into()),
        status: Some("received,in_progress,awaiting_supplement".into()),
        sort: Some("due_date".into()),
        limit: Some("500".into()),
        ..Default::default()
    };
    let cases = match state.cases.list(&user.actor, filter).await {
        Ok(p) => p.items,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let overdue = cases
        .iter()
        .filter(|c| c.deadline.as_ref().is_some_and(|d| d.overdue))
        .count();
    let mut main = String::from("<h1>Mina ärenden</h1>\n");
    main.push_str(&format!(
        "<p>Du har {} öppna ärenden, varav {} försenade. Försenade och snart förfallna ärenden står först.</p>",
        html::int(cases.len()),
        html::int(overdue)
    ));
    main.push_str("<p><a class=\"button\" href=\"/arenden/nytt\">Registrera ärende</a></p>");
    main.push_str(&case_table("Mina öppna ärenden", &cases));
    html::page(
        StatusCode::OK,
        "Mina ärenden",
        Some(&user.viewer),
        "mina",
        &main,
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    status: Option<String>,
    area: Option<String>,
    assignee: Option<String>,
    overdue: Option<String>,
    org_number: Option<String>,
    cursor: Option<String>,
}

fn select(id: &str, name: &str, options: &[(&str, &str)], chosen: &str, extra: &str) -> String {
    let mut s = format!("<select id=\"{id}\" name=\"{name}\"{extra}>");
    for (value, label) in options {
        let sel = if *value == chosen { " selected" } else { "" };
        s.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(label)
        ));
    }
    s.push_str("</select>");
    s
}

fn area_options(empty: &str) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = vec![("", if empty.is_empty() { "Alla" } else { "Välj…" })];
    v.extend(Area::ALL.iter().map(|a| (a.as_str(), a.label_sv())));
    v
}

/// Search the cases the caller may see.
pub async fn search(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<SearchQuery>,
) -> Response {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let filter = CaseFilter {
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        status: q.status.clone().filter(|s| !s.is_empty()),
        area: q.area.clone().filter(|s| !s.is_empty()),
        assignee: q.assignee.clone().filter(|s| !s.trim().is_empty()),
        overdue: q.overdue.clone().filter(|s| !s.is_empty()),
        org_number: q.org_number.clone().filter(|s| !s.trim().is_empty()),
        cursor: q.cursor.clone().filter(|s| !s.is_empty()),
        limit: Some("50".into()),
        ..Default::default()
    };
    let result = state.cases.list(&user.actor, filter).await;
    let errors = match &result {
        Err(ServiceError::Validation(e)) => e.clone(),
        Err(_) => Vec::new(),
        Ok(_) => Vec::new(),
    };
    let label = |f: &str| {
        match f {
            "q" => "Fritext",
            "status" => "Status",
            "area" => "Myndighetsområde",
            "assignee" => "Handläggare",
            "org_number" => "Organisationsnummer",
            "overdue" => "Frist",
            "cursor" => "Sida",
            other => other,
        }
        .to_string()
    };
    let mut main = String::from("<h1>Sök ärenden</h1>\n");
    main.push_str(&error_summary(&errors, "s-", label));
    let status_opts: Vec<(&str, &str)> = std::iter::once(("", "Alla"))
        .chain(std::iter::once((
            "received,in_progress,awaiting_supplement",
            "Alla öppna",
        )))
        .chain(CaseStatus::ALL.iter().map(|s| (s.as_str(), s.label_sv())))
        .collect();
    let (qe, qa) = field_error(&errors, "s-", "q");
    let (oe, oa) = field_error(&errors, "s-", "org_number");
    let (ae, aa) = field_error(&errors, "s-", "assignee");
    main.push_str(&format!(
        "<form method=\"get\" action=\"/arenden/sok\" class=\"filters\" role=\"search\" aria-label=\"Sök ärenden\">\
<div><label for=\"s-q\">Fritext (rubrik, diarienummer, företag)</label><input type=\"search\" id=\"s-q\" name=\"q\" value=\"{}\"{qa}>{qe}</div>\
<div><label for=\"s-status\">Status</label>{}</div>\
<div><label for=\"s-area\">Myndighetsområde</label>{}</div>\
<div><label for=\"s-assignee\">Handläggare (användarnamn eller ”me”)</label><input type=\"text\" id=\"s-assignee\" name=\"assignee\" value=\"{}\"{aa}>{ae}</div>\
<div><label for=\"s-org_number\">Organisationsnummer</label><input type=\"text\" id=\"s-org_number\" name=\"org_number\" value=\"{}\"{oa}>{oe}</div>\
<div><label for=\"s-overdue\">Frist</label>{}</div>\
<div><button type=\"submit\">Sök</button></div></form>",
        esc(&v(&q.q)),
        select("s-status", "status", &status_opts, &v(&q.status), ""),
        select("s-area", "area", &area_options(""), &v(&q.area), ""),
        esc(&v(&q.assignee)),
        esc(&v(&q.org_number)),
        select(
            "s-overdue",
            "overdue",
            &[("", "Alla"), ("true", "Försenade"), ("false", "Inte försenade")],
            &v(&q.overdue),
            ""
        ),
    ));
    match result {
        Ok(page) => {
            main.push_str(&case_table("Träffar", &page.items));
            if let Some(next) = page.next_cursor {
                let qs = serde_urlencoded::to_string([
                    ("q", v(&q.q)),
                    ("status", v(&q.status)),
                    ("area", v(&q.area)),
                    ("assignee", v(&q.assignee)),
                    ("overdue", v(&q.overdue)),
                    ("org_number", v(&q.org_number)),
                    ("cursor", next),
                ])
                .unwrap_or_default();
                main.push_str(&format!(
                    "<p><a href=\"/arenden/sok?{}\">Nästa sida</a></p>",
                    esc(&qs)
                ));
            }
        }
        Err(ServiceError::Validation(_)) => {}
        Err(e) => return service_error_page(e, &user.viewer),
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html::page(status, "Sök ärenden", Some(&user.viewer), "sok", &main)
}

const CASE_FIELDS: [(&str, &str); 8] = [
    ("org_number", "Organisationsnummer"),
    ("company_name", "Företagets namn"),
    ("area", "Myndighetsområde"),
    ("case_type", "Ärendetyp"),
    ("title", "Rubrik"),
    ("description", "Beskrivning"),
    ("received_at", "Inkom"),
    ("department", "Förvaltning"),
];

fn case_field_label(f: &str) -> String {
    CASE_FIELDS
        .iter()
        .find(|(n, _)| *n == f)
        .map_or_else(|| f.to_string(), |(_, l)| l.to_string())
}

fn register_page(
    user: &WebUser,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let v = |k: &str| esc(values.get(k).map(String::as_str).unwrap_or(""));
    let fe = |k: &str| field_error(errors, "f-", k);
    let mut main = String::from(
        "<h1>Registrera ärende</h1>\n<p>Fält markerade med * måste fyllas i. Diarienumret tilldelas när ärendet registreras.</p>",
    );
    main.push_str(&error_summary(errors, "f-", case_field_label));
    main.push_str("<form method=\"post\" action=\"/arenden/nytt\" novalidate>");
    main.push_str(&user.viewer.csrf_field());
    let text = |name: &str, label: &str, hint: &str, required: bool| {
        let (e, a) = fe(name);
        let hint_html = if hint.is_empty() {
            String::new()
        } else {
            format!("<span class=\"hint\" id=\"f-{name}-hint\">{hint}</span>")
        };
        let described = match (hint.is_empty(), a.is_empty()) {
            (false, true) => format!(" aria-describedby=\"f-{name}-hint\""),
            (false, false) => a.replace(
                "aria-describedby=\"",
                &format!("aria-describedby=\"f-{name}-hint "),
            ),
            _ => a,
        };
        format!(
            "<label for=\"f-{name}\">{label}{}</label>{hint_html}<input type=\"text\" id=\"f-{name}\" name=\"{name}\" value=\"{}\"{}{described}>{e}",
            if required { " *" } else { "" },
            v(name),
            if required { " required" } else { "" },
        )
    };
    main.push_str(&text(
        "org_number",
        "Organisationsnummer",
        "10 siffror, till exempel 556036-0793",
        true,
    ));
    main.push_str(&text("company_name", "Företagets namn", "", true));
    let (e, a) = fe("area");
    main.push_str(&format!(
        "<label for=\"f-area\">Myndighetsområde *</label>{}{e}",
        select(
            "f-area",
            "area",
            &area_options("x"),
            values.get("area").map(String::as_str).unwrap_or(""),
            &format!(" required{a}")
        )
    ));
    let (e, a) = fe("case_type");
    main.push_str(&format!(
        "<label for=\"f-case_type\">Ärendetyp (bygglov)</label><span class=\"hint\" id=\"f-case_type-hint\">Bara för bygglov: lov eller anmälan har olika frister.</span>{}{e}",
        select(
            "f-case_type",
            "case_type",
            &[("", "Ingen / standard"), ("permit", "Lov eller förhandsbesked"), ("notification", "Anmälan")],
            values.get("case_type").map(String::as_str).unwrap_or(""),
            &if a.is_empty() { " aria-describedby=\"f-case_type-hint\"".to_string() } else { a }
        )
    ));
    main.push_str(&text("title", "Rubrik", "", true));
    let (e, a) = fe("description");
    main.push_str(&format!(
        "<label for=\"f-description\">Beskrivning</label><textarea id=\"f-description\" name=\"description\" rows=\"4\"{a}>{}</textarea>{e}",
        v("description")
    ));
    let (e, a) = fe("received_at");
    main.push_str(&format!(
        "<label for=\"f-received_at\">Inkom (datum)</label><span class=\"hint\" id=\"f-received_at-hint\">ÅÅÅÅ-MM-DD; lämna tomt för i dag.</span><input type=\"date\" id=\"f-received_at\" name=\"received_at\" value=\"{}\"{}>{e}",
        v("received_at"),
        if a.is_empty() { " aria-describedby=\"f-received_at-hint\"".to_string() } else { a }
    ));
    main.push_str("<p><button type=\"submit\">Registrera</button></p></form>");
    html::page(
        status,
        "Registrera ärende",
        Some(&user.viewer),
        "nytt",
        &main,
    )
}

pub async fn new_form(user: WebUser) -> Response {
    register_page(&user, &HashMap::new(), &[], StatusCode::OK)
}

/// A date typed in the form as the instant the API takes: now for today, else 09:00 Stockholm.
fn received_at(value: Option<&str>, state: &AppState) -> Result<Option<String>, FieldError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| FieldError {
        field: "received_at".into(),
        message: "must be a date, YYYY-MM-DD".into(),
    })?;
    let now = state.clock.now();
    if date == now.with_timezone(&TIME_ZONE).date_naive() {
        return Ok(None);
    }
    let local = date
        .and_hms_opt(9, 0, 0)
        .and_then(|t| TIME_ZONE.from_local_datetime(&t).earliest());
    Ok(local.map(|t| {
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }))
}

pub async fn register(State(state): State<AppState>, form: WebForm) -> Response {
    let user = &form.user;
    let received = match received_at(form.get("received_at").as_deref(), &state) {
        Ok(r) => r,
        Err(e) => {
            return register_page(user, &form.fields, &[e], StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let input = NewCase {
        org_number: form.get("org_number"),
        company_name: form.get("company_name"),
        area: form.get("area"),
        case_type: form.get("case_type"),
        title: form.get("title"),
        description: form.get("description"),
        department: None,
        assignee: (user.actor.role == Role::Officer).then(|| user.actor.username.clone()),
        received_at: received,
        ..Default::default()
    };
    match state.cases.create(&user.actor, input).await {
        Ok(case) => see_other(&format!("/arenden/{}?klart=registrerat", case.id)),
        Err(ServiceError::Validation(errors)) => register_page(
            user,
            &form.fields,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => service_error_page(e, &user.viewer),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ShowQuery {
    klart: Option<String>,
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "registrerat" => "Ärendet är registrerat.",
        "status" => "Statusen är ändrad.",
        "komplettering" => "Begäran om komplettering är registrerad; fristen vilar.",
        "inkommen" => "Kompletteringen är registrerad som inkommen.",
        "forlangning" => "Fristen är förlängd.",
        "anteckning" => "Anteckningen är sparad.",
        "overlamning" => "Överlämningen är skickad.",
        "uppgifter" => "Uppgifterna är ändrade.",
        "avgorande" => "Begäran om avgörande är registrerad; beslut ska fattas inom fyra veckor.",
        _ => return None,
    })
}

/// Which action form failed, and why: shown beside that form.
struct Failed<'a> {
    form: &'a str,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    WebId(id): WebId,
    Query(q): Query<ShowQuery>,
) -> Response {
    let done = q.klart.as_deref().and_then(done_message);
    case_page(&state, &user, id, done, None, StatusCode::OK).await
}

fn event_label(kind: &str) -> &str {
    match kind {
        "created" => "Registrerat",
        "updated" => "Ändrat",
        "status_changed" => "Status ändrad",
        "note_added" => "Anteckning",
        "supplement_requested" => "Komplettering begärd",
        "supplement_received" => "Komplettering inkommen",
        "deadline_extended" => "Fristen förlängd",
        "decision_requested" => "Begäran om avgörande (FL 12 §)",
        "handoff_requested" => "Överlämning begärd",
        "handoff_accepted" => "Överlämning accepterad",
        "handoff_completed" => "Överlämning slutförd",
        "handoff_declined" => "Överlämning avböjd",
        "handoff_cancelled" => "Överlämning återkallad",
        "bundle_added" => "Lagt till i samordnat ärende",
        "decided" => "Beslutat",
        other => other,
    }
}

fn event_details(data: &serde_json::Value) -> String {
    let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut parts = Vec::new();
    if let (Some(from), Some(to)) = (s("from"), s("to")) {
        parts.push(format!(
            "{} → {}",
            html::status_sv_str(&from),
            html::status_sv_str(&to)
        ));
    }
    if let Some(d) = s("decision") {
        parts.push(format!("Beslut: {}", html::decision_sv_str(&d)));
    }
    if let Some(k) = s("handoff_kind") {
        parts.push(handoff_kind_sv(&k).to_string());
    }
    if let (Some(f), Some(t)) = (s("from_department"), s("to_department")) {
        parts.push(format!("{f} → {t}"));
    }
    for (key, label) in [
        ("reason", "Motivering"),
        ("text", "Text"),
        ("message", "Meddelande"),
        ("response", "Svar"),
        ("note", "Anteckning"),
    ] {
        if let Some(v) = s(key).filter(|v| !v.is_empty()) {
            parts.push(format!("{label}: {v}"));
        }
    }
    if let Some(w) = data.get("weeks").and_then(|v| v.as_i64()) {
        parts.push(format!("{w} veckor"));
    }
    esc(&parts.join(" · "))
}

async fn case_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    done: Option<&str>,
    failed: Option<Failed<'_>>,
    status: StatusCode,
) -> Response {
    let actor = &user.actor;
    let (case, access) = match state.cases.get_with_access(actor, id).await {
        Ok(c) => c,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let loaded = tokio::try_join!(
        state.cases.events(actor, id),
        state.handoffs.of_case(actor, id),
        state.cases.supplements(actor, id),
        state.directory.list_departments(actor),
    );
    let (events, handoffs, supplements, departments) = match loaded {
        Ok(all) => all,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    // What the page offers is what the access module allows: a form the API would refuse is
    // never shown.
    let owner = access.change;

    let mut m = format!(
        "<h1>{} <span class=\"hint\">{}</span></h1>\n",
        esc(&case.reference),
        esc(&case.title)
    );
    if let Some(d) = done {
        m.push_str(&format!(
            "<div class=\"ok\" role=\"status\"><p>{d}</p></div>"
        ));
    }
    if let Some(f) = &failed {
        m.push_str(&format!(
            "<div class=\"errors\" role=\"alert\"><h2>Det gick inte</h2><ul>{}</ul><p>Inget har ändrats.</p></div>",
            f.errors
                .iter()
                .map(|e| format!(
                    "<li><a href=\"#{}-{}\">{}</a></li>",
                    f.form,
                    esc(&e.field),
                    esc(&message_sv(&e.message))
                ))
                .collect::<String>()
        ));
    }
    m.push_str("<div class=\"grid\"><section class=\"panel\" aria-labelledby=\"facts-h\"><h2 id=\"facts-h\">Uppgifter</h2><dl class=\"facts\">");
    let fact = |m: &mut String, k: &str, v: String| {
        m.push_str(&format!("<dt>{k}</dt><dd>{v}</dd>"));
    };
    fact(&mut m, "Status", status_sv(case.status).to_string());
    if let Some(d) = case.decision {
        fact(&mut m, "Beslut", decision_sv(d).to_string());
    }
    fact(
        &mut m,
        "Företag",
        format!(
            "<a href=\"/foretag?org={}\">{}</a> ({})",
            esc(&case.org_number),
            esc(&case.company_name),
            esc(&case.org_number)
        ),
    );
    fact(&mut m, "Myndighetsområde", case.area.label_sv().into());
    if let Some(t) = &case.case_type {
        fact(
            &mut m,
            "Ärendetyp",
            match t.as_str() {
                "permit" => "Lov eller förhandsbesked".into(),
                "notification" => "Anmälan".into(),
                o => esc(o),
            },
        );
    }
    fact(&mut m, "Förvaltning", esc(&case.department));
    fact(
        &mut m,
        "Handläggare",
        esc(case.assignee.as_deref().unwrap_or("–")),
    );
    fact(&mut m, "Inkom", time_html(case.received_at));
    if let Some(t) = case.complete_at {
        fact(&mut m, "Komplett", time_html(t));
    }
    if let Some(t) = case.decided_at {
        fact(&mut m, "Beslutad", time_html(t));
    }
    if let Some(t) = case.closed_at {
        fact(&mut m, "Avslutad", time_html(t));
    }
    if !case.description.is_empty() {
        fact(&mut m, "Beskrivning", esc(&case.description));
    }
    m.push_str("</dl></section>");

    m.push_str(
        "<section class=\"panel\" aria-labelledby=\"deadline-h\"><h2 id=\"deadline-h\">Frist</h2>",
    );
    match &case.deadline {
        None => m.push_str("<p>Området har ingen lagstadgad frist eller servicemål.</p>"),
        Some(d) => {
            m.push_str(&format!(
                "<p>{}</p><dl class=\"facts\">",
                deadline_badge(Some(d), case.status)
            ));
            fact(
                &mut m,
                "Slag",
                match d.kind {
                    DeadlineKind::Statutory => "Lagstadgad frist".into(),
                    DeadlineKind::Target => "Servicemål (inte lag)".into(),
                },
            );
            fact(
                &mut m,
                "Sista dag",
                d.due_date
                    .map_or_else(|| "vilar under komplettering".into(), date_html),
            );
            if let Some(n) = d.days_left {
                fact(&mut m, "Arbetsdagar kvar", html::num(n as f64, 0));
            }
            fact(
                &mut m,
                "Förlängd",
                if d.extended { "Ja" } else { "Nej" }.into(),
            );
            if let Some(f) = d.fee_reduction_fifths.filter(|f| *f > 0) {
                fact(
                    &mut m,
                    "Avgiftsreduktion",
                    format!("{f}/5 av avgiften (PBL 12 kap. 8 a §)"),
                );
            }
            if d.older_than_six_months {
                fact(
                    &mut m,
                    "Äldre än sex månader",
                    "Ja – parten kan begära avgörande (FL 12 §)".into(),
                );
            }
            fact(&mut m, "Grund", esc(&d.source));
            m.push_str("</dl>");
        }
    }
    m.push_str("</section></div>");

    // Actions.
    let failed_for = |form: &str| -> (Vec<FieldError>, HashMap<String, String>) {
        match &failed {
            Some(f) if f.form == form => (f.errors.clone(), f.values.clone()),
            _ => (Vec::new(), HashMap::new()),
        }
    };
    let csrf = user.viewer.csrf_field();
    let is_open = case.status.is_open();
    if owner && !case.status.successors().is_empty() {
        m.push_str("<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">Åtgärder</h2><div class=\"grid\">");
        // Change status / decide.
        let (errs, vals) = failed_for("status");
        let mut opts: Vec<(&str, &str)> = vec![("", "Välj…")];
        opts.extend(
            case.status
                .successors()
                .iter()
                .filter(|s| **s != CaseStatus::AwaitingSupplement)
                .map(|s| (s.as_str(), s.label_sv())),
        );
        let mut dec_opts: Vec<(&str, &str)> = vec![("", "Inget (bara vid beslut)")];
        dec_opts.extend(Decision::ALL.iter().map(|d| (d.as_str(), decision_sv(*d))));
        let (te, ta) = field_error(&errs, "status-", "to");
        let (de, da) = field_error(&errs, "status-", "decision");
        let (re, ra) = field_error(&errs, "status-", "reason");
        m.push_str(&format!(
            "<form method=\"post\" action=\"/arenden/{id}/status\" class=\"panel\"><h3>Ändra status eller besluta</h3>{csrf}\
<label for=\"status-to\">Ny status</label>{}{te}\
<label for=\"status-decision\">Beslut</label>{}{de}\
<label for=\"status-reason\">Motivering</label><input type=\"text\" id=\"status-reason\" name=\"reason\" value=\"{}\"{ra}>{re}\
<button type=\"submit\">Ändra status</button></form>",
            select("status-to", "to", &opts, vals.get("to").map(String::as_str).unwrap_or(""), &ta),
            select("status-decision", "decision", &dec_opts, vals.get("decision").map(String::as_str).unwrap_or(""), &da),
            esc(vals.get("reason").map(String::as_str).unwrap_or("")),
        ));
        if is_open {
            let (errs, vals) = failed_for("supp");
            let (me, ma) = field_error(&errs, "supp-", "message");
            m.push_str(&format!(
                "<form method=\"post\" action=\"/arenden/{id}/komplettering\" class=\"panel\"><h3>Begär komplettering</h3>{csrf}\
<label for=\"supp-message\">Vad ska företaget komplettera med?</label><textarea id=\"supp-message\" name=\"message\" rows=\"3\"{ma}>{}</textarea>{me}\
<button type=\"submit\">Begär komplettering</button></form>",
                esc(vals.get("message").map(String::as_str).unwrap_or(""))
            ));
            for s in supplements.iter().filter(|s| s.received_at.is_none()) {
                m.push_str(&format!(
                    "<form method=\"post\" action=\"/arenden/{id}/komplettering/{}/inkommen\" class=\"panel\"><h3>Väntar på komplettering</h3>{csrf}<p>Begärd {}: {}</p><button type=\"submit\">Kompletteringen har kommit in</button></form>",
                    s.id,
                    time_html(s.requested_at),
                    esc(&s.message)
                ));
            }
            if case
                .deadline
                .as_ref()
                .is_some_and(|d| d.kind == DeadlineKind::Statutory && !d.extended)
            {
                let (errs, vals) = failed_for("ext");
                let (re, ra) = field_error(&errs, "ext-", "reason");
                m.push_str(&format!(
                    "<form method=\"post\" action=\"/arenden/{id}/forlangning\" class=\"panel\"><h3>Förläng fristen</h3>{csrf}<p class=\"hint\">Fristen får förlängas en gång (PBL 9 kap. 27 §), genom ett beslut.</p>\
<label for=\"ext-reason\">Skäl för förlängningen</label><input type=\"text\" id=\"ext-reason\" name=\"reason\" value=\"{}\"{ra}>{re}\
<button type=\"submit\">Förläng fristen</button></form>",
                    esc(vals.get("reason").map(String::as_str).unwrap_or(""))
                ));
            }
            let (errs, vals) = failed_for("ho");
            let mut dep_opts: Vec<(String, String)> = vec![(String::new(), "Välj…".into())];
            dep_opts.extend(
                departments
                    .iter()
                    .filter(|d| d.code != case.department)
                    .map(|d| (d.code.clone(), format!("{} ({})", d.name, d.code))),
            );
            let dep_refs: Vec<(&str, &str)> = dep_opts
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let (te, ta) = field_error(&errs, "ho-", "to_department");
            let (ke, ka) = field_error(&errs, "ho-", "kind");
            let (me, ma) = field_error(&errs, "ho-", "message");
            let (de, da) = field_error(&errs, "ho-", "due_date");
            m.push_str(&format!(
                "<form method=\"post\" action=\"/arenden/{id}/overlamning\" class=\"panel\"><h3>Överlämna eller skicka remiss</h3>{csrf}\
<label for=\"ho-to_department\">Till förvaltning</label>{}{te}\
<label for=\"ho-kind\">Slag</label>{}{ke}\
<label for=\"ho-message\">Meddelande</label><textarea id=\"ho-message\" name=\"message\" rows=\"3\"{ma}>{}</textarea>{me}\
<label for=\"ho-due_date\">Svar senast (bara remiss)</label><input type=\"date\" id=\"ho-due_date\" name=\"due_date\" value=\"{}\"{da}>{de}\
<button type=\"submit\">Skicka</button></form>",
                select("ho-to_department", "to_department", &dep_refs, vals.get("to_department").map(String::as_str).unwrap_or(""), &ta),
                select("ho-kind", "kind", &[("", "Välj…"), ("transfer", "Överlämning (ansvaret flyttas)"), ("consultation", "Remiss (yttrande önskas)"), ("contact", "Kontakt (för kännedom)")], vals.get("kind").map(String::as_str).unwrap_or(""), &ka),
                esc(vals.get("message").map(String::as_str).unwrap_or("")),
                esc(vals.get("due_date").map(String::as_str).unwrap_or("")),
            ));
        }
        if is_open {
            let (errs, vals) = failed_for("edit");
            let val =
                |k: &str, current: &str| esc(vals.get(k).map(String::as_str).unwrap_or(current));
            let (te, ta) = field_error(&errs, "edit-", "title");
            let (de, da) = field_error(&errs, "edit-", "description");
            let (ae, aa) = field_error(&errs, "edit-", "assignee");
            m.push_str(&format!(
                "<form method=\"post\" action=\"/arenden/{id}/uppgifter\" class=\"panel\"><h3>Ändra uppgifter eller handläggare</h3>{csrf}\
<label for=\"edit-title\">Rubrik</label><input type=\"text\" id=\"edit-title\" name=\"title\" value=\"{}\"{ta}>{te}\
<label for=\"edit-description\">Beskrivning</label><textarea id=\"edit-description\" name=\"description\" rows=\"3\"{da}>{}</textarea>{de}\
<label for=\"edit-assignee\">Handläggare (användarnamn)</label><span class=\"hint\" id=\"edit-assignee-hint\">Tomt: ingen. Bara en chef fördelar ärendet till någon annan.</span><input type=\"text\" id=\"edit-assignee\" name=\"assignee\" value=\"{}\"{}>{ae}\
<button type=\"submit\">Spara ändringar</button></form>",
                val("title", &case.title),
                val("description", &case.description),
                val("assignee", case.assignee.as_deref().unwrap_or("")),
                if aa.is_empty() {
                    " aria-describedby=\"edit-assignee-hint\"".to_string()
                } else {
                    aa.replace("aria-describedby=\"", "aria-describedby=\"edit-assignee-hint ")
                },
            ));
            if case
                .deadline
                .as_ref()
                .is_some_and(|d| d.older_than_six_months && d.decision_request.is_none())
            {
                let (errs, vals) = failed_for("fl12");
                let (ne, na) = field_error(&errs, "fl12-", "note");
                m.push_str(&format!(
                    "<form method=\"post\" action=\"/arenden/{id}/avgorande\" class=\"panel\"><h3>Begäran om avgörande (FL 12 §)</h3>{csrf}<p class=\"hint\">Ärendet är äldre än sex månader. Har parten begärt att det avgörs, ska beslut fattas inom fyra veckor.</p>\
<label for=\"fl12-note\">Anteckning om begäran</label><input type=\"text\" id=\"fl12-note\" name=\"note\" value=\"{}\"{na}>{ne}\
<button type=\"submit\">Registrera begäran</button></form>",
                    esc(vals.get("note").map(String::as_str).unwrap_or(""))
                ));
            }
        }
        m.push_str("</div></section>");
    }
    if owner {
        let (errs, vals) = failed_for("note");
        let (te, ta) = field_error(&errs, "note-", "text");
        m.push_str(&format!(
            "<form method=\"post\" action=\"/arenden/{id}/anteckning\" class=\"panel\"><h2>Anteckning</h2>{csrf}\
<label for=\"note-text\">Ny anteckning</label><textarea id=\"note-text\" name=\"text\" rows=\"3\"{ta}>{}</textarea>{te}\
<button type=\"submit\">Spara anteckning</button></form>",
            esc(vals.get("text").map(String::as_str).unwrap_or(""))
        ));
    }

    m.push_str(&record_section(state, actor, id).await);

    m.push_str("<section aria-labelledby=\"handoffs-h\"><h2 id=\"handoffs-h\">Överlämningar och remisser</h2>");
    if handoffs.is_empty() {
        m.push_str("<p>Inga överlämningar.</p>");
    } else {
        m.push_str("<table><caption class=\"visually-hidden\">Överlämningar</caption><thead><tr><th scope=\"col\">Slag</th><th scope=\"col\">Från → till</th><th scope=\"col\">Status</th><th scope=\"col\">Begärd</th><th scope=\"col\">Meddelande</th><th scope=\"col\">Svar</th></tr></thead><tbody>");
        for h in &handoffs {
            m.push_str(&format!(
                "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                handoff_kind_sv(&h.kind),
                esc(&h.from_department),
                esc(&h.to_department),
                handoff_status_sv(&h.status),
                time_html(h.requested_at),
                esc(&h.message),
                esc(h
                    .response
                    .as_deref()
                    .or(h.decline_reason.as_deref())
                    .unwrap_or("–")),
            ));
        }
        m.push_str("</tbody></table><p><a href=\"/overlamningar\">Till överlämningarna</a></p>");
    }
    m.push_str("</section>");

    m.push_str("<section aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">Händelser</h2><ol class=\"timeline\">");
    for e in &events {
        m.push_str(&format!(
            "<li>{} – <strong>{}</strong> av {}{}<br><span>{}</span></li>",
            time_html(e.at),
            esc(event_label(&e.kind)),
            esc(e.actor.as_deref().unwrap_or("systemet")),
            e.department
                .as_deref()
                .map(|d| format!(" ({})", esc(d)))
                .unwrap_or_default(),
            event_details(&e.data)
        ));
    }
    m.push_str("</ol></section>");
    let title = format!("{} {}", case.reference, case.title);
    html::page(status, &title, Some(&user.viewer), "", &m)
}

/// After an action: back to the case page, or the page again with the errors beside the form.
async fn after<T>(
    state: &AppState,
    form: &WebForm,
    id: i64,
    which: &str,
    done: &str,
    result: Result<T, ServiceError>,
) -> Response {
    let (status, errors) = match result {
        Ok(_) => return see_other(&format!("/arenden/{id}?klart={done}")),
        Err(ServiceError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(ServiceError::Conflict(detail)) => (
            StatusCode::CONFLICT,
            vec![FieldError {
                field: "_".into(),
                message: if detail.contains("cannot") {
                    detail
                } else {
                    "Ärendet tillåter inte det här just nu".into()
                },
            }],
        ),
        Err(ServiceError::Forbidden(_)) => (
            StatusCode::FORBIDDEN,
            vec![FieldError {
                field: "_".into(),
                message: "Du har inte behörighet till det här".into(),
            }],
        ),
        Err(e) => return service_error_page(e, &form.user.viewer),
    };
    let mut values = form.fields.clone();
    values.remove("csrf");
    case_page(
        state,
        &form.user,
        id,
        None,
        Some(Failed {
            form: which,
            errors,
            values,
        }),
        status,
    )
    .await
}

pub async fn change_status(
    State(state): State<AppState>,
    WebId(id): WebId,
    form: WebForm,
) -> Response {
    let input = TransitionInput {
        to: form.get("to"),
        reason: form.get("reason"),
        decision: form.get("decision"),
        ..Default::default()
    };
    let r = state
        .cases
        .transition(&form.user.actor, id, input, None)
        .await;
    after(&state, &form, id, "status", "status", r).await
}

pub async fn request_supplement(
    State(state): State<AppState>,
    WebId(id): WebId,
    form: WebForm,
) -> Response {
    let input = NewSupplementRequest {
        message: form.get("message"),
    };
    let r = state
        .cases
        .request_supplement(&form.user.actor, id, input, None)
        .await;
    after(&state, &form, id, "supp", "komplettering", r).await
}

pub async fn receive_supplement(
    State(state): State<AppState>,
    Path((id, rid)): Path<(i64, i64)>,
    form: WebForm,
) -> Response {
    let r = state
        .cases
        .receive_supplement(&form.user.actor, id, rid)
        .await;
    after(&state, &form, id, "supp", "inkommen", r).await
}

pub async fn extend(State(state): State<AppState>, WebId(id): WebId, form: WebForm) -> Response {
    let input = NewExtension {
        reason: form.get("reason"),
        weeks: None,
    };
    let r = state
        .cases
        .extend_deadline(&form.user.actor, id, input, None)
        .await;
    after(&state, &form, id, "ext", "forlangning", r).await
}

pub async fn note(State(state): State<AppState>, WebId(id): WebId, form: WebForm) -> Response {
    let input = NewNote {
        text: form.get("text"),
        ..Default::default()
    };
    let r = state.cases.add_note(&form.user.actor, id, input).await;
    after(&state, &form, id, "note", "anteckning", r).await
}

pub async fn hand_off(State(state): State<AppState>, WebId(id): WebId, form: WebForm) -> Response {
    let input = NewHandoff {
        to_department: form.get("to_department"),
        kind: form.get("kind"),
        message: form.get("message"),
        due_date: form.get("due_date"),
    };
    let r = state.handoffs.request(&form.user.actor, id, input).await;
    after(&state, &form, id, "ho", "overlamning", r).await
}

pub async fn edit(State(state): State<AppState>, WebId(id): WebId, form: WebForm) -> Response {
    let patch = CasePatch {
        title: Some(form.raw("title")),
        description: Some(form.raw("description")),
        assignee: Some(form.get("assignee")),
        ..Default::default()
    };
    let r = state.cases.update(&form.user.actor, id, patch, None).await;
    after(&state, &form, id, "edit", "uppgifter", r).await
}

pub async fn request_decision(
    State(state): State<AppState>,
    WebId(id): WebId,
    form: WebForm,
) -> Response {
    let input = NewDecisionRequest {
        note: form.get("note"),
    };
    let r = state
        .cases
        .request_decision(&form.user.actor, id, input)
        .await;
    after(&state, &form, id, "fl12", "avgorande", r).await
}

fn party_role_sv(r: &str) -> &'static str {
    match r {
        "applicant" => "Sökande",
        "operator" => "Verksamhetsutövare",
        "property_owner" => "Fastighetsägare",
        "contact" => "Kontaktperson",
        "invoice_recipient" => "Fakturamottagare",
        "agent" => "Ombud",
        "signatory" => "Firmatecknare",
        _ => "Annan roll",
    }
}

/// The case record (parties, premises, decision with its legal basis, documents), read-only, as
/// the services show it to this user: masked personal data and secrecy apply as in the API.
async fn record_section(state: &AppState, actor: &lots_core::Actor, id: i64) -> String {
    let parties = state.cases.parties(actor, id).await.unwrap_or_default();
    let premises = state.cases.premises(actor, id).await.unwrap_or_default();
    let documents = state.attachments.list(actor, id).await.unwrap_or_default();
    let decision = state.cases.decision(actor, id).await.ok();
    let mut m =
        String::from("<section aria-labelledby=\"record-h\"><h2 id=\"record-h\">Ärendeakt</h2>");
    m.push_str("<h3>Parter</h3>");
    if parties.is_empty() {
        m.push_str("<p>Inga parter registrerade.</p>");
    } else {
        m.push_str("<table><caption class=\"visually-hidden\">Parter</caption><thead><tr><th scope=\"col\">Namn</th><th scope=\"col\">Organisations- eller personnummer</th><th scope=\"col\">Roller</th><th scope=\"col\">Kontakt</th></tr></thead><tbody>");
        for p in &parties {
            let roles: Vec<&str> = p.roles.iter().map(|r| party_role_sv(r.as_str())).collect();
            let contact: Vec<&str> = [&p.email, &p.phone, &p.address]
                .into_iter()
                .filter_map(|v| v.as_deref())
                .collect();
            m.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.name),
                esc(p
                    .org_number
                    .as_deref()
                    .or(p.personal_number.as_deref())
                    .unwrap_or("–")),
                esc(&roles.join(", ")),
                esc(&if contact.is_empty() {
                    "–".to_string()
                } else {
                    contact.join(", ")
                }),
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("<h3>Fastigheter och anläggningar</h3>");
    if premises.is_empty() {
        m.push_str("<p>Ingen fastighet registrerad.</p>");
    } else {
        m.push_str("<table><caption class=\"visually-hidden\">Fastigheter och anläggningar</caption><thead><tr><th scope=\"col\">Fastighetsbeteckning</th><th scope=\"col\">Adress</th><th scope=\"col\">Namn på skylten</th><th scope=\"col\">Huvudsaklig</th></tr></thead><tbody>");
        for p in &premises {
            m.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.property_designation),
                esc(p.address.as_deref().unwrap_or("–")),
                esc(p.sign_name.as_deref().unwrap_or("–")),
                if p.main { "Ja" } else { "Nej" },
            ));
        }
        m.push_str("</tbody></table>");
    }
    if let Some(d) = decision {
        let c = &d.current;
        let basis: Vec<&str> = c.legal_basis.iter().map(|b| b.text.as_str()).collect();
        m.push_str(&format!(
            "<h3>Beslut</h3><dl class=\"facts\"><dt>Utfall</dt><dd>{}</dd><dt>Lagrum</dt><dd>{}</dd><dt>Beslutat</dt><dd>{}</dd><dt>Beslutstext</dt><dd>{}</dd></dl>",
            decision_sv(c.outcome),
            esc(&if basis.is_empty() { "–".to_string() } else { basis.join("; ") }),
            c.decided_at.map(time_html).unwrap_or_else(|| "–".into()),
            esc(if c.text.is_empty() { "–" } else { &c.text }),
        ));
    }
    m.push_str("<h3>Handlingar</h3>");
    if documents.is_empty() {
        m.push_str("<p>Inga handlingar.</p>");
    } else {
        m.push_str("<table><caption class=\"visually-hidden\">Handlingar</caption><thead><tr><th scope=\"col\">Handling</th><th scope=\"col\">Typ</th><th scope=\"col\">Storlek</th><th scope=\"col\">Inkom</th></tr></thead><tbody>");
        for a in &documents {
            m.push_str(&format!(
                "<tr><td><a href=\"/api/v1/cases/{id}/attachments/{}/content\">{}</a></td><td>{}</td><td>{} kB</td><td>{}</td></tr>",
                a.id,
                esc(&a.name),
                esc(&a.content_type),
                html::int(usize::try_from(a.size).unwrap_or_default().div_ceil(1024)),
                time_html(a.created_at),
            ));
        }
        m.push_str("</tbody></table>");
    }
    m.push_str("</section>");
    m
}
