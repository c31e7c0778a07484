//! The demo municipality loads through the real services and gives a newcomer something to see.

use crate::helpers::spawn_app_seeded;

#[tokio::test]
async fn the_demo_loads_once_and_its_logins_work() {
    let app = spawn_app_seeded(|_| {}, false).await;
    assert!(lots_demo::is_empty(&app.db).await.unwrap());
    let report = lots_demo::load(&app.db, Some("demo-password-1".into()), &app.state.surveys)
        .await
        .unwrap();
    assert!(!lots_demo::is_empty(&app.db).await.unwrap());
    assert!(
        lots_demo::load(&app.db, Some("demo-password-1".into()), &app.state.surveys)
            .await
            .is_err(),
        "only into an empty database"
    );
    assert!(report.to_string().contains("anna"));
    // The full record: parties, premises, a decision with its legal basis, a confidential case.
    assert_eq!(report.showcase.len(), 2, "{report}");
    assert!(app.count("case_party").await >= 4);
    assert_eq!(app.count("case_premises").await, 1);
    assert_eq!(
        app.count_where("case_record", "confidential_statute IS NOT NULL")
            .await,
        1
    );
    assert!(
        app.count_where("case_decision", "outcome = 'approved' AND text <> ''")
            .await
            >= 1
    );
    assert!(report.logins.len() >= 13);

    let login = app.login("admin", "demo-password-1").await;
    let admin = login.body["access_token"].as_str().unwrap().to_string();
    let deps = app.get("/api/v1/departments", Some(&admin)).await;
    assert_eq!(deps.body.as_array().unwrap().len(), 4);
    assert!(app.count("case_record").await >= 300);

    // Every state appears, and building cases show the clock at work.
    for status in [
        "received",
        "in_progress",
        "awaiting_supplement",
        "decided",
        "closed",
        "withdrawn",
    ] {
        let r = app
            .get(
                &format!("/api/v1/cases?status={status}&limit=1"),
                Some(&admin),
            )
            .await;
        assert_eq!(
            r.body["items"].as_array().unwrap().len(),
            1,
            "a {status} case"
        );
    }
    let overdue = app
        .get(
            "/api/v1/cases?overdue=true&area=building_permit",
            Some(&admin),
        )
        .await;
    assert!(!overdue.body["items"].as_array().unwrap().is_empty());
    let all = app.get("/api/v1/cases?sort=due_date&area=building_permit&status=in_progress,awaiting_supplement&limit=500", Some(&admin)).await;
    let items = all.body["items"].as_array().unwrap();
    assert!(items.iter().any(|c| c["deadline"]["extended"] == true));
    assert!(items.iter().any(|c| c["deadline"]["paused"] == true));
    assert!(
        items
            .iter()
            .any(|c| c["deadline"]["older_than_six_months"] == true
                && !c["deadline"]["decision_request"].is_null())
    );
    // One is due on the next working day from today in Stockholm: today itself on a working
    // day (0 days left), Monday on a Saturday (1).
    let today = chrono::Utc::now()
        .with_timezone(&lots_core::TIME_ZONE)
        .date_naive();
    let nearest = lots_core::calendar::working_days_between(
        today,
        lots_core::calendar::next_working_day(today),
    );
    assert!(
        items.iter().any(|c| c["deadline"]["days_left"] == nearest),
        "one due on the next working day ({nearest} days left)"
    );

    // Consultations and transfers, open and done, and a bundle with a coordinator.
    let handoffs = app.get("/api/v1/handoffs?limit=500", Some(&admin)).await;
    let hs = handoffs.body["items"].as_array().unwrap();
    for (kind, status) in [
        ("consultation", "completed"),
        ("consultation", "requested"),
        ("transfer", "completed"),
        ("transfer", "requested"),
        ("transfer", "declined"),
    ] {
        assert!(
            hs.iter()
                .any(|h| h["kind"] == kind && h["status"] == status),
            "a {status} {kind}"
        );
    }
    let bundles = app.get("/api/v1/bundles", Some(&admin)).await;
    let b = &bundles.body["items"][0];
    assert!(
        b["cases"].as_array().unwrap().len() >= 2,
        "{}",
        bundles.text
    );
    assert!(b["coordinator"].is_string());

    // Survey answers: enough in every NKI area to pass the reporting threshold (10).
    use sea_orm::ConnectionTrait;
    let rows = app
        .db
        .reader()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.backend(),
            "SELECT c.area, COUNT(*) FROM survey_response r JOIN case_record c ON c.id = r.case_id GROUP BY c.area".to_string(),
        ))
        .await
        .unwrap();
    let per_area: std::collections::BTreeMap<String, i64> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).unwrap(),
                r.try_get_by_index::<i64>(1).unwrap(),
            )
        })
        .collect();
    // Every area has enough answers to be shown (the reporting threshold, 7). Which cases are
    // decided by now depends on the hour the demo loads (each step happens only if its time has
    // come), so land_use, the smallest area, has 9 to 12: comparing areas (threshold 10) may
    // show it suppressed, which the dashboard then says.
    for area in [
        "building_permit",
        "environment_health",
        "food_control",
        "serving_licence",
        "fire_safety",
        "land_use",
    ] {
        assert!(
            per_area.get(area).copied().unwrap_or(0) >= 7,
            "{area}: {per_area:?}"
        );
    }
    assert_eq!(report.answers as i64, per_area.values().sum::<i64>());

    // The comparison with other municipalities: a sample in Kolada's shape, Haninge's building
    // permits from 64 to 71, and the dashboard's ranked dot plot.
    let lines = lots_demo::kolada_sample(&app.db).await.unwrap();
    assert!(lines[0].contains("all 290 municipalities"), "{lines:?}");
    let last = chrono::Utc::now()
        .with_timezone(&lots_core::TIME_ZONE)
        .format("%Y")
        .to_string();
    let last: i32 = last.parse::<i32>().unwrap() - 1;
    let r = app
        .get(
            &format!("/api/v1/metrics/comparison?year={last}&area=building_permit"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["municipality"], "0136");
    let building = crate::helpers::find_item(&r.body["items"], "kpi", "U07447");
    assert_eq!(building["value"], 71.0);
    assert!(building["of"].as_i64().unwrap() >= 250, "{building}");
    assert!(!building["peer_median"].is_null());
    assert_eq!(r.body["municipality_name"], "Haninge");
    assert_eq!(
        r.body["peer_group"].as_array().unwrap().len(),
        42,
        "SKR group A2 but Haninge itself"
    );
    let all = app
        .get(
            &format!("/api/v1/metrics/comparison?year={last}"),
            Some(&admin),
        )
        .await;
    assert!(
        !crate::helpers::find_item(&all.body["items"], "kpi", "U07513")["value"].is_null(),
        "the service factors are in the sample"
    );
    let before = app
        .get(
            &format!(
                "/api/v1/metrics/comparison?year={}&area=building_permit",
                last - 1
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(
        crate::helpers::find_item(&before.body["items"], "kpi", "U07447")["value"],
        64.0
    );
}
