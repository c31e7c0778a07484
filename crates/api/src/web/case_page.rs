//! The case page: facts, the deadline panel, the actions the access module allows (each form
//! with its own errors), notes, the case record, handoffs and the timeline.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use lots_cases::{
    AttachmentView, CaseView, DecisionRecord, FieldError, PartyView, PremisesView, ServiceError,
};
use lots_core::deadline::{DeadlineKind, DeadlineView};
use lots_core::{CaseStatus, Decision, EventKind};
use lots_handoff::HandoffView;
use maud::{Markup, Render, html};

use super::cases::deadline_badge;
use super::html::{
    self, FieldState, SelectAttrs, date_html, decision_sv, field_error, handoff_kind_sv,
    handoff_status_sv, message_sv, select, status_sv, time_html,
};
use super::{WebUser, service_error_page};
use crate::state::AppState;

pub fn done_message(code: &str) -> Option<&'static str> {
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
        "meddelande" => "Meddelandet är skickat till företaget.",
        "foljlank-aterkallad" => "Följlänken är återkallad: den öppnar inget längre.",
        _ => return None,
    })
}

/// Which action form failed, and why: shown beside that form.
pub struct Failed<'a> {
    pub form: &'a str,
    pub errors: Vec<FieldError>,
    pub values: HashMap<String, String>,
}

/// What was posted to one action form, if that form is the one that failed.
struct Posted<'a> {
    prefix: String,
    errors: &'a [FieldError],
    values: Option<&'a HashMap<String, String>>,
}

impl<'a> Posted<'a> {
    fn of(failed: Option<&'a Failed<'_>>, form: &str) -> Self {
        let mine = failed.filter(|f| f.form == form);
        Posted {
            prefix: format!("{form}-"),
            errors: mine.map_or(&[], |f| f.errors.as_slice()),
            values: mine.map(|f| &f.values),
        }
    }

    /// The posted value of `name`, or `current` when this form was not posted.
    fn value_or(&self, name: &str, current: &'a str) -> &'a str {
        self.values
            .and_then(|v| v.get(name))
            .map_or(current, String::as_str)
    }

    fn value(&self, name: &str) -> &'a str {
        self.value_or(name, "")
    }

    fn field(&self, name: &str) -> FieldState {
        field_error(self.errors, &self.prefix, name)
    }
}

/// A single-line text field of an action form.
fn text_field(posted: &Posted<'_>, name: &str, label: &str) -> Markup {
    let state = posted.field(name);
    let id = format!("{}{name}", posted.prefix);
    html! {
        label for=(id) { (label) }
        input type="text" id=(id) name=(name) value=(posted.value(name))
            aria-invalid=[state.invalid()] aria-describedby=[state.described_by()];
        (state.message())
    }
}

/// A textarea of an action form.
fn text_area(posted: &Posted<'_>, name: &str, label: &str, current: &str) -> Markup {
    let state = posted.field(name);
    let id = format!("{}{name}", posted.prefix);
    html! {
        label for=(id) { (label) }
        textarea id=(id) name=(name) rows="3"
            aria-invalid=[state.invalid()] aria-describedby=[state.described_by()] { (posted.value_or(name, current)) }
        (state.message())
    }
}

/// A select of an action form.
fn select_field(posted: &Posted<'_>, name: &str, label: &str, options: &[(&str, &str)]) -> Markup {
    let state = posted.field(name);
    let id = format!("{}{name}", posted.prefix);
    html! {
        label for=(id) { (label) }
        (select(&id, name, options, posted.value(name), SelectAttrs::of(&state)))
        (state.message())
    }
}

