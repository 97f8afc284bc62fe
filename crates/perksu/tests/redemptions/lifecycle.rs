//! Ordering, the manual fulfilment path, and the moves the lifecycle allows.

use super::*;

backend_tests! {
    async fn ordering_puts_the_price_on_hold_and_takes_the_stock(app: TestApp) {
        let shop = shop(&app, "hold").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;

        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.hoodie, "shipping_address": "1 Main Street"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(reply.str("points_cost"), "50");
        assert_eq!(reply.str("face_value"), "50");
        assert_eq!(reply.body["quantity"], 1);
        assert_eq!(reply.str("provider"), "manual");
        assert_eq!(reply.str("item_name"), "Hoodie");
        assert_eq!(reply.str("kind"), "merchandise");
        assert_eq!(reply.str("user_id"), *alice_id);
        assert_eq!(reply.str("shipping_address"), "1 Main Street");
        // Unless the tenant says otherwise, an order has two weeks to be fulfilled.
        assert_eq!(
            instant(&reply.body["fulfil_by"]) - instant(&reply.body["created_at"]),
            Duration::hours(336)
        );
        let id = reply.str("id");

        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        // A manual order waits for an admin.
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen), [json!([null, "pending", alice_id, null])]);
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "debit");
        assert_eq!(line["source"], "redemption");
        assert_eq!(line["amount"], "50");
        assert_eq!(line["balance_after"], "450");
        assert_eq!(line["reference_id"].as_str(), Some(id.as_str()));

        // Two more take the rest of the stock and their whole price.
        let reply = order(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "100");
        assert_eq!(reply.body["quantity"], 2);
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);
        assert_eq!(held_and_redeemed(&app).await, totals("150", "0"));
        // The unlimited item keeps no count.
        place(&app, alice, json!({"item_id": shop.day_off})).await;
        assert_eq!(stock(&app, manager, &shop.day_off).await, Value::Null);
        assert_eq!(app.wallet_balance(alice).await, "250");
        app.assert_ledger_consistent().await;
    }

    async fn an_order_that_cannot_be_met_holds_nothing_and_takes_no_stock(app: TestApp) {
        let shop = shop(&app, "refuse").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let trip = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Trip", "face_value": 600, "stock": 2}),
        )
        .await;
        let archived = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Old", "face_value": 5, "status": "archived"}),
        )
        .await;

        let reply = order(&app, alice, json!({"item_id": trip})).await;
        reply.assert_error(400, "insufficient_wallet_balance");
        assert_eq!(
            reply.str("detail"),
            "Insufficient wallet balance. Available: 500, Required: 600"
        );
        // The stock taken before the wallet was found short went back with the transaction.
        assert_eq!(stock(&app, manager, &trip).await, 2);

        order(&app, alice, json!({"item_id": shop.hoodie, "quantity": 4}))
            .await
            .assert_error(409, "out_of_stock");
        for quantity in [0, -1, 101] {
            order(
                &app,
                alice,
                json!({"item_id": shop.day_off, "quantity": quantity}),
            )
            .await
            .assert_error(400, "invalid_quantity");
        }
        order(&app, alice, json!({"item_id": shop.voucher}))
            .await
            .assert_error(400, "invalid_denomination");
        order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 20}),
        )
        .await
        .assert_error(400, "invalid_denomination");
        order(
            &app,
            alice,
            json!({"item_id": shop.hoodie, "face_value": 40}),
        )
        .await
        .assert_error(400, "invalid_denomination");
        order(&app, alice, json!({"item_id": archived}))
            .await
            .assert_error(409, "reward_unavailable");
        order(&app, alice, json!({"item_id": "no-such-item"}))
            .await
            .assert_error(404, "reward_not_found");
        order(&app, &app.admin_token, json!({"item_id": shop.hoodie}))
            .await
            .assert_error(403, "forbidden");

        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), Vec::<String>::new());
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_costs_the_servers_price_whatever_the_client_says(app: TestApp) {
        let shop = shop(&app, "pricing").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"points_per_currency_unit": "2.5", "redemption_markup_percent": "12.5"}),
        )
        .await;
        let sticker = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Sticker", "face_value": "9.99", "stock": 10}),
        )
        .await;

        // 7 × 9.99 × 2.5 × 1.125 = 196.678125, rounded up once for the order: 196.68.
        let reply = order(
            &app,
            alice,
            json!({"item_id": sticker, "quantity": 7, "points_cost": 1, "price": "1"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "196.68");
        assert_eq!(reply.str("face_value"), "9.99");
        assert_eq!(app.wallet_balance(alice).await, "303.32");
        assert_eq!(stock(&app, manager, &sticker).await, 3);

        // 25 × 2.5 × 1.125 = 70.3125 → 70.32, redeemed at once.
        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": "25.00"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "70.32");
        assert_eq!(app.wallet_balance(alice).await, "233");
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "70.32");
        assert_eq!(held_and_redeemed(&app).await, totals("196.68", "70.32"));
        app.assert_ledger_consistent().await;
    }

    async fn a_gift_card_is_issued_at_once_and_its_points_become_redeemed(app: TestApp) {
        let shop = shop(&app, "giftcard").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;

        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        reply.assert_status(201);
        // The reply is the order as placed; the provider answers right after.
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(reply.str("provider"), "simulated_gift_card");
        let id = reply.str("id");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "delivered");
        let code = seen["gift_card_code"].as_str().expect("a gift-card code");
        assert_eq!(code.len(), 16);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{code}"
        );
        assert!(
            seen["provider_reference"]
                .as_str()
                .is_some_and(|r| r.starts_with("SIM-")),
            "{seen}"
        );
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "delivered", null, "Issued by the provider"]),
            ]
        );
        // The code is the employee's alone.
        let as_manager = show(&app, manager, &id).await;
        assert_eq!(as_manager["status"], "delivered");
        assert_eq!(as_manager["gift_card_code"], Value::Null);

        let after = wallet(&app, alice).await;
        assert_eq!(after["balance"], "475");
        assert_eq!(after["lifetime_spent"], "25");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "25"));
        // Delivered is final: no refund path is open any more.
        cancel(&app, alice, &id)
            .await
            .assert_error(409, "redemption_closed");
        advance(&app, manager, &id, json!({"status": "rejected"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(app.wallet_balance(alice).await, "475");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_ships_an_order_with_tracking_then_marks_it_delivered(app: TestApp) {
        let shop = shop(&app, "manual").await;
        let (manager_id, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "processing", "note": "Packing"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "processing");
        // Once fulfilment has started the employee can no longer cancel.
        cancel(&app, alice, &id)
            .await
            .assert_error(409, "fulfilment_started");
        assert_eq!(app.wallet_balance(alice).await, "450");

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "shipped", "tracking_number": "TRK-123", "note": "Sent by courier"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "shipped");
        assert_eq!(reply.str("tracking_number"), "TRK-123");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));

        let reply = advance(&app, manager, &id, json!({"status": "delivered"})).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "delivered");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["tracking_number"], "TRK-123");
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "processing", manager_id, "Packing"]),
                json!(["processing", "shipped", manager_id, "Sent by courier"]),
                json!(["shipped", "delivered", manager_id, null]),
            ]
        );
        let after = wallet(&app, alice).await;
        assert_eq!(after["balance"], "450");
        assert_eq!(after["lifetime_spent"], "50");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));

        // Each step reached the employee.
        let notices = app.get("/api/notifications", alice).await;
        let bodies: Vec<&str> = notices.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|n| n["kind"] == "redemption_status" && n["reference_id"] == id.as_str())
            .map(|n| n["body"].as_str().expect("body"))
            .collect();
        assert_eq!(
            bodies,
            [
                "Your redemption of Hoodie is now delivered.",
                "Your redemption of Hoodie is now shipped.",
                "Your redemption of Hoodie is now processing.",
            ]
        );
        app.assert_ledger_consistent().await;
    }
}
