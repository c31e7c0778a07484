//! The full case record end to end: parties, premises, decisions with their legal basis, notes,
//! priority, labels, case types, attachments, confidentiality and the field-level history.

use serde_json::{Value, json};

use crate::helpers::{
    Reply, TestApp, assert_contains, ids, read, spawn_app_as, spawn_app_with, strings_of,
};
use crate::hooks::{Receiver, settle, subscribe};

/// A real personnummer shape with a valid check digit (the Tax Agency's test series).
const PERSON: &str = "19811218-9876";
const SECRET_NOTE: &str = "Skyddad identitet: sökanden bor på skyddad adress";
const SECRET_TITLE: &str = "Skyddat boende Söderby";

async fn events(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

fn last_of<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .rev()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:?}"))
}

/// Sends a multipart upload by hand: one `file` part and the given text parts.
pub async fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    file: Option<(&str, &str, &[u8])>,
    fields: &[(&str, &str)],
) -> Reply {
    let boundary = "lots-test-boundary-7d9a";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    post_multipart(app, token, id, boundary, body).await
}

/// Posts `body`, a multipart form whose parts `boundary` separates, to case `id`'s attachments
/// as `token`'s user.
async fn post_multipart(
    app: &TestApp,
    token: &str,
    id: i64,
    boundary: &str,
    body: Vec<u8>,
) -> Reply {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/cases/{id}/attachments")))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    read(resp).await
}

const PDF: &str = "application/pdf";

/// Case `id`'s attachments, as `token`'s user uploads them with `upload`.
struct Uploads<'a> {
    app: &'a TestApp,
    token: &'a str,
    id: i64,
}

impl<'a> Uploads<'a> {
    fn new(app: &'a TestApp, token: &'a str, id: i64) -> Self {
        Self { app, token, id }
    }

    /// One file, `name` of `content_type`, and no other part.
    async fn file(&self, name: &str, content_type: &str, bytes: &[u8]) -> Reply {
        self.with(&[], name, content_type, bytes).await
    }

    /// One file with its `category`.
    async fn in_category(
        &self,
        category: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Reply {
        self.with(&[("category", category)], name, content_type, bytes)
            .await
    }

    /// One file with the text parts `fields`.
    async fn with(
        &self,
        fields: &[(&str, &str)],
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Reply {
        upload(
            self.app,
            self.token,
            self.id,
            Some((name, content_type, bytes)),
            fields,
        )
        .await
    }
}

fn pdf(extra: &str) -> Vec<u8> {
    format!("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% {extra}\n%%EOF\n").into_bytes()
}

async fn consult(app: &TestApp, token: &str, id: i64, to: &str) {
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/handoffs"),
        Some(token),
        &json!({"to_department": to, "kind": "consultation", "message": "Yttrande önskas"}),
    )
    .await;
}

#[tokio::test]
async fn parties_are_added_changed_and_removed_with_their_history() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let parties = format!("/api/v1/cases/{id}/parties");

    // Bad input names every field and writes nothing.
    let r = app
        .post(
            &parties,
            Some(&anna),
            &json!({"kind": "organisation", "org_number": "556012-5791", "name": "", "roles": ["applicant", "boss"], "email": "nope"}),
        )
        .await;
    let mut fields = r.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["email", "name", "org_number", "roles[1]"]);
    for (number, reason) in [
        ("811218-9875", "check digit"),
        ("811318-9875", "not a real date"),
        ("20811218-9876", "future"),
    ] {
        let r = app
            .post(
                &parties,
                Some(&anna),
                &json!({"kind": "person", "personal_number": number, "name": "Anna", "roles": ["agent"]}),
            )
            .await;
        assert_eq!(r.invalid_fields(), ["personal_number"], "{number}");
        assert!(r.text.contains(reason), "{number}: {}", r.text);
    }
    assert_eq!(app.count("case_party").await, 0);

    let owner = app
        .post_expecting(
            201,
            &parties,
            Some(&anna),
            &json!({"kind": "organisation", "org_number": "5560747569", "name": "Fastighets AB Söderby",
                    "roles": ["property_owner"], "email": "info@soderby.se"}),
        )
        .await;
    assert_eq!(owner.body["org_number"], "556074-7569");
    let agent = app
        .post_expecting(
            201,
            &parties,
            Some(&anna),
            &json!({"kind": "person", "personal_number": "811218-9876", "name": "Per Persson",
                    "roles": ["agent", "contact"], "phone": "070-123 45 67", "address": "Storgatan 1, Haninge"}),
        )
        .await;
    assert_eq!(agent.body["personal_number"], PERSON);
    assert_eq!(agent.body["roles"], json!(["contact", "agent"]));
    // A samordningsnummer is a person's number too.
    app.post_expecting(
        201,
        &parties,
        Some(&anna),
        &json!({"kind": "person", "personal_number": "701063-2391", "name": "Sam Ordning", "roles": ["signatory"]}),
    )
    .await;

    // Change: the event holds the old and the new value.
    let agent_id = agent.body["id"].as_i64().unwrap();
    let agent_path = format!("{parties}/{agent_id}");
    let r = app
        .patch_if(
            &agent_path,
            &anna,
            1,
            json!({"roles": ["agent"], "phone": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["phone"], Value::Null);
    assert_eq!(r.body["version"], 2);
    let stale = app
        .patch_if(&agent_path, &anna, 1, json!({"name": "P. Persson"}))
        .await;
    stale.problem(412);
    let ev = events(&app, &anna, id).await;
    let changed = last_of(&ev, "party_changed");
    assert_eq!(
        changed["data"]["changes"]["roles"],
        json!({"from": ["contact", "agent"], "to": ["agent"]})
    );
    assert_eq!(
        changed["data"]["changes"]["phone"],
        json!({"from": "070-123 45 67", "to": null})
    );
    assert_eq!(
        last_of(&ev, "party_added")["data"]["party"]["name"],
        "Sam Ordning"
    );

    // Another department's officer may not add parties.
    let omar = app.token("omar").await;
    app.post(
        &parties,
        Some(&omar),
        &json!({"kind": "organisation", "org_number": "556012-5790", "name": "X", "roles": ["applicant"]}),
    )
    .await
    .problem(404);

    // Remove: gone from the list, its snapshot kept in the event.
    assert_eq!(app.delete(&agent_path, &anna).await.status, 204);
    let list = app.get(&parties, Some(&anna)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let ev = events(&app, &anna, id).await;
    assert_eq!(
        last_of(&ev, "party_removed")["data"]["party"]["personal_number"],
        PERSON
    );
    app.delete(&agent_path, &anna).await.problem(404);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&app.db).await > 1);
}

