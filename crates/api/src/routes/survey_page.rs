//! The survey page `/survey/{token}`: a plain, accessible Swedish form (labels, fieldsets, no
//! JavaScript, embedded CSS) with the three NKI questions and the six service factors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lots_cases::{FieldError, ServiceError};
use lots_hooks::survey::FactorAnswers;
use lots_hooks::{SurveyAnswer, SurveyContext, TokenState};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{body_rejection, content_type, parse_json};
use crate::state::AppState;
use crate::web::html::{document, with_headers};

const INDEX_QUESTIONS: [(&str, &str, &str, &str); 3] = [
    (
        "q_overall",
        "Hur nöjd är du sammantaget med kommunens service i ärendet?",
        "mycket missnöjd",
        "mycket nöjd",
    ),
    (
        "q_expectations",
        "Hur väl motsvarade servicen dina förväntningar?",
        "inte alls",
        "helt och hållet",
    ),
    (
        "q_ideal",
        "Hur nära en perfekt service kom kommunen?",
        "långt ifrån",
        "mycket nära",
    ),
];

const FACTOR_QUESTIONS: [(&str, &str, &str); 6] = [
    (
        "information",
        "Information",
        "hur lätt det var att få information, och hur tydlig den var",
    ),
    (
        "accessibility",
        "Tillgänglighet",
        "hur lätt det var att nå rätt person",
    ),
    ("treatment", "Bemötande", "hur du blev bemött"),
    ("competence", "Kompetens", "handläggarens kunskap i ärendet"),
    (
        "legal_certainty",
        "Rättssäkerhet",
        "att ärendet hanterades korrekt och likvärdigt",
    ),
    (
        "efficiency",
        "Effektivitet",
        "hur snabbt och smidigt ärendet hanterades",
    ),
];

/// The form as posted: every field text, so that a wrong one can be named.
#[derive(Debug, Default, Deserialize)]
struct FormAnswer {
    q_overall: Option<String>,
    q_expectations: Option<String>,
    q_ideal: Option<String>,
    information: Option<String>,
    accessibility: Option<String>,
    treatment: Option<String>,
    competence: Option<String>,
    legal_certainty: Option<String>,
    efficiency: Option<String>,
    comment: Option<String>,
}

impl FormAnswer {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "q_overall" => self.q_overall.as_deref(),
            "q_expectations" => self.q_expectations.as_deref(),
            "q_ideal" => self.q_ideal.as_deref(),
            "information" => self.information.as_deref(),
            "accessibility" => self.accessibility.as_deref(),
            "treatment" => self.treatment.as_deref(),
            "competence" => self.competence.as_deref(),
            "legal_certainty" => self.legal_certainty.as_deref(),
            "efficiency" => self.efficiency.as_deref(),
            _ => None,
        }
        .map(str::trim)
        .filter(|v| !v.is_empty())
    }

    fn parse(&self) -> Result<SurveyAnswer, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |name: &str, field: &str| match self.get(name) {
            None => None,
            Some(v) => match v.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError {
                        field: field.into(),
                        message: "must be a whole number".into(),
                    });
                    None
                }
            },
        };
        let answer = SurveyAnswer {
            q_overall: number("q_overall", "q_overall"),
            q_expectations: number("q_expectations", "q_expectations"),
            q_ideal: number("q_ideal", "q_ideal"),
            factors: Some(FactorAnswers {
                information: number("information", "factors.information"),
                accessibility: number("accessibility", "factors.accessibility"),
                treatment: number("treatment", "factors.treatment"),
                competence: number("competence", "factors.competence"),
                legal_certainty: number("legal_certainty", "factors.legal_certainty"),
                efficiency: number("efficiency", "factors.efficiency"),
            }),
            comment: self.comment.clone(),
        };
        if errors.is_empty() {
            Ok(answer)
        } else {
            Err(errors)
        }
    }
}

/// The survey form.
#[utoipa::path(get, path = "/survey/{token}", tag = "surveys", security(()),
    params(("token" = String, Path, description = "The invitation's token")),
    responses(
        (status = 200, description = "The form (HTML, Swedish)", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown link", body = String, content_type = "text/html"),
        (status = 409, description = "Already answered", body = String, content_type = "text/html"),
        (status = 410, description = "The link has expired", body = String, content_type = "text/html")))]
pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.surveys.context(&token, state.clock.now()).await {
        Ok(ctx) if ctx.state == TokenState::Open => page(
            StatusCode::OK,
            &form(&ctx, &token, &FormAnswer::default(), &[]),
        ),
        Ok(ctx) => closed(ctx.state),
        Err(ServiceError::NotFound(_)) => unknown(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Answer the survey: a form post (answered with HTML) or JSON (answered with JSON).
#[utoipa::path(post, path = "/survey/{token}", tag = "surveys", security(()),
    params(("token" = String, Path, description = "The invitation's token")),
    request_body(content = SurveyAnswer, description = "JSON, or the form's fields (application/x-www-form-urlencoded)"),
    responses(
        (status = 201, description = "Stored; a thank-you page (form) or `{\"status\": \"answered\"}` (JSON)"),
        (status = 404, description = "Unknown link", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link has expired", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer out of range; nothing stored", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let content_type = content_type(request.headers())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = content_type.starts_with("application/json");
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !json && !is_form {
        return ApiError::unsupported_media_type("send the form, or JSON").into_response();
    }
    let bytes = match Bytes::from_request(request, &state).await {
        Ok(b) => b,
        Err(e) => return body_rejection(e, state.config.body_limit_bytes).into_response(),
    };
    let now = state.clock.now();
    let ctx = match state.surveys.context(&token, now).await {
        Ok(ctx) => ctx,
        Err(ServiceError::NotFound(_)) if json => {
            return ApiError::not_found("no survey has this link").into_response();
        }
        Err(ServiceError::NotFound(_)) => return unknown(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (input, posted) = if json {
        match parse_json::<SurveyAnswer>(&bytes) {
            Ok(a) => (a, FormAnswer::default()),
            Err(e) => return e.into_response(),
        }
    } else {
        let posted: FormAnswer = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        match posted.parse() {
            Ok(a) => (a, posted),
            Err(errors) => {
                return page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form(&ctx, &token, &posted, &errors),
                );
            }
        }
    };
    match state.surveys.answer(&token, input, now).await {
        Ok(TokenState::Open) if json => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({"status": "answered"})),
        )
            .into_response(),
        Ok(TokenState::Open) => page(StatusCode::CREATED, &thanks()),
        Ok(s) if json => state_problem(s).into_response(),
        Ok(s) => closed(s),
        Err(ServiceError::Validation(errors)) if !json => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form(&ctx, &token, &posted, &errors),
        ),
        Err(ServiceError::NotFound(_)) if !json => unknown(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn state_problem(s: TokenState) -> ApiError {
    let mut e = ApiError::not_found("no survey has this link");
    match s {
        TokenState::Answered => e = ApiError::conflict("the survey has been answered already"),
        TokenState::Expired => e = ApiError::gone("the survey link has expired"),
        TokenState::Open => {}
    }
    e
}

fn page(status: StatusCode, body: &str) -> Response {
    // The token is in the URL: never send it on as a Referer, never cache the page.
    with_headers(
        (status, Html(body.to_string())).into_response(),
        &[
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            ),
        ],
    )
}

fn closed(state: TokenState) -> Response {
    match state {
        TokenState::Answered => page(
            StatusCode::CONFLICT,
            &message(
                "Enkäten är redan besvarad",
                "Tack! Vi har redan fått ditt svar på den här enkäten.",
            ),
        ),
        TokenState::Expired => page(
            StatusCode::GONE,
            &message(
                "Länken har gått ut",
                "Enkäten går inte längre att besvara. Tack för att du ville svara!",
            ),
        ),
        TokenState::Open => unknown(),
    }
}

fn unknown() -> Response {
    page(
        StatusCode::NOT_FOUND,
        &message(
            "Länken är okänd",
            "Vi hittar ingen enkät med den här länken. Kontrollera att hela länken kom med.",
        ),
    )
}

fn thanks() -> String {
    message(
        "Tack för ditt svar!",
        "Dina svar hjälper kommunen att bli bättre. Svaren redovisas bara sammanställda, aldrig per ärende.",
    )
}

fn message(title: &str, text: &str) -> String {
    layout(title, html! { h1 { (title) } p { (text) } })
}

/// One 1–10 question of the index.
fn index_question(
    i: usize,
    (name, question, low, high): (&str, &str, &str, &str),
    posted: &FormAnswer,
    error: Option<&FieldError>,
) -> Markup {
    html! {
        fieldset class=[error.map(|_| "invalid")] aria-describedby=[error.map(|_| format!("{name}-error"))] {
            legend id=(format!("{name}-legend")) {
                (i + 1) ". " (question) " " span class="hint" { "(1 = " (low) ", 10 = " (high) ")" }
            }
            @if let Some(e) = error {
                p class="error" id=(format!("{name}-error")) { (swedish(&e.message)) }
            }
            div class="scale" {
                @for v in 1..=10 {
                    span {
                        input type="radio" id=(format!("{name}-{v}")) name=(name) value=(v) required
                            checked[posted.get(name) == Some(v.to_string().as_str())];
                        label for=(format!("{name}-{v}")) { (v) }
                    }
                }
            }
        }
    }
}

/// One 1–6 service factor, with "Vet ej".
fn factor_question(
    (name, label, explanation): (&str, &str, &str),
    posted: &FormAnswer,
    error: Option<&FieldError>,
) -> Markup {
    html! {
        fieldset class=[error.map(|_| "invalid")] {
            legend id=(format!("{name}-legend")) { (label) " " span class="hint" { "(" (explanation) ")" } }
            @if let Some(e) = error {
                p class="error" { (swedish(&e.message)) }
            }
            div class="scale" {
                @for v in 1..=6 {
                    span {
                        input type="radio" id=(format!("{name}-{v}")) name=(name) value=(v)
                            checked[posted.get(name) == Some(v.to_string().as_str())];
                        label for=(format!("{name}-{v}")) { (v) }
                    }
                }
                span {
                    input type="radio" id=(format!("{name}-none")) name=(name) value="" checked[posted.get(name).is_none()];
                    label for=(format!("{name}-none")) { "Vet ej" }
                }
            }
        }
    }
}

fn form(ctx: &SurveyContext, token: &str, posted: &FormAnswer, errors: &[FieldError]) -> String {
    let error_for = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field || e.field == format!("factors.{field}"))
    };
    let main = html! {
        h1 { "Hur nöjd är du med kommunens service?" }
        p {
            "Gäller ärende " strong { (ctx.reference) } " för " (ctx.company_name) " hos "
            (ctx.department_name)
            ". Enkäten tar ett par minuter. Svaren redovisas bara sammanställda, aldrig per ärende."
        }
        @if !errors.is_empty() {
            div class="errors" role="alert" tabindex="-1" {
                h2 { "Några svar behöver rättas" }
                ul {
                    @for e in errors {
                        @let name = e.field.trim_start_matches("factors.");
                        li { a href=(format!("#{name}-legend")) { (label_of(name)) ": " (swedish(&e.message)) } }
                    }
                }
            }
        }
        form method="post" action=(format!("/survey/{token}")) {
            @for (i, q) in INDEX_QUESTIONS.iter().enumerate() {
                (index_question(i, *q, posted, error_for(q.0)))
            }
            h2 { "Hur bedömer du kommunen när det gäller …" }
            p class="hint" { "1 = mycket dåligt, 6 = mycket bra. Välj ”Vet ej” om du inte kan bedöma." }
            @for q in FACTOR_QUESTIONS {
                (factor_question(q, posted, error_for(q.0)))
            }
            p {
                label for="comment" { "Vill du lämna en kommentar? (frivilligt)" }
                br;
                textarea id="comment" name="comment" rows="5" maxlength="4000" aria-describedby="comment-hint" {
                    (posted.comment.as_deref().unwrap_or(""))
                }
                br;
                span id="comment-hint" class="hint" { "Skriv inga personuppgifter, till exempel namn eller personnummer." }
            }
            p { button type="submit" { "Skicka svar" } }
        }
    };
    layout("Hur nöjd är du med kommunens service?", main)
}

fn label_of(name: &str) -> &str {
    match name {
        "q_overall" => "Fråga 1",
        "q_expectations" => "Fråga 2",
        "q_ideal" => "Fråga 3",
        "comment" => "Kommentar",
        other => FACTOR_QUESTIONS
            .iter()
            .find(|(n, _, _)| *n == other)
            .map_or(other, |(_, l, _)| l),
    }
}

/// The Swedish form of the service's validation messages.
fn swedish(message: &str) -> String {
    if message == "is required" {
        "Välj ett svar.".into()
    } else if let Some(rest) = message.strip_prefix("must be a whole number from ") {
        format!("Välj ett värde från {}.", rest.replace(" to ", " till "))
    } else if message.starts_with("must be at most") {
        "Kommentaren får vara högst 4000 tecken.".into()
    } else {
        "Svaret kunde inte tolkas.".into()
    }
}

fn layout(title: &str, main: Markup) -> String {
    document(
        &format!("{title} – NKI-enkät"),
        // A constant of this file, not user data.
        html! { style { (PreEscaped(CSS)) } },
        html! { main { (main) } },
    )
    .into_string()
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1b1b1b;line-height:1.5}\
main{max-width:44rem;margin:0 auto;padding:1.5rem;background:#fff;min-height:100vh}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}\
fieldset{border:1px solid #8a8f98;border-radius:6px;margin:1rem 0;padding:.75rem 1rem}\
fieldset.invalid{border:2px solid #b00020}legend{font-weight:600;padding:0 .25rem}\
.hint{font-weight:400;color:#4a4f57}.scale{display:flex;flex-wrap:wrap;gap:.4rem;margin-top:.5rem}\
.scale span{display:inline-flex;align-items:center}.scale input{width:1.3rem;height:1.3rem;margin:0 .25rem 0 0}\
.scale label{min-width:1.5rem;padding:.2rem .3rem .2rem 0}\
input:focus-visible,textarea:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #005fcc;outline-offset:2px}\
textarea{width:100%;font:inherit;border:1px solid #5f6670;border-radius:4px;padding:.5rem}\
button{font:inherit;font-weight:600;background:#005a9c;color:#fff;border:0;border-radius:4px;padding:.7rem 1.4rem;cursor:pointer}\
button:hover{background:#00457a}.errors{border:2px solid #b00020;border-radius:6px;padding:.5rem 1rem;background:#fff5f5}\
.errors a{color:#8a0018}.error{color:#8a0018;font-weight:600;margin:.25rem 0}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_the_company_and_the_comment_say() {
        let ctx = SurveyContext {
            invitation_id: 1,
            reference: "BN 2026/0001".into(),
            company_name: "\"><img src=x onerror=alert(1)> & <script>alert('x')</script>".into(),
            department_name: "Samhällsbyggnadsförvaltningen".into(),
            state: TokenState::Open,
        };
        let html = form(&ctx, "tok\"><b>", &FormAnswer::default(), &[]);
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
        assert!(html.contains(
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;alert('x')&lt;/script&gt;"
        ));
        assert!(html.contains("action=\"/survey/tok&quot;&gt;&lt;b&gt;\""));
    }

    #[test]
    fn the_form_labels_every_input_and_keeps_what_was_posted() {
        let ctx = SurveyContext {
            invitation_id: 1,
            reference: "BN 2026/0001".into(),
            company_name: "Söderby <Pizzeria> AB".into(),
            department_name: "Samhällsbyggnadsförvaltningen".into(),
            state: TokenState::Open,
        };
        let posted = FormAnswer {
            q_overall: Some("8".into()),
            comment: Some("</textarea><b>".into()),
            ..Default::default()
        };
        let html = form(
            &ctx,
            "tok",
            &posted,
            &[FieldError {
                field: "q_ideal".into(),
                message: "is required".into(),
            }],
        );
        assert!(html.contains("lang=\"sv\""));
        assert!(html.contains("Söderby &lt;Pizzeria&gt; AB"));
        assert!(
            html.contains("id=\"q_overall-8\" name=\"q_overall\" value=\"8\" required checked")
        );
        assert!(html.contains("&lt;/textarea&gt;&lt;b&gt;"));
        assert!(html.contains("role=\"alert\"") && html.contains("Välj ett svar."));
        let inputs = html.matches("<input ").count();
        let labels = html.matches("<label for=").count();
        assert_eq!(
            inputs + 1,
            labels,
            "every radio and the comment has a label"
        );
        assert_eq!(html.matches("<fieldset").count(), 9);
        assert!(!html.contains("<script"));
    }
}
