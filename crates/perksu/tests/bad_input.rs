//! Bad input: malformed, mistyped, missing, out-of-range or oversized requests get a JSON 4xx and change nothing.

mod common;

use serde_json::json;

use common::{Company, Reply, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::Value;

/// Sends `body` exactly as written, and reads the answer, which must be JSON.
async fn raw(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: &str) -> Reply {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body {text:?}"))
    };
    Reply {
        status,
        body,
        headers,
    }
}

/// Everything a bad request could have changed: balances, wallets, the journal and the audit
/// trail, and how many tenants, users, departments and recognitions there are.
async fn state(app: &TestApp, company: &Company) -> Value {
    let admin = &app.admin_token;
    let stats = app
        .get(
            &format!(
                "/api/v1/points/tenant-allocation-stats?tenant_id={}",
                company.tenant_id
            ),
            admin,
        )
        .await;
    stats.assert_status(200);
    let lead = app
        .get(&format!("/api/users/{}", company.lead.0), admin)
        .await;
    let total = |reply: Reply| reply.body["total"].clone();
    let count = |reply: Reply| json!(reply.body.as_array().map(Vec::len));
    json!({
        "tenant": stats.body,
        "lead": lead.body,
        "wallets": [
            app.wallet_balance(&company.manager.1).await,
            app.wallet_balance(&company.lead.1).await,
            app.wallet_balance(&company.alice.1).await,
            app.wallet_balance(&company.bob.1).await,
        ],
        "journal": total(app.get("/api/v1/points/journal", admin).await),
        "allocation logs": total(app.get("/api/v1/points/allocation-logs", admin).await),
        "billing logs": total(app.get("/api/v1/points/billing-logs", admin).await),
        "wallet ledger": total(app.get("/api/v1/points/wallet-ledger", admin).await),
        "tenants": count(app.get("/api/tenants", admin).await),
        "users": count(app.get("/api/users", admin).await),
        "departments": count(app.get("/api/departments", admin).await),
        "recognitions": count(app.get("/api/recognitions?limit=200", &company.manager.1).await),
    })
}

