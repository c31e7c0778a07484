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
        Decision::WrittenOff => "Avskrivet",
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
        Ok(view) => {
            let form = MessageForm {
                base: format!("/mina-arenden/{id}"),
                csrf: Some(live.csrf.clone()),
            };
            case_page(&view, Some("/mina-arenden"), &form)
        }
        Err(ServiceError::NotFound(_)) => not_found(),
        Err(e) => failed(&e),
    }
}

/// `GET /folj/{token}`: the case a follow link opens.
pub async fn follow(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.cases.followed_case(&token).await {
        Ok(view) => {
            let form = MessageForm {
                base: format!("/folj/{token}"),
                csrf: None,
            };
            case_page(&view, None, &form)
        }
        Err(ServiceError::NotFound(_)) => not_found(),
        Err(e) => failed(&e),
    }
}

/// Where the page's forms post (the page's own address), and their CSRF token (a signed-in
/// representative's).
struct MessageForm {
    base: String,
    csrf: Option<String>,
}

fn case_page(v: &CompanyCaseView, back: Option<&str>, form: &MessageForm) -> Response {
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
                @if s.status.is_open() {
                    dt { "Beslut senast enligt lag" }
                    dd { @if let Some(d) = s.statutory_deadline { (date_html(d)) } @else { "Ingen lagstadgad tidsfrist" } }
                }
            }
            h2 { "Vad väntar vi på från er?" }
            p { (v.expected_of_you) }
            @if v.confidential {
                p { "Ärendet omfattas av sekretess. Här visas bara status och datum; kontakta kommunen för mer." }
            }
            @if let Some(d) = &v.description { @if !d.is_empty() { h2 { "Beskrivning" } p { (d) } } }
            (supplements(v, form))
            (decision(v))
            @if !v.notes.is_empty() {
                h2 { "Meddelanden från kommunen" }
                ul { @for n in &v.notes { li { (time_html(n.created_at)) ": " (n.text) } } }
            }
            (messages(v, form))
            @if !v.documents.is_empty() {
                h2 { "Handlingar ni har skickat in" }
                ul { @for d in &v.documents { li { (d.name) " (" (html::num(d.size as f64 / 1024.0, 0)) " kB)" } } }
            }
        },
    )
}

