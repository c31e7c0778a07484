//! The company side's pages: a signed-in representative's cases (`/mina-arenden`), one of them
//! (`/mina-arenden/{id}`), and one case by its follow link (`/folj/{token}`). Plain HTML in
//! Swedish, or English (`?lang=en`, or the browser's `Accept-Language`; every link and form
//! keeps the language); what is shown comes from `lots_cases::company_side`, decided by the
//! access module.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use lots_cases::ServiceError;
use lots_cases::company_side::{CompanyCaseSummary, CompanyCaseView, status_text, status_text_en};
use lots_core::{CaseStatus, Decision};
use maud::{Markup, html};
use serde::Deserialize;

use super::html::{self, Lang, date_in, time_in};
use crate::extract::MultipartBody;
use crate::oidc::pages::representative;
use crate::state::AppState;

/// `?lang=` on a company page.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn lang_of(q: &LangQuery, headers: &HeaderMap) -> Lang {
    Lang::of(q.lang.as_deref(), headers)
}

/// Every text of the company pages, in one language.
struct T {
    my_cases: &'static str,
    signed_in_as: &'static str,
    no_cases: &'static str,
    cases_caption: &'static str,
    columns: [&'static str; 5],
    log_out: &'static str,
    back_to_mine: &'static str,
    case_word: &'static str,
    secret_title: &'static str,
    reference: &'static str,
    company: &'static str,
    status: &'static str,
    received: &'static str,
    deadline: &'static str,
    no_deadline: &'static str,
    expected: &'static str,
    confidential: &'static str,
    description: &'static str,
    supplements: &'static str,
    requested: &'static str,
    secret: &'static str,
    supplement_received: &'static str,
    waiting_for_you: &'static str,
    answer_label: &'static str,
    answer_hint: &'static str,
    documents_label: &'static str,
    send_supplement: &'static str,
    decision: &'static str,
    under: &'static str,
    valid: &'static str,
    notes: &'static str,
    messages: &'static str,
    no_messages: &'static str,
    from_municipality: &'static str,
    from_you: &'static str,
    write: &'static str,
    send_message: &'static str,
    documents: &'static str,
    not_found: (&'static str, &'static str),
    failed: (&'static str, &'static str),
    login: (&'static str, &'static str, &'static str),
}

const SV: T = T {
    my_cases: "Mina ärenden",
    signed_in_as: "Inloggad med e-legitimation som ",
    no_cases: "Du står inte som sökande, firmatecknare, ombud eller kontaktperson i något ärende hos kommunen.",
    cases_caption: "Ärenden där du företräder ett företag",
    columns: ["Diarienummer", "Ärende", "Status", "Inkom", "Beslut senast"],
    log_out: "Logga ut",
    back_to_mine: "← Mina ärenden",
    case_word: "Ärende",
    secret_title: "Ärende med sekretess",
    reference: "Diarienummer",
    company: "Företag",
    status: "Status",
    received: "Inkom",
    deadline: "Beslut senast enligt lag",
    no_deadline: "Ingen lagstadgad tidsfrist",
    expected: "Vad väntar vi på från er?",
    confidential: "Ärendet omfattas av sekretess. Här visas bara status och datum; kontakta kommunen för mer.",
    description: "Beskrivning",
    supplements: "Kompletteringar",
    requested: "Begärd ",
    secret: "(sekretess)",
    supplement_received: " – inkommen ",
    waiting_for_you: " – väntar på er",
    answer_label: "Svara på begäran om komplettering",
    answer_hint: "Skriv det som efterfrågas, och bifoga handlingarna (PDF, bilder, ritningar; högst tio).",
    documents_label: "Handlingar",
    send_supplement: "Skicka kompletteringen",
    decision: "Beslut",
    under: "Med stöd av ",
    valid: "Gäller ",
    notes: "Meddelanden från kommunen",
    messages: "Meddelanden",
    no_messages: "Inga meddelanden ännu.",
    from_municipality: "Från kommunen",
    from_you: "Från er",
    write: "Skriv till handläggaren",
    send_message: "Skicka meddelande",
    documents: "Handlingar ni har skickat in",
    not_found: (
        "Ärendet hittades inte",
        "Det finns inget sådant ärende bland dina, eller så har länken återkallats. Kontakta kommunen om du behöver en ny.",
    ),
    failed: (
        "Något gick fel",
        "Något gick fel hos oss; felet är loggat. Försök igen om en stund.",
    ),
    login: (
        "Logga in för företag",
        "Logga in med e-legitimation (BankID eller Freja eID+) för att följa ditt företags ärenden hos kommunen.",
        "Logga in med e-legitimation",
    ),
};

const EN: T = T {
    my_cases: "My cases",
    signed_in_as: "Signed in with e-identification as ",
    no_cases: "You are not the applicant, signatory, agent or contact person in any case with the municipality.",
    cases_caption: "Cases where you represent a business",
    columns: ["Reference", "Case", "Status", "Received", "Decision due"],
    log_out: "Log out",
    back_to_mine: "← My cases",
    case_word: "Case",
    secret_title: "Confidential case",
    reference: "Reference number",
    company: "Business",
    status: "Status",
    received: "Received",
    deadline: "Decision due by law",
    no_deadline: "No statutory time limit",
    expected: "What do we need from you?",
    confidential: "The case is confidential. Only its status and dates are shown here; contact the municipality for more.",
    description: "Description",
    supplements: "Supplements",
    requested: "Requested ",
    secret: "(confidential)",
    supplement_received: " – received ",
    waiting_for_you: " – waiting for you",
    answer_label: "Answer the request for a supplement",
    answer_hint: "Write what is asked for, and attach the documents (PDF, images, drawings; at most ten).",
    documents_label: "Documents",
    send_supplement: "Send the supplement",
    decision: "Decision",
    under: "Under ",
    valid: "Valid ",
    notes: "Notes from the municipality",
    messages: "Messages",
    no_messages: "No messages yet.",
    from_municipality: "From the municipality",
    from_you: "From you",
    write: "Write to the case officer",
    send_message: "Send message",
    documents: "Documents you have sent",
    not_found: (
        "Case not found",
        "There is no such case among yours, or the link has been revoked. Contact the municipality if you need a new one.",
    ),
    failed: (
        "Something went wrong",
        "Something went wrong on our side; it has been logged. Please try again in a while.",
    ),
    login: (
        "Sign in for businesses",
        "Sign in with e-identification (BankID or Freja eID+) to follow your business's cases with the municipality.",
        "Sign in with e-identification",
    ),
};

fn t(lang: Lang) -> &'static T {
    lang.pick(&SV, &EN)
}

fn decision_text(lang: Lang, d: Decision) -> &'static str {
    match (lang, d) {
        (Lang::Sv, Decision::Approved) => "Beviljat",
        (Lang::Sv, Decision::Rejected) => "Avslag",
        (Lang::Sv, Decision::Dismissed) => "Avvisat",
        (Lang::Sv, Decision::WrittenOff) => "Avskrivet",
        (Lang::En, Decision::Approved) => "Granted",
        (Lang::En, Decision::Rejected) => "Refused",
        (Lang::En, Decision::Dismissed) => "Dismissed",
        (Lang::En, Decision::WrittenOff) => "Written off",
    }
}

