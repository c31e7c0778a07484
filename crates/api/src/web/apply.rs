//! The e-service pages: the catalogue (`/e-tjanster`) and applying (`/e-tjanster/{slug}`), a
//! form of several steps with a summary before sending. Plain HTML forms that work without
//! JavaScript: each step posts to the server, which keeps the answers and documents in a draft
//! (the cookie `lots_ansokan`, scoped to the e-service's path, holds its token; a signed-in
//! representative's draft follows them) and answers with the next step, or the same step with
//! each error beside its field. Swedish, or English (`?lang=en`, or the browser's preference).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use lots_cases::applications::{MAX_FILES, MAX_FILES_PER_FIELD, Refusal, check_fields};
use lots_cases::drafts::{DRAFT_DAYS, Draft};
use lots_cases::e_services::{EServiceView, Published};
use lots_cases::representatives::LiveRepresentative;
use lots_core::e_service::{Field, FieldType, Step};
use maud::{Markup, html};
use serde::Deserialize;

use super::html::{self, Lang, date_in};
use crate::extract::MultipartBody;
use crate::oidc::pages::representative;
use crate::state::AppState;

/// The draft's cookie; its path is the e-service's page, so each e-service has its own.
const DRAFT_COOKIE: &str = "lots_ansokan";

/// `?steg=` (a step's number from 1, or `sammanfattning`) and `?lang=`.
#[derive(Debug, Default, Deserialize)]
pub struct StepQuery {
    steg: Option<String>,
    lang: Option<String>,
}

/// Where in the form a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Step(usize),
    Summary,
}

impl At {
    fn parse(s: Option<&str>, steps: usize) -> At {
        match s.map(str::trim) {
            Some("sammanfattning") => At::Summary,
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=steps).contains(n))
                .map_or(At::Step(0), |n| At::Step(n - 1)),
            None => At::Step(0),
        }
    }

    fn param(self) -> String {
        match self {
            At::Step(i) => (i + 1).to_string(),
            At::Summary => "sammanfattning".into(),
        }
    }
}