fn event_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Created => "Registrerat",
        EventKind::Updated => "Ändrat",
        EventKind::StatusChanged => "Status ändrad",
        EventKind::NoteAdded => "Anteckning",
        EventKind::PartyAdded => "Part tillagd",
        EventKind::PartyChanged => "Part ändrad",
        EventKind::PartyRemoved => "Part borttagen",
        EventKind::PremisesAdded => "Anläggning tillagd",
        EventKind::PremisesChanged => "Anläggning ändrad",
        EventKind::PremisesRemoved => "Anläggning borttagen",
        EventKind::AttachmentAdded => "Bilaga tillagd",
        EventKind::AttachmentDeleted => "Bilaga borttagen",
        EventKind::DecisionRegistered => "Beslut registrerat",
        EventKind::DecisionCorrected => "Beslut rättat",
        EventKind::SupplementRequested => "Komplettering begärd",
        EventKind::SupplementReceived => "Komplettering inkommen",
        EventKind::DeadlineExtended => "Fristen förlängd",
        EventKind::DecisionRequested => "Begäran om avgörande (FL 12 §)",
        EventKind::HandoffRequested => "Överlämning begärd",
        EventKind::HandoffAccepted => "Överlämning accepterad",
        EventKind::HandoffCompleted => "Överlämning slutförd",
        EventKind::HandoffDeclined => "Överlämning avböjd",
        EventKind::HandoffCancelled => "Överlämning återkallad",
        EventKind::BundleAdded => "Lagt till i samordnat ärende",
        EventKind::BundleRemoved => "Borttaget ur samordnat ärende",
        EventKind::MessageSent => "Meddelande till företaget",
        EventKind::MessageReceived => "Meddelande från företaget",
    }
}

/// An event's details as one line of text.
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
        parts.push(html::handoff_kind_sv_str(&k).to_string());
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
    parts.join(" · ")
}

/// One fact in a `<dl>`.
fn fact(term: &str, value: impl Render) -> Markup {
    html! { dt { (term) } dd { (value) } }
}

/// The heading, the notice of what was just done, and why a form failed.
fn heading(case: &CaseView, done: Option<&str>, failed: Option<&Failed<'_>>) -> Markup {
    html! {
        h1 { (case.reference) " " span class="hint" { (case.title) } }
        @if let Some(d) = done { (html::done_notice(d)) }
        @if let Some(f) = failed {
            div class="errors" role="alert" {
                h2 { "Det gick inte" }
                ul {
                    @for e in &f.errors {
                        li { a href=(format!("#{}-{}", f.form, e.field)) { (message_sv(&e.message)) } }
                    }
                }
                p { "Inget har ändrats." }
            }
        }
    }
}

fn facts_panel(case: &CaseView) -> Markup {
    html! {
        section class="panel" aria-labelledby="facts-h" {
            h2 id="facts-h" { "Uppgifter" }
            dl class="facts" {
                (fact("Status", status_sv(case.status)))
                @if let Some(d) = case.decision { (fact("Beslut", decision_sv(d))) }
                (fact("Företag", html! {
                    a href=(format!("/foretag?org={}", case.org_number)) { (case.company_name) }
                    " (" (case.org_number) ")"
                }))
                (fact("Myndighetsområde", case.area.label_sv()))
                @if let Some(t) = &case.case_type {
                    (fact("Ärendetyp", match t.as_str() {
                        "permit" => "Lov eller förhandsbesked",
                        "notification" => "Anmälan",
                        other => other,
                    }))
                }
                (fact("Förvaltning", &case.department))
                (fact("Handläggare", case.assignee.as_deref().unwrap_or("–")))
                (fact("Inkom", time_html(case.received_at)))
                @if let Some(t) = case.complete_at { (fact("Komplett", time_html(t))) }
                @if let Some(t) = case.decided_at { (fact("Beslutad", time_html(t))) }
                @if let Some(t) = case.closed_at { (fact("Avslutad", time_html(t))) }
                @if !case.description.is_empty() { (fact("Beskrivning", &case.description)) }
            }
        }
    }
}

fn deadline_facts(d: &DeadlineView) -> Markup {
    html! {
        dl class="facts" {
            (fact("Slag", match d.kind {
                DeadlineKind::Statutory => "Lagstadgad frist",
                DeadlineKind::Target => "Servicemål (inte lag)",
            }))
            (fact("Sista dag", match d.due_date {
                Some(due) => date_html(due),
                None => html! { "vilar under komplettering" },
            }))
            @if let Some(n) = d.days_left { (fact("Arbetsdagar kvar", html::num(n as f64, 0))) }
            (fact("Förlängd", if d.extended { "Ja" } else { "Nej" }))
            @if let Some(f) = d.fee_reduction_fifths.filter(|f| *f > 0) {
                (fact("Avgiftsreduktion", format!("{f}/5 av avgiften (PBL 12 kap. 8 a §)")))
            }
            @if d.older_than_six_months {
                (fact("Äldre än sex månader", "Ja – parten kan begära avgörande (FL 12 §)"))
            }
            (fact("Grund", &d.source))
        }
    }
}

