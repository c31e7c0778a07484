//! Bulk import of case histories: checked whole before anything is written, never duplicated.

use lots_store::entity::{case_record, handoff, survey_response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{
    HANDOFF_DONE, Reply, STARTED, SUPPLEMENT_ROUND, TestApp, assert_contains, event_kinds, ids,
    integers_of, kinds, spawn_app, spawn_app_as, succeeded,
};

const FIXTURE: &str = include_str!("../fixtures/history.ndjson");

async fn import(app: &TestApp, token: &str, body: &str, query: &str) -> Reply {
    app.post_raw(
        &format!("/api/v1/import/cases{query}"),
        token,
        Some("application/x-ndjson"),
        body.to_string(),
    )
    .await
}

/// The imported case with this reference, straight from the database.
async fn case_by_reference(app: &TestApp, reference: impl Into<String>) -> case_record::Model {
    case_record::Entity::find()
        .filter(case_record::Column::Reference.eq(reference.into()))
        .one(app.db.reader())
        .await
        .unwrap()
        .expect("a case with this reference")
}

/// The (first) handoff of case `case_id`, straight from the database.
async fn handoff_of(app: &TestApp, case_id: i64) -> handoff::Model {
    handoff::Entity::find()
        .filter(handoff::Column::CaseId.eq(case_id))
        .one(app.db.reader())
        .await
        .unwrap()
        .expect("a handoff of this case")
}

/// Runs `lots import FILE` against the app's database.
fn cli_import(app: &TestApp, path: &std::path::Path) -> std::process::Output {
    cli_import_with(app, path, &[])
}

/// Runs `lots import FILE` with more arguments.
fn cli_import_with(app: &TestApp, path: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lots"))
        .args([
            "import",
            path.to_str().unwrap(),
            "--database-url",
            &app.config.database_url,
        ])
        .args(args)
        .env("LOTS_LOG", "error")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_history_imports_with_its_events_handoffs_and_answer() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    let r = import(&app, &root, FIXTURE, "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["lines"].as_i64(), r.body["imported"].as_i64()),
        (Some(2), Some(2))
    );
    let c = case_by_reference(&app, "BN 2024/0001").await;
    assert_eq!(
        (c.status.as_str(), c.decision.as_deref()),
        ("closed", Some("approved"))
    );
    // The clock: the supplement was requested within three weeks, so it runs from 1 February:
    // ten weeks → 11 April 2024.
    assert_eq!(c.due_date.unwrap().to_string(), "2024-04-11");
    let anna = app.token("anna").await;
    let events = app
        .get(&format!("/api/v1/cases/{}/events", c.id), Some(&anna))
        .await;
    assert_eq!(
        kinds(&events.body),
        [
            &STARTED[..],
            &SUPPLEMENT_ROUND,
            &HANDOFF_DONE,
            &["status_changed", "status_changed"]
        ]
        .concat()
    );
    assert_eq!(events.body["items"][7]["actor"], "omar");
    assert_eq!(events.body["items"][7]["department"], "MHF");
    let h = handoff_of(&app, c.id).await;
    assert_eq!(
        (h.kind.as_str(), h.status.as_str()),
        ("consultation", "completed")
    );
    let s = survey_response::Entity::find()
        .filter(survey_response::Column::CaseId.eq(c.id))
        .one(app.db.reader())
        .await
        .unwrap()
        .unwrap();
    assert!((s.nki - (7.0 + 6.0 + 6.0) / 27.0 * 100.0).abs() < 1e-9);
    // The transfer moved the second case to SBF; its reference stays.
    let t = case_by_reference(&app, "MHN 2024/0007").await;
    assert_eq!(
        app.get(&format!("/api/v1/cases/{}", t.id), Some(&anna))
            .await
            .body["department"],
        "SBF"
    );
    // As live: an accepted transfer is completed at once, not left open to run up delay.
    let transfer = handoff_of(&app, t.id).await;
    assert_eq!(
        (transfer.status.as_str(), transfer.completed_at),
        ("completed", transfer.accepted_at)
    );
    assert_eq!(
        event_kinds(&app, &anna, t.id).await,
        [&STARTED[..], &HANDOFF_DONE, &["status_changed"]].concat()
    );
    // Imported cases are found by their words at once.
    assert_eq!(ids(&app, &anna, "q=nybyggnad").await, [c.id]);
    assert_eq!(
        ids(&app, &anna, "q=livsmedelsanl%C3%A4ggning%20bageri").await,
        [t.id]
    );
    // Imported history announces nothing.
    assert_eq!(app.count("outbox").await, 0);
    // The diary series continues after imported serials.
    let mhf = app.token("omar").await;
    let next = app.create_case(&mhf, json!({"area": "food_control"})).await;
    assert!(next["reference"].as_str().unwrap().starts_with("MHN "));
    // Re-importing is refused, never duplicated, however the serial is zero-padded.
    let again = import(&app, &root, FIXTURE, "").await;
    assert_eq!(again.status, 422);
    assert_eq!(again.body["errors"].as_array().unwrap().len(), 2);
    let padded = FIXTURE.replace("BN 2024/0001", "BN 2024/00001");
    let again = import(&app, &root, &padded, "").await;
    assert_eq!(again.status, 422);
    assert_eq!(again.body["errors"].as_array().unwrap().len(), 2);
    assert_contains(&again.text, "diarienummer exists");
    assert_eq!(app.count("case_record").await, 3);
}

#[tokio::test]
async fn a_bad_line_imports_nothing_and_every_bad_line_is_listed() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    let good = FIXTURE.lines().next().unwrap();
    let bad_order = good
        .replace("\"to\": \"in_progress\"", "\"to\": \"decided\"")
        .replace("BN 2024/0001", "BN 2024/0002");
    let unknown_actor = FIXTURE
        .lines()
        .nth(1)
        .unwrap()
        .replace("\"omar\"", "\"ghost\"");
    let body = format!("{good}\nnot json\n{bad_order}\n{unknown_actor}\n");
    let r = import(&app, &root, &body, "").await;
    assert_eq!(r.status, 422, "{}", r.text);
    let lines = integers_of(&r.body["errors"], "line");
    assert_eq!(lines, [2, 3, 4]);
    assert!(
        r.body["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("cannot become decided"),
        "{}",
        r.text
    );
    assert_eq!(app.count("case_record").await, 0);
    // --skip-invalid imports the good line; --create-missing creates the unknown actor.
    let r = import(&app, &root, &body, "?skip_invalid=true").await;
    assert_eq!(r.body["imported"], 1);
    let r = import(&app, &root, &unknown_actor, "?create_missing=true").await;
    assert_eq!(r.body["imported"], 1, "{}", r.text);
    let officer = app.token("anna").await;
    import(&app, &officer, FIXTURE, "").await.problem(403);
}

#[tokio::test]
async fn the_cli_imports_a_file_with_a_progress_bar() {
    let app = spawn_app().await;
    let path = std::env::temp_dir().join(format!("lots-import-{}.ndjson", uuid::Uuid::new_v4()));
    std::fs::write(&path, FIXTURE).unwrap();
    let said = succeeded(&cli_import(&app, &path));
    assert!(said.contains("2 of 2 cases imported"), "{said}");
    let again = cli_import(&app, &path);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("line 1 (BN 2024/0001)"));
    assert_eq!(app.count("case_record").await, 2);
    let _ = std::fs::remove_file(path);
}

