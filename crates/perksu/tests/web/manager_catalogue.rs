//! The manager's catalogue pages: rewards (add, preview, edit, retire) and the order queue
//! (approve, ship, deliver, cancel with refund), each checked against the JSON API.

use serde_json::{json, Value};

use crate::backend_tests;

use crate::browser::Browser;
use crate::common::{Company, TestApp};

const ALICE: &str = "alice@acme.test";
const MANAGER: &str = "manager@acme.test";

/// A reward made through the JSON API by the company's manager; returns its id.
async fn api_reward(app: &TestApp, company: &Company, item: Value) -> String {
    let reply = app.post("/api/rewards", &company.manager.1, item).await;
    reply.assert_status(201);
    reply.str("id")
}

/// Gives Alice `amount` points (none for 0) and has her order one unit of `item_id`; returns
/// the order id.
async fn alice_orders(app: &TestApp, company: &Company, item_id: &str, amount: i64) -> String {
    let (alice_id, alice_token) = &company.alice;
    if amount > 0 {
        app.post(
            "/api/v1/points/award-to-user",
            &company.manager.1,
            json!({"to_user_id": alice_id, "amount": amount, "recognition_message": "Shop money"}),
        )
        .await
        .assert_status(200);
    }
    let order = app
        .post(
            "/api/redemptions",
            alice_token,
            json!({"item_id": item_id, "shipping_address": "1 Main St"}),
        )
        .await;
    order.assert_status(201);
    order.str("id")
}

async fn order_status(app: &TestApp, company: &Company, order_id: &str) -> Value {
    let order = app
        .get(&format!("/api/redemptions/{order_id}"), &company.manager.1)
        .await;
    order.assert_status(200);
    order.body.clone()
}

/// The fields of a whole reward form, with `changes` applied.
fn reward_fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("kind", "merchandise"),
        ("name", "Team Hoodie"),
        ("description", "Warm"),
        ("category", "Apparel"),
        ("brand", ""),
        ("face_value", "40"),
        ("denominations", ""),
        ("stock", "5"),
        ("status", "active"),
        ("markup_percent", "0"),
        ("action", "save"),
    ];
    for (name, value) in changes {
        if let Some(field) = fields.iter_mut().find(|(n, _)| n == name) {
            field.1 = value;
        }
    }
    fields
}

async fn catalogue(app: &TestApp, company: &Company) -> Vec<Value> {
    let list = app
        .get("/api/rewards?include_archived=true", &company.manager.1)
        .await;
    list.assert_status(200);
    list.body.as_array().cloned().unwrap_or_default()
}