fn deadline_panel(case: &CaseView) -> Markup {
    html! {
        section class="panel" aria-labelledby="deadline-h" {
            h2 id="deadline-h" { "Frist" }
            @match &case.deadline {
                None => p { "Området har ingen lagstadgad frist eller servicemål." },
                Some(d) => {
                    p { (deadline_badge(Some(d), case.status)) }
                    (deadline_facts(d))
                }
            }
        }
    }
}

/// Everything the action forms need.
struct Actions<'a> {
    case: &'a CaseView,
    csrf: Markup,
    failed: Option<&'a Failed<'a>>,
}

impl Actions<'_> {
    fn posted(&self, form: &str) -> Posted<'_> {
        Posted::of(self.failed, form)
    }

    /// A form posting to `/arenden/{id}/{path}`.
    fn form(&self, path: &str, heading: &str, body: Markup) -> Markup {
        html! {
            form method="post" action=(format!("/arenden/{}/{path}", self.case.id)) class="panel" {
                h3 { (heading) }
                (self.csrf)
                (body)
            }
        }
    }

    fn status_form(&self) -> Markup {
        let posted = self.posted("status");
        let mut targets: Vec<(&str, &str)> = vec![("", "Välj…")];
        targets.extend(
            self.case
                .status
                .successors()
                .iter()
                .filter(|s| **s != CaseStatus::AwaitingSupplement)
                .map(|s| (s.as_str(), s.label_sv())),
        );
        let mut decisions: Vec<(&str, &str)> = vec![("", "Inget (bara vid beslut)")];
        decisions.extend(Decision::ALL.iter().map(|d| (d.as_str(), decision_sv(*d))));
        self.form(
            "status",
            "Ändra status eller besluta",
            html! {
                (select_field(&posted, "to", "Ny status", &targets))
                (select_field(&posted, "decision", "Beslut", &decisions))
                (text_field(&posted, "reason", "Motivering"))
                button type="submit" { "Ändra status" }
            },
        )
    }

    fn supplement_forms(&self, supplements: &[lots_cases::SupplementView]) -> Markup {
        let posted = self.posted("supp");
        html! {
            (self.form("komplettering", "Begär komplettering", html! {
                (text_area(&posted, "message", "Vad ska företaget komplettera med?", ""))
                button type="submit" { "Begär komplettering" }
            }))
            @for s in supplements.iter().filter(|s| s.received_at.is_none()) {
                (self.form(&format!("komplettering/{}/inkommen", s.id), "Väntar på komplettering", html! {
                    p { "Begärd " (time_html(s.requested_at)) ": " (s.message) }
                    button type="submit" { "Kompletteringen har kommit in" }
                }))
            }
        }
    }

    fn extension_form(&self) -> Markup {
        let posted = self.posted("ext");
        self.form("forlangning", "Förläng fristen", html! {
            p class="hint" { "Fristen får förlängas en gång (PBL 9 kap. 27 §), genom ett beslut." }
            (text_field(&posted, "reason", "Skäl för förlängningen"))
            button type="submit" { "Förläng fristen" }
        })
    }

    fn handoff_form(&self, departments: &[lots_cases::DepartmentView]) -> Markup {
        let posted = self.posted("ho");
        let labels: Vec<(String, String)> = departments
            .iter()
            .filter(|d| d.code != self.case.department)
            .map(|d| (d.code.clone(), format!("{} ({})", d.name, d.code)))
            .collect();
        let mut targets: Vec<(&str, &str)> = vec![("", "Välj…")];
        targets.extend(labels.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        let kinds = [
            ("", "Välj…"),
            ("transfer", "Överlämning (ansvaret flyttas)"),
            ("consultation", "Remiss (yttrande önskas)"),
            ("contact", "Kontakt (för kännedom)"),
        ];
        let due = posted.field("due_date");
        self.form(
            "overlamning",
            "Överlämna eller skicka remiss",
            html! {
                (select_field(&posted, "to_department", "Till förvaltning", &targets))
                (select_field(&posted, "kind", "Slag", &kinds))
                (text_area(&posted, "message", "Meddelande", ""))
                label for="ho-due_date" { "Svar senast (bara remiss)" }
                input type="date" id="ho-due_date" name="due_date" value=(posted.value("due_date"))
                    aria-invalid=[due.invalid()] aria-describedby=[due.described_by()];
                (due.message())
                button type="submit" { "Skicka" }
            },
        )
    }

    fn edit_form(&self) -> Markup {
        let posted = self.posted("edit");
        let case = self.case;
        let title = posted.field("title");
        let assignee = posted.field("assignee");
        self.form("uppgifter", "Ändra uppgifter eller handläggare", html! {
            label for="edit-title" { "Rubrik" }
            input type="text" id="edit-title" name="title" value=(posted.value_or("title", &case.title))
                aria-invalid=[title.invalid()] aria-describedby=[title.described_by()];
            (title.message())
            (text_area(&posted, "description", "Beskrivning", &case.description))
            label for="edit-assignee" { "Handläggare (användarnamn)" }
            span class="hint" id="edit-assignee-hint" { "Tomt: ingen. Bara en chef fördelar ärendet till någon annan." }
            input type="text" id="edit-assignee" name="assignee"
                value=(posted.value_or("assignee", case.assignee.as_deref().unwrap_or("")))
                aria-invalid=[assignee.invalid()] aria-describedby=(assignee.described_by_with("edit-assignee-hint"));
            (assignee.message())
            button type="submit" { "Spara ändringar" }
        })
    }

    fn decision_request_form(&self) -> Markup {
        let posted = self.posted("fl12");
        self.form("avgorande", "Begäran om avgörande (FL 12 §)", html! {
            p class="hint" { "Ärendet är äldre än sex månader. Har parten begärt att det avgörs, ska beslut fattas inom fyra veckor." }
            (text_field(&posted, "note", "Anteckning om begäran"))
            button type="submit" { "Registrera begäran" }
        })
    }

    fn message_form(&self) -> Markup {
        let posted = self.posted("msg");
        html! {
            form method="post" action=(format!("/arenden/{}/meddelande", self.case.id)) class="panel" {
                h3 { "Skriv till företaget" }
                (self.csrf)
                (text_area(&posted, "text", "Meddelande", ""))
                button type="submit" { "Skicka till företaget" }
            }
        }
    }

    fn note_form(&self) -> Markup {
        let posted = self.posted("note");
        html! {
            form method="post" action=(format!("/arenden/{}/anteckning", self.case.id)) class="panel" {
                h2 { "Anteckning" }
                (self.csrf)
                (text_area(&posted, "text", "Ny anteckning", ""))
                button type="submit" { "Spara anteckning" }
            }
        }
    }

    /// The actions the case's status allows, for a user who may change it.
    fn section(
        &self,
        supplements: &[lots_cases::SupplementView],
        departments: &[lots_cases::DepartmentView],
    ) -> Markup {
        let case = self.case;
        let deadline = case.deadline.as_ref();
        let extendable = deadline.is_some_and(|d| d.kind == DeadlineKind::Statutory && !d.extended);
        let fl12 =
            deadline.is_some_and(|d| d.older_than_six_months && d.decision_request.is_none());
        html! {
            section aria-labelledby="actions-h" {
                h2 id="actions-h" { "Åtgärder" }
                div class="grid" {
                    (self.status_form())
                    @if case.status.is_open() {
                        (self.supplement_forms(supplements))
                        @if extendable { (self.extension_form()) }
                        (self.handoff_form(departments))
                        (self.edit_form())
                        @if fl12 { (self.decision_request_form()) }
                    }
                }
            }
        }
    }
}

