//! The rollups (migration 18, docs/metrics.md "Rollups"): a batch is whole or not at all, however
//! it is stopped; what the worker keeps equals a recomputation from the history; `lots rollups
//! check` finds a difference and `lots rollups rebuild` repairs it, also after a SIGKILL.

use std::time::Duration;

use lots_metrics::rollup::{check, write};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, assert_contains, root_actor, spawn_app, succeeded};

const ORACLE: &str = include_str!("../fixtures/oracle/cases.ndjson");

async fn with_oracle_cases() -> (TestApp, String) {
    let app = spawn_app().await;
    let root = app.token("root").await;
    let r = app.import_ndjson(&root, ORACLE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    (app, root)
}

/// An admin, as the records are read for the figures to compare with.
async fn queued(app: &TestApp) -> u64 {
    write::pending(app.db.reader()).await.unwrap()
}

fn lots(app: &TestApp, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lots"));
    c.args(args)
        .args(["--database-url", &app.config.database_url])
        .env("LOTS_LOG", "error");
    c
}

#[tokio::test]
async fn a_batch_stopped_anywhere_is_whole_or_not_at_all_and_the_rest_equals_a_recomputation() {
    let (app, root) = with_oracle_cases().await;
    // The import touched every case, and each touch queued it; nothing has taken them yet.
    let waiting = queued(&app).await;
    assert!(waiting >= 474, "{waiting} queued");
    assert_eq!(app.count("metric_fact").await, 0);
    // Stop the worker at many points of its one batch: a future dropped mid-way is a
    // transaction that never commits, as when the process is killed.
    for delay_us in [0u64, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000] {
        let db = app.db.clone();
        let task = tokio::spawn(async move {
            write::drain(&db, write::Budget::ALL, write::Cells::Recompute, &|_| {}).await
        });
        tokio::time::sleep(Duration::from_micros(delay_us)).await;
        task.abort();
        let _ = task.await;
        let (left, facts) = (queued(&app).await, app.count("metric_fact").await);
        assert!(
            (left == waiting && facts == 0) || (left == 0 && facts == 474),
            "stopped after {delay_us} µs: {left} queued, {facts} facts"
        );
        if left == 0 {
            break;
        }
    }
    write::drain(
        &app.db,
        write::Budget::ALL,
        write::Cells::Recompute,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(queued(&app).await, 0);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    assert_eq!(report.cases, 474);
    // Taking the same cases again changes nothing: cells are recomputed, never added to.
    let before = cells_and_hist(&app).await;
    app.db
        .writer()
        .execute_unprepared("INSERT INTO rollup_queue (case_id) SELECT id FROM case_record")
        .await
        .unwrap();
    let r = app
        .get("/api/v1/metrics/handling-times?group_by=area", Some(&root))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        queued(&app).await,
        0,
        "the request brought the rollups up to date"
    );
    assert_eq!(cells_and_hist(&app).await, before);
    // Every decided case is counted once in the answer.
    let decided: i64 = app
        .count_where("case_record", "decided_at IS NOT NULL")
        .await;
    let counted: i64 = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["lead_time"]["n"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, decided);
}

/// Every cell's count and every histogram row, as text, in order.
async fn cells_and_hist(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT department, area, channel, received_month, decided_month, cases, lead_seconds, \
         nki_n FROM rollup_cell ORDER BY 1, 2, 3, 4, 5",
        "SELECT department, area, channel, received_month, decided_month, measure, value, n \
         FROM rollup_hist ORDER BY 1, 2, 3, 4, 5, 6, 7",
    ] {
        for row in app
            .db
            .reader()
            .query_all_raw(sea_orm::Statement::from_string(app.db.backend(), sql))
            .await
            .unwrap()
        {
            let text: Vec<String> = (0..8)
                .map(|i| {
                    row.try_get_by_index::<String>(i)
                        .or_else(|_| row.try_get_by_index::<i64>(i).map(|v| v.to_string()))
                        .or_else(|_| row.try_get_by_index::<i32>(i).map(|v| v.to_string()))
                        .or_else(|_| row.try_get_by_index::<i16>(i).map(|v| v.to_string()))
                        .unwrap()
                })
                .collect();
            out.push(text.join("|"));
        }
    }
    assert!(!out.is_empty());
    out
}