fn status_in(lang: Lang, s: CaseStatus) -> &'static str {
    match lang {
        Lang::Sv => status_text(s),
        Lang::En => status_text_en(s),
    }
}

fn plain(lang: Lang, status: StatusCode, texts: (&str, &str), path: &str) -> Response {
    html::plain_in(lang, status, texts, path, html! {})
}

fn not_found(lang: Lang, path: &str) -> Response {
    plain(lang, StatusCode::NOT_FOUND, t(lang).not_found, path)
}

fn failed(lang: Lang, e: &ServiceError, path: &str) -> Response {
    tracing::error!(error = %e, "company page error");
    plain(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        t(lang).failed,
        path,
    )
}

/// The page for what a service answered instead: not found (or not theirs), else failed.
fn error_page(lang: Lang, e: &ServiceError, path: &str) -> Response {
    match e {
        ServiceError::NotFound(_) => not_found(lang, path),
        e => failed(lang, e, path),
    }
}

fn title_of(lang: Lang, s: &CompanyCaseSummary) -> String {
    s.title
        .clone()
        .unwrap_or_else(|| t(lang).secret_title.to_string())
}

/// The page that offers the companies' sign-in (404 without a companies' provider).
pub fn login_page(state: &AppState, lang: Lang) -> Response {
    if state.oidc.companies.is_none() {
        return crate::oidc::pages::not_configured();
    }
    let (title, text, button) = t(lang).login;
    html::page_in(
        lang,
        StatusCode::OK,
        title,
        &lang.other("/mina-arenden"),
        html! {
            h1 { (title) }
            p { (text) }
            p { a class="button" href="/foretag/logga-in" { (button) } }
        },
    )
}

