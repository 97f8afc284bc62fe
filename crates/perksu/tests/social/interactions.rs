//! Reading one recognition, comments and reactions.

use super::*;

backend_tests! {
    async fn a_recognition_reads_with_its_recipients_reactions_and_comment_count(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = recognise(
            &app,
            team.lead(),
            json!({"recognition_type": "group_award",
                   "recipient_ids": [team.bob_id(), team.alice_id(), team.carol_id()],
                   "points": "100", "message": "Launch week",
                   "badge_id": "00000000-0000-7000-8000-000000000001"}),
        )
        .await;
        let reply = app.get(&format!("/api/recognitions/{id}"), team.manager()).await;
        reply.assert_status(200);
        let body = &reply.body;
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["tenant_id"], team.company.tenant_id.as_str());
        assert_eq!(body["from_user_id"], team.lead_id());
        assert_eq!(body["to_user_id"], team.bob_id());
        assert_eq!(body["points"], "100");
        assert_eq!(body["message"], "Launch week");
        assert_eq!(body["recognition_type"], "group_award");
        assert_eq!(body["split_mode"], "equal");
        assert_eq!(body["visibility"], "public");
        assert_eq!(body["badge_id"], "00000000-0000-7000-8000-000000000001");
        // In the order given, the remainder to the first.
        assert_eq!(
            body["recipients"],
            json!([
                {"user_id": team.bob_id(), "points": "33.34"},
                {"user_id": team.alice_id(), "points": "33.33"},
                {"user_id": team.carol_id(), "points": "33.33"},
            ])
        );
        assert_eq!(
            body["reactions"],
            json!({"like": 0, "clap": 0, "celebrate": 0, "heart": 0, "insightful": 0})
        );
        assert_eq!(body["my_reactions"], json!([]));
        assert_eq!(body["comment_count"], 0);

        app.post(
            &format!("/api/recognitions/{id}/reactions"),
            team.bob(),
            json!({"kind": "heart"}),
        )
        .await
        .assert_status(200);
        app.post(
            &format!("/api/recognitions/{id}/comments"),
            team.bob(),
            json!({"body": "Thanks!"}),
        )
        .await
        .assert_status(201);
        let reply = app.get(&format!("/api/recognitions/{id}"), team.bob()).await;
        assert_eq!(reply.body["reactions"]["heart"], 1);
        assert_eq!(reply.body["my_reactions"], json!(["heart"]));
        assert_eq!(reply.body["comment_count"], 1);
        // Another reader sees the counts but none of the reactions as theirs.
        let reply = app.get(&format!("/api/recognitions/{id}"), team.carol()).await;
        assert_eq!(reply.body["reactions"]["heart"], 1);
        assert_eq!(reply.body["my_reactions"], json!([]));

        app.get("/api/recognitions/no-such-id", team.bob())
            .await
            .assert_error(404, "recognition_not_found");
        app.get(&format!("/api/recognitions/{id}"), &app.admin_token)
            .await
            .assert_error(403, "forbidden");
    }

    async fn comments_list_oldest_first_with_their_authors_names(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = thank(&app, team.alice(), team.bob_id(), "public").await;
        let path = format!("/api/recognitions/{id}/comments");
        assert_eq!(app.get(&path, team.carol()).await.body, json!([]));

        tick(&app);
        let first = app.post(&path, team.bob(), json!({"body": "  Glad to help  "})).await;
        first.assert_status(201);
        assert_eq!(first.body["recognition_id"], id.as_str());
        assert_eq!(first.body["user_id"], team.bob_id());
        assert_eq!(first.body["author_name"], "Ben Ito");
        assert_eq!(first.body["body"], "Glad to help");
        assert!(first.body["created_at"].is_string());
        tick(&app);
        app.post(&path, team.lead(), json!({"body": "Well deserved"}))
            .await
            .assert_status(201);
        tick(&app);
        app.post(&path, team.bob(), json!({"body": "x".repeat(2000)}))
            .await
            .assert_status(201);

        let listed = app.get(&path, team.carol()).await;
        listed.assert_status(200);
        let comments = listed.body.as_array().expect("a list");
        let summary: Vec<(String, String)> = comments
            .iter()
            .map(|c| {
                let author = c["author_name"].as_str().expect("author").to_owned();
                let body = c["body"].as_str().expect("body");
                (author, body.chars().take(13).collect())
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("Ben Ito".to_owned(), "Glad to help".to_owned()),
                ("Lena Park".to_owned(), "Well deserved".to_owned()),
                ("Ben Ito".to_owned(), "x".repeat(13)),
            ]
        );
        assert_eq!(comments[0]["id"], first.body["id"]);
        let page = app.get(&format!("{path}?limit=1&offset=1"), team.carol()).await;
        assert_eq!(page.body.as_array().map(Vec::len), Some(1));
        assert_eq!(page.body[0]["author_name"], "Lena Park");

        let too_long = "x".repeat(2001);
        let bad_bodies = [
            json!({"body": ""}),
            json!({"body": "   "}),
            json!({"body": too_long}),
            json!({}),
        ];
        for bad in bad_bodies {
            app.post(&path, team.bob(), bad)
                .await
                .assert_error(400, "invalid_field");
        }
        assert_eq!(app.get(&path, team.bob()).await.body.as_array().map(Vec::len), Some(3));
        app.post("/api/recognitions/no-such-id/comments", team.bob(), json!({"body": "Hi"}))
            .await
            .assert_error(404, "recognition_not_found");
        app.get("/api/recognitions/no-such-id/comments", team.bob())
            .await
            .assert_error(404, "recognition_not_found");
    }

    async fn reactions_are_one_of_each_kind_per_user(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = thank(&app, team.alice(), team.bob_id(), "public").await;
        let path = format!("/api/recognitions/{id}/reactions");

        let first = app.post(&path, team.bob(), json!({"kind": "like"})).await;
        first.assert_status(200);
        assert_eq!(
            first.body,
            json!({"recognition_id": id, "mine": ["like"],
                   "counts": {"like": 1, "clap": 0, "celebrate": 0, "heart": 0, "insightful": 0}})
        );
        // Again: nothing changes, and the answer is the same.
        let again = app.post(&path, team.bob(), json!({"kind": "like"})).await;
        again.assert_status(200);
        assert_eq!(again.body, first.body);

        let clap = app.post(&path, team.bob(), json!({"kind": "clap"})).await;
        clap.assert_status(200);
        assert_eq!(clap.body["counts"]["like"], 1);
        assert_eq!(clap.body["counts"]["clap"], 1);
        let mut mine: Vec<String> =
            serde_json::from_value(clap.body["mine"].clone()).expect("kinds");
        mine.sort();
        assert_eq!(mine, ["clap", "like"]);

        let alice = app.post(&path, team.alice(), json!({"kind": "like"})).await;
        alice.assert_status(200);
        assert_eq!(alice.body["counts"]["like"], 2);
        assert_eq!(alice.body["mine"], json!(["like"]));

        for bad in ["dislike", "Like", ""] {
            app.post(&path, team.bob(), json!({ "kind": bad }))
                .await
                .assert_error(400, "invalid_reaction");
        }
        delete(&app, &format!("{path}/dislike"), team.bob())
            .await
            .assert_error(400, "invalid_reaction");

        let removed = delete(&app, &format!("{path}/like"), team.bob()).await;
        removed.assert_status(204);
        assert!(removed.body.is_null());
        delete(&app, &format!("{path}/like"), team.bob())
            .await
            .assert_error(404, "reaction_not_found");
        // Carol never reacted.
        delete(&app, &format!("{path}/heart"), team.carol())
            .await
            .assert_error(404, "reaction_not_found");

        let read = app.get(&format!("/api/recognitions/{id}"), team.bob()).await;
        assert_eq!(
            read.body["reactions"],
            json!({"like": 1, "clap": 1, "celebrate": 0, "heart": 0, "insightful": 0})
        );
        assert_eq!(read.body["my_reactions"], json!(["clap"]));
        app.post("/api/recognitions/no-such-id/reactions", team.bob(), json!({"kind": "like"}))
            .await
            .assert_error(404, "recognition_not_found");
        delete(&app, "/api/recognitions/no-such-id/reactions/like", team.bob())
            .await
            .assert_error(404, "recognition_not_found");
    }

    async fn ten_identical_reactions_at_once_count_once(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = thank(&app, team.alice(), team.bob_id(), "public").await;
        let path = format!("/api/recognitions/{id}/reactions");
        let replies = join_all(
            (0..10).map(|_| app.post(&path, team.bob(), json!({"kind": "celebrate"}))),
        )
        .await;
        for reply in &replies {
            reply.assert_status(200);
            assert_eq!(reply.body["mine"], json!(["celebrate"]));
            assert_eq!(reply.body["counts"]["celebrate"], 1, "{reply:?}");
        }
        let read = app.get(&format!("/api/recognitions/{id}"), team.carol()).await;
        assert_eq!(read.body["reactions"]["celebrate"], 1);
        // The same race by several people counts each once.
        let tokens = [team.alice(), team.carol(), team.lead(), team.manager()];
        let replies = join_all(
            tokens
                .iter()
                .flat_map(|token| [token, token])
                .map(|token| app.post(&path, token, json!({"kind": "celebrate"}))),
        )
        .await;
        for reply in &replies {
            reply.assert_status(200);
        }
        let read = app.get(&format!("/api/recognitions/{id}"), team.carol()).await;
        assert_eq!(read.body["reactions"]["celebrate"], 5);
    }
}
