//! The feed: an item per recognition or award, a milestone when a colleague's count of
//! recognitions received reaches 1, 10, 25, 50 or 100, newest first.

use super::*;

backend_tests! {
    async fn the_feed_announces_recognitions_awards_and_first_recognitions(app: TestApp) {
        let team = team(&app, "alpha").await;
        let standard = recognise(
            &app,
            team.alice(),
            json!({"to_user_id": team.bob_id(), "points": 10, "message": "Thanks"}),
        )
        .await;
        tick(&app);
        let group = recognise(
            &app,
            team.lead(),
            json!({"recognition_type": "group_award",
                   "recipient_ids": [team.alice_id(), team.bob_id(), team.carol_id()],
                   "points": 30, "message": "Launch"}),
        )
        .await;
        tick(&app);
        let award = recognise(
            &app,
            team.manager(),
            json!({"recognition_type": "individual_award", "to_user_id": team.lead_id(),
                   "award_tier": "Bronze", "message": "Great quarter"}),
        )
        .await;
        tick(&app);
        let ecard = recognise(
            &app,
            team.bob(),
            json!({"recognition_type": "ecard", "to_user_id": team.alice_id(),
                   "ecard_template": "thank_you", "message": "Cheers"}),
        )
        .await;

        let items = feed(&app, team.carol()).await;
        // Four announcements and four first recognitions (Ben, Asha, Carla, Lena).
        assert_eq!(items.len(), 8, "{items:#?}");
        let times: Vec<&str> = items
            .iter()
            .map(|i| i["created_at"].as_str().expect("time"))
            .collect();
        let mut newest_first = times.clone();
        newest_first.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, newest_first);

        let announcements: Vec<(String, String, String, String)> = items
            .iter()
            .filter(|i| i["kind"] != "milestone")
            .map(|i| {
                (
                    i["kind"].as_str().expect("kind").to_owned(),
                    i["title"].as_str().expect("title").to_owned(),
                    i["user_id"].as_str().expect("user").to_owned(),
                    i["recognition"]["id"].as_str().expect("recognition").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            announcements,
            [
                ("recognition".into(), "Ben Ito sent Asha Rao an e-card".into(),
                 team.bob_id().to_owned(), ecard.clone()),
                ("award".into(), "Mona Diaz gave Lena Park an award".into(),
                 team.company.manager.0.clone(), award.clone()),
                ("award".into(), "Lena Park gave Asha Rao and 2 others a group award".into(),
                 team.lead_id().to_owned(), group.clone()),
                ("recognition".into(), "Asha Rao recognised Ben Ito".into(),
                 team.alice_id().to_owned(), standard.clone()),
            ]
        );
        let milestones: Vec<&Value> = items.iter().filter(|i| i["kind"] == "milestone").collect();
        for milestone in &milestones {
            assert!(milestone["recognition"].is_null(), "{milestone}");
            assert_eq!(milestone["comment_count"], 0);
        }
        let mut reached: Vec<(String, String)> = milestones
            .iter()
            .map(|m| {
                (
                    m["user_id"].as_str().expect("user").to_owned(),
                    m["title"].as_str().expect("title").to_owned(),
                )
            })
            .collect();
        reached.sort();
        let mut expected = vec![
            (team.bob_id().to_owned(), "Ben Ito received their 1st recognition".to_owned()),
            (team.alice_id().to_owned(), "Asha Rao received their 1st recognition".to_owned()),
            (team.carol_id().to_owned(), "Carla Mendes received their 1st recognition".to_owned()),
            (team.lead_id().to_owned(), "Lena Park received their 1st recognition".to_owned()),
        ];
        expected.sort();
        assert_eq!(reached, expected);

        // An item carries its recognition as GET /api/recognitions/{id} shows it, with its
        // reactions and comments.
        app.post(
            &format!("/api/recognitions/{group}/reactions"),
            team.carol(),
            json!({"kind": "like"}),
        )
        .await
            .assert_status(200);
        app.post(
            &format!("/api/recognitions/{group}/comments"),
            team.bob(),
            json!({"body": "Yay"}),
        )
        .await
        .assert_status(201);
        let items = feed(&app, team.carol()).await;
        let item = items
            .iter()
            .find(|i| i["recognition"]["id"] == group.as_str())
            .expect("the group award");
        let read = app.get(&format!("/api/recognitions/{group}"), team.carol()).await;
        assert_eq!(item["recognition"], read.body);
        assert_eq!(item["reactions"]["like"], 1);
        assert_eq!(item["comment_count"], 1);
        assert_eq!(item["recognition"]["recipients"].as_array().map(Vec::len), Some(3));
    }

    async fn the_feed_pages_newest_first(app: TestApp) {
        let team = team(&app, "alpha").await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            tick(&app);
            ids.push(thank(&app, team.alice(), team.bob_id(), "public").await);
        }
        ids.reverse();
        let all = app.get("/api/feed", team.carol()).await;
        all.assert_status(200);
        let all = all.body.as_array().expect("a list").clone();
        // Five recognitions and Ben's first.
        assert_eq!(all.len(), 6);
        let recognitions: Vec<&str> = all
            .iter()
            .filter_map(|i| i["recognition"]["id"].as_str())
            .collect();
        assert_eq!(recognitions, ids);

        let page = app.get("/api/feed?limit=2&offset=1", team.carol()).await;
        page.assert_status(200);
        assert_eq!(page.body.as_array().expect("a list")[..], all[1..3]);
        let page = app.get("/api/feed?limit=2&offset=5", team.carol()).await;
        assert_eq!(page.body.as_array().expect("a list")[..], all[5..]);
        // Limits outside 1 to 100 are brought within them.
        let page = app.get("/api/feed?limit=0", team.carol()).await;
        assert_eq!(page.body.as_array().map(Vec::len), Some(1));
        let page = app.get("/api/feed?limit=1000", team.carol()).await;
        assert_eq!(page.body.as_array().map(Vec::len), Some(6));
        app.get("/api/feed?limit=many", team.carol())
            .await
            .assert_error(400, "invalid_query");
        app.get("/api/feed", &app.admin_token)
            .await
            .assert_error(403, "forbidden");
    }

    async fn milestones_mark_the_1st_10th_and_25th_recognition_received(app: TestApp) {
        let team = team(&app, "alpha").await;
        let givers = [team.alice(), team.carol(), team.lead(), team.manager()];
        for n in 0..25 {
            let visibility = if n % 3 == 0 { "private" } else { "public" };
            thank(&app, givers[n % givers.len()], team.bob_id(), visibility).await;
            if n == 9 {
                assert_eq!(
                    feed_titles(&app, team.alice(), "milestone").await,
                    [
                        "Ben Ito received their 10th recognition",
                        "Ben Ito received their 1st recognition",
                    ]
                );
            }
        }
        // Milestones are public, even when the recognition that made one is private.
        for token in [team.alice(), team.bob(), team.lead()] {
            assert_eq!(
                feed_titles(&app, token, "milestone").await,
                [
                    "Ben Ito received their 10th recognition",
                    "Ben Ito received their 1st recognition",
                    "Ben Ito received their 25th recognition",
                ]
            );
        }
        assert_eq!(stats(&app, team.bob()).await["received_count"], 25);
        // The first private recognition (n = 0) made the first milestone, and stays hidden.
        let carol_items = feed(&app, team.carol()).await;
        let recognitions = carol_items.iter().filter(|i| i["kind"] == "recognition").count();
        // Carla sees the public ones and the private ones she gave (n = 9, 21).
        assert_eq!(recognitions, 16 + 2, "{carol_items:#?}");
    }

    async fn a_group_award_makes_a_milestone_for_each_recipient_who_reaches_one(app: TestApp) {
        let team = team(&app, "alpha").await;
        for _ in 0..9 {
            thank(&app, team.alice(), team.bob_id(), "public").await;
        }
        recognise(
            &app,
            team.lead(),
            json!({"recognition_type": "group_award",
                   "recipient_ids": [team.bob_id(), team.alice_id(), team.carol_id()],
                   "points": "0.03", "message": "Together"}),
        )
        .await;
        assert_eq!(
            feed_titles(&app, team.manager(), "milestone").await,
            [
                "Asha Rao received their 1st recognition",
                "Ben Ito received their 10th recognition",
                "Ben Ito received their 1st recognition",
                "Carla Mendes received their 1st recognition",
            ]
        );
    }
}
