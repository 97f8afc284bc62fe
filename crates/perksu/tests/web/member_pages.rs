//! The pages of employees and leads: recognising through the form, the feed with reactions
//! and comments, the wallet, the catalogue and its orders, notifications and the lead's page,
//! each checked against the JSON API.

use serde_json::{json, Value};

use crate::backend_tests;

use crate::browser::Browser;
use crate::common::{Company, TestApp};

const ALICE: &str = "alice@acme.test";
const BOB: &str = "bob@acme.test";
const LEAD: &str = "lead@acme.test";
const MANAGER: &str = "manager@acme.test";

/// Alice recognises `to` through the form, as a person would.
async fn recognise(browser: &mut Browser, fields: &[(&str, &str)]) -> crate::browser::Page {
    browser
        .submit("/me/recognise", "/me/recognise", fields)
        .await
}

/// The newest recognition `token` can see.
async fn latest_recognition(app: &TestApp, token: &str) -> Value {
    let list = app.get("/api/recognitions", token).await;
    list.assert_status(200);
    list.body[0].clone()
}

/// A reward in the company's catalogue, made by its manager; returns its id.
async fn reward(app: &TestApp, company: &Company, item: Value) -> String {
    let reply = app.post("/api/rewards", &company.manager.1, item).await;
    reply.assert_status(201);
    reply.str("id")
}

/// Gives `user_id` points out of the pool, as the manager.
async fn award(app: &TestApp, company: &Company, user_id: &str, amount: i64) {
    app.post(
        "/api/v1/points/award-to-user",
        &company.manager.1,
        json!({"to_user_id": user_id, "amount": amount, "recognition_message": "Shop money"}),
    )
    .await
    .assert_status(200);
}

