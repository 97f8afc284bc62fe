//! Expiry policies, black-box: old pool and wallet points expire first in, first out, owners
//! are warned once, concurrent and dry runs, the tenant policy over the API, and
//! `perksu expire` on the command line. Time is the test's injected clock.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestApp;
use perksu_store::ExpiryReport;
use serde_json::{json, Value};

/// The first day of every scenario.
fn day_zero() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid date")
}

/// `days` after day zero.
fn day(days: i64) -> DateTime<Utc> {
    day_zero() + Duration::days(days)
}

/// Fresh logins, for after the clock moved: sessions last 12 hours of the test's clock.
struct Tokens {
    manager: String,
    alice: String,
    bob: String,
}

/// Moves the clock to `when` and logs the company's people in again.
async fn step(app: &TestApp, slug: &str, when: DateTime<Utc>) -> Tokens {
    app.clock.set(when);
    Tokens {
        manager: app.login(&format!("manager@{slug}.test")).await,
        alice: app.login(&format!("alice@{slug}.test")).await,
        bob: app.login(&format!("bob@{slug}.test")).await,
    }
}

async fn run(app: &TestApp) -> ExpiryReport {
    let report = app.store.run_expiry(false).await.expect("expiry runs");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    report
}

async fn set_policy(app: &TestApp, token: &str, tenant_id: &str, policy: Value) {
    app.patch(&format!("/api/tenants/{tenant_id}"), token, policy)
        .await
        .assert_status(200);
}

async fn award(app: &TestApp, manager: &str, to_user_id: &str, amount: i64) {
    app.post(
        "/api/v1/points/award-to-user",
        manager,
        json!({"to_user_id": to_user_id, "amount": amount, "recognition_message": "Thanks"}),
    )
    .await
    .assert_status(200);
}

/// The caller's `points_expiring` notifications.
async fn expiry_warnings(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/api/notifications", token).await;
    reply.assert_status(200);
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["kind"] == "points_expiring")
        .cloned()
        .collect()
}

/// (account, amount) pairs of a report, sorted, for comparing two reports.
fn amounts(report: &ExpiryReport) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = report
        .pools
        .iter()
        .map(|p| (format!("pool:{}", p.tenant_id), p.amount.to_string()))
        .chain(
            report
                .wallets
                .iter()
                .map(|w| (format!("wallet:{}", w.user_id), w.amount.to_string())),
        )
        .chain(
            report
                .warnings
                .iter()
                .map(|w| (format!("warning:{}", w.user_id), w.amount.to_string())),
        )
        .collect();
    pairs.sort();
    pairs
}