fn handoffs_section(handoffs: &[HandoffView]) -> Markup {
    html! {
        section aria-labelledby="handoffs-h" {
            h2 id="handoffs-h" { "Överlämningar och remisser" }
            @if handoffs.is_empty() {
                p { "Inga överlämningar." }
            } @else {
                table {
                    caption class="visually-hidden" { "Överlämningar" }
                    (html::head_row(&["Slag", "Från → till", "Status", "Begärd", "Meddelande", "Svar"]))
                    tbody {
                        @for h in handoffs {
                            tr {
                                td { (handoff_kind_sv(h.kind)) }
                                td { (h.from_department) " → " (h.to_department) }
                                td { (handoff_status_sv(h.status)) }
                                td { (time_html(h.requested_at)) }
                                td { (h.message) }
                                td { (h.response.as_deref().or(h.decline_reason.as_deref()).unwrap_or("–")) }
                            }
                        }
                    }
                }
                p { a href="/overlamningar" { "Till överlämningarna" } }
            }
        }
    }
}

fn timeline(events: &[lots_cases::EventView]) -> Markup {
    html! {
        section aria-labelledby="timeline-h" {
            h2 id="timeline-h" { "Händelser" }
            ol class="timeline" {
                @for e in events {
                    li {
                        (time_html(e.at)) " – " strong { (event_label(e.kind)) }
                        " av " (e.actor.as_deref().unwrap_or("systemet"))
                        @if let Some(d) = &e.department { " (" (d) ")" }
                        br;
                        span { (event_details(&e.data)) }
                    }
                }
            }
        }
    }
}

