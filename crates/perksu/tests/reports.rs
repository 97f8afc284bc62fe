//! Usage reports: totals that reconcile with the ledger, scopes, roles, and closed periods
//! that read the same byte for byte every time.

mod common;

use chrono::{TimeZone, Utc};
use common::TestApp;
use serde_json::{json, Value};

/// The report body as raw bytes, for byte-for-byte comparisons.
async fn report_bytes(app: &TestApp, token: &str, query: &str) -> (u16, String, Vec<u8>) {
    let response = app
        .client
        .get(format!(
            "{}/api/v1/points/reports/usage?{query}",
            app.base_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("report request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        content_type,
        response.bytes().await.expect("body").to_vec(),
    )
}

fn hundredths(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not an amount: {value:?}"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let cents = format!("{fraction:0<2}");
    whole.parse::<i64>().expect("whole") * 100 + cents.parse::<i64>().expect("cents")
}

backend_tests! {
    async fn report_totals_reconcile_with_the_ledger_balances(app: TestApp) {
        let company = app.company("recon", json!(10000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        let (bob_id, _) = &company.bob;
        app.post("/api/v1/points/delegate-to-lead", manager, json!({"lead_id": lead_id, "amount": 3000}))
            .await
            .assert_status(200);
        app.post("/api/v1/points/recall-from-lead", manager, json!({"lead_id": lead_id, "amount": 500}))
            .await
            .assert_status(200);
        app.post(
            "/api/v1/points/award-to-user",
            lead,
            json!({"to_user_id": alice_id, "amount": 700, "recognition_message": "Thanks"}),
        )
        .await
        .assert_status(200);
        app.post("/api/recognitions", manager, json!({"to_user_id": bob_id, "points": 1200.5, "message": "Well done"}))
            .await
            .assert_status(200);
        let item = app
            .post(
                "/api/rewards",
                manager,
                json!({"kind": "merchandise", "name": "Mug", "face_value": 100, "stock": 5}),
            )
            .await;
        item.assert_status(201);
        let order = app
            .post("/api/redemptions", alice, json!({"item_id": item.body["id"]}))
            .await;
        order.assert_status(201);
        let delivered = app
            .post(
                &format!("/api/redemptions/{}/status", order.str("id")),
                manager,
                json!({"status": "delivered"}),
            )
            .await;
        delivered.assert_status(200);
        let refunded = app
            .post("/api/redemptions", alice, json!({"item_id": item.body["id"]}))
            .await;
        refunded.assert_status(201);
        app.post(&format!("/api/redemptions/{}/cancel", refunded.str("id")), alice, json!({}))
            .await
            .assert_status(200);
        app.post(
            &format!("/api/v1/points/clawback/{}", company.tenant_id),
            &app.admin_token,
            json!({"amount": 1000, "reason": "Over-allocated"}),
        )
        .await
        .assert_status(200);

        let report = app.get("/api/v1/points/reports/usage", manager).await;
        report.assert_status(200);
        let totals = &report.body["totals"];
        assert_eq!(totals["allocated"], "10000");
        assert_eq!(totals["delegated"], "3000");
        assert_eq!(totals["recalled"], "500");
        assert_eq!(totals["awarded_from_leads"], "700");
        assert_eq!(totals["awarded_from_pool"], "1200.5");
        assert_eq!(totals["awarded"], "1900.5");
        assert_eq!(totals["held_for_redemption"], "200");
        assert_eq!(totals["refunded"], "100");
        assert_eq!(totals["redeemed"], "100");
        assert_eq!(totals["clawed_back"], "1000");

        // Each balance is what the report's flows leave in it.
        let t = |name: &str| hundredths(&totals[name]);
        let pool = t("allocated") - t("reversed") - t("clawed_back") - t("pool_expired")
            - t("delegated") + t("recalled") - t("awarded_from_pool");
        assert_eq!(hundredths(&json!(app.pool_balance(manager).await)), pool);
        let lead_balance = app.get(&format!("/api/users/{lead_id}"), manager).await;
        assert_eq!(
            hundredths(&lead_balance.body["lead_distribution_balance"]),
            t("delegated") - t("recalled") - t("awarded_from_leads")
        );
        let ledger = app.store.verify().await.expect("verify");
        assert!(ledger.is_ok(), "{:?}", ledger.violations);
        assert_eq!(ledger.wallets_total.hundredths(), t("awarded") - t("held_for_redemption") + t("refunded") - t("wallet_expired"));
        assert_eq!(ledger.redeemed_total.hundredths(), t("redeemed"));
        assert_eq!(
            ledger.issued_net.hundredths(),
            t("allocated") - t("reversed") - t("clawed_back") - t("pool_expired")
        );
        app.assert_ledger_consistent().await;
    }

    async fn a_closed_period_reads_the_same_bytes_however_often_it_is_run(app: TestApp) {
        app.clock.set(Utc.with_ymd_and_hms(2026, 1, 10, 9, 0, 0).single().expect("date"));
        let company = app.company("closed", json!(5000)).await;
        let (_, manager) = &company.manager;
        let (alice_id, _) = &company.alice;
        app.post("/api/recognitions", manager, json!({"to_user_id": alice_id, "points": 250, "message": "January"}))
            .await
            .assert_status(200);
        app.clock.set(Utc.with_ymd_and_hms(2026, 2, 3, 9, 0, 0).single().expect("date"));
        // January's login has expired by February.
        let manager = &app.login("manager@closed.test").await;
        let january = "from=2026-01-01&to=2026-02-01&period=day";
        let first_json = report_bytes(&app, manager, january).await;
        let first_csv = report_bytes(&app, manager, &format!("{january}&format=csv")).await;
        assert_eq!(first_json.0, 200);
        assert_eq!(first_csv.0, 200);
        assert!(first_csv.1.starts_with("text/csv"), "content type {}", first_csv.1);

        // February's movements must not touch January's report.
        app.post("/api/recognitions", manager, json!({"to_user_id": alice_id, "points": 99, "message": "February"}))
            .await
            .assert_status(200);
        app.allocate(&company.tenant_id, json!(10)).await.assert_status(200);
        assert_eq!(report_bytes(&app, manager, january).await, first_json);
        assert_eq!(report_bytes(&app, manager, &format!("{january}&format=csv")).await, first_csv);

        let body: Value = serde_json::from_slice(&first_json.2).expect("json");
        assert_eq!(body["totals"]["allocated"], "5000");
        assert_eq!(body["totals"]["awarded"], "250");
        let tenant_rows: Vec<&Value> = body["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|row| row["scope"] == "tenant")
            .collect();
        assert_eq!(tenant_rows.len(), 1, "one day had movements: {body}");
        assert_eq!(tenant_rows[0]["period"], "2026-01-10");
        let csv = String::from_utf8(first_csv.2).expect("utf-8");
        assert!(csv.starts_with("scope,scope_id,scope_name,period,allocated,"), "{csv}");
        assert!(csv.contains("tenant,"), "{csv}");
        app.assert_ledger_consistent().await;
    }

    async fn department_and_lead_rows_show_who_received_and_who_gave(app: TestApp) {
        let company = app.company("scopes", json!(8000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, _) = &company.alice;
        let department = app.post("/api/departments", manager, json!({"name": "Design"})).await;
        department.assert_status(201);
        app.patch(&format!("/api/users/{alice_id}"), manager, json!({"department_id": department.body["id"]}))
            .await
            .assert_status(200);
        app.post("/api/v1/points/delegate-to-lead", manager, json!({"lead_id": lead_id, "amount": 400}))
            .await
            .assert_status(200);
        app.post("/api/recognitions", lead, json!({"to_user_id": alice_id, "points": 150, "message": "Nice"}))
            .await
            .assert_status(200);
        app.post("/api/recognitions", manager, json!({"to_user_id": alice_id, "points": 50, "message": "Also"}))
            .await
            .assert_status(200);

        let report = app.get("/api/v1/points/reports/usage?period=year", manager).await;
        report.assert_status(200);
        let rows = report.body["rows"].as_array().expect("rows");
        let design = rows
            .iter()
            .find(|row| row["scope"] == "department" && row["scope_name"] == "Design")
            .unwrap_or_else(|| panic!("no Design row in {rows:?}"));
        assert_eq!(design["awarded"], "200");
        assert_eq!(design["awarded_from_leads"], "150");
        let lead_row = rows
            .iter()
            .find(|row| row["scope"] == "lead" && row["scope_id"].as_str() == Some(lead_id.as_str()))
            .unwrap_or_else(|| panic!("no lead row in {rows:?}"));
        assert_eq!(lead_row["delegated"], "400");
        assert_eq!(lead_row["awarded_from_leads"], "150");
        assert_eq!(lead_row["awarded_from_pool"], "0");
    }

    async fn only_managers_read_usage_reports_and_only_their_own(app: TestApp) {
        let acme = app.company("acme-r", json!(100)).await;
        let globex = app.company("globex-r", json!(100)).await;
        let (_, employee) = &acme.alice;
        let (_, acme_manager) = &acme.manager;
        app.get("/api/v1/points/reports/usage", employee)
            .await
            .assert_error(403, "forbidden");
        app.get(&format!("/api/v1/points/reports/usage?tenant_id={}", globex.tenant_id), acme_manager)
            .await
            .assert_error(404, "tenant_not_found");
        app.get("/api/v1/points/reports/usage", &app.admin_token)
            .await
            .assert_error(400, "tenant_id_required");
        let admin_view = app
            .get(&format!("/api/v1/points/reports/usage?tenant_id={}", globex.tenant_id), &app.admin_token)
            .await;
        admin_view.assert_status(200);
        assert_eq!(admin_view.body["totals"]["allocated"], "100");
        app.get("/api/v1/points/reports/usage?period=week", acme_manager)
            .await
            .assert_error(400, "invalid_query");
        app.get("/api/v1/points/reports/usage?from=yesterday", acme_manager)
            .await
            .assert_error(400, "invalid_date");
    }
}
