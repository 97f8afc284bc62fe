//! Provider callbacks: signatures, replays, and the provider they must name.

use super::*;

backend_tests! {
    async fn a_signed_provider_callback_moves_the_order_and_a_replay_changes_nothing(app: TestApp) {
        let shop = shop(&app, "callback").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let shipped = json!({"event_id": "evt-1", "redemption_id": id, "status": "shipped",
                             "reference": "PRV-7", "tracking_number": "ZX-9"});
        let reply = signed_callback(&app, "manual", &shipped).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "shipped"}));
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "shipped");
        assert_eq!(seen["provider_reference"], "PRV-7");
        assert_eq!(seen["tracking_number"], "ZX-9");
        assert_eq!(
            last_step(&seen),
            json!(["pending", "shipped", null, "Reported by the provider"])
        );
        let history_length = steps(&seen).len();

        let reply = signed_callback(&app, "manual", &shipped).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": false, "status": "shipped"}));
        assert_eq!(steps(&show(&app, alice, &id).await).len(), history_length);

        let delivered = json!({"event_id": "evt-2", "redemption_id": id, "status": "delivered",
                               "reason": "Signed for at reception"});
        let reply = signed_callback(&app, "manual", &delivered).await;
        assert_eq!(reply.body, json!({"applied": true, "status": "delivered"}));
        let seen = show(&app, alice, &id).await;
        assert_eq!(
            last_step(&seen),
            json!(["shipped", "delivered", null, "Signed for at reception"])
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));

        // Replaying either event again moves nothing, money included.
        for event in [&shipped, &delivered] {
            let reply = signed_callback(&app, "manual", event).await;
            assert_eq!(reply.body, json!({"applied": false, "status": "delivered"}));
        }
        assert_eq!(
            steps(&show(&app, alice, &id).await).len(),
            history_length + 1
        );
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "50");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));
        app.assert_ledger_consistent().await;
    }

    async fn an_unsigned_or_forged_callback_changes_nothing(app: TestApp) {
        let shop = shop(&app, "forged").await;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let failed = json!({"event_id": "evt-f", "redemption_id": id, "status": "failed",
                            "reason": "Forged"})
        .to_string();
        let delivered =
            json!({"event_id": "evt-f", "redemption_id": id, "status": "delivered"}).to_string();
        let genuine = sign(CALLBACK_SECRET, &failed);
        let upper = format!("sha256={}", genuine["sha256=".len()..].to_uppercase());
        let refusals = [
            (failed.clone(), None),
            (failed.clone(), Some(sign("not-the-secret", &failed))),
            (failed.clone(), Some(genuine["sha256=".len()..].to_owned())),
            (failed.clone(), Some("sha256=".to_owned())),
            (failed.clone(), Some("sha256=zz".to_owned())),
            (
                failed.clone(),
                Some(format!("sha1={}", &genuine["sha256=".len()..])),
            ),
            // A genuine signature does not cover another body.
            (delivered.clone(), Some(genuine.clone())),
            (format!("{failed} "), Some(genuine.clone())),
        ];
        for (body, signature) in &refusals {
            callback(&app, "manual", body, signature.as_deref())
                .await
                .assert_error(401, "invalid_signature");
        }
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen).len(), 1);
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));

        // None of them used up the event id: the genuine event applies once it comes, and hex
        // case does not matter.
        let reply = callback(&app, "manual", &failed, Some(&upper)).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "failed"}));
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, &shop.company.manager.1, &shop.hoodie).await, 3);
        assert_eq!(
            last_step(&show(&app, alice, &id).await),
            json!(["pending", "failed", null, "Forged"])
        );
        app.assert_ledger_consistent().await;
    }

    async fn a_provider_reporting_failure_refunds_the_order(app: TestApp) {
        let shop = shop(&app, "provfail").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 3})).await;
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);
        let processing = json!({"event_id": "p-1", "redemption_id": id, "status": "processing",
                                "reference": "SUP-1"});
        assert_eq!(
            signed_callback(&app, "manual", &processing).await.body["applied"],
            true
        );

        let failed = json!({"event_id": "p-2", "redemption_id": id, "status": "failed",
                            "reason": "Supplier out of stock"});
        let reply = signed_callback(&app, "manual", &failed).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "failed"}));
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["provider_reference"], "SUP-1");
        assert_eq!(
            last_step(&seen),
            json!(["processing", "failed", null, "Supplier out of stock"])
        );
        // A later, contradicting event is refused and changes nothing.
        let delivered = json!({"event_id": "p-3", "redemption_id": id, "status": "delivered"});
        signed_callback(&app, "manual", &delivered)
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(status_of(&app, alice, &id).await, "failed");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_callback_must_name_an_order_of_that_provider_and_a_provider_status(app: TestApp) {
        let shop = shop(&app, "cbchecks").await;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let event = json!({"event_id": "x-1", "redemption_id": id, "status": "delivered"});
        signed_callback(&app, "simulated_gift_card", &event)
            .await
            .assert_error(404, "redemption_not_found");
        let unknown =
            json!({"event_id": "x-2", "redemption_id": "no-such-order", "status": "delivered"});
        signed_callback(&app, "manual", &unknown)
            .await
            .assert_error(404, "redemption_not_found");
        for status in ["cancelled", "rejected", "expired", "pending"] {
            let event = json!({"event_id": "x-3", "redemption_id": id, "status": status});
            signed_callback(&app, "manual", &event)
                .await
                .assert_error(400, "invalid_field");
        }
        let garbage = "not json";
        callback(
            &app,
            "manual",
            garbage,
            Some(&sign(CALLBACK_SECRET, garbage)),
        )
        .await
        .assert_error(400, "invalid_json");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen).len(), 1);
        assert_eq!(app.wallet_balance(alice).await, "450");
        // The event refused for naming the wrong provider is still unused.
        let reply = signed_callback(&app, "manual", &event).await;
        assert_eq!(reply.body, json!({"applied": true, "status": "delivered"}));
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));
        app.assert_ledger_consistent().await;
    }

    async fn the_same_callback_delivered_twice_at_once_applies_once(app: TestApp) {
        let shop = shop(&app, "cbrace").await;
        let (_, alice) = &shop.company.alice;
        let mut orders = Vec::new();
        for _ in 0..3 {
            orders.push(place(&app, alice, json!({"item_id": shop.day_off})).await);
        }
        for (n, id) in orders.iter().enumerate() {
            let event =
                json!({"event_id": format!("dup-{n}"), "redemption_id": id, "status": "failed"});
            let replies = join_all((0..4).map(|_| signed_callback(&app, "manual", &event))).await;
            let applied = replies
                .iter()
                .inspect(|reply| {
                    reply.assert_status(200);
                    assert_eq!(reply.body["status"], "failed", "{reply:?}");
                })
                .filter(|reply| reply.body["applied"] == true)
                .count();
            assert_eq!(applied, 1, "{replies:?}");
            let failures = steps(&show(&app, alice, id).await)
                .iter()
                .filter(|step| step[1] == "failed")
                .count();
            assert_eq!(failures, 1);
        }
        assert_eq!(app.wallet_balance(alice).await, "500");
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        assert_eq!(
            ledger.body["total"], 7,
            "one award, three holds, three refunds"
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }
}