/// `GET /mina-arenden`: the representative's cases, or the way to sign in.
pub async fn mine(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&q, &headers);
    let Some(live) = representative(&headers, &state).await else {
        return login_page(&state, lang);
    };
    let cases = match state
        .company_side
        .representative_cases(&live.representative)
        .await
    {
        Ok(c) => c,
        Err(e) => return failed(lang, &e, "/mina-arenden"),
    };
    let who = &live.representative;
    let tx = t(lang);
    html::page_in(
        lang,
        StatusCode::OK,
        tx.my_cases,
        &lang.other("/mina-arenden"),
        html! {
            h1 { (tx.my_cases) }
            p {
                (tx.signed_in_as)
                strong { (who.name.as_deref().unwrap_or("")) }
                " (" (who.personal_number.masked()) ")."
            }
            @if cases.is_empty() {
                p { (tx.no_cases) }
            } @else {
                table {
                    caption { (tx.cases_caption) }
                    (html::head_row(&tx.columns))
                    tbody {
                        @for c in &cases {
                            tr {
                                td { a href=(lang.keep(&format!("/mina-arenden/{}", c.id))) { (c.reference) } }
                                td { (title_of(lang, c)) }
                                td { (status_in(lang, c.status)) }
                                td { (time_in(lang, c.received_at)) }
                                td { @if let (true, Some(d)) = (c.status.is_open(), c.statutory_deadline) { (date_in(lang, d)) } @else { "–" } }
                            }
                        }
                    }
                }
            }
            form method="post" action="/foretag/logga-ut" {
                (html::csrf_input(&live.csrf))
                button type="submit" { (tx.log_out) }
            }
        },
    )
}

/// `GET /mina-arenden/{id}`: one of the representative's cases.
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&q, &headers);
    let path = format!("/mina-arenden/{id}");
    let Some(live) = representative(&headers, &state).await else {
        return crate::web::see_other(&lang.keep("/mina-arenden"));
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found(lang, &path);
    };
    match state
        .company_side
        .representative_case(&live.representative, id)
        .await
    {
        Ok(view) => {
            let form = MessageForm {
                base: path.clone(),
                csrf: Some(live.csrf.clone()),
                lang,
            };
            case_page(&view, Some("/mina-arenden"), &form)
        }
        Err(e) => error_page(lang, &e, &path),
    }
}

/// `GET /folj/{token}`: the case a follow link opens.
pub async fn follow(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(&q, &headers);
    let path = format!("/folj/{token}");
    match state.company_side.followed_case(&token).await {
        Ok(view) => {
            let form = MessageForm {
                base: path,
                csrf: None,
                lang,
            };
            case_page(&view, None, &form)
        }
        Err(e) => error_page(lang, &e, &path),
    }
}

/// Where the page's forms post (the page's own address), their CSRF token (a signed-in
/// representative's), and the page's language.
struct MessageForm {
    base: String,
    csrf: Option<String>,
    lang: Lang,
}

