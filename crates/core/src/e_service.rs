//! E-services as data: a form is steps of typed fields, kept as JSON in the database so that an
//! admin changes it without a release. This module defines the form, checks a form an admin
//! sends (`Form::check`), and checks one answer to one field (`Field::answer`), with messages in
//! Swedish and English for the company's pages.
//!
//! Some field names carry meaning beyond the answer itself: they become the case's company,
//! its contact person and its premises (see [`Reserved`]). Every form has the four that make a
//! case: `org_number`, `company_name`, `contact_name` and `contact_email`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::org_number::OrgNumber;
use crate::personal_number::PersonalNumber;
use crate::property::PropertyDesignation;
use crate::record::AttachmentCategory;

/// What kind of answer a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    Date,
    Choice,
    OrgNumber,
    PersonalNumber,
    Property,
    Address,
    Email,
    Phone,
    Attachment,
}

/// One option of a `choice` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldOption {
    pub value: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Lower-case letters, digits and `_`; the multipart part's name.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_en: Option<String>,
    /// The options of a `choice` field; empty for every other type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
    /// A `text` field answered in several lines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    /// The document category of an `attachment` field's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<AttachmentCategory>,
}

/// One step of a form: a page of the company's application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    pub fields: Vec<Field>,
}

/// A form: its steps in order; a summary follows the last before the application is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub steps: Vec<Step>,
}

/// The field names that become part of the case, and the type each must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// The applicant organisation (required).
    OrgNumber,
    CompanyName,
    /// The contact person, a party in the role `contact` (name and e-mail required).
    ContactName,
    ContactEmail,
    ContactPhone,
    ContactPersonalNumber,
    /// The premises: property designation and street address.
    Property,
    Address,
    /// The case's description.
    Description,
}

impl Reserved {
    pub const ALL: [Reserved; 9] = [
        Reserved::OrgNumber,
        Reserved::CompanyName,
        Reserved::ContactName,
        Reserved::ContactEmail,
        Reserved::ContactPhone,
        Reserved::ContactPersonalNumber,
        Reserved::Property,
        Reserved::Address,
        Reserved::Description,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reserved::OrgNumber => "org_number",
            Reserved::CompanyName => "company_name",
            Reserved::ContactName => "contact_name",
            Reserved::ContactEmail => "contact_email",
            Reserved::ContactPhone => "contact_phone",
            Reserved::ContactPersonalNumber => "contact_personal_number",
            Reserved::Property => "property",
            Reserved::Address => "address",
            Reserved::Description => "description",
        }
    }

    pub fn kind(self) -> FieldType {
        match self {
            Reserved::OrgNumber => FieldType::OrgNumber,
            Reserved::CompanyName | Reserved::ContactName | Reserved::Description => {
                FieldType::Text
            }
            Reserved::ContactEmail => FieldType::Email,
            Reserved::ContactPhone => FieldType::Phone,
            Reserved::ContactPersonalNumber => FieldType::PersonalNumber,
            Reserved::Property => FieldType::Property,
            Reserved::Address => FieldType::Address,
        }
    }

    /// Whether every form must have it, as a required field.
    pub fn mandatory(self) -> bool {
        matches!(
            self,
            Reserved::OrgNumber
                | Reserved::CompanyName
                | Reserved::ContactName
                | Reserved::ContactEmail
        )
    }
}

/// Names no field may take: the multipart parts the intake itself reads.
pub const PART_NAMES: [&str; 3] = ["e_service", "website", "csrf"];

/// The longest answer to a one-line field, and to a multi-line one.
pub const MAX_LINE: usize = 200;
pub const MAX_TEXT: usize = 10_000;

/// Why an answer is refused, in words for the company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerProblem {
    Required,
    TooLong(usize),
    /// Control characters (a one-line answer may not break lines).
    Characters,
    Number,
    Date,
    Choice,
    OrgNumber,
    PersonalNumber,
    Property,
    Address,
    Email,
    Phone,
}