/// Case types are data: the seeded types of every area import, unknown ones are refused.
#[tokio::test]
async fn imported_case_types_are_checked_against_the_case_type_table() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    let line = |reference: &str, area: &str, case_type: &str| {
        json!({"reference": reference, "org_number": "556012-5790", "company_name": "Exempel AB",
               "area": area, "case_type": case_type, "department": "SBF", "title": "Ärende",
               "received_at": "2024-01-10T09:00:00Z", "events": []})
        .to_string()
    };
    let body = [
        line("BN 2024/0101", "food_control", "registration"),
        line("BN 2024/0102", "building_permit", "attefall_notification"),
    ]
    .join("\n");
    let r = import(&app, &root, &body, "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["imported"], 2, "{}", r.text);
    let c = case_by_reference(&app, "BN 2024/0102").await;
    // A notification type runs on the 4-week notification deadline.
    assert_eq!(c.due_date.unwrap().to_string(), "2024-02-07");
    let r = import(
        &app,
        &root,
        &line("BN 2024/0103", "building_permit", "skyscraper"),
        "",
    )
    .await;
    assert_contains(&r.text, "case_type");
    assert_eq!(app.count("case_record").await, 2);
}

/// A case line for the large-file test: received, consulted, decided and (every third) answered.
fn numbered_line(serial: usize) -> String {
    let day = 1 + serial % 28;
    let survey = if serial.is_multiple_of(3) {
        r#", "survey": {"answered_at": "2024-06-20T12:00:00Z", "q_overall": 8, "q_expectations": 7, "q_ideal": 6}"#
    } else {
        ""
    };
    format!(
        r#"{{"reference": "BN 2023/{serial}", "org_number": "556036-0793", "company_name": "Exempel AB", "area": "building_permit", "department": "SBF", "title": "Ärende {serial}", "assignee": "anna", "received_at": "2024-01-{day:02}T09:00:00Z", "events": [{{"at": "2024-02-01T08:00:00Z", "type": "status_changed", "to": "in_progress", "actor": "anna"}}, {{"at": "2024-02-02T08:00:00Z", "type": "note", "text": "Anteckning {serial}", "actor": "anna"}}, {{"at": "2024-02-03T08:00:00Z", "type": "supplement_requested", "actor": "anna"}}, {{"at": "2024-02-10T08:00:00Z", "type": "supplement_received", "actor": "anna"}}, {{"at": "2024-02-12T09:00:00Z", "type": "handoff_requested", "handoff": "h", "to_department": "MHF", "kind": "consultation", "actor": "anna"}}, {{"at": "2024-02-13T09:00:00Z", "type": "handoff_accepted", "handoff": "h", "actor": "omar"}}, {{"at": "2024-02-20T15:00:00Z", "type": "handoff_completed", "handoff": "h", "actor": "omar"}}, {{"at": "2024-06-01T11:00:00Z", "type": "decided", "decision": "approved", "actor": "anna"}}]{survey}}}"#
    )
}

