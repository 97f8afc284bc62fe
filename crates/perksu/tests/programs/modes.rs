//! Legacy mode (budgets are the money, then the giver's wallet; the pool is never touched) and
//! the platform admin's one-way switch to pool mode.

use super::*;
use fixtures::{
    active_budget, allocation_of, lead_allocation, share, share_of, spent_and_remaining,
};

async fn switch(app: &TestApp, token: &str, tenant_id: &str, mode: &str, reason: &str) -> Reply {
    app.post(
        &format!("/api/tenants/{tenant_id}/funding-mode"),
        token,
        json!({"funding_mode": mode, "reason": reason}),
    )
    .await
}

async fn mode_changes(app: &TestApp, token: &str, tenant_id: &str) -> Reply {
    app.get(
        &format!("/api/tenants/{tenant_id}/funding-mode-changes"),
        token,
    )
    .await
}

backend_tests! {
    async fn a_legacy_tenant_pays_from_lead_allocation_then_department_budget_then_wallet(
        app: TestApp
    ) {
        let org = legacy_company(&app, "legacy").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let allocation = lead_allocation(&app, &org, &budget_id, 50).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 100, None).await;

        let first = thanked(&app, &org.lead, &org.alice, json!(50)).await;
        assert_eq!(first.str("funding_source"), "lead_allocation");
        assert_eq!(first.body["lead_allocation_id"], allocation["id"]);
        assert_eq!(first.body["department_budget_id"], Value::Null);

        let second = thanked(&app, &org.lead, &org.alice, json!(30)).await;
        assert_eq!(second.str("funding_source"), "department_budget");
        assert_eq!(second.body["department_budget_id"], engineering["id"]);
        assert_eq!(second.body["lead_allocation_id"], Value::Null);
        assert_eq!(wallet(&app, &org.alice).await, "80");

        let third = thanked(&app, &org.alice, &org.bob, json!(70)).await;
        assert_eq!(third.str("funding_source"), "department_budget");
        assert_eq!(wallet(&app, &org.alice).await, "80", "the budget paid, not Alice");
        assert_eq!(wallet(&app, &org.bob).await, "70");

        // Engineering's share is spent: Alice's own wallet pays for the next one.
        let fourth = thanked(&app, &org.alice, &org.bob, json!(20)).await;
        assert_eq!(fourth.str("funding_source"), "wallet");
        assert_eq!(fourth.body["department_budget_id"], Value::Null);
        assert_eq!(fourth.body["lead_allocation_id"], Value::Null);
        assert_eq!(wallet(&app, &org.alice).await, "60");
        assert_eq!(wallet(&app, &org.bob).await, "90");
        let ledger = app.get("/api/wallets/me/ledger", &org.alice.token).await;
        ledger.assert_status(200);
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "debit");
        assert_eq!(line["amount"], "20");
        assert_eq!(line["reference_id"], fourth.body["id"]);

        let short = thank(&app, &org.alice, &org.carol, json!(100)).await;
        short.assert_error(400, "insufficient_budget");
        let detail = short.str("detail");
        assert!(detail.starts_with("Insufficient budget. "), "{detail}");
        assert!(detail.contains("Department budget available: 0"), "{detail}");
        assert!(detail.contains("Wallet available: 60"), "{detail}");
        assert!(detail.ends_with("Required: 100"), "{detail}");
        let short = thank(&app, &org.lead, &org.carol, json!(10)).await;
        assert_refused(
            &short,
            400,
            "insufficient_budget",
            "Insufficient budget. Lead allocation available: 0, Department budget available: 0, \
             Wallet available: 0, Required: 10",
        );

        assert_eq!(wallet(&app, &org.alice).await, "60");
        assert_eq!(wallet(&app, &org.carol).await, "0");
        assert_eq!(spent_and_remaining(&allocation_of(&app, &org, &budget_id).await), ("50", "0"));
        assert_eq!(
            spent_and_remaining(&share_of(&app, &org, &budget_id, &org.engineering).await),
            ("100", "0")
        );
        assert_eq!(pool(&app, &org).await, "0", "a legacy tenant's pool is never touched");
        // The budgets minted 150; the wallet-paid 20 moved between wallets; nothing was issued.
        assert_eq!(issued_and_minted(&app).await, amounts("0", "150"));
    }

    async fn a_legacy_refusal_names_the_sources_with_what_each_has_left(app: TestApp) {
        let org = legacy_company(&app, "legacyshort").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        lead_allocation(&app, &org, &budget_id, 10).await;
        share(&app, &org, &budget_id, &org.engineering, 20, None).await;
        share(&app, &org, &budget_id, &org.sales, 5, None).await;
        // Carol (Sales) gives the lead 5 from her department's share: the lead's wallet.
        thanked(&app, &org.carol, &org.lead, json!(5)).await;

        let reply = thank(&app, &org.lead, &org.alice, json!(50)).await;
        assert_refused(
            &reply,
            400,
            "insufficient_budget",
            "Insufficient budget. Lead allocation available: 10, Department budget available: 20, \
             Wallet available: 5, Required: 50",
        );
        assert_eq!(wallet(&app, &org.lead).await, "5");
        assert_eq!(wallet(&app, &org.alice).await, "0");
        assert_eq!(spent_and_remaining(&allocation_of(&app, &org, &budget_id).await), ("0", "10"));
        assert_eq!(pool(&app, &org).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_capped_department_offers_a_legacy_giver_only_what_is_left_of_the_cap(
        app: TestApp
    ) {
        let org = legacy_company(&app, "legacycap").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 1000, Some(30)).await;
        thanked(&app, &org.alice, &org.lead, json!(20)).await;

        let reply = thank(&app, &org.alice, &org.carol, json!(50)).await;
        reply.assert_error(400, "insufficient_budget");
        let detail = reply.str("detail");
        assert!(detail.contains("Department budget available: 10,"), "{detail}");
        assert!(detail.contains("Wallet available: 0,"), "{detail}");
        assert!(detail.ends_with("Required: 50"), "{detail}");
        let reply = thanked(&app, &org.alice, &org.carol, json!(10)).await;
        assert_eq!(reply.str("funding_source"), "department_budget");
        // The lead's wallet (20, from Alice) pays once the month's cap is used up.
        let reply = thanked(&app, &org.lead, &org.carol, json!(15)).await;
        assert_eq!(reply.str("funding_source"), "wallet");
        assert_eq!(wallet(&app, &org.lead).await, "5");
        assert_eq!(wallet(&app, &org.carol).await, "25");
        assert_eq!(issued_and_minted(&app).await, amounts("0", "30"));
    }

    async fn with_peer_to_peer_off_a_legacy_employee_cannot_give_from_a_budget_or_wallet(
        app: TestApp
    ) {
        let org = legacy_company(&app, "legacynopeer").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 500, None).await;
        thanked(&app, &org.lead, &org.alice, json!(40)).await;
        set_tenant(&app, &org, json!({"peer_to_peer_enabled": false})).await;

        thank(&app, &org.alice, &org.bob, json!(10))
            .await
            .assert_error(403, "peer_to_peer_disabled");
        thanked(&app, &org.alice, &org.bob, json!(0)).await;
        thanked(&app, &org.lead, &org.bob, json!(10)).await;
        assert_eq!(wallet(&app, &org.alice).await, "40");
        assert_eq!(wallet(&app, &org.bob).await, "10");
        assert_eq!(
            spent_and_remaining(&share_of(&app, &org, &budget_id, &org.engineering).await),
            ("50", "450")
        );
        assert_eq!(issued_and_minted(&app).await, amounts("0", "50"));
    }

    async fn a_legacy_group_award_is_paid_by_the_department_share_into_every_wallet(
        app: TestApp
    ) {
        let org = legacy_company(&app, "legacygroup").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 100, None).await;

        let reply = recognise(&app, &org.lead, json!({
            "recognition_type": "group_award", "points": 100,
            "recipient_ids": [org.carol.id, org.alice.id, org.bob.id], "message": "Shipped",
        }))
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("funding_source"), "department_budget");
        assert_eq!(reply.body["department_budget_id"], engineering["id"]);
        assert_eq!(wallet(&app, &org.carol).await, "33.34");
        assert_eq!(wallet(&app, &org.alice).await, "33.33");
        assert_eq!(wallet(&app, &org.bob).await, "33.33");
        assert_eq!(
            spent_and_remaining(&share_of(&app, &org, &budget_id, &org.engineering).await),
            ("100", "0")
        );
        assert_eq!(pool(&app, &org).await, "0");
        assert_eq!(issued_and_minted(&app).await, amounts("0", "100"));
    }

    async fn verify_notices_a_budget_counter_or_budget_account_that_disagrees_with_the_recognitions(
        app: TestApp
    ) {
        let org = legacy_company(&app, "tampered").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 100, None).await;
        recognise(&app, &org.lead, json!({
            "to_user_id": org.alice.id, "points": 40, "message": "Thanks",
        }))
        .await
        .assert_status(200);
        app.assert_ledger_consistent().await;

        // Written behind the service's back: the share forgets 10 of what it spent, and the
        // recognition claims the wallet paid what the journal says the budget minted.
        sqlx::any::install_default_drivers();
        {
            use sqlx::Connection;
            let mut db = sqlx::AnyConnection::connect(&app.database_url)
                .await
                .expect("connect");
            sqlx::query("update department_budgets set spent_points = spent_points - 1000 \
                         where id = $1")
                .bind(engineering["id"].as_str().expect("a share id"))
                .execute(&mut db)
                .await
                .expect("tamper with the share");
            sqlx::query("update recognitions set funding_source = 'wallet' where tenant_id = $1")
                .bind(&org.tenant_id)
                .execute(&mut db)
                .await
                .expect("tamper with the recognition");
            db.close().await.expect("close");
        }
        let report = app.store.verify().await.expect("verify runs");
        let found = report.violations.join("\n");
        assert!(found.contains("department share spent"), "{found}");
        let budget_account =
            format!("budget:{}: paid out 40 but its recognitions say 0", org.tenant_id);
        assert!(found.contains(&budget_account), "{found}");
        assert!(!report.is_ok());
    }

    async fn the_platform_admin_switches_a_legacy_tenant_to_pool_mode_and_it_is_recorded(
        app: TestApp
    ) {
        let org = legacy_company(&app, "switch").await;
        assert_eq!(mode_changes(&app, &app.admin_token, &org.tenant_id).await.body, json!([]));

        let reply = switch(&app, &app.admin_token, &org.tenant_id, "pool", "Prepaid from Q3").await;
        reply.assert_status(200);
        assert_eq!(reply.str("id"), org.tenant_id);
        assert_eq!(reply.str("funding_mode"), "pool");
        let tenant = app.get(&format!("/api/tenants/{}", org.tenant_id), &org.manager.token).await;
        assert_eq!(tenant.str("funding_mode"), "pool");

        let changes = mode_changes(&app, &app.admin_token, &org.tenant_id).await;
        changes.assert_status(200);
        let rows = changes.body.as_array().expect("a list");
        assert_eq!(rows.len(), 1, "{changes:?}");
        let row = &rows[0];
        assert!(row["id"].is_string() && row["created_at"].is_string(), "{row}");
        assert_eq!(row["tenant_id"], org.tenant_id.as_str());
        assert_eq!(row["from_mode"], "legacy");
        assert_eq!(row["to_mode"], "pool");
        assert_eq!(row["changed_by"], app.admin_id.as_str());
        assert_eq!(row["reason"], "Prepaid from Q3");
        // The tenant's manager reads the same history.
        let seen_by_manager = mode_changes(&app, &org.manager.token, &org.tenant_id).await;
        seen_by_manager.assert_status(200);
        assert_eq!(seen_by_manager.body, changes.body);
    }

    async fn after_the_switch_recognitions_need_the_pool_until_the_admin_allocates(app: TestApp) {
        let org = legacy_company(&app, "needpool").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 500, None).await;
        let before = thanked(&app, &org.alice, &org.bob, json!(10)).await;
        assert_eq!(before.str("funding_source"), "department_budget");

        switch(&app, &app.admin_token, &org.tenant_id, "pool", "Moving to the pool")
            .await
            .assert_status(200);
        let reply = thank(&app, &org.alice, &org.bob, json!(10)).await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("0", "10"));
        assert_eq!(
            spent_and_remaining(&share_of(&app, &org, &budget_id, &org.engineering).await),
            ("10", "490")
        );

        app.allocate(&org.tenant_id, json!(100)).await.assert_status(200);
        let after = thanked(&app, &org.alice, &org.bob, json!(10)).await;
        assert_eq!(after.str("funding_source"), "pool");
        assert_eq!(after.body["department_budget_id"], engineering["id"], "budgets now limit");
        assert_eq!(pool(&app, &org).await, "90");
        assert_eq!(wallet(&app, &org.bob).await, "20");
        assert_eq!(
            spent_and_remaining(&share_of(&app, &org, &budget_id, &org.engineering).await),
            ("20", "480")
        );
        // The legacy recognition was minted by the budget; the later one came from the pool.
        assert_eq!(issued_and_minted(&app).await, amounts("100", "10"));
    }

    async fn the_switch_is_one_way_and_refuses_the_mode_a_tenant_already_has(app: TestApp) {
        let legacy = legacy_company(&app, "oneway").await;
        let pooled = pool_company(&app, "pooled", 0).await;
        let admin = &app.admin_token;

        switch(&app, admin, &legacy.tenant_id, "legacy", "Again")
            .await
            .assert_error(409, "funding_mode_unchanged");
        switch(&app, admin, &pooled.tenant_id, "legacy", "Back")
            .await
            .assert_error(409, "funding_mode_one_way");
        switch(&app, admin, &pooled.tenant_id, "pool", "Again")
            .await
            .assert_error(409, "funding_mode_unchanged");

        switch(&app, admin, &legacy.tenant_id, "pool", "Forward").await.assert_status(200);
        switch(&app, admin, &legacy.tenant_id, "legacy", "Back")
            .await
            .assert_error(409, "funding_mode_one_way");
        switch(&app, admin, &legacy.tenant_id, "pool", "Again")
            .await
            .assert_error(409, "funding_mode_unchanged");
        switch(&app, admin, &legacy.tenant_id, "barter", "Nonsense").await.assert_status(400);

        let changes = mode_changes(&app, admin, &legacy.tenant_id).await;
        assert_eq!(changes.body.as_array().map(Vec::len), Some(1), "{changes:?}");
        assert_eq!(mode_changes(&app, admin, &pooled.tenant_id).await.body, json!([]));
        let tenant = app.get(&format!("/api/tenants/{}", legacy.tenant_id), admin).await;
        assert_eq!(tenant.str("funding_mode"), "pool");
    }

    async fn only_the_platform_admin_switches_the_funding_mode(app: TestApp) {
        let org = legacy_company(&app, "managerswitch").await;
        for person in [&org.manager, &org.lead, &org.alice] {
            switch(&app, &person.token, &org.tenant_id, "pool", "Mine to choose")
                .await
                .assert_status(403);
        }
        let tenant = app.get(&format!("/api/tenants/{}", org.tenant_id), &org.manager.token).await;
        assert_eq!(tenant.str("funding_mode"), "legacy");
        assert_eq!(mode_changes(&app, &org.manager.token, &org.tenant_id).await.body, json!([]));
        let unknown = "00000000-0000-7000-8000-00000000dead";
        switch(&app, &app.admin_token, unknown, "pool", "Nobody").await.assert_status(404);
    }

    async fn another_tenants_funding_mode_changes_are_not_found(app: TestApp) {
        let ours = legacy_company(&app, "ourmode").await;
        let theirs = legacy_company(&app, "theirmode").await;
        switch(&app, &app.admin_token, &theirs.tenant_id, "pool", "Theirs")
            .await
            .assert_status(200);

        mode_changes(&app, &ours.manager.token, &theirs.tenant_id)
            .await
            .assert_status(404);
        let own = mode_changes(&app, &ours.manager.token, &ours.tenant_id).await;
        own.assert_status(200);
        assert_eq!(own.body, json!([]));
    }
}