backend_tests! {
    async fn pool_points_older_than_the_period_expire_while_recent_ones_stay(app: TestApp) {
        app.clock.set(day_zero());
        let company = app.company("poolexp", json!(1000)).await;
        set_policy(&app, &company.manager.1, &company.tenant_id, json!({"pool_expiry_days": 30}))
            .await;

        app.clock.set(day(20));
        let recent = app.allocate(&company.tenant_id, json!(500)).await;
        recent.assert_status(200);
        let now = step(&app, "poolexp", day(21)).await;
        app.post(
            &format!("/api/v1/points/allocation-logs/{}/reverse", recent.str("allocation_log_id")),
            &app.admin_token,
            json!({"amount": 100, "reason": "Allocated too much"}),
        )
        .await
        .assert_status(200);
        // Spending takes the oldest points first: 400 of the 1000 from day zero.
        award(&app, &now.manager, &company.alice.0, 400).await;
        assert_eq!(app.pool_balance(&now.manager).await, "1000");

        app.clock.set(day(29));
        assert!(run(&app).await.pools.is_empty(), "nothing is 30 days old yet");

        let now = step(&app, "poolexp", day(31)).await;
        let report = run(&app).await;
        assert_eq!(report.pools.len(), 1, "{report:?}");
        assert_eq!(report.pools[0].tenant_id, company.tenant_id);
        // What is left of day zero's 1000; the 400 left of day 20's allocation stays.
        assert_eq!(report.pools[0].amount.to_string(), "600");
        assert_eq!(app.pool_balance(&now.manager).await, "400");
        let ledger = app.store.verify().await.expect("verify");
        assert_eq!(ledger.issued_net.to_string(), "800");
        app.assert_ledger_consistent().await;

        assert!(run(&app).await.pools.is_empty(), "a second run finds nothing left");

        let now = step(&app, "poolexp", day(50)).await;
        let report = run(&app).await;
        assert_eq!(report.pools.len(), 1, "{report:?}");
        assert_eq!(report.pools[0].amount.to_string(), "400");
        assert_eq!(app.pool_balance(&now.manager).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn wallet_points_expire_oldest_first(app: TestApp) {
        app.clock.set(day_zero());
        let company = app.company("walletexp", json!(10000)).await;
        let alice_id = &company.alice.0;
        set_policy(
            &app,
            &company.manager.1,
            &company.tenant_id,
            json!({"wallet_expiry_days": 30, "wallet_expiry_warning_days": 0}),
        )
        .await;
        award(&app, &company.manager.1, alice_id, 100).await;

        let now = step(&app, "walletexp", day(10)).await;
        app.post(
            "/api/recognitions",
            &now.manager,
            json!({"to_user_id": alice_id, "points": 50, "message": "Great demo"}),
        )
        .await
        .assert_status(200);

        let now = step(&app, "walletexp", day(12)).await;
        let mug = app
            .post(
                "/api/rewards",
                &now.manager,
                json!({"kind": "merchandise", "name": "Mug", "face_value": 30, "stock": 5}),
            )
            .await;
        mug.assert_status(201);
        app.post("/api/redemptions", &now.alice, json!({"item_id": mug.body["id"]}))
            .await
            .assert_status(201);
        assert_eq!(app.wallet_balance(&now.alice).await, "120");

        let now = step(&app, "walletexp", day(31)).await;
        let report = run(&app).await;
        assert_eq!(report.wallets.len(), 1, "{report:?}");
        assert_eq!(report.wallets[0].user_id, *alice_id);
        // The 30 spent came out of day zero's 100; only its remaining 70 expires.
        assert_eq!(report.wallets[0].amount.to_string(), "70");
        assert_eq!(app.wallet_balance(&now.alice).await, "50");
        let ledger = app.store.verify().await.expect("verify");
        assert_eq!(ledger.expired_total.to_string(), "70");
        app.assert_ledger_consistent().await;

        app.clock.set(day(39));
        assert!(run(&app).await.wallets.is_empty(), "day 10's lot is not 30 days old");

        let now = step(&app, "walletexp", day(40)).await;
        let report = run(&app).await;
        assert_eq!(report.wallets.len(), 1, "{report:?}");
        assert_eq!(report.wallets[0].amount.to_string(), "50");
        assert_eq!(app.wallet_balance(&now.alice).await, "0");
        let ledger = app.store.verify().await.expect("verify");
        assert_eq!(ledger.expired_total.to_string(), "120");
        app.assert_ledger_consistent().await;
    }

    async fn the_warning_notification_arrives_once_within_the_window(app: TestApp) {
        app.clock.set(day_zero());
        let company = app.company("warn", json!(1000)).await;
        let alice_id = &company.alice.0;
        // The warning window is the default 7 days.
        set_policy(&app, &company.manager.1, &company.tenant_id, json!({"wallet_expiry_days": 30}))
            .await;
        award(&app, &company.manager.1, alice_id, 100).await;

        let now = step(&app, "warn", day(22)).await;
        assert!(run(&app).await.warnings.is_empty(), "8 days ahead is outside the window");
        assert!(expiry_warnings(&app, &now.alice).await.is_empty());

        let now = step(&app, "warn", day(24)).await;
        let report = run(&app).await;
        assert_eq!(report.warnings.len(), 1, "{report:?}");
        assert_eq!(report.warnings[0].user_id, *alice_id);
        assert_eq!(report.warnings[0].amount.to_string(), "100");
        assert_eq!(report.warnings[0].first_expires_on, "2026-02-04");
        assert!(report.wallets.is_empty(), "nothing has expired yet");
        let notices = expiry_warnings(&app, &now.alice).await;
        assert_eq!(notices.len(), 1, "{notices:?}");
        let body = notices[0]["body"].as_str().expect("body");
        assert!(body.contains("100") && body.contains("2026-02-04"), "{body}");
        assert!(expiry_warnings(&app, &now.bob).await.is_empty(), "bob holds no points");

        app.clock.set(day(24) + Duration::hours(1));
        assert!(run(&app).await.warnings.is_empty(), "warned once per expiry day");
        let now = step(&app, "warn", day(29)).await;
        assert!(run(&app).await.warnings.is_empty());
        assert_eq!(expiry_warnings(&app, &now.alice).await.len(), 1);

        let now = step(&app, "warn", day(30)).await;
        let report = run(&app).await;
        assert_eq!(report.wallets.len(), 1, "{report:?}");
        assert_eq!(report.wallets[0].amount.to_string(), "100");
        assert!(report.warnings.is_empty());
        assert_eq!(expiry_warnings(&app, &now.alice).await.len(), 1);
        app.assert_ledger_consistent().await;
    }

    async fn two_runs_at_once_expire_each_amount_once(app: TestApp) {
        app.clock.set(day_zero());
        let company = app.company("twice", json!(1000)).await;
        let (alice_id, bob_id) = (&company.alice.0, &company.bob.0);
        set_policy(
            &app,
            &company.manager.1,
            &company.tenant_id,
            json!({"pool_expiry_days": 30, "wallet_expiry_days": 30}),
        )
        .await;
        award(&app, &company.manager.1, alice_id, 200).await;
        let now = step(&app, "twice", day(5)).await;
        award(&app, &now.manager, bob_id, 100).await;

        // Day 31: the pool's 700 and alice's 200 are past the period; bob's 100 expires on
        // day 35, inside the 7-day warning window.
        let now = step(&app, "twice", day(31)).await;
        let (first, second) = tokio::join!(
            app.store.run_expiry(false),
            app.store.run_expiry(false)
        );
        let (first, second) = (first.expect("first run"), second.expect("second run"));
        assert!(first.failures.is_empty() && second.failures.is_empty());
        let mut all = amounts(&first);
        all.extend(amounts(&second));
        all.sort();
        assert_eq!(
            all,
            vec![
                (format!("pool:{}", company.tenant_id), "700".to_owned()),
                (format!("wallet:{alice_id}"), "200".to_owned()),
                (format!("warning:{bob_id}"), "100".to_owned()),
            ]
        );
        assert_eq!(app.pool_balance(&now.manager).await, "0");
        assert_eq!(app.wallet_balance(&now.alice).await, "0");
        assert_eq!(app.wallet_balance(&now.bob).await, "100");
        assert_eq!(expiry_warnings(&app, &now.bob).await.len(), 1);
        let ledger = app.store.verify().await.expect("verify");
        assert_eq!(ledger.issued_net.to_string(), "300");
        assert_eq!(ledger.expired_total.to_string(), "200");
        app.assert_ledger_consistent().await;
    }

    async fn a_dry_run_changes_nothing_and_reports_what_a_real_run_then_expires(app: TestApp) {
        app.clock.set(day_zero());
        let company = app.company("dryrun", json!(1000)).await;
        let (alice_id, bob_id) = (&company.alice.0, &company.bob.0);
        set_policy(
            &app,
            &company.manager.1,
            &company.tenant_id,
            json!({"pool_expiry_days": 30, "wallet_expiry_days": 30, "wallet_expiry_warning_days": 10}),
        )
        .await;
        award(&app, &company.manager.1, alice_id, 250).await;
        let now = step(&app, "dryrun", day(8)).await;
        award(&app, &now.manager, bob_id, 75).await;

        let now = step(&app, "dryrun", day(32)).await;
        let before = app.store.verify().await.expect("verify");
        let dry = app.store.run_expiry(true).await.expect("dry run");
        assert!(dry.dry_run);
        assert!(dry.failures.is_empty(), "{:?}", dry.failures);
        assert_eq!(
            amounts(&dry),
            vec![
                (format!("pool:{}", company.tenant_id), "675".to_owned()),
                (format!("wallet:{alice_id}"), "250".to_owned()),
                (format!("warning:{bob_id}"), "75".to_owned()),
            ]
        );
        let after = app.store.verify().await.expect("verify");
        assert_eq!(after.journal_entries, before.journal_entries);
        assert_eq!(after.issued_net, before.issued_net);
        assert_eq!(app.pool_balance(&now.manager).await, "675");
        assert_eq!(app.wallet_balance(&now.alice).await, "250");
        assert!(expiry_warnings(&app, &now.bob).await.is_empty(), "a dry run sends nothing");

        let real = run(&app).await;
        assert!(!real.dry_run);
        assert_eq!(amounts(&real), amounts(&dry));
        assert_eq!(app.pool_balance(&now.manager).await, "0");
        assert_eq!(app.wallet_balance(&now.alice).await, "0");
        assert_eq!(expiry_warnings(&app, &now.bob).await.len(), 1);
        app.assert_ledger_consistent().await;
    }

    async fn a_tenant_manager_sets_the_expiry_policy_and_reads_it_back(app: TestApp) {
        let company = app.company("policy", json!(0)).await;
        let manager = &company.manager.1;
        let path = format!("/api/tenants/{}", company.tenant_id);
        let fresh = app.get(&path, manager).await;
        fresh.assert_status(200);
        assert_eq!(fresh.body["pool_expiry_days"], Value::Null);
        assert_eq!(fresh.body["wallet_expiry_days"], Value::Null);
        assert_eq!(fresh.body["wallet_expiry_warning_days"], 7);

        let set = app
            .patch(
                &path,
                manager,
                json!({"pool_expiry_days": 90, "wallet_expiry_days": 365, "wallet_expiry_warning_days": 14}),
            )
            .await;
        set.assert_status(200);
        assert_eq!(set.body["pool_expiry_days"], 90);
        let read = app.get(&path, manager).await;
        assert_eq!(read.body["pool_expiry_days"], 90);
        assert_eq!(read.body["wallet_expiry_days"], 365);
        assert_eq!(read.body["wallet_expiry_warning_days"], 14);

        // Null switches one policy off and leaves the others alone.
        let cleared = app.patch(&path, manager, json!({"pool_expiry_days": null})).await;
        cleared.assert_status(200);
        assert_eq!(cleared.body["pool_expiry_days"], Value::Null);
        assert_eq!(cleared.body["wallet_expiry_days"], 365);
        let admin = app
            .patch(&path, &app.admin_token, json!({"wallet_expiry_warning_days": 0}))
            .await;
        admin.assert_status(200);
        assert_eq!(admin.body["wallet_expiry_warning_days"], 0);
        assert_eq!(admin.body["wallet_expiry_days"], 365);

        app.patch(&path, manager, json!({"wallet_expiry_days": 0}))
            .await
            .assert_error(400, "invalid_field");
        app.patch(&path, manager, json!({"wallet_expiry_warning_days": 366}))
            .await
            .assert_error(400, "invalid_field");
        app.patch(&path, &company.alice.1, json!({"pool_expiry_days": 1}))
            .await
            .assert_status(403);
        let other = app.company("otherpolicy", json!(0)).await;
        app.patch(&path, &other.manager.1, json!({"pool_expiry_days": 1}))
            .await
            .assert_status(404);
        let unchanged = app.get(&path, manager).await;
        assert_eq!(unchanged.body["pool_expiry_days"], Value::Null);
        assert_eq!(unchanged.body["wallet_expiry_days"], 365);
        app.assert_ledger_consistent().await;
    }

    async fn perksu_expire_dry_run_prints_what_would_expire_and_changes_nothing(app: TestApp) {
        // The binary reads the real clock: the allocation is made 40 days before it.
        app.clock.set(Utc::now() - Duration::days(40));
        let company = app.company("cliexpiry", json!(1000)).await;
        let manager = &company.manager.1;
        set_policy(&app, manager, &company.tenant_id, json!({"pool_expiry_days": 30})).await;

        let dry = perksu_expire(&app, &["--dry-run"]).await;
        assert!(dry.contains("Dry run"), "{dry}");
        assert!(
            dry.contains(&format!("pool of Tenant cliexpiry ({}): 1000 would expire", company.tenant_id)),
            "{dry}"
        );
        assert_eq!(app.pool_balance(manager).await, "1000");

        let real = perksu_expire(&app, &[]).await;
        assert!(real.contains(": 1000 expired, 0 left"), "{real}");
        assert_eq!(app.pool_balance(manager).await, "0");
        let again = perksu_expire(&app, &[]).await;
        assert!(again.contains("Nothing has expired"), "{again}");
        app.assert_ledger_consistent().await;
    }
}

/// Runs `perksu expire ARGS` on the test's database; its standard output, after success.
async fn perksu_expire(app: &TestApp, args: &[&str]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_perksu"));
    command
        .arg("expire")
        .args(args)
        .args(["--database-url", &app.database_url])
        .env("RUST_LOG", "error");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command thread")
        .expect("perksu runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "perksu expire failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
