//! Badges: the system's five for everyone, a tenant's own for that tenant only, added by its
//! manager under a name unique in the tenant.

use super::*;

const SYSTEM_BADGES: [&str; 5] = [
    "Above and Beyond",
    "Customer Hero",
    "Innovator",
    "Mentor",
    "Team Player",
];

async fn badge_names(app: &TestApp, token: &str) -> Vec<String> {
    let reply = app.get("/api/badges", token).await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|badge| badge["name"].as_str().expect("a name").to_owned())
        .collect()
}

backend_tests! {
    async fn every_tenant_user_sees_the_system_badges_and_only_their_own_tenants(app: TestApp) {
        let alpha = app.company("alpha", json!(0)).await;
        let beta = app.company("beta", json!(0)).await;
        let created = app
            .post(
                "/api/badges",
                &alpha.manager.1,
                json!({"name": "Rocket Fuel", "description": "Shipped it", "icon": "rocket"}),
            )
            .await;
        created.assert_status(201);
        assert_eq!(created.body["tenant_id"], alpha.tenant_id.as_str());
        assert_eq!(created.body["name"], "Rocket Fuel");
        assert_eq!(created.body["description"], "Shipped it");
        assert_eq!(created.body["icon"], "rocket");
        assert_eq!(created.body["system"], false);

        let mut expected: Vec<String> = SYSTEM_BADGES.iter().map(|s| s.to_string()).collect();
        expected.push("Rocket Fuel".into());
        for (_, token) in [&alpha.manager, &alpha.lead, &alpha.alice] {
            assert_eq!(badge_names(&app, token).await, expected);
        }
        // Beta sees the system badges and nothing of alpha's.
        for (_, token) in [&beta.manager, &beta.bob] {
            assert_eq!(badge_names(&app, token).await, SYSTEM_BADGES);
        }
        let listed = app.get("/api/badges", &alpha.bob.1).await;
        for badge in listed.body.as_array().expect("a list") {
            let system = badge["name"] != "Rocket Fuel";
            assert_eq!(badge["system"], system, "{badge}");
            assert_eq!(badge["tenant_id"].is_null(), system, "{badge}");
        }
        // Badges belong to tenants: the platform admin has none to list.
        app.get("/api/badges", &app.admin_token)
            .await
            .assert_error(403, "forbidden");
    }

    async fn only_a_tenant_manager_adds_badges_and_names_are_unique_in_the_tenant(app: TestApp) {
        let alpha = app.company("alpha", json!(0)).await;
        let beta = app.company("beta", json!(0)).await;
        let badge = json!({"name": "Night Owl", "description": "Fixed it at 3am", "icon": "moon"});
        for token in [&alpha.lead.1, &alpha.alice.1, &app.admin_token] {
            app.post("/api/badges", token, badge.clone())
                .await
                .assert_error(403, "forbidden");
        }
        app.post("/api/badges", &alpha.manager.1, badge.clone())
            .await
            .assert_status(201);
        // The same name again, in any case, is taken.
        for name in ["Night Owl", "night owl", "  NIGHT OWL "] {
            app.post(
                "/api/badges",
                &alpha.manager.1,
                json!({"name": name, "description": "", "icon": "moon"}),
            )
            .await
            .assert_error(409, "badge_exists");
        }
        // Another tenant may use it, and a system badge's name is not a tenant's badge.
        app.post("/api/badges", &beta.manager.1, badge.clone())
            .await
            .assert_status(201);
        app.post(
            "/api/badges",
            &alpha.manager.1,
            json!({"name": "Mentor", "icon": "compass"}),
        )
        .await
        .assert_status(201);
        let names = badge_names(&app, &alpha.alice.1).await;
        assert_eq!(names.iter().filter(|n| *n == "Night Owl").count(), 1);
        assert_eq!(names.iter().filter(|n| *n == "Mentor").count(), 2);
        assert_eq!(names.len(), 7);
    }

    async fn two_managers_adding_the_same_name_at_once_make_one_badge(app: TestApp) {
        let alpha = app.company("alpha", json!(0)).await;
        let second = app
            .create_user(&alpha.tenant_id, "manager2@alpha.test", "tenant_manager")
            .await;
        let badge = json!({"name": "Twin", "icon": "star"});
        let replies = join_all(
            [&alpha.manager.1, &second.1, &alpha.manager.1, &second.1]
                .map(|token| app.post("/api/badges", token, badge.clone())),
        )
        .await;
        let created = replies.iter().filter(|r| r.status.as_u16() == 201).count();
        assert_eq!(created, 1, "{replies:?}");
        for reply in replies.iter().filter(|r| r.status.as_u16() != 201) {
            reply.assert_error(409, "badge_exists");
        }
        let names = badge_names(&app, &alpha.bob.1).await;
        assert_eq!(names.iter().filter(|n| *n == "Twin").count(), 1);
    }

    async fn badge_fields_are_checked(app: TestApp) {
        let alpha = app.company("alpha", json!(0)).await;
        let manager = &alpha.manager.1;
        let long_name = "n".repeat(61);
        let long_description = "d".repeat(301);
        for bad in [
            json!({"name": "", "icon": "star"}),
            json!({"name": "   ", "icon": "star"}),
            json!({"name": long_name, "icon": "star"}),
            json!({"name": "Ok", "description": long_description, "icon": "star"}),
            json!({"name": "Ok", "icon": ""}),
            json!({"name": "Ok", "icon": "two words"}),
            json!({"name": "Ok", "icon": "Star"}),
            json!({"name": "Ok", "icon": "i".repeat(31)}),
        ] {
            app.post("/api/badges", manager, bad.clone())
                .await
                .assert_error(400, "invalid_field");
        }
        app.post("/api/badges", manager, json!({"name": "Ok"}))
            .await
            .assert_error(400, "invalid_field");
        assert_eq!(badge_names(&app, manager).await.len(), 5);
        // The limits themselves are allowed.
        let reply = app
            .post(
                "/api/badges",
                manager,
                json!({"name": "n".repeat(60), "description": "d".repeat(300),
                       "icon": "i".repeat(30)}),
            )
            .await;
        reply.assert_status(201);
        assert_eq!(reply.body["description"].as_str().map(str::len), Some(300));
        let reply = app
            .post("/api/badges", manager, json!({"name": "No description", "icon": "star-2"}))
            .await;
        reply.assert_status(201);
        assert_eq!(reply.body["description"], "");
    }

    async fn a_recognition_may_carry_a_system_badge_or_its_tenants_but_not_anothers(app: TestApp) {
        let alpha = team(&app, "alpha").await;
        let beta = app.company("beta", json!(0)).await;
        let beta_badge = app
            .post("/api/badges", &beta.manager.1, json!({"name": "Beta only", "icon": "b"}))
            .await;
        beta_badge.assert_status(201);
        let reply = app
            .post(
                "/api/recognitions",
                alpha.alice(),
                json!({"to_user_id": alpha.bob_id(), "message": "Thanks",
                       "badge_id": beta_badge.str("id")}),
            )
            .await;
        reply.assert_status(404);
        let mentor = "00000000-0000-7000-8000-000000000005";
        let id = recognise(
            &app,
            alpha.alice(),
            json!({"to_user_id": alpha.bob_id(), "message": "Thanks", "badge_id": mentor}),
        )
        .await;
        let read = app.get(&format!("/api/recognitions/{id}"), alpha.carol()).await;
        read.assert_status(200);
        assert_eq!(read.body["badge_id"], mentor);
    }
}