backend_tests! {
    async fn an_employee_gets_no_catalogue_or_order_page_and_their_posts_change_nothing(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let item = api_reward(&app, &company, json!({"kind": "custom", "name": "Lunch", "face_value": 10})).await;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        for path in [
            "/manager/rewards".to_owned(),
            "/manager/rewards/new".to_owned(),
            format!("/manager/rewards/{item}"),
            "/manager/orders".to_owned(),
            "/manager/badges".to_owned(),
            "/manager/settings/webhook".to_owned(),
        ] {
            alice.get(&path).await.assert_status(403).assert_contains("Not allowed");
        }
        let token = alice.get("/me").await.csrf_token();
        let mut fields = reward_fields(&[("name", "Forged")]);
        fields.push(("csrf_token", &token));
        alice.post("/manager/rewards/new", &fields).await.assert_status(403);
        alice
            .post(&format!("/manager/rewards/{item}/retire"), &[("confirm", "yes"), ("csrf_token", &token)])
            .await
            .assert_status(403);
        let rewards = catalogue(&app, &company).await;
        assert_eq!(rewards.len(), 1, "{rewards:?}");
        assert_eq!(rewards[0]["status"], "active");
    }

    async fn catalogue_and_order_forms_without_a_valid_token_are_refused(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let item = api_reward(&app, &company, json!({"kind": "merchandise", "name": "Mug", "face_value": 10, "stock": 3})).await;
        let order = alice_orders(&app, &company, &item, 100).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager.get("/manager/orders").await.assert_status(200);
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            ("/manager/rewards/new".to_owned(), reward_fields(&[("name", "Forged")])),
            (format!("/manager/rewards/{item}"), reward_fields(&[("name", "Renamed")])),
            (format!("/manager/rewards/{item}/retire"), vec![("confirm", "yes")]),
            (format!("/manager/orders/{order}/ship"), vec![("tracking_number", "T1")]),
            (format!("/manager/orders/{order}/cancel"), vec![]),
            ("/manager/badges".to_owned(), vec![("name", "Forged"), ("icon", "star")]),
            ("/manager/settings/webhook".to_owned(), vec![("remove", "yes")]),
        ];
        for (path, fields) in &posts {
            for token in [None, Some("0".repeat(64))] {
                let mut fields = fields.clone();
                if let Some(token) = token.as_deref() {
                    fields.push(("csrf_token", token));
                }
                manager
                    .post(path, &fields)
                    .await
                    .assert_status(403)
                    .assert_contains("Nothing was changed");
            }
        }
        let rewards = catalogue(&app, &company).await;
        assert_eq!(rewards.len(), 1);
        assert_eq!(rewards[0]["name"], "Mug");
        assert_eq!(rewards[0]["status"], "active");
        assert_eq!(order_status(&app, &company, &order).await["status"], "pending");
        assert_eq!(app.wallet_balance(&company.alice.1).await, "90");
        let badges = app.get("/api/badges", &company.manager.1).await;
        assert!(!badges.body.to_string().contains("Forged"), "{:?}", badges.body);
    }

    async fn a_manager_previews_adds_and_edits_a_reward_and_the_api_agrees(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let form = manager.get("/manager/rewards/new").await;
        form.assert_status(200)
            .assert_contains("name=\"markup_percent\"")
            .assert_contains("value=\"preview\"");
        // 40 at one point per unit and 12.5 % markup: 45 points. Nothing is saved.
        manager
            .submit(
                "/manager/rewards/new",
                "/manager/rewards/new",
                &reward_fields(&[("markup_percent", "12.5"), ("action", "preview")]),
            )
            .await
            .assert_status(200)
            .assert_contains("data-preview-price=\"45\"")
            .assert_contains("value=\"Team Hoodie\"");
        assert!(catalogue(&app, &company).await.is_empty());
        manager
            .submit(
                "/manager/rewards/new",
                "/manager/rewards/new",
                &reward_fields(&[("markup_percent", "12.5")]),
            )
            .await
            .assert_redirect("/manager/rewards");
        let rewards = catalogue(&app, &company).await;
        assert_eq!(rewards.len(), 1, "{rewards:?}");
        assert_eq!(rewards[0]["name"], "Team Hoodie");
        assert_eq!(rewards[0]["points_from"], "45");
        assert_eq!(rewards[0]["stock"], 5);
        let tenant = app.get(&format!("/api/tenants/{}", company.tenant_id), &company.manager.1).await;
        assert_eq!(tenant.body["redemption_markup_percent"], "12.5");
        let id = rewards[0]["id"].as_str().unwrap_or_default().to_owned();
        manager
            .get("/manager/rewards")
            .await
            .assert_status(200)
            .assert_contains("Saved Team Hoodie.")
            .assert_contains(&format!("/manager/rewards/{id}"))
            .assert_contains(">45<");
        // Edited: the stock and the name change, the kind stays merchandise.
        let edit = format!("/manager/rewards/{id}");
        manager
            .submit(
                &edit,
                &edit,
                &reward_fields(&[("kind", "custom"), ("name", "Hoodie"), ("stock", "2"), ("markup_percent", "12.5")]),
            )
            .await
            .assert_redirect("/manager/rewards");
        let reward = app.get(&format!("/api/rewards/{id}"), &company.manager.1).await;
        assert_eq!(reward.body["name"], "Hoodie");
        assert_eq!(reward.body["stock"], 2);
        assert_eq!(reward.body["kind"], "merchandise");
    }

    async fn a_bad_reward_form_is_refused_beside_it_and_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let new = "/manager/rewards/new";
        for (changes, status, message) in [
            (vec![("markup_percent", "1000.01")], 400, "Markup must be at most 1000 percent"),
            (vec![("markup_percent", "1000.01"), ("action", "preview")], 400, "Markup must be at most 1000 percent"),
            (vec![("stock", "")], 400, "merchandise needs a stock count"),
            (vec![("denominations", "10, 20")], 400, "give either face_value or up to 20 denominations"),
            (vec![("face_value", "-3")], 400, "Face value must not be negative"),
            (vec![("name", " ")], 400, "name must not be empty"),
        ] {
            manager
                .submit(new, new, &reward_fields(&changes))
                .await
                .assert_status(status)
                .assert_contains("id=\"reward-error\"")
                .assert_contains(message)
                .assert_contains(">Warm</textarea>");
        }
        assert!(catalogue(&app, &company).await.is_empty());
        let tenant = app.get(&format!("/api/tenants/{}", company.tenant_id), &company.manager.1).await;
        assert_eq!(tenant.body["redemption_markup_percent"], "0");
    }

    async fn retiring_a_reward_needs_the_confirmation_and_hides_it_from_employees(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let item = api_reward(&app, &company, json!({"kind": "custom", "name": "Day Off", "face_value": 100})).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let edit = format!("/manager/rewards/{item}");
        let retire = format!("{edit}/retire");
        manager
            .submit(&edit, &retire, &[])
            .await
            .assert_status(400)
            .assert_contains("id=\"retire-error\"")
            .assert_contains("Tick the box to confirm");
        assert_eq!(catalogue(&app, &company).await[0]["status"], "active");
        manager
            .submit(&edit, &retire, &[("confirm", "yes")])
            .await
            .assert_redirect("/manager/rewards");
        assert_eq!(catalogue(&app, &company).await[0]["status"], "archived");
        manager.get("/manager/rewards").await.assert_contains("retired");
        let employees_see = app.get("/api/rewards", &company.alice.1).await;
        assert_eq!(employees_see.body.as_array().map(Vec::len), Some(0));
    }

    async fn the_order_queue_approves_ships_and_delivers_as_the_api_reports(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let item = api_reward(&app, &company, json!({"kind": "merchandise", "name": "Mug", "face_value": 30, "stock": 3})).await;
        let order = alice_orders(&app, &company, &item, 100).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager
            .get("/manager/orders")
            .await
            .assert_status(200)
            .assert_contains("data-order-status=\"pending\"")
            .assert_contains(&format!("/manager/orders/{order}/approve"))
            .assert_contains(&format!("/manager/orders/{order}/cancel"));
        let page = "/manager/orders";
        manager
            .submit(page, &format!("{page}/{order}/approve"), &[])
            .await
            .assert_redirect(page);
        assert_eq!(order_status(&app, &company, &order).await["status"], "processing");
        manager
            .submit(page, &format!("{page}/{order}/ship"), &[("tracking_number", "TRK-42"), ("status", "processing")])
            .await
            .assert_redirect("/manager/orders?status=processing");
        let shipped = order_status(&app, &company, &order).await;
        assert_eq!(shipped["status"], "shipped");
        assert_eq!(shipped["tracking_number"], "TRK-42");
        // The filter shows only what matches.
        manager.get("/manager/orders?status=shipped").await.assert_contains("TRK-42");
        let pending = manager.get("/manager/orders?status=pending").await;
        pending.assert_status(200).assert_contains("No orders with this status");
        manager
            .get("/manager/orders?status=lost")
            .await
            .assert_status(400)
            .assert_contains("Status must be one of");
        manager
            .submit(page, &format!("{page}/{order}/deliver"), &[])
            .await
            .assert_redirect(page);
        assert_eq!(order_status(&app, &company, &order).await["status"], "delivered");
        assert_eq!(app.wallet_balance(&company.alice.1).await, "70");
        app.assert_ledger_consistent().await;
    }

    async fn cancelling_an_order_refunds_the_wallet_exactly_and_a_refused_move_is_shown_beside_it(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let item = api_reward(&app, &company, json!({"kind": "merchandise", "name": "Mug", "face_value": 30.25, "stock": 3})).await;
        let order = alice_orders(&app, &company, &item, 100).await;
        assert_eq!(app.wallet_balance(&company.alice.1).await, "69.75");
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let page = "/manager/orders";
        manager
            .submit(page, &format!("{page}/{order}/cancel"), &[])
            .await
            .assert_redirect(page);
        assert_eq!(order_status(&app, &company, &order).await["status"], "rejected");
        assert_eq!(app.wallet_balance(&company.alice.1).await, "100");
        manager
            .get(page)
            .await
            .assert_contains("30.25 points are back in the wallet");
        // A stale form: shipping the cancelled order is refused in the API's words.
        manager
            .submit(page, &format!("{page}/{order}/ship"), &[("tracking_number", "T1")])
            .await
            .assert_status(409)
            .assert_contains(&format!("id=\"order-{order}-error\""))
            .assert_contains("A redemption that is rejected cannot become shipped");
        // The employee's own cancellation closes it just the same.
        let second = alice_orders(&app, &company, &item, 0).await;
        app.post(&format!("/api/redemptions/{second}/cancel"), &company.alice.1, json!({}))
            .await
            .assert_status(200);
        manager
            .submit(page, &format!("{page}/{second}/ship"), &[])
            .await
            .assert_status(409)
            .assert_contains("A redemption that is cancelled cannot become shipped");
        manager
            .submit(page, &format!("{page}/{second}/lose"), &[])
            .await
            .assert_status(400);
        assert_eq!(order_status(&app, &company, &second).await["status"], "cancelled");
        assert_eq!(app.wallet_balance(&company.alice.1).await, "100");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_adds_a_badge_and_a_bad_or_taken_name_is_refused_beside_the_form(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let page = "/manager/badges";
        manager.get(page).await.assert_status(200).assert_contains("Team Player");
        manager
            .submit(page, page, &[("name", "Night Owl"), ("description", "Shipped at 2 am"), ("icon", "owl")])
            .await
            .assert_redirect(page);
        manager.get(page).await.assert_contains("Added the badge Night Owl.").assert_contains("Your company");
        manager
            .submit(page, page, &[("name", "Early Bird"), ("icon", "Big Bird")])
            .await
            .assert_status(400)
            .assert_contains("id=\"badge-error\"")
            .assert_contains("icon must be one word")
            .assert_contains("value=\"Early Bird\"");
        manager
            .submit(page, page, &[("name", "night owl"), ("icon", "owl")])
            .await
            .assert_status(409)
            .assert_contains("A badge with this name already exists");
        let badges = app.get("/api/badges", &company.manager.1).await;
        let own: Vec<&Value> = badges
            .body
            .as_array()
            .map(|all| all.iter().filter(|b| b["system"] == false).collect())
            .unwrap_or_default();
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0]["name"], "Night Owl");
        assert_eq!(own[0]["icon"], "owl");
    }

    async fn the_webhook_page_sets_and_removes_the_webhook_with_the_api_checks(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let tenant_path = format!("/api/tenants/{}", company.tenant_id);
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let page = "/manager/settings/webhook";
        for (fields, status, message) in [
            (vec![("url", "ftp://hooks.example.test/")], 400, "alert_webhook_url must use http or https"),
            (vec![("url", "https://hooks.example.test/in"), ("secret", "short")], 400, "alert_webhook_secret must be 16 to 256"),
            (vec![("url", "https://hooks.example.test/in")], 400, "needs alert_webhook_secret"),
            (vec![("url", "")], 400, "Give the webhook"),
        ] {
            manager
                .submit(page, page, &fields)
                .await
                .assert_status(status)
                .assert_contains("id=\"webhook-error\"")
                .assert_contains(message);
        }
        let unchanged = app.get(&tenant_path, &company.manager.1).await;
        assert_eq!(unchanged.body["alert_webhook_url"], Value::Null);
        manager
            .submit(page, page, &[("url", "https://hooks.example.test/in"), ("secret", "a-long-enough-secret")])
            .await
            .assert_redirect(page);
        let set = app.get(&tenant_path, &company.manager.1).await;
        assert_eq!(set.body["alert_webhook_url"], "https://hooks.example.test/in");
        assert_eq!(set.body["alert_webhook_secret_set"], true);
        let shown = manager.get(page).await;
        shown.assert_contains("A secret is stored");
        assert!(!shown.body.contains("a-long-enough-secret"), "the secret is write-only");
        manager.submit(page, page, &[("remove", "yes")]).await.assert_redirect(page);
        let removed = app.get(&tenant_path, &company.manager.1).await;
        assert_eq!(removed.body["alert_webhook_url"], Value::Null);
        assert_eq!(removed.body["alert_webhook_secret_set"], false);
    }

    async fn the_dashboard_lists_the_low_balance_alerts_that_fired(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager.get("/manager").await.assert_contains("No balance has fallen below its alert mark");
        app.patch(
            &format!("/api/tenants/{}", company.tenant_id),
            &company.manager.1,
            json!({"low_balance_threshold": "99000"}),
        )
        .await
        .assert_status(200);
        app.post(
            "/api/v1/points/award-to-user",
            &company.manager.1,
            json!({"to_user_id": company.alice.0, "amount": 2000, "recognition_message": "Launch"}),
        )
        .await
        .assert_status(200);
        let alerts = app.get("/api/v1/points/alerts", &company.manager.1).await;
        alerts.assert_status(200);
        assert_eq!(alerts.body["total"], 1, "{:?}", alerts.body);
        let dashboard = manager.get("/manager").await;
        dashboard
            .assert_status(200)
            .assert_contains("data-alert")
            .assert_contains("Company pool")
            .assert_contains("98,000")
            .assert_contains("99,000");
        assert_eq!(dashboard.body.matches("data-alert>").count(), 1);
    }
}
