//! The spec's own test scenarios, run black-box against the real server on both databases.

mod common;

use serde_json::json;

backend_tests! {
    async fn allocation_returns_the_new_balance_and_writes_both_logs(app: TestApp) {
        let tenant_id = app.create_tenant("acme").await;
        let reply = app
            .post(
                "/api/v1/points/allocate-to-tenant",
                &app.admin_token,
                json!({"tenant_id": tenant_id, "amount": 1000, "currency": "INR"}),
            )
            .await;
        reply.assert_status(200);
        assert_eq!(reply.body["success"], true);
        assert_eq!(reply.str("new_allocation_balance"), "1000");
        assert_eq!(reply.str("amount_allocated"), "1000");
        assert_eq!(reply.str("currency"), "INR");

        let logs = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        logs.assert_status(200);
        assert_eq!(logs.body["total"], 1);
        assert_eq!(logs.body["items"][0]["id"], reply.body["allocation_log_id"]);
        assert_eq!(logs.body["items"][0]["allocated_by"].as_str(), Some(app.admin_id.as_str()));

        let billing = app.get("/api/v1/points/billing-logs", &app.admin_token).await;
        assert_eq!(billing.body["items"][0]["transaction_type"], "CREDIT_INJECTION");
        assert_eq!(billing.body["items"][0]["id"], reply.body["billing_log_id"]);
        app.assert_ledger_consistent().await;
    }

    async fn the_full_allocation_recognition_flow_moves_points_into_the_wallet(app: TestApp) {
        let company = app.company("flow", json!(0)).await;
        let (manager_id, manager) = &company.manager;
        let _ = manager_id;
        app.allocate(&company.tenant_id, json!(50000)).await.assert_status(200);
        assert_eq!(app.pool_balance(manager).await, "50000");

        let (alice_id, alice) = &company.alice;
        let reply = app
            .post(
                "/api/recognitions",
                manager,
                json!({"to_user_id": alice_id, "points": 1000, "message": "Great work"}),
            )
            .await;
        reply.assert_status(200);
        assert_eq!(reply.str("points"), "1000");
        assert_eq!(reply.str("funding_source"), "pool");

        assert_eq!(app.pool_balance(manager).await, "49000");
        assert_eq!(app.wallet_balance(alice).await, "1000");
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        ledger.assert_status(200);
        assert_eq!(ledger.body["total"], 1);
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "credit");
        assert_eq!(line["amount"], "1000");
        assert_eq!(line["reference_id"], reply.body["id"]);
        app.assert_ledger_consistent().await;
    }

    async fn a_recognition_larger_than_the_pool_is_refused_and_moves_nothing(app: TestApp) {
        let company = app.company("short", json!(100)).await;
        let (_, manager) = &company.manager;
        let (bob_id, bob) = &company.bob;
        let reply = app
            .post(
                "/api/recognitions/",
                manager,
                json!({"to_user_id": bob_id, "points": 1000, "message": "Test"}),
            )
            .await;
        reply.assert_error(400, "insufficient_allocation_pool");
        assert_eq!(
            reply.str("detail"),
            "Insufficient company allocation pool. Available: 100, Required: 1000"
        );
        assert_eq!(app.pool_balance(manager).await, "100");
        assert_eq!(app.wallet_balance(bob).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn an_award_larger_than_the_pool_gets_the_spec_message(app: TestApp) {
        let company = app.company("award", json!(100)).await;
        let (_, manager) = &company.manager;
        let (alice_id, _) = &company.alice;
        let reply = app
            .post(
                "/api/v1/points/award-to-user",
                manager,
                json!({"to_user_id": alice_id, "amount": "1000", "recognition_message": "Test"}),
            )
            .await;
        reply.assert_error(400, "insufficient_allocation_pool");
        assert_eq!(
            reply.str("detail"),
            "Insufficient allocation pool. Available: 100, Required: 1000"
        );
    }

    async fn allocating_to_an_unknown_tenant_is_a_404(app: TestApp) {
        let reply = app.allocate("no-such-tenant", json!(10)).await;
        reply.assert_error(404, "tenant_not_found");
        assert_eq!(reply.str("detail"), "Tenant not found");
    }
}
