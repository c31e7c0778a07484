//! Officers' pages: my cases, search, registering a case, and the actions posted from the case
//! page (the page itself is in `case_page`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use lots_cases::search::{MINE_PAGE, MyOpenCases};
use lots_cases::{
    CaseFilter, CasePatch, CaseView, FieldError, ListOrder, NewCase, NewDecisionRequest,
    NewExtension, NewNote, NewSupplementRequest, ServiceError, TransitionInput,
};
use lots_core::deadline::DeadlineView;
use lots_core::{Area, CaseStatus, Role, TIME_ZONE};
use lots_handoff::NewHandoff;
use maud::{Markup, html};

use super::case_page::{Failed, case_page, done_message};
use super::html::{self, FieldState, SelectAttrs, error_summary, field_error, select, status_sv};
use super::{WebForm, WebId, WebUser, see_other, service_error_page};
use crate::state::AppState;

/// The deadline badge of a case.
pub fn deadline_badge(d: Option<&DeadlineView>, status: CaseStatus) -> Markup {
    let badge =
        |class: &str, text: String| html! { span class=(format!("badge {class}")) { (text) } };
    let Some(d) = d else {
        return badge("none", "Ingen frist".into());
    };
    if !status.is_open() {
        return if d.overdue {
            badge("overdue", "Beslutad efter fristen".into())
        } else {
            badge("fine", "Beslutad i tid".into())
        };
    }
    if d.paused || d.due_date.is_none() {
        return badge("paused", "Fristen vilar (komplettering)".into());
    }
    let due = d.due_date.map(html::date_sv).unwrap_or_default();
    match d.days_left {
        _ if d.overdue => badge("overdue", format!("Försenad – frist {due}")),
        Some(n) if n <= 5 => badge(
            "soon",
            format!(
                "{n} arbetsdag{} kvar – {due}",
                if n == 1 { "" } else { "ar" }
            ),
        ),
        Some(n) => badge("fine", format!("{n} arbetsdagar kvar – {due}")),
        None => badge("fine", format!("Frist {due}")),
    }
}

