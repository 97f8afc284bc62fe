//! Tenant isolation: another tenant's ids are unknown to a tenant's users, and no listing shows its rows.

mod common;

use serde_json::json;

use common::{Company, Reply, TestApp, PASSWORD};
use serde_json::Value;

/// Two funded tenants, each with some history: a department, a delegation, an award and a
/// recognition, so that every listing has rows on both sides.
async fn two_companies(app: &TestApp) -> (Company, Company) {
    let alpha = app.company("alpha", json!(1000)).await;
    let beta = app.company("beta", json!(2000)).await;
    for company in [&alpha, &beta] {
        let manager = &company.manager.1;
        app.post("/api/departments", manager, json!({"name": "Sales"}))
            .await
            .assert_status(201);
        app.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": company.lead.0, "amount": 100}),
        )
        .await
        .assert_status(200);
        app.post(
            "/api/v1/points/award-to-user",
            manager,
            json!({"to_user_id": company.alice.0, "amount": 50, "recognition_message": "Launch"}),
        )
        .await
        .assert_status(200);
        app.post(
            "/api/recognitions",
            &company.lead.1,
            json!({"to_user_id": company.bob.0, "points": 20, "message": "Thanks"}),
        )
        .await
        .assert_status(200);
    }
    app.post(
        &format!("/api/v1/points/clawback/{}", beta.tenant_id),
        &app.admin_token,
        json!({"amount": 10, "reason": "Correction"}),
    )
    .await
    .assert_status(200);
    (alpha, beta)
}

/// Every balance of these companies, and the journal's length, as the platform admin reads them.
async fn balances(app: &TestApp, companies: &[&Company]) -> Value {
    let mut state = serde_json::Map::new();
    for company in companies {
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
        state.insert(
            format!("pool {}", company.tenant_id),
            stats.body["points_allocation_balance"].clone(),
        );
        for (id, token) in [
            &company.manager,
            &company.lead,
            &company.alice,
            &company.bob,
        ] {
            let user = app.get(&format!("/api/users/{id}"), &app.admin_token).await;
            user.assert_status(200);
            state.insert(
                format!("lead balance {id}"),
                user.body["lead_distribution_balance"].clone(),
            );
            state.insert(
                format!("wallet {id}"),
                json!(app.wallet_balance(token).await),
            );
        }
    }
    let journal = app.get("/api/v1/points/journal", &app.admin_token).await;
    journal.assert_status(200);
    state.insert("journal entries".into(), journal.body["total"].clone());
    Value::Object(state)
}

/// The rows of a listing: a page's `items`, or the array itself.
fn rows(reply: &Reply) -> Vec<Value> {
    reply.assert_status(200);
    let rows = reply.body.get("items").unwrap_or(&reply.body);
    rows.as_array()
        .unwrap_or_else(|| panic!("not a listing: {reply:?}"))
        .clone()
}

