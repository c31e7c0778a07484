//! Metrics over the demo municipality: scoped to the caller, suppressed below the threshold,
//! and finding the effects the demo plants (a slow edge, NKI falling with lead time).

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_each_query_names, find_item, root_actor, spawn_app, spawn_app_as,
    spawn_app_seeded, spawn_second, strings_of, succeeded,
};

/// Decided cases counted in a handling-times reply, over its groups.
fn decided(r: &crate::helpers::Reply) -> i64 {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["lead_time"]["n"].as_i64().unwrap())
        .sum()
}

async fn demo() -> (TestApp, String, String, String) {
    let app = spawn_app_seeded(|_| {}, false).await;
    lots_demo::load(&app.db, Some("demo-password-1".into()), &app.state.surveys)
        .await
        .unwrap();
    let login = |u: &'static str| {
        let app = &app;
        async move {
            app.login(u, "demo-password-1").await.body["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let admin = login("admin").await;
    let maria = login("maria").await;
    let anna = login("anna").await;
    (app, admin, maria, anna)
}

#[tokio::test]
async fn managers_see_their_department_and_officers_see_no_metrics() {
    let (app, admin, maria, anna) = demo().await;
    for path in [
        "handling-times",
        "nki",
        "linkage",
        "bottlenecks",
        "deadlines",
    ] {
        app.get(&format!("/api/v1/metrics/{path}"), Some(&anna))
            .await
            .problem(403);
        assert_eq!(
            app.get_status(&format!("/api/v1/metrics/{path}"), Some(&admin))
                .await,
            200,
            "{path}"
        );
    }
    let mine = app
        .get(
            "/api/v1/metrics/handling-times?group_by=department",
            Some(&maria),
        )
        .await;
    let groups = strings_of(&mine.body["items"], "group");
    assert_eq!(groups, ["SBF"]);
    let all = app
        .get(
            "/api/v1/metrics/handling-times?group_by=department",
            Some(&admin),
        )
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 4);
    let sbf = &all.body["items"][2];
    assert_eq!(sbf["group"], "SBF");
    assert!(
        sbf["lead_time"]["p90_days"].as_f64().unwrap()
            >= sbf["lead_time"]["p50_days"].as_f64().unwrap()
    );
    assert_each_query_names(
        &app,
        "/api/v1/metrics/nki",
        &admin,
        &[
            ("group_by=week", "group_by"),
            ("from=yesterday", "from"),
            ("department=X", "department"),
            ("area=bygg", "area"),
        ],
    )
    .await;
}

#[tokio::test]
async fn nki_is_suppressed_below_the_threshold_and_the_demo_effects_show() {
    let (app, admin, _, _) = demo().await;
    let by_area = app
        .get("/api/v1/metrics/nki?group_by=area", Some(&admin))
        .await;
    assert_eq!(by_area.body["threshold"], 10);
    for g in by_area.body["items"].as_array().unwrap() {
        if g["n"].as_u64().unwrap() < 10 {
            assert_eq!(g["suppressed"], true);
            assert!(
                g["nki"].is_null() && g["ci_low"].is_null() && g["factors"].is_null(),
                "{g}"
            );
        } else {
            let (lo, nki, hi) = (
                g["ci_low"].as_f64().unwrap(),
                g["nki"].as_f64().unwrap(),
                g["ci_high"].as_f64().unwrap(),
            );
            assert!(lo < nki && nki < hi, "{g}");
        }
    }
    let by_month = app
        .get("/api/v1/metrics/nki?group_by=month", Some(&admin))
        .await;
    assert_eq!(by_month.body["threshold"], 7);
    assert!(
        by_month.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["suppressed"] == true)
    );

    // The demo plants NKI falling with lead time: the within-area slope is negative.
    let linkage = app.get("/api/v1/metrics/linkage", Some(&admin)).await.body;
    assert!(
        linkage["slope_within_areas"]["slope"].as_f64().unwrap() < 0.0,
        "{}",
        linkage["slope_within_areas"]
    );
    assert!(linkage["spearman"]["rho"].as_f64().unwrap() < 0.0);
    let quartiles = linkage["by_lead_time_quartile"].as_array().unwrap();
    assert_eq!(quartiles.len(), 4);
    let first = quartiles[0]["nki"].as_f64().unwrap();
    let last = quartiles[3]["nki"].as_f64().unwrap();
    assert!(first > last, "faster cases are happier: {first} vs {last}");
    // …and a slow edge: building cases waiting on environment and health.
    let b = app
        .get("/api/v1/metrics/bottlenecks", Some(&admin))
        .await
        .body;
    let top: &Value = &b["edges"][0];
    assert_eq!(
        (
            top["from"].as_str(),
            top["to"].as_str(),
            top["kind"].as_str()
        ),
        (Some("SBF"), Some("MHF"), Some("consultation")),
        "{top}"
    );
    assert!(top["nki_cost_per_case"].as_f64().unwrap() > 0.0);
    let d = app
        .get("/api/v1/metrics/deadlines", Some(&admin))
        .await
        .body;
    assert!(!d["overdue"].as_array().unwrap().is_empty());
    assert!(!d["compliance"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_case_export_is_for_swedish_excel_and_carries_no_answers() {
    let (app, admin, maria, anna) = demo().await;
    let csv = app.get("/api/v1/export/cases.csv", Some(&admin)).await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = csv.text;
    assert!(text.starts_with("\u{feff}diarienummer;område;"));
    assert!(!text.contains("nki"));
    assert!(text.lines().count() > 300);
    // Each case's handoffs and departments as its whole history counts them (the export reads
    // no events): the records of every case, read with their status changes.
    let records = lots_metrics::load::load(&app.db, &root_actor(), &Default::default())
        .await
        .unwrap();
    let counts: std::collections::HashMap<String, (String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            (f[0].to_string(), (f[11].to_string(), f[12].to_string()))
        })
        .collect();
    assert_eq!(counts.len(), records.len());
    for r in &records {
        let expected = (
            r.handoffs.len().to_string(),
            r.department_codes().len().to_string(),
        );
        assert_eq!(counts[&r.reference], expected, "{}", r.reference);
    }
    assert!(
        records.iter().any(|r| r.department_codes().len() > 1),
        "the demo has cases across departments"
    );
    let mine = app.get("/api/v1/export/cases.csv", Some(&maria)).await.text;
    assert!(
        mine.lines().skip(1).all(|l| l.contains(";SBF;")),
        "a manager exports their department"
    );
    app.get("/api/v1/export/cases.csv", Some(&anna))
        .await
        .problem(403);
}

#[tokio::test]
async fn the_event_log_exports_as_xes_and_ocel() {
    let (app, admin, maria, anna) = demo().await;
    let xes = app.get("/api/v1/export/xes", Some(&admin)).await.text;
    assert!(
        xes.starts_with("<?xml") && xes.contains("<trace>") && xes.contains("key=\"org:group\"")
    );
    assert_eq!(
        xes.matches("<trace>").count(),
        app.count("case_record").await as usize
    );
    assert_eq!(
        xes.matches("<event>").count(),
        app.count("case_event").await as usize
    );
    let ocel = app.get("/api/v1/export/ocel", Some(&admin)).await.body;
    let types = strings_of(&ocel["objectTypes"], "name");
    assert_eq!(types, ["case", "company", "department", "officer"]);
    let handoff = find_item(&ocel["events"], "type", "handoff_requested");
    let qualifiers: Vec<&str> = handoff["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["qualifier"].as_str().unwrap())
        .collect();
    assert!(
        qualifiers.contains(&"from") && qualifiers.contains(&"to") && qualifiers.contains(&"case"),
        "{qualifiers:?}"
    );
    // Every related object exists.
    let ids: std::collections::HashSet<&str> = ocel["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for e in ocel["events"].as_array().unwrap() {
        for r in e["relationships"].as_array().unwrap() {
            assert!(ids.contains(r["objectId"].as_str().unwrap()), "{r}");
        }
    }
    let mine = app.get("/api/v1/export/ocel", Some(&maria)).await.body;
    assert!(
        mine["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == "case")
            .count()
            < ocel["objects"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["type"] == "case")
                .count()
    );
    app.get("/api/v1/export/xes", Some(&anna))
        .await
        .problem(403);
    // And from the command line.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lots"))
        .args([
            "export",
            "--format",
            "csv",
            "--database-url",
            &app.config.database_url,
        ])
        .env("LOTS_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("\u{feff}diarienummer;"));
}

#[tokio::test]
async fn time_in_each_state_comes_from_the_history() {
    let app = crate::helpers::spawn_app().await;
    let anna = app.token("anna").await;
    let root = app.token("root").await;
    let id = app.case_id(&anna, json!({})).await;
    for to in [
        "in_progress",
        "awaiting_supplement",
        "in_progress",
        "withdrawn",
    ] {
        assert_eq!(
            app.transition(&anna, id, json!({"to": to})).await.status,
            200
        );
    }
    let r = app
        .get("/api/v1/metrics/time-in-state?group_by=area", Some(&root))
        .await;
    let items = r.body["items"].as_array().unwrap();
    let count = |status: &str| {
        items
            .iter()
            .find(|i| i["status"] == status)
            .map(|i| i["n"].as_i64().unwrap())
    };
    assert_eq!(
        (
            count("received"),
            count("in_progress"),
            count("awaiting_supplement"),
            count("withdrawn")
        ),
        (Some(1), Some(2), Some(1), None)
    );
    assert!(
        items
            .iter()
            .all(|i| i["group"] == "building_permit" && i["mean_days"].as_f64().unwrap() >= 0.0)
    );
}

/// Metrics come from records kept in memory per process; every write, in this process or in
/// another on the same database, shows in the next answer.
#[tokio::test]
async fn metrics_follow_every_write_at_once_in_every_process() {
    let app = spawn_app().await;
    let other = spawn_second(&app, app.config.clone()).await;
    let (root, anna) = (app.token("root").await, app.token("anna").await);
    let before = app.get("/api/v1/metrics/handling-times", Some(&root)).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(decided(&before), 0);
    // A case registered and decided through the other process.
    let anna_other = other.token("anna").await;
    let case = other
        .create_case(&anna_other, json!({"area": "building_permit"}))
        .await;
    let id = case["id"].as_i64().unwrap();
    for body in [
        json!({"to": "in_progress"}),
        json!({"to": "decided", "decision": "approved"}),
    ] {
        assert_eq!(other.transition(&anna_other, id, body).await.status, 200);
    }
    let after = app.get("/api/v1/metrics/handling-times", Some(&root)).await;
    assert_eq!(decided(&after), 1, "{}", after.text);
    let states = app.get("/api/v1/metrics/time-in-state", Some(&root)).await;
    let stays: Vec<(&str, i64)> = states.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap(), s["n"].as_i64().unwrap()))
        .collect();
    assert_eq!(stays, [("in_progress", 1), ("received", 1)]);
    // And one in this process: the case list and the metrics agree at once.
    let id = app.case_id(&anna, json!({"area": "building_permit"})).await;
    assert_eq!(
        app.transition(&anna, id, json!({"to": "in_progress"}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.transition(&anna, id, json!({"to": "decided", "decision": "rejected"}))
            .await
            .status,
        200
    );
    let again = app.get("/api/v1/metrics/handling-times", Some(&root)).await;
    assert_eq!(decided(&again), 2, "{}", again.text);
    let elsewhere = other
        .get("/api/v1/metrics/handling-times", Some(&root))
        .await;
    assert_eq!(decided(&elsewhere), 2, "{}", elsewhere.text);
}

/// A transaction that touched a case with an earlier clock reading than a case touched and read
/// before it committed: the rollups' queue (not a clock cursor) must still take it.
#[tokio::test]
async fn a_write_that_commits_late_among_applied_touches_is_still_seen() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let (root, anna) = (app.token("root").await, app.token("anna").await);
    let id = |c: Value| c["id"].as_i64().unwrap();
    let late = id(app
        .create_case(&anna, json!({"area": "building_permit"}))
        .await);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let other = id(app
        .create_case(&anna, json!({"area": "building_permit"}))
        .await);
    let before = app.get("/api/v1/metrics/handling-times", Some(&root)).await;
    assert_eq!(decided(&before), 0, "{}", before.text);
    for body in [
        json!({"to": "in_progress"}),
        json!({"to": "decided", "decision": "approved"}),
    ] {
        assert_eq!(app.transition(&anna, late, body).await.status, 200);
    }
    // As if the decision's transaction had read the clock just before the other case's touch.
    app.db
        .writer()
        .execute_unprepared(&format!(
            "UPDATE case_touch SET touched_ms = \
             (SELECT touched_ms FROM case_touch WHERE case_id = {other}) - 1 \
             WHERE case_id = {late}"
        ))
        .await
        .unwrap();
    let after = app.get("/api/v1/metrics/handling-times", Some(&root)).await;
    assert_eq!(decided(&after), 1, "{}", after.text);
}

/// Found by schemathesis: the endpoints that do not group ignored a bad `group_by` and answered
/// 200; now every metric and export refuses it, naming the field.
#[tokio::test]
async fn a_bad_group_by_is_refused_everywhere_it_is_documented() {
    let (app, [root]) = spawn_app_as(["root"]).await;
    for path in [
        "metrics/handling-times",
        "metrics/time-in-state",
        "metrics/nki",
        "metrics/linkage",
        "metrics/bottlenecks",
        "metrics/deadlines",
        "export/cases.csv",
        "export/xes",
        "export/ocel",
    ] {
        let r = app
            .get(&format!("/api/v1/{path}?group_by=weekday"), Some(&root))
            .await;
        r.problem(422);
        assert_eq!(r.invalid_fields(), ["group_by"], "{path}: {}", r.text);
        let r = app
            .get(&format!("/api/v1/{path}?group_by=area"), Some(&root))
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn an_nki_trend_or_change_with_bad_periods_is_refused_by_field() {
    let app = crate::helpers::spawn_app().await;
    let maria = app.token("maria").await;
    let r = app.get("/api/v1/metrics/nki/change", Some(&maria)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.invalid_fields(), ["a", "b"]);
    let r = app
        .get("/api/v1/metrics/nki/change?a=2025&b=2026-T1", Some(&maria))
        .await;
    assert_eq!(r.invalid_fields(), ["b"]);
    let r = app
        .get(
            "/api/v1/metrics/nki/change?a=2025-T4&b=2026-T1",
            Some(&maria),
        )
        .await;
    assert_eq!(r.invalid_fields(), ["a"]);
    let r = app
        .get("/api/v1/metrics/nki/trend?period=week", Some(&maria))
        .await;
    assert_eq!(r.invalid_fields(), ["period"]);
    // Without answers: empty, and a change with counts only.
    let r = app.get("/api/v1/metrics/nki/trend", Some(&maria)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"], serde_json::json!([]));
    let r = app
        .get("/api/v1/metrics/nki/change?a=2025&b=2026", Some(&maria))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (&r.body["n_a"], &r.body["suppressed"], &r.body["p_value"]),
        (&0.into(), &true.into(), &serde_json::Value::Null)
    );
    let anna = app.token("anna").await;
    assert_eq!(
        app.get_status("/api/v1/metrics/nki/trend", Some(&anna))
            .await,
        403
    );
}

/// Runs `lots kolada fetch --from 2023` with `args` on `app`'s database.
async fn kolada_fetch(app: &TestApp, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_lots"))
        .args(["kolada", "fetch", "--from", "2023"])
        .args(args)
        .args(["--database-url", &app.config.database_url])
        .output()
        .await
        .unwrap()
}

/// An app that is Haninge (0136) with `peers`, holding the oracle's cases (for the own
/// survey's figures) and the recorded Kolada file imported by the CLI, whose output is returned.
async fn oracle_and_kolada(peers: &[&str]) -> (TestApp, String, std::process::Output) {
    let app = crate::helpers::spawn_app_with(|c| {
        c.municipality_code = Some("0136".into());
        c.peer_group = peers.iter().map(|p| p.to_string()).collect();
    })
    .await;
    let root = app.token("root").await;
    let r = app
        .import_ndjson(&root, include_str!("../fixtures/oracle/cases.ndjson"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lots"))
        .args(["kolada", "import", "tests/fixtures/kolada/insikt-2024.json"])
        .args(["--database-url", &app.config.database_url])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (app, root, out)
}

#[tokio::test]
async fn the_municipality_stands_against_the_others_from_an_imported_kolada_file() {
    let (app, root, out) = oracle_and_kolada(&["0138", "0160", "0123"]).await;
    let said = succeeded(&out);
    assert!(
        said.contains("imported 21 values of 3 KPIs for 7 municipalities (1 missing"),
        "{said}"
    );
    assert_eq!(
        app.count_where("kolada_value", "value IS NULL").await,
        1,
        "flagged: missing, not zero"
    );

    let r = app
        .get("/api/v1/metrics/comparison?year=2024", Some(&root))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["municipality"], "0136");
    assert_eq!(r.body["municipality_name"], "Haninge");
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        13,
        "every Insikt NKI KPI and the six service factors"
    );
    let building = find_item(&r.body["items"], "kpi", "U07447");
    // 0136 64, 0127 64, 0180 66, 0138 70, 0123 72; 0160 flagged; 0000 is the country.
    assert_eq!(building["value"], 64.0);
    assert_eq!(building["national_median"], 66.0);
    assert_eq!(building["peer_median"], 71.0);
    assert_eq!((&building["rank"], &building["of"]), (&json!(4), &json!(5)));
    assert_eq!(building["percentile"], 0.0);
    let own = app
        .get(
            "/api/v1/metrics/nki/trend?area=building_permit",
            Some(&root),
        )
        .await;
    let own_2024 = find_item(&own.body["items"], "period", "2024");
    assert_eq!(building["own_survey_nki"], own_2024["nki"]);
    assert_eq!(building["own_n"], own_2024["n"]);
    assert_eq!(
        building["agrees"], false,
        "64 lies outside the own interval around 79"
    );
    let total = find_item(&r.body["items"], "kpi", "U07451");
    assert_eq!(
        (
            &total["value"],
            &total["national_median"],
            &total["peer_median"]
        ),
        (&json!(75.0), &json!(74.0), &json!(78.0))
    );
    assert_eq!(
        (&total["rank"], &total["of"], &total["percentile"]),
        (&json!(3), &json!(6), &json!(50.0))
    );
    let serving = find_item(&r.body["items"], "kpi", "U07450");
    assert!(serving["value"].is_null() && serving["rank"].is_null() && serving["of"] == 0);
    // A service factor: treatment (bemötande), 0136 80 among 82, 80, 76, 70; peers: 0138's 76.
    let treatment = find_item(&r.body["items"], "kpi", "U07510");
    assert_eq!(
        (&treatment["factor"], &treatment["area"]),
        (&json!("treatment"), &serde_json::Value::Null)
    );
    assert_eq!(
        (
            &treatment["value"],
            &treatment["national_median"],
            &treatment["peer_median"]
        ),
        (&json!(80.0), &json!(78.0), &json!(76.0))
    );
    assert_eq!(
        (
            &treatment["rank"],
            &treatment["of"],
            &treatment["percentile"]
        ),
        (&json!(2), &json!(4), &json!(50.0))
    );
    // The own index: the mean of the 2024 decisions' treatment ratings, (x − 1) / 5 × 100.
    let (n, mean) = own_factor_2024("treatment");
    assert_eq!(treatment["own_n"], n);
    assert!(
        (treatment["own_survey_nki"].as_f64().unwrap() - mean).abs() < 1e-9,
        "{treatment} against {mean}"
    );
    assert_eq!(find_item(&r.body["items"], "kpi", "U07508")["of"], 0);
    // One area: its KPI and the total.
    let r = app
        .get(
            "/api/v1/metrics/comparison?year=2024&area=building_permit",
            Some(&root),
        )
        .await;
    assert_eq!(strings_of(&r.body["items"], "kpi"), ["U07451", "U07447"]);
    // A year is required; a municipality that does not know its code cannot compare.
    let r = app.get("/api/v1/metrics/comparison", Some(&root)).await;
    assert_eq!(r.invalid_fields(), ["year"]);
    let other = crate::helpers::spawn_app().await;
    let root = other.token("root").await;
    let r = other
        .get("/api/v1/metrics/comparison?year=2024", Some(&root))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
}

/// How many of the oracle's cases decided in 2024 (Stockholm) rated `factor`, and its mean
/// index: computed here from the fixture, apart from Lots' code.
fn own_factor_2024(factor: &str) -> (usize, f64) {
    let mut xs = Vec::new();
    for line in include_str!("../fixtures/oracle/cases.ndjson").lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let decided = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "decided")
            .filter_map(|e| e["at"].as_str())
            .next_back();
        // Stockholm is UTC+1 around New Year.
        let in_2024 = decided.is_some_and(|at| {
            let t: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
            (t + chrono::Duration::hours(1)).format("%Y").to_string() == "2024"
        });
        if let Some(x) = case["survey"]["factors"][factor]
            .as_f64()
            .filter(|_| in_2024)
        {
            xs.push((x - 1.0) / 5.0 * 100.0);
        }
    }
    (xs.len(), xs.iter().sum::<f64>() / xs.len() as f64)
}

#[tokio::test]
async fn kolada_is_fetched_page_by_page_from_its_api() {
    use axum::extract::{Path, State};
    // A stand-in for api.kolada.se serving recorded pages: the first names the second.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let asked: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let page1 = json!({"count": 2, "next_page": format!("{base}/v2/page/2"), "values": [
        {"kpi": "U07447", "municipality": "0136", "period": 2023,
         "values": [{"gender": "T", "count": 1, "status": "", "value": 64}]}]});
    let page2 = json!({"count": 2, "values": [
        {"kpi": "U07447", "municipality": "0138", "period": 2024,
         "values": [{"gender": "T", "count": 1, "status": "Missing", "value": null}]}]});
    let app = axum::Router::new()
        .route(
            "/v2/data/kpi/{kpis}/year/{years}",
            axum::routing::get(
                |State(asked): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
                 Path((kpis, years)): Path<(String, String)>| async move {
                    asked.lock().unwrap().push(format!("{kpis} {years}"));
                    axum::Json(page1)
                },
            ),
        )
        .route(
            "/v2/page/2",
            axum::routing::get(move || async move { axum::Json(page2) }),
        )
        .with_state(asked.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let lots = spawn_app().await;
    let base_url = format!("{base}/v2");
    let out = kolada_fetch(&lots, &["--to", "2024", "--base-url", &base_url]).await;
    let said = succeeded(&out);
    assert!(said.contains("imported 2 values"), "{said}");
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].starts_with("U07451,U07447,") && asked[0].ends_with(" 2023,2024"),
        "{asked:?}"
    );
    assert_eq!(lots.count("kolada_value").await, 2);
    assert_eq!(lots.count_where("kolada_value", "value IS NULL").await, 1);

    // A server that is not Kolada: a clear failure, nothing imported.
    let out = kolada_fetch(&lots, &["--base-url", "http://127.0.0.1:9/v2"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot fetch"));
    assert_eq!(lots.count("kolada_value").await, 2);
}

/// The rows of sheet `name` of an xlsx workbook, each cell as text (numbers as Rust prints
/// them, an empty cell as "").
fn sheet_rows(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| c == first))
        .unwrap_or_else(|| panic!("no row {first} in {rows:?}"))
}