#[tokio::test]
async fn a_large_file_is_checked_whole_then_written_in_batches_with_every_reference_intact() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    // More lines than one write batch holds, and than one checking thread gets: a repeat far
    // from its first occurrence, and a blank line that line numbers must count.
    const N: usize = 12_500;
    let mut lines: Vec<String> = (1..=N).map(numbered_line).collect();
    lines.insert(6_000, String::new());
    lines.push(numbered_line(2));
    let body = lines.join("\n");
    let r = import(&app, &root, &body, "").await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["lines"], N + 1);
    assert_eq!(
        r.body["errors"],
        json!([{"line": N + 2, "reference": "BN 2023/2", "message": "reference: appears twice in the file"}])
    );
    assert_eq!(app.count("case_record").await, 0);
    assert_eq!(
        app.count("company").await,
        0,
        "nothing is written before every line passed"
    );

    // Without the repeat it all goes in, in batches, each row pointing at what exists.
    lines.pop();
    let r = import(&app, &root, &lines.join("\n"), "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["imported"], N);
    let n = N as i64;
    assert_eq!(app.count("case_record").await, n);
    assert_eq!(app.count("case_event").await, n * 11);
    assert_eq!(app.count("case_note").await, n);
    assert_eq!(app.count("supplement_request").await, n);
    assert_eq!(app.count("handoff").await, n);
    assert_eq!(app.count("survey_response").await, n / 3);
    assert_eq!(app.count("case_touch").await, n);
    for (child, parent) in [
        ("case_event", "case_record"),
        ("case_note", "case_record"),
        ("supplement_request", "case_record"),
        ("handoff", "case_record"),
        ("survey_response", "case_record"),
    ] {
        assert_eq!(
            app.count_where(
                child,
                &format!("NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {child}.case_id)")
            )
            .await,
            0,
            "{child} rows point at missing cases"
        );
    }
    // Each event's data points at its own case's note and request.
    assert_eq!(
        app.count_where(
            "case_note",
            "NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = case_note.case_id \
             AND e.kind = 'note_added')"
        )
        .await,
        0
    );
    // A case from the second batch reads back whole through the API.
    let last = case_by_reference(&app, format!("BN 2023/{N}")).await;
    assert_eq!(
        (
            last.status.as_str(),
            last.title.as_str(),
            last.complete_at.is_some()
        ),
        ("decided", format!("Ärende {N}").as_str(), true)
    );
    let anna = app.token("anna").await;
    assert_eq!(
        event_kinds(&app, &anna, last.id).await,
        [
            &STARTED[..],
            &["note_added"],
            &SUPPLEMENT_ROUND,
            &HANDOFF_DONE,
            &["status_changed"]
        ]
        .concat()
    );
    let notes = app
        .get(&format!("/api/v1/cases/{}/notes", last.id), Some(&anna))
        .await;
    assert_eq!(
        notes.body["items"][0]["text"],
        format!("Anteckning {N}"),
        "{}",
        notes.text
    );
    // Live work continues above the imported ids and serials.
    let next = app
        .create_case(&anna, json!({"area": "building_permit"}))
        .await;
    assert!(next["id"].as_i64().unwrap() > last.id);
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{}/notes", last.id),
        Some(&anna),
        &json!({"text": "Efter importen"}),
    )
    .await;
    assert_eq!(app.count("case_note").await, n + 1);
}

