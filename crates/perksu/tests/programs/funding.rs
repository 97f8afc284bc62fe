//! Pool mode without budgets: a lead's delegated balance pays first when it covers the whole
//! amount, otherwise the tenant's pool; a pool that cannot pay refuses with the spec's words.

use super::*;

backend_tests! {
    async fn a_lead_with_enough_delegated_points_pays_from_the_lead_balance(app: TestApp) {
        let org = pool_company(&app, "leadpays", 1000).await;
        fixtures::delegate(&app, &org, 300).await;

        let reply = thanked(&app, &org.lead, &org.alice, json!(200)).await;
        assert_eq!(reply.str("funding_source"), "lead_balance");
        assert_eq!(reply.str("points"), "200");
        assert_eq!(recipients(&reply), [(org.alice.id.clone(), "200".to_owned())]);

        assert_eq!(lead_balance(&app, &org).await, "100");
        assert_eq!(pool(&app, &org).await, "700", "the pool only lost the delegation");
        assert_eq!(wallet(&app, &org.alice).await, "200");
        app.assert_ledger_consistent().await;
    }

    async fn a_lead_short_of_delegated_points_is_paid_for_by_the_pool(app: TestApp) {
        let org = pool_company(&app, "leadshort", 1000).await;
        fixtures::delegate(&app, &org, 100).await;

        let reply = thanked(&app, &org.lead, &org.alice, json!(150)).await;
        assert_eq!(reply.str("funding_source"), "pool");
        assert_eq!(lead_balance(&app, &org).await, "100", "the lead balance is not split");
        assert_eq!(pool(&app, &org).await, "750");
        assert_eq!(wallet(&app, &org.alice).await, "150");

        // Exactly the lead balance still counts as covering it.
        let reply = thanked(&app, &org.lead, &org.bob, json!(100)).await;
        assert_eq!(reply.str("funding_source"), "lead_balance");
        assert_eq!(lead_balance(&app, &org).await, "0");
        assert_eq!(pool(&app, &org).await, "750");
        app.assert_ledger_consistent().await;
    }

    async fn a_recognition_the_pool_cannot_fund_is_refused_with_the_spec_message_and_moves_nothing(
        app: TestApp
    ) {
        let org = pool_company(&app, "poolshort", 100).await;

        let reply = thank(&app, &org.alice, &org.bob, json!(250)).await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("100", "250"));
        let reply = thank(&app, &org.manager, &org.bob, json!("100.01")).await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("100", "100.01"));

        assert_eq!(pool(&app, &org).await, "100");
        assert_eq!(wallet(&app, &org.bob).await, "0");
        assert_eq!(recognition_count(&app, &org).await, 0);
        assert_eq!(stats(&app, &org.alice).await["given_count"], 0);
        app.assert_ledger_consistent().await;
    }

    async fn a_lead_whose_balance_and_pool_both_fall_short_is_refused_by_the_pool(app: TestApp) {
        let org = pool_company(&app, "bothshort", 100).await;
        fixtures::delegate(&app, &org, 60).await;

        let reply = thank(&app, &org.lead, &org.alice, json!(70)).await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("40", "70"));
        assert_eq!(lead_balance(&app, &org).await, "60");
        assert_eq!(pool(&app, &org).await, "40");
        assert_eq!(wallet(&app, &org.alice).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn an_employee_recognition_with_points_comes_from_the_pool(app: TestApp) {
        let org = pool_company(&app, "peerpool", 500).await;

        let reply = thanked(&app, &org.alice, &org.carol, json!("40.5")).await;
        assert_eq!(reply.str("funding_source"), "pool");
        assert_eq!(reply.str("from_user_id"), org.alice.id);
        assert_eq!(reply.body["department_budget_id"], Value::Null);
        assert_eq!(reply.body["lead_allocation_id"], Value::Null);

        assert_eq!(pool(&app, &org).await, "459.5");
        assert_eq!(wallet(&app, &org.carol).await, "40.5");
        assert_eq!(wallet(&app, &org.alice).await, "0", "the giver's wallet is not touched");
        let ledger = app.get("/api/wallets/me/ledger", &org.carol.token).await;
        ledger.assert_status(200);
        assert_eq!(ledger.body["items"][0]["reference_id"], reply.body["id"]);
        assert_eq!(ledger.body["items"][0]["amount"], "40.5");
        app.assert_ledger_consistent().await;
    }

    async fn a_zero_point_recognition_needs_no_funding_even_from_an_empty_pool(app: TestApp) {
        let org = pool_company(&app, "nopoints", 0).await;

        let reply = thanked(&app, &org.alice, &org.bob, json!(0)).await;
        assert_eq!(reply.str("funding_source"), "none");
        assert_eq!(reply.str("points"), "0");
        assert_eq!(pool(&app, &org).await, "0");
        assert_eq!(wallet(&app, &org.bob).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_group_award_is_checked_against_its_total(app: TestApp) {
        let org = pool_company(&app, "grouptotal", 50).await;

        let reply = recognise(&app, &org.manager, json!({
            "recognition_type": "group_award", "split": "each", "points": 20,
            "recipient_ids": [org.alice.id, org.bob.id, org.carol.id], "message": "Launch",
        }))
        .await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("50", "60"));
        for person in [&org.alice, &org.bob, &org.carol] {
            assert_eq!(wallet(&app, person).await, "0");
        }
        assert_eq!(pool(&app, &org).await, "50");
        app.assert_ledger_consistent().await;
    }
}