#[tokio::test]
async fn personal_data_is_masked_outside_the_owning_department() {
    let (app, [anna, omar]) = spawn_app_as(["anna", "omar"]).await;
    let id = app.case_id(&anna, json!({})).await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/parties"),
        Some(&anna),
        &json!({"kind": "person", "personal_number": PERSON, "name": "Per Persson",
                    "roles": ["agent"], "email": "per@example.se"}),
    )
    .await;
    consult(&app, &anna, id, "MHF").await;

    // The consulted department reads the case, but not the person's data.
    let r = app
        .get(&format!("/api/v1/cases/{id}/parties"), Some(&omar))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = &r.body["items"][0];
    assert_eq!(p["personal_number"], "19811218-****");
    assert_eq!(p["name"], "[personuppgift]");
    assert_eq!(p["email"], "[personuppgift]");
    assert_eq!(p["roles"], json!(["agent"]));
    let r = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&omar))
        .await;
    assert!(!r.text.contains(PERSON), "{}", r.text);
    assert!(!r.text.contains("Per Persson"), "{}", r.text);
    assert!(!r.text.contains("per@example.se"), "{}", r.text);
    // The owner sees everything.
    let r = app
        .get(&format!("/api/v1/cases/{id}/events"), Some(&anna))
        .await;
    assert_contains(&r.text, PERSON);
}

#[tokio::test]
async fn the_company_view_finds_a_company_through_any_of_its_roles() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    // Exempel AB applies; Söderby Krog AB is the operator on that case.
    let id = app.case_id(&anna, json!({})).await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/parties"),
        Some(&anna),
        &json!({"kind": "organisation", "org_number": "556074-7569", "name": "Söderby Krog AB",
                    "roles": ["operator", "invoice_recipient"]}),
    )
    .await;
    let r = app.get("/api/v1/companies/5560747569", Some(&anna)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Söderby Krog AB");
    let cases = r.body["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{}", r.text);
    assert_eq!(cases[0]["case"]["id"], id);
    assert_eq!(cases[0]["roles"], json!(["operator", "invoice_recipient"]));
    // The applicant's own view still has it, as applicant.
    let r = app.get("/api/v1/companies/556012-5790", Some(&anna)).await;
    assert_eq!(r.body["cases"][0]["roles"], json!(["applicant"]));
}

