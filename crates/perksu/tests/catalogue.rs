//! The rewards catalogue over HTTP: curating, the server's price rule, browsing, who sees what.

mod common;

use serde_json::{json, Value};

use common::TestApp;

/// Sets the tenant's conversion rate and markup as its manager; checks the reply shows them.
async fn set_pricing(app: &TestApp, manager: &str, tenant_id: &str, rate: &str, markup: &str) {
    let reply = app
        .patch(
            &format!("/api/tenants/{tenant_id}"),
            manager,
            json!({"points_per_currency_unit": rate, "redemption_markup_percent": markup}),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.str("points_per_currency_unit"), rate);
    assert_eq!(reply.str("redemption_markup_percent"), markup);
}

/// Creates an item as `token`; returns the reply's body after checking it is a 201.
async fn create_item(app: &TestApp, token: &str, item: Value) -> Value {
    let reply = app.post("/api/rewards", token, item).await;
    reply.assert_status(201);
    reply.body
}

/// The catalogue as `token` sees it with `query`; returns the item names in order.
async fn names(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/rewards{query}"), token).await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Gives `user_id` points out of the tenant's pool.
async fn award(app: &TestApp, manager: &str, user_id: &str, amount: i64) {
    app.post(
        "/api/v1/points/award-to-user",
        manager,
        json!({"to_user_id": user_id, "amount": amount, "recognition_message": "For the shop"}),
    )
    .await
    .assert_status(200);
}

/// Four items of every kind at one point per currency unit and no markup: the mug costs 12,
/// the gift card from 10 (10 or 50), the tree 5 and the lunch 40.
async fn stock_the_shelves(app: &TestApp, manager: &str) {
    create_item(
        app,
        manager,
        json!({"kind": "merchandise", "name": "Coffee Mug", "description": "Ceramic, 350 ml",
               "category": "Kitchen", "brand": "Acme", "face_value": 12, "stock": 30}),
    )
    .await;
    create_item(
        app,
        manager,
        json!({"kind": "gift_card", "name": "Amazon Gift Card", "category": "Gift cards",
               "brand": "Amazon", "denominations": [50, 10]}),
    )
    .await;
    create_item(
        app,
        manager,
        json!({"kind": "charity", "name": "Tree Planting", "category": "Charity",
               "description": "Plant a tree in your name", "face_value": 5}),
    )
    .await;
    create_item(
        app,
        manager,
        json!({"kind": "custom", "name": "Team Lunch", "category": "Experiences",
               "face_value": 40, "stock": 2}),
    )
    .await;
}

backend_tests! {
    async fn the_server_prices_items_from_value_rate_and_markup_rounding_up(app: TestApp) {
        let company = app.company("price", json!(100000)).await;
        let (_, manager) = &company.manager;
        set_pricing(&app, manager, &company.tenant_id, "2.5", "12.5").await;

        // 9.99 × 2.5 × 1.125 = 28.096875 points: rounded up, never down, to 28.10. A price the
        // client sends along is ignored.
        let mug = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Mug", "face_value": "9.99", "stock": 5,
                   "points": 1, "points_from": "1",
                   "prices": [{"face_value": "9.99", "points": "1"}]}),
        )
        .await;
        assert_eq!(mug["kind"], "merchandise");
        assert_eq!(mug["status"], "active");
        assert_eq!(mug["stock"], 5);
        assert_eq!(
            mug["prices"],
            json!([{"face_value": "9.99", "points": "28.1"}])
        );
        assert_eq!(mug["points_from"], "28.1");

        // Denominations are priced one by one, cheapest first: 10 → 28.125 → 28.13 and
        // 25 → 70.3125 → 70.32.
        let card = create_item(
            &app,
            manager,
            json!({"kind": "gift_card", "name": "Voucher", "denominations": ["25", 10, 10]}),
        )
        .await;
        assert_eq!(
            card["prices"],
            json!([
                {"face_value": "10", "points": "28.13"},
                {"face_value": "25", "points": "70.32"},
            ])
        );
        assert_eq!(card["points_from"], "28.13");
        assert_eq!(card["stock"], Value::Null, "no stock given: unlimited");

        // An exact price is not rounded: 100 × 2.5 × 1.125 = 281.25.
        let lunch = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Lunch", "face_value": 100}),
        )
        .await;
        assert_eq!(lunch["points_from"], "281.25");

        // Employees see the same server-computed prices.
        let (_, alice) = &company.alice;
        let reply = app
            .get(
                &format!("/api/rewards/{}", mug["id"].as_str().expect("id")),
                alice,
            )
            .await;
        reply.assert_status(200);
        assert_eq!(reply.str("points_from"), "28.1");

        // Prices follow the tenant's pricing as it is now.
        set_pricing(&app, manager, &company.tenant_id, "1", "0").await;
        let reply = app
            .get(
                &format!("/api/rewards/{}", mug["id"].as_str().expect("id")),
                alice,
            )
            .await;
        assert_eq!(
            reply.body["prices"],
            json!([{"face_value": "9.99", "points": "9.99"}])
        );
        let reply = app
            .get(
                &format!("/api/rewards/{}", card["id"].as_str().expect("id")),
                alice,
            )
            .await;
        assert_eq!(reply.str("points_from"), "10");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_updates_an_item_and_its_price_follows(app: TestApp) {
        let company = app.company("edit", json!(100000)).await;
        let (_, manager) = &company.manager;
        set_pricing(&app, manager, &company.tenant_id, "3", "10").await;
        let item = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Hoodie", "face_value": 40, "stock": 10,
                   "category": "Apparel"}),
        )
        .await;
        let id = item["id"].as_str().expect("id");
        assert_eq!(item["points_from"], "132");

        let reply = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/rewards/{id}"),
                Some(manager),
                Some(&json!({"kind": "merchandise", "name": "Zip Hoodie",
                             "description": "Heavy cotton", "category": "Clothing",
                             "brand": "Acme", "face_value": "45.5", "stock": 3})),
                &[],
            )
            .await;
        reply.assert_status(200);
        assert_eq!(reply.str("id"), id);
        assert_eq!(reply.str("name"), "Zip Hoodie");
        assert_eq!(reply.str("description"), "Heavy cotton");
        assert_eq!(reply.str("category"), "Clothing");
        assert_eq!(reply.str("brand"), "Acme");
        assert_eq!(reply.body["stock"], 3);
        // 45.50 × 3 × 1.1 = 150.15.
        assert_eq!(
            reply.body["prices"],
            json!([{"face_value": "45.5", "points": "150.15"}])
        );

        let (_, alice) = &company.alice;
        let seen = app.get(&format!("/api/rewards/{id}"), alice).await;
        assert_eq!(seen.str("name"), "Zip Hoodie");
        assert_eq!(seen.str("points_from"), "150.15");

        // The kind is fixed once created.
        let reply = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/rewards/{id}"),
                Some(manager),
                Some(&json!({"kind": "custom", "name": "Zip Hoodie", "face_value": 45})),
                &[],
            )
            .await;
        reply.assert_error(400, "invalid_field");
        let seen = app.get(&format!("/api/rewards/{id}"), manager).await;
        assert_eq!(seen.str("kind"), "merchandise");
        assert_eq!(seen.str("points_from"), "150.15");

        // Archiving takes it off the employees' shelf.
        let reply = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/rewards/{id}"),
                Some(manager),
                Some(
                    &json!({"kind": "merchandise", "name": "Zip Hoodie", "face_value": "45.5",
                             "stock": 3, "status": "archived"}),
                ),
                &[],
            )
            .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "archived");
        assert!(names(&app, alice, "").await.is_empty());
        assert_eq!(
            names(&app, manager, "?include_archived=true").await,
            ["Zip Hoodie"]
        );
        app.assert_ledger_consistent().await;
    }

    async fn malformed_items_are_refused_and_nothing_is_created(app: TestApp) {
        let company = app.company("invalid", json!(100000)).await;
        let (_, manager) = &company.manager;
        let refused = [
            json!({"kind": "voucher", "name": "Odd", "face_value": 5}),
            json!({"kind": "custom", "name": "Both", "face_value": 5, "denominations": [5, 10]}),
            json!({"kind": "custom", "name": "Neither"}),
            json!({"kind": "merchandise", "name": "No stock", "face_value": 5}),
            json!({"kind": "custom", "name": "Negative stock", "face_value": 5, "stock": -1}),
            json!({"kind": "custom", "name": "Bad status", "face_value": 5, "status": "draft"}),
            json!({"kind": "gift_card", "name": "Too many",
                   "denominations": (1..=21).collect::<Vec<i64>>()}),
        ];
        for item in refused {
            app.post("/api/rewards", manager, item.clone())
                .await
                .assert_error(400, "invalid_field");
        }
        app.post(
            "/api/rewards",
            manager,
            json!({"kind": "custom", "name": "Free", "face_value": 0}),
        )
        .await
        .assert_error(400, "invalid_amount");
        app.post(
            "/api/rewards",
            manager,
            json!({"kind": "custom", "name": "Minus", "face_value": "-5"}),
        )
        .await
        .assert_error(400, "invalid_amount");
        app.post(
            "/api/rewards",
            manager,
            json!({"kind": "custom", "name": "  ", "face_value": 5}),
        )
        .await
        .assert_status(400);
        assert!(names(&app, manager, "?include_archived=true")
            .await
            .is_empty());
        app.assert_ledger_consistent().await;
    }

    async fn only_a_tenant_manager_curates_the_catalogue(app: TestApp) {
        let company = app.company("roles", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (_, lead) = &company.lead;
        let (_, alice) = &company.alice;
        let mug = json!({"kind": "merchandise", "name": "Mug", "face_value": 12, "stock": 4});
        for token in [alice, lead, &app.admin_token] {
            app.post("/api/rewards", token, mug.clone())
                .await
                .assert_error(403, "forbidden");
        }
        assert!(names(&app, manager, "?include_archived=true")
            .await
            .is_empty());

        let item = create_item(&app, manager, mug).await;
        let id = item["id"].as_str().expect("id");
        for token in [alice, lead] {
            let reply = app
                .request(
                    reqwest::Method::PUT,
                    &format!("/api/rewards/{id}"),
                    Some(token),
                    Some(
                        &json!({"kind": "merchandise", "name": "Free mug", "face_value": 0.01,
                                 "stock": 1000}),
                    ),
                    &[],
                )
                .await;
            reply.assert_error(403, "forbidden");
        }
        let seen = app.get(&format!("/api/rewards/{id}"), alice).await;
        seen.assert_status(200);
        assert_eq!(seen.str("name"), "Mug");
        assert_eq!(seen.str("points_from"), "12");
        assert_eq!(seen.body["stock"], 4);
        app.assert_ledger_consistent().await;
    }

    async fn employees_see_only_active_items(app: TestApp) {
        let company = app.company("shelf", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (_, alice) = &company.alice;
        let (_, lead) = &company.lead;
        create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Active", "face_value": 5}),
        )
        .await;
        let hidden = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Hidden", "face_value": 5, "status": "archived"}),
        )
        .await;
        let hidden_id = hidden["id"].as_str().expect("id");
        assert_eq!(hidden["status"], "archived");

        for token in [alice, lead] {
            assert_eq!(names(&app, token, "").await, ["Active"]);
            assert_eq!(
                names(&app, token, "?include_archived=true").await,
                ["Active"]
            );
            app.get(&format!("/api/rewards/{hidden_id}"), token)
                .await
                .assert_error(404, "reward_not_found");
        }
        assert_eq!(names(&app, manager, "").await, ["Active"]);
        assert_eq!(
            names(&app, manager, "?include_archived=true").await,
            ["Active", "Hidden"]
        );
        let seen = app.get(&format!("/api/rewards/{hidden_id}"), manager).await;
        seen.assert_status(200);
        assert_eq!(seen.str("status"), "archived");
        app.assert_ledger_consistent().await;
    }

    async fn another_tenants_item_is_not_found(app: TestApp) {
        let ours = app.company("ours", json!(100000)).await;
        let theirs = app.company("theirs", json!(100000)).await;
        let (_, their_manager) = &theirs.manager;
        let item = create_item(
            &app,
            their_manager,
            json!({"kind": "merchandise", "name": "Their Mug", "face_value": 12, "stock": 4}),
        )
        .await;
        let id = item["id"].as_str().expect("id");

        let (_, manager) = &ours.manager;
        let (alice_id, alice) = &ours.alice;
        award(&app, manager, alice_id, 100).await;
        for token in [manager, alice] {
            app.get(&format!("/api/rewards/{id}"), token)
                .await
                .assert_error(404, "reward_not_found");
            assert!(names(&app, token, "?include_archived=true")
                .await
                .is_empty());
        }
        let reply = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/rewards/{id}"),
                Some(manager),
                Some(&json!({"kind": "merchandise", "name": "Ours now", "face_value": 1,
                             "stock": 0})),
                &[],
            )
            .await;
        reply.assert_error(404, "reward_not_found");
        app.post("/api/redemptions", alice, json!({"item_id": id}))
            .await
            .assert_error(404, "reward_not_found");
        assert_eq!(app.wallet_balance(alice).await, "100");

        let seen = app.get(&format!("/api/rewards/{id}"), their_manager).await;
        assert_eq!(seen.str("name"), "Their Mug");
        assert_eq!(seen.body["stock"], 4);
        app.assert_ledger_consistent().await;
    }

    async fn search_matches_name_description_and_brand_ignoring_case(app: TestApp) {
        let company = app.company("search", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (_, alice) = &company.alice;
        stock_the_shelves(&app, manager).await;

        assert_eq!(names(&app, alice, "?q=mug").await, ["Coffee Mug"]);
        assert_eq!(names(&app, alice, "?q=CERAMIC").await, ["Coffee Mug"]);
        assert_eq!(names(&app, alice, "?q=acme").await, ["Coffee Mug"]);
        assert_eq!(names(&app, alice, "?q=tree%20in").await, ["Tree Planting"]);
        assert_eq!(names(&app, alice, "?q=card").await, ["Amazon Gift Card"]);
        assert!(names(&app, alice, "?q=bicycle").await.is_empty());
        // A category is matched whole, not searched.
        assert!(names(&app, alice, "?q=kitchen").await.is_empty());
        assert_eq!(
            names(&app, alice, "?q=%20").await.len(),
            4,
            "a blank search is no filter"
        );

        assert_eq!(
            names(&app, alice, "?category=kitchen").await,
            ["Coffee Mug"]
        );
        assert_eq!(
            names(&app, alice, "?category=Gift%20cards").await,
            ["Amazon Gift Card"]
        );
        assert!(names(&app, alice, "?category=Kitch").await.is_empty());
        assert_eq!(
            names(&app, alice, "?brand=AMAZON").await,
            ["Amazon Gift Card"]
        );
        assert!(names(&app, alice, "?brand=amaz").await.is_empty());
        assert_eq!(
            names(&app, alice, "?category=Kitchen&brand=acme").await,
            ["Coffee Mug"]
        );
        assert!(names(&app, alice, "?category=Kitchen&brand=Amazon")
            .await
            .is_empty());
        assert!(names(&app, alice, "?category=Charity&q=lunch")
            .await
            .is_empty());
        app.assert_ledger_consistent().await;
    }

    async fn sorting_by_points_orders_items_by_their_cheapest_price(app: TestApp) {
        let company = app.company("sort", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (_, alice) = &company.alice;
        stock_the_shelves(&app, manager).await;

        let by_name = [
            "Amazon Gift Card",
            "Coffee Mug",
            "Team Lunch",
            "Tree Planting",
        ];
        assert_eq!(names(&app, alice, "").await, by_name);
        assert_eq!(names(&app, alice, "?sort=name").await, by_name);
        assert_eq!(
            names(&app, alice, "?sort=points_asc").await,
            [
                "Tree Planting",
                "Amazon Gift Card",
                "Coffee Mug",
                "Team Lunch"
            ]
        );
        assert_eq!(
            names(&app, alice, "?sort=points_desc").await,
            [
                "Team Lunch",
                "Coffee Mug",
                "Amazon Gift Card",
                "Tree Planting"
            ]
        );
        assert_eq!(
            names(&app, alice, "?sort=points_desc&category=Charity").await,
            ["Tree Planting"]
        );
        app.get("/api/rewards?sort=cheapest", alice)
            .await
            .assert_error(400, "invalid_query");
        app.assert_ledger_consistent().await;
    }

    async fn affordable_lists_only_what_the_callers_wallet_can_pay_for(app: TestApp) {
        let company = app.company("afford", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let (_, bob) = &company.bob;
        stock_the_shelves(&app, manager).await;

        assert!(names(&app, alice, "?affordable=true").await.is_empty());
        award(&app, manager, alice_id, 11).await;
        // The gift card's 10 denomination fits although its 50 one does not.
        assert_eq!(
            names(&app, alice, "?affordable=true&sort=points_asc").await,
            ["Tree Planting", "Amazon Gift Card"]
        );
        award(&app, manager, alice_id, 1).await;
        // A price equal to the balance is affordable.
        assert_eq!(
            names(&app, alice, "?affordable=true&sort=points_asc").await,
            ["Tree Planting", "Amazon Gift Card", "Coffee Mug"]
        );
        assert_eq!(names(&app, alice, "?affordable=false").await.len(), 4);
        assert_eq!(
            names(&app, alice, "?affordable=true&q=mug").await,
            ["Coffee Mug"]
        );
        // It is the caller's own balance that counts.
        assert!(names(&app, bob, "?affordable=true").await.is_empty());
        app.assert_ledger_consistent().await;
    }
}
