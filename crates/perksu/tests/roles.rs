//! Role boundaries: who may move points, manage tenants and users, and who is not let in at all.

mod common;

use serde_json::json;

use common::{Company, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::Value;

/// The company's pool, its lead's balance, its people's wallets and the journal's length.
async fn balances(app: &TestApp, company: &Company) -> Value {
    let stats = app
        .get(
            &format!(
                "/api/v1/points/tenant-allocation-stats?tenant_id={}",
                company.tenant_id
            ),
            &app.admin_token,
        )
        .await;
    stats.assert_status(200);
    let lead = app
        .get(&format!("/api/users/{}", company.lead.0), &app.admin_token)
        .await;
    lead.assert_status(200);
    let journal = app.get("/api/v1/points/journal", &app.admin_token).await;
    journal.assert_status(200);
    json!({
        "pool": stats.body["points_allocation_balance"],
        "lead": lead.body["lead_distribution_balance"],
        "manager wallet": app.wallet_balance(&company.manager.1).await,
        "lead wallet": app.wallet_balance(&company.lead.1).await,
        "alice wallet": app.wallet_balance(&company.alice.1).await,
        "bob wallet": app.wallet_balance(&company.bob.1).await,
        "journal entries": journal.body["total"],
    })
}

async fn login_reply(app: &TestApp, email: &str, password: &str) -> common::Reply {
    app.request(
        Method::POST,
        "/api/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
        &[],
    )
    .await
}

fn award(to: &str, amount: Value) -> Value {
    json!({"to_user_id": to, "amount": amount, "recognition_message": "Well done"})
}

backend_tests! {
    async fn only_the_platform_admin_allocates_and_claws_back(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let clawback = format!("/api/v1/points/clawback/{}", company.tenant_id);
        let before = balances(&app, &company).await;
        for (_, token) in [&company.manager, &company.lead, &company.alice] {
            app.post(
                "/api/v1/points/allocate-to-tenant",
                token,
                json!({"tenant_id": company.tenant_id, "amount": 10}),
            )
            .await
            .assert_error(403, "forbidden");
            app.post(&clawback, token, json!({})).await.assert_error(403, "forbidden");
            app.post(&clawback, token, json!({"amount": 5}))
                .await
                .assert_error(403, "forbidden");
        }
        assert_eq!(balances(&app, &company).await, before);
        let logs = app.get("/api/v1/points/allocation-logs", &app.admin_token).await;
        assert_eq!(logs.body["total"], 1);
        let billing = app.get("/api/v1/points/billing-logs", &app.admin_token).await;
        assert_eq!(billing.body["total"], 1);

        let allocated = app.allocate(&company.tenant_id, json!(10)).await;
        allocated.assert_status(200);
        assert_eq!(allocated.str("new_allocation_balance"), "1010");
        let clawed = app.post(&clawback, &app.admin_token, json!({"amount": 5})).await;
        clawed.assert_status(200);
        assert_eq!(clawed.str("new_allocation_balance"), "1005");
        app.assert_ledger_consistent().await;
    }

    async fn only_the_platform_admin_creates_lists_and_changes_tenants(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let tenant = format!("/api/tenants/{}", company.tenant_id);
        for (_, token) in [&company.manager, &company.lead, &company.alice] {
            app.post("/api/tenants", token, json!({"name": "Rogue", "slug": "rogue"}))
                .await
                .assert_error(403, "forbidden");
            app.get("/api/tenants", token).await.assert_error(403, "forbidden");
            app.patch(&tenant, token, json!({"name": "Renamed"}))
                .await
                .assert_error(403, "forbidden");
            app.patch(&tenant, token, json!({"status": "suspended"}))
                .await
                .assert_error(403, "forbidden");
        }
        let own = app.get(&tenant, &company.manager.1).await;
        assert_eq!(own.str("name"), "Tenant acme");
        assert_eq!(own.str("status"), "active");
        let tenants = app.get("/api/tenants", &app.admin_token).await;
        tenants.assert_status(200);
        assert_eq!(tenants.body.as_array().map(Vec::len), Some(1));

        app.post("/api/tenants", &app.admin_token, json!({"name": "Rogue", "slug": "rogue"}))
            .await
            .assert_status(201);
        let renamed = app.patch(&tenant, &app.admin_token, json!({"name": "Renamed"})).await;
        renamed.assert_status(200);
        assert_eq!(renamed.str("name"), "Renamed");
    }

    async fn only_tenant_managers_delegate_and_recall(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let lead_id = &company.lead.0;
        let outsiders = [&company.lead.1, &company.alice.1, &app.admin_token];
        for token in outsiders {
            app.post(
                "/api/v1/points/delegate-to-lead",
                token,
                json!({"lead_id": lead_id, "amount": 100}),
            )
            .await
            .assert_error(403, "forbidden");
        }
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
        let delegated = app
            .post(
                "/api/v1/points/delegate-to-lead",
                &company.manager.1,
                json!({"lead_id": lead_id, "amount": 100}),
            )
            .await;
        delegated.assert_status(200);
        assert_eq!(delegated.str("lead_distribution_balance"), "100");
        let before = balances(&app, &company).await;
        for token in outsiders {
            for body in [json!({"lead_id": lead_id, "amount": 40}), json!({"lead_id": lead_id})] {
                app.post("/api/v1/points/recall-from-lead", token, body)
                    .await
                    .assert_error(403, "forbidden");
            }
        }
        assert_eq!(balances(&app, &company).await, before);
        let recalled = app
            .post(
                "/api/v1/points/recall-from-lead",
                &company.manager.1,
                json!({"lead_id": lead_id, "amount": 40}),
            )
            .await;
        recalled.assert_status(200);
        assert_eq!(recalled.str("lead_distribution_balance"), "60");
        assert_eq!(recalled.str("new_allocation_balance"), "940");
        app.assert_ledger_consistent().await;
    }

    async fn employees_cannot_award_change_users_or_read_the_journal(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (alice_id, alice) = &company.alice;
        let (bob_id, _) = &company.bob;
        let before = balances(&app, &company).await;
        for token in [alice, &app.admin_token] {
            app.post("/api/v1/points/award-to-user", token, award(bob_id, json!(10)))
                .await
                .assert_error(403, "forbidden");
        }
        for (_, token) in [&company.lead, &company.alice] {
            app.post(
                "/api/users",
                token,
                json!({
                    "email": "new@acme.test", "password": PASSWORD, "first_name": "New",
                    "last_name": "Hire", "role": "employee",
                }),
            )
            .await
            .assert_error(403, "forbidden");
            app.post("/api/departments", token, json!({"name": "Shadow"}))
                .await
                .assert_error(403, "forbidden");
            app.patch(&format!("/api/users/{bob_id}"), token, json!({"first_name": "Robert"}))
                .await
                .assert_error(403, "forbidden");
            app.get("/api/v1/points/journal", token)
                .await
                .assert_error(403, "forbidden");
        }
        // Nor can an employee promote herself.
        app.patch(&format!("/api/users/{alice_id}"), alice, json!({"role": "tenant_manager"}))
            .await
            .assert_error(403, "forbidden");
        let me = app.get("/api/auth/me", alice).await;
        assert_eq!(me.str("role"), "employee");
        assert_eq!(balances(&app, &company).await, before);
        let users = app.get("/api/users", &company.manager.1).await;
        assert_eq!(users.body.as_array().map(Vec::len), Some(4));
        let bob = app.get(&format!("/api/users/{bob_id}"), &company.manager.1).await;
        assert_eq!(bob.str("first_name"), "Test");
        let departments = app.get("/api/departments", &company.manager.1).await;
        assert_eq!(departments.body, json!([]));
    }

    async fn a_lead_awards_from_their_own_balance_and_never_from_the_pool(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        let empty = app.post("/api/v1/points/award-to-user", lead, award(alice_id, json!(10))).await;
        empty.assert_error(400, "insufficient_lead_balance");
        assert_eq!(
            empty.str("detail"),
            "Insufficient lead distribution balance. Available: 0, Required: 10"
        );
        assert_eq!(app.pool_balance(lead).await, "1000");

        app.post(
            "/api/v1/points/delegate-to-lead",
            &company.manager.1,
            json!({"lead_id": lead_id, "amount": 300}),
        )
        .await
        .assert_status(200);
        let given = app.post("/api/v1/points/award-to-user", lead, award(alice_id, json!("120"))).await;
        given.assert_status(200);
        assert_eq!(given.str("funding_source"), "lead_balance");
        assert_eq!(given.str("source_balance_after"), "180");
        assert_eq!(given.str("recipient_wallet_balance"), "120");
        assert_eq!(app.pool_balance(lead).await, "700");
        assert_eq!(app.wallet_balance(alice).await, "120");
        assert_eq!(app.get("/api/auth/me", lead).await.str("lead_distribution_balance"), "180");

        let too_much = app.post("/api/v1/points/award-to-user", lead, award(alice_id, json!(500))).await;
        too_much.assert_error(400, "insufficient_lead_balance");
        assert_eq!(
            too_much.str("detail"),
            "Insufficient lead distribution balance. Available: 180, Required: 500"
        );
        assert_eq!(app.pool_balance(lead).await, "700");
        assert_eq!(app.wallet_balance(alice).await, "120");
        app.assert_ledger_consistent().await;
    }

    async fn no_one_can_create_or_become_a_platform_admin(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let (manager_id, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let new_admin = |tenant_id: Option<&str>| {
            json!({
                "tenant_id": tenant_id, "email": "root2@acme.test", "password": PASSWORD,
                "first_name": "Root", "last_name": "Two", "role": "platform_admin",
            })
        };
        for (token, tenant_id) in [
            (&app.admin_token, Some(company.tenant_id.as_str())),
            (&app.admin_token, None),
            (manager, None),
            (manager, Some(company.tenant_id.as_str())),
        ] {
            app.post("/api/users", token, new_admin(tenant_id))
                .await
                .assert_error(403, "forbidden");
        }
        for token in [manager, &app.admin_token] {
            app.patch(&format!("/api/users/{alice_id}"), token, json!({"role": "platform_admin"}))
                .await
                .assert_error(403, "forbidden");
        }
        app.patch(&format!("/api/users/{manager_id}"), manager, json!({"role": "platform_admin"}))
            .await
            .assert_error(403, "forbidden");
        // The platform admin's own account is the operator's business, not the API's.
        app.patch(&format!("/api/users/{}", app.admin_id), &app.admin_token, json!({"role": "employee"}))
            .await
            .assert_error(403, "forbidden");
        app.patch(&format!("/api/users/{}", app.admin_id), manager, json!({"first_name": "Me"}))
            .await
            .assert_error(404, "user_not_found");

        assert_eq!(app.get("/api/auth/me", alice).await.str("role"), "employee");
        assert_eq!(app.get("/api/auth/me", manager).await.str("role"), "tenant_manager");
        login_reply(&app, "root2@acme.test", PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
        let users = app.get("/api/users", &app.admin_token).await;
        let admins: Vec<&Value> = users
            .body
            .as_array()
            .expect("users")
            .iter()
            .filter(|user| user["role"] == "platform_admin")
            .collect();
        assert_eq!(admins.len(), 1);
        assert_eq!(admins[0]["id"].as_str(), Some(app.admin_id.as_str()));
    }

    async fn a_platform_admin_has_no_wallet(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        app.get("/api/wallets/me", &app.admin_token)
            .await
            .assert_error(403, "forbidden");
        app.get("/api/wallets/me/ledger", &app.admin_token)
            .await
            .assert_error(403, "forbidden");
        let me = app.get("/api/auth/me", &app.admin_token).await;
        assert_eq!(me.str("role"), "platform_admin");
        assert_eq!(me.body["tenant_id"], Value::Null);
        let wallet = app.get("/api/wallets/me", &company.alice.1).await;
        wallet.assert_status(200);
        assert_eq!(wallet.str("user_id"), company.alice.0);
        app.get("/api/wallets/me/ledger", &company.alice.1).await.assert_status(200);
    }

    async fn missing_malformed_and_revoked_tokens_are_unauthenticated(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (alice_id, alice) = &company.alice;
        let no_token = app.request(Method::GET, "/api/auth/me", None, None, &[]).await;
        no_token.assert_error(401, "unauthenticated");
        assert_eq!(
            no_token.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let tampered = format!("{alice}0");
        let malformed = [
            "Basic YWxpY2U6c2VjcmV0".to_owned(),
            "Bearer".to_owned(),
            "Bearer    ".to_owned(),
            format!("Token {alice}"),
            alice.to_string(),
            format!("Bearer {tampered}"),
            "Bearer not-a-token".to_owned(),
        ];
        for header in &malformed {
            app.request(Method::GET, "/api/auth/me", None, None, &[("Authorization", header)])
                .await
                .assert_error(401, "unauthenticated");
        }
        // The scheme is case-insensitive: the same token under `bearer` works.
        let lower = format!("bearer {alice}");
        let me = app.request(Method::GET, "/api/auth/me", None, None, &[("Authorization", &lower)]).await;
        me.assert_status(200);
        assert_eq!(me.str("id"), *alice_id);

        // Without a token no point moves.
        let before = balances(&app, &company).await;
        let pool_and_journal = |state: &Value| (state["pool"].clone(), state["journal entries"].clone());
        let anonymous_award = award(alice_id, json!(10));
        app.request(Method::POST, "/api/v1/points/award-to-user", None, Some(&anonymous_award), &[])
            .await
            .assert_error(401, "unauthenticated");
        app.request(
            Method::POST,
            "/api/v1/points/allocate-to-tenant",
            None,
            Some(&json!({"tenant_id": company.tenant_id, "amount": 10})),
            &[],
        )
        .await
        .assert_error(401, "unauthenticated");

        // Logging out revokes that token only.
        let second = app.login("alice@acme.test").await;
        let logout = app.request(Method::POST, "/api/auth/logout", Some(alice), None, &[]).await;
        logout.assert_status(204);
        app.get("/api/auth/me", alice).await.assert_error(401, "unauthenticated");
        app.request(Method::POST, "/api/auth/logout", Some(alice), None, &[])
            .await
            .assert_error(401, "unauthenticated");
        app.get("/api/auth/me", &second).await.assert_status(200);

        // A manager who logged out cannot award with the old token.
        let manager = &company.manager.1;
        app.request(Method::POST, "/api/auth/logout", Some(manager), None, &[])
            .await
            .assert_status(204);
        app.post("/api/v1/points/award-to-user", manager, award(alice_id, json!(10)))
            .await
            .assert_error(401, "unauthenticated");
        let stats = app
            .get(
                &format!("/api/v1/points/tenant-allocation-stats?tenant_id={}", company.tenant_id),
                &app.admin_token,
            )
            .await;
        let journal = app.get("/api/v1/points/journal", &app.admin_token).await;
        assert_eq!(
            (stats.body["points_allocation_balance"].clone(), journal.body["total"].clone()),
            pool_and_journal(&before)
        );
        assert_eq!(json!(app.wallet_balance(&second).await), before["alice wallet"]);
    }

    async fn a_wrong_password_or_unknown_email_is_invalid_credentials(app: TestApp) {
        let _company = app.company("acme", json!(0)).await;
        let wrong = login_reply(&app, "alice@acme.test", "not the password").await;
        wrong.assert_error(401, "invalid_credentials");
        assert!(wrong.body.get("access_token").is_none());
        let unknown = login_reply(&app, "nobody@acme.test", PASSWORD).await;
        unknown.assert_error(401, "invalid_credentials");
        // Neither answer tells which accounts exist.
        assert_eq!(wrong.body, unknown.body);
        login_reply(&app, "alice@acme.test", "")
            .await
            .assert_error(401, "invalid_credentials");
        let right = login_reply(&app, " Alice@ACME.test ", PASSWORD).await;
        right.assert_status(200);
        assert_eq!(right.str("token_type"), "bearer");
        let token = right.str("access_token");
        assert_eq!(app.get("/api/auth/me", &token).await.str("email"), "alice@acme.test");
    }

    async fn a_deactivated_user_cannot_log_in_and_their_token_stops_working(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (alice_id, alice) = &company.alice;
        let manager = &company.manager.1;
        let user = format!("/api/users/{alice_id}");
        let deactivated = app.patch(&user, manager, json!({"status": "inactive"})).await;
        deactivated.assert_status(200);
        assert_eq!(deactivated.str("status"), "inactive");
        app.get("/api/auth/me", alice).await.assert_error(401, "unauthenticated");
        app.get("/api/wallets/me", alice).await.assert_error(401, "unauthenticated");
        login_reply(&app, "alice@acme.test", PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
        // Nor can she receive points.
        app.post("/api/v1/points/award-to-user", manager, award(alice_id, json!(10)))
            .await
            .assert_error(400, "recipient_inactive");
        app.post(
            "/api/recognitions",
            manager,
            json!({"to_user_id": alice_id, "points": 10, "message": "Hi"}),
        )
        .await
        .assert_error(400, "recipient_inactive");
        assert_eq!(app.pool_balance(manager).await, "1000");

        app.patch(&user, manager, json!({"status": "active"})).await.assert_status(200);
        // The old token stays revoked; a new login works.
        app.get("/api/auth/me", alice).await.assert_error(401, "unauthenticated");
        let fresh = app.login("alice@acme.test").await;
        assert_eq!(app.wallet_balance(&fresh).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_suspended_tenant_can_read_but_move_no_points(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let other = app.company("other", json!(0)).await;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        let (bob_id, _) = &company.bob;
        let manager = &company.manager.1;
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 200}),
        )
        .await
        .assert_status(200);
        let tenant = format!("/api/tenants/{}", company.tenant_id);
        let suspended = app.patch(&tenant, &app.admin_token, json!({"status": "suspended"})).await;
        suspended.assert_status(200);
        assert_eq!(suspended.str("status"), "suspended");
        let before = balances(&app, &company).await;

        // Reading still works, and so does logging in.
        let bob = app.login("bob@acme.test").await;
        let stats = app.get("/api/v1/points/tenant-allocation-stats", &bob).await;
        stats.assert_status(200);
        assert_eq!(stats.str("status"), "suspended");
        assert_eq!(stats.str("points_allocation_balance"), "800");
        for path in ["/api/users", "/api/recognitions", "/api/v1/points/journal", "/api/wallets/me"] {
            app.get(path, manager).await.assert_status(200);
        }

        let refusals = [
            (manager, "/api/v1/points/delegate-to-lead", json!({"lead_id": lead_id, "amount": 10})),
            (manager, "/api/v1/points/recall-from-lead", json!({"lead_id": lead_id, "amount": 10})),
            (manager, "/api/v1/points/recall-from-lead", json!({"lead_id": lead_id})),
            (manager, "/api/v1/points/award-to-user", award(alice_id, json!(10))),
            (lead, "/api/v1/points/award-to-user", award(alice_id, json!(10))),
            (manager, "/api/recognitions", json!({"to_user_id": alice_id, "points": 10, "message": "Hi"})),
            (lead, "/api/recognitions", json!({"to_user_id": alice_id, "points": 10, "message": "Hi"})),
            (alice, "/api/recognitions", json!({"to_user_id": bob_id, "points": 10, "message": "Hi"})),
        ];
        for (token, path, body) in refusals {
            app.post(path, token, body).await.assert_error(403, "tenant_suspended");
        }
        app.allocate(&company.tenant_id, json!(10))
            .await
            .assert_error(403, "tenant_suspended");
        assert_eq!(balances(&app, &company).await, before);
        // Another tenant is unaffected.
        app.allocate(&other.tenant_id, json!(10)).await.assert_status(200);

        // The platform can still take points back from a suspended tenant.
        let clawed = app
            .post(
                &format!("/api/v1/points/clawback/{}", company.tenant_id),
                &app.admin_token,
                json!({"amount": 100, "reason": "Suspended"}),
            )
            .await;
        clawed.assert_status(200);
        assert_eq!(clawed.str("new_allocation_balance"), "700");

        app.patch(&tenant, &app.admin_token, json!({"status": "active"}))
            .await
            .assert_status(200);
        let delegated = app
            .post(
                "/api/v1/points/delegate-to-lead",
                manager,
                json!({"lead_id": lead_id, "amount": 10}),
            )
            .await;
        delegated.assert_status(200);
        assert_eq!(delegated.str("new_allocation_balance"), "690");
        app.assert_ledger_consistent().await;
    }

    async fn recognising_or_awarding_yourself_is_refused(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (manager_id, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, alice) = &company.alice;
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 100}),
        )
        .await
        .assert_status(200);
        let before = balances(&app, &company).await;
        for (id, token) in [(manager_id, manager), (lead_id, lead), (alice_id, alice)] {
            for points in [json!(5), json!(0)] {
                app.post(
                    "/api/recognitions",
                    token,
                    json!({"to_user_id": id, "points": points, "message": "Me"}),
                )
                .await
                .assert_error(400, "self_recognition");
            }
        }
        for (id, token) in [(manager_id, manager), (lead_id, lead)] {
            app.post("/api/v1/points/award-to-user", token, award(id, json!(5)))
                .await
                .assert_error(400, "self_recognition");
        }
        assert_eq!(balances(&app, &company).await, before);
        assert_eq!(app.get("/api/recognitions", manager).await.body, json!([]));
    }

    async fn a_lead_holding_points_cannot_be_demoted_or_deactivated(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (lead_id, lead) = &company.lead;
        let manager = &company.manager.1;
        let user = format!("/api/users/{lead_id}");
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": 50}),
        )
        .await
        .assert_status(200);
        for token in [manager, &app.admin_token] {
            for patch in [
                json!({"role": "employee"}),
                json!({"role": "tenant_manager"}),
                json!({"status": "inactive"}),
            ] {
                let refused = app.patch(&user, token, patch).await;
                refused.assert_error(409, "lead_balance_not_empty");
                assert_eq!(
                    refused.str("detail"),
                    "This lead still holds 50 delegated points: recall them first"
                );
            }
        }
        let me = app.get("/api/auth/me", lead).await;
        assert_eq!(me.str("role"), "lead");
        assert_eq!(me.str("lead_distribution_balance"), "50");

        app.post("/api/v1/points/recall-from-lead", manager, json!({"lead_id": lead_id}))
            .await
            .assert_status(200);
        let demoted = app.patch(&user, manager, json!({"role": "employee"})).await;
        demoted.assert_status(200);
        assert_eq!(demoted.str("role"), "employee");
        assert_eq!(app.pool_balance(manager).await, "1000");
        app.assert_ledger_consistent().await;
    }
}
