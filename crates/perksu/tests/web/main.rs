//! The web pages over HTTP: signing in, role gating, form tokens, and the pages that move
//! points, checked against the JSON API.

#[path = "../common/mod.rs"]
mod common;

mod admin_pages;
mod browser;
mod deliveries_page;
mod import_page;
mod manager_catalogue;
mod member_pages;
mod security_headers;
mod set_password;

use serde_json::json;

use browser::Browser;
use common::PASSWORD;

const ADMIN: &str = "root@platform.test";

backend_tests! {
    async fn signing_in_sets_an_http_only_session_cookie_and_sends_each_role_home(app: TestApp) {
        app.company("acme", json!(0)).await;
        for (email, home) in [
            (ADMIN, "/admin"),
            ("manager@acme.test", "/manager"),
            ("lead@acme.test", "/lead"),
            ("alice@acme.test", "/me"),
        ] {
            let mut browser = Browser::new(&app);
            let reply = browser.log_in(email, PASSWORD).await;
            reply.assert_redirect(home);
            let cookie = reply.set_cookie("perksu_session").expect("a session cookie");
            for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
                assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
            }
            browser.get("/").await.assert_redirect(home);
            browser.get("/login").await.assert_redirect(home);
        }
    }

    async fn a_wrong_password_is_shown_on_the_login_page_and_sets_no_session(app: TestApp) {
        let mut browser = Browser::new(&app);
        let reply = browser.log_in(ADMIN, "not the password").await;
        reply
            .assert_status(401)
            .assert_contains("Incorrect email or password")
            .assert_contains(ADMIN);
        assert!(reply.set_cookie("perksu_session").is_none());
        browser.get("/admin").await.assert_redirect("/login");
    }

    async fn past_ten_attempts_the_login_page_says_to_wait(app: TestApp) {
        app.company("acme", json!(0)).await;
        let mut browser = Browser::new(&app);
        // The harness signed the admin in once already: nine more make the account's ten.
        for _ in 0..9 {
            browser.log_in(ADMIN, "not the password").await.assert_status(401);
        }
        // The store's clock stands still in tests, so the account's wait never runs out.
        let reply = browser.log_in(ADMIN, PASSWORD).await;
        reply
            .assert_status(429)
            .assert_contains("Too many sign-in attempts; try again in 60 seconds")
            .assert_contains(ADMIN);
        assert_eq!(reply.headers["retry-after"], "60", "{reply:#?}");
        assert!(reply.set_cookie("perksu_session").is_none());
        browser.log_in(ADMIN, PASSWORD).await.assert_status(429);
        // Another account is not held up.
        Browser::signed_in(&app, "manager@acme.test").await;

        // One audit row for the episode, for platform admins only.
        let events = app.get("/api/security-events", &app.admin_token).await;
        events.assert_status(200);
        let events = events.body.as_array().cloned().unwrap_or_default();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["kind"], "login_throttled");
        assert_eq!(events[0]["scope"], "account");
        assert_eq!(events[0]["subject"], ADMIN);
        assert_eq!(events[0]["retry_after_seconds"], 60);
        let manager = app.login("manager@acme.test").await;
        app.get("/api/security-events", &manager)
            .await
            .assert_error(403, "forbidden");
    }

    async fn a_login_post_without_its_form_token_is_refused(app: TestApp) {
        let mut browser = Browser::new(&app);
        browser.get("/login").await.assert_status(200);
        let reply = browser
            .post("/login", &[("email", ADMIN), ("password", PASSWORD), ("login_token", "forged")])
            .await;
        reply.assert_status(403);
        assert!(reply.set_cookie("perksu_session").is_none());
    }

    async fn pages_ask_an_anonymous_visitor_to_sign_in(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let mut browser = Browser::new(&app);
        for path in [
            "/".to_owned(),
            "/admin".to_owned(),
            format!("/admin/tenants/{}", company.tenant_id),
            "/manager".to_owned(),
            "/manager/pool-card".to_owned(),
            "/manager/users".to_owned(),
        ] {
            browser.get(&path).await.assert_redirect("/login");
        }
        let allocate = format!("/admin/tenants/{}/allocate", company.tenant_id);
        browser
            .post(&allocate, &[("amount", "500"), ("csrf_token", "x")])
            .await
            .assert_redirect("/login");
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
    }

    async fn an_employee_or_a_lead_gets_no_admin_or_manager_page(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        for email in ["alice@acme.test", "lead@acme.test"] {
            let mut browser = Browser::signed_in(&app, email).await;
            for path in [
                "/admin".to_owned(),
                "/admin/tenants/new".to_owned(),
                format!("/admin/tenants/{}", company.tenant_id),
                format!("/admin/tenants/{}/allocations?format=csv", company.tenant_id),
                "/manager".to_owned(),
                "/manager/pool-card".to_owned(),
                "/manager/users".to_owned(),
                "/manager/history?format=csv".to_owned(),
                "/manager/settings".to_owned(),
            ] {
                let page = browser.get(&path).await;
                page.assert_status(403).assert_contains("Not allowed");
                assert!(!page.body.contains("1,000"), "{path} showed the pool: {}", page.body);
            }
            // Even with a valid form token of their own, a post is refused and moves nothing.
            let token = browser.get("/admin").await.csrf_token();
            browser
                .post(
                    &format!("/admin/tenants/{}/allocate", company.tenant_id),
                    &[("amount", "500"), ("csrf_token", &token)],
                )
                .await
                .assert_status(403);
        }
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
    }

    async fn a_manager_gets_no_admin_page(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let mut browser = Browser::signed_in(&app, "manager@acme.test").await;
        for path in [
            "/admin".to_owned(),
            format!("/admin/tenants/{}", company.tenant_id),
            format!("/admin/tenants/{}/billing", company.tenant_id),
        ] {
            browser.get(&path).await.assert_status(403);
        }
        browser.get("/manager").await.assert_status(200);
    }

    async fn an_allocation_post_without_a_valid_form_token_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let tenant_page = format!("/admin/tenants/{}", company.tenant_id);
        let allocate = format!("{tenant_page}/allocate");
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin.get(&tenant_page).await.assert_status(200);
        let mut manager = Browser::signed_in(&app, "manager@acme.test").await;
        let other_session_token = manager.get("/manager").await.csrf_token();
        for token in [None, Some("0".repeat(64)), Some(other_session_token)] {
            let mut fields = vec![("amount", "500"), ("note", "forged")];
            if let Some(token) = token.as_deref() {
                fields.push(("csrf_token", token));
            }
            admin
                .post(&allocate, &fields)
                .await
                .assert_status(403)
                .assert_contains("Nothing was changed");
        }
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
        app.assert_ledger_consistent().await;
    }

    async fn an_allocation_through_the_page_moves_points_and_shows_the_new_balance(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let tenant_page = format!("/admin/tenants/{}", company.tenant_id);
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin
            .submit(
                &tenant_page,
                &format!("{tenant_page}/allocate"),
                &[("amount", "500"), ("note", "Q1 top-up")],
            )
            .await
            .assert_redirect(&tenant_page);
        assert_eq!(app.pool_balance(&company.manager.1).await, "1500");
        let page = admin.get(&tenant_page).await;
        page.assert_status(200)
            .assert_contains("Allocated 500 Points to Tenant acme. The pool now holds 1,500 Points")
            .assert_contains("Q1 top-up");
        // The message shows once.
        let again = admin.get(&tenant_page).await;
        assert!(!again.body.contains("Allocated 500 Points"));
        app.assert_ledger_consistent().await;
    }

    async fn the_same_allocation_form_sent_twice_moves_points_once(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let tenant_page = format!("/admin/tenants/{}", company.tenant_id);
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let page = admin.get(&tenant_page).await;
        let (token, key) = (page.csrf_token(), page.field("form_key"));
        let fields = [("amount", "250"), ("note", ""), ("form_key", &key), ("csrf_token", &token)];
        for _ in 0..2 {
            admin
                .post(&format!("{tenant_page}/allocate"), &fields)
                .await
                .assert_redirect(&tenant_page);
        }
        assert_eq!(app.pool_balance(&company.manager.1).await, "1250");
    }

    async fn a_refused_clawback_is_shown_beside_its_form_and_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let tenant_page = format!("/admin/tenants/{}", company.tenant_id);
        let clawback = format!("{tenant_page}/clawback");
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin
            .submit(&tenant_page, &clawback, &[("amount", "5000"), ("confirm", "yes")])
            .await
            .assert_status(400)
            .assert_contains("Insufficient allocation pool. Available: 1000, Required: 5000")
            .assert_contains("id=\"clawback-error\"")
            .assert_contains("value=\"5000\"");
        admin
            .submit(&tenant_page, &clawback, &[("amount", "12.345"), ("confirm", "yes")])
            .await
            .assert_status(400)
            .assert_contains("Amount may have at most two decimals");
        admin
            .submit(&tenant_page, &clawback, &[("amount", "100")])
            .await
            .assert_status(400)
            .assert_contains("Tick the confirmation box");
        admin
            .submit(&tenant_page, &format!("{tenant_page}/allocate"), &[("amount", "lots")])
            .await
            .assert_status(400)
            .assert_contains("id=\"allocate-error\"")
            .assert_contains("Amount must be a decimal number");
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
        // Confirmed, with the amount left empty: the whole pool.
        admin
            .submit(&tenant_page, &clawback, &[("amount", ""), ("confirm", "yes")])
            .await
            .assert_redirect(&tenant_page);
        assert_eq!(app.pool_balance(&company.manager.1).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn the_pool_card_fragment_shows_empty_low_and_ready(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let mut manager = Browser::signed_in(&app, "manager@acme.test").await;
        let card = manager.get("/manager/pool-card").await;
        card.assert_status(200)
            .assert_contains("data-pool-state=\"empty\"")
            .assert_contains("data-refresh-url=\"/manager/pool-card\"");
        assert!(!card.body.contains("<html"), "the fragment is not a whole page");
        assert_eq!(
            card.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        // Below the default low-balance mark of 1000.
        app.allocate(&company.tenant_id, json!(400)).await.assert_status(200);
        manager
            .get("/manager/pool-card")
            .await
            .assert_contains("data-pool-state=\"low\"")
            .assert_contains("400");
        app.allocate(&company.tenant_id, json!(600)).await.assert_status(200);
        manager
            .get("/manager/pool-card")
            .await
            .assert_contains("data-pool-state=\"ready\"")
            .assert_contains("1,000");
        // The dashboard carries the same card, with the script that refreshes it.
        manager
            .get("/manager")
            .await
            .assert_contains("data-pool-state=\"ready\"")
            .assert_contains("/assets/app.js");
    }

    async fn logging_out_ends_the_session_on_the_server(app: TestApp) {
        let mut browser = Browser::signed_in(&app, ADMIN).await;
        let session = browser.cookie("perksu_session").cloned().expect("session");
        browser
            .submit("/admin", "/logout", &[])
            .await
            .assert_redirect("/login");
        assert!(browser.cookie("perksu_session").is_none());
        // The old cookie, sent again, no longer opens anything.
        browser.set_cookie("perksu_session", &session);
        browser.get("/admin").await.assert_redirect("/login");
    }

    async fn a_new_tenant_and_its_first_manager_are_created_together(app: TestApp) {
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let fields = [
            ("name", "Initech"),
            ("slug", "initech"),
            ("currency", "usd"),
            ("currency_label", "Kudos"),
            ("funding_mode", "pool"),
            ("low_balance_threshold", "500"),
            ("manager_email", "bill@initech.test"),
            ("manager_first_name", "Bill"),
            ("manager_last_name", "Lumbergh"),
            ("manager_password", PASSWORD),
        ];
        let created = admin.submit("/admin/tenants/new", "/admin/tenants", &fields).await;
        assert!(created.location().starts_with("/admin/tenants/"), "{created:#?}");
        let mut manager = Browser::signed_in(&app, "bill@initech.test").await;
        manager
            .get("/manager/pool-card")
            .await
            .assert_contains("data-pool-state=\"empty\"")
            .assert_contains("Kudos");
        // The same slug again is refused beside the form, and no second manager appears.
        let mut again = fields.to_vec();
        again[6] = ("manager_email", "peter@initech.test");
        admin
            .submit("/admin/tenants/new", "/admin/tenants", &again)
            .await
            .assert_status(409)
            .assert_contains("id=\"new-tenant-error\"");
        let mut nobody = Browser::new(&app);
        nobody.log_in("peter@initech.test", PASSWORD).await.assert_status(401);
    }

    async fn a_manager_delegates_and_recalls_through_the_page(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (lead_id, lead_token) = &company.lead;
        let mut manager = Browser::signed_in(&app, "manager@acme.test").await;
        let page = "/manager/delegations";
        manager
            .submit(page, "/manager/delegations/delegate", &[("lead_id", lead_id), ("amount", "300")])
            .await
            .assert_redirect(page);
        manager.get(page).await.assert_contains("Delegated 300 Points");
        assert_eq!(app.pool_balance(lead_token).await, "700");
        manager
            .submit(page, "/manager/delegations/delegate", &[("lead_id", lead_id), ("amount", "5000")])
            .await
            .assert_status(400)
            .assert_contains("Insufficient allocation balance")
            .assert_contains("id=\"delegate-error\"");
        manager
            .submit(page, "/manager/delegations/recall", &[("lead_id", lead_id), ("amount", "")])
            .await
            .assert_redirect(page);
        assert_eq!(app.pool_balance(lead_token).await, "1000");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_changes_settings_and_a_bad_value_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let manager_token = &company.manager.1;
        let tenant_path = format!("/api/tenants/{}", company.tenant_id);
        let before = app.get(&tenant_path, manager_token).await;
        before.assert_status(200);
        let text = |field: &str| before.body[field].as_str().unwrap_or_default().to_owned();
        let number = |field: &str| before.body[field].to_string();
        let (ratio, markup, hours) = (
            text("points_per_currency_unit"),
            text("redemption_markup_percent"),
            number("redemption_timeout_hours"),
        );
        let warning = number("wallet_expiry_warning_days");
        let settings = |label: &'static str, threshold: &'static str| {
            vec![
                ("currency_label", label.to_owned()),
                ("low_balance_threshold", threshold.to_owned()),
                ("award_tiers", "Gold: 5000\nSilver: 2500".to_owned()),
                ("peer_to_peer_enabled", "on".to_owned()),
                ("points_per_currency_unit", ratio.clone()),
                ("redemption_markup_percent", markup.clone()),
                ("redemption_timeout_hours", hours.clone()),
                ("wallet_expiry_warning_days", warning.clone()),
            ]
        };
        let mut browser = Browser::signed_in(&app, "manager@acme.test").await;
        let send = |fields: &Vec<(&'static str, String)>| {
            fields.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
        };
        let bad = send(&settings("Kudos", "-5"));
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser
            .submit("/manager/settings", "/manager/settings", &bad)
            .await
            .assert_status(400)
            .assert_contains("Low-balance mark must not be negative")
            .assert_contains("value=\"Kudos\"");
        let unchanged = app.get(&tenant_path, manager_token).await;
        assert_eq!(unchanged.body["currency_label"], "Points");
        let good = send(&settings("Kudos", "2000"));
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser
            .submit("/manager/settings", "/manager/settings", &good)
            .await
            .assert_redirect("/manager/settings");
        let after = app.get(&tenant_path, manager_token).await;
        assert_eq!(after.body["currency_label"], "Kudos");
        assert_eq!(after.body["low_balance_threshold"], "2000");
        assert_eq!(after.body["award_tiers"].as_array().map(Vec::len), Some(2));
        // 1000 is now below the mark.
        browser
            .get("/manager/pool-card")
            .await
            .assert_contains("data-pool-state=\"low\"");
    }

    async fn the_manager_pages_and_the_history_exports_render(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let mut manager = Browser::signed_in(&app, "manager@acme.test").await;
        manager
            .submit("/manager/departments", "/manager/departments", &[("name", "R&D <core>")])
            .await
            .assert_redirect("/manager/departments");
        for path in [
            "/manager",
            "/manager/delegations",
            "/manager/users",
            "/manager/departments",
            "/manager/budgets",
            "/manager/history",
            "/manager/history?type=allocation&from=2000-01-01",
            "/manager/spending",
            "/manager/spending?period=week&periods=8",
            "/manager/settings",
        ] {
            let page = manager.get(path).await;
            page.assert_status(200);
            assert!(!page.body.contains("<core>"), "{path} did not escape a name");
        }
        manager
            .get("/manager/spending")
            .await
            .assert_contains("<svg")
            .assert_contains("R&amp;D &lt;core&gt;");
        manager
            .get("/manager/history?type=bogus")
            .await
            .assert_status(400)
            .assert_contains("Type must be one of");
        let csv = manager.get("/manager/history?format=csv").await;
        csv.assert_status(200).assert_contains("allocation");
        assert!(csv.body.starts_with("id,created_at,kind,"));

        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let base = format!("/admin/tenants/{}", company.tenant_id);
        let export = admin.get(&format!("{base}/allocations?format=csv")).await;
        export.assert_status(200);
        assert_eq!(
            export.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(export.body.lines().count(), 2, "{}", export.body);
        admin
            .get(&format!("{base}/billing?type=CLAWBACK"))
            .await
            .assert_status(200)
            .assert_contains("No rows match");
        admin
            .get(&format!("{base}/billing?from=yesterday"))
            .await
            .assert_status(400)
            .assert_contains("From must be a date");
        admin.get("/admin/tenants/no-such-tenant").await.assert_status(404);
    }
}