fn case_page(v: &CompanyCaseView, back: Option<&str>, form: &MessageForm) -> Response {
    let s = &v.summary;
    let lang = form.lang;
    let tx = t(lang);
    html::page_in(
        lang,
        StatusCode::OK,
        &format!("{} {}", tx.case_word, s.reference),
        &lang.other(&form.base),
        html! {
            @if let Some(back) = back { p { a href=(lang.keep(back)) { (tx.back_to_mine) } } }
            h1 { (title_of(lang, s)) }
            dl {
                dt { (tx.reference) } dd { (s.reference) }
                @if let Some(c) = &v.company { dt { (tx.company) } dd { (c.name) " (" (c.org_number) ")" } }
                dt { (tx.status) } dd { (status_in(lang, s.status)) }
                dt { (tx.received) } dd { (time_in(lang, s.received_at)) }
                @if s.status.is_open() {
                    dt { (tx.deadline) }
                    dd { @if let Some(d) = s.statutory_deadline { (date_in(lang, d)) } @else { (tx.no_deadline) } }
                }
            }
            h2 { (tx.expected) }
            p { (match lang { Lang::Sv => v.expected.sv(), Lang::En => v.expected.en() }) }
            @if v.confidential { p { (tx.confidential) } }
            @if let Some(d) = &v.description { @if !d.is_empty() { h2 { (tx.description) } p { (d) } } }
            (supplements(v, form))
            (decision(v, lang))
            @if !v.notes.is_empty() {
                h2 { (tx.notes) }
                ul { @for n in &v.notes { li { (time_in(lang, n.created_at)) ": " (n.text) } } }
            }
            (messages(v, form))
            @if !v.documents.is_empty() {
                h2 { (tx.documents) }
                ul { @for d in &v.documents { li { (d.name) " (" (html::num(d.size as f64 / 1024.0, 0)) " kB)" } } }
            }
        },
    )
}

fn supplements(v: &CompanyCaseView, form: &MessageForm) -> Markup {
    let waiting = v.summary.status == CaseStatus::AwaitingSupplement;
    let lang = form.lang;
    let tx = t(lang);
    html! {
        @if !v.supplement_requests.is_empty() {
            h2 { (tx.supplements) }
            ul {
                @for r in &v.supplement_requests {
                    li {
                        (tx.requested) (time_in(lang, r.requested_at)) ": "
                        @if let Some(m) = &r.message { (m) } @else { (tx.secret) }
                        @if let Some(at) = r.received_at { (tx.supplement_received) (time_in(lang, at)) } @else { (tx.waiting_for_you) }
                    }
                }
            }
            @for r in v.supplement_requests.iter().filter(|r| waiting && r.received_at.is_none()) {
                form method="post" enctype="multipart/form-data" action=(lang.keep(&format!("{}/kompletteringar/{}", form.base, r.id))) {
                    @if let Some(c) = &form.csrf { (html::csrf_input(c)) }
                    label for=(format!("supplement-{}", r.id)) { (tx.answer_label) }
                    span class="hint" id=(format!("supplement-{}-hint", r.id)) { (tx.answer_hint) }
                    textarea id=(format!("supplement-{}", r.id)) name="text" rows="5" maxlength="10000" required
                        aria-describedby=(format!("supplement-{}-hint", r.id)) {}
                    label for=(format!("supplement-{}-files", r.id)) { (tx.documents_label) }
                    input type="file" id=(format!("supplement-{}-files", r.id)) name="file" multiple;
                    p { button type="submit" { (tx.send_supplement) } }
                }
            }
        }
    }
}

fn decision(v: &CompanyCaseView, lang: Lang) -> Markup {
    let tx = t(lang);
    html! {
        @if let Some(d) = &v.decision {
            h2 { (tx.decision) }
            p { strong { (decision_text(lang, d.outcome)) } @if let Some(at) = d.decided_at { " " (time_in(lang, at)) } }
            @if let Some(text) = &d.text { p { (text) } }
            @if !d.legal_basis.is_empty() {
                p { (tx.under) (d.legal_basis.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join(", ")) "." }
            }
            @if let (Some(from), Some(to)) = (d.valid_from, d.valid_to) {
                p { (tx.valid) (date_in(lang, from)) " – " (date_in(lang, to)) "." }
            }
        }
    }
}

