//! Who sees a recognition: everyone in the tenant (public), only the giver and the recipients
//! (private), or also the giver's department as it is now (department). Every way in (the
//! listing, one recognition, the feed, comments, reactions) follows the same rule, and another
//! tenant's recognition does not exist for the caller.

use super::*;

/// Whether `token` can reach the recognition through every read and write that hangs off it;
/// panics when the ways in disagree.
async fn sees(app: &TestApp, token: &str, id: &str) -> bool {
    let one = app.get(&format!("/api/recognitions/{id}"), token).await;
    let comments = app
        .get(&format!("/api/recognitions/{id}/comments"), token)
        .await;
    let in_feed = feed_recognitions(app, token).await.iter().any(|r| r == id);
    let answers = [one.status.as_u16(), comments.status.as_u16()];
    if answers == [200, 200] {
        assert!(in_feed, "{id} is readable but not in the feed");
        true
    } else {
        one.assert_error(404, "recognition_not_found");
        comments.assert_error(404, "recognition_not_found");
        assert!(!in_feed, "{id} is in the feed but not readable");
        // Nor can the caller comment or react.
        app.post(
            &format!("/api/recognitions/{id}/comments"),
            token,
            json!({"body": "Hello"}),
        )
        .await
        .assert_error(404, "recognition_not_found");
        app.post(
            &format!("/api/recognitions/{id}/reactions"),
            token,
            json!({"kind": "like"}),
        )
        .await
        .assert_error(404, "recognition_not_found");
        delete(
            app,
            &format!("/api/recognitions/{id}/reactions/like"),
            token,
        )
        .await
        .assert_error(404, "recognition_not_found");
        false
    }
}

async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let reply = app.get("/api/recognitions?limit=200", token).await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].as_str().expect("an id").to_owned())
        .collect()
}