#[tokio::test]
async fn premises_have_one_main_and_cases_list_by_property() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let a = app.case_id(&anna, json!({})).await;
    let b = app.case_id(&anna, json!({})).await;
    let premises = format!("/api/v1/cases/{a}/premises");

    let r = app
        .post(
            &premises,
            Some(&anna),
            &json!({"property_designation": "Söderby 1:23", "premises_type": "castle"}),
        )
        .await;
    let mut fields = r.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["premises_type", "property_designation"]);
    let r = app
        .post(
            &premises,
            Some(&anna),
            &json!({"property_designation": "Haninge Söderby 1:0"}),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["property_designation"]);

    let first = app
        .post_expecting(
            201,
            &premises,
            Some(&anna),
            &json!({"property_designation": "  Haninge  Söderby 1:23 ", "address": "Söderbyvägen 4",
                    "sign_name": "Söderby Krog", "premises_type": "restaurant"}),
        )
        .await;
    assert_eq!(first.body["property_designation"], "Haninge Söderby 1:23");
    assert_eq!(first.body["main"], true, "the first premises are main");
    let second = app
        .post_expecting(
            201,
            &premises,
            Some(&anna),
            &json!({"property_designation": "Haninge Norra Söderby 2:7", "premises_type": "warehouse", "main": true}),
        )
        .await;
    let list = app.get(&premises, Some(&anna)).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], second.body["id"], "main first");
    assert_eq!(items[1]["main"], false);
    let ev = events(&app, &anna, a).await;
    assert_eq!(
        last_of(&ev, "premises_changed")["data"]["changes"]["main"],
        json!({"from": true, "to": false})
    );

    // Change the sign; the history has old and new.
    let first_id = first.body["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("{premises}/{first_id}"),
            Some(&anna),
            &json!({"sign_name": "Söderby Krog & Bar", "main": true}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["main"], true);
    let ev = events(&app, &anna, a).await;
    assert_eq!(
        last_of(&ev, "premises_changed")["data"]["changes"]["sign_name"],
        json!({"from": "Söderby Krog", "to": "Söderby Krog & Bar"})
    );

    // Case b is on the same property.
    app.post(
        &format!("/api/v1/cases/{b}/premises"),
        Some(&anna),
        &json!({"property_designation": "Haninge Söderby 1:23"}),
    )
    .await;
    let mut found = ids(&app, &anna, "property=Haninge%20S%C3%B6derby%201:23").await;
    found.sort();
    assert_eq!(found, [a, b]);
    assert_eq!(
        ids(&app, &anna, "property=Haninge%20Norra%20S%C3%B6derby%202:7").await,
        [a]
    );
    app.get("/api/v1/cases?property=Söderby", Some(&anna))
        .await
        .invalid_fields();

    // A closed case is archived as it was.
    app.transition(&anna, b, json!({"to": "withdrawn"})).await;
    app.post(
        &format!("/api/v1/cases/{b}/premises"),
        Some(&anna),
        &json!({"property_designation": "Haninge Söderby 1:24"}),
    )
    .await
    .problem(409);

    // Removing the main premises makes the remaining one main.
    assert_eq!(
        app.delete(&format!("{premises}/{first_id}"), &anna)
            .await
            .status,
        204
    );
    let list = app.get(&premises, Some(&anna)).await;
    assert_eq!(list.body["items"][0]["main"], true);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&app.db).await > 1);
}

#[tokio::test]
async fn a_decision_carries_its_legal_basis_and_is_corrected_never_edited() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    app.transition(&anna, id, json!({"to": "in_progress"}))
        .await;

    // A malformed legal basis decides nothing.
    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "decided", "decision": "approved",
                   "legal_basis": ["SFS 2010:900 9 kap. 31 §", "Bygglagen", {"sfs": "2010-900"}],
                   "valid_from": "2026-12-01", "valid_to": "2026-11-01"}),
        )
        .await;
    let mut fields = r.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["legal_basis[1]", "legal_basis[2]", "valid_to"]);
    assert_eq!(app.case_body(&anna, id).await["status"], "in_progress");
    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "decided", "decision": "rejected", "valid_to": "2027-01-01"}),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["valid_from"]);
    let r = app
        .transition(&anna, id, json!({"to": "in_progress", "text": "x"}))
        .await;
    assert_eq!(r.invalid_fields(), ["text"]);
    assert_eq!(app.count("case_decision").await, 0);

    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "decided", "decision": "approved",
                   "legal_basis": ["PBL 9 kap. 31 §", {"sfs": "2010:900", "chapter": 9, "section": "31 b"}],
                   "text": "Bygglov beviljas för nybyggnad av restaurang.",
                   "valid_from": "2026-12-01", "valid_to": "2031-12-01"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["decision"], "approved");
    let d = app
        .get(&format!("/api/v1/cases/{id}/decision"), Some(&anna))
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    let current = &d.body["current"];
    assert_eq!(current["outcome"], "approved");
    assert_eq!(current["decided_by"], "anna");
    assert_eq!(current["valid_to"], "2031-12-01");
    assert_eq!(
        current["legal_basis"],
        json!([{"sfs": "2010:900", "chapter": 9, "section": "31", "text": "SFS 2010:900 9 kap. 31 §"},
               {"sfs": "2010:900", "chapter": 9, "section": "31 b", "text": "SFS 2010:900 9 kap. 31 b §"}])
    );
    let first_id = current["id"].as_i64().unwrap();

    // A correction needs a reason, and is a new decision naming the old one.
    let corrections = format!("/api/v1/cases/{id}/decision/corrections");
    let r = app
        .post(&corrections, Some(&anna), &json!({"text": "ny text"}))
        .await;
    assert_eq!(r.invalid_fields(), ["reason"]);
    let r = app
        .post_expecting(
            201,
            &corrections,
            Some(&anna),
            &json!({"reason": "Fel lagrum i beslutet", "legal_basis": ["SFS 2010:900 9 kap. 30 §"]}),
        )
        .await;
    assert_eq!(r.body["current"]["corrects_id"], first_id);
    assert_eq!(
        r.body["current"]["text"],
        "Bygglov beviljas för nybyggnad av restaurang."
    );
    assert_eq!(
        r.body["current"]["legal_basis"][0]["text"],
        "SFS 2010:900 9 kap. 30 §"
    );
    let history = r.body["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0]["legal_basis"].as_array().unwrap().len(),
        2,
        "the original is unchanged"
    );
    let ev = events(&app, &anna, id).await;
    let corrected = last_of(&ev, "decision_corrected");
    assert_eq!(corrected["data"]["reason"], "Fel lagrum i beslutet");
    assert_eq!(
        corrected["data"]["changes"]["legal_basis"]["to"][0]["text"],
        "SFS 2010:900 9 kap. 30 §"
    );
    assert!(ev.iter().any(|e| e["kind"] == "decision_registered"));
    // Correcting the outcome changes the case's decision too.
    app.post_expecting(
        201,
        &corrections,
        Some(&anna),
        &json!({"reason": "Omprövning", "outcome": "rejected", "valid_from": null, "valid_to": null}),
    )
    .await;
    assert_eq!(app.case_body(&anna, id).await["decision"], "rejected");
    // An open case has nothing to correct.
    let open = app.case_id(&anna, json!({})).await;
    app.post(
        &format!("/api/v1/cases/{open}/decision/corrections"),
        Some(&anna),
        &json!({"reason": "x", "text": "y"}),
    )
    .await
    .problem(409);
    app.get(&format!("/api/v1/cases/{open}/decision"), Some(&anna))
        .await
        .problem(404);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&app.db).await > 1);
}