fn messages(v: &CompanyCaseView, form: &MessageForm) -> Markup {
    use lots_cases::messages::Direction;
    let lang = form.lang;
    let tx = t(lang);
    html! {
        h2 { (tx.messages) }
        @if v.messages.is_empty() {
            p { (tx.no_messages) }
        } @else {
            ul class="messages" {
                @for m in &v.messages {
                    li {
                        strong { @match m.direction { Direction::ToCompany => (tx.from_municipality), Direction::FromCompany => (tx.from_you) } }
                        " " (time_in(lang, m.created_at)) ": " (m.text)
                    }
                }
            }
        }
        form method="post" action=(lang.keep(&format!("{}/meddelanden", form.base))) {
            @if let Some(c) = &form.csrf { (html::csrf_input(c)) }
            label for="message-text" { (tx.write) }
            textarea id="message-text" name="text" rows="4" maxlength="10000" required {}
            p { button type="submit" { (tx.send_message) } }
        }
    }
}

/// The result pages of what the company sends, in one language.
struct Sent {
    wait: (&'static str, &'static str, &'static str),
    message_refused: (&'static str, &'static str),
    expired: (&'static str, &'static str),
    answer_refused: (&'static str, &'static str, &'static str, &'static str),
    answer_received: (&'static str, &'static str),
    back: &'static str,
}

const SENT_SV: Sent = Sent {
    wait: (
        "Vänta en stund",
        "Det har skickats många meddelanden och svar i det här ärendet på kort tid. Försök igen om ",
        " minuter. Inget har skickats.",
    ),
    message_refused: (
        "Meddelandet skickades inte",
        "Skriv något i meddelandet (högst 10 000 tecken) och försök igen.",
    ),
    expired: (
        "Formuläret har gått ut",
        "Ladda om sidan och försök igen. Inget har skickats.",
    ),
    answer_refused: (
        "Kompletteringen skickades inte",
        "Något i det ni skickade gick inte att ta emot, så ingenting är skickat: ",
        "Tillåtna handlingar är PDF, PNG, JPEG, GIF, TIFF, ZIP, DOCX, XLSX, ODT, DWG och text, högst tio stycken.",
        "Skriv det som efterfrågas (högst 10 000 tecken) och försök igen.",
    ),
    answer_received: (
        "Kompletteringen är redan inkommen",
        "Ärendet väntar inte längre på den här kompletteringen. Skriv ett meddelande om ni vill lägga till något.",
    ),
    back: "Tillbaka till ärendet",
};

const SENT_EN: Sent = Sent {
    wait: (
        "Please wait a while",
        "Many messages and answers have been sent in this case in a short time. Try again in ",
        " minutes. Nothing was sent.",
    ),
    message_refused: (
        "The message was not sent",
        "Write something in the message (at most 10,000 characters) and try again.",
    ),
    expired: (
        "The form has expired",
        "Reload the page and try again. Nothing was sent.",
    ),
    answer_refused: (
        "The supplement was not sent",
        "Something you sent could not be taken, so nothing was sent: ",
        "Accepted documents are PDF, PNG, JPEG, GIF, TIFF, ZIP, DOCX, XLSX, ODT, DWG and text, at most ten.",
        "Write what is asked for (at most 10,000 characters) and try again.",
    ),
    answer_received: (
        "The supplement has already been received",
        "The case no longer waits for this supplement. Write a message if you want to add something.",
    ),
    back: "Back to the case",
};

fn sent_texts(lang: Lang) -> &'static Sent {
    lang.pick(&SENT_SV, &SENT_EN)
}

/// A result page that links back to the case.
fn result(lang: Lang, status: StatusCode, title: &str, body: Markup, back: &str) -> Response {
    html::page_in(
        lang,
        status,
        title,
        &lang.other(back),
        html! {
            h1 { (title) }
            (body)
            p { a href=(lang.keep(back)) { (sent_texts(lang).back) } }
        },
    )
}