backend_tests! {
    async fn public_private_and_department_recognitions_are_seen_by_the_right_people(app: TestApp) {
        let team = team(&app, "alpha").await;
        // Asha (Sales) thanks Ben (Support) three ways.
        let public = thank(&app, team.alice(), team.bob_id(), "public").await;
        let private = thank(&app, team.alice(), team.bob_id(), "private").await;
        let department = thank(&app, team.alice(), team.bob_id(), "department").await;
        let read = app.get(&format!("/api/recognitions/{department}"), team.alice()).await;
        assert_eq!(read.body["visibility"], "department");

        // (who, public, private, department)
        let expected = [
            ("giver Asha", team.alice(), true, true, true),
            ("recipient Ben", team.bob(), true, true, true),
            ("Carla, the giver's department", team.carol(), true, false, true),
            ("Lena, the recipient's department", team.lead(), true, false, false),
            ("the manager", team.manager(), true, false, false),
        ];
        for (who, token, sees_public, sees_private, sees_department) in expected {
            assert_eq!(sees(&app, token, &public).await, sees_public, "{who}: public");
            assert_eq!(sees(&app, token, &private).await, sees_private, "{who}: private");
            assert_eq!(
                sees(&app, token, &department).await,
                sees_department,
                "{who}: department"
            );
        }

        // Comments and reactions by those who see it are seen by the others who do.
        app.post(
            &format!("/api/recognitions/{private}/comments"),
            team.bob(),
            json!({"body": "Between us: thanks"}),
        )
        .await
        .assert_status(201);
        app.post(
            &format!("/api/recognitions/{department}/reactions"),
            team.carol(),
            json!({"kind": "clap"}),
        )
        .await
        .assert_status(200);
        let comments = app
            .get(&format!("/api/recognitions/{private}/comments"), team.alice())
            .await;
        assert_eq!(comments.body[0]["body"], "Between us: thanks");
        let read = app.get(&format!("/api/recognitions/{department}"), team.alice()).await;
        assert_eq!(read.body["reactions"]["clap"], 1);
    }

    async fn the_recognition_listing_follows_the_same_rule(app: TestApp) {
        let team = team(&app, "alpha").await;
        let public = thank(&app, team.alice(), team.bob_id(), "public").await;
        let private = thank(&app, team.alice(), team.bob_id(), "private").await;
        let department = thank(&app, team.alice(), team.bob_id(), "department").await;
        let mut all = vec![public.clone(), private.clone(), department.clone()];
        all.sort();
        for token in [team.alice(), team.bob()] {
            let mut ids = listed(&app, token).await;
            ids.sort();
            assert_eq!(ids, all);
        }
        let mut carol = listed(&app, team.carol()).await;
        carol.sort();
        let mut expected = vec![public.clone(), department.clone()];
        expected.sort();
        assert_eq!(carol, expected);
        for token in [team.lead(), team.manager()] {
            assert_eq!(listed(&app, token).await, [public.as_str()]);
        }
    }

    async fn a_department_recognition_follows_the_readers_current_department(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = thank(&app, team.alice(), team.bob_id(), "department").await;
        assert!(sees(&app, team.carol(), &id).await);
        assert!(!sees(&app, team.lead(), &id).await);
        // Carla leaves Sales, Lena joins it.
        move_to(&app, &team, team.carol_id(), Some(&team.support)).await;
        move_to(&app, &team, team.lead_id(), Some(&team.sales)).await;
        assert!(!sees(&app, team.carol(), &id).await);
        assert!(sees(&app, team.lead(), &id).await);
        // It stays with the department Asha gave it from, wherever she goes.
        move_to(&app, &team, team.alice_id(), Some(&team.support)).await;
        assert!(sees(&app, team.lead(), &id).await);
        assert!(!sees(&app, team.carol(), &id).await);
        assert!(sees(&app, team.alice(), &id).await);
        // Nobody without a department sees it through a department.
        move_to(&app, &team, team.lead_id(), None).await;
        assert!(!sees(&app, team.lead(), &id).await);
    }

    async fn a_department_recognition_from_a_giver_without_a_department_is_private(app: TestApp) {
        let team = team(&app, "alpha").await;
        move_to(&app, &team, team.alice_id(), None).await;
        move_to(&app, &team, team.carol_id(), None).await;
        let id = thank(&app, team.alice(), team.bob_id(), "department").await;
        assert!(sees(&app, team.alice(), &id).await);
        assert!(sees(&app, team.bob(), &id).await);
        assert!(!sees(&app, team.carol(), &id).await);
        assert!(!sees(&app, team.lead(), &id).await);
        assert!(!sees(&app, team.manager(), &id).await);
    }

    async fn another_tenants_recognitions_do_not_exist(app: TestApp) {
        let alpha = team(&app, "alpha").await;
        let beta = team(&app, "beta").await;
        let ids = [
            thank(&app, alpha.alice(), alpha.bob_id(), "public").await,
            thank(&app, alpha.alice(), alpha.bob_id(), "private").await,
            thank(&app, alpha.alice(), alpha.bob_id(), "department").await,
        ];
        let beta_own = thank(&app, beta.alice(), beta.bob_id(), "public").await;
        for id in &ids {
            for token in [beta.manager(), beta.lead(), beta.alice(), beta.bob(), beta.carol()] {
                assert!(!sees(&app, token, id).await, "beta sees {id}");
            }
        }
        for token in [beta.manager(), beta.alice()] {
            assert_eq!(feed_recognitions(&app, token).await, [beta_own.as_str()]);
            // Beta's own recognition and Ben's first milestone, both about beta's people.
            let items = feed(&app, token).await;
            assert_eq!(items.len(), 2, "{items:?}");
            let about: Vec<&str> = items
                .iter()
                .map(|i| i["user_id"].as_str().expect("id"))
                .collect();
            assert!(about.contains(&beta.alice_id()), "{items:?}");
            assert!(about.contains(&beta.bob_id()), "{items:?}");
        }
        assert_eq!(listed(&app, beta.alice()).await, [beta_own.as_str()]);
        // Nothing beta did reached alpha's recognitions.
        for id in &ids {
            let read = app.get(&format!("/api/recognitions/{id}"), alpha.alice()).await;
            assert_eq!(read.body["comment_count"], 0);
            assert_eq!(read.body["reactions"]["like"], 0);
        }
    }
}