impl AnswerProblem {
    pub fn sv(&self) -> String {
        match self {
            AnswerProblem::Required => "Fyll i det här fältet.".into(),
            AnswerProblem::TooLong(n) => format!("Svaret får vara högst {n} tecken."),
            AnswerProblem::Characters => {
                "Svaret innehåller tecken som inte hör hemma i en text, t.ex. radbrytningar.".into()
            }
            AnswerProblem::Number => "Ange ett tal, t.ex. 120 eller 12,5.".into(),
            AnswerProblem::Date => "Ange ett datum som ÅÅÅÅ-MM-DD, t.ex. 2027-03-01.".into(),
            AnswerProblem::Choice => "Välj ett av alternativen.".into(),
            AnswerProblem::OrgNumber => {
                "Ange ett giltigt organisationsnummer med tio siffror, t.ex. 556036-0793.".into()
            }
            AnswerProblem::PersonalNumber => {
                "Ange ett giltigt personnummer som ÅÅÅÅMMDD-NNNN.".into()
            }
            AnswerProblem::Property => {
                "Ange fastighetsbeteckningen som kommun, trakt och nummer, t.ex. Haninge Söderby 1:23.".into()
            }
            AnswerProblem::Address => {
                "Ange gatuadress, postnummer och ort, t.ex. Storgatan 1, 136 40 Haninge.".into()
            }
            AnswerProblem::Email => "Ange en e-postadress, t.ex. namn@foretag.se.".into(),
            AnswerProblem::Phone => {
                "Ange ett telefonnummer med minst fem siffror, t.ex. 08-123 456 78.".into()
            }
        }
    }

    pub fn en(&self) -> String {
        match self {
            AnswerProblem::Required => "is required".into(),
            AnswerProblem::TooLong(n) => format!("must be at most {n} characters"),
            AnswerProblem::Characters => "must not hold control characters or line breaks".into(),
            AnswerProblem::Number => "must be a number, e.g. 120 or 12.5".into(),
            AnswerProblem::Date => "must be a date as YYYY-MM-DD, e.g. 2027-03-01".into(),
            AnswerProblem::Choice => "must be one of the options".into(),
            AnswerProblem::OrgNumber => {
                "must be a valid organisation number of ten digits, e.g. 556036-0793".into()
            }
            AnswerProblem::PersonalNumber => {
                "must be a valid personal identity number as YYYYMMDD-NNNN".into()
            }
            AnswerProblem::Property => {
                "must be a property designation: municipality, block and number, e.g. Haninge Söderby 1:23".into()
            }
            AnswerProblem::Address => {
                "must be a street address with postcode and town, e.g. Storgatan 1, 136 40 Haninge"
                    .into()
            }
            AnswerProblem::Email => "must be an e-mail address, e.g. name@company.se".into(),
            AnswerProblem::Phone => {
                "must be a phone number of at least five digits, e.g. 08-123 456 78".into()
            }
        }
    }
}

/// Whether `s` looks like an e-mail address one can write to (one `@`, a dotted domain, no
/// spaces); the mail server is the judge of the rest.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_phone(s: &str) -> bool {
    s.chars().filter(char::is_ascii_digit).count() >= 5
        && s.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
        && s.len() <= 40
}

impl Field {
    /// The label in the company's language.
    pub fn label_in(&self, english: bool) -> &str {
        english
            .then_some(self.label_en.as_deref())
            .flatten()
            .unwrap_or(&self.label)
    }

    pub fn help_in(&self, english: bool) -> Option<&str> {
        english
            .then_some(self.help_en.as_deref())
            .flatten()
            .or(self.help.as_deref())
    }

    fn max_len(&self) -> usize {
        if self.multiline { MAX_TEXT } else { MAX_LINE }
    }

    /// Checks one answer (not for `attachment` fields): `Ok(None)` for an optional field left
    /// empty, else the answer as it is kept (trimmed; numbers, dates and identity numbers in
    /// their one written form).
    pub fn answer(&self, raw: &str, today: NaiveDate) -> Result<Option<String>, AnswerProblem> {
        let v = raw.trim();
        if v.is_empty() {
            return if self.required {
                Err(AnswerProblem::Required)
            } else {
                Ok(None)
            };
        }
        let max = self.max_len();
        if v.chars().count() > max {
            return Err(AnswerProblem::TooLong(max));
        }
        if v.chars()
            .any(|c| c.is_control() && !(self.multiline && "\r\n\t".contains(c)))
        {
            return Err(AnswerProblem::Characters);
        }
        let kept = match self.kind {
            FieldType::Text | FieldType::Attachment => Some(v.to_string()),
            FieldType::Number => v
                .replace(',', ".")
                .replace(' ', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|_| v.replace(' ', "")),
            FieldType::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .map(|d| d.to_string()),
            FieldType::Choice => self
                .options
                .iter()
                .find(|o| o.value == v)
                .map(|o| o.value.clone()),
            FieldType::OrgNumber => OrgNumber::parse(v).ok().map(|o| o.to_string()),
            FieldType::PersonalNumber => PersonalNumber::parse_on(v, today)
                .ok()
                .map(|p| p.as_str().to_string()),
            FieldType::Property => PropertyDesignation::parse(v).ok().map(|p| p.to_string()),
            FieldType::Address => (v.chars().count() >= 5
                && v.chars().any(char::is_alphabetic)
                && v.chars().any(|c| c.is_ascii_digit()))
            .then(|| v.split_whitespace().collect::<Vec<_>>().join(" ")),
            FieldType::Email => is_email(v).then(|| v.to_string()),
            FieldType::Phone => is_phone(v).then(|| v.to_string()),
        };
        kept.map(Some).ok_or_else(|| self.problem())
    }