/// A table of cases.
pub fn case_table(caption: &str, cases: &[CaseView]) -> Markup {
    if cases.is_empty() {
        return html! { p { (caption) ": inga ärenden." } };
    }
    html! {
        table {
            caption { (caption) }
            (html::head_row(&["Diarienummer", "Rubrik", "Företag", "Myndighetsområde", "Status", "Handläggare", "Frist"]))
            tbody {
                @for c in cases {
                    tr {
                        td { a href=(format!("/arenden/{}", c.id)) { (c.reference) } }
                        td { (c.title) }
                        td { (c.company_name) }
                        td { (c.area.label_sv()) }
                        td { (status_sv(c.status)) }
                        td { (c.assignee.as_deref().unwrap_or("–")) }
                        td { (deadline_badge(c.deadline.as_ref(), c.status)) }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MineQuery {
    /// `next_cursor` of the page before.
    cursor: Option<String>,
}

/// Mina ärenden: my open cases, overdue and nearly due first, a page at a time; cases with a
/// message from the company nobody has read are listed first, above.
pub async fn mine(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<MineQuery>,
) -> Response {
    let cursor = q.cursor.filter(|c| !c.is_empty());
    let first_page = cursor.is_none();
    let MyOpenCases {
        page,
        count,
        unread: waiting,
    } = match state.cases.my_open_cases(&user.actor, cursor).await {
        Ok(loaded) => loaded,
        // A cursor that is not one of ours: start over rather than show an error.
        Err(ServiceError::Validation(_)) if !first_page => return see_other("/arenden"),
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let main = html! {
        h1 { "Mina ärenden" }
        p {
            "Du har " (html::int(count.cases as usize)) " öppna ärenden, varav " (html::int(count.overdue as usize))
            " försenade. Försenade och snart förfallna står först."
        }
        p { a class="button" href="/arenden/nytt" { "Registrera ärende" } }
        @if !waiting.is_empty() {
            div class="ok" role="status" {
                p {
                    "Olästa meddelanden från företag ("
                    (html::int(waiting.len()))
                    (if waiting.len() == 1 { " ärende" } else { " ärenden" })
                    "): "
                    @for (i, c) in waiting.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(format!("/arenden/{}#messages-h", c.id)) { (c.reference) }
                    }
                    "."
                }
            }
            @if first_page {
                (case_table("Ärenden med olästa meddelanden", &waiting))
            }
        }
        (case_table("Mina öppna ärenden", &page.items))
        @if !first_page || page.next_cursor.is_some() {
            nav aria-label="Sidor" {
                p {
                    @if !first_page {
                        a href="/arenden" { "Till första sidan" }
                    }
                    @if !first_page && page.next_cursor.is_some() { " · " }
                    @if let Some(next) = &page.next_cursor {
                        a href=(format!("/arenden?{}", serde_urlencoded::to_string([("cursor", next)]).unwrap_or_default())) {
                            "Nästa " (MINE_PAGE) " ärenden"
                        }
                    }
                }
            }
        }
    };
    html::page(
        StatusCode::OK,
        "Mina ärenden",
        Some(&user.viewer),
        "mina",
        main,
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

fn area_options(empty: &str) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = vec![("", if empty.is_empty() { "Alla" } else { "Välj…" })];
    v.extend(Area::ALL.iter().map(|a| (a.as_str(), a.label_sv())));
    v
}

fn search_label(f: &str) -> String {
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
}

/// A text input with its error state.
fn text_input(kind: &str, id: &str, name: &str, value: &str, state: &FieldState) -> Markup {
    html! {
        input type=(kind) id=(id) name=(name) value=(value)
            aria-invalid=[state.invalid()] aria-describedby=[state.described_by()];
        (state.message())
    }
}

/// The search form, filled in with what was searched.
fn search_form(q: &SearchQuery, errors: &[FieldError]) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let status_opts: Vec<(&str, &str)> = std::iter::once(("", "Alla"))
        .chain(std::iter::once((
            "received,in_progress,awaiting_supplement",
            "Alla öppna",
        )))
        .chain(CaseStatus::ALL.iter().map(|s| (s.as_str(), s.label_sv())))
        .collect();
    let overdue_opts = [
        ("", "Alla"),
        ("true", "Försenade"),
        ("false", "Inte försenade"),
    ];
    let none = SelectAttrs::default();
    html! {
        form method="get" action="/arenden/sok" class="filters" role="search" aria-label="Sök ärenden" {
            div {
                label for="s-q" { "Fritext (rubrik, diarienummer, företag)" }
                (text_input("search", "s-q", "q", &v(&q.q), &field_error(errors, "s-", "q")))
            }
            div {
                label for="s-status" { "Status" }
                (select("s-status", "status", &status_opts, &v(&q.status), none))
            }
            div {
                label for="s-area" { "Myndighetsområde" }
                (select("s-area", "area", &area_options(""), &v(&q.area), none))
            }
            div {
                label for="s-assignee" { "Handläggare (användarnamn eller ”me”)" }
                (text_input("text", "s-assignee", "assignee", &v(&q.assignee), &field_error(errors, "s-", "assignee")))
            }
            div {
                label for="s-org_number" { "Organisationsnummer" }
                (text_input("text", "s-org_number", "org_number", &v(&q.org_number), &field_error(errors, "s-", "org_number")))
            }
            div {
                label for="s-overdue" { "Frist" }
                (select("s-overdue", "overdue", &overdue_opts, &v(&q.overdue), none))
            }
            div { button type="submit" { "Sök" } }
        }
    }
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
    let hits = match result {
        Ok(page) => Some(page),
        Err(ServiceError::Validation(_)) => None,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let next_page = hits
        .as_ref()
        .and_then(|p| p.next_cursor.clone())
        .map(|next| {
            serde_urlencoded::to_string([
                ("q", v(&q.q)),
                ("status", v(&q.status)),
                ("area", v(&q.area)),
                ("assignee", v(&q.assignee)),
                ("overdue", v(&q.overdue)),
                ("org_number", v(&q.org_number)),
                ("cursor", next),
            ])
            .unwrap_or_default()
        });
    let main = html! {
        h1 { "Sök ärenden" }
        (error_summary(&errors, "s-", search_label))
        (search_form(&q, &errors))
        @if let Some(page) = &hits {
            @if q.q.as_deref().is_some_and(|t| !t.trim().is_empty()) && page.order == ListOrder::Newest {
                p.hint role="status" {
                    "Fler än " (html::int(lots_cases::search::RANKED_AT_MOST as usize)) " ärenden matchar, så de visas "
                    "nyast först i stället för bäst matchande först. Lägg till fler ord för att "
                    "få de bästa träffarna först."
                }
            }
            (case_table("Träffar", &page.items))
            @if let Some(qs) = &next_page {
                p { a href=(format!("/arenden/sok?{qs}")) { "Nästa sida" } }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html::page(status, "Sök ärenden", Some(&user.viewer), "sok", main)
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

/// A labelled text field of the register form, with an optional hint.
fn register_text(
    values: &HashMap<String, String>,
    errors: &[FieldError],
    (name, label, hint): (&str, &str, &str),
    required: bool,
) -> Markup {
    let state = field_error(errors, "f-", name);
    let id = format!("f-{name}");
    let hint_id = format!("f-{name}-hint");
    let described_by = if hint.is_empty() {
        state.described_by().map(str::to_string)
    } else {
        Some(state.described_by_with(&hint_id))
    };
    html! {
        label for=(id) { (label) @if required { " *" } }
        @if !hint.is_empty() { span class="hint" id=(hint_id) { (hint) } }
        input type="text" id=(id) name=(name)
            value=(values.get(name).map(String::as_str).unwrap_or(""))
            required[required] aria-invalid=[state.invalid()] aria-describedby=[described_by];
        (state.message())
    }
}

/// The attributes of a field with a hint: the error's when it has one, else the hint's.
fn hint_or_error<'a>(state: &'a FieldState, hint_id: &'a str) -> SelectAttrs<'a> {
    match state.invalid() {
        Some(_) => SelectAttrs::of(state),
        None => SelectAttrs {
            described_by: Some(hint_id),
            ..Default::default()
        },
    }
}

fn register_form(
    user: &WebUser,
    values: &HashMap<String, String>,
    errors: &[FieldError],
) -> Markup {
    let value = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let area = field_error(errors, "f-", "area");
    let case_type = field_error(errors, "f-", "case_type");
    let case_type_attrs = hint_or_error(&case_type, "f-case_type-hint");
    let description = field_error(errors, "f-", "description");
    let received = field_error(errors, "f-", "received_at");
    let received_attrs = hint_or_error(&received, "f-received_at-hint");
    let case_types = [
        ("", "Ingen / standard"),
        ("permit", "Lov eller förhandsbesked"),
        ("notification", "Anmälan"),
    ];
    html! {
        form method="post" action="/arenden/nytt" novalidate {
            (user.viewer.csrf_field())
            (register_text(values, errors, ("org_number", "Organisationsnummer", "10 siffror, till exempel 556036-0793"), true))
            (register_text(values, errors, ("company_name", "Företagets namn", ""), true))
            label for="f-area" { "Myndighetsområde *" }
            (select("f-area", "area", &area_options("x"), value("area"), SelectAttrs { required: true, ..SelectAttrs::of(&area) }))
            (area.message())
            label for="f-case_type" { "Ärendetyp (bygglov)" }
            span class="hint" id="f-case_type-hint" { "Bara för bygglov: lov eller anmälan har olika frister." }
            (select("f-case_type", "case_type", &case_types, value("case_type"), case_type_attrs))
            (case_type.message())
            (register_text(values, errors, ("title", "Rubrik", ""), true))
            label for="f-description" { "Beskrivning" }
            textarea id="f-description" name="description" rows="4"
                aria-invalid=[description.invalid()] aria-describedby=[description.described_by()] { (value("description")) }
            (description.message())
            label for="f-received_at" { "Inkom (datum)" }
            span class="hint" id="f-received_at-hint" { "ÅÅÅÅ-MM-DD; lämna tomt för i dag." }
            input type="date" id="f-received_at" name="received_at" value=(value("received_at"))
                aria-invalid=[received_attrs.invalid] aria-describedby=[received_attrs.described_by];
            (received.message())
            p { button type="submit" { "Registrera" } }
        }
    }
}

fn register_page(
    user: &WebUser,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let main = html! {
        h1 { "Registrera ärende" }
        p { "Fält markerade med * måste fyllas i. Diarienumret tilldelas när ärendet registreras." }
        (error_summary(errors, "f-", case_field_label))
        (register_form(user, values, errors))
    };
    html::page(
        status,
        "Registrera ärende",
        Some(&user.viewer),
        "nytt",
        main,
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

pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    WebId(id): WebId,
    Query(q): Query<ShowQuery>,
) -> Response {
    let done = q.klart.as_deref().and_then(done_message);
    case_page(&state, &user, id, done, None, StatusCode::OK).await
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
        .supplements
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
        .supplements
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
        .supplements
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

pub async fn message(State(state): State<AppState>, WebId(id): WebId, form: WebForm) -> Response {
    let input = lots_cases::messages::NewMessage {
        text: form.get("text"),
    };
    let r = state
        .messages
        .send_message(&form.user.actor, id, input)
        .await;
    after(&state, &form, id, "msg", "meddelande", r).await
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

/// Makes a follow link and shows it once (Lots keeps only its hash).
pub async fn create_follow_link(
    State(state): State<AppState>,
    WebId(id): WebId,
    form: WebForm,
) -> Response {
    match state
        .company_side
        .create_follow_link(&form.user.actor, id)
        .await
    {
        Ok(link) => {
            let url = format!(
                "{}{}",
                state.config.base_url().trim_end_matches('/'),
                link.path
            );
            html::page(
                StatusCode::OK,
                "Följlänken är skapad",
                Some(&form.user.viewer),
                "",
                maud::html! {
                    h1 { "Följlänken är skapad" }
                    p { "Skicka länken till företaget. Den visas bara nu: Lots sparar den inte och kan inte visa den igen." }
                    p { label for="follow-url" { "Följlänk" } }
                    p { input type="text" id="follow-url" readonly value=(url) size="80"; }
                    p { a href=(format!("/arenden/{id}#follow-h")) { "Tillbaka till ärendet" } }
                },
            )
        }
        Err(e) => service_error_page(e, &form.user.viewer),
    }
}

/// Revokes one of the case's follow links.
pub async fn revoke_follow_link(
    State(state): State<AppState>,
    axum::extract::Path((id, link)): axum::extract::Path<(String, String)>,
    form: WebForm,
) -> Response {
    let (Ok(id), Ok(link)) = (id.parse::<i64>(), link.parse::<i64>()) else {
        return service_error_page(ServiceError::NotFound("follow link"), &form.user.viewer);
    };
    match state
        .company_side
        .revoke_follow_link(&form.user.actor, id, link)
        .await
    {
        Ok(()) => see_other(&format!("/arenden/{id}?klart=foljlank-aterkallad#follow-h")),
        Err(e) => service_error_page(e, &form.user.viewer),
    }
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
        .supplements
        .request_decision(&form.user.actor, id, input)
        .await;
    after(&state, &form, id, "fl12", "avgorande", r).await
}