backend_tests! {
    async fn an_employee_recognises_a_colleague_through_the_form(app: TestApp) {
        let company = app.company("acme", json!(10000)).await;
        let (bob_id, bob_token) = &company.bob;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let form = alice.get("/me/recognise").await;
        form.assert_status(200)
            .assert_contains("name=\"to_user_id\"")
            .assert_contains(bob_id)
            .assert_contains("name=\"badge_id\"")
            .assert_contains("name=\"ecard_template\"");
        // An employee is not offered awards, and not themselves.
        assert!(!form.body.contains("value=\"group_award\""));
        assert!(!form.body.contains(&format!("value=\"{}\"", company.alice.0)));
        recognise(
            &mut alice,
            &[
                ("recognition_type", "standard"),
                ("to_user_id", bob_id),
                ("points", "50"),
                ("visibility", "public"),
                ("badge_id", "00000000-0000-7000-8000-000000000001"),
                ("message", "Thanks for the <review>"),
            ],
        )
        .await
        .assert_redirect("/me/feed");
        assert_eq!(app.wallet_balance(bob_token).await, "50");
        assert_eq!(app.pool_balance(&company.manager.1).await, "9950");
        let feed = alice.get("/me/feed").await;
        feed.assert_status(200)
            .assert_contains("You recognised Test employee worth 50 Points")
            .assert_contains("Thanks for the &#60;review&#62;")
            .assert_contains("Team Player")
            .assert_contains("+50 Points");
        let recognition = latest_recognition(&app, bob_token).await;
        assert_eq!(recognition["badge_id"], "00000000-0000-7000-8000-000000000001");
        assert_eq!(recognition["funding_source"], "pool");
        // Bob sees it in his wallet and his notifications.
        let mut bob = Browser::signed_in(&app, BOB).await;
        bob.get("/me/wallet")
            .await
            .assert_status(200)
            .assert_contains("data-balance=\"50\"")
            .assert_contains("Recognition")
            .assert_contains("+50");
        bob.get("/me").await.assert_status(200).assert_contains("1 unread notification");
        bob.get("/me/notifications")
            .await
            .assert_contains("1 unread")
            .assert_contains(&format!("/me/recognitions/{}", recognition["id"].as_str().unwrap_or_default()));
        bob.submit("/me/notifications", "/me/notifications/read", &[])
            .await
            .assert_redirect("/me/notifications");
        bob.get("/me/notifications").await.assert_contains("Everything is read");
        let unread = app.get("/api/notifications/unread-count", bob_token).await;
        assert_eq!(unread.body["unread"], 0);
        app.assert_ledger_consistent().await;
    }

    async fn a_recognition_the_pool_cannot_fund_is_refused_beside_the_form(app: TestApp) {
        let company = app.company("acme", json!(100)).await;
        let (bob_id, bob_token) = &company.bob;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let page = recognise(
            &mut alice,
            &[("to_user_id", bob_id), ("points", "500"), ("message", "Kept message")],
        )
        .await;
        page.assert_status(400)
            .assert_contains("Insufficient company allocation pool. Available: 100, Required: 500")
            .assert_contains("id=\"recognise-error\"")
            .assert_contains("value=\"500\"")
            .assert_contains("Kept message");
        // The recipient stays chosen.
        page.assert_contains(&format!("value=\"{bob_id}\" selected"));
        assert_eq!(app.wallet_balance(bob_token).await, "0");
        assert_eq!(app.pool_balance(&company.manager.1).await, "100");
        // Plain words for a form left half-filled.
        recognise(&mut alice, &[("points", "5"), ("message", "Hi")])
            .await
            .assert_status(400)
            .assert_contains("Choose the colleague you are recognising");
        recognise(&mut alice, &[("to_user_id", bob_id), ("points", "1.234"), ("message", "Hi")])
            .await
            .assert_status(400)
            .assert_contains("Points may have at most two decimals");
        // An employee cannot give an award, even by editing the form.
        recognise(
            &mut alice,
            &[("recognition_type", "individual_award"), ("to_user_id", bob_id),
              ("award_tier", "Bronze"), ("message", "Hi")],
        )
        .await
        .assert_status(403)
        .assert_contains("Awards are given by leads and tenant managers");
        // With peer-to-peer points off, the form says so and the store refuses.
        app.patch(
            &format!("/api/tenants/{}", company.tenant_id),
            &company.manager.1,
            json!({"peer_to_peer_enabled": false}),
        )
        .await
        .assert_status(200);
        alice.get("/me/recognise").await.assert_contains("turned off giving points");
        recognise(&mut alice, &[("to_user_id", bob_id), ("points", "5"), ("message", "Hi")])
            .await
            .assert_status(403)
            .assert_contains("Peer-to-peer recognition with points is turned off");
        assert_eq!(app.wallet_balance(bob_token).await, "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_member_post_without_the_form_token_is_refused_and_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (bob_id, bob_token) = &company.bob;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        alice.get("/me/recognise").await.assert_status(200);
        let mut bob = Browser::signed_in(&app, BOB).await;
        let bobs_token = bob.get("/me").await.csrf_token();
        let fields = [("to_user_id", bob_id.as_str()), ("points", "10"), ("message", "Forged")];
        for token in [None, Some("0".repeat(64)), Some(bobs_token)] {
            let mut sent = fields.to_vec();
            if let Some(token) = token.as_deref() {
                sent.push(("csrf_token", token));
            }
            alice
                .post("/me/recognise", &sent)
                .await
                .assert_status(403)
                .assert_contains("Nothing was changed");
        }
        assert_eq!(app.wallet_balance(bob_token).await, "0");
        assert_eq!(app.pool_balance(&company.manager.1).await, "1000");
        // Reactions, comments and orders are forms too.
        recognise(&mut alice, &[("to_user_id", bob_id), ("message", "Real")])
            .await
            .assert_redirect("/me/feed");
        let id = latest_recognition(&app, bob_token).await["id"].as_str().unwrap_or_default().to_owned();
        alice
            .post(&format!("/me/recognitions/{id}/reactions"), &[("kind", "like")])
            .await
            .assert_status(403);
        alice
            .post(&format!("/me/recognitions/{id}/comments"), &[("body", "Forged")])
            .await
            .assert_status(403);
        let view = app.get(&format!("/api/recognitions/{id}"), bob_token).await;
        assert_eq!(view.body["reactions"]["like"], 0);
        assert_eq!(view.body["comment_count"], 0);
    }

    async fn the_lead_page_is_for_leads_and_the_admin_pages_are_not_for_members(app: TestApp) {
        app.company("acme", json!(1000)).await;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        for path in ["/lead", "/admin", "/manager", "/manager/pool-card"] {
            alice.get(path).await.assert_status(403).assert_contains("Not allowed");
        }
        let token = alice.get("/me").await.csrf_token();
        alice
            .post("/lead/award", &[("to_user_id", "x"), ("message", "x"), ("csrf_token", &token)])
            .await
            .assert_status(403);
        for path in ["/me", "/me/recognise", "/me/feed", "/me/wallet", "/me/rewards", "/me/orders",
                     "/me/notifications", "/me/summary"] {
            alice.get(path).await.assert_status(200);
        }
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager.get("/lead").await.assert_status(403);
        manager.get("/me").await.assert_status(200).assert_contains("href=\"/manager\"");
        manager.get("/manager").await.assert_contains("href=\"/me\"");
        let mut lead = Browser::signed_in(&app, LEAD).await;
        lead.get("/lead").await.assert_status(200).assert_contains("My distribution balance");
        lead.get("/me").await.assert_status(200).assert_contains("href=\"/lead\"");
        let mut admin = Browser::signed_in(&app, "root@platform.test").await;
        admin.get("/me").await.assert_status(403);
        admin.get("/me/wallet").await.assert_status(403);
        let mut nobody = Browser::new(&app);
        for path in ["/me", "/me/feed", "/lead"] {
            nobody.get(path).await.assert_redirect("/login");
        }
    }

    async fn a_lead_awards_a_team_member_from_the_distribution_balance(app: TestApp) {
        let company = app.company("acme", json!(10000)).await;
        let (lead_id, lead_token) = &company.lead;
        let (alice_id, alice_token) = &company.alice;
        app.post(
            "/api/v1/points/delegate-to-lead",
            &company.manager.1,
            json!({"lead_id": lead_id, "amount": 1000}),
        )
        .await
        .assert_status(200);
        let mut lead = Browser::signed_in(&app, LEAD).await;
        let page = lead.get("/lead").await;
        page.assert_status(200)
            .assert_contains("data-balance=\"1,000\"")
            .assert_contains("Bronze");
        lead.submit(
            "/lead",
            "/lead/award",
            &[("recognition_type", "standard"), ("to_user_id", alice_id),
              ("points", "300"), ("message", "Shipped it")],
        )
        .await
        .assert_redirect("/lead");
        assert_eq!(app.wallet_balance(alice_token).await, "300");
        let me = app.get(&format!("/api/users/{lead_id}"), lead_token).await;
        assert_eq!(me.body["lead_distribution_balance"], "700");
        let page = lead.get("/lead").await;
        page.assert_contains("paid from your distribution balance")
            .assert_contains("data-balance=\"700\"")
            .assert_contains("id=\"award-history\"")
            .assert_contains("Shipped it");
        // An award tier bigger than the balance is paid by the pool, as the API documents.
        lead.submit(
            "/lead",
            "/lead/award",
            &[("recognition_type", "individual_award"), ("to_user_id", alice_id),
              ("award_tier", "Bronze"), ("message", "Bronze for you")],
        )
        .await
        .assert_redirect("/lead");
        assert_eq!(app.wallet_balance(alice_token).await, "1300");
        lead.get("/lead").await.assert_contains("the Bronze award worth 1,000 Points, paid from the company pool");
        // A refusal stays beside the form.
        lead.submit("/lead", "/lead/award",
            &[("recognition_type", "individual_award"), ("to_user_id", alice_id), ("message", "x")])
            .await
            .assert_status(400)
            .assert_contains("id=\"award-error\"")
            .assert_contains("Choose an award tier");
        app.assert_ledger_consistent().await;
    }

    async fn the_catalogue_redeem_flow_creates_an_order_and_the_wallet_drops(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let (alice_id, alice_token) = &company.alice;
        let hoodie = reward(
            &app,
            &company,
            json!({"kind": "merchandise", "name": "Hoodie", "category": "Apparel", "face_value": 50, "stock": 3}),
        )
        .await;
        let day_off = reward(
            &app,
            &company,
            json!({"kind": "custom", "name": "Day Off", "category": "Time", "face_value": 1000}),
        )
        .await;
        award(&app, &company, alice_id, 500).await;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let catalogue = alice.get("/me/rewards").await;
        catalogue
            .assert_status(200)
            .assert_contains("Hoodie")
            .assert_contains("3 left")
            .assert_contains(&format!("/me/rewards/{hoodie}/redeem"))
            .assert_contains("Day Off");
        assert!(!catalogue.body.contains("data-pool-state"), "an employee sees no pool card");
        let apparel = alice.get("/me/rewards?category=Apparel").await;
        apparel.assert_status(200).assert_contains("Hoodie");
        assert!(!apparel.body.contains("Day Off"));
        let redeem = format!("/me/rewards/{hoodie}/redeem");
        alice.get(&redeem).await.assert_status(200).assert_contains("Shipping address");
        alice
            .submit(&redeem, &redeem, &[("quantity", "1"), ("shipping_address", "1 Main St")])
            .await
            .assert_redirect("/me/orders");
        assert_eq!(app.wallet_balance(alice_token).await, "450");
        let orders = app.get("/api/redemptions", alice_token).await;
        assert_eq!(orders.body.as_array().map(Vec::len), Some(1));
        assert_eq!(orders.body[0]["item_id"], hoodie.as_str());
        assert_eq!(orders.body[0]["shipping_address"], "1 Main St");
        let page = alice.get("/me/orders").await;
        page.assert_status(200)
            .assert_contains("Ordered Hoodie for 50 Points")
            .assert_contains("data-order-status=\"pending\"")
            .assert_contains("Cancel order");
        // Too dear: the wallet's words, beside the form, and nothing moves.
        let dear = format!("/me/rewards/{day_off}/redeem");
        alice
            .submit(&dear, &dear, &[("quantity", "1")])
            .await
            .assert_status(400)
            .assert_contains("Insufficient wallet balance. Available: 450, Required: 1000")
            .assert_contains("id=\"redeem-error\"");
        // More than the stock.
        alice
            .submit(&redeem, &redeem, &[("quantity", "5")])
            .await
            .assert_status(409)
            .assert_contains("Not enough of this reward is left in stock");
        assert_eq!(app.wallet_balance(alice_token).await, "450");
        // Paused by the manager.
        app.patch(
            &format!("/api/tenants/{}", company.tenant_id),
            &company.manager.1,
            json!({"redemptions_paused": true}),
        )
        .await
        .assert_status(200);
        alice.get("/me/rewards").await.assert_contains("Redemptions are paused");
        alice
            .submit(&redeem, &redeem, &[("quantity", "1")])
            .await
            .assert_status(409)
            .assert_contains("Redemptions are paused for this company");
        // Cancelling gives the points back.
        let order_id = orders.body[0]["id"].as_str().unwrap_or_default().to_owned();
        alice
            .submit("/me/orders", &format!("/me/orders/{order_id}/cancel"), &[])
            .await
            .assert_redirect("/me/orders");
        assert_eq!(app.wallet_balance(alice_token).await, "500");
        alice
            .get("/me/orders")
            .await
            .assert_contains("data-order-status=\"cancelled\"");
        // A second cancel is refused beside the order.
        alice
            .submit("/me/orders", &format!("/me/orders/{order_id}/cancel"), &[])
            .await
            .assert_status(409)
            .assert_contains(&format!("id=\"order-{order_id}-error\""));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_with_a_confirmation_code_is_confirmed_on_the_orders_page(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        let (alice_id, alice_token) = &company.alice;
        app.patch(
            &format!("/api/tenants/{}", company.tenant_id),
            &company.manager.1,
            json!({"redemption_confirmation_required": true}),
        )
        .await
        .assert_status(200);
        let day_off = reward(&app, &company, json!({"kind": "custom", "name": "Day Off", "face_value": 100})).await;
        award(&app, &company, alice_id, 500).await;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let redeem = format!("/me/rewards/{day_off}/redeem");
        alice.submit(&redeem, &redeem, &[]).await.assert_redirect("/me/orders");
        let order_id = app.get("/api/redemptions", alice_token).await.body[0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let confirm = format!("/me/orders/{order_id}/confirm");
        alice
            .submit("/me/orders", &confirm, &[("code", "not-it")])
            .await
            .assert_status(400)
            .assert_contains("That code is not correct; 4 attempt(s) left")
            .assert_contains("value=\"not-it\"");
        let notices = app.get("/api/notifications", alice_token).await;
        let body = notices.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|n| n["kind"] == "redemption_confirmation_code"))
            .and_then(|n| n["body"].as_str())
            .unwrap_or_default()
            .to_owned();
        let code: String = body.split(" is ").nth(1).unwrap_or_default().chars().take(6).collect();
        alice.submit("/me/orders", &confirm, &[("code", &code)]).await.assert_redirect("/me/orders");
        alice.get("/me/orders").await.assert_contains("data-order-status=\"pending\"");
        assert_eq!(app.wallet_balance(alice_token).await, "400");
    }

    async fn reacting_twice_keeps_one_reaction_and_comments_appear(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let (bob_id, bob_token) = &company.bob;
        let mut alice = Browser::signed_in(&app, ALICE).await;
        recognise(&mut alice, &[("to_user_id", bob_id), ("message", "Great demo")])
            .await
            .assert_redirect("/me/feed");
        let id = latest_recognition(&app, bob_token).await["id"].as_str().unwrap_or_default().to_owned();
        let mut bob = Browser::signed_in(&app, BOB).await;
        let react = format!("/me/recognitions/{id}/reactions");
        for _ in 0..2 {
            bob.submit("/me/feed", &react, &[("kind", "clap"), ("return_to", &format!("/me/feed#r-{id}"))])
                .await
                .assert_redirect(&format!("/me/feed#r-{id}"));
        }
        let view = app.get(&format!("/api/recognitions/{id}"), bob_token).await;
        assert_eq!(view.body["reactions"]["clap"], 1);
        assert_eq!(view.body["my_reactions"], json!(["clap"]));
        let feed = bob.get("/me/feed").await;
        feed.assert_contains(&format!("action=\"/me/recognitions/{id}/reactions/remove\""))
            .assert_contains("aria-pressed=\"true\" data-reaction=\"clap\"");
        // Someone else's form goes elsewhere only inside the member pages.
        bob.submit("/me/feed", &react, &[("kind", "heart"), ("return_to", "https://evil.test/")])
            .await
            .assert_redirect(&format!("/me/recognitions/{id}"));
        bob.submit("/me/feed", &format!("{react}/remove"), &[("kind", "clap")])
            .await
            .assert_redirect(&format!("/me/recognitions/{id}"));
        let view = app.get(&format!("/api/recognitions/{id}"), bob_token).await;
        assert_eq!(view.body["reactions"]["clap"], 0);
        assert_eq!(view.body["reactions"]["heart"], 1);
        bob.submit("/me/feed", &react, &[("kind", "shrug")])
            .await
            .assert_status(400)
            .assert_contains("id=\"reaction-error\"");
        // Comments.
        let page = format!("/me/recognitions/{id}");
        let comments = format!("{page}/comments");
        bob.submit(&page, &comments, &[("body", "Thank you <3")])
            .await
            .assert_redirect(&format!("{page}#comments"));
        alice
            .get(&page)
            .await
            .assert_status(200)
            .assert_contains("Thank you &#60;3")
            .assert_contains("Great demo");
        alice.get("/me/feed").await.assert_contains("1 comment<");
        bob.submit(&page, &comments, &[("body", "   ")])
            .await
            .assert_status(400)
            .assert_contains("Comment must not be empty")
            .assert_contains("id=\"comment-error\"");
        let listed = app.get(&format!("/api/recognitions/{id}/comments"), bob_token).await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
        // A private recognition is not Alice's to see, or to comment on.
        let (lead_id, _) = &company.lead;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        recognise(&mut manager, &[("to_user_id", lead_id), ("visibility", "private"), ("message", "Just us")])
            .await
            .assert_redirect("/me/feed");
        let private = latest_recognition(&app, &company.manager.1).await["id"].as_str().unwrap_or_default().to_owned();
        alice.get(&format!("/me/recognitions/{private}")).await.assert_status(404);
        alice
            .submit("/me/feed", &format!("/me/recognitions/{private}/comments"), &[("body", "Peek")])
            .await
            .assert_status(404);
        assert!(!alice.get("/me/feed").await.body.contains("Just us"));
    }

    async fn the_manager_sees_the_pool_card_on_the_catalogue_and_an_employee_does_not(app: TestApp) {
        app.company("acme", json!(5000)).await;
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        manager
            .get("/me/rewards")
            .await
            .assert_status(200)
            .assert_contains("data-pool-state=\"ready\"")
            .assert_contains("5,000")
            .assert_contains("data-refresh-url=\"/manager/pool-card\"");
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let page = alice.get("/me/rewards").await;
        page.assert_status(200);
        assert!(!page.body.contains("data-pool-state"));
        assert!(!page.body.contains("5,000"));
    }

    async fn the_wallet_page_pages_through_the_ledger(app: TestApp) {
        let company = app.company("acme", json!(100000)).await;
        for _ in 0..55 {
            award(&app, &company, &company.alice.0, 2).await;
        }
        let mut alice = Browser::signed_in(&app, ALICE).await;
        let first = alice.get("/me/wallet").await;
        first
            .assert_status(200)
            .assert_contains("data-balance=\"110\"")
            .assert_contains("Rows 1 to 50 of 55")
            .assert_contains("href=\"/me/wallet?offset=50\"");
        alice
            .get("/me/wallet?offset=50")
            .await
            .assert_contains("Rows 51 to 55 of 55");
        alice
            .get("/me/wallet?type=award")
            .await
            .assert_contains("of 55");
        alice
            .get("/me/wallet?type=redemption")
            .await
            .assert_contains("No wallet lines match");
        alice
            .get("/me/wallet?from=yesterday")
            .await
            .assert_status(400)
            .assert_contains("From must be a date");
        let summary = alice.get("/me/summary").await;
        summary
            .assert_status(200)
            .assert_contains("data-refresh-url=\"/me/summary\"")
            .assert_contains("110");
        assert!(!summary.body.contains("<html"));
    }
}
