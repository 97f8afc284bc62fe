//! Idempotency keys over HTTP: a retried point movement moves points once, whatever the timing.

mod common;

use serde_json::json;

use common::{Reply, TestApp};
use futures::future::join_all;
use reqwest::Method;
use serde_json::Value;

/// POSTs `body` to `path` as `token` with an `Idempotency-Key`.
async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    app.request(
        Method::POST,
        path,
        Some(token),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true")
}

/// Asserts that `second` is a replay of `first`: same status, same body, marked as replayed.
fn assert_replay_of(second: &Reply, first: &Reply) {
    assert!(!replayed(first), "a first use is not a replay: {first:?}");
    assert!(
        replayed(second),
        "no idempotent-replayed header: {second:?}"
    );
    assert_eq!(second.status, first.status);
    assert_eq!(second.body, first.body);
}

/// Sends the same keyed request `times` times at once; asserts all are 200 with one and the
/// same `field`, and that exactly one was not a replay. Returns that one.
async fn fire_concurrently(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
    field: &str,
) -> Reply {
    let mut replies = join_all((0..20).map(|_| post_with_key(app, path, token, key, body))).await;
    for reply in &replies {
        reply.assert_status(200);
        assert_eq!(reply.body[field], replies[0].body[field], "{replies:#?}");
        assert!(reply.body[field].is_string());
    }
    let fresh: Vec<usize> = (0..replies.len())
        .filter(|&i| !replayed(&replies[i]))
        .collect();
    assert_eq!(fresh.len(), 1, "exactly one request ran: {replies:#?}");
    let first = replies.swap_remove(fresh[0]);
    for reply in &replies {
        assert_eq!(reply.body, first.body);
    }
    first
}

/// A second platform admin, made the way the harness makes the first.
async fn second_admin(app: &TestApp) -> String {
    let email = "second-root@platform.test";
    let hash = app
        .store
        .hash_password(common::PASSWORD)
        .await
        .expect("hash");
    let mut tx = app.store.begin().await.expect("begin");
    tx.create_platform_admin(email, &hash).await.expect("admin");
    tx.commit().await.expect("commit");
    app.login(email).await
}

const ALLOCATE: &str = "/api/v1/points/allocate-to-tenant";
const AWARD: &str = "/api/v1/points/award-to-user";
const RECOGNISE: &str = "/api/recognitions";
const DELEGATE: &str = "/api/v1/points/delegate-to-lead";

