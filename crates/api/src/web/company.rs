//! The company side's pages: a signed-in representative's cases (`/mina-arenden`), one of them
//! (`/mina-arenden/{id}`), and one case by its follow link (`/folj/{token}`). Swedish, plain
//! HTML; what is shown comes from `lots_cases::company_side`, decided by the access module.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use lots_cases::ServiceError;
use lots_cases::company_side::{CompanyCaseSummary, CompanyCaseView};
use lots_core::Decision;
use maud::{Markup, html};

use super::html::{self, date_html, time_html};
use crate::oidc::pages::representative;
use crate::state::AppState;

fn decision_sv(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "Beviljat",
        Decision::Rejected => "Avslag",
        Decision::Dismissed => "Avvisat",
        _ => "Beslut",
    }
}

fn not_found() -> Response {
    html::message(
        StatusCode::NOT_FOUND,
        "Ärendet hittades inte",
        "Det finns inget sådant ärende bland dina, eller så har länken återkallats. Kontakta kommunen om du behöver en ny.",
        None,
    )
}

fn failed(e: &ServiceError) -> Response {
    tracing::error!(error = %e, "company page error");
    html::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Något gick fel",
        "Något gick fel hos oss; felet är loggat. Försök igen om en stund.",
        None,
    )
}

fn title_of(s: &CompanyCaseSummary) -> String {
    s.title
        .clone()
        .unwrap_or_else(|| "Ärende med sekretess".to_string())
}

/// `GET /mina-arenden`: the representative's cases, or the way to sign in.
pub async fn mine(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(live) = representative(&headers, &state).await else {
        return crate::oidc::pages::company_login_page(&state);
    };
    let cases = match state.cases.representative_cases(&live.representative).await {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    let who = &live.representative;
    html::page(
        StatusCode::OK,
        "Mina ärenden",
        None,
        "",
        html! {
            h1 { "Mina ärenden" }
            p {
                "Inloggad med e-legitimation som "
                strong { (who.name.as_deref().unwrap_or("")) }
                " (" (who.personal_number.masked()) ")."
            }
            @if cases.is_empty() {
                p { "Du står inte som sökande, firmatecknare, ombud eller kontaktperson i något ärende hos kommunen." }
            } @else {
                table {
                    caption { "Ärenden där du företräder ett företag" }
                    (html::head_row(&["Diarienummer", "Ärende", "Status", "Inkom", "Beslut senast"]))
                    tbody {
                        @for c in &cases {
                            tr {
                                td { a href=(format!("/mina-arenden/{}", c.id)) { (c.reference) } }
                                td { (title_of(c)) }
                                td { (c.status_text) }
                                td { (time_html(c.received_at)) }
                                td { @if let Some(d) = c.statutory_deadline { (date_html(d)) } @else { "–" } }
                            }
                        }
                    }
                }
            }
            form method="post" action="/foretag/logga-ut" {
                (html::csrf_input(&live.csrf))
                button type="submit" { "Logga ut" }
            }
        },
    )
}

/// `GET /mina-arenden/{id}`: one of the representative's cases.
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(live) = representative(&headers, &state).await else {
        return crate::web::see_other("/mina-arenden");
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    match state
        .cases
        .representative_case(&live.representative, id)
        .await
    {
        Ok(view) => case_page(&view, Some("/mina-arenden")),
        Err(ServiceError::NotFound(_)) => not_found(),
        Err(e) => failed(&e),
    }
}

/// `GET /folj/{token}`: the case a follow link opens.
pub async fn follow(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.cases.followed_case(&token).await {
        Ok(view) => case_page(&view, None),
        Err(ServiceError::NotFound(_)) => not_found(),
        Err(e) => failed(&e),
    }
}

fn case_page(v: &CompanyCaseView, back: Option<&str>) -> Response {
    let s = &v.summary;
    html::page(
        StatusCode::OK,
        &format!("Ärende {}", s.reference),
        None,
        "",
        html! {
            @if let Some(back) = back { p { a href=(back) { "← Mina ärenden" } } }
            h1 { (title_of(s)) }
            dl {
                dt { "Diarienummer" } dd { (s.reference) }
                @if let Some(c) = &v.company { dt { "Företag" } dd { (c.name) " (" (c.org_number) ")" } }
                dt { "Status" } dd { (s.status_text) }
                dt { "Inkom" } dd { (time_html(s.received_at)) }
                dt { "Beslut senast enligt lag" }
                dd { @if let Some(d) = s.statutory_deadline { (date_html(d)) } @else { "Ingen lagstadgad tidsfrist" } }
            }
            h2 { "Vad väntar vi på från er?" }
            p { (v.expected_of_you) }
            @if v.confidential {
                p { "Ärendet omfattas av sekretess. Här visas bara status och datum; kontakta kommunen för mer." }
            }
            @if let Some(d) = &v.description { @if !d.is_empty() { h2 { "Beskrivning" } p { (d) } } }
            (supplements(v))
            (decision(v))
            @if !v.notes.is_empty() {
                h2 { "Meddelanden från kommunen" }
                ul { @for n in &v.notes { li { (time_html(n.created_at)) ": " (n.text) } } }
            }
            @if !v.documents.is_empty() {
                h2 { "Handlingar ni har skickat in" }
                ul { @for d in &v.documents { li { (d.name) " (" (html::num(d.size as f64 / 1024.0, 0)) " kB)" } } }
            }
        },
    )
}

fn supplements(v: &CompanyCaseView) -> Markup {
    html! {
        @if !v.supplement_requests.is_empty() {
            h2 { "Kompletteringar" }
            ul {
                @for r in &v.supplement_requests {
                    li {
                        "Begärd " (time_html(r.requested_at)) ": "
                        @if let Some(m) = &r.message { (m) } @else { "(sekretess)" }
                        @if let Some(at) = r.received_at { " – inkommen " (time_html(at)) } @else { " – väntar på er" }
                    }
                }
            }
        }
    }
}

fn decision(v: &CompanyCaseView) -> Markup {
    html! {
        @if let Some(d) = &v.decision {
            h2 { "Beslut" }
            p { strong { (decision_sv(d.outcome)) } @if let Some(at) = d.decided_at { " " (time_html(at)) } }
            @if let Some(t) = &d.text { p { (t) } }
            @if !d.legal_basis.is_empty() {
                p { "Med stöd av " (d.legal_basis.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join(", ")) "." }
            }
            @if let (Some(from), Some(to)) = (d.valid_from, d.valid_to) {
                p { "Gäller " (date_html(from)) " – " (date_html(to)) "." }
            }
        }
    }
}