pub async fn case_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    done: Option<&str>,
    failed: Option<Failed<'_>>,
    status: StatusCode,
) -> Response {
    let actor = &user.actor;
    // The case is read (and the caller's access decided) once; each part below reads only
    // its own rows.
    let (case, granted) = match state.cases.open_page(actor, id).await {
        Ok(c) => c,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let access = granted.access;
    let owner = access.change;
    let follow_links = async {
        match owner {
            true => state.company_side.follow_links_of(&granted).await.map(Some),
            false => Ok(None),
        }
    };
    let decision = async {
        match state.cases.decision_of(&granted).await {
            Ok(d) => Ok(Some(d)),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Everything the page shows, or an error page: nothing is left out silently.
    let loaded = tokio::try_join!(
        state.cases.events_of(&granted),
        state.handoffs.of_granted(actor, &granted),
        state.supplements.supplements_of(&granted),
        state.directory.list_departments(actor),
        state.messages.messages_of(&granted),
        state.record.parties_of(&granted),
        state.record.premises_of(&granted),
        state.attachments.list_of(&granted),
        decision,
        follow_links,
    );
    let (
        events,
        handoffs,
        supplements,
        departments,
        messages,
        parties,
        premises,
        documents,
        decision,
        follow_links,
    ) = match loaded {
        Ok(all) => all,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let record = record_section(id, &parties, &premises, &documents, &decision);
    // What the page offers is what the access module allows: a form the API would refuse is
    // never shown.
    let actions = Actions {
        case: &case,
        csrf: user.viewer.csrf_field(),
        failed: failed.as_ref(),
    };
    let main = html! {
        (heading(&case, done, failed.as_ref()))
        div class="grid" {
            (facts_panel(&case))
            (deadline_panel(&case))
        }
        @if owner && !case.status.successors().is_empty() {
            (actions.section(&supplements, &departments))
        }
        @if owner { (actions.note_form()) }
        (messages_section(&messages, owner.then(|| actions.message_form())))
        @if let Some(links) = &follow_links {
            (follow_links_section(&case, links, &user.viewer.csrf_field()))
        }
        (record)
        (handoffs_section(&handoffs))
        (timeline(&events))
    };
    let title = format!("{} {}", case.reference, case.title);
    html::page(status, &title, Some(&user.viewer), "", main)
}

/// The case's follow links: make one (to send to the company by hand), see and revoke them.
fn follow_links_section(
    case: &CaseView,
    links: &[lots_cases::company_side::FollowLinkView],
    csrf: &Markup,
) -> Markup {
    html! {
        section aria-labelledby="follow-h" {
            h2 id="follow-h" { "Följlänkar" }
            p class="hint" { "En följlänk låter den som har den följa ärendet och svara utan att logga in. Lots skickar en med varje mejl till företaget; här gör du en att skicka på annat sätt." }
            @let live: Vec<_> = links.iter().filter(|l| l.revoked_at.is_none()).collect();
            @if !live.is_empty() {
                ul {
                    @for l in &live {
                        li {
                            "Skapad " (html::time_html(l.created_at))
                            @if l.created_by.is_none() { " (i ett mejl)" }
                            " "
                            form method="post" class="inline" action=(format!("/arenden/{}/foljlank/{}/aterkalla", case.id, l.id)) {
                                (csrf)
                                button type="submit" { "Återkalla" span class="visually-hidden" { " följlänk " (l.id) } }
                            }
                        }
                    }
                }
            }
            form method="post" action=(format!("/arenden/{}/foljlank", case.id)) {
                (csrf)
                button type="submit" { "Skapa följlänk" }
            }
        }
    }
}

/// The messages between the department and the company, and (for the department) the form.
fn messages_section(
    messages: &[lots_cases::messages::MessageView],
    form: Option<Markup>,
) -> Markup {
    use lots_cases::messages::Direction;
    html! {
        section aria-labelledby="messages-h" {
            h2 id="messages-h" { "Meddelanden med företaget" }
            @if messages.is_empty() {
                p { "Inga meddelanden ännu." }
            } @else {
                ul class="messages" {
                    @for m in messages {
                        li {
                            strong {
                                @match m.direction {
                                    Direction::ToCompany => { "Till företaget" @if let Some(a) = &m.author { " från " (a) } }
                                    Direction::FromCompany => { "Från " (m.sender.as_deref().unwrap_or("företaget")) }
                                }
                            }
                            " " (html::time_html(m.created_at)) ": " (m.text)
                        }
                    }
                }
            }
            @if let Some(f) = form { (f) }
        }
    }
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

fn parties_table(parties: &[lots_cases::PartyView]) -> Markup {
    html! {
        h3 { "Parter" }
        @if parties.is_empty() {
            p { "Inga parter registrerade." }
        } @else {
            table {
                caption class="visually-hidden" { "Parter" }
                (html::head_row(&["Namn", "Organisations- eller personnummer", "Roller", "Kontakt"]))
                tbody {
                    @for p in parties {
                        @let roles: Vec<&str> = p.roles.iter().map(|r| party_role_sv(r.as_str())).collect();
                        @let contact: Vec<&str> = [&p.email, &p.phone, &p.address].into_iter().filter_map(|v| v.as_deref()).collect();
                        tr {
                            td { (p.name) }
                            td { (p.org_number.as_deref().or(p.personal_number.as_deref()).unwrap_or("–")) }
                            td { (roles.join(", ")) }
                            td { @if contact.is_empty() { "–" } @else { (contact.join(", ")) } }
                        }
                    }
                }
            }
        }
    }
}

fn premises_table(premises: &[lots_cases::PremisesView]) -> Markup {
    html! {
        h3 { "Fastigheter och anläggningar" }
        @if premises.is_empty() {
            p { "Ingen fastighet registrerad." }
        } @else {
            table {
                caption class="visually-hidden" { "Fastigheter och anläggningar" }
                (html::head_row(&["Fastighetsbeteckning", "Adress", "Namn på skylten", "Huvudsaklig"]))
                tbody {
                    @for p in premises {
                        tr {
                            td { (p.property_designation) }
                            td { (p.address.as_deref().unwrap_or("–")) }
                            td { (p.sign_name.as_deref().unwrap_or("–")) }
                            td { @if p.main { "Ja" } @else { "Nej" } }
                        }
                    }
                }
            }
        }
    }
}

fn decision_facts(d: &lots_cases::DecisionRecord) -> Markup {
    let c = &d.current;
    let basis: Vec<&str> = c.legal_basis.iter().map(|b| b.text.as_str()).collect();
    html! {
        h3 { "Beslut" }
        dl class="facts" {
            (fact("Utfall", decision_sv(c.outcome)))
            (fact("Lagrum", if basis.is_empty() { "–".to_string() } else { basis.join("; ") }))
            (fact("Beslutat", match c.decided_at {
                Some(t) => time_html(t),
                None => html! { "–" },
            }))
            (fact("Beslutstext", if c.text.is_empty() { "–" } else { &c.text }))
        }
    }
}

fn documents_table(id: i64, documents: &[lots_cases::AttachmentView]) -> Markup {
    html! {
        h3 { "Handlingar" }
        @if documents.is_empty() {
            p { "Inga handlingar." }
        } @else {
            table {
                caption class="visually-hidden" { "Handlingar" }
                (html::head_row(&["Handling", "Typ", "Storlek", "Inkom", "Från"]))
                tbody {
                    @for a in documents {
                        tr {
                            td { a href=(format!("/api/v1/cases/{id}/attachments/{}/content", a.id)) { (a.name) } }
                            td { (a.content_type) }
                            td { (html::int(usize::try_from(a.size).unwrap_or_default().div_ceil(1024))) " kB" }
                            td { (time_html(a.created_at)) }
                            td {
                                @if let Some(s) = &a.sent_by { "Företaget: " (s) }
                                @else { (a.created_by.as_deref().unwrap_or("–")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The case record (parties, premises, decision with its legal basis, documents), read-only, as
/// the services show it to this user: masked personal data and secrecy apply as in the API.
fn record_section(
    id: i64,
    parties: &[PartyView],
    premises: &[PremisesView],
    documents: &[AttachmentView],
    decision: &Option<DecisionRecord>,
) -> Markup {
    html! {
        section aria-labelledby="record-h" {
            h2 id="record-h" { "Ärendeakt" }
            (parties_table(parties))
            (premises_table(premises))
            @if let Some(d) = decision { (decision_facts(d)) }
            (documents_table(id, documents))
        }
    }
}
