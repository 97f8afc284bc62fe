//! Races for stock and balance, idempotent retries, and the tenant's pause switches.

use super::*;

backend_tests! {
    async fn two_employees_racing_for_the_last_item_end_with_exactly_one_order(app: TestApp) {
        let shop = shop(&app, "lastone").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let mut alice_wins = 0;
        for round in 0..5 {
            let item = create_item(
                &app,
                manager,
                json!({"kind": "merchandise", "name": format!("Last one {round}"),
                       "face_value": 50, "stock": 1}),
            )
            .await;
            let (first, second) = tokio::join!(
                order(&app, alice, json!({"item_id": item})),
                order(&app, bob, json!({"item_id": item}))
            );
            let winners = [&first, &second].iter().filter(|r| r.status == 201).count();
            assert_eq!(winners, 1, "{first:?} {second:?}");
            for reply in [&first, &second] {
                if reply.status != 201 {
                    reply.assert_error(409, "out_of_stock");
                }
            }
            if first.status == 201 {
                alice_wins += 1;
            }
            assert_eq!(stock(&app, manager, &item).await, 0);
        }
        assert_eq!(
            app.wallet_balance(alice).await,
            (500 - 50 * alice_wins).to_string()
        );
        assert_eq!(
            app.wallet_balance(bob).await,
            (500 - 50 * (5 - alice_wins)).to_string()
        );
        let all = app.get("/api/redemptions", manager).await;
        assert_eq!(ids(&all).len(), 5);
        assert_eq!(held_and_redeemed(&app).await, totals("250", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn one_employee_racing_orders_against_one_balance_gets_what_fits(app: TestApp) {
        let company = app.company("onebalance", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let (bob_id, bob) = &company.bob;
        award(&app, manager, bob_id, 100).await;
        let dinner = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Dinner", "face_value": 60}),
        )
        .await;
        let (first, second) = tokio::join!(
            order(&app, bob, json!({"item_id": dinner})),
            order(&app, bob, json!({"item_id": dinner}))
        );
        assert_eq!(
            [&first, &second].iter().filter(|r| r.status == 201).count(),
            1
        );
        for reply in [&first, &second] {
            if reply.status != 201 {
                reply.assert_error(400, "insufficient_wallet_balance");
            }
        }
        assert_eq!(app.wallet_balance(bob).await, "40");

        // Ten at once against room for three: three orders, three units of stock.
        award(&app, manager, alice_id, 100).await;
        let lunch = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Lunch", "face_value": 30, "stock": 10}),
        )
        .await;
        let replies =
            join_all((0..10).map(|_| order(&app, alice, json!({"item_id": lunch})))).await;
        let placed = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(placed, 3, "{replies:?}");
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_error(400, "insufficient_wallet_balance");
        }
        assert_eq!(app.wallet_balance(alice).await, "10");
        assert_eq!(stock(&app, manager, &lunch).await, 7);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine).len(), 3);
        assert_eq!(held_and_redeemed(&app).await, totals("150", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_retried_with_its_idempotency_key_is_placed_once(app: TestApp) {
        let shop = shop(&app, "retry").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let body = json!({"item_id": shop.hoodie});
        let headers = [("idempotency-key", "order-1")];
        let first = app
            .request(
                reqwest::Method::POST,
                "/api/redemptions",
                Some(alice),
                Some(&body),
                &headers,
            )
            .await;
        first.assert_status(201);
        let again = app
            .request(
                reqwest::Method::POST,
                "/api/redemptions",
                Some(alice),
                Some(&body),
                &headers,
            )
            .await;
        again.assert_status(201);
        assert_eq!(again.str("id"), first.str("id"));
        let other = json!({"item_id": shop.day_off});
        app.request(
            reqwest::Method::POST,
            "/api/redemptions",
            Some(alice),
            Some(&other),
            &headers,
        )
        .await
        .assert_error(409, "idempotency_key_reused");

        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), [first.str("id")]);
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_pausing_redemptions_stops_new_orders_until_resumed(app: TestApp) {
        let shop = shop(&app, "paused").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let tenant = format!("/api/tenants/{}", shop.company.tenant_id);
        let before = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        app.patch(&tenant, alice, json!({"redemptions_paused": true}))
            .await
            .assert_error(403, "forbidden");
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemptions_paused": true}),
        )
        .await;
        assert_eq!(reply.body["redemptions_paused"], true);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_error(409, "redemptions_paused");
        order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await
        .assert_error(409, "redemptions_paused");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        // Orders already placed can still end, with their refund.
        cancel(&app, alice, &before).await.assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);

        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemptions_paused": false}),
        )
        .await;
        place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn orders_pause_while_the_pool_is_below_its_threshold(app: TestApp) {
        // The default low-balance threshold is 1000 points.
        let company = app.company("lowpool", json!(1600)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let (bob_id, bob) = &company.bob;
        let lunch = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Lunch", "face_value": 100}),
        )
        .await;
        award(&app, manager, alice_id, 500).await;
        assert_eq!(app.pool_balance(manager).await, "1100");
        place(&app, alice, json!({"item_id": lunch})).await;

        award(&app, manager, bob_id, 150).await;
        assert_eq!(app.pool_balance(manager).await, "950");
        for token in [alice, bob] {
            order(&app, token, json!({"item_id": lunch}))
                .await
                .assert_error(409, "redemptions_paused_low_pool");
        }
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(app.wallet_balance(bob).await, "150");

        // Back at the threshold, orders flow again.
        app.allocate(&company.tenant_id, json!(50))
            .await
            .assert_status(200);
        assert_eq!(app.pool_balance(manager).await, "1000");
        place(&app, bob, json!({"item_id": lunch})).await;
        assert_eq!(app.wallet_balance(bob).await, "50");
        assert_eq!(held_and_redeemed(&app).await, totals("200", "0"));
        app.assert_ledger_consistent().await;
    }
}