#[tokio::test]
async fn the_check_finds_a_difference_and_a_rebuild_killed_on_the_way_still_repairs_it() {
    let (app, root) = with_oracle_cases().await;
    // A dashboard request brings the rollups up to date.
    let r = app.get("/api/v1/metrics/nki", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(queued(&app).await, 0);
    let said = succeeded(&lots(&app, &["rollups", "check"]).output().unwrap());
    assert!(said.contains("474 cases"), "{said}");
    // Damage a cell, a histogram and a fact behind the worker's back.
    for sql in [
        "UPDATE rollup_cell SET cases = cases + 1 WHERE decided_month <> ''",
        "DELETE FROM rollup_hist WHERE measure = 1",
        "UPDATE metric_fact SET nki = 1 WHERE nki IS NOT NULL",
    ] {
        app.db.writer().execute_unprepared(sql).await.unwrap();
    }
    let out = lots(&app, &["rollups", "check"]).output().unwrap();
    assert!(!out.status.success(), "a damaged rollup passes the check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stored"), "{stderr}");
    assert!(stderr.contains("rebuild"), "{stderr}");
    // A rebuild killed on its way, at several points, then resumed (or started again).
    let mut stopped_mid_way = 0;
    for delay_ms in [50u64, 150, 300, 600] {
        // Five cases a transaction: the rebuild takes long enough to be killed mid-way.
        let mut child = lots(&app, &["rollups", "rebuild", "--batch", "5"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        if write::unfinished_rebuild(app.db.reader())
            .await
            .unwrap()
            .is_some()
        {
            stopped_mid_way += 1;
        }
    }
    assert!(stopped_mid_way > 0, "no kill landed within a rebuild");
    let resumed = lots(&app, &["rollups", "rebuild", "--resume"])
        .output()
        .unwrap();
    if !resumed.status.success() {
        // Every kill came before a rebuild was queued, or after one finished.
        assert_contains(
            &String::from_utf8_lossy(&resumed.stderr),
            "nothing to resume",
        );
        let out = lots(&app, &["rollups", "rebuild"]).output().unwrap();
        assert!(out.status.success());
    }
    assert_eq!(
        write::unfinished_rebuild(app.db.reader()).await.unwrap(),
        None
    );
    succeeded(&lots(&app, &["rollups", "check"]).output().unwrap());
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    // And the answers are what they were (to floating-point rounding: the sums are added in
    // another order).
    let again = app.get("/api/v1/metrics/nki", Some(&root)).await;
    if let Some(d) = crate::oracle::difference("nki", &r.body, &again.body) {
        panic!("{d}");
    }
}

#[tokio::test]
async fn a_case_that_moves_leaves_its_old_cell_and_counts_in_its_new_one() {
    let (app, root) = with_oracle_cases().await;
    let by_department = |r: &crate::helpers::Reply| -> Vec<(String, i64)> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().to_string(),
                    g["lead_time"]["n"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let path = "/api/v1/metrics/handling-times?group_by=department";
    let before = by_department(&app.get(path, Some(&root)).await);
    // A decided case of SBF now owned by another department, as a transfer would leave it:
    // its touch queues it and the next answer counts it there.
    let id = app
        .query_one(
            "SELECT CAST(c.id AS TEXT) FROM case_record c JOIN department d ON d.id = c.department_id \
             WHERE d.code = 'SBF' AND c.decided_at IS NOT NULL ORDER BY c.id LIMIT 1",
        )
        .await[0]
        .clone();
    let other = app
        .query_one(
            "SELECT CAST(id AS TEXT) FROM department WHERE code <> 'SBF' ORDER BY id LIMIT 1",
        )
        .await[0]
        .clone();
    let code = app
        .query_one(&format!("SELECT code FROM department WHERE id = {other}"))
        .await[0]
        .clone();
    app.db
        .writer()
        .execute_unprepared(&format!(
            "UPDATE case_record SET department_id = {other} WHERE id = {id}"
        ))
        .await
        .unwrap();
    lots_store::touch::touch(app.db.writer(), &[id.parse().unwrap()])
        .await
        .unwrap();
    let after = by_department(&app.get(path, Some(&root)).await);
    let n = |v: &[(String, i64)], d: &str| v.iter().find(|(g, _)| g == d).map_or(0, |g| g.1);
    assert_eq!(n(&after, "SBF"), n(&before, "SBF") - 1);
    assert_eq!(n(&after, &code), n(&before, &code) + 1);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

#[tokio::test]
async fn the_channels_from_the_rollups_are_the_channels_from_every_record() {
    let (app, root) = with_oracle_cases().await;
    let filters = [
        ("", lots_metrics::MetricFilter::default()),
        (
            "?from=2024-11-15&to=2025-02-10",
            lots_metrics::MetricFilter {
                from: Some("2024-11-15".into()),
                to: Some("2025-02-10".into()),
                ..Default::default()
            },
        ),
        (
            "?department=SBF",
            lots_metrics::MetricFilter {
                department: Some("SBF".into()),
                ..Default::default()
            },
        ),
    ];
    for (query, filter) in filters {
        let r = app
            .get(&format!("/api/v1/metrics/channels{query}"), Some(&root))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let records = lots_metrics::load::load(&app.db, &root_actor(), &filter)
            .await
            .unwrap();
        let refs: Vec<&lots_metrics::CaseRecord> = records.iter().collect();
        let expected = serde_json::to_value(lots_metrics::compute::channels(
            &refs,
            app.config.nki_threshold,
        ))
        .unwrap();
        assert!(
            expected["times"].as_array().is_some_and(|t| !t.is_empty()),
            "{query}: {expected}"
        );
        if let Some(d) = crate::oracle::difference("channels", &expected, &r.body) {
            panic!("{query}: {d}");
        }
    }
}

#[tokio::test]
async fn the_check_finds_each_damaged_span_and_a_rebuild_repairs_them() {
    let (app, root) = with_oracle_cases().await;
    let r = app.get("/api/v1/metrics/time-in-state", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.count("metric_span").await > 474);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    // Each damage alone is found: a span's length, a span in another cell than its case, a
    // span rollup's sum, a histogram row, a span left over from no case.
    for (damage, repair) in [
        (
            "UPDATE metric_span SET seconds = seconds + 1 WHERE seq = 0 AND seconds IS NOT NULL",
            "UPDATE metric_span SET seconds = seconds - 1 WHERE seq = 0 AND seconds IS NOT NULL",
        ),
        (
            "UPDATE metric_span SET area = 'x' WHERE kind = 3",
            "UPDATE metric_span SET area = (SELECT f.area FROM metric_fact f \
             WHERE f.case_id = metric_span.case_id) WHERE kind = 3",
        ),
        (
            "UPDATE rollup_span SET working = working + 1 WHERE kind = 1",
            "UPDATE rollup_span SET working = working - 1 WHERE kind = 1",
        ),
        (
            "UPDATE rollup_span_hist SET n = n + 1 WHERE measure = 1 AND kind = 0",
            "UPDATE rollup_span_hist SET n = n - 1 WHERE measure = 1 AND kind = 0",
        ),
        (
            "UPDATE rollup_span_hist_all SET n = n + 1 WHERE kind = 1",
            "UPDATE rollup_span_hist_all SET n = n - 1 WHERE kind = 1",
        ),
        (
            "INSERT INTO metric_span (department, area, channel, received_month, decided_month, \
             case_id, seq, received_ms, kind, status, from_department, to_department, \
             handoff_kind, since_ms) VALUES ('SBF', 'food_control', 'officer', '2025-01', '', \
             999999, 0, 0, 3, '', '', '', '', 0)",
            "DELETE FROM metric_span WHERE case_id = 999999",
        ),
    ] {
        found_and_repaired(&app, (damage, repair), |r| {
            r.spans_differ > 0 && (r.facts_differ, r.cells_differ) == (0, 0)
        })
        .await;
    }
    // All at once, repaired by a rebuild.
    damaged_then_rebuilt(
        &app,
        &[
            "DELETE FROM metric_span WHERE kind = 2",
            "DELETE FROM rollup_span_hist WHERE kind = 0",
        ],
    )
    .await;
    let again = app.get("/api/v1/metrics/time-in-state", Some(&root)).await;
    assert_eq!(again.body, r.body);
}

#[tokio::test]
async fn the_check_finds_each_damaged_linkage_rollup_and_a_rebuild_repairs_them() {
    let (app, root) = with_oracle_cases().await;
    let r = app.get("/api/v1/metrics/linkage", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.count("rollup_link").await > 0);
    assert!(app.count("rollup_attr_all").await > 0);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    // Each damage alone is found: a bucket's NKI sum, a department's seconds, the coarse
    // tables' count and lead, and a fact's counts and place in the sample.
    for (damage, repair, fact) in [
        (
            "UPDATE rollup_link SET nki = nki + 1 WHERE measure = 2",
            "UPDATE rollup_link SET nki = nki - 1 WHERE measure = 2",
            false,
        ),
        (
            "UPDATE rollup_attr SET spent = spent + 1",
            "UPDATE rollup_attr SET spent = spent - 1",
            false,
        ),
        (
            "UPDATE rollup_link_all SET n = n + 1 WHERE measure = 0",
            "UPDATE rollup_link_all SET n = n - 1 WHERE measure = 0",
            false,
        ),
        (
            "UPDATE rollup_attr_all SET lead = lead + 1",
            "UPDATE rollup_attr_all SET lead = lead - 1",
            false,
        ),
        (
            "UPDATE metric_fact SET departments = departments + 1 WHERE departments IS NOT NULL",
            "UPDATE metric_fact SET departments = departments - 1 WHERE departments IS NOT NULL",
            true,
        ),
        (
            "UPDATE metric_fact SET sample = sample + 1",
            "UPDATE metric_fact SET sample = sample - 1",
            true,
        ),
        (
            "UPDATE metric_fact SET is_open = 1 - is_open",
            "UPDATE metric_fact SET is_open = 1 - is_open",
            true,
        ),
        (
            "UPDATE metric_fact SET decided_ms = decided_ms + 1",
            "UPDATE metric_fact SET decided_ms = decided_ms - 1",
            true,
        ),
    ] {
        found_and_repaired(&app, (damage, repair), |r| {
            if fact {
                r.facts_differ > 0
            } else {
                r.cells_differ > 0 && r.facts_differ == 0
            }
        })
        .await;
    }
    // All at once, repaired by a rebuild: the same linkage again.
    damaged_then_rebuilt(
        &app,
        &[
            "DELETE FROM rollup_link",
            "DELETE FROM rollup_attr_all",
            "UPDATE metric_fact SET handoffs = NULL",
        ],
    )
    .await;
    // The same linkage again (the cells' floating sums to rounding: summed in another order).
    let again = app.get("/api/v1/metrics/linkage", Some(&root)).await;
    let differ = crate::oracle::difference("linkage", &r.body, &again.body);
    assert!(differ.is_none(), "{differ:?}");
}

#[tokio::test]
async fn spearman_past_the_sample_reads_the_first_answers_in_the_sample_order() {
    use lots_metrics::compute::linkage_from;
    use lots_metrics::load::Criteria;
    use lots_metrics::rollup::link;

    let (app, root) = with_oracle_cases().await;
    let r = app.get("/api/v1/metrics/linkage", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let answered = r.body["n"].as_u64().unwrap();
    // The whole population: the API's answer, exact.
    let all = link::inputs(app.db.reader(), &Criteria::default(), link::SAMPLE)
        .await
        .unwrap();
    let exact = linkage_from(&all, 7, 10);
    assert_eq!(exact.n as u64, answered);
    let rho = exact.spearman.unwrap();
    assert_eq!((rho.n as u64, rho.population as u64), (answered, answered));
    assert!((rho.rho - r.body["spearman"]["rho"].as_f64().unwrap()).abs() < 1e-12);
    // Twenty a area: each area's sample is its twenty answered cases first in the order, and
    // the pooled one the twenty first of all, standing for every answer.
    let small = link::inputs(app.db.reader(), &Criteria::default(), 20)
        .await
        .unwrap();
    for (area, points) in &small.sample {
        let first = samples(
            &app,
            &format!(
                "SELECT sample FROM metric_fact WHERE area = '{area}' AND nki IS NOT NULL \
                 ORDER BY sample LIMIT 20"
            ),
        )
        .await;
        let got: Vec<i64> = points.iter().map(|p| p.0).collect();
        assert_eq!(got, first, "{area}");
    }
    let pooled = samples(
        &app,
        "SELECT sample FROM metric_fact WHERE nki IS NOT NULL ORDER BY sample LIMIT 20",
    )
    .await;
    let got: Vec<i64> = small.pooled_sample().iter().map(|p| p.0).collect();
    assert_eq!(got, pooled);
    let sampled = linkage_from(&small, 7, 10);
    let rho = sampled.spearman.unwrap();
    assert_eq!((rho.n, rho.population as u64), (20, answered));
    // Everything but ρ is the same: it comes from sums.
    assert_eq!(sampled.slope, exact.slope);
    assert_eq!(sampled.by_lead_time_quartile, exact.by_lead_time_quartile);
    assert_eq!(sampled.attribution, exact.attribution);
    for (s, e) in sampled.by_area.iter().zip(&exact.by_area) {
        assert_eq!((s.n, &s.slope), (e.n, &e.slope));
        if let Some(c) = &s.spearman {
            assert_eq!((c.n.min(20), c.population), (c.n, e.n));
        }
    }
}

async fn samples(app: &TestApp, sql: &str) -> Vec<i64> {
    let db = app.db.reader();
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index::<i64>(0).unwrap())
    .collect()
}

/// Damages the database, checks that the check finds it as `found` says, repairs it and checks
/// that the check finds nothing.
async fn found_and_repaired(
    app: &TestApp,
    (damage, repair): (&str, &str),
    found: impl Fn(&check::Report) -> bool,
) {
    app.db.writer().execute_unprepared(damage).await.unwrap();
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(
        found(&report),
        "not found as it should be: {damage}: {report:#?}"
    );
    app.db.writer().execute_unprepared(repair).await.unwrap();
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{repair}: {report:#?}");
}

/// Damages the database in every way given at once, checks that the check finds it, and that a
/// rebuild leaves nothing for it to find.
async fn damaged_then_rebuilt(app: &TestApp, damage: &[&str]) {
    for sql in damage {
        app.db.writer().execute_unprepared(sql).await.unwrap();
    }
    assert!(!check::check(&app.db, &|_| {}).await.unwrap().is_clean());
    succeeded(&lots(app, &["rollups", "rebuild"]).output().unwrap());
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

#[tokio::test]
async fn a_list_from_the_facts_is_its_first_cases_in_order_and_counts_them_all() {
    use lots_metrics::load::Criteria;
    use lots_metrics::rollup::read::listed;

    let (app, root) = with_oracle_cases().await;
    // A metric request brings the rollups up to date first.
    let r = app.get("/api/v1/metrics/deadlines", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let condition = "decided_month = '' AND due_day IS NOT NULL AND is_open = 1";
    let all = samples(
        &app,
        &format!(
            "SELECT case_id FROM metric_fact WHERE {condition} ORDER BY due_day DESC, case_id"
        ),
    )
    .await;
    assert!(all.len() > 5, "{}", all.len());
    let everyone = Criteria::default();
    let first = |limit: usize, counted: bool| {
        listed(
            app.db.reader(),
            &everyone,
            condition,
            ("due_day DESC, case_id", limit),
            counted,
        )
    };
    let (some, total) = first(5, true).await.unwrap();
    assert_eq!((some.as_slice(), total), (&all[..5], all.len() as u64));
    // Not counted: how many were listed.
    assert_eq!(first(5, false).await.unwrap(), (some, 5));
    // Fewer than the limit: all of them, counted without a second query's help.
    let (every, total) = first(all.len() + 1, true).await.unwrap();
    assert_eq!((every, total), (all.clone(), all.len() as u64));
    // The department filter applies to the facts' owner.
    let sbf = Criteria {
        departments: vec!["SBF".into()],
        ..Criteria::default()
    };
    let (_, total) = listed(app.db.reader(), &sbf, condition, ("case_id", 1), true)
        .await
        .unwrap();
    let expected = app
        .count_where(
            "metric_fact",
            &format!("department = 'SBF' AND {condition}"),
        )
        .await;
    assert_eq!(total as i64, expected);
}

/// Open cases whose spans began on both sides of Stockholm midnights (in winter and in summer
/// time) and of the change to summer time: the running spans, read counted by the hour they
/// began in, give the bottlenecks every record gives.
#[tokio::test]
async fn running_spans_counted_by_hour_give_what_every_record_gives() {
    let now: chrono::DateTime<chrono::Utc> = "2025-04-02T10:30:00Z".parse().unwrap();
    let app = crate::helpers::spawn_app_at(now).await;
    let root = app.token("root").await;
    // 23:00 UTC is midnight in winter; 22:00 UTC in summer; 01:00 UTC on 30 March the clocks
    // went forward.
    let starts = [
        "2025-01-14T22:59:57Z",
        "2025-01-14T22:59:58Z",
        "2025-01-14T23:00:00Z",
        "2025-03-29T22:59:58Z",
        "2025-03-30T00:59:58Z",
        "2025-03-30T01:00:00Z",
        "2025-03-31T21:59:58Z",
        "2025-03-31T22:00:01Z",
        "2025-04-02T10:29:00Z",
    ];
    let at = |start: &str, plus: i64| {
        (start.parse::<chrono::DateTime<chrono::Utc>>().unwrap() + chrono::Duration::seconds(plus))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let lines: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(i, start)| {
            let mut events = vec![
                json!({"at": at(start, 1), "type": "status_changed", "actor": "anna", "to": "in_progress"}),
                json!({"at": at(start, 2), "type": "handoff_requested", "actor": "anna", "handoff": "h1", "to_department": "MHF", "kind": "consultation", "message": "Remiss"}),
            ];
            if i % 2 == 0 {
                events.push(json!({"at": at(start, 3), "type": "handoff_accepted", "actor": "omar", "handoff": "h1"}));
            }
            json!({
                "reference": format!("BN 2025/{:04}", i + 1), "org_number": "556036-0793",
                "company_name": "Exempel AB", "area": "building_permit", "department": "SBF",
                "title": "Nybyggnad", "assignee": "anna", "received_at": at(start, 0),
                "events": events,
            })
            .to_string()
        })
        .collect();
    let r = app.import_ndjson(&root, lines.join("\n")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["imported"], starts.len(), "{}", r.text);
    let got = app.get("/api/v1/metrics/bottlenecks", Some(&root)).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let records = lots_metrics::load::load(&app.db, &root_actor(), &Default::default())
        .await
        .unwrap();
    let refs: Vec<&lots_metrics::CaseRecord> = records.iter().collect();
    let expected = lots_metrics::compute::bottlenecks(&refs, None, now);
    assert_eq!(expected.departments[0].open_cases, starts.len());
    assert_eq!(expected.edges[0].count, starts.len());
    // Too few answers for a slope here: neither side prices the edges.
    let expected = serde_json::to_value(expected).unwrap();
    if let Some(d) = crate::oracle::difference("bottlenecks", &expected, &got.body) {
        panic!("{d}\nexpected {expected}\ngot {}", got.body);
    }
}

/// The board's report of a year reads the lead times' histograms of that year's decisions
/// alone, and the dashboard those of its latest months alone: both still give what every record
/// gives, with and without dates that cut a month.
#[tokio::test]
async fn a_years_report_and_the_latest_months_read_their_own_histograms_and_give_every_records_figures()
 {
    use lots_metrics::report::{BoardInputs, board};
    use lots_metrics::rollup::figures;
    let (app, root) = with_oracle_cases().await;
    // A year of decisions before the oracle's, a case a month: more months than the dashboard
    // shows.
    let earlier: Vec<String> = (0..12)
        .map(|i| {
            let (y, m) = (2022 + (5 + i) / 12, (5 + i) % 12 + 1);
            json!({
                "reference": format!("BN {y}/{:04}", 900 + i), "org_number": "556036-0793",
                "company_name": "Exempel AB", "area": "building_permit", "department": "SBF",
                "title": "Nybyggnad", "assignee": "anna",
                "received_at": format!("{y}-{m:02}-02T07:00:00Z"),
                "events": [
                    {"at": format!("{y}-{m:02}-03T08:00:00Z"), "type": "status_changed", "actor": "anna", "to": "in_progress"},
                    {"at": format!("{y}-{m:02}-{:02}T09:00:00Z", 10 + i), "type": "decided", "actor": "anna", "decision": "approved"},
                ],
            })
            .to_string()
        })
        .collect();
    let r = app.import_ndjson(&root, earlier.join("\n")).await;
    assert_eq!(r.body["imported"], 12, "{}", r.text);
    // A request brings the rollups up to date.
    let r = app.get("/api/v1/metrics/nki", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(queued(&app).await, 0);
    let now = chrono::Utc::now();
    let threshold = app.config.nki_threshold;
    let all = lots_metrics::MetricFilter::default();
    let (criteria, records) = selection(&app, &all).await;
    let refs: Vec<&lots_metrics::CaseRecord> = records.iter().collect();
    for year in [2024, 2025] {
        let inputs = figures::board_inputs(app.db.analytics(), &criteria, year, now)
            .await
            .unwrap();
        let expected = board(
            &BoardInputs::of(&refs, year, now),
            year,
            threshold,
            None,
            now,
        );
        assert!(expected.areas[0].lead_time_p50_days.is_some(), "{year}");
        let got = board(&inputs, year, threshold, None, now);
        let (expected, got) = (
            serde_json::to_value(&expected).unwrap(),
            serde_json::to_value(&got).unwrap(),
        );
        if let Some(d) = crate::oracle::difference("report", &expected, &got) {
            panic!("{year}: {d}");
        }
    }
    let cut = lots_metrics::MetricFilter {
        from: Some("2024-03-15".into()),
        to: Some("2025-02-10".into()),
        ..Default::default()
    };
    for (filter, months) in [(all, 24), (cut, figures::LATEST_MONTHS)] {
        let (criteria, records) = selection(&app, &filter).await;
        let refs: Vec<&lots_metrics::CaseRecord> = records.iter().collect();
        let f = figures::figures(
            app.db.analytics(),
            &criteria,
            app.config.metric_settings(),
            now,
        )
        .await
        .unwrap();
        let by_month = lots_metrics::compute::handling_times(&refs, lots_metrics::GroupBy::Month);
        assert!(by_month.len() >= months, "{}", by_month.len());
        let latest = &by_month[by_month.len() - figures::LATEST_MONTHS..];
        let everything = lots_metrics::compute::handling_times(&refs, lots_metrics::GroupBy::Area);
        let decided: u64 = everything.iter().map(|h| h.lead_time.n as u64).sum();
        assert_eq!(f.lead.summary().n as u64, decided, "{filter:?}");
        let (expected, got) = (
            serde_json::to_value(latest).unwrap(),
            serde_json::to_value(&f.lead_by_month).unwrap(),
        );
        if let Some(d) = crate::oracle::difference("lead_by_month", &expected, &got) {
            panic!("{filter:?}: {d}");
        }
    }
}

/// What an admin's `filter` selects: as the rollups are read for it, and every record of it.
async fn selection(
    app: &TestApp,
    filter: &lots_metrics::MetricFilter,
) -> (lots_metrics::load::Criteria, Vec<lots_metrics::CaseRecord>) {
    let criteria = lots_metrics::load::criteria(&app.db, &root_actor(), filter)
        .await
        .unwrap();
    let records = lots_metrics::load::load(&app.db, &root_actor(), filter)
        .await
        .unwrap();
    (criteria, records)
}

/// A month the dates cut has its sums from the day cells of its whole days and from the facts of
/// the hour at each end that no such day holds (in winter a Stockholm midnight is an hour into a
/// day of `rollup_cell_day`), and the deadlines' count of late building decisions from the
/// cells: every figure equals every record's, for cases received on either side of midnight.
#[tokio::test]
async fn a_cut_month_reads_its_whole_days_from_the_day_cells_and_its_ends_from_the_facts() {
    let now: chrono::DateTime<chrono::Utc> = "2025-09-30T10:00:00Z".parse().unwrap();
    let app = crate::helpers::spawn_app_at(now).await;
    let root = app.token("root").await;
    // Around winter's midnights (23:00 UTC), in the hour a day of UTC+2 begins before them
    // (22:00–23:00 UTC), and around summer's (22:00 UTC).
    let hours = [
        "21:59:59", "22:00:00", "22:30:00", "22:59:59", "23:00:00", "12:00:00",
    ];
    let day = chrono::Duration::days(1);
    let lines: Vec<String> = (0..420i64)
        .map(|i| {
            let first = if i % 5 == 4 { "2025-05-01" } else { "2025-01-05" };
            let received = format!("{first}T{}Z", hours[(i % 6) as usize])
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                + day * (i % 47) as i32;
            let at = |d: i64, h: i64| {
                (received + chrono::Duration::days(d) + chrono::Duration::hours(h))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            let mut events = vec![
                json!({"at": at(0, 1), "type": "status_changed", "actor": "anna", "to": "in_progress"}),
            ];
            if i % 4 == 0 {
                events.extend([
                    json!({"at": at(1, 0), "type": "handoff_requested", "actor": "anna", "handoff": "h1", "to_department": "MHF", "kind": "consultation", "message": "Remiss"}),
                    json!({"at": at(2 + i % 9, 0), "type": "handoff_accepted", "actor": "omar", "handoff": "h1"}),
                    json!({"at": at(12 + i % 5, 0), "type": "handoff_completed", "actor": "omar", "handoff": "h1", "response": "Yttrande"}),
                ]);
            }
            // Most decided late (past ten weeks), some in time, some still open.
            match i % 7 {
                0 => {}
                1 => events.push(json!({"at": at(20 + i % 11, 3), "type": "decided", "actor": "anna", "decision": "approved"})),
                _ => events.push(json!({"at": at(80 + i % 23, 3), "type": "decided", "actor": "anna", "decision": "approved"})),
            }
            json!({
                "reference": format!("BN 2025/{:04}", i + 1), "org_number": "556036-0793",
                "company_name": "Exempel AB", "area": "building_permit", "case_type": "permit",
                "department": "SBF", "title": "Nybyggnad", "assignee": "anna",
                "received_at": at(0, 0), "events": events,
            })
            .to_string()
        })
        .collect();
    let r = app.import_ndjson(&root, lines.join("\n")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["imported"], 420, "{}", r.text);
    let r = app.get("/api/v1/metrics/nki", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(queued(&app).await, 0);
    assert!(app.count("rollup_cell_day").await > 40);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    let settings = app.config.metric_settings();
    let mut late_counted_from_cells = false;
    for (from, to) in [
        ("2025-01-15", "2025-02-10"),
        ("2025-01-06", "2025-05-20"),
        ("2025-05-15", "2025-06-09"),
        ("2025-01-21", "2025-01-21"),
    ] {
        let filter = lots_metrics::MetricFilter {
            from: Some(from.into()),
            to: Some(to.into()),
            ..Default::default()
        };
        let (_, records) = selection(&app, &filter).await;
        assert!(!records.is_empty(), "{from}–{to}");
        let refs: Vec<&lots_metrics::CaseRecord> = records.iter().collect();
        let deadlines = lots_metrics::compute::deadlines(&refs, now, settings.near_days);
        late_counted_from_cells |= deadlines.fee_reductions_total > 200;
        for (path, expected) in [
            (
                "handling-times?group_by=month",
                serde_json::to_value(lots_metrics::compute::handling_times(
                    &refs,
                    lots_metrics::GroupBy::Month,
                ))
                .unwrap(),
            ),
            (
                "time-in-state?group_by=department",
                serde_json::to_value(lots_metrics::compute::time_in_state(
                    &refs,
                    lots_metrics::GroupBy::Department,
                ))
                .unwrap(),
            ),
            (
                "bottlenecks?",
                serde_json::to_value(lots_metrics::compute::bottlenecks(&refs, None, now)).unwrap(),
            ),
            ("deadlines?", serde_json::to_value(&deadlines).unwrap()),
        ] {
            let got = app
                .get(
                    &format!("/api/v1/metrics/{path}&from={from}&to={to}"),
                    Some(&root),
                )
                .await;
            assert_eq!(got.status, 200, "{path}: {}", got.text);
            // A list of groups comes as the `items` of the answer.
            let got = if expected.is_array() {
                got.body["items"].clone()
            } else {
                got.body
            };
            if let Some(d) = crate::oracle::difference(path, &expected, &got) {
                panic!("{path} {from}–{to}: {d}\nexpected {expected}\ngot {got}");
            }
        }
    }
    assert!(
        late_counted_from_cells,
        "more late decisions than a list holds"
    );
}

/// The day cells are checked against the facts: a sum, a count and a day moved are each found,
/// and a rebuild restores days deleted.
#[tokio::test]
async fn the_check_finds_each_damaged_day_cell_and_a_rebuild_repairs_them() {
    let (app, root) = with_oracle_cases().await;
    let r = app.get("/api/v1/metrics/nki", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.count("rollup_cell_day").await > app.count("rollup_cell").await);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
    for (damage, repair) in [
        (
            "UPDATE rollup_cell_day SET nki_sum = nki_sum + 1 WHERE nki_n > 0",
            "UPDATE rollup_cell_day SET nki_sum = nki_sum - 1 WHERE nki_n > 0",
        ),
        (
            "UPDATE rollup_cell_day SET due_n = due_n + 1",
            "UPDATE rollup_cell_day SET due_n = due_n - 1",
        ),
        (
            "UPDATE rollup_cell_day SET received_day = received_day + 100000",
            "UPDATE rollup_cell_day SET received_day = received_day - 100000",
        ),
    ] {
        found_and_repaired(&app, (damage, repair), |r| {
            r.cells_differ > 0 && r.facts_differ == 0
        })
        .await;
    }
    damaged_then_rebuilt(
        &app,
        &["DELETE FROM rollup_cell_day WHERE received_day % 3 = 0"],
    )
    .await;
}

/// Migration 25 on a database that already has its rollups fills the day cells from the facts
/// at once, as the worker would have.
#[tokio::test]
async fn the_day_cells_migration_fills_them_from_an_existing_databases_facts() {
    use lots_migrations::{Migrator, MigratorTrait};
    let (app, root) = with_oracle_cases().await;
    let r = app.get("/api/v1/metrics/nki", Some(&root)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let days = app.count("rollup_cell_day").await;
    assert!(days > 0);
    let migrations = Migrator::migrations();
    let at = migrations
        .iter()
        .position(|m| m.name() == "m20261214_000025_cells_by_day")
        .expect("the migration is listed");
    let steps = u32::try_from(migrations.len() - at).unwrap();
    Migrator::down(app.db.writer(), Some(steps)).await.unwrap();
    assert!(
        app.db
            .reader()
            .execute_unprepared("SELECT 1 FROM rollup_cell_day")
            .await
            .is_err(),
        "the table is gone"
    );
    Migrator::up(app.db.writer(), None).await.unwrap();
    assert_eq!(app.count("rollup_cell_day").await, days);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

#[tokio::test]
async fn a_request_waits_for_one_batch_of_the_workers_catch_up_not_for_all_of_it() {
    use lots_metrics::rollup::{REQUEST_BUDGET, Rollups};

    let (app, _root) = with_oracle_cases().await;
    // The cases queued again and again, as an import's million would be: more than four batches.
    while queued(&app).await <= 4 * write::BATCH {
        app.db
            .writer()
            .execute_unprepared("INSERT INTO rollup_queue (case_id) SELECT id FROM case_record")
            .await
            .unwrap();
    }
    let waiting = queued(&app).await;
    let rollups = std::sync::Arc::new(Rollups::new());
    let worker = {
        let (rollups, db) = (rollups.clone(), app.db.clone());
        tokio::spawn(async move { rollups.catch_up(&db, u64::MAX).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    // A dashboard request of the same process meanwhile: it takes its turn after the worker's
    // batch, takes one batch itself and answers, while the worker has batches left.
    let took = rollups.catch_up(&app.db, REQUEST_BUDGET).await.unwrap();
    assert_eq!(took, write::BATCH);
    let left = queued(&app).await;
    assert!(
        left > 0,
        "the request waited for the worker's whole catch-up ({waiting} rows)"
    );
    let by_worker = worker.await.unwrap().unwrap();
    assert_eq!(by_worker + took, waiting);
    assert_eq!(queued(&app).await, 0);
    let report = check::check(&app.db, &|_| {}).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}
