//! Concurrent point movements over HTTP: no lost update, no double spend, no deadlock.

mod common;

use serde_json::json;

use common::{Reply, TestApp};
use futures::future::join_all;
use std::collections::BTreeSet;

/// An integral amount from its wire form (every amount in these tests is whole).
fn points(text: &str) -> i64 {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a whole amount"))
}

/// A lead's delegated balance, as the tenant manager sees it.
async fn lead_balance(app: &TestApp, manager_token: &str, lead_id: &str) -> i64 {
    let reply = app
        .get(&format!("/api/users/{lead_id}"), manager_token)
        .await;
    reply.assert_status(200);
    points(&reply.str("lead_distribution_balance"))
}

/// Asserts every reply is a 200 or a refusal in our error format, never a 5xx; returns the
/// successful ones.
fn successes(replies: &[Reply]) -> Vec<&Reply> {
    for reply in replies {
        let status = reply.status.as_u16();
        assert!(
            status == 200 || (400..500).contains(&status),
            "neither a success nor a clean refusal: {reply:?}"
        );
        if status != 200 {
            assert!(reply.body["code"].is_string(), "no code in {reply:?}");
        }
    }
    replies.iter().filter(|r| r.status == 200).collect()
}

/// Asserts every failed reply is a 400 with `code`.
fn assert_refusals(replies: &[Reply], code: &str) {
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_error(400, code);
    }
}

/// Asserts that the balances a set of successful replies report, in `field`, are all
/// different: two movements that saw the same balance would be a lost update.
fn assert_distinct_balances(replies: &[&Reply], field: &str) {
    let seen: BTreeSet<i64> = replies.iter().map(|r| points(&r.str(field))).collect();
    assert_eq!(
        seen.len(),
        replies.len(),
        "two movements reported the same {field}: {seen:?}"
    );
}