/// `lots import` holds its file a part at a time (`--part-bytes`), however large the file: lines
/// are numbered across parts, a repeat in a later part is found, a line longer than a part makes
/// its part longer, and a batch that spans parts writes every line of each.
#[tokio::test]
async fn the_cli_reads_a_large_file_a_part_at_a_time() {
    let app = spawn_app().await;
    const N: usize = 12_500;
    let mut lines: Vec<String> = (1..=N).map(numbered_line).collect();
    lines.insert(6_000, String::new());
    lines.push(numbered_line(2));
    let path = std::env::temp_dir().join(format!("lots-import-{}.ndjson", uuid::Uuid::new_v4()));
    std::fs::write(&path, lines.join("\n")).unwrap();
    // Every line is longer than a part of 500 bytes: a part a line.
    let out = cli_import_with(&app, &path, &["--part-bytes", "500"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "line {} (BN 2023/2): reference: appears twice in the file",
            N + 2
        )),
        "{stderr}"
    );
    assert_eq!(app.count("case_record").await, 0);

    // Without the repeat, in parts of about a megabyte (about 900 lines each): the batches of
    // 10 000 lines span parts.
    lines.pop();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let stdout = succeeded(&cli_import_with(&app, &path, &["--part-bytes", "1000000"]));
    assert!(
        stdout.contains(&format!("{N} of {N} cases imported")),
        "{stdout}"
    );
    let n = N as i64;
    assert_eq!(app.count("case_record").await, n);
    assert_eq!(app.count("case_event").await, n * 11);
    assert_eq!(app.count("case_note").await, n);
    assert_eq!(app.count("case_touch").await, n);
    // Each line went in once, whole: every serial is there with its own note.
    assert_eq!(
        app.count_where(
            "case_note",
            "NOT EXISTS (SELECT 1 FROM case_record c WHERE c.id = case_note.case_id \
             AND c.title = replace(case_note.text, 'Anteckning', 'Ärende'))"
        )
        .await,
        0
    );
    let last = case_by_reference(&app, format!("BN 2023/{N}")).await;
    assert_eq!(last.title, format!("Ärende {N}"));
    let _ = std::fs::remove_file(path);
}

