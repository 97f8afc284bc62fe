//! The kinds of recognition: individual awards priced by the tenant's tiers, group awards split
//! equally or given to each, e-cards, badges and visibility, and the foundation's plain body.

use super::*;

async fn award(app: &TestApp, giver: &Person, to: &Person, tier: &str) -> Reply {
    recognise(
        app,
        giver,
        json!({
            "recognition_type": "individual_award", "to_user_id": to.id, "award_tier": tier,
            "message": "For the launch",
        }),
    )
    .await
}

async fn group_award(app: &TestApp, giver: &Person, ids: &[&str], points: Value) -> Reply {
    recognise(
        app,
        giver,
        json!({
            "recognition_type": "group_award", "recipient_ids": ids, "points": points,
            "message": "Team effort",
        }),
    )
    .await
}

/// The tenant's award tiers as (name, points) pairs.
fn tiers(tenant: &Value) -> Vec<(String, String)> {
    tenant["award_tiers"]
        .as_array()
        .unwrap_or_else(|| panic!("no award_tiers in {tenant}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name").to_owned(),
                t["points"].as_str().expect("points").to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The id of the badge named `name` in `GET /api/badges`.
async fn badge_named(app: &TestApp, person: &Person, name: &str) -> String {
    let reply = app.get("/api/badges", &person.token).await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .iter()
        .find(|b| b["name"] == name)
        .and_then(|b| b["id"].as_str())
        .unwrap_or_else(|| panic!("no badge {name} in {reply:?}"))
        .to_owned()
}

/// A refusal of an id the caller may not use: 400 or 404 in our error format.
fn assert_unknown_id(reply: &Reply) {
    let status = reply.status.as_u16();
    assert!(status == 400 || status == 404, "{reply:?}");
    assert!(reply.body["code"].is_string(), "no code in {reply:?}");
    assert!(reply.body["detail"].is_string(), "no detail in {reply:?}");
}

backend_tests! {
    async fn an_individual_award_takes_its_points_from_the_default_tiers(app: TestApp) {
        let org = pool_company(&app, "gold", 100000).await;
        let tenant = app.get(&format!("/api/tenants/{}", org.tenant_id), &org.manager.token).await;
        assert_eq!(
            tiers(&tenant.body),
            pairs(&[("Gold", "5000"), ("Silver", "2500"), ("Bronze", "1000")])
        );

        let gold = award(&app, &org.manager, &org.alice, "Gold").await;
        gold.assert_status(200);
        assert_eq!(gold.str("recognition_type"), "individual_award");
        assert_eq!(gold.str("award_tier"), "Gold");
        assert_eq!(gold.str("points"), "5000");
        assert_eq!(gold.str("funding_source"), "pool");
        assert_eq!(recipients(&gold), [(org.alice.id.clone(), "5000".to_owned())]);
        let silver = award(&app, &org.lead, &org.bob, "Silver").await;
        silver.assert_status(200);
        assert_eq!(silver.str("points"), "2500");
        // Points may be named when they equal the tier's.
        let bronze = recognise(&app, &org.manager, json!({
            "recognition_type": "individual_award", "to_user_id": org.carol.id,
            "award_tier": "Bronze", "points": "1000", "message": "Steady",
        }))
        .await;
        bronze.assert_status(200);
        let wrong = recognise(&app, &org.manager, json!({
            "recognition_type": "individual_award", "to_user_id": org.carol.id,
            "award_tier": "Gold", "points": 10, "message": "Cheap gold",
        }))
        .await;
        wrong.assert_status(400);

        assert_eq!(wallet(&app, &org.alice).await, "5000");
        assert_eq!(wallet(&app, &org.bob).await, "2500");
        assert_eq!(wallet(&app, &org.carol).await, "1000");
        assert_eq!(pool(&app, &org).await, "91500");
        app.assert_ledger_consistent().await;
    }

    async fn custom_award_tiers_replace_the_defaults(app: TestApp) {
        let org = pool_company(&app, "tiers", 100000).await;
        let custom = json!([{"name": "Platinum", "points": "750"}, {"name": "Gold", "points": 300}]);
        let tenant = set_tenant(&app, &org, json!({"award_tiers": custom})).await;
        assert_eq!(tiers(&tenant.body), pairs(&[("Platinum", "750"), ("Gold", "300")]));

        let platinum = award(&app, &org.lead, &org.alice, "Platinum").await;
        platinum.assert_status(200);
        assert_eq!(platinum.str("points"), "750");
        let gold = award(&app, &org.manager, &org.alice, "Gold").await;
        gold.assert_status(200);
        assert_eq!(gold.str("points"), "300");
        award(&app, &org.manager, &org.alice, "Silver").await.assert_status(400);
        award(&app, &org.manager, &org.alice, "gold-ish").await.assert_status(400);
        recognise(&app, &org.manager, json!({
            "recognition_type": "individual_award", "to_user_id": org.alice.id,
            "message": "No tier",
        }))
        .await
        .assert_status(400);

        let tenant_path = format!("/api/tenants/{}", org.tenant_id);
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"name": format!("Tier {i}"), "points": 10}))
            .collect();
        for bad in [
            json!([]),
            json!([{"name": "Gold", "points": 10}, {"name": "Gold", "points": 20}]),
            json!([{"name": "Gold", "points": 0}]),
            json!([{"name": "Gold", "points": "-5"}]),
            json!(eleven),
        ] {
            let reply = app.patch(&tenant_path, &org.manager.token, json!({"award_tiers": bad})).await;
            reply.assert_status(400);
        }
        let tenant = app.get(&tenant_path, &org.manager.token).await;
        assert_eq!(tiers(&tenant.body), pairs(&[("Platinum", "750"), ("Gold", "300")]));
        assert_eq!(wallet(&app, &org.alice).await, "1050");
        assert_eq!(pool(&app, &org).await, "98950");
        app.assert_ledger_consistent().await;
    }

    async fn an_employee_cannot_give_an_award(app: TestApp) {
        let org = pool_company(&app, "noaward", 100000).await;
        award(&app, &org.alice, &org.bob, "Gold").await.assert_status(403);
        group_award(&app, &org.alice, &[&org.bob.id, &org.carol.id], json!(10))
            .await
            .assert_status(403);
        assert_eq!(wallet(&app, &org.bob).await, "0");
        assert_eq!(pool(&app, &org).await, "100000");
        assert_eq!(recognition_count(&app, &org).await, 0);
    }

    async fn a_group_award_splits_the_total_with_the_remainder_to_the_first_recipients(
        app: TestApp
    ) {
        let org = pool_company(&app, "split", 1000).await;
        let (alice, bob, carol) = (&org.alice.id, &org.bob.id, &org.carol.id);

        let reply = group_award(&app, &org.manager, &[bob, carol, alice], json!(100)).await;
        reply.assert_status(200);
        assert_eq!(reply.str("recognition_type"), "group_award");
        assert_eq!(reply.str("split_mode"), "equal");
        assert_eq!(
            recipients(&reply),
            [
                (bob.clone(), "33.34".to_owned()),
                (carol.clone(), "33.33".to_owned()),
                (alice.clone(), "33.33".to_owned()),
            ]
        );
        let reply = group_award(&app, &org.manager, &[alice, bob, carol], json!("0.05")).await;
        reply.assert_status(200);
        assert_eq!(
            recipients(&reply),
            [
                (alice.clone(), "0.02".to_owned()),
                (bob.clone(), "0.02".to_owned()),
                (carol.clone(), "0.01".to_owned()),
            ]
        );
        // Three hundredths across three: one each, nothing lost.
        let reply = group_award(&app, &org.lead, &[carol, alice, bob], json!("0.03")).await;
        reply.assert_status(200);
        assert!(recipients(&reply).iter().all(|(_, points)| points == "0.01"), "{reply:?}");

        assert_eq!(wallet(&app, &org.alice).await, "33.36");
        assert_eq!(wallet(&app, &org.bob).await, "33.37");
        assert_eq!(wallet(&app, &org.carol).await, "33.35");
        assert_eq!(pool(&app, &org).await, "899.92", "exactly the totals left the pool");
        app.assert_ledger_consistent().await;
    }

    async fn a_group_award_split_each_gives_everyone_the_amount(app: TestApp) {
        let org = pool_company(&app, "each", 1000).await;
        let reply = recognise(&app, &org.lead, json!({
            "recognition_type": "group_award", "split": "each", "points": 25,
            "recipient_ids": [org.alice.id, org.bob.id, org.carol.id], "message": "Each of you",
        }))
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("split_mode"), "each");
        assert_eq!(
            recipients(&reply),
            [
                (org.alice.id.clone(), "25".to_owned()),
                (org.bob.id.clone(), "25".to_owned()),
                (org.carol.id.clone(), "25".to_owned()),
            ]
        );
        for person in [&org.alice, &org.bob, &org.carol] {
            assert_eq!(wallet(&app, person).await, "25");
        }
        assert_eq!(pool(&app, &org).await, "925");
        app.assert_ledger_consistent().await;
    }

    async fn a_group_award_refuses_duplicates_self_and_shares_below_a_hundredth(app: TestApp) {
        let org = pool_company(&app, "badgroup", 1000).await;
        let (alice, bob, carol) = (&org.alice.id, &org.bob.id, &org.carol.id);
        let other = pool_company(&app, "othergroup", 0).await;

        group_award(&app, &org.manager, &[alice, alice, bob], json!(30))
            .await
            .assert_status(400);
        group_award(&app, &org.manager, &[alice, &org.manager.id], json!(30))
            .await
            .assert_error(400, "self_recognition");
        group_award(&app, &org.manager, &[alice, bob, carol], json!("0.02"))
            .await
            .assert_error(400, "split_too_small");
        group_award(&app, &org.manager, &[alice], json!(30))
            .await
            .assert_status(400);
        group_award(&app, &org.manager, &[], json!(30))
            .await
            .assert_status(400);
        group_award(&app, &org.manager, &[alice, &other.alice.id], json!(30))
            .await
            .assert_status(404);

        for person in [&org.alice, &org.bob, &org.carol] {
            assert_eq!(wallet(&app, person).await, "0");
        }
        assert_eq!(wallet(&app, &other.alice).await, "0");
        assert_eq!(pool(&app, &org).await, "1000");
        assert_eq!(recognition_count(&app, &org).await, 0);
        app.assert_ledger_consistent().await;
    }

    async fn an_ecard_carries_its_template_with_or_without_points(app: TestApp) {
        let org = pool_company(&app, "ecard", 1000).await;
        let template = ecard_template(&app, &org.alice).await;

        let card = recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": org.bob.id, "points": 0,
            "ecard_template": template, "message": "Happy birthday",
        }))
        .await;
        card.assert_status(200);
        assert_eq!(card.str("recognition_type"), "ecard");
        assert_eq!(card.str("ecard_template"), template);
        assert_eq!(card.str("funding_source"), "none");
        let card = recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": org.bob.id, "points": 15,
            "ecard_template": template, "message": "Happy birthday, with cake money",
        }))
        .await;
        card.assert_status(200);
        assert_eq!(card.str("funding_source"), "pool");
        let unknown = recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": org.bob.id, "points": 0,
            "ecard_template": "no-such-template", "message": "Happy birthday",
        }))
        .await;
        unknown.assert_status(400);

        assert_eq!(wallet(&app, &org.bob).await, "15");
        assert_eq!(pool(&app, &org).await, "985");
        app.assert_ledger_consistent().await;
    }

    async fn a_system_badge_is_accepted_and_an_unknown_or_foreign_one_is_not(app: TestApp) {
        let org = pool_company(&app, "badges", 1000).await;
        let other = pool_company(&app, "otherbadges", 0).await;
        let team_player = badge_named(&app, &org.alice, "Team Player").await;
        let theirs = app
            .post("/api/badges", &other.manager.token, json!({
                "name": "Their Star", "description": "Only theirs", "icon": "star",
            }))
            .await;
        theirs.assert_status(201);
        assert_eq!(badge_named(&app, &other.alice, "Team Player").await, team_player);

        let reply = recognise(&app, &org.alice, json!({
            "to_user_id": org.bob.id, "points": 5, "badge_id": team_player, "message": "Thanks",
        }))
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("badge_id"), team_player);
        let received = stats(&app, &org.bob).await;
        assert_eq!(
            received["badges_received"],
            json!([{"badge_id": team_player, "name": "Team Player", "count": 1}])
        );

        for badge_id in [
            "00000000-0000-7000-8000-00000000beef".to_owned(),
            theirs.str("id"),
        ] {
            let reply = recognise(&app, &org.alice, json!({
                "to_user_id": org.bob.id, "points": 5, "badge_id": badge_id, "message": "Thanks",
            }))
            .await;
            assert_unknown_id(&reply);
        }
        assert_eq!(wallet(&app, &org.bob).await, "5");
        assert_eq!(pool(&app, &org).await, "995");
        app.assert_ledger_consistent().await;
    }

    async fn every_visibility_is_accepted_and_an_unknown_one_is_refused(app: TestApp) {
        let org = pool_company(&app, "visible", 1000).await;
        for visibility in ["public", "private", "department"] {
            let reply = recognise(&app, &org.alice, json!({
                "to_user_id": org.bob.id, "visibility": visibility, "message": "Seen",
            }))
            .await;
            reply.assert_status(200);
            assert_eq!(reply.str("visibility"), visibility);
        }
        let plain = thanked(&app, &org.alice, &org.bob, json!(0)).await;
        assert_eq!(plain.str("visibility"), "public");
        recognise(&app, &org.alice, json!({
            "to_user_id": org.bob.id, "visibility": "secret", "message": "Hidden",
        }))
        .await
        .assert_status(400);
        assert_eq!(stats(&app, &org.bob).await["received_count"], 4);
    }

    async fn the_foundation_body_still_works_and_answers_the_new_fields(app: TestApp) {
        let org = pool_company(&app, "foundation", 1000).await;
        let reply = thanked(&app, &org.alice, &org.bob, json!(12)).await;
        assert_eq!(reply.str("recognition_type"), "standard");
        assert_eq!(reply.str("to_user_id"), org.bob.id);
        assert_eq!(reply.str("points"), "12");
        assert_eq!(reply.str("message"), "Thank you");
        assert_eq!(reply.str("visibility"), "public");
        assert_eq!(reply.str("funding_source"), "pool");
        assert_eq!(recipients(&reply), [(org.bob.id.clone(), "12".to_owned())]);
        for field in ["award_tier", "ecard_template", "badge_id", "department_budget_id",
                      "lead_allocation_id"] {
            assert_eq!(reply.body.get(field), Some(&Value::Null), "{field} in {reply:?}");
        }
        let shown = app
            .get(&format!("/api/recognitions/{}", reply.str("id")), &org.bob.token)
            .await;
        shown.assert_status(200);
        assert_eq!(shown.body["recipients"], reply.body["recipients"]);
        assert_eq!(wallet(&app, &org.bob).await, "12");
        app.assert_ledger_consistent().await;
    }

    async fn nobody_recognises_themselves_or_another_tenants_people(app: TestApp) {
        let org = pool_company(&app, "mine", 100000).await;
        let other = pool_company(&app, "notmine", 0).await;

        let reply = thank(&app, &org.alice, &org.alice, json!(10)).await;
        assert_refused(&reply, 400, "self_recognition", "You cannot recognise or award yourself");
        award(&app, &org.manager, &org.manager, "Gold")
            .await
            .assert_error(400, "self_recognition");
        thank(&app, &org.alice, &other.bob, json!(10)).await.assert_status(404);
        thank(&app, &org.alice, &other.bob, json!(0)).await.assert_status(404);
        award(&app, &org.manager, &other.bob, "Gold").await.assert_status(404);
        let template = ecard_template(&app, &org.alice).await;
        recognise(&app, &org.alice, json!({
            "recognition_type": "ecard", "to_user_id": other.bob.id,
            "ecard_template": template, "message": "Hello",
        }))
        .await
        .assert_status(404);

        assert_eq!(wallet(&app, &other.bob).await, "0");
        assert_eq!(wallet(&app, &org.alice).await, "0");
        assert_eq!(pool(&app, &org).await, "100000");
        assert_eq!(recognition_count(&app, &org).await, 0);
        app.assert_ledger_consistent().await;
    }
}
