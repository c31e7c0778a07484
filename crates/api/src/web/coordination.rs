//! Work across departments: the department's handoff inbox, the company view and bundles
//! (samordnade ärenden).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lots_cases::companies::CompanyCase;
use lots_cases::{BundleCaseInput, BundleView, CompanyView, FieldError, NewBundle, ServiceError};
use lots_core::{HandoffKind, HandoffStatus};
use lots_handoff::{HandoffFilter, HandoffReply, HandoffView};

use super::cases::deadline_badge;
use maud::{Markup, html};

use super::html::{
    self, error_summary, field_error, handoff_kind_sv, handoff_status_sv, message_sv, status_sv,
    time_html,
};
use super::{WebForm, WebId, WebUser, see_other, service_error_page};
use crate::state::AppState;

#[derive(Debug, Default, serde::Deserialize)]
pub struct InboxQuery {
    klart: Option<String>,
}

/// The forms a handoff offers: accept, decline or complete it (incoming), cancel it (outgoing).
fn handoff_actions(h: &HandoffView, csrf: &Markup, incoming: bool) -> Markup {
    let id = h.id;
    html! {
        @if incoming && h.status == HandoffStatus::Requested {
            form method="post" action=(format!("/overlamningar/{id}/acceptera")) {
                (csrf) button type="submit" { "Acceptera" }
            }
            form method="post" action=(format!("/overlamningar/{id}/avboj")) {
                (csrf)
                label for=(format!("decline-{id}")) { "Skäl att avböja" }
                input type="text" id=(format!("decline-{id}")) name="reason";
                button type="submit" class="secondary" { "Avböj" }
            }
        }
        @if incoming && h.status == HandoffStatus::Accepted {
            form method="post" action=(format!("/overlamningar/{id}/slutfor")) {
                (csrf)
                label for=(format!("response-{id}")) {
                    "Svar" @if h.kind == HandoffKind::Consultation { " (krävs för remiss)" }
                }
                textarea id=(format!("response-{id}")) name="response" rows="2" {}
                button type="submit" { "Slutför" }
            }
        }
        @if !incoming && h.status == HandoffStatus::Requested {
            form method="post" action=(format!("/overlamningar/{id}/aterkalla")) {
                (csrf) button type="submit" class="secondary" { "Återkalla" }
            }
        }
    }
}

fn handoff_table(
    labelled_by: &str,
    items: &[HandoffView],
    csrf: &Markup,
    incoming: bool,
) -> Markup {
    let columns = [
        "Ärende",
        "Slag",
        "Från → till",
        "Status",
        "Begärd",
        "Svar senast",
        "Meddelande",
        "Åtgärd",
    ];
    html! {
        table aria-labelledby=(labelled_by) {
            (html::head_row(&columns))
            tbody {
                @for h in items {
                    @let actions = handoff_actions(h, csrf, incoming);
                    tr {
                        td { a href=(format!("/arenden/{}", h.case.id)) { (h.case.reference) } br; (h.case.title) }
                        td { (handoff_kind_sv(h.kind)) }
                        td { (h.from_department) " → " (h.to_department) }
                        td {
                            (handoff_status_sv(h.status))
                            @if h.overdue { " " span class="badge overdue" { "Försenad" } }
                        }
                        td { (time_html(h.requested_at)) }
                        td { @match h.due_date { Some(d) => (html::date_html(d)), None => "–" } }
                        td { (h.message) }
                        td { @if actions.0.is_empty() { "–" } @else { (actions) } }
                    }
                }
            }
        }
    }
}

/// The department's handoffs: incoming to accept, decline or complete; outgoing to follow.
pub async fn inbox(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<InboxQuery>,
) -> Response {
    inbox_page(&state, &user, q.klart.as_deref(), &[], StatusCode::OK).await
}