    fn problem(&self) -> AnswerProblem {
        match self.kind {
            FieldType::Text | FieldType::Attachment => AnswerProblem::Required,
            FieldType::Number => AnswerProblem::Number,
            FieldType::Date => AnswerProblem::Date,
            FieldType::Choice => AnswerProblem::Choice,
            FieldType::OrgNumber => AnswerProblem::OrgNumber,
            FieldType::PersonalNumber => AnswerProblem::PersonalNumber,
            FieldType::Property => AnswerProblem::Property,
            FieldType::Address => AnswerProblem::Address,
            FieldType::Email => AnswerProblem::Email,
            FieldType::Phone => AnswerProblem::Phone,
        }
    }

    /// The answer as the summary and the case's document show it: a choice by its label.
    pub fn shown<'a>(&'a self, kept: &'a str, english: bool) -> &'a str {
        self.options
            .iter()
            .find(|o| o.value == kept)
            .map_or(kept, |o| {
                english
                    .then_some(o.label_en.as_deref())
                    .flatten()
                    .unwrap_or(&o.label)
            })
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `s` may be an e-service's slug: 2–60 of `a-z`, digits and single hyphens.
pub fn is_slug(s: &str) -> bool {
    (2..=60).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

impl Form {
    /// Every field, step by step.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.steps.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields().find(|f| f.name == name)
    }

    /// Checks a form an admin sends: every problem, each named by its path
    /// (`form.steps[1].fields[0].name`), so that none reaches a company.
    pub fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |path: String, m: &str| out.push((path, m.to_string()));
        if self.steps.is_empty() || self.steps.len() > 10 {
            add("form.steps".into(), "must have 1 to 10 steps");
        }
        let mut seen: Vec<&str> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = format!("form.steps[{i}]");
            if !(1..=200).contains(&step.title.trim().chars().count()) {
                add(format!("{at}.title"), "must be 1 to 200 characters");
            }
            if step.fields.is_empty() || step.fields.len() > 40 {
                add(format!("{at}.fields"), "must have 1 to 40 fields");
            }
            for (j, f) in step.fields.iter().enumerate() {
                let at = format!("{at}.fields[{j}]");
                if !is_name(&f.name) {
                    add(
                        format!("{at}.name"),
                        "must be 1 to 40 of a-z, 0-9 and _, beginning with a letter",
                    );
                } else if PART_NAMES.contains(&f.name.as_str()) {
                    add(format!("{at}.name"), "is used by the intake itself");
                } else if seen.contains(&f.name.as_str()) {
                    add(format!("{at}.name"), "is used by another field");
                }
                seen.push(&f.name);
                if !(1..=200).contains(&f.label.trim().chars().count()) {
                    add(format!("{at}.label"), "must be 1 to 200 characters");
                }
                match (f.kind, f.options.is_empty()) {
                    (FieldType::Choice, true) => {
                        add(format!("{at}.options"), "a choice needs options")
                    }
                    (FieldType::Choice, false) => {}
                    (_, false) => add(format!("{at}.options"), "only a choice has options"),
                    _ => {}
                }
                if f.category.is_some() && f.kind != FieldType::Attachment {
                    add(
                        format!("{at}.category"),
                        "only an attachment has a category",
                    );
                }
                if f.multiline && f.kind != FieldType::Text {
                    add(format!("{at}.multiline"), "only a text may be multiline");
                }
                if let Some(r) = Reserved::ALL.iter().find(|r| r.name() == f.name)
                    && r.kind() != f.kind
                {
                    add(
                        format!("{at}.type"),
                        &format!(
                            "`{}` is the case's; its type must be {:?}",
                            f.name,
                            r.kind()
                        ),
                    );
                }
            }
        }
        for r in Reserved::ALL.iter().filter(|r| r.mandatory()) {
            match self.field(r.name()) {
                None => add("form".into(), &format!("must have a field `{}`", r.name())),
                Some(f) if !f.required => add(
                    "form".into(),
                    &format!("the field `{}` must be required", r.name()),
                ),
                Some(_) => {}
            }
        }
        out
    }
}