#[tokio::test]
async fn notes_priority_labels_and_case_types() {
    let (app, [anna, root]) = spawn_app_as(["anna", "root"]).await;

    // Case types are data: listed, extended and deactivated by an admin.
    let r = app
        .get("/api/v1/case-types?area=serving_licence", Some(&anna))
        .await;
    let codes = strings_of(&r.body["items"], "code");
    assert_eq!(
        codes,
        ["permanent", "temporary_public", "temporary_private"]
    );
    app.post(
        "/api/v1/case-types",
        Some(&anna),
        &json!({"area": "building_permit", "code": "solar_panels", "label": "Solceller"}),
    )
    .await
    .problem(403);
    let t = app.add_solar_panels_type(&root).await;
    app.post(
        "/api/v1/case-types",
        Some(&root),
        &json!({"area": "building_permit", "code": "solar_panels", "label": "Igen"}),
    )
    .await
    .problem(409);
    let case = app
        .create_case(&anna, json!({"case_type": "solar_panels", "priority": "high", "labels": ["uteservering", "uteservering", "prio"]}))
        .await;
    assert_eq!(case["case_type"], "solar_panels");
    assert_eq!(case["priority"], "high");
    assert_eq!(case["labels"], json!(["uteservering", "prio"]));
    // The older types still work, and building still defaults to a permit.
    assert_eq!(
        app.create_case(&anna, json!({})).await["case_type"],
        "permit"
    );
    let food = app
        .create_case(
            &anna,
            json!({"area": "food_control", "case_type": "registration"}),
        )
        .await;
    assert_eq!(food["case_type"], "registration");
    let t_id = t.body["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/case-types/{t_id}"),
            Some(&root),
            &json!({"active": false}),
            None,
        )
        .await;
    assert_eq!(r.body["active"], false);
    let r = app
        .post(
            "/api/v1/cases",
            Some(&anna),
            &json!({"org_number": "556012-5790", "company_name": "Exempel AB", "area": "building_permit",
                    "case_type": "solar_panels", "title": "Solceller", "priority": "asap"}),
        )
        .await;
    let mut fields = r.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["case_type", "priority"]);

    // Priority and labels change with the history's old and new value.
    let id = case["id"].as_i64().unwrap();
    let r = app
        .patch_case(
            &anna,
            id,
            json!({"priority": "urgent", "labels": ["brådskande"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["priority"], "urgent");
    let ev = events(&app, &anna, id).await;
    let changes = &last_of(&ev, "updated")["data"]["changes"];
    assert_eq!(changes["priority"], json!({"from": "high", "to": "urgent"}));
    assert_eq!(
        changes["labels"],
        json!({"from": ["uteservering", "prio"], "to": ["brådskande"]})
    );
    assert_eq!(ids(&app, &anna, "priority=urgent").await, [id]);
    assert_eq!(ids(&app, &anna, "label=br%C3%A5dskande").await, [id]);
    assert!(ids(&app, &anna, "label=uteservering").await.is_empty());

    // Notes are internal by default, or public.
    let notes = format!("/api/v1/cases/{id}/notes");
    let r = app
        .post(&notes, Some(&anna), &json!({"text": "Internt"}))
        .await;
    assert_eq!(r.body["visibility"], "internal");
    let r = app
        .post_expecting(
            201,
            &notes,
            Some(&anna),
            &json!({"text": "Till företaget", "visibility": "public"}),
        )
        .await;
    assert_eq!(r.body["visibility"], "public");
    let r = app
        .post(
            &notes,
            Some(&anna),
            &json!({"text": "x", "visibility": "public", "confidential": {"statute": "OSL 26 kap. 1 §"}}),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["visibility"]);
    let r = app
        .post(
            &notes,
            Some(&anna),
            &json!({"text": "x", "confidential": {"statute": "PBL 9 kap. 31 §"}}),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["confidential.statute"]);
}

#[tokio::test]
async fn attachments_are_streamed_checked_and_kept_once() {
    let app = spawn_app_with(|c| c.attachment_limit_bytes = 64 * 1024).await;
    let anna = app.token("anna").await;
    let id = app.case_id(&anna, json!({})).await;
    let other = app.case_id(&anna, json!({})).await;
    let drawing = pdf("fasadritning");
    let to_case = Uploads::new(&app, &anna, id);

    let r = to_case
        .in_category("drawing", "fasadritning.pdf", PDF, &drawing)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["size"], drawing.len());
    assert_eq!(r.body["content_type"], "application/pdf");
    assert_eq!(r.body["category"], "drawing");
    assert_eq!(r.body["created_by"], "anna");
    let sha = r.body["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    let aid = r.body["id"].as_i64().unwrap();
    let dir = app.config.attachments_dir.clone().unwrap();
    let stored = dir.join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&stored).unwrap(), drawing);

    // The same file on the same case again: the attachment already there.
    let again = to_case.file("kopia.pdf", PDF, &drawing).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["id"], aid);
    // On another case it is a new attachment, but the bytes are kept once.
    let r = Uploads::new(&app, &anna, other)
        .file("f.pdf", PDF, &drawing)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let files: usize = std::fs::read_dir(dir.join(&sha[..2])).unwrap().count();
    assert_eq!(files, 1);
    assert_eq!(app.count("case_attachment").await, 2);

    // An Office document is a zip inside; a photo by its magic number.
    const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let docx = b"PK\x03\x04\x14\0\x06\0[Content_Types].xml".to_vec();
    let r = to_case
        .in_category("consultation", "yttrande.docx", DOCX, &docx)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let jpeg = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec();
    let r = to_case
        .in_category("photo", "foto.jpg", "image/jpeg", &jpeg)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let listed = app
        .get(&format!("/api/v1/cases/{id}/attachments"), Some(&anna))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);

    // Empty, too large, mislabelled, unknown, missing.
    let r = to_case.file("tom.pdf", PDF, b"").await;
    assert_eq!(r.invalid_fields(), ["file"]);
    assert_contains(&r.text, "empty");
    let big = [pdf("x"), vec![b'a'; 70 * 1024]].concat();
    let r = to_case.file("stor.pdf", PDF, &big).await;
    assert!(
        r.problem_detail(413)
            .contains("the file exceeds the limit of 65536 bytes")
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let r = to_case.file("bild.png", PDF, &png).await;
    assert_eq!(r.invalid_fields(), ["file"]);
    assert_contains(
        &r.text,
        "declared as application/pdf but its content is image/png",
    );
    let r = to_case
        .file("ritning.pdf", "application/octet-stream", &png)
        .await;
    assert_eq!(r.invalid_fields(), ["file"]);
    assert_contains(&r.text, "named `ritning.pdf`");
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec();
    let r = to_case
        .file("program.exe", "application/octet-stream", &exe)
        .await;
    r.problem(415);
    let r = upload(&app, &anna, id, None, &[("category", "drawing")]).await;
    assert_eq!(r.invalid_fields(), ["file"]);
    let r = to_case
        .in_category("blueprint", "a.png", "image/png", &png)
        .await;
    assert_eq!(r.invalid_fields(), ["category"]);
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/attachments"),
            Some(&anna),
            &json!({}),
        )
        .await;
    r.problem(415);
    assert_eq!(
        app.count("case_attachment").await,
        4,
        "nothing partial was kept"
    );
    let leftovers = std::fs::read_dir(dir.join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "no temporary file is left behind");

    // Download: the bytes, their type and name.
    let resp = app
        .get_response(
            &format!("/api/v1/cases/{id}/attachments/{aid}/content"),
            &anna,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(
        resp.headers()["content-length"].to_str().unwrap(),
        drawing.len().to_string()
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("fasadritning.pdf")
    );
    assert_eq!(resp.bytes().await.unwrap().to_vec(), drawing);
    // Access as for the case: another department gets 404.
    let omar = app.token("omar").await;
    app.get(
        &format!("/api/v1/cases/{id}/attachments/{aid}/content"),
        Some(&omar),
    )
    .await
    .problem(404);
    app.get(&format!("/api/v1/cases/{id}/attachments"), Some(&omar))
        .await
        .problem(404);

    // Delete: an event, and the row stays as the audit record.
    let r = app
        .delete(
            &format!("/api/v1/cases/{id}/attachments/{aid}?reason=Fel%20fil"),
            &anna,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let list = app
        .get(&format!("/api/v1/cases/{id}/attachments"), Some(&anna))
        .await;
    let left = strings_of(&list.body["items"], "name");
    assert_eq!(left, ["yttrande.docx", "foto.jpg"]);
    app.get(
        &format!("/api/v1/cases/{id}/attachments/{aid}/content"),
        Some(&anna),
    )
    .await
    .problem(404);
    assert_eq!(
        app.count_where(
            "case_attachment",
            &format!("id = {aid} AND deleted_at IS NOT NULL AND delete_reason = 'Fel fil'")
        )
        .await,
        1
    );
    let ev = events(&app, &anna, id).await;
    assert_eq!(last_of(&ev, "attachment_deleted")["data"]["sha256"], sha);
    let added: Vec<&str> = ev
        .iter()
        .filter(|e| e["kind"] == "attachment_added")
        .map(|e| e["data"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["fasadritning.pdf", "yttrande.docx", "foto.jpg"]);
    // What the case page reads of these rows, read both ways.
    assert!(crate::helpers::assert_direct_reads_agree(&app.db).await > 1);
}

/// Starts an upload over a raw connection and stops half-way: the request head, the `file`
/// part's head and the first 8 KiB of a PDF, in a body whose length promises much more.
async fn stalled_upload(app: &TestApp, token: &str, id: i64) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let boundary = "lots-test-boundary-stall";
    let mut sent = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ritning.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    sent.extend_from_slice(&pdf(&"x".repeat(8192)));
    let addr = app.base.trim_start_matches("http://");
    let head = format!(
        "POST /api/v1/cases/{id}/attachments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        sent.len() + 1_000_000
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&sent).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// The temporary files of uploads in progress.
fn part_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let tmp = app.config.attachments_dir.clone().unwrap().join("tmp");
    match std::fs::read_dir(tmp) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "part"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Waits until `done` holds, for at most 20 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// An officer who starts an upload and stalls until the request times out leaves nothing on
/// the disk: the temporary file goes with the request, and nothing is recorded.
#[tokio::test]
async fn an_upload_that_times_out_leaves_no_temporary_file() {
    use tokio::io::AsyncReadExt;
    let app = spawn_app_with(|c| c.request_timeout_seconds = 2).await;
    let anna = app.token("anna").await;
    let id = app.case_id(&anna, json!({})).await;
    let mut stream = stalled_upload(&app, &anna, id).await;
    wait_until("the upload never reached the disk", || {
        !part_files(&app).is_empty()
    })
    .await;

    // The server gives up on the request and answers 503 on the still open connection.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while !String::from_utf8_lossy(&answer).contains("/problems/timeout") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to the stalled upload");
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("/problems/timeout"), "{answer}");

    assert_eq!(part_files(&app), Vec::<std::path::PathBuf>::new());
    assert_eq!(app.count("case_attachment").await, 0);
    let ev = events(&app, &anna, id).await;
    assert!(ev.iter().all(|e| e["kind"] != "attachment_added"), "{ev:?}");
}

/// A client that goes away in the middle of an upload leaves no temporary file either.
#[tokio::test]
async fn an_upload_cut_off_by_the_client_leaves_no_temporary_file() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let stream = stalled_upload(&app, &anna, id).await;
    wait_until("the upload never reached the disk", || {
        !part_files(&app).is_empty()
    })
    .await;
    drop(stream);
    wait_until("the temporary file of the cut-off upload stays", || {
        part_files(&app).is_empty()
    })
    .await;
    assert_eq!(app.count("case_attachment").await, 0);
}

