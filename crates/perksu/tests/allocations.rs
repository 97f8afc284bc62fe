//! Bulk allocation and the reversal of one allocation, black-box over HTTP on both databases.

mod common;

use common::{Reply, TestApp};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

const BULK: &str = "/api/v1/points/bulk-allocate";

async fn bulk(app: &TestApp, body: Value) -> Reply {
    app.post(BULK, &app.admin_token, body).await
}

async fn bulk_with_key(app: &TestApp, key: &str, body: &Value) -> Reply {
    app.request(
        Method::POST,
        BULK,
        Some(&app.admin_token),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// A tenant's pool as the platform admin reads it.
async fn pool_of(app: &TestApp, tenant_id: &str) -> String {
    let path = format!("/api/v1/points/tenant-allocation-stats?tenant_id={tenant_id}");
    let reply = app.get(&path, &app.admin_token).await;
    reply.assert_status(200);
    reply.str("points_allocation_balance")
}

async fn total_of(app: &TestApp, listing: &str) -> i64 {
    let reply = app.get(listing, &app.admin_token).await;
    reply.assert_status(200);
    reply.body["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("no total in {reply:?}"))
}

async fn allocation_logs_total(app: &TestApp) -> i64 {
    total_of(app, "/api/v1/points/allocation-logs").await
}

async fn billing_logs_total(app: &TestApp) -> i64 {
    total_of(app, "/api/v1/points/billing-logs").await
}

async fn suspend(app: &TestApp, tenant_id: &str) {
    app.patch(
        &format!("/api/tenants/{tenant_id}"),
        &app.admin_token,
        json!({"status": "suspended"}),
    )
    .await
    .assert_status(200);
}

/// Allocates `amount` to `tenant_id`; returns the allocation log id.
async fn allocation(app: &TestApp, tenant_id: &str, amount: Value) -> String {
    let reply = app.allocate(tenant_id, amount).await;
    reply.assert_status(200);
    reply.str("allocation_log_id")
}

async fn allocation_log(app: &TestApp, id: &str) -> Reply {
    app.get(
        &format!("/api/v1/points/allocation-logs/{id}"),
        &app.admin_token,
    )
    .await
}

async fn reverse(app: &TestApp, id: &str, body: Value) -> Reply {
    app.post(
        &format!("/api/v1/points/allocation-logs/{id}/reverse"),
        &app.admin_token,
        body,
    )
    .await
}

/// Asserts an allocation's reversal state as the single-entry endpoint reports it.
async fn assert_reversal_state(
    app: &TestApp,
    id: &str,
    reversed: &str,
    reversible: &str,
    status: &str,
) {
    let log = allocation_log(app, id).await;
    log.assert_status(200);
    assert_eq!(log.str("reversed_amount"), reversed, "{log:?}");
    assert_eq!(log.str("reversible_amount"), reversible, "{log:?}");
    assert_eq!(log.str("status"), status, "{log:?}");
}

/// The results of a bulk reply with the commit-only field removed, for comparing with a dry
/// run.
fn without_log_ids(reply: &Reply) -> Vec<Value> {
    let results = reply.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {reply:?}"));
    results
        .iter()
        .map(|result| {
            let mut result = result.clone();
            if let Some(fields) = result.as_object_mut() {
                fields.remove("allocation_log_id");
            }
            result
        })
        .collect()
}

backend_tests! {
    async fn a_dry_run_reports_what_the_commit_then_does_and_changes_nothing(app: TestApp) {
        let funded = app.create_tenant("funded").await;
        let empty = app.create_tenant("empty").await;
        let other = app.create_tenant("other").await;
        app.allocate(&funded, json!(100)).await.assert_status(200);
        let request = |dry_run: bool| {
            json!({
                "allocations": [
                    {"tenant_id": funded, "amount": 50},
                    {"tenant_id": empty, "amount": "12.5", "reference_note": "own note"},
                    {"tenant_id": other, "amount": 1000},
                ],
                "currency": "INR",
                "reference_note": "Q1 top-up",
                "dry_run": dry_run,
            })
        };

        let dry = bulk(&app, request(true)).await;
        dry.assert_status(200);
        assert_eq!(dry.body["dry_run"], true);
        assert_eq!(dry.body["success"], true);
        assert_eq!(dry.body["allocated"], 3);
        let balances: Vec<&Value> = dry.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| &r["new_allocation_balance"])
            .collect();
        assert_eq!(balances, [&json!("150"), &json!("12.5"), &json!("1000")]);
        assert!(dry.body["results"][0].get("allocation_log_id").is_none(), "{dry:?}");
        assert_eq!(pool_of(&app, &funded).await, "100");
        assert_eq!(pool_of(&app, &empty).await, "0");
        assert_eq!(pool_of(&app, &other).await, "0");
        assert_eq!(allocation_logs_total(&app).await, 1);
        assert_eq!(billing_logs_total(&app).await, 1);
        app.assert_ledger_consistent().await;

        let commit = bulk(&app, request(false)).await;
        commit.assert_status(200);
        assert_eq!(commit.body["dry_run"], false);
        assert_eq!(commit.body["success"], true);
        assert_eq!(without_log_ids(&commit), without_log_ids(&dry));
        assert_eq!(pool_of(&app, &funded).await, "150");
        assert_eq!(pool_of(&app, &empty).await, "12.5");
        assert_eq!(pool_of(&app, &other).await, "1000");
        assert_eq!(allocation_logs_total(&app).await, 4);
        assert_eq!(billing_logs_total(&app).await, 4);

        let second = commit.body["results"][1]["allocation_log_id"]
            .as_str()
            .expect("a committed entry names its allocation log");
        let log = allocation_log(&app, second).await;
        log.assert_status(200);
        assert_eq!(log.body["tenant_id"].as_str(), Some(empty.as_str()));
        assert_eq!(log.str("amount"), "12.5");
        assert_eq!(log.body["reference_note"], "own note");
        let first = commit.body["results"][0]["allocation_log_id"].as_str().expect("log id");
        assert_eq!(allocation_log(&app, first).await.body["reference_note"], "Q1 top-up");
        app.assert_ledger_consistent().await;
    }

    async fn a_bulk_request_with_one_bad_entry_moves_nothing_and_reports_that_entry(app: TestApp) {
        let first = app.create_tenant("first").await;
        let last = app.create_tenant("last").await;
        let suspended = app.create_tenant("suspended").await;
        suspend(&app, &suspended).await;
        let bad_entries = [
            (json!({"tenant_id": "no-such-tenant", "amount": 10}), "tenant_not_found"),
            (json!({"tenant_id": suspended, "amount": 10}), "tenant_suspended"),
            (json!({"tenant_id": "bad-amount", "amount": "-5"}), "invalid_amount"),
            (json!({"tenant_id": "zero-amount", "amount": 0}), "invalid_amount"),
            (json!({"tenant_id": "fine-amount", "amount": "1.234"}), "invalid_amount"),
        ];
        for (bad, code) in bad_entries {
            let request = |dry_run: bool| {
                json!({
                    "allocations": [
                        {"tenant_id": first, "amount": 10},
                        bad.clone(),
                        {"tenant_id": last, "amount": 20},
                    ],
                    "dry_run": dry_run,
                })
            };
            let refused = bulk(&app, request(false)).await;
            refused.assert_error(400, "bulk_allocation_refused");
            assert_eq!(refused.body["refused"], 1, "{refused:?}");
            let results = &refused.body["results"];
            assert_eq!(results[0]["ok"], true, "{refused:?}");
            assert_eq!(results[1]["ok"], false, "{refused:?}");
            assert_eq!(results[1]["tenant_id"], bad["tenant_id"]);
            assert_eq!(results[1]["error"]["code"], code, "{refused:?}");
            assert!(results[1]["error"]["detail"].is_string());
            assert_eq!(results[2]["ok"], true, "{refused:?}");
            assert!(results[0].get("allocation_log_id").is_none(), "nothing was logged");

            assert_eq!(pool_of(&app, &first).await, "0");
            assert_eq!(pool_of(&app, &last).await, "0");
            assert_eq!(allocation_logs_total(&app).await, 0);
            assert_eq!(billing_logs_total(&app).await, 0);

            // The dry run tells the same story, as a report rather than a refusal.
            let dry = bulk(&app, request(true)).await;
            dry.assert_status(200);
            assert_eq!(dry.body["success"], false);
            assert_eq!(dry.body["refused"], 1);
            assert_eq!(without_log_ids(&dry), without_log_ids(&refused));
            app.assert_ledger_consistent().await;
        }
    }

    async fn a_replayed_idempotency_key_allocates_once(app: TestApp) {
        let north = app.create_tenant("north").await;
        let south = app.create_tenant("south").await;
        let body = json!({"allocations": [
            {"tenant_id": north, "amount": 300},
            {"tenant_id": south, "amount": 400},
        ]});
        let first = bulk_with_key(&app, "bulk-1", &body).await;
        first.assert_status(200);
        let again = bulk_with_key(&app, "bulk-1", &body).await;
        again.assert_status(200);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(|v| v.as_bytes()),
            Some(&b"true"[..]),
            "{again:?}"
        );
        assert_eq!(again.body, first.body);
        assert_eq!(pool_of(&app, &north).await, "300");
        assert_eq!(pool_of(&app, &south).await, "400");
        assert_eq!(allocation_logs_total(&app).await, 2);

        // A refused request keeps nothing, its key's claim included: corrected, it runs.
        let refused = bulk_with_key(
            &app,
            "bulk-2",
            &json!({"allocations": [{"tenant_id": "nobody", "amount": 1}]}),
        )
        .await;
        refused.assert_error(400, "bulk_allocation_refused");
        let corrected = bulk_with_key(
            &app,
            "bulk-2",
            &json!({"allocations": [{"tenant_id": north, "amount": 1}]}),
        )
        .await;
        corrected.assert_status(200);
        assert!(corrected.headers.get("idempotent-replayed").is_none());
        assert_eq!(pool_of(&app, &north).await, "301");
        app.assert_ledger_consistent().await;
    }

    async fn a_bulk_request_naming_a_tenant_twice_or_too_many_tenants_is_refused_whole(app: TestApp) {
        let tenant = app.create_tenant("twice").await;
        let twice = bulk(&app, json!({"allocations": [
            {"tenant_id": tenant, "amount": 1},
            {"tenant_id": tenant, "amount": 2},
        ]}))
        .await;
        twice.assert_error(400, "duplicate_tenant");
        assert!(twice.str("detail").contains(&tenant), "{twice:?}");

        let empty = bulk(&app, json!({"allocations": []})).await;
        empty.assert_error(400, "invalid_field");

        // Larger than the app-wide body limit, yet read: the bulk route has a limit of its own.
        let note = "n".repeat(200);
        let many: Vec<Value> = (0..501)
            .map(|i| {
                json!({"tenant_id": format!("tenant-{i}"), "amount": 1, "reference_note": note})
            })
            .collect();
        let too_many = bulk(&app, json!({"allocations": many})).await;
        too_many.assert_error(400, "too_many_allocations");
        assert!(too_many.str("detail").contains("500"), "{too_many:?}");

        assert_eq!(pool_of(&app, &tenant).await, "0");
        assert_eq!(allocation_logs_total(&app).await, 0);
        app.assert_ledger_consistent().await;
    }

    async fn a_reversal_larger_than_the_reversible_amount_is_refused_and_moves_nothing(app: TestApp) {
        let tenant = app.create_tenant("over").await;
        let log_id = allocation(&app, &tenant, json!(100)).await;
        let refused = reverse(&app, &log_id, json!({"amount": 150, "reason": "typo"})).await;
        refused.assert_error(400, "reversal_exceeds_reversible");
        assert!(
            refused.str("detail").contains("reversible amount of this allocation is 100"),
            "{refused:?}"
        );
        assert_eq!(pool_of(&app, &tenant).await, "100");
        assert_eq!(billing_logs_total(&app).await, 1);
        assert_reversal_state(&app, &log_id, "0", "100", "active").await;

        let no_reason = reverse(&app, &log_id, json!({"amount": 10})).await;
        no_reason.assert_error(400, "invalid_field");
        assert!(no_reason.str("detail").contains("reason"), "{no_reason:?}");
        reverse(&app, "no-such-log", json!({"reason": "typo"}))
            .await
            .assert_error(404, "allocation_log_not_found");
        assert_eq!(pool_of(&app, &tenant).await, "100");
        app.assert_ledger_consistent().await;
    }

    async fn a_partial_then_a_full_reversal_update_the_status_and_amounts(app: TestApp) {
        let tenant = app.create_tenant("partial").await;
        let log_id = allocation(&app, &tenant, json!(100)).await;
        assert_reversal_state(&app, &log_id, "0", "100", "active").await;

        let partial =
            reverse(&app, &log_id, json!({"amount": "30.5", "reason": "over-billed"})).await;
        partial.assert_status(200);
        assert_eq!(partial.str("amount_reversed"), "30.5");
        assert_eq!(partial.str("new_allocation_balance"), "69.5");
        assert_eq!(partial.body["allocation"]["status"], "partially_reversed");
        assert_eq!(partial.body["allocation"]["reversed_amount"], "30.5");
        assert_eq!(partial.body["allocation"]["reversible_amount"], "69.5");
        assert_reversal_state(&app, &log_id, "30.5", "69.5", "partially_reversed").await;
        app.assert_ledger_consistent().await;

        // No amount: everything still reversible.
        let rest = reverse(&app, &log_id, json!({"reason": "contract ended"})).await;
        rest.assert_status(200);
        assert_eq!(rest.str("amount_reversed"), "69.5");
        assert_eq!(rest.str("new_allocation_balance"), "0");
        assert_reversal_state(&app, &log_id, "100", "0", "reversed").await;
        assert_eq!(pool_of(&app, &tenant).await, "0");
        reverse(&app, &log_id, json!({"reason": "again"}))
            .await
            .assert_error(400, "nothing_to_reverse");

        // The listing shows the same state, and the allocation itself was never edited.
        let listing = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        let item = &listing.body["items"][0];
        assert_eq!(item["id"].as_str(), Some(log_id.as_str()));
        assert_eq!(item["amount"], "100");
        assert_eq!(item["new_balance"], "100");
        assert_eq!(item["reversed_amount"], "100");
        assert_eq!(item["reversible_amount"], "0");
        assert_eq!(item["status"], "reversed");

        let billing = app
            .get("/api/v1/points/billing-logs?type=ALLOCATION_REVERSAL", &app.admin_token)
            .await;
        assert_eq!(billing.body["total"], 2, "{billing:?}");
        assert_eq!(billing.body["items"][0]["amount"], "69.5");
        assert_eq!(billing.body["items"][0]["reference_note"], "contract ended");
        assert_eq!(billing.body["items"][0]["id"], rest.body["billing_log_id"]);
        let journal = app
            .get("/api/v1/points/journal?type=allocation_reversal", &app.admin_token)
            .await;
        assert_eq!(journal.body["total"], 2, "{journal:?}");
        let entry = &journal.body["items"][0];
        assert_eq!(entry["id"], rest.body["journal_entry_id"]);
        assert_eq!(entry["debit_account"], format!("pool:{tenant}"));
        assert_eq!(entry["credit_account"], "issuance");
        assert_eq!(entry["reference_id"].as_str(), Some(log_id.as_str()));
        assert_eq!(entry["reason"], "contract ended");
        app.assert_ledger_consistent().await;
    }

    async fn a_reversal_is_limited_by_what_is_still_in_the_pool(app: TestApp) {
        let company = app.company("spent", json!(0)).await;
        let log_id = allocation(&app, &company.tenant_id, json!(100)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        app.post(
            "/api/recognitions",
            manager,
            json!({"to_user_id": alice_id, "points": 80, "message": "Shipped it"}),
        )
        .await
        .assert_status(200);
        assert_reversal_state(&app, &log_id, "0", "20", "active").await;

        let refused = reverse(&app, &log_id, json!({"amount": 30, "reason": "too much"})).await;
        refused.assert_error(400, "reversal_exceeds_reversible");
        assert!(
            refused.str("detail").contains("reversible amount of this allocation is 20"),
            "{refused:?}"
        );
        assert_eq!(app.pool_balance(manager).await, "20");

        let reply = reverse(&app, &log_id, json!({"reason": "unspent remainder"})).await;
        reply.assert_status(200);
        assert_eq!(reply.str("amount_reversed"), "20");
        assert_reversal_state(&app, &log_id, "20", "0", "partially_reversed").await;
        assert_eq!(app.pool_balance(manager).await, "0");
        assert_eq!(app.wallet_balance(alice).await, "80", "spent points stay spent");
        app.assert_ledger_consistent().await;
    }

    async fn concurrent_reversals_of_one_allocation_never_take_back_more_than_it_gave(app: TestApp) {
        let tenant = app.create_tenant("race").await;
        // A second allocation keeps the pool above the first one's remainder, so only the
        // allocation's own limit can stop the reversals.
        let log_id = allocation(&app, &tenant, json!(100)).await;
        allocation(&app, &tenant, json!(1000)).await;
        let replies = join_all((0..8).map(|i| {
            reverse(&app, &log_id, json!({"amount": 30, "reason": format!("race {i}")}))
        }))
        .await;
        let accepted = replies.iter().filter(|r| r.status.as_u16() == 200).count();
        for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
            reply.assert_error(400, "reversal_exceeds_reversible");
        }
        assert_eq!(accepted, 3, "{replies:#?}");
        assert_reversal_state(&app, &log_id, "90", "10", "partially_reversed").await;
        assert_eq!(pool_of(&app, &tenant).await, "1010");

        // Several "everything reversible" at once: exactly one takes the remainder.
        let replies =
            join_all((0..6).map(|_| reverse(&app, &log_id, json!({"reason": "rest"})))).await;
        let accepted: Vec<&Reply> = replies.iter().filter(|r| r.status.as_u16() == 200).collect();
        assert_eq!(accepted.len(), 1, "{replies:#?}");
        assert_eq!(accepted[0].str("amount_reversed"), "10");
        for reply in replies.iter().filter(|r| r.status.as_u16() != 200) {
            reply.assert_error(400, "nothing_to_reverse");
        }
        assert_reversal_state(&app, &log_id, "100", "0", "reversed").await;
        assert_eq!(pool_of(&app, &tenant).await, "1000");
        app.assert_ledger_consistent().await;
    }

    async fn only_a_platform_admin_may_bulk_allocate_or_reverse(app: TestApp) {
        let company = app.company("roles", json!(0)).await;
        let log_id = allocation(&app, &company.tenant_id, json!(100)).await;
        let bulk_body = json!({"allocations": [{"tenant_id": company.tenant_id, "amount": 5}]});
        let mut dry_body = bulk_body.clone();
        dry_body["dry_run"] = json!(true);
        let reverse_path = format!("/api/v1/points/allocation-logs/{log_id}/reverse");
        for (_, token) in [&company.manager, &company.lead, &company.alice] {
            app.post(BULK, token, bulk_body.clone()).await.assert_error(403, "forbidden");
            app.post(BULK, token, dry_body.clone()).await.assert_error(403, "forbidden");
            app.post(&reverse_path, token, json!({"amount": 1, "reason": "mine now"}))
                .await
                .assert_error(403, "forbidden");
        }
        app.request(Method::POST, BULK, None, Some(&bulk_body), &[])
            .await
            .assert_error(401, "unauthenticated");

        // Tenant users may read their own tenant's allocation, and no one else's.
        let (_, manager) = &company.manager;
        let own = app
            .get(&format!("/api/v1/points/allocation-logs/{log_id}"), manager)
            .await;
        own.assert_status(200);
        assert_eq!(own.str("status"), "active");
        let other = app.create_tenant("elsewhere").await;
        let foreign_id = allocation(&app, &other, json!(7)).await;
        app.get(&format!("/api/v1/points/allocation-logs/{foreign_id}"), manager)
            .await
            .assert_error(404, "allocation_log_not_found");

        assert_eq!(app.pool_balance(manager).await, "100");
        assert_reversal_state(&app, &log_id, "0", "100", "active").await;
        app.assert_ledger_consistent().await;
    }
}
