//! Every path that returns an order's points and stock: cancel, reject, fail, timeout.

use super::*;

backend_tests! {
    async fn an_employee_cancelling_before_fulfilment_gets_points_and_stock_back(app: TestApp) {
        let shop = shop(&app, "cancel").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        // Nobody else can cancel it.
        cancel(&app, bob, &id)
            .await
            .assert_error(404, "redemption_not_found");
        cancel(&app, manager, &id)
            .await
            .assert_error(404, "redemption_not_found");
        assert_eq!(status_of(&app, alice, &id).await, "pending");

        let reply = cancel(&app, alice, &id).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "cancelled");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let seen = show(&app, alice, &id).await;
        assert_eq!(
            last_step(&seen),
            json!([
                "pending",
                "cancelled",
                alice_id,
                "Cancelled by the employee"
            ])
        );
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "credit");
        assert_eq!(line["source"], "redemption_refund");
        assert_eq!(line["amount"], "100");
        assert_eq!(line["balance_after"], "500");
        // A refund is not income.
        assert_eq!(wallet(&app, alice).await["lifetime_earned"], "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));

        // Cancelling twice refunds once.
        cancel(&app, alice, &id).await.assert_status(409);
        advance(&app, manager, &id, json!({"status": "delivered"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_rejecting_an_order_returns_its_points_and_stock(app: TestApp) {
        let shop = shop(&app, "reject").await;
        let (manager_id, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let pending = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let processing = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        let reply = advance(
            &app,
            manager,
            &pending,
            json!({"status": "rejected", "note": "Not for contractors"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "rejected");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);

        advance(
            &app,
            manager,
            &processing,
            json!({"status": "rejected", "note": "Discontinued"}),
        )
        .await
        .assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);

        assert_eq!(
            last_step(&show(&app, alice, &pending).await),
            json!(["pending", "rejected", manager_id, "Not for contractors"])
        );
        assert_eq!(
            last_step(&show(&app, alice, &processing).await),
            json!(["processing", "rejected", manager_id, "Discontinued"])
        );
        let notices = app.get("/api/notifications", alice).await;
        assert_eq!(
            notices.body["items"][0]["body"],
            "Your redemption of Hoodie is now rejected."
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_failed_fulfilment_returns_the_points_and_stock_even_after_shipping(app: TestApp) {
        let shop = shop(&app, "failed").await;
        let (manager_id, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        for status in ["processing", "shipped"] {
            advance(&app, manager, &id, json!({"status": status}))
                .await
                .assert_status(200);
        }
        assert_eq!(app.wallet_balance(alice).await, "450");

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "failed", "note": "Lost in transit"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "failed");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        assert_eq!(
            last_step(&show(&app, manager, &id).await),
            json!(["shipped", "failed", manager_id, "Lost in transit"])
        );
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "0");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn the_lifecycle_refuses_moves_it_does_not_allow(app: TestApp) {
        let shop = shop(&app, "moves").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        let delivered = place(&app, alice, json!({"item_id": shop.day_off})).await;
        advance(&app, manager, &delivered, json!({"status": "delivered"}))
            .await
            .assert_status(200);
        let cancelled = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        cancel(&app, alice, &cancelled).await.assert_status(200);

        for (id, status) in [
            (&shipped, "rejected"),
            (&shipped, "processing"),
            (&delivered, "failed"),
            (&delivered, "rejected"),
            (&cancelled, "processing"),
            (&cancelled, "delivered"),
            (&cancelled, "failed"),
        ] {
            advance(&app, manager, id, json!({"status": status}))
                .await
                .assert_error(409, "invalid_redemption_transition");
        }
        // Only the fulfilment moves may be asked for.
        for status in [
            "cancelled",
            "expired",
            "pending",
            "pending_confirmation",
            "lost",
        ] {
            advance(&app, manager, &shipped, json!({"status": status}))
                .await
                .assert_error(400, "invalid_field");
        }
        assert_eq!(status_of(&app, alice, &shipped).await, "shipped");
        assert_eq!(status_of(&app, alice, &delivered).await, "delivered");
        assert_eq!(status_of(&app, alice, &cancelled).await, "cancelled");
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "100"));
        app.assert_ledger_consistent().await;
    }

    async fn only_the_tenants_manager_moves_its_orders(app: TestApp) {
        let shop = shop(&app, "fulfil").await;
        let other = app.company("elsewhere", json!(100000)).await;
        let (_, alice) = &shop.company.alice;
        let (_, lead) = &shop.company.lead;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        for token in [alice, lead] {
            for status in ["delivered", "rejected"] {
                advance(&app, token, &id, json!({"status": status}))
                    .await
                    .assert_error(403, "forbidden");
            }
        }
        advance(&app, &other.manager.1, &id, json!({"status": "rejected"}))
            .await
            .assert_error(404, "redemption_not_found");
        app.get(&format!("/api/redemptions/{id}"), &other.manager.1)
            .await
            .assert_error(404, "redemption_not_found");
        advance(
            &app,
            &shop.company.manager.1,
            "no-such-order",
            json!({"status": "delivered"}),
        )
        .await
        .assert_error(404, "redemption_not_found");

        assert_eq!(status_of(&app, alice, &id).await, "pending");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_not_fulfilled_in_time_expires_and_is_refunded(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "timeout").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_timeout_hours": 2}),
        )
        .await;
        assert_eq!(reply.body["redemption_timeout_hours"], 2);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_status(201);
        assert_eq!(
            instant(&reply.body["fulfil_by"]),
            start + Duration::hours(2)
        );
        let pending = reply.str("id");
        let processing = place(&app, alice, json!({"item_id": shop.day_off})).await;
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        let shipped = place(&app, bob, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        let delivered = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        app.clock
            .set(start + Duration::hours(2) - Duration::seconds(1));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        assert_eq!(status_of(&app, alice, &pending).await, "pending");
        assert_eq!(app.wallet_balance(alice).await, "350");

        app.clock.set(start + Duration::hours(2));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            2
        );
        assert_eq!(status_of(&app, alice, &pending).await, "expired");
        assert_eq!(status_of(&app, alice, &processing).await, "expired");
        // In transit or done: not the sweep's to end.
        assert_eq!(status_of(&app, bob, &shipped).await, "shipped");
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(app.wallet_balance(bob).await, "440");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(
            last_step(&show(&app, alice, &pending).await),
            json!(["pending", "expired", null, "Not fulfilled in time"])
        );
        assert_eq!(
            last_step(&show(&app, alice, &processing).await),
            json!(["processing", "expired", null, "Not fulfilled in time"])
        );
        assert_eq!(held_and_redeemed(&app).await, totals("50", "10"));

        // Expired is final, and a later sweep finds nothing more.
        app.clock.set(start + Duration::hours(10));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        advance(&app, manager, &pending, json!({"status": "delivered"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        cancel(&app, alice, &pending).await.assert_status(409);
        assert_eq!(app.wallet_balance(alice).await, "500");
        app.assert_ledger_consistent().await;
    }

    async fn two_sweeps_at_once_expire_each_order_once(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "sweeps").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_timeout_hours": 1}),
        )
        .await;
        let mut orders = Vec::new();
        for (token, item) in [
            (alice, &shop.hoodie),
            (alice, &shop.hoodie),
            (alice, &shop.day_off),
            (bob, &shop.hoodie),
            (bob, &shop.day_off),
        ] {
            orders.push((token, place(&app, token, json!({"item_id": item})).await));
        }
        assert_eq!(app.wallet_balance(alice).await, "300");
        assert_eq!(app.wallet_balance(bob).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);

        app.clock.set(start + Duration::hours(2));
        let (first, second) = tokio::join!(
            app.store.expire_overdue_redemptions(),
            app.store.expire_overdue_redemptions()
        );
        let expired = first.expect("first sweep") + second.expect("second sweep");
        assert_eq!(expired, 5, "each order expired by exactly one sweep");

        for (token, id) in &orders {
            let seen = show(&app, token, id).await;
            assert_eq!(seen["status"], "expired");
            let expiries = steps(&seen)
                .iter()
                .filter(|step| step[1] == "expired")
                .count();
            assert_eq!(expiries, 1, "{seen}");
        }
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(app.wallet_balance(bob).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        // One award, three holds and three refunds.
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        assert_eq!(ledger.body["total"], 7);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }
}