/// A request refused after its file was received (a second file, an over-long text field)
/// leaves no temporary file behind either.
#[tokio::test]
async fn an_upload_refused_after_its_file_leaves_no_temporary_file() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let boundary = "lots-test-boundary-after";
    let file_part = |name: &str| {
        let mut part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        part.extend_from_slice(&pdf(name));
        part.extend_from_slice(b"\r\n");
        part
    };
    let long_category = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\n{}\r\n",
        "x".repeat(2000)
    )
    .into_bytes();
    for (tail, field) in [(file_part("andra.pdf"), "file"), (long_category, "form")] {
        let mut body = file_part("forsta.pdf");
        body.extend_from_slice(&tail);
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = post_multipart(&app, &anna, id, boundary, body).await;
        assert_eq!(r.invalid_fields(), [field]);
        assert_eq!(
            part_files(&app),
            Vec::<std::path::PathBuf>::new(),
            "{field}"
        );
    }
    assert_eq!(app.count("case_attachment").await, 0);
}

/// Temporary files older than a day (left by a process that was killed) are removed when the
/// attachment store starts; a recent one (an upload in progress in another process) is kept.
#[tokio::test]
async fn stale_temporary_files_are_removed_at_start() {
    let dir =
        std::env::temp_dir().join(format!("lots-test-files-{}", uuid::Uuid::new_v4().simple()));
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let old = tmp.join("0123456789abcdef.part");
    let recent = tmp.join("fedcba9876543210.part");
    let other = tmp.join("notes.txt");
    for p in [&old, &recent, &other] {
        std::fs::write(p, b"%PDF-1.7\n").unwrap();
    }
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    for p in [&old, &other] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
    }
    let _app = spawn_app_with(|c| c.attachments_dir = Some(dir.clone())).await;
    assert!(!old.exists(), "a day-old temporary file is still there");
    assert!(recent.exists(), "a recent temporary file was removed");
    assert!(other.exists(), "a file that is no upload was removed");
}