/// Counts one thing sent from the company's side; the page that says to wait when over.
fn slowed(state: &AppState, lang: Lang, key: &str, back: &str) -> Option<Response> {
    let wait = state.company_posts.hit(key).err()?;
    let (title, before, after) = sent_texts(lang).wait;
    let mut r = result(
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        title,
        html! { p { (before) (wait.div_ceil(60)) (after) } },
        back,
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    Some(r)
}

/// The case the follow link `token` opens, counting one thing sent with the link; else the
/// page to answer with (not found, failed, or wait).
async fn followed_post(
    state: &AppState,
    lang: Lang,
    token: &str,
    back: &str,
) -> Result<lots_store::entity::case_record::Model, Response> {
    let case =
        (state.company_side.followed(token).await).map_err(|e| error_page(lang, &e, back))?;
    match slowed(state, lang, &crate::routes::public::link_key(token), back) {
        Some(r) => Err(r),
        None => Ok(case),
    }
}

/// The case `id` as the signed-in representative may see it, or the page that says why not.
async fn represented_case(
    state: &AppState,
    lang: Lang,
    live: &lots_cases::representatives::LiveRepresentative,
    id: i64,
    back: &str,
) -> Result<lots_store::entity::case_record::Model, Response> {
    match state
        .company_side
        .represented(&live.representative, id)
        .await
    {
        Ok((case, _)) => Ok(case),
        Err(e) => Err(error_page(lang, &e, back)),
    }
}

/// `slowed` for what a signed-in representative sends: counted per person, whichever login.
fn person_slowed(
    state: &AppState,
    lang: Lang,
    live: &lots_cases::representatives::LiveRepresentative,
    back: &str,
) -> Option<Response> {
    slowed(state, lang, &crate::routes::public::person_key(live), back)
}

/// A result page that only says something: `texts` is its title and text.
fn notice(lang: Lang, status: StatusCode, (title, text): (&str, &str), back: &str) -> Response {
    result(lang, status, title, html! { p { (text) } }, back)
}

fn message_refused(lang: Lang, back: &str) -> Response {
    notice(
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        sent_texts(lang).message_refused,
        back,
    )
}

fn expired(lang: Lang, back: &str) -> Response {
    notice(lang, StatusCode::FORBIDDEN, sent_texts(lang).expired, back)
}

fn sent(lang: Lang, back: &str) -> Response {
    crate::web::see_other(&format!("{}#message-text", lang.keep(back)))
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
    Query(q): Query<LangQuery>,
    req: axum::extract::Request,
) -> Response {
    let lang = lang_of(&q, req.headers());
    let back = format!("/mina-arenden/{id}");
    let live = representative(req.headers(), &state).await;
    let (text, csrf) = match posted_text(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(live) = live else {
        return crate::web::see_other(&lang.keep("/mina-arenden"));
    };
    if !crate::web::csrf_matches(csrf.as_deref(), &live.csrf) {
        return expired(lang, &back);
    }
    let Ok(id) = id.parse::<i64>() else {
        return not_found(lang, &back);
    };
    let case = match represented_case(&state, lang, &live, id, &back).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = person_slowed(&state, lang, &live, &back) {
        return r;
    }
    let sender = crate::routes::public::sender_of(&live);
    keep_message(&state, lang, &case, &sender, text, &back).await
}

/// `POST /folj/{token}/meddelanden`: whoever holds the follow link writes to the department.
pub async fn follow_message(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    req: axum::extract::Request,
) -> Response {
    let lang = lang_of(&q, req.headers());
    let back = format!("/folj/{token}");
    let (text, _) = match posted_text(req, &state).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let case = match followed_post(&state, lang, &token, &back).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sender = crate::routes::public::FOLLOW_LINK_SENDER;
    keep_message(&state, lang, &case, sender, text, &back).await
}

/// Keeps the message `text` by `sender` on `case`; the page that says how it went.
async fn keep_message(
    state: &AppState,
    lang: Lang,
    case: &lots_store::entity::case_record::Model,
    sender: &str,
    text: Option<String>,
    back: &str,
) -> Response {
    let input = lots_cases::messages::NewMessage { text };
    match state.messages.receive_message(case, sender, input).await {
        Ok(_) => sent(lang, back),
        Err(ServiceError::Validation(_)) => message_refused(lang, back),
        Err(e) => failed(lang, &e, back),
    }
}

/// `POST /mina-arenden/{id}/kompletteringar/{rid}`: a signed-in representative answers a
/// supplement request, with documents.
pub async fn one_supplement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    multipart: MultipartBody,
) -> Response {
    let lang = lang_of(&q, &headers);
    let back = format!("/mina-arenden/{id}");
    let Some(live) = representative(&headers, &state).await else {
        return crate::web::see_other(&lang.keep("/mina-arenden"));
    };
    let (Ok(id), Ok(rid)) = (id.parse::<i64>(), rid.parse::<i64>()) else {
        return not_found(lang, &back);
    };
    if let Some(r) = person_slowed(&state, lang, &live, &back) {
        return r;
    }
    let sent = match crate::routes::public::read_answer(&state, multipart).await {
        Ok(a) => a,
        Err(e) => return refused_answer(lang, &e, &back),
    };
    if !crate::web::csrf_matches(sent.csrf.as_deref(), &live.csrf) {
        return expired(lang, &back);
    }
    let case = match represented_case(&state, lang, &live, id, &back).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sender = crate::routes::public::sender_of(&live);
    keep_answer(&state, lang, (case.id, rid), &sender, sent, &back).await
}

/// `POST /folj/{token}/kompletteringar/{rid}`: whoever holds the follow link answers.
pub async fn follow_supplement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, rid)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    multipart: MultipartBody,
) -> Response {
    let lang = lang_of(&q, &headers);
    let back = format!("/folj/{token}");
    let Ok(rid) = rid.parse::<i64>() else {
        return not_found(lang, &back);
    };
    let case = match followed_post(&state, lang, &token, &back).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sent = match crate::routes::public::read_answer(&state, multipart).await {
        Ok(a) => a,
        Err(e) => return refused_answer(lang, &e, &back),
    };
    let sender = crate::routes::public::FOLLOW_LINK_SENDER;
    keep_answer(&state, lang, (case.id, rid), sender, sent, &back).await
}