backend_tests! {
    async fn an_allocation_sent_twice_with_one_key_is_applied_once(app: TestApp) {
        let company = app.company("alloc-twice", json!(0)).await;
        let (_, manager) = &company.manager;
        let body = json!({"tenant_id": company.tenant_id, "amount": 1000});
        let first = post_with_key(&app, ALLOCATE, &app.admin_token, "alloc-1", &body).await;
        first.assert_status(200);
        let second = post_with_key(&app, ALLOCATE, &app.admin_token, "alloc-1", &body).await;
        assert_replay_of(&second, &first);
        assert_eq!(app.pool_balance(manager).await, "1000");
        let logs = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        assert_eq!(logs.body["total"], 1);
        app.assert_ledger_consistent().await;
    }

    async fn a_recognition_sent_twice_with_one_key_pays_once(app: TestApp) {
        let company = app.company("recog-twice", json!(500)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let body = json!({"to_user_id": alice_id, "points": 100, "message": "Great work"});
        let first = post_with_key(&app, RECOGNISE, manager, "recog-1", &body).await;
        first.assert_status(200);
        let second = post_with_key(&app, RECOGNISE, manager, "recog-1", &body).await;
        assert_replay_of(&second, &first);
        assert_eq!(app.pool_balance(manager).await, "400");
        assert_eq!(app.wallet_balance(alice).await, "100");
        let listed = app.get("/api/recognitions", manager).await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
        app.assert_ledger_consistent().await;
    }

    async fn an_award_sent_twice_with_one_key_pays_once(app: TestApp) {
        let company = app.company("award-twice", json!(500)).await;
        let (_, manager) = &company.manager;
        let (bob_id, bob) = &company.bob;
        let body = json!({"to_user_id": bob_id, "amount": 75, "recognition_message": "Bonus"});
        let first = post_with_key(&app, AWARD, manager, "award-1", &body).await;
        first.assert_status(200);
        let second = post_with_key(&app, AWARD, manager, "award-1", &body).await;
        assert_replay_of(&second, &first);
        assert_eq!(app.pool_balance(manager).await, "425");
        assert_eq!(app.wallet_balance(bob).await, "75");
        let ledger = app.get("/api/wallets/me/ledger", bob).await;
        assert_eq!(ledger.body["total"], 1);
        app.assert_ledger_consistent().await;
    }

    async fn twenty_concurrent_allocations_with_one_key_move_points_once(app: TestApp) {
        let company = app.company("alloc-storm", json!(0)).await;
        let (_, manager) = &company.manager;
        let body = json!({"tenant_id": company.tenant_id, "amount": 250});
        let first =
            fire_concurrently(&app, ALLOCATE, &app.admin_token, "storm", &body, "journal_entry_id")
                .await;
        assert_eq!(first.str("new_allocation_balance"), "250");
        assert_eq!(app.pool_balance(manager).await, "250");
        let logs = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        assert_eq!(logs.body["total"], 1);
        app.assert_ledger_consistent().await;
    }

    async fn twenty_concurrent_recognitions_with_one_key_pay_once(app: TestApp) {
        let company = app.company("recog-storm", json!(500)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let body = json!({"to_user_id": alice_id, "points": 40, "message": "Thanks"});
        fire_concurrently(&app, RECOGNISE, manager, "storm", &body, "id").await;
        assert_eq!(app.pool_balance(manager).await, "460");
        assert_eq!(app.wallet_balance(alice).await, "40");
        app.assert_ledger_consistent().await;
    }

    async fn twenty_concurrent_lead_awards_with_one_key_pay_once(app: TestApp) {
        let company = app.company("award-storm", json!(500)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (bob_id, bob) = &company.bob;
        app.post(DELEGATE, manager, json!({"lead_id": lead_id, "amount": 100}))
            .await
            .assert_status(200);
        let body = json!({"to_user_id": bob_id, "amount": 30, "recognition_message": "Bonus"});
        let first = fire_concurrently(&app, AWARD, lead, "storm", &body, "journal_entry_id").await;
        assert_eq!(first.str("source_balance_after"), "70");
        let me = app.get("/api/auth/me", lead).await;
        assert_eq!(me.str("lead_distribution_balance"), "70");
        assert_eq!(app.wallet_balance(bob).await, "30");
        assert_eq!(app.pool_balance(manager).await, "400");
        app.assert_ledger_consistent().await;
    }

    async fn a_key_reused_with_a_different_body_is_a_conflict_and_moves_nothing(app: TestApp) {
        let company = app.company("reuse", json!(0)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;

        let allocation = json!({"tenant_id": company.tenant_id, "amount": 1000});
        post_with_key(&app, ALLOCATE, &app.admin_token, "k", &allocation)
            .await
            .assert_status(200);
        let bigger = json!({"tenant_id": company.tenant_id, "amount": 2000});
        post_with_key(&app, ALLOCATE, &app.admin_token, "k", &bigger)
            .await
            .assert_error(409, "idempotency_key_reused");
        assert_eq!(app.pool_balance(manager).await, "1000");

        let recognition = json!({"to_user_id": alice_id, "points": 10, "message": "Thanks"});
        post_with_key(&app, RECOGNISE, manager, "r", &recognition)
            .await
            .assert_status(200);
        let more = json!({"to_user_id": alice_id, "points": 20, "message": "Thanks"});
        post_with_key(&app, RECOGNISE, manager, "r", &more)
            .await
            .assert_error(409, "idempotency_key_reused");

        let award = json!({"to_user_id": alice_id, "amount": 5, "recognition_message": "Hi"});
        post_with_key(&app, AWARD, manager, "a", &award)
            .await
            .assert_status(200);
        let other = json!({"to_user_id": alice_id, "amount": 5, "recognition_message": "Yo"});
        post_with_key(&app, AWARD, manager, "a", &other)
            .await
            .assert_error(409, "idempotency_key_reused");
        // A key is bound to its endpoint as well as its body.
        post_with_key(&app, AWARD, manager, "r", &award)
            .await
            .assert_error(409, "idempotency_key_reused");

        assert_eq!(app.pool_balance(manager).await, "985");
        assert_eq!(app.wallet_balance(alice).await, "15");
        app.assert_ledger_consistent().await;
    }

    async fn a_failed_recognition_retried_with_its_key_after_a_top_up_succeeds(app: TestApp) {
        let company = app.company("retry-recog", json!(50)).await;
        let (_, manager) = &company.manager;
        let (bob_id, bob) = &company.bob;
        let body = json!({"to_user_id": bob_id, "points": 100, "message": "Thanks"});
        let refused = post_with_key(&app, RECOGNISE, manager, "retry", &body).await;
        refused.assert_error(400, "insufficient_allocation_pool");
        // The refusal was not stored: the same request is judged afresh, still short.
        post_with_key(&app, RECOGNISE, manager, "retry", &body)
            .await
            .assert_error(400, "insufficient_allocation_pool");
        app.allocate(&company.tenant_id, json!(100)).await.assert_status(200);
        let accepted = post_with_key(&app, RECOGNISE, manager, "retry", &body).await;
        accepted.assert_status(200);
        assert!(!replayed(&accepted));
        let again = post_with_key(&app, RECOGNISE, manager, "retry", &body).await;
        assert_replay_of(&again, &accepted);
        assert_eq!(app.pool_balance(manager).await, "50");
        assert_eq!(app.wallet_balance(bob).await, "100");
        app.assert_ledger_consistent().await;
    }

    async fn a_failed_award_retried_with_its_key_after_a_delegation_succeeds(app: TestApp) {
        let company = app.company("retry-award", json!(500)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        let body = json!({"to_user_id": alice_id, "amount": 60, "recognition_message": "Bonus"});
        post_with_key(&app, AWARD, lead, "retry", &body)
            .await
            .assert_error(400, "insufficient_lead_balance");
        app.post(DELEGATE, manager, json!({"lead_id": lead_id, "amount": 100}))
            .await
            .assert_status(200);
        let accepted = post_with_key(&app, AWARD, lead, "retry", &body).await;
        accepted.assert_status(200);
        assert!(!replayed(&accepted));
        assert_eq!(accepted.str("source_balance_after"), "40");
        assert_eq!(app.wallet_balance(alice).await, "60");
        app.assert_ledger_consistent().await;
    }

    async fn a_failed_delegation_retried_with_its_key_after_an_allocation_succeeds(app: TestApp) {
        let company = app.company("retry-deleg", json!(10)).await;
        let (_, manager) = &company.manager;
        let (lead_id, _) = &company.lead;
        let body = json!({"lead_id": lead_id, "amount": 200});
        post_with_key(&app, DELEGATE, manager, "retry", &body)
            .await
            .assert_error(400, "insufficient_allocation_pool");
        app.allocate(&company.tenant_id, json!(190)).await.assert_status(200);
        let accepted = post_with_key(&app, DELEGATE, manager, "retry", &body).await;
        accepted.assert_status(200);
        assert_eq!(accepted.str("new_allocation_balance"), "0");
        assert_eq!(accepted.str("lead_distribution_balance"), "200");
        app.assert_ledger_consistent().await;
    }

    async fn two_admins_using_the_same_key_each_allocate(app: TestApp) {
        let company = app.company("two-admins", json!(0)).await;
        let (_, manager) = &company.manager;
        let other_admin = second_admin(&app).await;
        let body = json!({"tenant_id": company.tenant_id, "amount": 300});
        let first = post_with_key(&app, ALLOCATE, &app.admin_token, "shared", &body).await;
        let second = post_with_key(&app, ALLOCATE, &other_admin, "shared", &body).await;
        first.assert_status(200);
        second.assert_status(200);
        assert!(!replayed(&second));
        assert_ne!(first.body["journal_entry_id"], second.body["journal_entry_id"]);
        assert_eq!(app.pool_balance(manager).await, "600");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_and_a_lead_using_the_same_key_each_move_points(app: TestApp) {
        let company = app.company("two-givers", json!(500)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        app.post(DELEGATE, manager, json!({"lead_id": lead_id, "amount": 100}))
            .await
            .assert_status(200);

        let recognition = json!({"to_user_id": alice_id, "points": 10, "message": "Thanks"});
        let by_manager = post_with_key(&app, RECOGNISE, manager, "same", &recognition).await;
        let by_lead = post_with_key(&app, RECOGNISE, lead, "same", &recognition).await;
        by_manager.assert_status(200);
        by_lead.assert_status(200);
        assert!(!replayed(&by_lead));
        assert_ne!(by_manager.body["id"], by_lead.body["id"]);
        assert_eq!(by_lead.str("funding_source"), "lead_balance");

        let award = json!({"to_user_id": alice_id, "amount": 20, "recognition_message": "Bonus"});
        let by_manager = post_with_key(&app, AWARD, manager, "award", &award).await;
        let by_lead = post_with_key(&app, AWARD, lead, "award", &award).await;
        by_manager.assert_status(200);
        by_lead.assert_status(200);
        assert!(!replayed(&by_lead));

        assert_eq!(app.wallet_balance(alice).await, "60");
        assert_eq!(app.pool_balance(manager).await, "370");
        let me = app.get("/api/auth/me", lead).await;
        assert_eq!(me.str("lead_distribution_balance"), "70");
        app.assert_ledger_consistent().await;
    }

    async fn an_overlong_key_is_refused_and_moves_nothing(app: TestApp) {
        let company = app.company("long-key", json!(100)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let key = "k".repeat(256);
        let body = json!({"to_user_id": alice_id, "points": 10, "message": "Thanks"});
        post_with_key(&app, RECOGNISE, manager, &key, &body)
            .await
            .assert_error(400, "invalid_idempotency_key");
        assert_eq!(app.pool_balance(manager).await, "100");
        assert_eq!(app.wallet_balance(alice).await, "0");
        let longest = "k".repeat(255);
        post_with_key(&app, RECOGNISE, manager, &longest, &body)
            .await
            .assert_status(200);
        app.assert_ledger_consistent().await;
    }
}