/// Every text of these pages, in one language.
struct T {
    catalogue: &'static str,
    catalogue_lead: &'static str,
    none_published: &'static str,
    handled_by: &'static str,
    step_of: (&'static str, &'static str),
    optional: &'static str,
    next: &'static str,
    back: &'static str,
    to_summary: &'static str,
    summary: &'static str,
    summary_lead: &'static str,
    change: &'static str,
    send: &'static str,
    errors_title: &'static str,
    attached: &'static str,
    remove: &'static str,
    none_given: &'static str,
    trap: &'static str,
    signed_in: &'static str,
    draft_kept: &'static str,
    sent_title: &'static str,
    sent_reference: &'static str,
    sent_mail: &'static str,
    sent_deadline: &'static str,
    follow: &'static str,
    follow_hint: &'static str,
    not_found: (&'static str, &'static str),
    refused: (&'static str, &'static str),
    slow: (&'static str, &'static str, &'static str),
    expired: (&'static str, &'static str),
    failed: (&'static str, &'static str),
    too_many_files: &'static str,
}

const SV: T = T {
    catalogue: "E-tjänster för företag",
    catalogue_lead: "Ansök eller anmäl direkt till kommunen. Du får ett diarienummer och en länk där du följer ärendet.",
    none_published: "Det finns inga e-tjänster här ännu.",
    handled_by: "Handläggs av ",
    step_of: ("Steg ", " av "),
    optional: " (frivilligt)",
    next: "Nästa",
    back: "Föregående",
    to_summary: "Granska och skicka",
    summary: "Granska innan du skickar",
    summary_lead: "Kontrollera uppgifterna. Du kan ändra dem innan du skickar.",
    change: "Ändra",
    send: "Skicka ansökan",
    errors_title: "Rätta följande",
    attached: "Bifogat: ",
    remove: "Ta bort",
    none_given: "Inte ifyllt",
    trap: "Lämna det här fältet tomt",
    signed_in: "Du är inloggad med e-legitimation; ärendet hamnar bland dina ärenden.",
    draft_kept: "Dina svar sparas medan du fyller i; du kan gå tillbaka och ändra.",
    sent_title: "Tack, vi har tagit emot din ansökan",
    sent_reference: "Diarienummer: ",
    sent_mail: "Vi har skickat ett kvitto med diarienumret och en länk till ärendet till ",
    sent_deadline: "Beslut ska enligt lag fattas senast ",
    follow: "Följ ärendet",
    follow_hint: "Spara länken: den är din nyckel till ärendet, där du ser vad som händer, svarar på frågor och läser beslutet.",
    not_found: (
        "E-tjänsten finns inte",
        "Det finns ingen sådan e-tjänst, eller så är den inte öppen just nu.",
    ),
    refused: (
        "Ansökan kunde inte tas emot",
        "Det som skickades gick inte att ta emot: ",
    ),
    slow: (
        "Vänta en stund",
        "Många ansökningar har skickats härifrån. Försök igen om ",
        " minuter.",
    ),
    expired: ("Sidan har gått ut", "Ladda om sidan och försök igen."),
    failed: (
        "Något gick fel",
        "Något gick fel hos oss; felet är loggat. Dina svar är sparade; försök igen om en stund.",
    ),
    too_many_files: "För många filer: högst tio per fält och tjugo i en ansökan.",
};

const EN: T = T {
    catalogue: "E-services for businesses",
    catalogue_lead: "Apply or notify the municipality directly. You get a reference number and a link where you follow the case.",
    none_published: "There are no e-services here yet.",
    handled_by: "Handled by ",
    step_of: ("Step ", " of "),
    optional: " (optional)",
    next: "Next",
    back: "Previous",
    to_summary: "Review and send",
    summary: "Review before you send",
    summary_lead: "Check your answers. You can change them before you send.",
    change: "Change",
    send: "Send the application",
    errors_title: "Correct the following",
    attached: "Attached: ",
    remove: "Remove",
    none_given: "Not given",
    trap: "Leave this field empty",
    signed_in: "You are signed in with e-identification; the case will be among your cases.",
    draft_kept: "Your answers are kept as you go; you can go back and change them.",
    sent_title: "Thank you, we have received your application",
    sent_reference: "Reference number: ",
    sent_mail: "We have sent a receipt with the reference number and a link to the case to ",
    sent_deadline: "By law, the decision is due at the latest on ",
    follow: "Follow the case",
    follow_hint: "Keep the link: it is your key to the case, where you see what happens, answer questions and read the decision.",
    not_found: (
        "No such e-service",
        "There is no such e-service, or it is not open just now.",
    ),
    refused: (
        "The application could not be received",
        "What was sent could not be received: ",
    ),
    slow: (
        "Please wait",
        "Many applications have been sent from here. Try again in ",
        " minutes.",
    ),
    expired: ("The page has expired", "Reload the page and try again."),
    failed: (
        "Something went wrong",
        "Something went wrong on our side; it has been logged. Your answers are kept; try again in a while.",
    ),
    too_many_files: "Too many files: at most ten per field and twenty in one application.",
};

fn t(lang: Lang) -> &'static T {
    lang.pick(&SV, &EN)
}

fn in_lang<'a>(lang: Lang, sv: &'a str, en: Option<&'a str>) -> &'a str {
    match lang {
        Lang::En => en.unwrap_or(sv),
        Lang::Sv => sv,
    }
}

/// A page that only says something, with the way back to the catalogue.
fn plain(lang: Lang, status: StatusCode, texts: (&str, &str), path: &str) -> Response {
    let back = html! { p { a href=(lang.keep("/e-tjanster")) { (t(lang).catalogue) } } };
    html::plain_in(lang, status, texts, path, back)
}

fn failed(lang: Lang, e: &dyn std::fmt::Display, path: &str) -> Response {
    tracing::error!(error = %e, "e-service page error");
    plain(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        t(lang).failed,
        path,
    )
}