/// A confidential case, a confidential note and a confidential attachment; then every way out
/// is tried: case get and list, notes, events, parties, attachments, the company view, handoff
/// views, a bundle coordinator, an admin, the exports and the webhooks.
#[tokio::test]
async fn confidential_content_never_leaves_the_owning_department() {
    let app = crate::hooks::fast_app().await;
    let receiver = Receiver::start(0, std::time::Duration::ZERO).await;
    subscribe(&app, &receiver, json!(["*"])).await;
    let anna = app.token("anna").await;
    let maria = app.token("maria").await;
    let omar = app.token("omar").await;
    let root = app.token("root").await;

    let case = app
        .create_case(
            &anna,
            json!({"title": SECRET_TITLE, "description": SECRET_NOTE,
                                   "confidential": {"statute": "OSL 26 kap. 1 §"}}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["confidential"]["statute"], "SFS 2009:400 26 kap. 1 §");
    assert_eq!(case["title"], SECRET_TITLE, "the owner sees it");
    app.post(
        &format!("/api/v1/cases/{id}/notes"),
        Some(&anna),
        &json!({"text": SECRET_NOTE, "confidential": {"statute": "OSL 26 kap. 1 §"}}),
    )
    .await;
    app.post(
        &format!("/api/v1/cases/{id}/parties"),
        Some(&anna),
        &json!({"kind": "person", "personal_number": PERSON, "name": "Per Persson", "roles": ["applicant"]}),
    )
    .await;
    let to_case = Uploads::new(&app, &anna, id);
    let r = to_case
        .in_category("supplement", "intyg.pdf", PDF, &pdf(SECRET_NOTE))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let aid = r.body["id"].as_i64().unwrap();
    app.transition(
        &anna,
        id,
        json!({"to": "in_progress", "reason": SECRET_NOTE}),
    )
    .await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/supplement-requests"),
        Some(&anna),
        &json!({"message": SECRET_NOTE}),
    )
    .await;
    consult(&app, &anna, id, "MHF").await;
    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "decided", "decision": "approved", "legal_basis": ["PBL 9 kap. 31 §"], "text": SECRET_NOTE}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A second, public case with one confidential note and one confidential attachment.
    let open = app
        .create_case(&anna, json!({"title": "Öppet ärende"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/cases/{open}/notes"),
        Some(&anna),
        &json!({"text": SECRET_NOTE, "confidential": {"statute": "OSL 26 kap. 1 §"}}),
    )
    .await;
    app.add_note(&anna, open, "Vanlig anteckning").await;
    let confidential = [("confidential", "OSL 26 kap. 1 §")];
    let r = Uploads::new(&app, &anna, open)
        .with(&confidential, "hemlig.pdf", PDF, &pdf("hemlig"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let open_aid = r.body["id"].as_i64().unwrap();
    consult(&app, &anna, open, "MHF").await;

    let leaks = |who: &str, text: &str| {
        for secret in [SECRET_NOTE, SECRET_TITLE, PERSON, "Per Persson"] {
            assert!(!text.contains(secret), "{who} sees `{secret}`: {text}");
        }
    };

    // The owner department's officers and manager see it all.
    for token in [&anna, &maria] {
        let r = app
            .get(&format!("/api/v1/cases/{id}/notes"), Some(token))
            .await;
        assert!(r.text.contains(SECRET_NOTE));
    }
    // The consulted department, and an admin, see the case only redacted.
    for (who, token) in [("omar", &omar), ("root", &root)] {
        let r = app.get(&format!("/api/v1/cases/{id}"), Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["title"], "[sekretess]");
        leaks(who, &r.text);
        for path in [
            "notes",
            "events",
            "parties",
            "premises",
            "attachments",
            "supplement-requests",
            "handoffs",
            "decision",
        ] {
            let r = app
                .get(&format!("/api/v1/cases/{id}/{path}"), Some(token))
                .await;
            assert_eq!(r.status, 200, "{who} {path}: {}", r.text);
            leaks(&format!("{who} {path}"), &r.text);
        }
        app.get(
            &format!("/api/v1/cases/{id}/attachments/{aid}/content"),
            Some(token),
        )
        .await
        .problem(404);
        let r = app.get("/api/v1/cases?limit=500", Some(token)).await;
        leaks(&format!("{who} list"), &r.text);
        let r = app.get("/api/v1/handoffs", Some(token)).await;
        leaks(&format!("{who} handoffs"), &r.text);
        // On the public case: the confidential note and attachment are left out.
        let r = app
            .get(&format!("/api/v1/cases/{open}/notes"), Some(token))
            .await;
        leaks(&format!("{who} notes"), &r.text);
        assert_contains(&r.text, "Vanlig anteckning");
        let r = app
            .get(&format!("/api/v1/cases/{open}/events"), Some(token))
            .await;
        leaks(&format!("{who} events"), &r.text);
        let r = app
            .get(&format!("/api/v1/cases/{open}/attachments"), Some(token))
            .await;
        assert_eq!(r.body["items"], json!([]), "{who}: {}", r.text);
        app.get(
            &format!("/api/v1/cases/{open}/attachments/{open_aid}/content"),
            Some(token),
        )
        .await
        .problem(404);
    }
    // The company view summarises a confidential case, even for its owner.
    for token in [&anna, &omar, &root] {
        let r = app.get("/api/v1/companies/556012-5790", Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        leaks("company view", &r.text);
        let c = r.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["access"] == "summary" && c["summary"]["confidential"] == true);
        assert!(c.is_some(), "{}", r.text);
    }
    // Handoff views carry no title of a confidential case, whoever reads them.
    let r = app
        .get(&format!("/api/v1/cases/{id}/handoffs"), Some(&anna))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    leaks("handoff view", &r.text);
    // A bundle coordinator in another department sees only the summary.
    let bundle = app.bundle_with(&anna, "Etablering", "lars", id).await;
    let lars = app.token("lars").await;
    let r = app
        .get(&format!("/api/v1/bundles/{bundle}"), Some(&lars))
        .await;
    leaks("bundle", &r.text);
    // Exports, even for the owning department's manager and an admin.
    for token in [&maria, &root] {
        for path in [
            "/api/v1/export/ocel",
            "/api/v1/export/xes",
            "/api/v1/export/cases.csv",
        ] {
            let r = app.get(path, Some(token)).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            leaks(path, &r.text);
        }
    }
    // Webhooks carry the redacted form.
    settle(&app, 50).await;
    let bodies: Vec<String> = receiver.unique().values().map(Value::to_string).collect();
    assert!(!bodies.is_empty());
    for b in &bodies {
        leaks("webhook", b);
    }
    assert!(
        bodies.iter().any(|b| b.contains("\"confidential\":true")),
        "{bodies:?}"
    );
    // Only the owning department marks or lifts secrecy.
    app.patch_case(&root, id, json!({"confidential": null}))
        .await
        .problem(403);
    let r = app
        .patch_case(&maria, id, json!({"confidential": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["confidential"], Value::Null);
    let ev = events(&app, &anna, id).await;
    assert_eq!(
        last_of(&ev, "updated")["data"]["changes"]["confidential"],
        json!({"from": "SFS 2009:400 26 kap. 1 §", "to": null})
    );
}

/// Found by schemathesis: both attachment paths answered both GET and DELETE, so `DELETE
/// …/content` removed the document and `GET …/attachments/{aid}` downloaded it.
#[tokio::test]
async fn each_attachment_path_answers_only_its_own_method() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let id = app.case_id(&anna, json!({})).await;
    let drawing = pdf("situationsplan");
    let to_case = Uploads::new(&app, &anna, id);
    let r = to_case
        .in_category("drawing", "plan.pdf", PDF, &drawing)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let aid = r.body["id"].as_i64().unwrap();
    let content = format!("/api/v1/cases/{id}/attachments/{aid}/content");
    let item = format!("/api/v1/cases/{id}/attachments/{aid}");

    let r = app.delete(&content, &anna).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    let r = app.get(&item, Some(&anna)).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("DELETE"));
    // Nothing was removed: the document is still listed and downloads.
    let list = app
        .get(&format!("/api/v1/cases/{id}/attachments"), Some(&anna))
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
    let r = app.get(&content, Some(&anna)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.as_bytes(), drawing.as_slice());
}