/// A funded company whose lead already holds delegated points.
async fn setup(app: &TestApp) -> Company {
    let company = app.company("acme", json!(1000)).await;
    app.post(
        "/api/v1/points/delegate-to-lead",
        &company.manager.1,
        json!({"lead_id": company.lead.0, "amount": 100}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/departments",
        &company.manager.1,
        json!({"name": "Sales"}),
    )
    .await
    .assert_status(201);
    company
}

/// Amounts that are never a valid positive amount, as JSON values.
fn bad_amounts() -> Vec<Value> {
    vec![
        json!(-5),
        json!("-5"),
        json!(-0.01),
        json!("-0.01"),
        json!(0),
        json!("0"),
        json!("0.00"),
        json!(0.0),
        json!("1.001"),
        json!(1.001),
        json!(0.005),
        json!("1e3"),
        json!("1E3"),
        json!("2.5e1"),
        json!(1e-3),
        json!(1e300),
        json!("abc"),
        json!(""),
        json!(" 12"),
        json!("12 "),
        json!("+5"),
        json!("1,000"),
        json!("0x10"),
        json!("NaN"),
        json!("Infinity"),
        json!("."),
        json!("1."),
        json!(".5"),
        json!(true),
        json!(false),
        json!(null),
        json!([]),
        json!([5]),
        json!({}),
        json!({"value": 5}),
        json!(10_000_000_000_000_u64),
        json!("10000000000000"),
        json!("9999999999999.991"),
        json!(10_000_000_000_000.5),
        json!("99999999999999999999999"),
        json!(u64::MAX),
    ]
}

/// Amounts only raw JSON can carry: the number's text itself must be refused, not a float
/// rounded from it.
const BAD_RAW_AMOUNTS: &[&str] = &[
    "1.0000000000000001",
    "0.1000000000000000001",
    "12.000000000000000000001",
    "99.999",
    "1E-3",
    "15e-3",
    "-1e2",
    "-0",
    "0e5",
    "1e400",
    "123456789012345678901234567890",
];

backend_tests! {
    async fn malformed_json_is_refused_and_moves_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let manager = company.manager.1.as_str();
        let admin = app.admin_token.as_str();
        let tenant = format!("/api/tenants/{}", company.tenant_id);
        let user = format!("/api/users/{}", company.alice.0);
        let clawback = format!("/api/v1/points/clawback/{}", company.tenant_id);
        let endpoints: Vec<(Method, &str, Option<&str>)> = vec![
            (Method::POST, "/api/v1/points/allocate-to-tenant", Some(admin)),
            (Method::POST, &clawback, Some(admin)),
            (Method::POST, "/api/v1/points/delegate-to-lead", Some(manager)),
            (Method::POST, "/api/v1/points/recall-from-lead", Some(manager)),
            (Method::POST, "/api/v1/points/award-to-user", Some(manager)),
            (Method::POST, "/api/recognitions", Some(manager)),
            (Method::POST, "/api/recognitions/", Some(manager)),
            (Method::POST, "/api/users", Some(manager)),
            (Method::POST, "/api/tenants", Some(admin)),
            (Method::POST, "/api/departments", Some(manager)),
            (Method::POST, "/api/auth/login", None),
            (Method::PATCH, &user, Some(manager)),
            (Method::PATCH, &tenant, Some(admin)),
        ];
        let bodies = [
            "{\"amount\": ",
            "not json",
            "{\"amount\": 10,}",
            "{'amount': 10}",
            "{\"amount\": 10} trailing",
            "{\"a\": 1}{\"b\": 2}",
            "{\"amount\": 1O}",
            "{\"note\": \"unterminated}",
            "{\"note\": \"bad \\x escape\"}",
        ];
        for (method, path, token) in &endpoints {
            for body in bodies {
                let reply = raw(&app, method.clone(), path, *token, body).await;
                assert_eq!(reply.status, 400, "{method} {path} with {body:?}: {reply:?}");
                assert_eq!(reply.body["code"], "invalid_json", "{method} {path} with {body:?}");
                assert!(reply.body["detail"].is_string());
            }
        }
        // Well-formed but absurdly deep JSON where text belongs is refused, and brings
        // nothing down.
        let deep = format!(
            "{{\"tenant_id\": \"{}\", \"amount\": 1, \"reference_note\": {}{}}}",
            company.tenant_id,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        raw(&app, Method::POST, "/api/v1/points/allocate-to-tenant", Some(admin), &deep)
            .await
            .assert_error(400, "invalid_field");
        assert_eq!(state(&app, &company).await, before);
        app.assert_ledger_consistent().await;
    }

    async fn wrong_types_and_missing_fields_are_refused_and_move_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let manager = &company.manager.1;
        let admin = &app.admin_token;
        let tenant_id = &company.tenant_id;
        let (alice_id, _) = &company.alice;
        let (lead_id, _) = &company.lead;
        let user = |extra: Value| {
            let mut body = json!({
                "email": "new@acme.test", "password": PASSWORD, "first_name": "New",
                "last_name": "Hire", "role": "employee",
            });
            for (field, value) in extra.as_object().expect("object") {
                if value.is_null() {
                    body.as_object_mut().expect("object").remove(field);
                } else {
                    body[field] = value.clone();
                }
            }
            body
        };
        let posts: Vec<(&String, &str, Value)> = vec![
            // Wrong types.
            (admin, "/api/v1/points/allocate-to-tenant", json!({"tenant_id": 5, "amount": 10})),
            (admin, "/api/v1/points/allocate-to-tenant", json!({"tenant_id": tenant_id, "amount": 10, "currency": 5})),
            (admin, "/api/v1/points/allocate-to-tenant", json!({"tenant_id": tenant_id, "amount": 10, "reference_note": {"a": 1}})),
            (admin, "/api/v1/points/allocate-to-tenant", json!([tenant_id, 10])),
            (admin, "/api/v1/points/allocate-to-tenant", json!("allocate")),
            (admin, "/api/v1/points/allocate-to-tenant", json!(10)),
            (manager, "/api/v1/points/delegate-to-lead", json!({"lead_id": [lead_id], "amount": 10})),
            (manager, "/api/v1/points/recall-from-lead", json!({"lead_id": true})),
            (manager, "/api/v1/points/award-to-user", json!({"to_user_id": alice_id, "amount": 10, "recognition_message": 7})),
            (manager, "/api/v1/points/award-to-user", json!({"to_user_id": alice_id, "amount": 10, "recognition_message": "Hi", "recognition_id": 3})),
            (manager, "/api/recognitions", json!({"to_user_id": alice_id, "points": 1, "message": false})),
            (manager, "/api/recognitions", json!({"to_user_id": {"id": alice_id}, "points": 1, "message": "Hi"})),
            (manager, "/api/users", user(json!({"role": 1}))),
            (manager, "/api/users", user(json!({"password": 12345678}))),
            (manager, "/api/users", user(json!({"department_id": 7}))),
            (admin, "/api/tenants", json!({"name": "Beta", "slug": 5})),
            (admin, "/api/tenants", json!({"name": "Beta", "slug": "beta", "funding_mode": ["pool"]})),
            (manager, "/api/departments", json!({"name": 42})),
            // Missing fields.
            (admin, "/api/v1/points/allocate-to-tenant", json!({"amount": 10})),
            (admin, "/api/v1/points/allocate-to-tenant", json!({"tenant_id": tenant_id})),
            (admin, "/api/v1/points/allocate-to-tenant", json!({})),
            (manager, "/api/v1/points/delegate-to-lead", json!({"amount": 10})),
            (manager, "/api/v1/points/delegate-to-lead", json!({"lead_id": lead_id})),
            (manager, "/api/v1/points/recall-from-lead", json!({"amount": 10})),
            (manager, "/api/v1/points/award-to-user", json!({"to_user_id": alice_id, "amount": 10})),
            (manager, "/api/v1/points/award-to-user", json!({"amount": 10, "recognition_message": "Hi"})),
            (manager, "/api/v1/points/award-to-user", json!({"to_user_id": alice_id, "recognition_message": "Hi"})),
            (manager, "/api/recognitions", json!({"to_user_id": alice_id, "points": 1})),
            (manager, "/api/recognitions", json!({"points": 1, "message": "Hi"})),
            (manager, "/api/users", user(json!({"password": null}))),
            (manager, "/api/users", user(json!({"email": null}))),
            (manager, "/api/users", user(json!({"role": null}))),
            (admin, "/api/tenants", json!({"name": "Beta"})),
            (admin, "/api/tenants", json!({"slug": "beta"})),
            (manager, "/api/departments", json!({})),
        ];
        for (token, path, body) in &posts {
            let reply = app.post(path, token, body.clone()).await;
            assert_eq!(reply.status, 400, "POST {path} with {body}: {reply:?}");
            assert_eq!(reply.body["code"], "invalid_field", "POST {path} with {body}: {reply:?}");
        }
        // A repeated field is ambiguous, so refused too.
        let repeated = format!(
            "{{\"tenant_id\": \"{tenant_id}\", \"amount\": 1, \"amount\": 1000}}"
        );
        raw(&app, Method::POST, "/api/v1/points/allocate-to-tenant", Some(admin), &repeated)
            .await
            .assert_error(400, "invalid_field");
        // An empty body is `{}`: the required fields are missing.
        raw(&app, Method::POST, "/api/v1/points/award-to-user", Some(manager), "")
            .await
            .assert_error(400, "invalid_field");
        raw(&app, Method::POST, "/api/auth/login", None, "")
            .await
            .assert_error(400, "invalid_field");
        app.request(Method::POST, "/api/auth/login", None, Some(&json!({"email": 1, "password": PASSWORD})), &[])
            .await
            .assert_error(400, "invalid_field");

        let patches: Vec<(String, &String, Value)> = vec![
            (format!("/api/users/{alice_id}"), manager, json!({"first_name": 5})),
            (format!("/api/users/{alice_id}"), manager, json!({"department_id": 5})),
            (format!("/api/users/{alice_id}"), manager, json!({"status": true})),
            (format!("/api/users/{alice_id}"), manager, json!({"role": ["lead"]})),
            (format!("/api/tenants/{tenant_id}"), admin, json!({"status": 1})),
            (format!("/api/tenants/{tenant_id}"), admin, json!({"name": {"en": "Acme"}})),
        ];
        for (path, token, body) in &patches {
            let reply = app.patch(path, token, body.clone()).await;
            assert_eq!(reply.status, 400, "PATCH {path} with {body}: {reply:?}");
            assert_eq!(reply.body["code"], "invalid_field", "PATCH {path} with {body}: {reply:?}");
        }
        assert_eq!(state(&app, &company).await, before);
        app.assert_ledger_consistent().await;
    }

    async fn invalid_amounts_are_refused_on_every_movement_and_move_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let admin = &app.admin_token;
        let manager = &company.manager.1;
        let lead = &company.lead.1;
        let (alice_id, _) = &company.alice;
        let (bob_id, _) = &company.bob;
        let (lead_id, _) = &company.lead;
        let clawback = format!("/api/v1/points/clawback/{}", company.tenant_id);
        let tenant_id = company.tenant_id.clone();
        // (caller, path, field, body with the amount, whether zero and null are valid there)
        type Body<'a> = Box<dyn Fn(Value) -> Value + 'a>;
        let movements: Vec<(&String, &str, &str, Body<'_>, bool)> = vec![
            (admin, "/api/v1/points/allocate-to-tenant", "amount",
                Box::new(move |amount| json!({"tenant_id": tenant_id, "amount": amount})), false),
            (admin, &clawback, "amount", Box::new(|amount| json!({"amount": amount})), false),
            (manager, "/api/v1/points/delegate-to-lead", "amount",
                Box::new(|amount| json!({"lead_id": lead_id, "amount": amount})), false),
            (manager, "/api/v1/points/recall-from-lead", "amount",
                Box::new(|amount| json!({"lead_id": lead_id, "amount": amount})), false),
            (manager, "/api/v1/points/award-to-user", "amount",
                Box::new(|amount| json!({"to_user_id": alice_id, "amount": amount, "recognition_message": "Hi"})), false),
            (lead, "/api/v1/points/award-to-user", "amount",
                Box::new(|amount| json!({"to_user_id": bob_id, "amount": amount, "recognition_message": "Hi"})), false),
            (manager, "/api/recognitions", "points",
                Box::new(|points| json!({"to_user_id": alice_id, "points": points, "message": "Hi"})), true),
            (lead, "/api/recognitions", "points",
                Box::new(|points| json!({"to_user_id": bob_id, "points": points, "message": "Hi"})), true),
        ];
        let zero_or_null = |amount: &Value| {
            amount.is_null()
                || ["0", "0.0", "\"0\"", "\"0.00\""].contains(&amount.to_string().as_str())
        };
        for (token, path, field, body, zero_allowed) in &movements {
            for amount in bad_amounts() {
                // Clawback and recall read a null amount as "all of it"; a recognition may
                // carry no points at all.
                if amount.is_null() && (path.contains("clawback") || path.contains("recall")) {
                    continue;
                }
                if *zero_allowed && zero_or_null(&amount) {
                    continue;
                }
                let reply = app.post(path, token, body(amount.clone())).await;
                assert_eq!(reply.status, 400, "{path} with {field} {amount}: {reply:?}");
                assert_eq!(reply.body["code"], "invalid_amount", "{path} with {field} {amount}: {reply:?}");
                let detail = reply.str("detail");
                assert!(detail.starts_with(&format!("{field} ")), "{detail}");
            }
            for amount in BAD_RAW_AMOUNTS {
                if *zero_allowed && ["-0", "0e5"].contains(amount) {
                    continue;
                }
                let text = body(json!("AMOUNT")).to_string().replace("\"AMOUNT\"", amount);
                let reply = raw(&app, Method::POST, path, Some(token), &text).await;
                assert_eq!(reply.status, 400, "{path} with {text}: {reply:?}");
                assert_eq!(reply.body["code"], "invalid_amount", "{path} with {text}: {reply:?}");
            }
        }
        // A negative or over-precise low-balance threshold is refused as well.
        for threshold in [json!(-1), json!("-1"), json!("1.001"), json!("abc"), json!(true)] {
            app.post(
                "/api/tenants",
                admin,
                json!({"name": "Beta", "slug": "beta", "low_balance_threshold": threshold}),
            )
            .await
            .assert_error(400, "invalid_amount");
            app.patch(
                &format!("/api/tenants/{}", company.tenant_id),
                admin,
                json!({"low_balance_threshold": threshold}),
            )
            .await
            .assert_error(400, "invalid_amount");
        }
        assert_eq!(state(&app, &company).await, before);
        app.assert_ledger_consistent().await;
    }

    async fn amounts_may_be_strings_or_numbers_and_come_back_canonical(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let (alice_id, alice) = &company.alice;
        let manager = &company.manager.1;
        let steps = [
            (json!("12.5"), "12.5", "12.5"),
            (json!(0.01), "0.01", "12.51"),
            (json!("0.09"), "0.09", "12.6"),
            (json!("007.40"), "7.4", "20"),
            (json!(2.50), "2.5", "22.5"),
            (json!(1e3), "1000", "1022.5"),
            (json!("48977.50"), "48977.5", "50000"),
        ];
        for (amount, allocated, balance) in steps {
            let reply = app.allocate(&company.tenant_id, amount.clone()).await;
            reply.assert_status(200);
            assert_eq!(reply.str("amount_allocated"), allocated, "allocating {amount}");
            assert_eq!(reply.str("new_allocation_balance"), balance, "allocating {amount}");
        }
        for (amount, text) in [("2.5e1", "25"), ("1E+2", "100"), ("125e-2", "1.25"), ("3.10", "3.1")] {
            let body = format!(
                "{{\"tenant_id\": \"{}\", \"amount\": {amount}}}",
                company.tenant_id
            );
            let reply = raw(&app, Method::POST, "/api/v1/points/allocate-to-tenant", Some(&app.admin_token), &body).await;
            reply.assert_status(200);
            assert_eq!(reply.str("amount_allocated"), text, "allocating {amount}");
        }
        assert_eq!(app.pool_balance(manager).await, "50129.35");
        let logs = app.get("/api/v1/points/allocation-logs?limit=3", &app.admin_token).await;
        let amounts: Vec<&str> = logs.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|log| log["amount"].as_str())
            .collect();
        assert_eq!(amounts, ["3.1", "1.25", "100"]);
        assert_eq!(logs.body["items"][0]["new_balance"], "50129.35");

        let award = app
            .post(
                "/api/v1/points/award-to-user",
                manager,
                json!({"to_user_id": alice_id, "amount": "12.50", "recognition_message": "Hi"}),
            )
            .await;
        award.assert_status(200);
        assert_eq!(award.str("amount_awarded"), "12.5");
        assert_eq!(award.str("source_balance_after"), "50116.85");
        let recognition = app
            .post(
                "/api/recognitions",
                manager,
                json!({"to_user_id": alice_id, "points": "0.10", "message": "Hi"}),
            )
            .await;
        recognition.assert_status(200);
        assert_eq!(recognition.str("points"), "0.1");
        assert_eq!(app.wallet_balance(alice).await, "12.6");
        let clawed = app
            .post(
                &format!("/api/v1/points/clawback/{}", company.tenant_id),
                &app.admin_token,
                json!({"amount": "116.75"}),
            )
            .await;
        clawed.assert_status(200);
        assert_eq!(clawed.str("amount_clawed_back"), "116.75");
        assert_eq!(clawed.str("new_allocation_balance"), "50000");
        app.assert_ledger_consistent().await;
    }

    async fn the_largest_amount_fits_and_one_hundredth_more_does_not(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let largest = app.allocate(&company.tenant_id, json!("9999999999999.99")).await;
        largest.assert_status(200);
        assert_eq!(largest.str("new_allocation_balance"), "9999999999999.99");
        let before = state(&app, &company).await;
        let full = app.allocate(&company.tenant_id, json!(0.01)).await;
        full.assert_error(400, "balance_too_large");
        app.allocate(&company.tenant_id, json!("10000000000000"))
            .await
            .assert_error(400, "invalid_amount");
        assert_eq!(state(&app, &company).await, before);
        assert_eq!(app.pool_balance(&company.manager.1).await, "9999999999999.99");
        app.assert_ledger_consistent().await;
    }

    async fn an_oversized_body_is_a_json_413_and_moves_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let note = "x".repeat(70 * 1024);
        let reply = app
            .post(
                "/api/v1/points/allocate-to-tenant",
                &app.admin_token,
                json!({"tenant_id": company.tenant_id, "amount": 10, "reference_note": note}),
            )
            .await;
        reply.assert_error(413, "payload_too_large");
        let login = app
            .request(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&json!({"email": "alice@acme.test", "password": note})),
                &[],
            )
            .await;
        login.assert_error(413, "payload_too_large");
        // Under the limit but over the longest note we keep: a 400, not a 413.
        let long = "x".repeat(2001);
        app.post(
            "/api/v1/points/allocate-to-tenant",
            &app.admin_token,
            json!({"tenant_id": company.tenant_id, "amount": 10, "reference_note": long}),
        )
        .await
        .assert_error(400, "invalid_field");
        app.post(
            "/api/recognitions",
            &company.manager.1,
            json!({"to_user_id": company.alice.0, "points": 1, "message": long}),
        )
        .await
        .assert_error(400, "invalid_field");
        app.post("/api/departments", &company.manager.1, json!({"name": "d".repeat(201)}))
            .await
            .assert_error(400, "invalid_field");
        assert_eq!(state(&app, &company).await, before);
        app.assert_ledger_consistent().await;
    }

    async fn unknown_routes_and_wrong_methods_answer_in_json(app: TestApp) {
        let company = app.company("acme", json!(0)).await;
        let token = Some(app.admin_token.as_str());
        for path in [
            "/api/nope",
            "/api/v1/points/nope",
            "/api/v2/points/allocate-to-tenant",
            "/api/users/a/b",
            "/api/tenants/",
        ] {
            for token in [token, None] {
                app.request(Method::GET, path, token, None, &[])
                    .await
                    .assert_error(404, "not_found");
            }
        }
        let tenant = format!("/api/tenants/{}", company.tenant_id);
        let clawback = format!("/api/v1/points/clawback/{}", company.tenant_id);
        for (method, path) in [
            (Method::DELETE, "/api/users"),
            (Method::PUT, tenant.as_str()),
            (Method::DELETE, tenant.as_str()),
            (Method::GET, "/api/v1/points/allocate-to-tenant"),
            (Method::GET, clawback.as_str()),
            (Method::POST, "/api/v1/points/journal"),
            (Method::PATCH, "/api/recognitions/"),
            (Method::GET, "/api/auth/login"),
            (Method::POST, "/healthz"),
        ] {
            app.request(method.clone(), path, token, Some(&json!({})), &[])
                .await
                .assert_error(405, "method_not_allowed");
        }
        assert_eq!(
            app.get(&tenant, &app.admin_token).await.str("name"),
            "Tenant acme"
        );
    }

    async fn bad_query_parameters_and_dates_are_json_400s(app: TestApp) {
        let company = setup(&app).await;
        let manager = &company.manager.1;
        let listings = [
            "/api/v1/points/allocation-logs",
            "/api/v1/points/billing-logs",
            "/api/v1/points/wallet-ledger",
            "/api/v1/points/journal",
        ];
        for path in listings.iter().chain(&["/api/recognitions", "/api/wallets/me/ledger"]) {
            for query in ["limit=abc", "limit=1.5", "offset=x", "limit=99999999999999999999", "limit="] {
                app.get(&format!("{path}?{query}"), manager)
                    .await
                    .assert_error(400, "invalid_query");
            }
        }
        for path in listings {
            for query in [
                "from=2026-13-01",
                "from=2026-02-30",
                "to=yesterday",
                "from=02/01/2026",
                "to=2026-02-01T25:00:00Z",
                "from=",
            ] {
                app.get(&format!("{path}?{query}"), manager)
                    .await
                    .assert_error(400, "invalid_date");
            }
            // Well-formed filters work: the future holds nothing yet, the past everything.
            let future = app.get(&format!("{path}?from=2999-01-01"), manager).await;
            future.assert_status(200);
            assert_eq!(future.body["total"], 0);
            let all = app
                .get(&format!("{path}?from=2000-01-01T00:00:00Z&to=2999-01-01&limit=0&offset=-5"), manager)
                .await;
            all.assert_status(200);
            assert_eq!(all.body["limit"], 1);
            assert_eq!(all.body["offset"], 0);
        }
        let big = app.get("/api/v1/points/journal?limit=100000", manager).await;
        big.assert_status(200);
        assert_eq!(big.body["limit"], 200);
    }

    async fn bad_fields_on_create_are_400_and_create_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let admin = &app.admin_token;
        let tenant = |field: &str, value: Value| {
            let mut body = json!({"name": "Beta", "slug": "beta"});
            body[field] = value;
            body
        };
        let long_slug = "x".repeat(64);
        let tenant_cases = [
            (tenant("slug", json!("Bad Slug")), "invalid_slug"),
            (tenant("slug", json!("UPPER")), "invalid_slug"),
            (tenant("slug", json!("-lead")), "invalid_slug"),
            (tenant("slug", json!("a")), "invalid_slug"),
            (tenant("slug", json!(long_slug)), "invalid_slug"),
            (tenant("slug", json!("ümlaut")), "invalid_slug"),
            (tenant("slug", json!("under_score")), "invalid_slug"),
            (tenant("slug", json!("")), "invalid_slug"),
            (tenant("name", json!("")), "invalid_field"),
            (tenant("name", json!("   ")), "invalid_field"),
            (tenant("currency", json!("RUPEE")), "invalid_currency"),
            (tenant("currency", json!("12")), "invalid_currency"),
            (tenant("funding_mode", json!("cash")), "invalid_field"),
            (tenant("currency_label", json!("")), "invalid_field"),
        ];
        for (body, code) in tenant_cases {
            let reply = app.post("/api/tenants", admin, body.clone()).await;
            assert_eq!(reply.status, 400, "{body}: {reply:?}");
            assert_eq!(reply.body["code"], code, "{body}: {reply:?}");
        }
        let user = |field: &str, value: Value| {
            let mut body = json!({
                "email": "new@acme.test", "password": PASSWORD, "first_name": "New",
                "last_name": "Hire", "role": "employee",
            });
            body[field] = value;
            body
        };
        let user_cases = [
            (user("email", json!("nope")), "invalid_email"),
            (user("email", json!("a@b")), "invalid_email"),
            (user("email", json!("a b@acme.test")), "invalid_email"),
            (user("email", json!("@acme.test")), "invalid_email"),
            (user("email", json!("")), "invalid_email"),
            (user("password", json!("short")), "invalid_password"),
            (user("password", json!("")), "invalid_password"),
            (user("password", json!("p".repeat(257))), "invalid_password"),
            (user("role", json!("owner")), "invalid_field"),
            (user("role", json!("Employee")), "invalid_field"),
            (user("role", json!("")), "invalid_field"),
            (user("first_name", json!("")), "invalid_field"),
            (user("last_name", json!(" ")), "invalid_field"),
        ];
        for (body, code) in user_cases {
            for token in [&company.manager.1, admin] {
                let mut body = body.clone();
                if token == admin {
                    body["tenant_id"] = json!(company.tenant_id);
                }
                let reply = app.post("/api/users", token, body.clone()).await;
                assert_eq!(reply.status, 400, "{body}: {reply:?}");
                assert_eq!(reply.body["code"], code, "{body}: {reply:?}");
            }
        }
        for patch in [json!({"role": "owner"}), json!({"status": "gone"}), json!({"first_name": ""})] {
            app.patch(&format!("/api/users/{}", company.alice.0), &company.manager.1, patch)
                .await
                .assert_error(400, "invalid_field");
        }
        for patch in [json!({"status": "Suspended"}), json!({"name": ""})] {
            app.patch(&format!("/api/tenants/{}", company.tenant_id), admin, patch)
                .await
                .assert_error(400, "invalid_field");
        }
        app.post("/api/users", admin, user("role", json!("employee")))
            .await
            .assert_error(400, "tenant_id_required");
        assert_eq!(state(&app, &company).await, before);
    }

    async fn duplicate_slugs_emails_and_departments_are_conflicts(app: TestApp) {
        let company = setup(&app).await;
        let other = app.create_tenant("other").await;
        let before = state(&app, &company).await;
        app.post("/api/tenants", &app.admin_token, json!({"name": "Again", "slug": "acme"}))
            .await
            .assert_error(409, "slug_taken");
        app.post("/api/tenants", &app.admin_token, json!({"name": "Again", "slug": " acme "}))
            .await
            .assert_error(409, "slug_taken");
        for (token, tenant_id, email) in [
            (&company.manager.1, None, "alice@acme.test"),
            (&company.manager.1, None, "ALICE@Acme.Test"),
            (&app.admin_token, Some(other.as_str()), "alice@acme.test"),
            (&app.admin_token, Some(company.tenant_id.as_str()), "root@platform.test"),
        ] {
            let reply = app
                .post(
                    "/api/users",
                    token,
                    json!({
                        "tenant_id": tenant_id, "email": email, "password": PASSWORD,
                        "first_name": "Twin", "last_name": "User", "role": "employee",
                    }),
                )
                .await;
            reply.assert_error(409, "email_taken");
        }
        app.post("/api/departments", &company.manager.1, json!({"name": "Sales"}))
            .await
            .assert_error(409, "department_exists");
        // The same department name in another tenant is fine.
        app.post(
            "/api/departments",
            &app.admin_token,
            json!({"tenant_id": other, "name": "Sales"}),
        )
        .await
        .assert_status(201);
        let mut after = state(&app, &company).await;
        assert_eq!(after["departments"], json!(2));
        after["departments"] = before["departments"].clone();
        assert_eq!(after, before);
        // The original alice is untouched and can still log in.
        assert_eq!(app.get("/api/auth/me", &app.login("alice@acme.test").await).await.str("first_name"), "Test");
    }

    async fn text_with_nul_characters_is_refused_on_every_backend(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let manager = &company.manager.1;
        let (alice_id, _) = &company.alice;
        let posts = [
            (manager, "/api/departments", json!({"name": "Sa\u{0}les"})),
            (manager, "/api/recognitions", json!({"to_user_id": alice_id, "points": 1, "message": "Hi\u{0}"})),
            (manager, "/api/recognitions", json!({"to_user_id": format!("{alice_id}\u{0}"), "message": "Hi"})),
            (manager, "/api/v1/points/award-to-user", json!({"to_user_id": alice_id, "amount": 1, "recognition_message": "\u{0}"})),
            (manager, "/api/users", json!({
                "email": "nul@acme.test", "password": PASSWORD, "first_name": "N\u{0}",
                "last_name": "Ul", "role": "employee",
            })),
            (&app.admin_token, "/api/v1/points/allocate-to-tenant",
                json!({"tenant_id": company.tenant_id, "amount": 1, "reference_note": "\u{0}x"})),
        ];
        for (token, path, body) in posts {
            app.post(path, token, body).await.assert_error(400, "invalid_field");
        }
        app.request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(&json!({"email": "alice@acme.test\u{0}", "password": PASSWORD})),
            &[],
        )
        .await
        .assert_error(400, "invalid_field");
        app.patch(&format!("/api/users/{alice_id}"), manager, json!({"last_name": "\u{0}"}))
            .await
            .assert_error(400, "invalid_field");
        for path in [
            "/api/users/%00".to_owned(),
            format!("/api/tenants/{}%00", company.tenant_id),
            format!("/api/users?tenant_id=%00{}", company.tenant_id),
            "/api/v1/points/journal?actor_id=%00".to_owned(),
            "/api/v1/points/tenant-allocation-stats?tenant_id=%00".to_owned(),
        ] {
            app.get(&path, &app.admin_token).await.assert_error(400, "invalid_uri");
        }
        app.post("/api/v1/points/clawback/%00", &app.admin_token, json!({}))
            .await
            .assert_error(400, "invalid_uri");
        // An escaped backslash before `u0000` is ordinary text.
        let fine = app.post("/api/departments", manager, json!({"name": "Back\\u0000slash"})).await;
        fine.assert_status(201);
        assert_eq!(fine.str("name"), "Back\\u0000slash");
        let mut after = state(&app, &company).await;
        after["departments"] = before["departments"].clone();
        assert_eq!(after, before);
        app.assert_ledger_consistent().await;
    }

    async fn bad_idempotency_keys_are_refused_and_move_nothing(app: TestApp) {
        let company = setup(&app).await;
        let before = state(&app, &company).await;
        let body = json!({"to_user_id": company.alice.0, "amount": 5, "recognition_message": "Hi"});
        let long = "k".repeat(256);
        for key in ["", long.as_str(), "clé"] {
            app.request(
                Method::POST,
                "/api/v1/points/award-to-user",
                Some(&company.manager.1),
                Some(&body),
                &[("Idempotency-Key", key)],
            )
            .await
            .assert_error(400, "invalid_idempotency_key");
        }
        assert_eq!(state(&app, &company).await, before);
    }

    async fn the_openapi_document_lists_every_route_and_every_listed_route_exists(app: TestApp) {
        let doc = app.request(Method::GET, "/api/openapi.json", None, None, &[]).await;
        doc.assert_status(200);
        let paths = doc.body["paths"].as_object().expect("paths");
        let expected = [
            ("/healthz", vec!["get"]),
            ("/api/auth/login", vec!["post"]),
            ("/api/auth/logout", vec!["post"]),
            ("/api/auth/me", vec!["get"]),
            ("/api/tenants", vec!["get", "post"]),
            ("/api/tenants/{id}", vec!["get", "patch"]),
            ("/api/users", vec!["get", "post"]),
            ("/api/users/{id}", vec!["get", "patch"]),
            ("/api/departments", vec!["get", "post"]),
            ("/api/recognitions", vec!["get", "post"]),
            ("/api/wallets/me", vec!["get"]),
            ("/api/wallets/me/ledger", vec!["get"]),
            ("/api/v1/points/allocate-to-tenant", vec!["post"]),
            ("/api/v1/points/tenant-allocation-stats", vec!["get"]),
            ("/api/v1/points/delegate-to-lead", vec!["post"]),
            ("/api/v1/points/recall-from-lead", vec!["post"]),
            ("/api/v1/points/award-to-user", vec!["post"]),
            ("/api/v1/points/clawback/{tenant_id}", vec!["post"]),
            ("/api/v1/points/allocation-logs", vec!["get"]),
            ("/api/v1/points/billing-logs", vec!["get"]),
            ("/api/v1/points/wallet-ledger", vec!["get"]),
            ("/api/v1/points/journal", vec!["get"]),
        ];
        for (path, methods) in &expected {
            let operations = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not documented"));
            for method in methods {
                assert!(operations.get(*method).is_some(), "{method} {path} is not documented");
            }
        }
        // Every part of the API that lib.rs mounts is documented.
        for prefix in ["/api/rewards", "/api/redemptions", "/api/notifications"] {
            assert!(
                paths.keys().any(|path| path.starts_with(prefix)),
                "nothing under {prefix} is documented"
            );
        }
        // Every documented operation is served: none falls through to "no such endpoint" or
        // "method not allowed". Some answer in other formats (CSV), so the body is read as text.
        for (path, operations) in paths {
            let concrete: String = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            for method in operations.as_object().expect("operations").keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let response = app
                    .client
                    .request(method.clone(), format!("{}{concrete}", app.base_url))
                    .send()
                    .await
                    .expect("request sent");
                let status = response.status();
                let text = response.text().await.expect("body");
                let fell_through = (status == 404 && text.contains("\"not_found\""))
                    || status == 405;
                assert!(!fell_through, "{method} {concrete} is documented but not served: {status} {text}");
            }
        }
        let schemes = &doc.body["components"]["securitySchemes"]["bearer"];
        assert_eq!(schemes["scheme"], "bearer");
    }
}