/// The `field` of every row of a listing.
fn column(reply: &Reply, field: &str) -> Vec<String> {
    rows(reply)
        .iter()
        .map(|row| row[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts a non-empty listing whose every row belongs to `tenant_id`.
fn assert_only_tenant(reply: &Reply, tenant_id: &str, what: &str) {
    let tenants = column(reply, "tenant_id");
    assert!(!tenants.is_empty(), "{what} is empty: {reply:?}");
    assert!(
        tenants.iter().all(|t| t == tenant_id),
        "{what} shows another tenant's rows: {reply:?}"
    );
    if let Some(total) = reply.body.get("total") {
        assert_eq!(
            total,
            &json!(tenants.len()),
            "{what}'s total counts other rows"
        );
    }
}

backend_tests! {
    async fn another_tenants_users_and_tenant_are_not_found_for_every_role(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        for (_, token) in [&alpha.manager, &alpha.lead, &alpha.alice] {
            for (id, _) in [&beta.manager, &beta.lead, &beta.alice] {
                app.get(&format!("/api/users/{id}"), token)
                    .await
                    .assert_error(404, "user_not_found");
            }
            app.get(&format!("/api/users/{}", app.admin_id), token)
                .await
                .assert_error(404, "user_not_found");
            app.get(&format!("/api/tenants/{}", beta.tenant_id), token)
                .await
                .assert_error(404, "tenant_not_found");
            // Their own tenant and colleagues are visible, so these are no blanket refusals.
            let colleague = app.get(&format!("/api/users/{}", alpha.bob.0), token).await;
            colleague.assert_status(200);
            assert_eq!(colleague.str("tenant_id"), alpha.tenant_id);
            let own = app.get(&format!("/api/tenants/{}", alpha.tenant_id), token).await;
            own.assert_status(200);
            assert_eq!(own.str("slug"), "alpha");
        }
        // A foreign id reads exactly like an id that exists nowhere.
        let foreign = app.get(&format!("/api/users/{}", beta.alice.0), &alpha.manager.1).await;
        let missing = app.get("/api/users/no-such-user", &alpha.manager.1).await;
        assert_eq!(foreign.body, missing.body);
        let foreign = app.get(&format!("/api/tenants/{}", beta.tenant_id), &alpha.alice.1).await;
        let missing = app.get("/api/tenants/no-such-tenant", &alpha.alice.1).await;
        assert_eq!(foreign.body, missing.body);
    }

    async fn patching_another_tenants_user_is_not_found_and_changes_nothing(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let manager = &alpha.manager.1;
        for patch in [
            json!({"first_name": "Mole", "status": "inactive"}),
            json!({"role": "tenant_manager"}),
            json!({"department_id": null, "manager_id": null}),
            json!({}),
        ] {
            app.patch(&format!("/api/users/{}", beta.alice.0), manager, patch.clone())
                .await
                .assert_error(404, "user_not_found");
            app.patch(&format!("/api/users/{}", beta.lead.0), manager, patch)
                .await
                .assert_error(404, "user_not_found");
        }
        let alice = app.get(&format!("/api/users/{}", beta.alice.0), &app.admin_token).await;
        assert_eq!(alice.str("first_name"), "Test");
        assert_eq!(alice.str("role"), "employee");
        assert_eq!(alice.str("status"), "active");
        let lead = app.get(&format!("/api/users/{}", beta.lead.0), &app.admin_token).await;
        assert_eq!(lead.str("role"), "lead");
        // Beta's employee was not deactivated: her token still works.
        app.get("/api/auth/me", &beta.alice.1).await.assert_status(200);
        // The same patch on alpha's own employee goes through.
        let own = app
            .patch(&format!("/api/users/{}", alpha.alice.0), manager, json!({"first_name": "Ada"}))
            .await;
        own.assert_status(200);
        assert_eq!(own.str("first_name"), "Ada");
    }

    async fn delegating_to_or_recalling_from_another_tenants_lead_is_not_found(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let manager = &alpha.manager.1;
        let before = balances(&app, &[&alpha, &beta]).await;
        for lead_id in [&beta.lead.0, &beta.alice.0, &beta.manager.0] {
            app.post(
                "/api/v1/points/delegate-to-lead",
                manager,
                json!({"lead_id": lead_id, "amount": 10}),
            )
            .await
            .assert_error(404, "lead_not_found");
            app.post(
                "/api/v1/points/recall-from-lead",
                manager,
                json!({"lead_id": lead_id, "amount": 10}),
            )
            .await
            .assert_error(404, "lead_not_found");
            app.post("/api/v1/points/recall-from-lead", manager, json!({"lead_id": lead_id}))
                .await
                .assert_error(404, "lead_not_found");
        }
        assert_eq!(balances(&app, &[&alpha, &beta]).await, before);
        // Beta's lead still holds what beta's manager delegated.
        let lead = app.get(&format!("/api/users/{}", beta.lead.0), &app.admin_token).await;
        assert_eq!(lead.str("lead_distribution_balance"), "80");
        app.assert_ledger_consistent().await;
    }

    async fn awards_and_recognitions_to_another_tenants_employee_are_not_found(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let beta_recognitions = app.get("/api/recognitions", &beta.manager.1).await;
        let beta_recognition_id = rows(&beta_recognitions)[0]["id"]
            .as_str()
            .expect("recognition id")
            .to_owned();
        let before = balances(&app, &[&alpha, &beta]).await;
        for (_, giver) in [&alpha.manager, &alpha.lead] {
            app.post(
                "/api/v1/points/award-to-user",
                giver,
                json!({"to_user_id": beta.alice.0, "amount": 5, "recognition_message": "Hi"}),
            )
            .await
            .assert_error(404, "user_not_found");
        }
        for (_, giver) in [&alpha.manager, &alpha.lead, &alpha.alice] {
            for path in ["/api/recognitions", "/api/recognitions/"] {
                for points in [json!(5), json!(0)] {
                    app.post(
                        path,
                        giver,
                        json!({"to_user_id": beta.bob.0, "points": points, "message": "Hi"}),
                    )
                    .await
                    .assert_error(404, "user_not_found");
                }
            }
        }
        // Another tenant's recognition cannot be named as the reason for an award either.
        app.post(
            "/api/v1/points/award-to-user",
            &alpha.manager.1,
            json!({
                "to_user_id": alpha.alice.0, "amount": 5, "recognition_message": "Hi",
                "recognition_id": beta_recognition_id,
            }),
        )
        .await
        .assert_error(404, "recognition_not_found");
        assert_eq!(balances(&app, &[&alpha, &beta]).await, before);
        assert_eq!(
            rows(&app.get("/api/recognitions", &beta.manager.1).await).len(),
            rows(&beta_recognitions).len()
        );
        assert_eq!(rows(&app.get("/api/recognitions", &alpha.manager.1).await).len(), 1);
        app.assert_ledger_consistent().await;
    }

    async fn an_idempotency_key_used_in_another_tenant_replays_nothing(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let path = "/api/v1/points/award-to-user";
        let body = json!({"to_user_id": beta.alice.0, "amount": 25, "recognition_message": "Q3"});
        let key = [("Idempotency-Key", "award-q3")];
        let first = app
            .request(reqwest::Method::POST, path, Some(&beta.manager.1), Some(&body), &key)
            .await;
        first.assert_status(200);
        let before = balances(&app, &[&alpha, &beta]).await;
        let copy = app
            .request(reqwest::Method::POST, path, Some(&alpha.manager.1), Some(&body), &key)
            .await;
        copy.assert_error(404, "user_not_found");
        assert!(copy.headers.get("idempotent-replayed").is_none());
        assert_eq!(balances(&app, &[&alpha, &beta]).await, before);
        assert_eq!(app.wallet_balance(&beta.alice.1).await, "75");
        // The key is still fresh for alpha's manager: their own award runs, it is no replay.
        let own_body = json!({"to_user_id": alpha.alice.0, "amount": 7, "recognition_message": "Q3"});
        let own = app
            .request(reqwest::Method::POST, path, Some(&alpha.manager.1), Some(&own_body), &key)
            .await;
        own.assert_status(200);
        assert!(own.headers.get("idempotent-replayed").is_none());
        assert_eq!(own.str("to_user_id"), alpha.alice.0);
        assert_eq!(app.wallet_balance(&alpha.alice.1).await, "57");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_cannot_create_users_or_departments_in_another_tenant(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let manager = &alpha.manager.1;
        let beta_department = app
            .get(&format!("/api/departments?tenant_id={}", beta.tenant_id), &app.admin_token)
            .await;
        let beta_department_id = column(&beta_department, "id")[0].clone();
        let user = |extra: Value| {
            let mut body = json!({
                "email": "mole@alpha.test", "password": PASSWORD,
                "first_name": "Mo", "last_name": "Le", "role": "employee",
            });
            for (field, value) in extra.as_object().expect("object") {
                body[field] = value.clone();
            }
            body
        };
        app.post("/api/users", manager, user(json!({"tenant_id": beta.tenant_id})))
            .await
            .assert_error(404, "tenant_not_found");
        app.post("/api/users", manager, user(json!({"department_id": beta_department_id})))
            .await
            .assert_error(404, "department_not_found");
        app.post("/api/users", manager, user(json!({"manager_id": beta.manager.0})))
            .await
            .assert_error(404, "user_not_found");
        app.post(
            "/api/departments",
            manager,
            json!({"tenant_id": beta.tenant_id, "name": "Moles"}),
        )
        .await
        .assert_error(404, "tenant_not_found");

        let everyone = app.get("/api/users", &app.admin_token).await;
        assert!(!column(&everyone, "email").contains(&"mole@alpha.test".to_owned()));
        assert_eq!(rows(&everyone).len(), 9);
        let departments = app
            .get(&format!("/api/departments?tenant_id={}", beta.tenant_id), &app.admin_token)
            .await;
        assert_eq!(column(&departments, "name"), vec!["Sales"]);
        // Nothing was half-made: the email is still free in alpha's own tenant.
        let created = app.post("/api/users", manager, user(json!({}))).await;
        created.assert_status(201);
        assert_eq!(created.str("tenant_id"), alpha.tenant_id);
    }

    async fn a_user_cannot_be_linked_to_another_tenants_department_or_manager(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let department_of = |company: &Company| {
            format!("/api/departments?tenant_id={}", company.tenant_id)
        };
        let beta_department = column(&app.get(&department_of(&beta), &app.admin_token).await, "id")[0].clone();
        let alpha_department = column(&app.get(&department_of(&alpha), &app.admin_token).await, "id")[0].clone();
        let alice = format!("/api/users/{}", alpha.alice.0);
        for token in [&alpha.manager.1, &app.admin_token] {
            app.patch(&alice, token, json!({"department_id": beta_department}))
                .await
                .assert_error(404, "department_not_found");
            app.patch(&alice, token, json!({"manager_id": beta.manager.0}))
                .await
                .assert_error(404, "user_not_found");
        }
        let unchanged = app.get(&alice, &app.admin_token).await;
        assert_eq!(unchanged.body["department_id"], Value::Null);
        assert_eq!(unchanged.body["manager_id"], Value::Null);
        let departments = app.get(&department_of(&beta), &app.admin_token).await;
        assert_eq!(rows(&departments)[0]["member_count"], 0);
        // Alpha's own department and manager are accepted.
        let linked = app
            .patch(
                &alice,
                &alpha.manager.1,
                json!({"department_id": alpha_department, "manager_id": alpha.manager.0}),
            )
            .await;
        linked.assert_status(200);
        assert_eq!(linked.str("department_id"), alpha_department);
        assert_eq!(linked.str("manager_id"), alpha.manager.0);
    }

    async fn listings_never_show_another_tenants_rows(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let beta_ids = [&beta.manager.0, &beta.lead.0, &beta.alice.0, &beta.bob.0];

        // The rows to leak exist: the platform admin sees both tenants in the journal.
        let journal = app.get("/api/v1/points/journal", &app.admin_token).await;
        let tenants = column(&journal, "tenant_id");
        assert!(tenants.contains(&alpha.tenant_id) && tenants.contains(&beta.tenant_id));

        let manager = &alpha.manager.1;
        let users = app.get("/api/users", manager).await;
        assert_only_tenant(&users, &alpha.tenant_id, "users");
        assert_eq!(rows(&users).len(), 4);
        assert!(column(&users, "id").iter().all(|id| !beta_ids.contains(&id)));
        assert_only_tenant(&app.get("/api/recognitions", manager).await, &alpha.tenant_id, "recognitions");
        assert_only_tenant(&app.get("/api/departments", manager).await, &alpha.tenant_id, "departments");
        for listing in ["allocation-logs", "billing-logs", "wallet-ledger", "journal"] {
            let reply = app.get(&format!("/api/v1/points/{listing}"), manager).await;
            assert_only_tenant(&reply, &alpha.tenant_id, listing);
        }
        // Filters naming beta's people find nothing of theirs.
        let by_user = app
            .get(&format!("/api/v1/points/wallet-ledger?user_id={}", beta.alice.0), manager)
            .await;
        assert_eq!(by_user.body["total"], 0);
        let by_actor = app
            .get(&format!("/api/v1/points/journal?actor_id={}", beta.manager.0), manager)
            .await;
        assert_eq!(by_actor.body["total"], 0);
        let recognitions = app
            .get(&format!("/api/recognitions?tenant_id={}", beta.tenant_id), manager)
            .await;
        assert_only_tenant(&recognitions, &alpha.tenant_id, "recognitions");

        // Leads and employees: their tenant's rows, and in the wallet ledger only their own.
        for (id, token) in [&alpha.lead, &alpha.alice] {
            assert_only_tenant(&app.get("/api/users", token).await, &alpha.tenant_id, "users");
            assert_only_tenant(&app.get("/api/recognitions", token).await, &alpha.tenant_id, "recognitions");
            assert_only_tenant(
                &app.get("/api/v1/points/allocation-logs", token).await,
                &alpha.tenant_id,
                "allocation logs",
            );
            let ledger = app.get("/api/v1/points/wallet-ledger", token).await;
            assert!(column(&ledger, "user_id").iter().all(|user| user == id));
            let mine = app.get("/api/wallets/me/ledger", token).await;
            assert!(column(&mine, "user_id").iter().all(|user| user == id));
        }
        let alice_lines = app.get("/api/v1/points/wallet-ledger", &alpha.alice.1).await;
        assert_only_tenant(&alice_lines, &alpha.tenant_id, "alice's wallet lines");
        assert_eq!(column(&alice_lines, "amount"), vec!["50"]);
    }

    async fn filtering_a_listing_by_another_tenants_id_is_not_found(app: TestApp) {
        let (alpha, beta) = two_companies(&app).await;
        let listings = [
            "/api/users",
            "/api/departments",
            "/api/v1/points/tenant-allocation-stats",
            "/api/v1/points/allocation-logs",
            "/api/v1/points/billing-logs",
            "/api/v1/points/wallet-ledger",
            "/api/v1/points/journal",
        ];
        let before = balances(&app, &[&alpha, &beta]).await;
        for listing in listings {
            let foreign = format!("{listing}?tenant_id={}", beta.tenant_id);
            app.get(&foreign, &alpha.manager.1)
                .await
                .assert_error(404, "tenant_not_found");
            let own = app
                .get(&format!("{listing}?tenant_id={}", alpha.tenant_id), &alpha.manager.1)
                .await;
            own.assert_status(200);
            if listing != "/api/v1/points/journal" {
                app.get(&foreign, &alpha.alice.1)
                    .await
                    .assert_error(404, "tenant_not_found");
            }
            // The platform admin may filter by any tenant, and sees only that tenant's rows.
            let admin = app.get(&foreign, &app.admin_token).await;
            admin.assert_status(200);
            if listing.ends_with("tenant-allocation-stats") {
                assert_eq!(admin.str("tenant_id"), beta.tenant_id);
            } else {
                assert_only_tenant(&admin, &beta.tenant_id, listing);
            }
        }
        assert_eq!(balances(&app, &[&alpha, &beta]).await, before);
        app.assert_ledger_consistent().await;
    }
}