#[tokio::test]
async fn the_board_report_is_a_workbook_of_the_same_figures_as_the_api() {
    let (app, root, out) = oracle_and_kolada(&["Pendlingskommun nära storstad"]).await;
    assert!(out.status.success());

    let r = app
        .get_response("/api/v1/reports/board.xlsx?year=2024", &root)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"namndrapport-2024.xlsx\""
    );
    let bytes = r.bytes().await.unwrap();
    {
        use calamine::Reader;
        let book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(
            book.sheet_names(),
            [
                "Nyckeltal",
                "NKI per tertial",
                "Fristefterlevnad",
                "Flaskhalsar",
                "Jämförelse",
                "Alla kommuner"
            ]
        );
    }
    // Key figures: each year's NKI and its change since the year before are the API's (the
    // oracle's answers are of 2024 and 2025).
    let key = sheet_rows(&bytes, "Nyckeltal");
    assert_eq!(key[0][0], "Nyckeltal 2024 – Haninge");
    let trend = app.get("/api/v1/metrics/nki/trend", Some(&root)).await;
    let close = |cell: &str, v: &serde_json::Value| {
        (cell.parse::<f64>().unwrap() - v.as_f64().unwrap()).abs() < 1e-9
    };
    let all = row_of(&key, "Alla områden");
    let y2024 = find_item(&trend.body["items"], "period", "2024");
    assert_eq!(all[7], y2024["n"].to_string());
    assert!(close(&all[8], &y2024["nki"]), "{} {}", all[8], y2024["nki"]);
    assert!(close(&all[9], &y2024["ci_low"]) && close(&all[10], &y2024["ci_high"]));
    assert_eq!(&all[11..], ["", "", "", "", "", ""], "no answers in 2023");
    let r = app
        .get_response("/api/v1/reports/board.xlsx?year=2025", &root)
        .await;
    let of_2025 = r.bytes().await.unwrap();
    assert_eq!(
        sheet_rows(&of_2025, "Jämförelse")[0][0],
        "Insikt 2024: vi mot andra kommuner – Haninge",
        "the latest Insikt year published up to the report's"
    );
    let key_2025 = sheet_rows(&of_2025, "Nyckeltal");
    let all = row_of(&key_2025, "Alla områden");
    let change = app
        .get("/api/v1/metrics/nki/change?a=2024&b=2025", Some(&root))
        .await;
    assert!(close(&all[8], &change.body["nki_b"]));
    assert!(close(&all[11], &change.body["nki_a"]));
    assert!(close(&all[12], &change.body["difference"]));
    assert!(close(&all[13], &change.body["ci_low"]) && close(&all[14], &change.body["ci_high"]));
    assert!(close(&all[15], &change.body["p_value"]));
    let significant = change.body["p_value"].as_f64().unwrap() < 0.05;
    assert_eq!(all[16], if significant { "ja" } else { "nej" });
    // Per area, a suppressed NKI is an empty cell, never zero.
    for row in key.iter().chain(&key_2025).skip(3) {
        if row[7].parse::<usize>().is_ok_and(|n| n < 7) {
            assert_eq!(row[8], "", "{row:?}");
        }
    }
    // Compliance: per area and month, the month's figures of the 2024 decisions.
    let dl = sheet_rows(&bytes, "Fristefterlevnad");
    let months: Vec<&str> = dl.iter().skip(3).map(|r| r[1].as_str()).collect();
    assert!(
        !months.is_empty() && months.iter().all(|m| m.starts_with("2024-")),
        "{months:?}"
    );
    let deadlines = app.get("/api/v1/metrics/deadlines", Some(&root)).await;
    let of_2024: Vec<&serde_json::Value> = deadlines.body["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["month"].as_str().unwrap().starts_with("2024-"))
        .collect();
    assert_eq!(dl.len() - 3, of_2024.len());
    let decided: u64 = of_2024.iter().map(|c| c["decided"].as_u64().unwrap()).sum();
    assert_eq!(row_of(&key, "Alla områden")[3], decided.to_string());
    // The comparison: the same as the API's, the peers being SKR group A2's municipalities.
    let cmp = sheet_rows(&bytes, "Jämförelse");
    let building = row_of(&cmp, "U07447");
    assert_eq!(building[1], "NKI Bygglov");
    assert_eq!(&building[2..8], ["64", "66", "70", "4", "5", "0"]);
    let api = app
        .get("/api/v1/metrics/comparison?year=2024", Some(&root))
        .await;
    assert_eq!(api.body["municipality_name"], "Haninge");
    assert!(
        api.body["peer_group"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "0138")
    );
    assert_eq!(
        api.body["peer_group"].as_array().unwrap().len(),
        42,
        "A2's 43 but Haninge itself"
    );
    assert_eq!(
        find_item(&api.body["items"], "kpi", "U07447")["peer_median"],
        70.0
    );
    assert!(
        !cmp.iter().any(|r| r[0] == "U07450"),
        "a KPI without our value is left out, not shown as zero"
    );
    let every = sheet_rows(&bytes, "Alla kommuner");
    let haninge = row_of(&every, "0136");
    assert_eq!(haninge[1], "Haninge");
    // Officers have no report; a year must be a year.
    let anna = app.token("anna").await;
    assert_eq!(
        app.get_status("/api/v1/reports/board.xlsx?year=2024", Some(&anna))
            .await,
        403
    );
    let r = app
        .get("/api/v1/reports/board.xlsx?year=tjugo", Some(&root))
        .await;
    assert_eq!(r.invalid_fields(), ["year"]);
    assert_eq!(
        app.get_status("/api/v1/reports/board.xlsx?year=2024", None)
            .await,
        401
    );
}