/// On PostgreSQL the import copies its rows in binary and checks what they point at once per
/// distinct row instead of by a trigger per row: a row that points at nothing fails the copy,
/// and the transaction writes nothing.
#[tokio::test]
async fn a_bulk_copy_that_points_at_a_missing_row_fails_and_writes_nothing() {
    use lots_store::bulk::{BulkWriter, Prepared};
    let app = spawn_app().await;
    let anna = app.user_row("anna").await.id;
    let case = app
        .case_id(&app.token("anna").await, json!({"title": "Bygglov"}))
        .await;
    let mut bulk = BulkWriter::open(&app.db).await.unwrap();
    let mut tx = bulk.begin().await.unwrap();
    let Some(types) = tx.pg_types().await.unwrap() else {
        return; // SQLite: no COPY.
    };
    let notes = |case_id: i64| two_notes([case_id, case_id], anna);
    // The test's role is a superuser: the copy runs without the triggers, its rows checked.
    let statements = notes(case).prepare_copy(&types).unwrap();
    assert!(
        matches!(&statements[..], [Prepared::PgCopy(c)] if c.references.as_ref().is_some_and(|r| r.len() == 2))
    );
    for s in statements {
        tx.execute(s).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(app.count("case_note").await, 2);
    let mut tx = bulk.begin().await.unwrap();
    let mut failed = None;
    for s in notes(case + 1000).prepare_copy(&types).unwrap() {
        if let Err(e) = tx.execute(s).await {
            failed = Some(e.to_string());
            break;
        }
    }
    drop(tx);
    let failed = failed.expect("a copy pointing at a missing case fails");
    assert!(
        failed.contains("case_id refers to a row of case_record"),
        "{failed}"
    );
    assert_eq!(app.count("case_note").await, 2, "nothing of it written");
    bulk.close().await.unwrap();
}

/// Two internal notes by `author`, on the cases `to`, as rows for a bulk write.
fn two_notes(to: [i64; 2], author: i64) -> lots_store::bulk::Table {
    use lots_store::bulk::{Column, Table};
    let now = chrono::Utc::now();
    Table::new("case_note")
        .column("case_id", Column::Int(to.to_vec()))
        .column("author_id", Column::Int(vec![author, author]))
        .column("text", Column::Text(vec!["a".into(), "b".into()]))
        .column("created_at", Column::Time(vec![now, now]))
        .column(
            "visibility",
            Column::Code(vec!["internal".into(), "internal".into()]),
        )
}

/// Within one bulk transaction on PostgreSQL, rows that point at a row the same transaction
/// copied are not checked again (it is there, and no one else can see it yet); a row that
/// points at nothing among them still fails the transaction.
#[tokio::test]
async fn a_bulk_copy_trusts_the_rows_its_own_transaction_wrote_and_no_others() {
    use chrono::Utc;
    use lots_store::bulk::{BulkWriter, Column, Table};
    let app = spawn_app().await;
    let anna = app.user_row("anna").await.id;
    let case = app
        .case_id(&app.token("anna").await, json!({"title": "Bygglov"}))
        .await;
    let row = app
        .query_one(&format!(
            "SELECT CAST(department_id AS TEXT), CAST(company_id AS TEXT) FROM case_record WHERE id = {case}"
        ))
        .await;
    let (department, company): (i64, i64) = (row[0].parse().unwrap(), row[1].parse().unwrap());
    let mut bulk = BulkWriter::open(&app.db).await.unwrap();
    let mut attempt = async |missing: bool| {
        let mut tx = bulk.begin().await.unwrap();
        let Some(types) = tx.pg_types().await.unwrap() else {
            return None; // SQLite: no COPY.
        };
        let id = tx.reserve_ids("case_record", 1).await.unwrap()[0];
        let now = Utc::now();
        let case = Table::new("case_record")
            .column("id", Column::Int(vec![id]))
            .column("reference", Column::Text(vec![format!("BULK {id}")]))
            .column("department_id", Column::Int(vec![department]))
            .column("company_id", Column::Int(vec![company]))
            .column("area", Column::Code(vec!["building_permit".into()]))
            .column("title", Column::Text(vec!["Kopierat".into()]))
            .column("description", Column::Text(vec![String::new()]))
            .column("status", Column::Code(vec!["received".into()]))
            .column("received_at", Column::Time(vec![now]))
            .column("version", Column::Int(vec![1]))
            .column("created_at", Column::Time(vec![now]))
            .column("updated_at", Column::Time(vec![now]));
        let to = if missing { [id, id + 1000] } else { [id, id] };
        let notes = two_notes(to, anna);
        let mut outcome = Ok(());
        for table in [case, notes] {
            for s in table.prepare_copy(&types).unwrap() {
                if outcome.is_ok() {
                    outcome = tx.execute(s).await;
                }
            }
        }
        match outcome {
            Ok(()) => Some(tx.commit().await.map_err(|e| e.to_string())),
            Err(e) => Some(Err(e.to_string())),
        }
    };
    let Some(failed) = attempt(true).await else {
        return;
    };
    let failed = failed.expect_err("a note pointing at a missing case fails");
    assert!(
        failed.contains("case_id refers to a row of case_record"),
        "{failed}"
    );
    assert_eq!(app.count("case_note").await, 0, "nothing of it written");
    assert_eq!(
        app.count_where("case_record", "reference LIKE 'BULK %'")
            .await,
        0
    );
    attempt(false).await.unwrap().unwrap();
    assert_eq!(app.count("case_note").await, 2);
    assert_eq!(
        app.count_where("case_record", "reference LIKE 'BULK %'")
            .await,
        1
    );
    bulk.close().await.unwrap();
}

/// The ids an import reserves are its own: notes added meanwhile (on PostgreSQL while the block
/// is taken; on SQLite they wait for the import's writer) take ids outside the block, and after
/// it the table's ids go on one at a time past it.
#[tokio::test]
async fn ids_reserved_for_an_import_are_its_alone_and_the_sequence_goes_on_after_them() {
    let (app, [anna]) = spawn_app_as(["anna"]).await;
    let case = app.case_id(&anna, json!({"title": "Reserverade id"})).await;
    let notes = |n: usize| {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (client, anna) = (app.client.clone(), anna.clone());
                let url = app.url(&format!("/api/v1/cases/{case}/notes"));
                tokio::spawn(async move {
                    let r = client
                        .post(url)
                        .bearer_auth(anna)
                        .json(&json!({"text": format!("Anteckning {i}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    let note: serde_json::Value = r.json().await.unwrap();
                    note["id"].as_i64().expect("a note id")
                })
            })
            .collect();
        async move {
            let mut ids = Vec::new();
            for t in tasks {
                ids.push(t.await.unwrap());
            }
            ids
        }
    };
    // A table that never had a row: its ids start at 1.
    let mut bulk = lots_store::bulk::BulkWriter::open(&app.db).await.unwrap();
    let mut tx = bulk.begin().await.unwrap();
    let fresh = tx.reserve_ids("case_note", 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(fresh, (1..=10).collect::<Vec<i64>>());
    let meanwhile = notes(20);
    let mut tx = bulk.begin().await.unwrap();
    let block = tx.reserve_ids("case_note", 5000).await.unwrap();
    tx.commit().await.unwrap();
    bulk.close().await.unwrap();
    assert_eq!(block.len(), 5000);
    assert!(block.windows(2).all(|w| w[1] == w[0] + 1), "one block");
    let (first, last) = (block[0], block[4999]);
    assert!(first > 10, "after the first block: {first}");
    for id in meanwhile.await {
        assert!(
            id < first || id > last,
            "note {id} inside the block {first}–{last}"
        );
    }
    let mut after = notes(1).await;
    after.extend(notes(1).await);
    assert!(after[0] > last, "{after:?} after {last}");
    assert_eq!(after[1], after[0] + 1, "one at a time again");
}