/// One e-service as Lots ships it (`e_services.json`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Builtin {
    pub slug: String,
    pub area: crate::Area,
    pub case_type: Option<String>,
    pub title: String,
    pub title_en: String,
    pub summary: String,
    pub summary_en: String,
    pub form: Form,
}

/// The e-services Lots ships with, one or more for each area the demo municipality handles, as
/// data. An admin gives each its department (the demo does) before it is published.
pub fn builtin() -> Result<Vec<Builtin>, serde_json::Error> {
    serde_json::from_str(include_str!("e_services.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: FieldType, label: &str, label_en: &str, required: bool) -> Field {
        Field {
            name: name.into(),
            kind,
            label: label.into(),
            label_en: Some(label_en.into()),
            required,
            help: None,
            help_en: None,
            options: Vec::new(),
            multiline: false,
            category: None,
        }
    }

    fn choice(name: &str, label: &str, label_en: &str, options: &[(&str, &str, &str)]) -> Field {
        let mut f = field(name, FieldType::Choice, label, label_en, true);
        f.options = options
            .iter()
            .map(|(value, label, en)| FieldOption {
                value: (*value).into(),
                label: (*label).into(),
                label_en: Some((*en).into()),
            })
            .collect();
        f
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    }

    #[test]
    fn every_shipped_form_passes_its_own_check() {
        let all = builtin().unwrap();
        assert_eq!(all.len(), 5);
        for b in all {
            assert_eq!(b.form.check(), Vec::<(String, String)>::new(), "{}", b.slug);
            assert!(is_slug(&b.slug));
        }
    }

    #[test]
    fn a_form_without_the_case_fields_or_with_twin_names_is_refused_by_path() {
        let mut f = builtin().unwrap().remove(0).form;
        f.steps[0].fields.retain(|x| x.name != "contact_email");
        f.steps[1].fields[0].name = "measure".into();
        f.steps[0].fields[1].kind = FieldType::Email;
        f.steps[1]
            .fields
            .push(field("website", FieldType::Text, "x", "x", false));
        let problems = f.check();
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"form"), "{problems:?}");
        assert!(
            paths.contains(&"form.steps[0].fields[1].type"),
            "{problems:?}"
        );
        assert!(
            paths.contains(&"form.steps[1].fields[2].name"),
            "{problems:?}"
        );
        assert!(
            paths.contains(&"form.steps[1].fields[5].name"),
            "{problems:?}"
        );
    }

    #[test]
    fn answers_are_checked_by_type_and_kept_in_one_form() {
        let f = |kind| field("x", kind, "X", "X", true);
        use FieldType::*;
        assert_eq!(f(Text).answer("  ", today()), Err(AnswerProblem::Required));
        let mut optional = f(Text);
        optional.required = false;
        assert_eq!(optional.answer("", today()), Ok(None));
        assert_eq!(
            f(OrgNumber).answer("5560360793", today()),
            Ok(Some("556036-0793".into()))
        );
        assert_eq!(
            f(OrgNumber).answer("556036-0794", today()),
            Err(AnswerProblem::OrgNumber)
        );
        assert_eq!(
            f(Date).answer("2027-02-30", today()),
            Err(AnswerProblem::Date)
        );
        assert_eq!(f(Number).answer("12,5", today()), Ok(Some("12,5".into())));
        assert_eq!(f(Number).answer("NaN", today()), Err(AnswerProblem::Number));
        assert_eq!(f(Email).answer("a@b", today()), Err(AnswerProblem::Email));
        assert_eq!(
            f(Email).answer(" info@foretag.se ", today()),
            Ok(Some("info@foretag.se".into()))
        );
        assert_eq!(f(Phone).answer("123", today()), Err(AnswerProblem::Phone));
        assert_eq!(
            f(Property).answer("haninge 1", today()),
            Err(AnswerProblem::Property)
        );
        assert_eq!(
            f(Text).answer(&"x".repeat(MAX_LINE + 1), today()),
            Err(AnswerProblem::TooLong(MAX_LINE))
        );
        assert_eq!(
            f(Text).answer("a\u{0}b", today()),
            Err(AnswerProblem::Characters)
        );
        let c = choice("c", "C", "C", &[("a", "Alfa", "Alpha")]);
        assert_eq!(c.answer("b", today()), Err(AnswerProblem::Choice));
        assert_eq!(c.shown("a", false), "Alfa");
        assert_eq!(c.shown("a", true), "Alpha");
        assert!(!AnswerProblem::Property.sv().is_empty());
    }

    #[test]
    fn slugs_are_plain() {
        assert!(is_slug("bygglov"));
        assert!(!is_slug("Bygglov"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
        assert!(!is_slug("a/b"));
    }
}