fn supplements(v: &CompanyCaseView, form: &MessageForm) -> Markup {
    let waiting = v.summary.status == lots_core::CaseStatus::AwaitingSupplement;
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
            @for r in v.supplement_requests.iter().filter(|r| waiting && r.received_at.is_none()) {
                form method="post" enctype="multipart/form-data" action=(format!("{}/kompletteringar/{}", form.base, r.id)) {
                    @if let Some(c) = &form.csrf { (html::csrf_input(c)) }
                    label for=(format!("supplement-{}", r.id)) { "Svara på begäran om komplettering" }
                    span class="hint" id=(format!("supplement-{}-hint", r.id)) {
                        "Skriv det som efterfrågas, och bifoga handlingarna (PDF, bilder, ritningar; högst tio)."
                    }
                    textarea id=(format!("supplement-{}", r.id)) name="text" rows="5" maxlength="10000" required
                        aria-describedby=(format!("supplement-{}-hint", r.id)) {}
                    label for=(format!("supplement-{}-files", r.id)) { "Handlingar" }
                    input type="file" id=(format!("supplement-{}-files", r.id)) name="file" multiple;
                    p { button type="submit" { "Skicka kompletteringen" } }
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

fn messages(v: &CompanyCaseView, form: &MessageForm) -> Markup {
    use lots_cases::messages::Direction;
    html! {
        h2 { "Meddelanden" }
        @if v.messages.is_empty() {
            p { "Inga meddelanden ännu." }
        } @else {
            ul class="messages" {
                @for m in &v.messages {
                    li {
                        strong { @match m.direction { Direction::ToCompany => "Från kommunen", Direction::FromCompany => "Från er" } }
                        " " (time_html(m.created_at)) ": " (m.text)
                    }
                }
            }
        }
        form method="post" action=(format!("{}/meddelanden", form.base)) {
            @if let Some(c) = &form.csrf { (html::csrf_input(c)) }
            label for="message-text" { "Skriv till handläggaren" }
            textarea id="message-text" name="text" rows="4" maxlength="10000" required {}
            p { button type="submit" { "Skicka meddelande" } }
        }
    }
}

/// Counts one thing sent from the company's side; the page that says to wait when over.
fn slowed(state: &AppState, key: &str, back: &str) -> Option<Response> {
    let wait = state.company_posts.hit(key).err()?;
    let mut r = html::page(
        StatusCode::TOO_MANY_REQUESTS,
        "Vänta en stund",
        None,
        "",
        html! {
            h1 { "Vänta en stund" }
            p {
                "Det har skickats många meddelanden och svar i det här ärendet på kort tid. Försök igen om "
                (wait.div_ceil(60)) " minuter. Inget har skickats."
            }
            p { a href=(back) { "Tillbaka till ärendet" } }
        },
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    Some(r)
}

fn message_refused(back: &str) -> Response {
    html::page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Meddelandet skickades inte",
        None,
        "",
        html! {
            h1 { "Meddelandet skickades inte" }
            p { "Skriv något i meddelandet (högst 10 000 tecken) och försök igen." }
            p { a href=(back) { "Tillbaka till ärendet" } }
        },
    )
}

fn sent(back: &str) -> Response {
    crate::web::see_other(&format!("{back}#message-text"))
}

async fn posted_text(
    req: axum::extract::Request,
    state: &AppState,
) -> Result<(Option<String>, Option<String>), Response> {
    let fields = crate::web::read_form(req, state).await?;
    Ok((
        fields
            .get("text")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        fields.get("csrf").cloned(),
    ))
}

/// `POST /mina-arenden/{id}/meddelanden`: a signed-in representative writes to the department.
pub async fn one_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Response {
    let live = representative(req.headers(), &state).await;
    let (text, csrf) = match posted_text(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(live) = live else {
        return crate::web::see_other("/mina-arenden");
    };
    if !crate::web::csrf_matches(csrf.as_deref(), &live.csrf) {
        return html::message(
            StatusCode::FORBIDDEN,
            "Formuläret har gått ut",
            "Ladda om sidan och försök igen. Inget har skickats.",
            None,
        );
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let back = format!("/mina-arenden/{id}");
    let case = match state.cases.represented(&live.representative, id).await {
        Ok((case, _)) => case,
        Err(ServiceError::NotFound(_)) => return not_found(),
        Err(e) => return failed(&e),
    };
    if let Some(r) = slowed(&state, &crate::routes::public::person_key(&live), &back) {
        return r;
    }
    let sender = crate::routes::public::sender_of(&live);
    let input = lots_cases::messages::NewMessage { text };
    match state.cases.receive_message(&case, &sender, input).await {
        Ok(_) => sent(&back),
        Err(ServiceError::Validation(_)) => message_refused(&back),
        Err(e) => failed(&e),
    }
}

/// `POST /folj/{token}/meddelanden`: whoever holds the follow link writes to the department.
pub async fn follow_message(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: axum::extract::Request,
) -> Response {
    let (text, _) = match posted_text(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let case = match state.cases.followed(&token).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return not_found(),
        Err(e) => return failed(&e),
    };
    let back = format!("/folj/{token}");
    if let Some(r) = slowed(&state, &crate::routes::public::link_key(&token), &back) {
        return r;
    }
    let input = lots_cases::messages::NewMessage { text };
    match state
        .cases
        .receive_message(&case, crate::routes::public::FOLLOW_LINK_SENDER, input)
        .await
    {
        Ok(_) => sent(&back),
        Err(ServiceError::Validation(_)) => message_refused(&back),
        Err(e) => failed(&e),
    }
}

/// `POST /mina-arenden/{id}/kompletteringar/{rid}`: a signed-in representative answers a
/// supplement request, with documents.
pub async fn one_supplement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Some(live) = representative(&headers, &state).await else {
        return crate::web::see_other("/mina-arenden");
    };
    let (Ok(id), Ok(rid)) = (id.parse::<i64>(), rid.parse::<i64>()) else {
        return not_found();
    };
    let back = format!("/mina-arenden/{id}");
    if let Some(r) = slowed(&state, &crate::routes::public::person_key(&live), &back) {
        return r;
    }
    let sent = match crate::routes::public::read_answer(&state, multipart).await {
        Ok(a) => a,
        Err(e) => return refused_answer(&e, &back),
    };
    if !crate::web::csrf_matches(sent.csrf.as_deref(), &live.csrf) {
        return html::message(
            StatusCode::FORBIDDEN,
            "Formuläret har gått ut",
            "Ladda om sidan och försök igen. Inget har skickats.",
            None,
        );
    }
    let case = match state.cases.represented(&live.representative, id).await {
        Ok((case, _)) => case,
        Err(ServiceError::NotFound(_)) => return not_found(),
        Err(e) => return failed(&e),
    };
    let sender = crate::routes::public::sender_of(&live);
    let r = state
        .attachments
        .answer_supplement(case.id, rid, &sender, sent.text.as_deref(), sent.documents)
        .await;
    answered(r, &back)
}

/// `POST /folj/{token}/kompletteringar/{rid}`: whoever holds the follow link answers.
pub async fn follow_supplement(
    State(state): State<AppState>,
    Path((token, rid)): Path<(String, String)>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(rid) = rid.parse::<i64>() else {
        return not_found();
    };
    let case = match state.cases.followed(&token).await {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return not_found(),
        Err(e) => return failed(&e),
    };
    let back = format!("/folj/{token}");
    if let Some(r) = slowed(&state, &crate::routes::public::link_key(&token), &back) {
        return r;
    }
    let sent = match crate::routes::public::read_answer(&state, multipart).await {
        Ok(a) => a,
        Err(e) => return refused_answer(&e, &back),
    };
    let r = state
        .attachments
        .answer_supplement(
            case.id,
            rid,
            crate::routes::public::FOLLOW_LINK_SENDER,
            sent.text.as_deref(),
            sent.documents,
        )
        .await;
    answered(r, &back)
}

/// The page for an answer whose parts could not be taken (a document of the wrong kind, too
/// large, too many): what was wrong, in the problem's words; nothing was kept.
fn refused_answer(e: &crate::error::ApiError, back: &str) -> Response {
    html::page(
        e.status(),
        "Kompletteringen skickades inte",
        None,
        "",
        html! {
            h1 { "Kompletteringen skickades inte" }
            p { "Något i det ni skickade gick inte att ta emot, så ingenting är skickat: " (html::message_sv(e.detail())) }
            p { "Tillåtna handlingar är PDF, PNG, JPEG, GIF, TIFF, ZIP, DOCX, XLSX, ODT, DWG och text, högst tio stycken." }
            p { a href=(back) { "Tillbaka till ärendet" } }
        },
    )
}

fn answered<T>(r: Result<T, lots_cases::attachments::UploadError>, back: &str) -> Response {
    use lots_cases::attachments::UploadError;
    let r = match r {
        Ok(v) => Ok(v),
        Err(UploadError::Service(e)) => Err(e),
        Err(e) => Err(ServiceError::Validation(vec![lots_cases::FieldError {
            field: "file".into(),
            message: e.to_string(),
        }])),
    };
    match r {
        Ok(_) => crate::web::see_other(back),
        Err(ServiceError::Validation(_)) => html::page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Kompletteringen skickades inte",
            None,
            "",
            html! {
                h1 { "Kompletteringen skickades inte" }
                p { "Skriv det som efterfrågas (högst 10 000 tecken) och försök igen." }
                p { a href=(back) { "Tillbaka till ärendet" } }
            },
        ),
        Err(ServiceError::Conflict(_)) => html::page(
            StatusCode::CONFLICT,
            "Kompletteringen är redan inkommen",
            None,
            "",
            html! {
                h1 { "Kompletteringen är redan inkommen" }
                p { "Ärendet väntar inte längre på den här kompletteringen. Skriv ett meddelande om ni vill lägga till något." }
                p { a href=(back) { "Tillbaka till ärendet" } }
            },
        ),
        Err(ServiceError::NotFound(_)) => not_found(),
        Err(e) => failed(&e),
    }
}