/// Keeps the answer `sent` by `sender` to supplement request `(case id, request id)`; the page
/// that says how it went.
async fn keep_answer(
    state: &AppState,
    lang: Lang,
    (case_id, rid): (i64, i64),
    sender: &str,
    sent: crate::routes::public::Answer,
    back: &str,
) -> Response {
    let r = state
        .attachments
        .answer_supplement(case_id, rid, sender, sent.text.as_deref(), sent.documents)
        .await;
    answered(lang, r, back)
}

/// The page for an answer whose parts could not be taken (a document of the wrong kind, too
/// large, too many): what was wrong, in the problem's words; nothing was kept.
fn refused_answer(lang: Lang, e: &crate::error::ApiError, back: &str) -> Response {
    let (title, lead, allowed, _) = sent_texts(lang).answer_refused;
    let detail = match lang {
        Lang::Sv => html::message_sv(e.detail()),
        Lang::En => e.detail().to_string(),
    };
    result(
        lang,
        e.status(),
        title,
        html! { p { (lead) (detail) } p { (allowed) } },
        back,
    )
}

fn answered<T>(
    lang: Lang,
    r: Result<T, lots_cases::attachments::UploadError>,
    back: &str,
) -> Response {
    use lots_cases::attachments::UploadError;
    let texts = sent_texts(lang);
    match r {
        Ok(_) => crate::web::see_other(&lang.keep(back)),
        Err(UploadError::Service(ServiceError::Validation(_))) => {
            let (title, _, _, text) = texts.answer_refused;
            notice(lang, StatusCode::UNPROCESSABLE_ENTITY, (title, text), back)
        }
        Err(UploadError::Service(ServiceError::Conflict(_))) => {
            notice(lang, StatusCode::CONFLICT, texts.answer_received, back)
        }
        Err(UploadError::Service(ServiceError::NotFound(_))) => not_found(lang, back),
        Err(UploadError::Service(e)) => failed(lang, &e, back),
        Err(e) => {
            let (title, lead, allowed, _) = texts.answer_refused;
            result(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                title,
                html! { p { (lead) (e.to_string()) } p { (allowed) } },
                back,
            )
        }
    }
}
