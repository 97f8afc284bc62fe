//! The confirmation code step: delivery by notification, attempts and expiry.

use super::*;

backend_tests! {
    async fn an_order_awaits_the_confirmation_code_sent_to_the_employee(app: TestApp) {
        let shop = shop(&app, "confirm").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        assert_eq!(reply.body["redemption_confirmation_required"], true);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_status(201);
        assert_eq!(reply.str("status"), "pending_confirmation");
        let id = reply.str("id");
        // The points are held and the stock taken while the code is awaited.
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        let queue = app.get("/api/redemptions/queue", manager).await;
        assert_eq!(ids(&queue), Vec::<String>::new());

        let code = confirmation_code(&app, alice, &id).await;
        let theirs = app.get("/api/notifications", bob).await;
        let leaked = theirs.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| {
                n["reference_id"] == id.as_str()
                    || n["body"].as_str().is_some_and(|b| b.contains(&code))
            });
        assert!(!leaked, "{theirs:?}");
        confirm(&app, bob, &id, &code)
            .await
            .assert_error(404, "redemption_not_found");
        confirm(&app, manager, &id, &code)
            .await
            .assert_error(404, "redemption_not_found");

        let reply = confirm(&app, alice, &id, wrong(&code)).await;
        reply.assert_error(400, "wrong_confirmation_code");
        assert!(
            reply.str("detail").contains("4 attempt(s) left"),
            "{reply:?}"
        );
        assert_eq!(status_of(&app, alice, &id).await, "pending_confirmation");

        let reply = confirm(&app, alice, &id, &code).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(
            steps(&show(&app, alice, &id).await),
            [
                json!([null, "pending_confirmation", alice_id, null]),
                json!(["pending_confirmation", "pending", alice_id, "Confirmed"]),
            ]
        );
        let queue = app.get("/api/redemptions/queue", manager).await;
        assert_eq!(ids(&queue), [id.as_str()]);
        confirm(&app, alice, &id, &code)
            .await
            .assert_error(409, "not_awaiting_confirmation");
        assert_eq!(app.wallet_balance(alice).await, "450");

        // A confirmed gift card goes to its provider straight away.
        let card = place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        assert_eq!(status_of(&app, alice, &card).await, "pending_confirmation");
        let code = confirmation_code(&app, alice, &card).await;
        let reply = confirm(&app, alice, &card, &format!(" {code} ")).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "delivered");
        assert!(reply.body["gift_card_code"].is_string(), "{reply:?}");
        assert_eq!(app.wallet_balance(alice).await, "425");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "25"));

        // Cancelling while the code is awaited refunds too.
        let third = place(&app, alice, json!({"item_id": shop.day_off})).await;
        assert_eq!(app.wallet_balance(alice).await, "325");
        cancel(&app, alice, &third).await.assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "425");
        assert_eq!(
            last_step(&show(&app, alice, &third).await),
            json!([
                "pending_confirmation",
                "cancelled",
                alice_id,
                "Cancelled by the employee"
            ])
        );
        app.assert_ledger_consistent().await;
    }

    async fn five_wrong_codes_cancel_the_order_and_return_points_and_stock(app: TestApp) {
        let shop = shop(&app, "attempts").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        let code = confirmation_code(&app, alice, &id).await;
        assert_eq!(app.wallet_balance(alice).await, "400");

        for left in [4, 3, 2, 1] {
            let reply = confirm(&app, alice, &id, wrong(&code)).await;
            reply.assert_error(400, "wrong_confirmation_code");
            assert_eq!(
                reply.str("detail"),
                format!("That code is not correct; {left} attempt(s) left")
            );
            assert_eq!(app.wallet_balance(alice).await, "400");
        }
        let reply = confirm(&app, alice, &id, wrong(&code)).await;
        reply.assert_error(409, "redemption_ended");
        assert!(reply.str("detail").contains("cancelled"), "{reply:?}");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "cancelled");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "cancelled",
                alice_id,
                "Too many wrong confirmation codes"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        // The right code is too late now.
        confirm(&app, alice, &id, &code)
            .await
            .assert_error(409, "not_awaiting_confirmation");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_confirmation_code_expires_after_fifteen_minutes(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "codetime").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let early = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let late = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let early_code = confirmation_code(&app, alice, &early).await;
        let late_code = confirmation_code(&app, alice, &late).await;
        assert_eq!(app.wallet_balance(alice).await, "400");

        app.clock
            .set(start + Duration::minutes(15) - Duration::seconds(1));
        confirm(&app, alice, &early, &early_code)
            .await
            .assert_status(200);
        assert_eq!(status_of(&app, alice, &early).await, "pending");

        app.clock.set(start + Duration::minutes(15));
        let reply = confirm(&app, alice, &late, &late_code).await;
        reply.assert_error(409, "redemption_ended");
        let seen = show(&app, alice, &late).await;
        assert_eq!(seen["status"], "expired");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "expired",
                alice_id,
                "The confirmation code expired"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn the_sweep_expires_orders_whose_code_was_never_entered(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "unconfirmed").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(app.wallet_balance(alice).await, "450");

        app.clock.set(start + Duration::minutes(14));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        assert_eq!(status_of(&app, alice, &id).await, "pending_confirmation");

        app.clock.set(start + Duration::minutes(16));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            1
        );
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "expired");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "expired",
                null,
                "Not fulfilled in time"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }
}
