//! Work across departments: the department's handoff inbox, the company view and bundles
//! (samordnade ärenden).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lots_cases::companies::CompanyCase;
use lots_cases::{BundleCaseInput, BundleView, CompanyView, FieldError, NewBundle, ServiceError};
use lots_handoff::{HandoffFilter, HandoffReply, HandoffView};

use super::cases::deadline_badge;
use super::html::{
    self, error_summary, esc, field_error, handoff_kind_sv, handoff_status_sv, message_sv,
    status_sv, time_html,
};
use super::{WebForm, WebId, WebUser, see_other, service_error_page};
use crate::state::AppState;

#[derive(Debug, Default, serde::Deserialize)]
pub struct InboxQuery {
    klart: Option<String>,
}

fn handoff_rows(items: &[HandoffView], csrf: &str, incoming: bool) -> String {
    let mut s = String::from(
        "<thead><tr><th scope=\"col\">Ärende</th><th scope=\"col\">Slag</th><th scope=\"col\">Från → till</th><th scope=\"col\">Status</th><th scope=\"col\">Begärd</th><th scope=\"col\">Svar senast</th><th scope=\"col\">Meddelande</th><th scope=\"col\">Åtgärd</th></tr></thead><tbody>",
    );
    for h in items {
        let mut actions = String::new();
        let id = h.id;
        if incoming && h.status == "requested" {
            actions.push_str(&format!(
                "<form method=\"post\" action=\"/overlamningar/{id}/acceptera\">{csrf}<button type=\"submit\">Acceptera</button></form>\
<form method=\"post\" action=\"/overlamningar/{id}/avboj\">{csrf}<label for=\"decline-{id}\">Skäl att avböja</label><input type=\"text\" id=\"decline-{id}\" name=\"reason\"><button type=\"submit\" class=\"secondary\">Avböj</button></form>"
            ));
        }
        if incoming && h.status == "accepted" {
            actions.push_str(&format!(
                "<form method=\"post\" action=\"/overlamningar/{id}/slutfor\">{csrf}<label for=\"response-{id}\">Svar{}</label><textarea id=\"response-{id}\" name=\"response\" rows=\"2\"></textarea><button type=\"submit\">Slutför</button></form>",
                if h.kind == "consultation" { " (krävs för remiss)" } else { "" }
            ));
        }
        if !incoming && h.status == "requested" {
            actions.push_str(&format!(
                "<form method=\"post\" action=\"/overlamningar/{id}/aterkalla\">{csrf}<button type=\"submit\" class=\"secondary\">Återkalla</button></form>"
            ));
        }
        s.push_str(&format!(
            "<tr><td><a href=\"/arenden/{}\">{}</a><br>{}</td><td>{}</td><td>{} → {}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h.case.id,
            esc(&h.case.reference),
            esc(&h.case.title),
            handoff_kind_sv(&h.kind),
            esc(&h.from_department),
            esc(&h.to_department),
            handoff_status_sv(&h.status),
            if h.overdue { " <span class=\"badge overdue\">Försenad</span>" } else { "" },
            time_html(h.requested_at),
            h.due_date.map_or_else(|| "–".into(), html::date_html),
            esc(&h.message),
            if actions.is_empty() { "–".into() } else { actions },
        ));
    }
    s.push_str("</tbody>");
    s
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
    let mut m = String::from("<h1>Överlämningar</h1>");
    if let Some(text) = done.and_then(|d| match d {
        "acceptera" => Some("Överlämningen är accepterad."),
        "avboj" => Some("Överlämningen är avböjd."),
        "slutfor" => Some("Överlämningen är slutförd."),
        "aterkalla" => Some("Överlämningen är återkallad."),
        _ => None,
    }) {
        m.push_str(&format!(
            "<div class=\"ok\" role=\"status\"><p>{text}</p></div>"
        ));
    }
    if !errors.is_empty() {
        m.push_str(&format!(
            "<div class=\"errors\" role=\"alert\"><h2>Det gick inte</h2><ul>{}</ul><p>Inget har ändrats.</p></div>",
            errors
                .iter()
                .map(|e| format!("<li>{}</li>", esc(&message_sv(&e.message))))
                .collect::<String>()
        ));
    }
    m.push_str(&format!(
        "<h2 id=\"in-h\">Till {} ({})</h2>",
        esc(dep.as_deref().unwrap_or("alla förvaltningar")),
        html::int(incoming.len())
    ));
    if incoming.is_empty() {
        m.push_str("<p>Inga öppna överlämningar till er.</p>");
    } else {
        m.push_str(&format!(
            "<table aria-labelledby=\"in-h\">{}</table>",
            handoff_rows(&incoming, &csrf, true)
        ));
    }
    if dep.is_some() {
        m.push_str(&format!(
            "<h2 id=\"out-h\">Från er ({})</h2>",
            html::int(outgoing.len())
        ));
        if outgoing.is_empty() {
            m.push_str("<p>Inga öppna överlämningar från er.</p>");
        } else {
            m.push_str(&format!(
                "<table aria-labelledby=\"out-h\">{}</table>",
                handoff_rows(&outgoing, &csrf, false)
            ));
        }
    }
    html::page(
        status,
        "Överlämningar",
        Some(&user.viewer),
        "overlamningar",
        &m,
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

fn company_cases(view: &CompanyView) -> String {
    let mut s = String::from(
        "<table><caption>Företagets ärenden i alla förvaltningar</caption><thead><tr><th scope=\"col\">Diarienummer</th><th scope=\"col\">Myndighetsområde</th><th scope=\"col\">Förvaltning</th><th scope=\"col\">Status</th><th scope=\"col\">Inkom</th><th scope=\"col\">Frist</th></tr></thead><tbody>",
    );
    for c in &view.cases {
        match &c.case {
            CompanyCase::Full { case } => s.push_str(&format!(
                "<tr><td><a href=\"/arenden/{}\">{}</a><br>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                case.id,
                esc(&case.reference),
                esc(&case.title),
                case.area.label_sv(),
                esc(&case.department),
                status_sv(case.status),
                time_html(case.received_at),
                deadline_badge(case.deadline.as_ref(), case.status)
            )),
            CompanyCase::Summary { summary } => s.push_str(&format!(
                "<tr><td>{}<br><span class=\"hint\">Annan förvaltnings ärende (sammanfattning)</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>–</td></tr>",
                esc(&summary.reference),
                summary.area.label_sv(),
                esc(&summary.department),
                status_sv(summary.status),
                time_html(summary.received_at),
            )),
        }
    }
    s.push_str("</tbody></table>");
    s
}

/// The company view: every case of one company across departments.
pub async fn company(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<CompanyQuery>,
) -> Response {
    let org = q.org.clone().unwrap_or_default();
    let mut m = String::from("<h1>Företag</h1>");
    let mut status = StatusCode::OK;
    let mut result = None;
    let mut errors = Vec::new();
    if !org.trim().is_empty() {
        match state.cases.company(&user.actor, org.trim()).await {
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
    let (e, a) = field_error(&errors, "c-", "org");
    m.push_str(&format!(
        "<form method=\"get\" action=\"/foretag\" role=\"search\" aria-label=\"Sök företag\" class=\"filters\"><div><label for=\"c-org\">Organisationsnummer</label><input type=\"text\" id=\"c-org\" name=\"org\" value=\"{}\"{a}>{e}</div><div><button type=\"submit\">Visa företaget</button></div></form>",
        esc(&org)
    ));
    if let Some(v) = result {
        m.push_str(&format!(
            "<h2>{} <span class=\"hint\">{}</span></h2>",
            esc(&v.name),
            esc(&v.org_number)
        ));
        m.push_str(&company_cases(&v));
        let bundles = state
            .cases
            .bundles(&user.actor, Some(v.org_number.as_str()))
            .await
            .unwrap_or_default();
        m.push_str("<h2>Samordnade ärenden</h2>");
        if bundles.is_empty() {
            m.push_str("<p>Företaget har inget samordnat ärende.</p>");
        } else {
            m.push_str("<ul>");
            for b in &bundles {
                m.push_str(&format!(
                    "<li><a href=\"/samordnade/{}\">{}</a> – företagslots {}</li>",
                    b.id,
                    esc(&b.title),
                    esc(&b.coordinator_name)
                ));
            }
            m.push_str("</ul>");
        }
        m.push_str(&bundle_form(&user, &v.org_number, &[], "", ""));
    }
    html::page(status, "Företag", Some(&user.viewer), "foretag", &m)
}

fn bundle_form(
    user: &WebUser,
    org: &str,
    errors: &[FieldError],
    title: &str,
    coordinator: &str,
) -> String {
    let label = |f: &str| {
        match f {
            "title" => "Rubrik",
            "coordinator" => "Företagslots",
            "org_number" => "Organisationsnummer",
            o => o,
        }
        .to_string()
    };
    let (te, ta) = field_error(errors, "b-", "title");
    let (ce, ca) = field_error(errors, "b-", "coordinator");
    let (oe, oa) = field_error(errors, "b-", "org_number");
    format!(
        "<form method=\"post\" action=\"/samordnade\" class=\"panel\"><h2>Skapa samordnat ärende</h2>{}{}\
<label for=\"b-org_number\">Organisationsnummer</label><input type=\"text\" id=\"b-org_number\" name=\"org_number\" value=\"{}\"{oa}>{oe}\
<label for=\"b-title\">Rubrik</label><input type=\"text\" id=\"b-title\" name=\"title\" value=\"{}\"{ta}>{te}\
<label for=\"b-coordinator\">Företagslots (användarnamn)</label><input type=\"text\" id=\"b-coordinator\" name=\"coordinator\" value=\"{}\"{ca}>{ce}\
<button type=\"submit\">Skapa</button></form>",
        error_summary(errors, "b-", label),
        user.viewer.csrf_field(),
        esc(org),
        esc(title),
        esc(if coordinator.is_empty() {
            user.viewer.username.as_str()
        } else {
            coordinator
        }),
    )
}

fn bundle_list(bundles: &[BundleView]) -> String {
    if bundles.is_empty() {
        return "<p>Inga samordnade ärenden ännu.</p>".into();
    }
    let mut s = String::from(
        "<table><caption>Samordnade ärenden</caption><thead><tr><th scope=\"col\">Rubrik</th><th scope=\"col\">Företag</th><th scope=\"col\">Företagslots</th><th scope=\"col\" class=\"n\">Ärenden</th><th scope=\"col\">Skapat</th></tr></thead><tbody>",
    );
    for b in bundles {
        s.push_str(&format!(
            "<tr><td><a href=\"/samordnade/{}\">{}</a></td><td>{} ({})</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            b.id,
            esc(&b.title),
            esc(&b.company_name),
            esc(&b.org_number),
            esc(&b.coordinator_name),
            html::int(b.cases.len()),
            time_html(b.created_at)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

pub async fn bundles(State(state): State<AppState>, user: WebUser) -> Response {
    let list = match state.cases.bundles(&user.actor, None).await {
        Ok(l) => l,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let mut m = String::from(
        "<h1>Samordnade ärenden</h1><p>Ett företags ärenden i flera förvaltningar, med en företagslots som håller ihop dem.</p>",
    );
    m.push_str(&bundle_list(&list));
    m.push_str(&bundle_form(&user, "", &[], "", ""));
    html::page(
        StatusCode::OK,
        "Samordnade ärenden",
        Some(&user.viewer),
        "samordnade",
        &m,
    )
}

pub async fn create_bundle(State(state): State<AppState>, form: WebForm) -> Response {
    let user = &form.user;
    let input = NewBundle {
        org_number: form.get("org_number"),
        title: form.get("title"),
        coordinator: form.get("coordinator"),
    };
    match state.cases.create_bundle(&user.actor, input).await {
        Ok(b) => see_other(&format!("/samordnade/{}", b.id)),
        Err(ServiceError::Validation(errors)) => {
            let list = state
                .cases
                .bundles(&user.actor, None)
                .await
                .unwrap_or_default();
            let mut m = String::from("<h1>Samordnade ärenden</h1>");
            m.push_str(&bundle_list(&list));
            m.push_str(&bundle_form(
                user,
                &form.raw("org_number"),
                &errors,
                &form.raw("title"),
                &form.raw("coordinator"),
            ));
            html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Samordnade ärenden",
                Some(&user.viewer),
                "samordnade",
                &m,
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
    let b = match state.cases.bundle(&user.actor, id).await {
        Ok(b) => b,
        Err(e) => return service_error_page(e, &user.viewer),
    };
    let mut m = format!(
        "<h1>{}</h1><p>{} ({}) – företagslots <strong>{}</strong></p>",
        esc(&b.title),
        esc(&b.company_name),
        esc(&b.org_number),
        esc(&b.coordinator_name)
    );
    m.push_str("<table><caption>Ärendena sida vid sida</caption><thead><tr><th scope=\"col\">Diarienummer</th><th scope=\"col\">Myndighetsområde</th><th scope=\"col\">Förvaltning</th><th scope=\"col\">Status</th><th scope=\"col\">Öppna överlämningar</th></tr></thead><tbody>");
    for bc in &b.cases {
        let handoffs = if bc.open_handoffs.is_empty() {
            "–".to_string()
        } else {
            bc.open_handoffs
                .iter()
                .map(|h| {
                    format!(
                        "{} {} → {} ({})",
                        handoff_kind_sv(&h.kind),
                        esc(&h.from_department),
                        esc(&h.to_department),
                        handoff_status_sv(&h.status)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>")
        };
        match &bc.case {
            CompanyCase::Full { case } => m.push_str(&format!(
                "<tr><td><a href=\"/arenden/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{handoffs}</td></tr>",
                case.id,
                esc(&case.reference),
                case.area.label_sv(),
                esc(&case.department),
                status_sv(case.status)
            )),
            CompanyCase::Summary { summary } => m.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{handoffs}</td></tr>",
                esc(&summary.reference),
                summary.area.label_sv(),
                esc(&summary.department),
                status_sv(summary.status)
            )),
        }
    }
    m.push_str("</tbody></table>");
    // Cases of the company the user may open and that are not in the bundle yet.
    let company = state.cases.company(&user.actor, &b.org_number).await.ok();
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
    if !errors.is_empty() {
        m.push_str(&format!(
            "<div class=\"errors\" role=\"alert\" id=\"bc-error\"><p>{}</p></div>",
            errors
                .iter()
                .map(|e| esc(&message_sv(&e.message)))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if !candidates.is_empty() {
        let mut opts = String::new();
        for (id, label) in &candidates {
            opts.push_str(&format!("<option value=\"{id}\">{}</option>", esc(label)));
        }
        m.push_str(&format!(
            "<form method=\"post\" action=\"/samordnade/{id}/arenden\" class=\"panel\"><h2>Lägg till ärende</h2>{}<label for=\"bc-case\">Ärende</label><select id=\"bc-case\" name=\"case_id\"{}>{opts}</select><button type=\"submit\">Lägg till</button></form>",
            user.viewer.csrf_field(),
            if errors.is_empty() { "" } else { " aria-describedby=\"bc-error\" aria-invalid=\"true\"" }
        ));
    }
    html::page(status, &b.title, Some(&user.viewer), "samordnade", &m)
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
        .cases
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
