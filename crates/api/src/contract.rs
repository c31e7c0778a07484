//! What the OpenAPI document promises beyond what the Rust types say.
//!
//! The input types keep their fields optional on purpose: the services check every field and
//! answer one 422 naming all the bad ones. So the generated schemas say less than the server
//! enforces. This module completes the document once, where it is assembled: the fields each
//! body requires, the values each field takes (enums, patterns, formats, lengths), the error
//! answers every operation can give (400, 401, 404, 412, 413, 415, 422, as its shape implies),
//! and the links from an operation that creates a resource to those that use its id. A unit
//! test checks that every schema and property named here exists, so a rename cannot leave a
//! rule behind silently.

use serde_json::{Map, Value, json};

/// A field's type and constraints, by body schema and property.
struct Field {
    schema: &'static str,
    property: &'static str,
    /// Whether the server refuses the body without it (then `null` is refused too).
    required: bool,
    rule: Rule,
}

/// What a value looks like.
#[derive(Clone, Copy)]
enum Rule {
    /// One of a component enum's values (the component's name).
    OneOf(&'static str),
    /// A list of the component enum's values, at least one.
    ListOf(&'static str),
    /// Text with at least one non-blank character and no control characters, at most N chars.
    Text(usize),
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A Swedish organisation number (or a sole trader's personnummer), 10 or 12 digits.
    OrgNumber,
    /// Nothing to add but that it is required.
    Any,
}

const fn f(schema: &'static str, property: &'static str, required: bool, rule: Rule) -> Field {
    Field {
        schema,
        property,
        required,
        rule,
    }
}

use Rule::{Any, Date, ListOf, OneOf, OrgNumber, Text};

/// Body fields. Lengths are those the services check (`text_len`).
const FIELDS: &[Field] = &[
    f("TokenRequest", "username", true, Any),
    f("TokenRequest", "password", true, Any),
    f("NewCase", "org_number", true, OrgNumber),
    f("NewCase", "company_name", true, Any),
    f("NewCase", "area", true, OneOf("Area")),
    f("NewCase", "title", true, Any),
    f("NewCase", "priority", false, OneOf("Priority")),
    f("CasePatch", "priority", false, OneOf("Priority")),
    f("TransitionInput", "to", true, OneOf("CaseStatus")),
    f("TransitionInput", "decision", false, OneOf("Decision")),
    f("TransitionInput", "valid_from", false, Date),
    f("TransitionInput", "valid_to", false, Date),
    f("NewNote", "text", true, Any),
    f("NewNote", "visibility", false, OneOf("NoteVisibility")),
    f("NewBundle", "org_number", true, OrgNumber),
    f("NewBundle", "title", true, Any),
    f("BundleCaseInput", "case_id", true, Any),
    f("NewHandoff", "to_department", true, Any),
    f("NewHandoff", "kind", true, OneOf("HandoffKind")),
    f("NewHandoff", "due_date", false, Date),
    f("NewWebhook", "url", true, Any),
    f("NewWebhook", "events", true, Any),
    f("NewUser", "username", true, Any),
    f("NewUser", "password", true, Any),
    f("NewUser", "role", true, OneOf("Role")),
    f("NewDepartment", "code", true, Any),
    f("NewDepartment", "name", true, Any),
    f("NewDepartment", "diary_prefix", true, Any),
    f("NewParty", "kind", true, OneOf("PartyKind")),
    f("NewParty", "name", true, Any),
    f("NewParty", "roles", true, ListOf("PartyRole")),
    f("PartyPatch", "roles", false, ListOf("PartyRole")),
    f("NewPremises", "property_designation", true, Any),
    f("NewPremises", "premises_type", false, OneOf("PremisesType")),
    f(
        "PremisesPatch",
        "premises_type",
        false,
        OneOf("PremisesType"),
    ),
    f("NewCaseType", "area", true, OneOf("Area")),
    f("NewCaseType", "code", true, Any),
    f("NewCaseType", "label", true, Any),
    f("NewSupplementRequest", "message", true, Any),
    f("NewExtension", "reason", true, Any),
    f("DecisionCorrection", "reason", true, Any),
    f("DecisionCorrection", "outcome", false, OneOf("Decision")),
    f("DecisionCorrection", "valid_from", false, Date),
    f("DecisionCorrection", "valid_to", false, Date),
    f("NewDecisionRequest", "note", false, Text(2000)),
];

/// Bodies that change only the fields present: at least one must be.
const PATCHES: &[&str] = &[
    "CasePatch",
    "PartyPatch",
    "PremisesPatch",
    "CaseTypePatch",
    "DecisionCorrection",
];

/// Enums the generated document does not have as components, by name.
const EXTRA_ENUMS: &[(&str, &[&str])] = &[
    ("GroupBy", &["department", "area", "month"]),
    ("CaseSort", &["newest", "due_date"]),
];

/// Query parameters, by name (the same name means the same thing on every operation).
const PARAMS: &[(&str, Param)] = &[
    ("area", Param::OneOf("Area")),
    ("group_by", Param::OneOf("GroupBy")),
    ("sort", Param::OneOf("CaseSort")),
    ("kind", Param::OneOf("HandoffKind")),
    ("from", Param::Date),
    ("to", Param::Date),
    ("due_before", Param::Date),
    ("limit", Param::Limit),
    ("overdue", Param::Boolean),
    ("org_number", Param::OrgNumber),
];

#[derive(Clone, Copy)]
enum Param {
    OneOf(&'static str),
    Date,
    Limit,
    Boolean,
    OrgNumber,
}

/// Query lists of enum values, comma-separated, by operation path and parameter.
const LIST_PARAMS: &[(&str, &str, &str)] = &[
    ("/api/v1/cases", "status", "CaseStatus"),
    ("/api/v1/cases", "priority", "Priority"),
    ("/api/v1/handoffs", "status", "HandoffStatus"),
];

/// Links: (from operation, status, link name, to operation, parameter → runtime expression).
type Link = (
    (&'static str, &'static str),
    &'static str,
    &'static str,
    (&'static str, &'static str),
    &'static [(&'static str, &'static str)],
);

const CASE_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const LINKS: &[Link] = &[
    (
        ("post", "/api/v1/cases"),
        "201",
        "GetCase",
        ("get", "/api/v1/cases/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "UpdateCase",
        ("patch", "/api/v1/cases/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "TransitionCase",
        ("post", "/api/v1/cases/{id}/transitions"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "AddNote",
        ("post", "/api/v1/cases/{id}/notes"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "ListEvents",
        ("get", "/api/v1/cases/{id}/events"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "AddParty",
        ("post", "/api/v1/cases/{id}/parties"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "AddPremises",
        ("post", "/api/v1/cases/{id}/premises"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "RequestHandoff",
        ("post", "/api/v1/cases/{id}/handoffs"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "RequestSupplement",
        ("post", "/api/v1/cases/{id}/supplement-requests"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "ExtendDeadline",
        ("post", "/api/v1/cases/{id}/deadline-extensions"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "RequestDecision",
        ("post", "/api/v1/cases/{id}/decision-requests"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases"),
        "201",
        "ListAttachments",
        ("get", "/api/v1/cases/{id}/attachments"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/handoffs"),
        "201",
        "GetHandoff",
        ("get", "/api/v1/handoffs/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/handoffs"),
        "201",
        "AcceptHandoff",
        ("post", "/api/v1/handoffs/{id}/accept"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/handoffs"),
        "201",
        "CompleteHandoff",
        ("post", "/api/v1/handoffs/{id}/complete"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/handoffs"),
        "201",
        "DeclineHandoff",
        ("post", "/api/v1/handoffs/{id}/decline"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/handoffs"),
        "201",
        "CancelHandoff",
        ("post", "/api/v1/handoffs/{id}/cancel"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/bundles"),
        "201",
        "GetBundle",
        ("get", "/api/v1/bundles/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/bundles"),
        "201",
        "AddBundleCase",
        ("post", "/api/v1/bundles/{id}/cases"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/webhooks"),
        "201",
        "DeleteWebhook",
        ("delete", "/api/v1/webhooks/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/webhooks"),
        "201",
        "ListDeliveries",
        ("get", "/api/v1/webhooks/{id}/deliveries"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/cases/{id}/parties"),
        "201",
        "UpdateParty",
        ("patch", "/api/v1/cases/{id}/parties/{party_id}"),
        &[
            ("id", "$request.path.id"),
            ("party_id", "$response.body#/id"),
        ],
    ),
    (
        ("post", "/api/v1/cases/{id}/parties"),
        "201",
        "RemoveParty",
        ("delete", "/api/v1/cases/{id}/parties/{party_id}"),
        &[
            ("id", "$request.path.id"),
            ("party_id", "$response.body#/id"),
        ],
    ),
    (
        ("post", "/api/v1/cases/{id}/premises"),
        "201",
        "UpdatePremises",
        ("patch", "/api/v1/cases/{id}/premises/{premises_id}"),
        &[
            ("id", "$request.path.id"),
            ("premises_id", "$response.body#/id"),
        ],
    ),
    (
        ("post", "/api/v1/cases/{id}/premises"),
        "201",
        "RemovePremises",
        ("delete", "/api/v1/cases/{id}/premises/{premises_id}"),
        &[
            ("id", "$request.path.id"),
            ("premises_id", "$response.body#/id"),
        ],
    ),
    (
        ("post", "/api/v1/cases/{id}/supplement-requests"),
        "201",
        "ReceiveSupplement",
        (
            "post",
            "/api/v1/cases/{id}/supplement-requests/{rid}/received",
        ),
        &[("id", "$request.path.id"), ("rid", "$response.body#/id")],
    ),
    (
        ("post", "/api/v1/case-types"),
        "201",
        "UpdateCaseType",
        ("patch", "/api/v1/case-types/{id}"),
        CASE_ID,
    ),
    (
        ("post", "/api/v1/bundles"),
        "201",
        "RemoveBundleCase",
        ("delete", "/api/v1/bundles/{id}/cases/{case_id}"),
        &[
            ("id", "$response.body#/id"),
            ("case_id", "$response.body#/cases/0/case/id"),
        ],
    ),
    (
        ("post", "/api/v1/bundles/{id}/cases"),
        "201",
        "RemoveAddedCase",
        ("delete", "/api/v1/bundles/{id}/cases/{case_id}"),
        &[
            ("id", "$request.path.id"),
            ("case_id", "$request.body#/case_id"),
        ],
    ),
];

/// The kinds of file an upload may be (the server checks the bytes' magic number).
const UPLOAD_TYPES: &str = "application/pdf, image/png, image/jpeg, image/gif, image/tiff, \
    application/zip, application/vnd.openxmlformats-officedocument.wordprocessingml.document, \
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, \
    application/vnd.oasis.opendocument.text, image/vnd.dwg, text/plain";

/// `If-Match`: a version as the ETag gives it (`"3"`, `W/"3"`, also bare `3`), or `*`.
const IF_MATCH_PATTERN: &str = r#"^[ \t]*(\*|(W/)?"?[0-9]{1,18}"?)[ \t]*$"#;
/// Blank around the value is ignored; an empty value is the same as leaving the parameter out.
const BLANK: &str = "[ \\t]*";

/// Completes `doc` as the module doc says.
pub fn complete(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    add_enums(&mut value);
    let enums = enum_values(&value);
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        complete_fields(schemas, &enums);
    }
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                complete_operation(method, path, op, &enums);
            }
        }
    }
    add_links(&mut value);
    match serde_json::from_value(value) {
        Ok(mut completed) => {
            restore_order(&doc, &mut completed);
            completed
        }
        Err(e) => {
            tracing::error!(error = %e, "could not complete the OpenAPI document");
            doc
        }
    }
}

/// A JSON value's maps are sorted; put each schema's properties back in the order the code
/// gives them (new ones last).
fn restore_order(original: &utoipa::openapi::OpenApi, doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, schema::Schema};
    let position = |keys: Vec<&String>, key: &String| {
        keys.iter().position(|k| *k == key).unwrap_or(usize::MAX)
    };
    let (Some(before), Some(after)) = (&original.components, &mut doc.components) else {
        return;
    };
    for (name, schema) in after.schemas.iter_mut() {
        if let (Some(RefOr::T(Schema::Object(old))), RefOr::T(Schema::Object(new))) =
            (before.schemas.get(name), schema)
        {
            let order: Vec<&String> = old.properties.keys().collect();
            new.properties
                .sort_by_cached_key(|k, _| position(order.clone(), k));
        }
    }
}

fn add_enums(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, values) in EXTRA_ENUMS {
        schemas
            .entry(*name)
            .or_insert_with(|| json!({"type": "string", "enum": values}));
    }
}

/// Every string enum among the components, by name.
fn enum_values(doc: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, s) in schemas {
            if let Some(values) = s.get("enum") {
                out.insert(name.clone(), values.clone());
            }
        }
    }
    out
}

fn complete_fields(schemas: &mut Map<String, Value>, enums: &Map<String, Value>) {
    for field in FIELDS {
        let Some(schema) = schemas.get_mut(field.schema) else {
            continue;
        };
        let Some(prop) = schema.pointer_mut(&format!("/properties/{}", field.property)) else {
            continue;
        };
        let mut new = field_schema(field.rule, prop, enums);
        if field.required {
            strip_null(&mut new);
        }
        if let Some(description) = prop.get("description").cloned() {
            new["description"] = description;
        }
        *prop = new;
        if field.required {
            let required = schema
                .as_object_mut()
                .map(|o| o.entry("required").or_insert_with(|| json!([])));
            if let Some(Value::Array(list)) = required {
                let name = Value::from(field.property);
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
    }
    // The upload's parts are its fields; others are refused.
    if let Some(Value::Object(upload)) = schemas.get_mut("AttachmentUpload") {
        upload.insert("additionalProperties".into(), json!(false));
    }
    for name in PATCHES {
        if let Some(Value::Object(schema)) = schemas.get_mut(*name) {
            schema.insert("minProperties".into(), json!(1));
        }
    }
}

fn field_schema(rule: Rule, current: &Value, enums: &Map<String, Value>) -> Value {
    let nullable = json!(["string", "null"]);
    match rule {
        Any => current.clone(),
        OneOf(name) => {
            let mut values = enums.get(name).cloned().unwrap_or_else(|| json!([]));
            if let Value::Array(v) = &mut values {
                v.push(Value::Null);
            }
            json!({"type": nullable, "enum": values})
        }
        ListOf(name) => json!({
            "type": ["array", "null"], "minItems": 1,
            "items": {"type": "string", "enum": enums.get(name).cloned().unwrap_or_else(|| json!([]))}
        }),
        Text(max) => json!({"type": nullable, "maxLength": max, "pattern": text_pattern()}),
        Date => json!({"type": nullable, "anyOf": date_or_blank(true)}),
        OrgNumber => json!({"type": nullable, "pattern": org_number_pattern()}),
    }
}

/// A date, or blank for none (as the services read an empty date field).
fn date_or_blank(nullable: bool) -> Value {
    let mut alternatives = vec![
        json!({"type": "string", "format": "date"}),
        json!({"type": "string", "pattern": format!("^{BLANK}$")}),
    ];
    if nullable {
        alternatives.push(json!({"type": "null"}));
    }
    Value::Array(alternatives)
}

/// No control characters but tab and line breaks, and something besides blanks.
fn text_pattern() -> &'static str {
    r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
}

fn org_number_pattern() -> &'static str {
    r"^[ \t]*([0-9]{6}|[0-9]{8})[-+]?[0-9]{4}[ \t]*$"
}

fn strip_null(schema: &mut Value) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types[0].clone();
            schema["type"] = t;
        }
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn complete_operation(method: &str, path: &str, op: &mut Value, enums: &Map<String, Value>) {
    let Some(op) = op.as_object_mut() else {
        return;
    };
    if path == "/api/v1/cases/{id}/attachments"
        && let Some(Value::Object(media)) = op
            .get_mut("requestBody")
            .and_then(|b| b.pointer_mut("/content/multipart~1form-data"))
    {
        media.insert(
            "encoding".into(),
            json!({"file": {"contentType": UPLOAD_TYPES, "headers": {}}}),
        );
    }
    if path == "/api/v1/import/cases"
        && let Some(Value::Object(body)) = op.get_mut("requestBody")
    {
        // An empty history imports nothing (200, `lines: 0`).
        body.insert("required".into(), json!(false));
    }
    let mut add: Vec<(&str, &str)> = Vec::new();
    let body_types: Vec<String> = op
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    if !body_types.is_empty() {
        add.push(("400", "The body could not be read, or is not well-formed"));
        add.push(("413", "The body is too large"));
        add.push(("415", "The body is not of a type this operation takes"));
        add.push(("422", "Invalid fields, each named"));
    }
    if let Some(Value::Array(params)) = op.get_mut("parameters") {
        for p in params.iter_mut() {
            complete_parameter(path, p, enums, &mut add);
        }
    }
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
    if path.starts_with("/api/v1/") && !public && !path.ends_with("/auth/token") {
        add.push(("401", "Not logged in"));
    }
    if path.contains('{') {
        add.push(("404", "No such resource, or not one the caller may see"));
    }
    if matches!((method, path), ("post" | "patch" | "delete", p) if p.contains("/parties") || p.contains("/premises"))
    {
        add.push((
            "409",
            "The case is closed or withdrawn: its record no longer changes",
        ));
    }
    let Some(Value::Object(responses)) = op.get_mut("responses") else {
        return;
    };
    for (status, description) in add {
        responses
            .entry(status)
            .or_insert_with(|| problem(description));
    }
    // Every error is problem+json; an import's report of bad lines may be JSON as well.
    for (status, response) in responses.iter_mut() {
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        let Some(Value::Object(content)) = response.get_mut("content") else {
            continue;
        };
        if content.contains_key("application/problem+json") {
            continue;
        }
        let is_problem = content
            .get("application/json")
            .and_then(|c| c.pointer("/schema/$ref"))
            .is_some_and(|r| r == "#/components/schemas/Problem");
        if is_problem {
            if let Some(c) = content.remove("application/json") {
                content.insert("application/problem+json".into(), c);
            }
        } else if content.contains_key("application/json") {
            content.insert(
                "application/problem+json".into(),
                json!({"schema": {"$ref": "#/components/schemas/Problem"}}),
            );
        }
    }
}

fn complete_parameter(
    path: &str,
    p: &mut Value,
    enums: &Map<String, Value>,
    add: &mut Vec<(&'static str, &'static str)>,
) {
    let location = p
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = p
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if location == "header" && name.eq_ignore_ascii_case("if-match") {
        p["schema"] = json!({"type": "string", "pattern": IF_MATCH_PATTERN});
        add.push(("400", "If-Match is not an ETag this API gives out"));
        add.push(("412", "If-Match names an old version"));
        return;
    }
    if location != "query" {
        return;
    }
    add.push(("422", "An invalid query parameter, named"));
    let list = LIST_PARAMS
        .iter()
        .find(|(p, n, _)| *p == path && *n == name)
        .map(|(_, _, e)| *e);
    if let Some(enum_name) = list {
        let alt = alternatives(enums, enum_name);
        let item = format!("{BLANK}({alt}){BLANK}");
        p["schema"] =
            json!({"type": "string", "pattern": format!("^{BLANK}(({item})(,{item})*)?{BLANK}$")});
        return;
    }
    let Some((_, rule)) = PARAMS.iter().find(|(n, _)| *n == name) else {
        return;
    };
    p["schema"] = match rule {
        Param::OneOf(enum_name) => {
            let alt = alternatives(enums, enum_name);
            json!({"type": "string", "pattern": format!("^{BLANK}({alt})?{BLANK}$")})
        }
        Param::Date => json!({"type": "string", "anyOf": date_or_blank(false)}),
        Param::Limit => json!({"type": "string",
            "pattern": format!("^{BLANK}(0*([1-9]|[1-9][0-9]|[1-4][0-9][0-9]|500))?{BLANK}$")}),
        Param::Boolean => {
            json!({"type": "string", "pattern": format!("^{BLANK}(true|false)?{BLANK}$")})
        }
        Param::OrgNumber => json!({"type": "string",
            "pattern": format!("^{BLANK}(([0-9]{{6}}|[0-9]{{8}})[-+]?[0-9]{{4}})?{BLANK}$")}),
    };
}

fn alternatives(enums: &Map<String, Value>, name: &str) -> String {
    enums
        .get(name)
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default()
}

fn add_links(doc: &mut Value) {
    for ((method, path), status, name, (to_method, to_path), params) in LINKS {
        let operation_ref = format!(
            "#/paths/{}/{to_method}",
            to_path.replace('~', "~0").replace('/', "~1")
        );
        let parameters: Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
            .collect();
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(Value::Object(response)) = doc.pointer_mut(&pointer) {
            let links = response.entry("links").or_insert_with(|| json!({}));
            links[*name] = json!({"operationRef": operation_ref, "parameters": parameters});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_something_that_exists() {
        let doc = serde_json::to_value(crate::api_doc_uncompleted()).unwrap();
        let mut with_enums = doc.clone();
        add_enums(&mut with_enums);
        let enums = enum_values(&with_enums);
        for field in FIELDS {
            assert!(
                doc.pointer(&format!(
                    "/components/schemas/{}/properties/{}",
                    field.schema, field.property
                ))
                .is_some(),
                "{}.{} is not in the document",
                field.schema,
                field.property
            );
            if let OneOf(e) | ListOf(e) = field.rule {
                assert!(enums.contains_key(e), "no enum {e}");
            }
        }
        for name in PATCHES {
            assert!(
                doc.pointer(&format!("/components/schemas/{name}"))
                    .is_some(),
                "{name}"
            );
        }
        for ((m, p), status, name, (tm, tp), _) in LINKS {
            let esc = |s: &str| s.replace('/', "~1");
            assert!(
                doc.pointer(&format!("/paths/{}/{m}/responses/{status}", esc(p)))
                    .is_some(),
                "link {name}: {m} {p} answers no {status}"
            );
            assert!(
                doc.pointer(&format!("/paths/{}/{tm}", esc(tp))).is_some(),
                "link {name}: no {tm} {tp}"
            );
        }
        for (p, n, e) in LIST_PARAMS {
            assert!(enums.contains_key(*e), "no enum {e}");
            let params = doc
                .pointer(&format!("/paths/{}/get/parameters", p.replace('/', "~1")))
                .and_then(Value::as_array)
                .unwrap();
            assert!(params.iter().any(|x| x["name"] == *n), "{p} has no {n}");
        }
    }

    #[test]
    fn the_served_document_carries_the_contract() {
        let doc = serde_json::to_value(crate::openapi()).unwrap();
        let if_match = doc
            .pointer("/paths/~1api~1v1~1cases~1{id}/patch/parameters")
            .and_then(Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p["name"] == "If-Match"))
            .unwrap();
        assert_eq!(if_match["schema"]["pattern"], IF_MATCH_PATTERN);
        let case = doc.pointer("/components/schemas/NewCase/required").unwrap();
        assert!(case.as_array().unwrap().contains(&json!("org_number")));
    }
}