backend_tests! {
    async fn a_hundred_concurrent_recognitions_never_overspend_the_pool(app: TestApp) {
        let company = app.company("rush", json!(500)).await;
        let (_, manager) = &company.manager;
        let carol = app
            .create_user(&company.tenant_id, "carol@rush.test", "employee")
            .await;
        let recipients = [&company.alice, &company.bob, &company.lead, &carol];

        let replies = join_all((0..100).map(|i| {
            let (to_user_id, _) = recipients[i % recipients.len()];
            app.post(
                "/api/recognitions",
                manager,
                json!({"to_user_id": to_user_id, "points": 10, "message": format!("Thanks #{i}")}),
            )
        }))
        .await;

        let ok = successes(&replies);
        assert_eq!(ok.len(), 50, "exactly the pool's worth of recognitions succeed");
        assert_eq!(replies.iter().filter(|r| r.status == 400).count(), 50);
        assert_refusals(&replies, "insufficient_allocation_pool");
        let ids: BTreeSet<String> = ok.iter().map(|r| r.str("id")).collect();
        assert_eq!(ids.len(), 50);
        assert_eq!(app.pool_balance(manager).await, "0");

        let mut total = 0;
        for (user_id, token) in recipients {
            let received = 10 * ok.iter().filter(|r| r.str("to_user_id") == *user_id).count();
            let balance = points(&app.wallet_balance(token).await);
            assert_eq!(balance, received as i64, "wallet of {user_id}");
            total += balance;
        }
        assert_eq!(total, 500);
        let listed = app.get("/api/recognitions?limit=200", manager).await;
        listed.assert_status(200);
        assert_eq!(listed.body.as_array().map(Vec::len), Some(50));
        app.assert_ledger_consistent().await;
    }

    async fn concurrent_delegations_hand_out_exactly_what_the_pool_holds(app: TestApp) {
        let company = app.company("deleg", json!(1000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, _) = &company.lead;
        let (second_lead_id, _) = app
            .create_user(&company.tenant_id, "lead2@deleg.test", "lead")
            .await;
        let leads = [lead_id.as_str(), second_lead_id.as_str()];

        // 40 delegations of 30 against 1000: 33 fit, 10 points stay in the pool.
        let replies = join_all((0..40).map(|i| {
            app.post(
                "/api/v1/points/delegate-to-lead",
                manager,
                json!({"lead_id": leads[i % 2], "amount": 30}),
            )
        }))
        .await;

        let ok = successes(&replies);
        assert_eq!(ok.len(), 33);
        assert_refusals(&replies, "insufficient_allocation_pool");
        assert_distinct_balances(&ok, "new_allocation_balance");
        let mut delegated = 0;
        for lead in leads {
            let to_lead: Vec<&Reply> = ok
                .iter()
                .copied()
                .filter(|r| r.str("lead_id") == lead)
                .collect();
            assert_distinct_balances(&to_lead, "lead_distribution_balance");
            let balance = lead_balance(&app, manager, lead).await;
            assert_eq!(balance, 30 * to_lead.len() as i64, "lead {lead}");
            delegated += balance;
        }
        let pool = points(&app.pool_balance(manager).await);
        assert_eq!(pool, 10);
        assert_eq!(pool + delegated, 1000);
        app.assert_ledger_consistent().await;
    }

    async fn concurrent_awards_by_a_lead_never_overspend_the_delegated_balance(app: TestApp) {
        let company = app.company("lead-awards", json!(500)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 300}),
        )
        .await
        .assert_status(200);
        let recipients = [&company.alice, &company.bob];

        let replies = join_all((0..50).map(|i| {
            let (to_user_id, _) = recipients[i % 2];
            app.post(
                "/api/v1/points/award-to-user",
                lead,
                json!({"to_user_id": to_user_id, "amount": 10, "recognition_message": "Nice"}),
            )
        }))
        .await;

        let ok = successes(&replies);
        assert_eq!(ok.len(), 30);
        assert_refusals(&replies, "insufficient_lead_balance");
        assert!(ok.iter().all(|r| r.str("funding_source") == "lead_balance"));
        assert_distinct_balances(&ok, "source_balance_after");
        assert_eq!(lead_balance(&app, manager, lead_id).await, 0);
        let me = app.get("/api/auth/me", lead).await;
        assert_eq!(me.str("lead_distribution_balance"), "0");
        // The lead spends only what was delegated; the pool is not touched.
        assert_eq!(app.pool_balance(manager).await, "200");
        let mut total = 0;
        for (user_id, token) in recipients {
            let received = 10 * ok.iter().filter(|r| r.str("to_user_id") == *user_id).count();
            let balance = points(&app.wallet_balance(token).await);
            assert_eq!(balance, received as i64);
            total += balance;
        }
        assert_eq!(total, 300);
        app.assert_ledger_consistent().await;
    }

    async fn delegations_and_recalls_on_the_same_lead_at_once_neither_deadlock_nor_lose_points(
        app: TestApp
    ) {
        let company = app.company("tug", json!(1000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, _) = &company.lead;
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 500}),
        )
        .await
        .assert_status(200);

        // Interleaved: delegations of 20, recalls of 20, and now and then a recall of the
        // lead's whole balance.
        let bodies: Vec<(&str, serde_json::Value)> = (0..60)
            .map(|i| match i % 6 {
                0 | 2 | 4 => (
                    "/api/v1/points/delegate-to-lead",
                    json!({"lead_id": lead_id, "amount": 20}),
                ),
                1 | 3 => (
                    "/api/v1/points/recall-from-lead",
                    json!({"lead_id": lead_id, "amount": 20}),
                ),
                _ => ("/api/v1/points/recall-from-lead", json!({"lead_id": lead_id})),
            })
            .collect();
        let replies = join_all(
            bodies
                .iter()
                .map(|(path, body)| app.post(path, manager, body.clone())),
        )
        .await;

        successes(&replies);
        let mut expected_pool = 500;
        for ((path, _), reply) in bodies.iter().zip(&replies) {
            if reply.status != 200 {
                let code = reply.body["code"].as_str().unwrap_or_default();
                assert!(
                    matches!(
                        code,
                        "insufficient_allocation_pool" | "insufficient_lead_balance" | "nothing_to_recall"
                    ),
                    "unexpected refusal: {reply:?}"
                );
                reply.assert_status(400);
                continue;
            }
            if path.ends_with("delegate-to-lead") {
                expected_pool -= points(&reply.str("amount_delegated"));
            } else {
                expected_pool += points(&reply.str("amount_recalled"));
            }
        }
        let pool = points(&app.pool_balance(manager).await);
        let lead = lead_balance(&app, manager, lead_id).await;
        assert_eq!(pool, expected_pool, "the pool is what the successful replies imply");
        assert_eq!(pool + lead, 1000);
        assert!(pool >= 0 && lead >= 0);
        app.assert_ledger_consistent().await;
    }

    async fn a_whole_pool_clawback_racing_recognitions_takes_exactly_what_they_left(app: TestApp) {
        let company = app.company("claw", json!(500)).await;
        let (_, manager) = &company.manager;
        let recipients = [&company.alice, &company.bob];
        let clawback_path = format!("/api/v1/points/clawback/{}", company.tenant_id);

        // 40 recognitions of 10 (400 of the 500) with three whole-pool clawbacks among them.
        let requests: Vec<(&str, &str, serde_json::Value)> = (0..43)
            .map(|i| {
                if i % 14 == 7 {
                    (clawback_path.as_str(), app.admin_token.as_str(), json!({}))
                } else {
                    let (to_user_id, _) = recipients[i % 2];
                    (
                        "/api/recognitions",
                        manager.as_str(),
                        json!({"to_user_id": to_user_id, "points": 10, "message": "Thanks"}),
                    )
                }
            })
            .collect();
        assert_eq!(requests.iter().filter(|(p, _, _)| *p == clawback_path).count(), 3);
        let replies = join_all(
            requests
                .iter()
                .map(|(path, token, body)| app.post(path, token, body.clone())),
        )
        .await;

        successes(&replies);
        let mut clawed_back = Vec::new();
        let mut recognised = 0;
        for ((path, _, _), reply) in requests.iter().zip(&replies) {
            if *path == clawback_path {
                if reply.status == 200 {
                    clawed_back.push(points(&reply.str("amount_clawed_back")));
                    assert_eq!(reply.str("new_allocation_balance"), "0");
                } else {
                    reply.assert_error(400, "nothing_to_claw_back");
                }
            } else if reply.status == 200 {
                recognised += points(&reply.str("points"));
            } else {
                reply.assert_error(400, "insufficient_allocation_pool");
            }
        }
        // The recognitions cannot empty the pool, so the first clawback finds points and the
        // others find none.
        assert_eq!(clawed_back.len(), 1, "exactly one clawback takes the pool");
        assert_eq!(recognised + clawed_back[0], 500);
        assert_eq!(app.pool_balance(manager).await, "0");
        let mut wallets = 0;
        for (_, token) in recipients {
            wallets += points(&app.wallet_balance(token).await);
        }
        assert_eq!(wallets, recognised);
        app.assert_ledger_consistent().await;
    }

    async fn a_leads_recognitions_racing_delegations_and_recalls_account_for_every_point(
        app: TestApp
    ) {
        let company = app.company("mix", json!(300)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 100}),
        )
        .await
        .assert_status(200);
        let recipients = [&company.alice, &company.bob];

        // The lead's recognitions take the lead's balance first and fall back to the pool,
        // while the manager moves points between the two in both directions.
        let requests: Vec<(&str, &str, serde_json::Value)> = (0..60)
            .map(|i| match i % 4 {
                0 => (
                    "/api/v1/points/delegate-to-lead",
                    manager.as_str(),
                    json!({"lead_id": lead_id, "amount": 15}),
                ),
                1 => (
                    "/api/v1/points/recall-from-lead",
                    manager.as_str(),
                    if i % 8 == 1 {
                        json!({"lead_id": lead_id})
                    } else {
                        json!({"lead_id": lead_id, "amount": 15})
                    },
                ),
                _ => {
                    let (to_user_id, _) = recipients[i % 2];
                    (
                        "/api/recognitions",
                        lead.as_str(),
                        json!({"to_user_id": to_user_id, "points": 10, "message": "Thanks"}),
                    )
                }
            })
            .collect();
        let replies = join_all(
            requests
                .iter()
                .map(|(path, token, body)| app.post(path, token, body.clone())),
        )
        .await;

        successes(&replies);
        let (mut pool, mut lead_left, mut recognised) = (200, 100, 0);
        for ((path, _, _), reply) in requests.iter().zip(&replies) {
            if reply.status != 200 {
                reply.assert_status(400);
                continue;
            }
            if path.ends_with("delegate-to-lead") {
                let amount = points(&reply.str("amount_delegated"));
                pool -= amount;
                lead_left += amount;
            } else if path.ends_with("recall-from-lead") {
                let amount = points(&reply.str("amount_recalled"));
                pool += amount;
                lead_left -= amount;
            } else {
                let amount = points(&reply.str("points"));
                recognised += amount;
                match reply.str("funding_source").as_str() {
                    "lead_balance" => lead_left -= amount,
                    "pool" => pool -= amount,
                    other => panic!("unexpected funding source {other}"),
                }
            }
        }
        assert_eq!(points(&app.pool_balance(manager).await), pool);
        assert_eq!(lead_balance(&app, manager, lead_id).await, lead_left);
        let mut wallets = 0;
        for (_, token) in recipients {
            wallets += points(&app.wallet_balance(token).await);
        }
        assert_eq!(wallets, recognised);
        assert_eq!(pool + lead_left + wallets, 300);
        assert!(pool >= 0 && lead_left >= 0);
        app.assert_ledger_consistent().await;
    }

    async fn concurrent_allocations_to_one_pool_all_land(app: TestApp) {
        let company = app.company("inflow", json!(0)).await;
        let (_, manager) = &company.manager;
        let replies = join_all((0..30).map(|_| app.allocate(&company.tenant_id, json!(100)))).await;
        let ok = successes(&replies);
        assert_eq!(ok.len(), 30);
        assert_distinct_balances(&ok, "new_allocation_balance");
        for reply in &ok {
            assert_eq!(
                points(&reply.str("previous_balance")) + 100,
                points(&reply.str("new_allocation_balance"))
            );
        }
        assert_eq!(app.pool_balance(manager).await, "3000");
        let logs = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        logs.assert_status(200);
        assert_eq!(logs.body["total"], 30);
        app.assert_ledger_consistent().await;
    }
}