/// `GET /e-tjanster`: the published e-services.
pub async fn catalogue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StepQuery>,
) -> Response {
    let lang = Lang::of(q.lang.as_deref(), &headers);
    let tx = t(lang);
    let services = match state.e_services.e_services().await {
        Ok(s) => s,
        Err(e) => return failed(lang, &e, "/e-tjanster"),
    };
    html::page_in(
        lang,
        StatusCode::OK,
        tx.catalogue,
        &lang.other("/e-tjanster"),
        html! {
            h1 { (tx.catalogue) }
            p { (tx.catalogue_lead) }
            @if services.is_empty() { p { (tx.none_published) } }
            ul class="services" {
                @for s in &services { li { (catalogue_entry(s, lang)) } }
            }
        },
    )
}

fn catalogue_entry(s: &EServiceView, lang: Lang) -> Markup {
    let tx = t(lang);
    html! {
        h2 { a href=(lang.keep(&format!("/e-tjanster/{}", s.slug))) { (in_lang(lang, &s.title, s.title_en.as_deref())) } }
        p { (in_lang(lang, &s.summary, s.summary_en.as_deref())) }
        @if let Some(d) = &s.department_name { p class="hint" { (tx.handled_by) (d) } }
    }
}

/// The e-service, the signed-in representative (if any) and the page's language of a request.
struct Context {
    service: Published,
    view: EServiceView,
    live: Option<LiveRepresentative>,
    lang: Lang,
    path: String,
}

async fn context(
    state: &AppState,
    headers: &HeaderMap,
    slug: &str,
    lang: Option<&str>,
) -> Result<Context, Response> {
    let lang = Lang::of(lang, headers);
    let path = format!("/e-tjanster/{slug}");
    let (service, view) = match state.e_services.published_e_service_with_view(slug).await {
        Ok(both) => both,
        Err(lots_cases::ServiceError::NotFound(_)) => {
            return Err(plain(
                lang,
                StatusCode::NOT_FOUND,
                t(lang).not_found,
                "/e-tjanster",
            ));
        }
        Err(e) => return Err(failed(lang, &e, &path)),
    };
    Ok(Context {
        service,
        view,
        live: representative(headers, state).await,
        lang,
        path,
    })
}

