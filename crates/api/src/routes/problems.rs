//! The problem+json answers that many operations document alike, each named once here for the
//! `responses(...)` of `#[utoipa::path]`: `responses((status = 200, ...), NotLoggedIn,
//! NoSuchCase)`. An answer particular to one operation, or to a few operations on one
//! resource, stays a tuple there.

use std::collections::BTreeMap;

use utoipa::ToSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Ref, RefOr};

use crate::error::{PROBLEM_JSON, Problem};

/// The answer `(status = …, description = …, body = Problem, content_type =
/// "application/problem+json")` describes.
fn problem(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(Problem::name())))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content)
        .build();
    BTreeMap::from([(status.to_string(), response.into())])
}

/// A unit type for each answer, whose `IntoResponses` is that one problem+json answer.
macro_rules! problems {
    ($($name:ident = $status:literal, $description:literal;)+) => {$(
        #[doc = concat!("`", $status, "`: ", $description, ".")]
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem($status, $description)
            }
        }
    )+};
}

problems! {
    MalformedJson = "400", "Malformed JSON";
    UnreadableMultipart = "400", "The multipart body could not be read";
    NotLoggedIn = "401", "Not logged in";
    NotSignedInCompany = "401", "Not signed in with e-legitimation";
    NotAdmin = "403", "Not an admin";
    OtherDepartmentsCase = "403", "Another department's case";
    NotReceivingDepartment = "403", "Not the receiving department";
    OfficersHaveNoMetrics = "403", "Officers have no metrics";
    OfficersHaveNoExports = "403", "Officers have no exports";
    NoSuchCase = "404", "No such case";
    NoSuchCaseOfTheirs = "404", "No such case among theirs";
    NoSuchLink = "404", "No such link, or it was revoked";
    NoSuchHandoff = "404", "No such handoff";
    NoSuchUser = "404", "No such user";
    AlreadyAnswered = "409", "The request is already answered, or the case no longer waits for it";
    StaleIfMatch = "412", "If-Match names an old version";
    TooLarge = "413", "Too large";
    DocumentTooLarge = "413", "A document exceeds the attachment limit";
    NotJson = "415", "Not JSON";
    NotMultipartDocuments = "415", "Not multipart, or a document of no accepted type";
    InvalidFields = "422", "Invalid fields";
    InvalidFieldsNamed = "422", "Invalid fields, each named";
    InvalidFilter = "422", "Invalid filter";
    BadMessageText = "422", "`text` missing, empty or over 10 000 characters";
    AnswerRefused = "422", "`text` missing, empty or over 10 000 characters; a document empty, unnamed, not what its name or type says, or more than ten; a part other than `text` and `file`";
    TooManyCompanyPosts = "429", "Over 30 messages and answers in an hour from this link or person; wait (Retry-After)";
}