async fn inbox_page(
    state: &AppState,
    user: &WebUser,
    done: Option<&str>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let dep = user.viewer.department.clone();
    let list = |to: Option<String>, from: Option<String>| HandoffFilter {
        to_department: to,
        from_department: from,
        status: Some("requested,accepted".into()),
        limit: Some("500".into()),
        ..Default::default()
    };
    let incoming = match state
        .handoffs
        .list(&user.actor, list(dep.clone(), None))
        .await
    {
        Ok(p) => p.items,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let outgoing = match &dep {
        Some(d) => state
            .handoffs
            .list(&user.actor, list(None, Some(d.clone())))
            .await
            .map(|p| p.items)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let csrf = user.viewer.csrf_field();
    let done = done.and_then(|d| match d {
        "acceptera" => Some("Överlämningen är accepterad."),
        "avboj" => Some("Överlämningen är avböjd."),
        "slutfor" => Some("Överlämningen är slutförd."),
        "aterkalla" => Some("Överlämningen är återkallad."),
        _ => None,
    });
    let m = html! {
        h1 { "Överlämningar" }
        @if let Some(text) = done { (html::done_notice(text)) }
        @if !errors.is_empty() {
            div class="errors" role="alert" {
                h2 { "Det gick inte" }
                ul { @for e in errors { li { (message_sv(&e.message)) } } }
                p { "Inget har ändrats." }
            }
        }
        h2 id="in-h" {
            "Till " (dep.as_deref().unwrap_or("alla förvaltningar")) " (" (html::int(incoming.len())) ")"
        }
        @if incoming.is_empty() {
            p { "Inga öppna överlämningar till er." }
        } @else {
            (handoff_table("in-h", &incoming, &csrf, true))
        }
        @if dep.is_some() {
            h2 id="out-h" { "Från er (" (html::int(outgoing.len())) ")" }
            @if outgoing.is_empty() {
                p { "Inga öppna överlämningar från er." }
            } @else {
                (handoff_table("out-h", &outgoing, &csrf, false))
            }
        }
    };
    html::page(
        status,
        "Överlämningar",
        Some(&user.viewer),
        "overlamningar",
        m,
    )
}

pub async fn handoff_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    form: WebForm,
) -> Response {
    let actor = &form.user.actor;
    let reply = HandoffReply {
        response: form.get("response"),
        reason: form.get("reason"),
    };
    let r = match action.as_str() {
        "acceptera" => state.handoffs.accept(actor, id).await,
        "avboj" => state.handoffs.decline(actor, id, reply).await,
        "slutfor" => state.handoffs.complete(actor, id, reply).await,
        "aterkalla" => state.handoffs.cancel(actor, id, reply).await,
        _ => Err(ServiceError::NotFound("action")),
    };
    match r {
        Ok(_) => see_other(&format!("/overlamningar?klart={action}")),
        Err(ServiceError::Validation(errors)) => {
            inbox_page(
                &state,
                &form.user,
                None,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::Conflict(_)) => {
            let errors = [FieldError {
                field: "_".into(),
                message: "Överlämningen tillåter inte det här längre (den har redan hanterats)"
                    .into(),
            }];
            inbox_page(&state, &form.user, None, &errors, StatusCode::CONFLICT).await
        }
        Err(e) => service_error_page(e, &form.user.viewer),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct CompanyQuery {
    org: Option<String>,
}

fn company_cases(view: &CompanyView) -> Markup {
    let columns = [
        "Diarienummer",
        "Myndighetsområde",
        "Förvaltning",
        "Status",
        "Inkom",
        "Frist",
    ];
    html! {
        table {
            caption { "Företagets ärenden i alla förvaltningar" }
            (html::head_row(&columns))
            tbody {
                @for c in &view.cases {
                    @match &c.case {
                        CompanyCase::Full { case } => tr {
                            td { a href=(format!("/arenden/{}", case.id)) { (case.reference) } br; (case.title) }
                            td { (case.area.label_sv()) }
                            td { (case.department) }
                            td { (status_sv(case.status)) }
                            td { (time_html(case.received_at)) }
                            td { (deadline_badge(case.deadline.as_ref(), case.status)) }
                        },
                        CompanyCase::Summary { summary } => tr {
                            td { (summary.reference) br; span class="hint" { "Annan förvaltnings ärende (sammanfattning)" } }
                            td { (summary.area.label_sv()) }
                            td { (summary.department) }
                            td { (status_sv(summary.status)) }
                            td { (time_html(summary.received_at)) }
                            td { "–" }
                        },
                    }
                }
            }
        }
    }
}

/// A company's bundles, with links.
fn company_bundles(bundles: &[BundleView]) -> Markup {
    html! {
        h2 { "Samordnade ärenden" }
        @if bundles.is_empty() {
            p { "Företaget har inget samordnat ärende." }
        } @else {
            ul {
                @for b in bundles {
                    li { a href=(format!("/samordnade/{}", b.id)) { (b.title) } " – företagslots " (b.coordinator_name) }
                }
            }
        }
    }
}

/// The company view: every case of one company across departments.
pub async fn company(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<CompanyQuery>,
) -> Response {
    let org = q.org.clone().unwrap_or_default();
    let mut status = StatusCode::OK;
    let mut result = None;
    let mut errors = Vec::new();
    if !org.trim().is_empty() {
        match state.companies.company(&user.actor, org.trim()).await {
            Ok(v) => result = Some(v),
            Err(ServiceError::Validation(e)) => {
                errors = e
                    .into_iter()
                    .map(|e| FieldError {
                        field: "org".into(),
                        message: e.message,
                    })
                    .collect();
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(ServiceError::NotFound(_)) => {
                errors.push(FieldError {
                    field: "org".into(),
                    message: "Inget företag med det organisationsnumret har ärenden".into(),
                });
                status = StatusCode::NOT_FOUND;
            }
            Err(e) => return service_error_page(e, &user.viewer),
        }
    }
    let bundles = match &result {
        Some(v) => state
            .companies
            .bundles(&user.actor, Some(v.org_number.as_str()))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let org_state = field_error(&errors, "c-", "org");
    let m = html! {
        h1 { "Företag" }
        form method="get" action="/foretag" role="search" aria-label="Sök företag" class="filters" {
            div {
                label for="c-org" { "Organisationsnummer" }
                input type="text" id="c-org" name="org" value=(org)
                    aria-invalid=[org_state.invalid()] aria-describedby=[org_state.described_by()];
                (org_state.message())
            }
            div { button type="submit" { "Visa företaget" } }
        }
        @if let Some(v) = &result {
            h2 { (v.name) " " span class="hint" { (v.org_number) } }
            (company_cases(v))
            (company_bundles(&bundles))
            (bundle_form(&user, &v.org_number, &[], "", ""))
        }
    };
    html::page(status, "Företag", Some(&user.viewer), "foretag", m)
}

fn bundle_form(
    user: &WebUser,
    org: &str,
    errors: &[FieldError],
    title: &str,
    coordinator: &str,
) -> Markup {
    let label = |f: &str| {
        match f {
            "title" => "Rubrik",
            "coordinator" => "Företagslots",
            "org_number" => "Organisationsnummer",
            o => o,
        }
        .to_string()
    };
    let field = |name: &str, label: &str, value: &str| {
        let state = field_error(errors, "b-", name);
        let id = format!("b-{name}");
        html! {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) value=(value)
                aria-invalid=[state.invalid()] aria-describedby=[state.described_by()];
            (state.message())
        }
    };
    let coordinator = if coordinator.is_empty() {
        user.viewer.username.as_str()
    } else {
        coordinator
    };
    html! {
        form method="post" action="/samordnade" class="panel" {
            h2 { "Skapa samordnat ärende" }
            (error_summary(errors, "b-", label))
            (user.viewer.csrf_field())
            (field("org_number", "Organisationsnummer", org))
            (field("title", "Rubrik", title))
            (field("coordinator", "Företagslots (användarnamn)", coordinator))
            button type="submit" { "Skapa" }
        }
    }
}

fn bundle_list(bundles: &[BundleView]) -> Markup {
    if bundles.is_empty() {
        return html! { p { "Inga samordnade ärenden ännu." } };
    }
    html! {
        table {
            caption { "Samordnade ärenden" }
            (html::numeric_head_row(&[("Rubrik", false), ("Företag", false), ("Företagslots", false), ("Ärenden", true), ("Skapat", false)]))
            tbody {
                @for b in bundles {
                    tr {
                        td { a href=(format!("/samordnade/{}", b.id)) { (b.title) } }
                        td { (b.company_name) " (" (b.org_number) ")" }
                        td { (b.coordinator_name) }
                        td class="n" { (html::int(b.cases.len())) }
                        td { (time_html(b.created_at)) }
                    }
                }
            }
        }
    }
}

pub async fn bundles(State(state): State<AppState>, user: WebUser) -> Response {
    let list = match state.companies.bundles(&user.actor, None).await {
        Ok(l) => l,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let m = html! {
        h1 { "Samordnade ärenden" }
        p { "Ett företags ärenden i flera förvaltningar, med en företagslots som håller ihop dem." }
        (bundle_list(&list))
        (bundle_form(&user, "", &[], "", ""))
    };
    html::page(
        StatusCode::OK,
        "Samordnade ärenden",
        Some(&user.viewer),
        "samordnade",
        m,
    )
}

pub async fn create_bundle(State(state): State<AppState>, form: WebForm) -> Response {
    let user = &form.user;
    let input = NewBundle {
        org_number: form.get("org_number"),
        title: form.get("title"),
        coordinator: form.get("coordinator"),
    };
    match state.companies.create_bundle(&user.actor, input).await {
        Ok(b) => see_other(&format!("/samordnade/{}", b.id)),
        Err(ServiceError::Validation(errors)) => {
            let list = state
                .companies
                .bundles(&user.actor, None)
                .await
                .unwrap_or_default();
            let m = html! {
                h1 { "Samordnade ärenden" }
                (bundle_list(&list))
                (bundle_form(
                    user,
                    &form.raw("org_number"),
                    &errors,
                    &form.raw("title"),
                    &form.raw("coordinator"),
                ))
            };
            html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Samordnade ärenden",
                Some(&user.viewer),
                "samordnade",
                m,
            )
        }
        Err(e) => service_error_page(e, &user.viewer),
    }
}

pub async fn bundle(State(state): State<AppState>, user: WebUser, WebId(id): WebId) -> Response {
    bundle_page(&state, &user, id, &[], StatusCode::OK).await
}

async fn bundle_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let b = match state.companies.bundle(&user.actor, id).await {
        Ok(b) => b,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    // Cases of the company the user may open and that are not in the bundle yet.
    let company = state
        .companies
        .company(&user.actor, &b.org_number)
        .await
        .ok();
    let in_bundle: Vec<&str> = b
        .cases
        .iter()
        .map(|c| match &c.case {
            CompanyCase::Full { case } => case.reference.as_str(),
            CompanyCase::Summary { summary } => summary.reference.as_str(),
        })
        .collect();
    let candidates: Vec<(String, String)> = company
        .map(|c| {
            c.cases
                .into_iter()
                .filter_map(|c| match c.case {
                    CompanyCase::Full { case } if !in_bundle.contains(&case.reference.as_str()) => {
                        Some((
                            case.id.to_string(),
                            format!("{} {}", case.reference, case.title),
                        ))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let m = html! {
        h1 { (b.title) }
        p { (b.company_name) " (" (b.org_number) ") – företagslots " strong { (b.coordinator_name) } }
        (bundle_cases(&b))
        @if !errors.is_empty() {
            div class="errors" role="alert" id="bc-error" {
                p {
                    @for (i, e) in errors.iter().enumerate() {
                        @if i > 0 { " " }
                        (message_sv(&e.message))
                    }
                }
            }
        }
        @if !candidates.is_empty() {
            form method="post" action=(format!("/samordnade/{id}/arenden")) class="panel" {
                h2 { "Lägg till ärende" }
                (user.viewer.csrf_field())
                label for="bc-case" { "Ärende" }
                select id="bc-case" name="case_id"
                    aria-describedby=[(!errors.is_empty()).then_some("bc-error")]
                    aria-invalid=[(!errors.is_empty()).then_some("true")] {
                    @for (id, label) in &candidates { option value=(id) { (label) } }
                }
                button type="submit" { "Lägg till" }
            }
        }
    };
    html::page(status, &b.title, Some(&user.viewer), "samordnade", m)
}

/// The bundle's cases side by side, with their open handoffs.
fn bundle_cases(b: &BundleView) -> Markup {
    let columns = [
        "Diarienummer",
        "Myndighetsområde",
        "Förvaltning",
        "Status",
        "Öppna överlämningar",
    ];
    html! {
        table {
            caption { "Ärendena sida vid sida" }
            (html::head_row(&columns))
            tbody {
                @for bc in &b.cases {
                    @let handoffs = html! {
                        @if bc.open_handoffs.is_empty() { "–" }
                        @for (i, h) in bc.open_handoffs.iter().enumerate() {
                            @if i > 0 { br; }
                            (handoff_kind_sv(h.kind)) " " (h.from_department) " → " (h.to_department)
                            " (" (handoff_status_sv(h.status)) ")"
                        }
                    };
                    @match &bc.case {
                        CompanyCase::Full { case } => tr {
                            td { a href=(format!("/arenden/{}", case.id)) { (case.reference) } }
                            td { (case.area.label_sv()) }
                            td { (case.department) }
                            td { (status_sv(case.status)) }
                            td { (handoffs) }
                        },
                        CompanyCase::Summary { summary } => tr {
                            td { (summary.reference) }
                            td { (summary.area.label_sv()) }
                            td { (summary.department) }
                            td { (status_sv(summary.status)) }
                            td { (handoffs) }
                        },
                    }
                }
            }
        }
    }
}

pub async fn add_to_bundle(
    State(state): State<AppState>,
    WebId(id): WebId,
    form: WebForm,
) -> Response {
    let case_id = form.get("case_id").and_then(|v| v.parse::<i64>().ok());
    let Some(case_id) = case_id else {
        let errors = [FieldError {
            field: "case_id".into(),
            message: "Välj ett ärende".into(),
        }];
        return bundle_page(
            &state,
            &form.user,
            id,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let r = state
        .companies
        .add_to_bundle(
            &form.user.actor,
            id,
            BundleCaseInput {
                case_id: Some(case_id),
            },
        )
        .await;
    match r {
        Ok(_) => see_other(&format!("/samordnade/{id}")),
        Err(ServiceError::Validation(errors)) => {
            bundle_page(
                &state,
                &form.user,
                id,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::Conflict(_)) => {
            let errors = [FieldError {
                field: "case_id".into(),
                message: "Ärendet finns redan i ett samordnat ärende".into(),
            }];
            bundle_page(&state, &form.user, id, &errors, StatusCode::CONFLICT).await
        }
        Err(e) => service_error_page(e, &form.user.viewer),
    }
}
