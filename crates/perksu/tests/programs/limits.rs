//! What limits a recognition in pool mode: the active budget's lead allocations and department
//! shares (with their monthly caps), the tenant's monthly giving allowance, and the
//! peer-to-peer switch. Budgets only limit here: the pool pays.

use super::*;
use fixtures::{
    activate, active_budget, allocation_of, budget, draft_budget, lead_allocation, share, share_of,
    spent_and_remaining,
};

backend_tests! {
    async fn a_recognition_that_fits_the_department_share_is_charged_to_it(app: TestApp) {
        let org = pool_company(&app, "fits", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 300, None).await;

        let reply = thanked(&app, &org.alice, &org.carol, json!(100)).await;
        assert_eq!(reply.str("funding_source"), "pool");
        assert_eq!(reply.body["department_budget_id"], engineering["id"]);
        assert_eq!(reply.body["lead_allocation_id"], Value::Null);

        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("100", "200"));
        assert_eq!(budget(&app, &org, &budget_id).await["spent_points"], "100");
        assert_eq!(pool(&app, &org).await, "9900");
        assert_eq!(wallet(&app, &org.carol).await, "100");
        app.assert_ledger_consistent().await;
    }

    async fn a_recognition_past_the_department_share_is_refused_and_the_pool_is_untouched(
        app: TestApp
    ) {
        let org = pool_company(&app, "pastshare", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 300, None).await;

        thanked(&app, &org.alice, &org.carol, json!(250)).await;
        let reply = thank(&app, &org.bob, &org.carol, json!(51)).await;
        reply.assert_error(400, "insufficient_budget");

        assert_eq!(pool(&app, &org).await, "9750");
        assert_eq!(wallet(&app, &org.carol).await, "250");
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("250", "50"));
        // What is left still fits, to the hundredth.
        thanked(&app, &org.bob, &org.carol, json!(50)).await;
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("300", "0"));
        assert_eq!(pool(&app, &org).await, "9700");
        app.assert_ledger_consistent().await;
    }

    async fn a_giver_without_a_budget_source_is_limited_by_the_pool_alone(app: TestApp) {
        let org = pool_company(&app, "nosource", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 300, None).await;

        // Sales has no share, and the manager belongs to no department.
        let reply = thanked(&app, &org.carol, &org.alice, json!(2000)).await;
        assert_eq!(reply.body["department_budget_id"], Value::Null);
        let reply = thanked(&app, &org.manager, &org.alice, json!(5000)).await;
        assert_eq!(reply.body["department_budget_id"], Value::Null);
        assert_eq!(pool(&app, &org).await, "3000");
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("0", "300"));
        app.assert_ledger_consistent().await;
    }

    async fn a_pool_refusal_leaves_the_department_share_as_it_was(app: TestApp) {
        let org = pool_company(&app, "rollback", 100).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 500, None).await;

        let reply = thank(&app, &org.alice, &org.carol, json!(200)).await;
        assert_refused(&reply, 400, "insufficient_allocation_pool", &pool_short("100", "200"));
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("0", "500"));
        assert_eq!(budget(&app, &org, &budget_id).await["spent_points"], "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_lead_allocation_is_charged_before_the_department_share(app: TestApp) {
        let org = pool_company(&app, "leadfirst", 10000).await;
        fixtures::delegate(&app, &org, 1000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let allocation = lead_allocation(&app, &org, &budget_id, 100).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 300, None).await;

        let first = thanked(&app, &org.lead, &org.carol, json!(80)).await;
        assert_eq!(first.body["lead_allocation_id"], allocation["id"]);
        assert_eq!(first.body["department_budget_id"], Value::Null);
        assert_eq!(first.str("funding_source"), "lead_balance", "the money is still pool mode's");

        // 20 left on the allocation: 50 goes to the department share instead.
        let second = thanked(&app, &org.lead, &org.carol, json!(50)).await;
        assert_eq!(second.body["department_budget_id"], engineering["id"]);
        assert_eq!(second.body["lead_allocation_id"], Value::Null);

        let third = thanked(&app, &org.lead, &org.carol, json!(20)).await;
        assert_eq!(third.body["lead_allocation_id"], allocation["id"]);

        let now = allocation_of(&app, &org, &budget_id).await;
        assert_eq!(spent_and_remaining(&now), ("100", "0"));
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("50", "250"));
        assert_eq!(budget(&app, &org, &budget_id).await["spent_points"], "150");
        assert_eq!(lead_balance(&app, &org).await, "850");
        assert_eq!(wallet(&app, &org.carol).await, "150");
        app.assert_ledger_consistent().await;
    }

    async fn a_closed_budget_limits_nothing(app: TestApp) {
        let org = pool_company(&app, "closed", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 100, None).await;
        thank(&app, &org.alice, &org.carol, json!(500))
            .await
            .assert_error(400, "insufficient_budget");

        let closed = app
            .post(&format!("/api/budgets/{budget_id}/close"), &org.manager.token, json!({}))
            .await;
        assert!(closed.status.is_success(), "{closed:?}");
        assert_eq!(closed.str("status"), "closed");

        let reply = thanked(&app, &org.alice, &org.carol, json!(500)).await;
        assert_eq!(reply.body["department_budget_id"], Value::Null);
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("0", "100"));
        assert_eq!(pool(&app, &org).await, "9500");
        app.assert_ledger_consistent().await;
    }

    async fn a_draft_budget_limits_nothing(app: TestApp) {
        let org = pool_company(&app, "draft", 10000).await;
        let budget_id = draft_budget(&app, &org, 1000, Value::Null).await;
        share(&app, &org, &budget_id, &org.engineering, 100, None).await;

        let reply = thanked(&app, &org.alice, &org.carol, json!(500)).await;
        assert_eq!(reply.body["department_budget_id"], Value::Null);

        activate(&app, &org, &budget_id).await;
        thank(&app, &org.alice, &org.carol, json!(500))
            .await
            .assert_error(400, "insufficient_budget");
        app.assert_ledger_consistent().await;
    }

    async fn a_budget_limits_through_its_expiry_date_and_not_after(app: TestApp) {
        app.clock.set(at(2026, 5, 10, 23, 59, 0));
        let mut org = pool_company(&app, "expiring", 10000).await;
        let budget_id = draft_budget(&app, &org, 1000, json!("2026-05-10")).await;
        share(&app, &org, &budget_id, &org.engineering, 100, None).await;
        activate(&app, &org, &budget_id).await;

        // The expiry date is the last day the budget is in force (inclusive, UTC).
        thank(&app, &org.alice, &org.carol, json!(150))
            .await
            .assert_error(400, "insufficient_budget");
        let reply = thanked(&app, &org.alice, &org.carol, json!(60)).await;
        assert!(reply.body["department_budget_id"].is_string(), "{reply:?}");

        org.move_clock(&app, at(2026, 5, 11, 0, 0, 1)).await;
        let reply = thanked(&app, &org.alice, &org.carol, json!(150)).await;
        assert_eq!(reply.body["department_budget_id"], Value::Null);
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("60", "40"));
        assert_eq!(pool(&app, &org).await, "9790");
        app.assert_ledger_consistent().await;
    }

    async fn a_monthly_cap_stops_a_department_until_the_first_of_next_month(app: TestApp) {
        app.clock.set(at(2026, 3, 20, 10, 0, 0));
        let mut org = pool_company(&app, "capped", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        let engineering = share(&app, &org, &budget_id, &org.engineering, 1000, Some(100)).await;
        assert_eq!(engineering["monthly_cap"], "100");

        thanked(&app, &org.alice, &org.carol, json!(60)).await;
        thanked(&app, &org.bob, &org.carol, json!(40)).await;
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(now["spent_this_month"], "100");
        thank(&app, &org.alice, &org.carol, json!("0.01"))
            .await
            .assert_error(400, "insufficient_budget");

        org.move_clock(&app, at(2026, 3, 31, 23, 59, 59)).await;
        thank(&app, &org.alice, &org.carol, json!(10))
            .await
            .assert_error(400, "insufficient_budget");

        org.move_clock(&app, at(2026, 4, 1, 0, 0, 0)).await;
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(now["spent_this_month"], "0", "April has spent nothing yet");
        assert_eq!(spent_and_remaining(&now), ("100", "900"));
        let reply = thanked(&app, &org.alice, &org.carol, json!(10)).await;
        assert_eq!(reply.body["department_budget_id"], engineering["id"]);
        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(now["spent_this_month"], "10");
        assert_eq!(spent_and_remaining(&now), ("110", "890"));
        thanked(&app, &org.bob, &org.carol, json!(90)).await;
        thank(&app, &org.bob, &org.carol, json!(1))
            .await
            .assert_error(400, "insufficient_budget");
        assert_eq!(pool(&app, &org).await, "9800");
        assert_eq!(wallet(&app, &org.carol).await, "200");
        app.assert_ledger_consistent().await;
    }

    async fn an_employee_gives_up_to_the_monthly_allowance_and_then_is_refused(app: TestApp) {
        app.clock.set(at(2026, 3, 10, 9, 0, 0));
        let org = pool_company(&app, "allowance", 10000).await;
        let tenant = set_tenant(&app, &org, json!({"monthly_giving_allowance": 100})).await;
        assert_eq!(tenant.str("monthly_giving_allowance"), "100");

        thanked(&app, &org.alice, &org.bob, json!(70)).await;
        let reply = thank(&app, &org.alice, &org.carol, json!(40)).await;
        assert_refused(
            &reply,
            400,
            "insufficient_giving_allowance",
            "Monthly giving allowance exceeded. Available: 30, Required: 40",
        );
        let mine = stats(&app, &org.alice).await;
        assert_eq!(mine["monthly_giving_allowance"], "100");
        assert_eq!(mine["given_this_month"], "70");
        assert_eq!(mine["allowance_remaining"], "30");

        thanked(&app, &org.alice, &org.carol, json!(30)).await;
        assert_eq!(stats(&app, &org.alice).await["allowance_remaining"], "0");
        let reply = thank(&app, &org.alice, &org.carol, json!("0.01")).await;
        assert_refused(
            &reply,
            400,
            "insufficient_giving_allowance",
            "Monthly giving allowance exceeded. Available: 0, Required: 0.01",
        );
        // A thank-you without points is never counted against it.
        thanked(&app, &org.alice, &org.carol, json!(0)).await;
        // The allowance is each employee's own.
        assert_eq!(stats(&app, &org.bob).await["allowance_remaining"], "100");
        thanked(&app, &org.bob, &org.carol, json!(100)).await;

        assert_eq!(pool(&app, &org).await, "9800");
        assert_eq!(wallet(&app, &org.carol).await, "130");
        app.assert_ledger_consistent().await;
    }

    async fn the_allowance_resets_on_the_first_and_nothing_carries_over(app: TestApp) {
        app.clock.set(at(2026, 3, 31, 22, 0, 0));
        let mut org = pool_company(&app, "rollover", 10000).await;
        set_tenant(&app, &org, json!({"monthly_giving_allowance": 100})).await;
        thanked(&app, &org.alice, &org.bob, json!(30)).await;
        assert_eq!(stats(&app, &org.alice).await["allowance_remaining"], "70");

        org.move_clock(&app, at(2026, 4, 1, 0, 0, 0)).await;
        let mine = stats(&app, &org.alice).await;
        assert_eq!(mine["allowance_remaining"], "100", "March's unused 70 is gone");
        assert_eq!(mine["given_this_month"], "0");
        thanked(&app, &org.alice, &org.bob, json!(100)).await;
        let reply = thank(&app, &org.alice, &org.bob, json!(1)).await;
        assert_refused(
            &reply,
            400,
            "insufficient_giving_allowance",
            "Monthly giving allowance exceeded. Available: 0, Required: 1",
        );

        // Switching the allowance off lifts the limit.
        set_tenant(&app, &org, json!({"monthly_giving_allowance": null})).await;
        thanked(&app, &org.alice, &org.bob, json!(500)).await;
        assert_eq!(wallet(&app, &org.bob).await, "630");
        assert_eq!(stats(&app, &org.alice).await["points_given"], "630");
        app.assert_ledger_consistent().await;
    }

    async fn an_ecard_with_points_counts_against_the_allowance(app: TestApp) {
        let org = pool_company(&app, "cardallowance", 10000).await;
        set_tenant(&app, &org, json!({"monthly_giving_allowance": 20})).await;
        let template = ecard_template(&app, &org.alice).await;
        let card = |points: i64| {
            recognise(&app, &org.alice, json!({
                "recognition_type": "ecard", "to_user_id": org.bob.id, "points": points,
                "ecard_template": template, "message": "Congratulations",
            }))
        };

        card(15).await.assert_status(200);
        let reply = card(10).await;
        assert_refused(
            &reply,
            400,
            "insufficient_giving_allowance",
            "Monthly giving allowance exceeded. Available: 5, Required: 10",
        );
        card(0).await.assert_status(200);
        assert_eq!(stats(&app, &org.alice).await["allowance_remaining"], "5");
        assert_eq!(wallet(&app, &org.bob).await, "15");
        app.assert_ledger_consistent().await;
    }

    async fn a_replayed_recognition_charges_the_budget_and_the_allowance_once(app: TestApp) {
        let org = pool_company(&app, "replay", 10000).await;
        set_tenant(&app, &org, json!({"monthly_giving_allowance": 100})).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 300, None).await;
        let body = json!({"to_user_id": org.carol.id, "points": 60, "message": "Once"});
        let send = || {
            app.request(
                Method::POST,
                "/api/recognitions",
                Some(&org.alice.token),
                Some(&body),
                &[("Idempotency-Key", "thanks-carol-1")],
            )
        };

        let first = send().await;
        first.assert_status(200);
        let again = send().await;
        again.assert_status(200);
        assert_eq!(again.body, first.body);
        assert_eq!(again.headers["idempotent-replayed"], "true");

        let now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(spent_and_remaining(&now), ("60", "240"));
        assert_eq!(stats(&app, &org.alice).await["allowance_remaining"], "40");
        assert_eq!(pool(&app, &org).await, "9940");
        assert_eq!(wallet(&app, &org.carol).await, "60");
        app.assert_ledger_consistent().await;
    }

    async fn leads_and_managers_are_not_limited_by_the_giving_allowance(app: TestApp) {
        let org = pool_company(&app, "notlimited", 10000).await;
        set_tenant(&app, &org, json!({"monthly_giving_allowance": 10})).await;

        thank(&app, &org.alice, &org.bob, json!(50))
            .await
            .assert_error(400, "insufficient_giving_allowance");
        thanked(&app, &org.lead, &org.bob, json!(50)).await;
        thanked(&app, &org.lead, &org.bob, json!(50)).await;
        thanked(&app, &org.manager, &org.bob, json!(50)).await;
        thanked(&app, &org.manager, &org.bob, json!(50)).await;
        assert_eq!(wallet(&app, &org.bob).await, "200");
        assert_eq!(pool(&app, &org).await, "9800");
        app.assert_ledger_consistent().await;
    }

    async fn with_peer_to_peer_off_an_employee_can_thank_but_not_give_points(app: TestApp) {
        let org = pool_company(&app, "nopeer", 1000).await;
        let tenant = set_tenant(&app, &org, json!({"peer_to_peer_enabled": false})).await;
        assert_eq!(tenant.body["peer_to_peer_enabled"], false);

        let reply = thank(&app, &org.alice, &org.bob, json!(10)).await;
        reply.assert_error(403, "peer_to_peer_disabled");
        let thanks = thanked(&app, &org.alice, &org.bob, json!(0)).await;
        assert_eq!(thanks.str("funding_source"), "none");
        let template = ecard_template(&app, &org.alice).await;
        let ecard = recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": org.bob.id, "points": 0,
            "ecard_template": template, "message": "Happy work anniversary",
        }))
        .await;
        ecard.assert_status(200);
        let reply = recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": org.bob.id, "points": 5,
            "ecard_template": template, "message": "Happy work anniversary",
        }))
        .await;
        reply.assert_error(403, "peer_to_peer_disabled");

        let from_lead = thanked(&app, &org.lead, &org.bob, json!(10)).await;
        assert_eq!(from_lead.str("funding_source"), "pool");
        thanked(&app, &org.manager, &org.bob, json!(15)).await;
        assert_eq!(wallet(&app, &org.bob).await, "25");
        assert_eq!(pool(&app, &org).await, "975");

        let tenant = set_tenant(&app, &org, json!({"peer_to_peer_enabled": true})).await;
        assert_eq!(tenant.body["peer_to_peer_enabled"], true);
        thanked(&app, &org.alice, &org.bob, json!(10)).await;
        assert_eq!(wallet(&app, &org.bob).await, "35");
        app.assert_ledger_consistent().await;
    }

    async fn another_tenants_budgets_are_not_found(app: TestApp) {
        let ours = pool_company(&app, "ours", 1000).await;
        let theirs = pool_company(&app, "theirs", 1000).await;
        let their_budget = active_budget(&app, &theirs, 1000).await;
        let our_budget = draft_budget(&app, &ours, 1000, Value::Null).await;
        let manager = &ours.manager.token;

        for path in [
            format!("/api/budgets/{their_budget}"),
            format!("/api/budgets/{their_budget}/departments"),
            format!("/api/budgets/{their_budget}/leads"),
            format!("/api/budgets/{their_budget}/events"),
        ] {
            app.get(&path, manager).await.assert_status(404);
        }
        app.post(&format!("/api/budgets/{their_budget}/close"), manager, json!({}))
            .await
            .assert_status(404);
        app.patch(&format!("/api/budgets/{their_budget}"), manager, json!({"name": "Mine"}))
            .await
            .assert_status(404);
        put(
            &app,
            &format!("/api/budgets/{their_budget}/departments/{}", ours.engineering),
            manager,
            json!({"allocated_points": 10}),
        )
        .await
        .assert_status(404);
        // Nor can their departments or leads take a share of our budget.
        put(
            &app,
            &format!("/api/budgets/{our_budget}/departments/{}", theirs.engineering),
            manager,
            json!({"allocated_points": 10}),
        )
        .await
        .assert_status(404);
        put(
            &app,
            &format!("/api/budgets/{our_budget}/leads/{}", theirs.lead.id),
            manager,
            json!({"allocated_points": 10}),
        )
        .await
        .assert_status(404);

        let listed = app.get("/api/budgets", manager).await;
        listed.assert_status(200);
        let ids: Vec<&Value> = listed
            .body
            .as_array()
            .expect("a list")
            .iter()
            .map(|b| &b["id"])
            .collect();
        assert_eq!(ids, [&json!(our_budget)]);
        let theirs_now = budget(&app, &theirs, &their_budget).await;
        assert_eq!(theirs_now["status"], "active");
    }
}