/// The `Set-Cookie` of a draft's token, for the e-service's path only.
fn draft_cookie(state: &AppState, path: &str, token: &str, max_age: i64) -> HeaderValue {
    let secure = state.config.base_url().starts_with("https://");
    HeaderValue::from_str(&format!(
        "{DRAFT_COOKIE}={token}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("lots_ansokan=; Max-Age=0"))
}

async fn open_draft(
    state: &AppState,
    cx: &Context,
    headers: &HeaderMap,
) -> lots_cases::ServiceResult<(Draft, Option<HeaderValue>)> {
    let token = super::session::named_cookie(headers, DRAFT_COOKIE);
    let person = cx.live.as_ref().map(|l| &l.representative.personal_number);
    let (draft, new) = state
        .drafts
        .open_draft(cx.service.id, token, person)
        .await?;
    let cookie = new.map(|t| draft_cookie(state, &cx.path, &t, DRAFT_DAYS * 24 * 3600));
    Ok((draft, cookie))
}

fn with_cookie(mut r: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `GET /e-tjanster/{slug}`: a step of the form, or the summary.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<StepQuery>,
) -> Response {
    let cx = match context(&state, &headers, &slug, q.lang.as_deref()).await {
        Ok(cx) => cx,
        Err(r) => return r,
    };
    // Reading a step makes no draft: the first answers sent do.
    let token = super::session::named_cookie(&headers, DRAFT_COOKIE);
    let person = cx.live.as_ref().map(|l| &l.representative.personal_number);
    let draft = match state.drafts.find_draft(cx.service.id, token, person).await {
        Ok(d) => d.unwrap_or_default(),
        Err(e) => return failed(cx.lang, &e, &cx.path),
    };
    let at = At::parse(q.steg.as_deref(), cx.view.form.steps.len());
    page(&cx, &draft, at, &[], StatusCode::OK)
}

fn page(cx: &Context, draft: &Draft, at: At, errors: &[Refusal], status: StatusCode) -> Response {
    let lang = cx.lang;
    let tx = t(lang);
    let title = in_lang(lang, &cx.view.title, cx.view.title_en.as_deref());
    let steps = &cx.view.form.steps;
    let heading = match at {
        At::Step(i) => in_lang(lang, &steps[i].title, steps[i].title_en.as_deref()),
        At::Summary => tx.summary,
    };
    let here = format!("{}?steg={}", cx.path, at.param());
    let prefix = match (errors.is_empty(), lang) {
        (true, _) => "",
        (false, Lang::Sv) => "Fel: ",
        (false, Lang::En) => "Error: ",
    };
    html::page_in(
        lang,
        status,
        &format!("{prefix}{heading} – {title}"),
        &lang.other(&here),
        html! {
            p { a href=(lang.keep("/e-tjanster")) { "← " (tx.catalogue) } }
            h1 { (title) }
            @if let At::Step(i) = at {
                p class="hint" { (tx.step_of.0) (i + 1) (tx.step_of.1) (steps.len()) }
            }
            @if !errors.is_empty() { (error_summary(cx, errors)) }
            h2 { (heading) }
            @if cx.live.is_some() { p class="hint" { (tx.signed_in) } }
            @match at {
                At::Step(i) => (step_form(cx, draft, i, errors)),
                At::Summary => (summary(cx, draft)),
            }
        },
    )
}

fn error_summary(cx: &Context, errors: &[Refusal]) -> Markup {
    let lang = cx.lang;
    html! {
        div class="errors" role="alert" {
            h2 { (t(lang).errors_title) }
            ul {
                @for e in errors {
                    @let label = cx.view.form.field(&e.field).map_or(e.field.as_str(), |f| f.label_in(lang == Lang::En));
                    li { a href=(format!("#f-{}", e.field)) { (label) ": " (problem_in(lang, e)) } }
                }
            }
        }
    }
}

fn problem_in(lang: Lang, e: &Refusal) -> String {
    match lang {
        Lang::Sv => e.problem.sv(),
        Lang::En => e.problem.en(),
    }
}

/// The form's common parts: where it posts, the step, the CSRF token of a signed-in
/// representative.
fn form_head(cx: &Context, at: At) -> Markup {
    html! {
        input type="hidden" name="steg" value=(at.param());
        @if let Some(l) = &cx.live { (html::csrf_input(&l.csrf)) }
    }
}

fn step_form(cx: &Context, draft: &Draft, i: usize, errors: &[Refusal]) -> Markup {
    let lang = cx.lang;
    let tx = t(lang);
    let step: &Step = &cx.view.form.steps[i];
    let last = i + 1 == cx.view.form.steps.len();
    html! {
        p class="hint" { (tx.draft_kept) }
        form method="post" action=(lang.keep(&cx.path)) enctype="multipart/form-data" novalidate {
            (form_head(cx, At::Step(i)))
            // Enter in a field presses the form's first button: this one, not a file's removal.
            button type="submit" name="action" value="next" class="hp" tabindex="-1" aria-hidden="true" { (tx.next) }
            @for f in &step.fields {
                (field_input(cx, draft, f, errors.iter().find(|e| e.field == f.name)))
            }
            div class="actions" {
                button type="submit" name="action" value="next" { (if last { tx.to_summary } else { tx.next }) }
                @if i > 0 { " " button type="submit" name="action" value="back" class="secondary" { (tx.back) } }
            }
        }
    }
}

/// The `autocomplete` token and input type of a field the case takes.
fn input_kind(f: &Field) -> (&'static str, Option<&'static str>) {
    match (f.kind, f.name.as_str()) {
        (FieldType::Email, _) => ("email", Some("email")),
        (FieldType::Phone, _) => ("tel", Some("tel")),
        (FieldType::Date, _) => ("date", None),
        (_, "company_name") => ("text", Some("organization")),
        (_, "contact_name") => ("text", Some("name")),
        (FieldType::Address, _) => ("text", Some("street-address")),
        _ => ("text", Some("off")),
    }
}

fn field_input(cx: &Context, draft: &Draft, f: &Field, error: Option<&Refusal>) -> Markup {
    let lang = cx.lang;
    let en = lang == Lang::En;
    let tx = t(lang);
    let id = format!("f-{}", f.name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let help = f.help_in(en);
    let described: Vec<&str> = [
        help.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = error.map(|_| "true");
    let value = draft.answers.get(&f.name).map_or("", String::as_str);
    let label =
        html! { (f.label_in(en)) @if !f.required { span class="optional" { (tx.optional) } } };
    let below = html! {
        @if let Some(h) = help { span class="hint" id=(hint_id) { (h) } }
        @if let Some(e) = error { p class="error" id=(error_id) { (problem_in(lang, e)) } }
    };
    match f.kind {
        FieldType::Choice => html! {
            fieldset id=(id) aria-describedby=[described.as_deref()] {
                legend { (label) }
                (below)
                @for (n, o) in f.options.iter().enumerate() {
                    @let oid = format!("{id}-{n}");
                    div class="choice" {
                        input type="radio" id=(oid) name=(f.name) value=(o.value) checked[o.value == value]
                            aria-invalid=[invalid];
                        label for=(oid) { (in_lang(lang, &o.label, o.label_en.as_deref())) }
                    }
                }
            }
        },
        FieldType::Attachment => {
            let files: Vec<(usize, &lots_cases::attachments::KeptFile)> = draft
                .files
                .iter()
                .enumerate()
                .filter(|(_, k)| k.field == f.name)
                .collect();
            html! {
                label for=(id) { (label) }
                (below)
                @if !files.is_empty() {
                    ul class="files" {
                        @for (n, k) in &files {
                            li {
                                (tx.attached) (k.name) " (" (html::num(k.size as f64 / 1024.0, 0)) " kB) "
                                button type="submit" name="action" value=(format!("remove:{n}")) class="remove"
                                    aria-label=(format!("{} {}", tx.remove, k.name)) { (tx.remove) }
                            }
                        }
                    }
                }
                input type="file" id=(id) name=(f.name) multiple
                    aria-required=[(f.required && files.is_empty()).then_some("true")]
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];
            }
        }
        FieldType::Text if f.multiline => html! {
            label for=(id) { (label) }
            (below)
            textarea id=(id) name=(f.name) rows="6" aria-required=[f.required.then_some("true")]
                aria-invalid=[invalid] aria-describedby=[described.as_deref()] { (value) }
        },
        _ => {
            let (kind, autocomplete) = input_kind(f);
            let inputmode = (f.kind == FieldType::Number).then_some("decimal");
            html! {
                label for=(id) { (label) }
                (below)
                input type=(kind) id=(id) name=(f.name) value=(value) autocomplete=[autocomplete]
                    inputmode=[inputmode] aria-required=[f.required.then_some("true")]
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];
            }
        }
    }
}

fn summary(cx: &Context, draft: &Draft) -> Markup {
    let lang = cx.lang;
    let en = lang == Lang::En;
    let tx = t(lang);
    html! {
        p { (tx.summary_lead) }
        @for (i, step) in cx.view.form.steps.iter().enumerate() {
            h3 { (in_lang(lang, &step.title, step.title_en.as_deref())) }
            dl class="answers" {
                @for f in &step.fields {
                    dt { (f.label_in(en)) }
                    dd {
                        @if f.kind == FieldType::Attachment {
                            @let names: Vec<&str> = draft.files.iter().filter(|k| k.field == f.name).map(|k| k.name.as_str()).collect();
                            @if names.is_empty() { (tx.none_given) } @else { (names.join(", ")) }
                        } @else {
                            @match draft.answers.get(&f.name) {
                                Some(v) => (f.shown(v, en)),
                                None => (tx.none_given),
                            }
                        }
                    }
                }
            }
            p { a href=(lang.keep(&format!("{}?steg={}", cx.path, i + 1))) { (tx.change) " – " (in_lang(lang, &step.title, step.title_en.as_deref())) } }
        }
        form method="post" action=(lang.keep(&cx.path)) enctype="multipart/form-data" {
            (form_head(cx, At::Summary))
            div class="hp" {
                label for="f-website" { (tx.trap) }
                input type="text" id="f-website" name="website" value="" tabindex="-1" autocomplete="off";
            }
            div class="actions" {
                button type="submit" name="action" value="send" { (tx.send) }
            }
        }
    }
}

/// `POST /e-tjanster/{slug}`: a step's answers (kept in the draft, then the next step, or the
/// same step with its errors), or sending from the summary.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<StepQuery>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    multipart: MultipartBody,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(a))| a);
    let cx = match context(&state, &headers, &slug, q.lang.as_deref()).await {
        Ok(cx) => cx,
        Err(r) => return r,
    };
    let lang = cx.lang;
    let tx = t(lang);
    let mut sent = match crate::routes::e_services::read_sent(&state, multipart).await {
        Ok(s) => s,
        Err(e) => return refused(&cx, &e),
    };
    if let Some(live) = &cx.live
        && !sent
            .take("csrf")
            .is_some_and(|c| super::csrf_matches(Some(&c), &live.csrf))
    {
        return plain(lang, StatusCode::FORBIDDEN, tx.expired, &cx.path);
    }
    // Every step sent and every document kept counts against the sender's hourly allowance,
    // so that no one fills the disk or the drafts from one address.
    let key = crate::routes::e_services::sender_key(cx.live.as_ref(), peer);
    for _ in 0..=sent.documents.len() {
        if let Err(wait) = state.draft_posts.hit(&key) {
            return slow(lang, wait, &cx.path);
        }
    }
    let (mut draft, cookie) = match open_draft(&state, &cx, &headers).await {
        Ok(d) => d,
        Err(e) => return failed(lang, &e, &cx.path),
    };
    let at = At::parse(sent.take("steg").as_deref(), cx.view.form.steps.len());
    let action = sent.take("action").unwrap_or_else(|| "next".into());
    let r = match at {
        At::Step(i) => step_posted(&state, &cx, &mut draft, i, &action, sent).await,
        At::Summary => send(&state, &cx, &draft, sent, peer).await,
    };
    with_cookie(r, cookie)
}

async fn step_posted(
    state: &AppState,
    cx: &Context,
    draft: &mut Draft,
    i: usize,
    action: &str,
    mut sent: crate::routes::e_services::Sent,
) -> Response {
    let lang = cx.lang;
    let step = &cx.view.form.steps[i];
    for f in step
        .fields
        .iter()
        .filter(|f| f.kind != FieldType::Attachment)
    {
        match sent.take(&f.name) {
            Some(v) if !v.trim().is_empty() => {
                draft.answers.insert(f.name.clone(), v);
            }
            _ => {
                draft.answers.remove(&f.name);
            }
        }
    }
    for (field, document) in std::mem::take(&mut sent.documents) {
        let ok = step
            .fields
            .iter()
            .any(|f| f.name == field && f.kind == FieldType::Attachment);
        let per_field = draft.files.iter().filter(|k| k.field == field).count();
        if !ok || per_field >= MAX_FILES_PER_FIELD || draft.files.len() >= MAX_FILES {
            return plain(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                (t(lang).refused.0, t(lang).too_many_files),
                &cx.path,
            );
        }
        match state.attachments.keep_file(&field, document).await {
            Ok(k) => draft.files.push(k),
            Err(e) => return refused(cx, &crate::routes::record::upload_error(e)),
        }
    }
    let mut removed = Vec::new();
    if let Some(n) = action
        .strip_prefix("remove:")
        .and_then(|n| n.parse::<usize>().ok())
        && draft
            .files
            .get(n)
            .is_some_and(|k| step.fields.iter().any(|f| f.name == k.field))
    {
        removed.push(draft.files.remove(n).sha256);
    }
    // Answers that pass are kept in their one written form (`5560360793` as `556036-0793`).
    let checked = (action == "next")
        .then(|| check_fields(step.fields.iter(), &draft.answers(), today(state)));
    if let Some(Ok(kept)) = &checked {
        for f in &step.fields {
            if let Some(v) = kept.get(&f.name) {
                draft.answers.insert(f.name.clone(), v.clone());
            }
        }
    }
    let person = cx.live.as_ref().map(|l| &l.representative.personal_number);
    if let Err(e) = state.drafts.save_draft(draft, person).await {
        return failed(lang, &e, &cx.path);
    }
    // The bytes of a document taken off go, unless a case or another draft holds them too.
    if let Err(e) = state.attachments.drop_unheld(removed).await {
        tracing::warn!(error = %e, "a removed draft document's bytes could not be dropped");
    }
    let go =
        |at: At| crate::web::see_other(&lang.keep(&format!("{}?steg={}", cx.path, at.param())));
    match (action, checked) {
        ("back", _) => go(At::Step(i.saturating_sub(1))),
        (_, Some(Err(errors))) => page(
            cx,
            draft,
            At::Step(i),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (_, Some(Ok(_))) if i + 1 < cx.view.form.steps.len() => go(At::Step(i + 1)),
        (_, Some(Ok(_))) => go(At::Summary),
        _ => go(At::Step(i)),
    }
}

fn today(state: &AppState) -> chrono::NaiveDate {
    state
        .clock
        .now()
        .with_timezone(&lots_core::TIME_ZONE)
        .date_naive()
}

async fn send(
    state: &AppState,
    cx: &Context,
    draft: &Draft,
    mut sent: crate::routes::e_services::Sent,
    peer: Option<SocketAddr>,
) -> Response {
    let lang = cx.lang;
    let tx = t(lang);
    if sent.take("website").is_some_and(|w| !w.trim().is_empty()) {
        return plain(
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            (tx.refused.0, tx.trap),
            &cx.path,
        );
    }
    // The first step with a problem, shown with its errors.
    let answers = draft.answers();
    for (i, step) in cx.view.form.steps.iter().enumerate() {
        if let Err(errors) = check_fields(step.fields.iter(), &answers, today(state)) {
            return page(
                cx,
                draft,
                At::Step(i),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    }
    let key = crate::routes::e_services::sender_key(cx.live.as_ref(), peer);
    if let Err(wait) = state.applications.hit(&key) {
        return slow(lang, wait, &cx.path);
    }
    let kept = match check_fields(cx.service.form.fields(), &answers, today(state)) {
        Ok(k) => k,
        Err(errors) => {
            return page(
                cx,
                draft,
                At::Step(0),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let rep = cx.live.as_ref().map(|l| &l.representative);
    let receipt = match state
        .attachments
        .submit_application(&cx.service, rep, &kept, &draft.files)
        .await
    {
        Ok(r) => r,
        Err(e) => return failed(lang, &e, &cx.path),
    };
    if let Err(e) = state.drafts.delete_draft(&draft.id).await {
        tracing::warn!(error = %e, "a sent application's draft could not be removed");
    }
    let follow = lang.keep(&format!("/folj/{}", receipt.follow_token));
    let mail = kept.get("contact_email").cloned().unwrap_or_default();
    let mut r = html::page_in(
        lang,
        StatusCode::OK,
        tx.sent_title,
        &lang.other("/e-tjanster"),
        html! {
            h1 { (tx.sent_title) }
            p { (tx.sent_reference) strong { (receipt.reference) } }
            p { (tx.sent_mail) (mail) "." }
            @if let Some(d) = receipt.due_date { p { (tx.sent_deadline) (date_in(lang, d)) "." } }
            p { a class="button" href=(follow) { (tx.follow) } }
            p class="hint" { (tx.follow_hint) }
        },
    );
    r.headers_mut()
        .append(header::SET_COOKIE, draft_cookie(state, &cx.path, "", 0));
    r
}

/// The page that says to wait `wait` seconds (429, with Retry-After).
fn slow(lang: Lang, wait: u64, path: &str) -> Response {
    let (title, before, after) = t(lang).slow;
    let text = format!("{before}{}{after}", wait.div_ceil(60));
    let mut r = plain(lang, StatusCode::TOO_MANY_REQUESTS, (title, &text), path);
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The page for parts that could not be taken (a document of the wrong kind, too large):
/// what was wrong; the answers so far stay in the draft.
fn refused(cx: &Context, e: &crate::error::ApiError) -> Response {
    let lang = cx.lang;
    let (title, lead) = t(lang).refused;
    let detail = match lang {
        Lang::Sv => html::message_sv(e.detail()),
        Lang::En => e.detail().to_string(),
    };
    html::page_in(
        lang,
        e.status(),
        title,
        &lang.other(&cx.path),
        html! {
            h1 { (title) }
            p { (lead) (detail) }
            p { a href=(lang.keep(&cx.path)) { (t(lang).back) } }
        },
    )
}
