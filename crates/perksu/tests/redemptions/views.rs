//! What employees and managers see: orders, history, the queue, analytics and CSV.

use super::*;

backend_tests! {
    async fn employees_see_their_own_orders_and_managers_their_tenants(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "views").await;
        let other = app.company("views-other", json!(100000)).await;
        let (manager_id, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let (_, lead) = &shop.company.lead;
        let first = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(start + Duration::minutes(1));
        let second = place(&app, alice, json!({"item_id": shop.day_off})).await;
        cancel(&app, alice, &second).await.assert_status(200);
        app.clock.set(start + Duration::minutes(2));
        let third = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        advance(
            &app,
            manager,
            &first,
            json!({"status": "processing", "note": "Picked"}),
        )
        .await
        .assert_status(200);

        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), [second.clone(), first.clone()], "newest first");
        assert_eq!(
            ids(&app.get("/api/redemptions", bob).await),
            [third.as_str()]
        );
        assert!(app.get("/api/redemptions", bob).await.body[0]["gift_card_code"].is_string());
        assert_eq!(
            ids(&app.get("/api/redemptions", lead).await),
            Vec::<String>::new()
        );
        let all = app.get("/api/redemptions", manager).await;
        assert_eq!(ids(&all), [third.clone(), second.clone(), first.clone()]);
        assert_eq!(all.body[0]["gift_card_code"], Value::Null);
        assert_eq!(
            ids(&app.get("/api/redemptions?status=cancelled", alice).await),
            [second.as_str()]
        );
        assert_eq!(
            ids(&app.get("/api/redemptions?status=processing", manager).await),
            [first.as_str()]
        );
        app.get("/api/redemptions?status=lost", alice)
            .await
            .assert_error(400, "invalid_field");

        // My order with its history: who moved it and why.
        let seen = show(&app, alice, &first).await;
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "processing", manager_id, "Picked"]),
            ]
        );
        assert_eq!(seen["history"][0]["created_at"], seen["created_at"]);
        assert_eq!(steps(&show(&app, manager, &first).await).len(), 2);
        for token in [bob, lead, &other.manager.1, &other.alice.1] {
            app.get(&format!("/api/redemptions/{first}"), token)
                .await
                .assert_error(404, "redemption_not_found");
        }
        assert_eq!(
            ids(&app.get("/api/redemptions", &other.manager.1).await),
            Vec::<String>::new()
        );
        app.assert_ledger_consistent().await;
    }

    async fn the_fulfilment_queue_lists_open_orders_oldest_first(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "queue").await;
        let other = app.company("queue-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let mut minute = 0;
        let mut next_minute = || {
            minute += 1;
            start + Duration::minutes(minute)
        };
        let pending = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(next_minute());
        let processing = place(&app, bob, json!({"item_id": shop.day_off})).await;
        app.clock.set(next_minute());
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(next_minute());
        let delivered = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        app.clock.set(next_minute());
        let cancelled = place(&app, bob, json!({"item_id": shop.day_off})).await;
        cancel(&app, bob, &cancelled).await.assert_status(200);
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        app.clock.set(next_minute());
        let unconfirmed = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(
            status_of(&app, alice, &unconfirmed).await,
            "pending_confirmation"
        );
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");

        let queue = app.get("/api/redemptions/queue", manager).await;
        queue.assert_status(200);
        assert_eq!(ids(&queue), [pending, processing, shipped]);
        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/queue", token)
                .await
                .assert_error(403, "forbidden");
        }
        assert_eq!(
            ids(&app.get("/api/redemptions/queue", &other.manager.1).await),
            Vec::<String>::new()
        );
        app.assert_ledger_consistent().await;
    }

    async fn analytics_total_what_was_redeemed_what_is_on_hold_and_the_top_items(app: TestApp) {
        let shop = shop(&app, "analytics").await;
        let other = app.company("analytics-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "delivered"}))
            .await
            .assert_status(200);
        place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let cancelled = place(&app, alice, json!({"item_id": shop.day_off})).await;
        cancel(&app, alice, &cancelled).await.assert_status(200);

        let reply = app.get("/api/redemptions/analytics", manager).await;
        reply.assert_status(200);
        assert_eq!(reply.str("points_redeemed"), "95");
        assert_eq!(reply.str("points_on_hold"), "50");
        assert_eq!(
            reply.body["status_counts"],
            json!({"cancelled": 1, "delivered": 4, "pending": 1})
        );
        assert_eq!(
            reply.body["top_items"],
            json!([
                {"item_id": shop.voucher, "item_name": "Book Voucher", "orders": 3, "points": "45"},
                {"item_id": shop.hoodie, "item_name": "Hoodie", "orders": 1, "points": "50"},
            ])
        );
        // The same totals `perksu verify` finds in the ledger.
        assert_eq!(held_and_redeemed(&app).await, totals("50", "95"));
        assert_eq!(app.wallet_balance(alice).await, "365");

        let elsewhere = app
            .get("/api/redemptions/analytics", &other.manager.1)
            .await;
        assert_eq!(elsewhere.str("points_redeemed"), "0");
        assert_eq!(elsewhere.str("points_on_hold"), "0");
        assert_eq!(elsewhere.body["top_items"], json!([]));
        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/analytics", token)
                .await
                .assert_error(403, "forbidden");
        }
        app.assert_ledger_consistent().await;
    }

    async fn the_csv_export_lists_every_order_of_the_managers_tenant(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "export").await;
        let other = app.company("export-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (bob_id, bob) = &shop.company.bob;
        let mug = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Mug, \"large\"", "face_value": 20}),
        )
        .await;
        let first = place(&app, alice, json!({"item_id": mug})).await;
        app.clock.set(start + Duration::minutes(1));
        let second = place(&app, bob, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        advance(
            &app,
            manager,
            &second,
            json!({"status": "shipped", "tracking_number": "TRK-1"}),
        )
        .await
        .assert_status(200);
        let their_item = create_item(
            &app,
            &other.manager.1,
            json!({"kind": "custom", "name": "Theirs", "face_value": 1}),
        )
        .await;
        award(&app, &other.manager.1, &other.alice.0, 10).await;
        place(&app, &other.alice.1, json!({"item_id": their_item})).await;

        let response = app
            .client
            .get(format!("{}/api/redemptions/export.csv", app.base_url))
            .bearer_auth(manager)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status().as_u16(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-type").starts_with("text/csv"),
            "{}",
            header("content-type")
        );
        assert!(header("content-disposition").contains("redemptions.csv"));
        let csv = response.text().await.expect("body");
        let created = |minutes: i64| {
            (start + Duration::minutes(minutes))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        let expected = format!(
            "id,created_at,user_id,item_name,kind,quantity,face_value,points_cost,status,provider,\
             tracking_number\n\
             {second},{},{bob_id},Hoodie,merchandise,2,50,100,shipped,manual,TRK-1\n\
             {first},{},{alice_id},\"Mug, \"\"large\"\"\",custom,1,20,20,pending,manual,\n",
            created(1),
            created(0),
        );
        assert_eq!(csv, expected);

        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/export.csv", token)
                .await
                .assert_error(403, "forbidden");
        }
        app.assert_ledger_consistent().await;
    }
}
