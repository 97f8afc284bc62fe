//! `GET /api/recognitions/stats/me`: what the caller gave and received, this month's giving
//! against the tenant's allowance, badges and types received.

use super::*;

const MENTOR: &str = "00000000-0000-7000-8000-000000000005";
const TEAM_PLAYER: &str = "00000000-0000-7000-8000-000000000001";

backend_tests! {
    async fn stats_count_what_was_given_and_received(app: TestApp) {
        // Late on the last day of January, so the test can step into February.
        app.clock.set(at("2026-01-31T22:00:00Z"));
        let team = team(&app, "alpha").await;
        let fresh = stats(&app, team.bob()).await;
        assert_eq!(
            fresh,
            json!({
                "given_count": 0, "received_count": 0, "points_given": "0",
                "points_received": "0", "given_this_month": "0",
                "monthly_giving_allowance": null, "allowance_remaining": null,
                "badges_received": [],
                "by_type": {"standard": 0, "individual_award": 0, "group_award": 0, "ecard": 0},
            })
        );
        app.patch(
            &format!("/api/tenants/{}", team.company.tenant_id),
            team.manager(),
            json!({"monthly_giving_allowance": "100"}),
        )
        .await
        .assert_status(200);

        recognise(
            &app,
            team.alice(),
            json!({"to_user_id": team.bob_id(), "points": 30, "message": "Thanks",
                   "badge_id": MENTOR}),
        )
        .await;
        recognise(
            &app,
            team.alice(),
            json!({"recognition_type": "ecard", "to_user_id": team.carol_id(), "points": "5.5",
                   "ecard_template": "great_job", "message": "Nice"}),
        )
        .await;
        recognise(
            &app,
            team.lead(),
            json!({"recognition_type": "group_award",
                   "recipient_ids": [team.bob_id(), team.carol_id()],
                   "points": 20, "message": "Launch", "badge_id": TEAM_PLAYER}),
        )
        .await;
        recognise(
            &app,
            team.manager(),
            json!({"recognition_type": "individual_award", "to_user_id": team.bob_id(),
                   "award_tier": "Bronze", "message": "Quarter", "badge_id": MENTOR}),
        )
        .await;

        let alice = stats(&app, team.alice()).await;
        assert_eq!(alice["given_count"], 2);
        assert_eq!(alice["points_given"], "35.5");
        assert_eq!(alice["given_this_month"], "35.5");
        assert_eq!(alice["monthly_giving_allowance"], "100");
        assert_eq!(alice["allowance_remaining"], "64.5");
        assert_eq!(alice["received_count"], 0);
        assert_eq!(alice["points_received"], "0");

        let bob = stats(&app, team.bob()).await;
        assert_eq!(bob["given_count"], 0);
        assert_eq!(bob["received_count"], 3);
        assert_eq!(bob["points_received"], "1040");
        assert_eq!(bob["allowance_remaining"], "100");
        assert_eq!(
            bob["badges_received"],
            json!([
                {"badge_id": MENTOR, "name": "Mentor", "count": 2},
                {"badge_id": TEAM_PLAYER, "name": "Team Player", "count": 1},
            ])
        );
        assert_eq!(
            bob["by_type"],
            json!({"standard": 1, "individual_award": 1, "group_award": 1, "ecard": 0})
        );

        let carol = stats(&app, team.carol()).await;
        assert_eq!(carol["received_count"], 2);
        assert_eq!(carol["points_received"], "15.5");
        assert_eq!(
            carol["by_type"],
            json!({"standard": 0, "individual_award": 0, "group_award": 1, "ecard": 1})
        );

        // The allowance limits employees only: a lead's and a manager's stats show none.
        let lead = stats(&app, team.lead()).await;
        assert_eq!(lead["given_count"], 1);
        assert_eq!(lead["points_given"], "20");
        assert_eq!(lead["given_this_month"], "20");
        assert_eq!(lead["monthly_giving_allowance"], Value::Null);
        assert_eq!(lead["allowance_remaining"], Value::Null);
        let manager = stats(&app, team.manager()).await;
        assert_eq!(manager["points_given"], "1000");
        assert_eq!(manager["allowance_remaining"], Value::Null);

        // February: this month's giving starts again, the totals stay.
        app.clock.set(at("2026-02-01T01:00:00Z"));
        let alice = stats(&app, team.alice()).await;
        assert_eq!(alice["given_this_month"], "0");
        assert_eq!(alice["allowance_remaining"], "100");
        assert_eq!(alice["points_given"], "35.5");
        assert_eq!(alice["given_count"], 2);
        recognise(
            &app,
            team.alice(),
            json!({"to_user_id": team.bob_id(), "points": 80, "message": "February"}),
        )
        .await;
        let alice = stats(&app, team.alice()).await;
        assert_eq!(alice["given_this_month"], "80");
        assert_eq!(alice["allowance_remaining"], "20");
        assert_eq!(alice["points_given"], "115.5");

        // An allowance lowered below what was already given leaves nothing, never less.
        app.patch(
            &format!("/api/tenants/{}", team.company.tenant_id),
            team.manager(),
            json!({"monthly_giving_allowance": "50"}),
        )
        .await
        .assert_status(200);
        let alice = stats(&app, team.alice()).await;
        assert_eq!(alice["monthly_giving_allowance"], "50");
        assert_eq!(alice["allowance_remaining"], "0");
        app.patch(
            &format!("/api/tenants/{}", team.company.tenant_id),
            team.manager(),
            json!({"monthly_giving_allowance": null}),
        )
        .await
        .assert_status(200);
        let alice = stats(&app, team.alice()).await;
        assert_eq!(alice["monthly_giving_allowance"], Value::Null);
        assert_eq!(alice["allowance_remaining"], Value::Null);
        assert_eq!(alice["given_this_month"], "80");

        app.get("/api/recognitions/stats/me", &app.admin_token)
            .await
            .assert_error(403, "forbidden");
    }

    async fn the_ecard_templates_are_a_fixed_list(app: TestApp) {
        let team = team(&app, "alpha").await;
        let reply = app.get("/api/recognitions/ecard-templates", team.alice()).await;
        reply.assert_status(200);
        let ids: Vec<&str> = reply
            .body
            .as_array()
            .expect("a list")
            .iter()
            .map(|t| {
                assert!(t["title"].as_str().is_some_and(|title| !title.is_empty()), "{t}");
                t["id"].as_str().expect("an id")
            })
            .collect();
        assert_eq!(
            ids,
            ["thank_you", "great_job", "congratulations", "welcome", "happy_birthday",
             "work_anniversary"]
        );
        assert_eq!(reply.body[0]["title"], "Thank you");
        app.request(Method::GET, "/api/recognitions/ecard-templates", None, None, &[])
            .await
            .assert_error(401, "unauthenticated");
    }
}
