//! Every recipient of a recognition is notified in the app, and every notification waits in the
//! outbox for a delivery channel.

use sqlx::{AnyConnection, Connection, Row};

use super::*;

/// The outbox rows of the notifications about `reference_id`: (user id, channel, status).
async fn outbox(app: &TestApp, reference_id: &str) -> Vec<(String, String, String)> {
    sqlx::any::install_default_drivers();
    let mut connection = AnyConnection::connect(&app.database_url)
        .await
        .expect("connect to the test database");
    let rows = sqlx::query(
        "select n.user_id, o.channel, o.status from notification_outbox o \
         join notifications n on n.id = o.notification_id where n.reference_id = $1 \
         order by n.user_id",
    )
    .bind(reference_id)
    .fetch_all(&mut connection)
    .await
    .expect("outbox rows");
    let _ = connection.close().await;
    rows.iter()
        .map(|row| {
            (
                row.get::<String, _>("user_id"),
                row.get::<String, _>("channel"),
                row.get::<String, _>("status"),
            )
        })
        .collect()
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/api/notifications", token).await;
    reply.assert_status(200);
    reply.body["items"].as_array().expect("a list").clone()
}

backend_tests! {
    async fn each_recipient_is_notified_and_each_notification_waits_in_the_outbox(app: TestApp) {
        let team = team(&app, "alpha").await;
        let id = recognise(
            &app,
            team.lead(),
            json!({"recognition_type": "group_award",
                   "recipient_ids": [team.alice_id(), team.bob_id()],
                   "points": 20, "message": "Launch week"}),
        )
        .await;
        for token in [team.alice(), team.bob()] {
            assert_eq!(unread(&app, token).await, 1);
            let items = notifications(&app, token).await;
            assert_eq!(items.len(), 1);
            assert_eq!(items[0]["kind"], "recognition_received");
            assert_eq!(items[0]["reference_id"], id.as_str());
            assert_eq!(items[0]["body"], "Launch week");
            assert_eq!(items[0]["read"], false);
            let title = items[0]["title"].as_str().expect("a title");
            assert!(title.starts_with("Lena Park gave you a group award"), "{title}");
            assert!(title.contains("10"), "{title}");
        }
        // The giver and the bystanders get nothing.
        for token in [team.lead(), team.carol(), team.manager()] {
            assert_eq!(unread(&app, token).await, 0);
        }
        let mut expected = vec![
            (team.alice_id().to_owned(), "email".to_owned(), "pending".to_owned()),
            (team.bob_id().to_owned(), "email".to_owned(), "pending".to_owned()),
        ];
        expected.sort();
        assert_eq!(outbox(&app, &id).await, expected);
    }

    async fn the_unread_count_falls_as_notifications_are_read(app: TestApp) {
        let team = team(&app, "alpha").await;
        assert_eq!(unread(&app, team.bob()).await, 0);
        let first = thank(&app, team.alice(), team.bob_id(), "private").await;
        tick(&app);
        let second = thank(&app, team.carol(), team.bob_id(), "public").await;
        tick(&app);
        thank(&app, team.lead(), team.bob_id(), "department").await;
        assert_eq!(unread(&app, team.bob()).await, 3);
        let items = notifications(&app, team.bob()).await;
        let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().expect("title")).collect();
        assert_eq!(
            titles,
            ["Lena Park recognised you", "Carla Mendes recognised you", "Asha Rao recognised you"]
        );
        assert_eq!(items[2]["reference_id"], first.as_str());

        // One read.
        let one = items[1]["id"].as_str().expect("an id");
        assert_eq!(items[1]["reference_id"], second.as_str());
        let marked = app.post("/api/notifications/read", team.bob(), json!({ "id": one })).await;
        marked.assert_status(200);
        assert_eq!(marked.body["marked"], 1);
        assert_eq!(unread(&app, team.bob()).await, 2);
        // Someone else cannot read Ben's.
        app.post("/api/notifications/read", team.alice(), json!({ "id": items[0]["id"] }))
            .await
            .assert_error(404, "notification_not_found");
        // Nor can another tenant's users: for them it does not exist.
        let beta = super::team(&app, "beta").await;
        app.post("/api/notifications/read", beta.alice(), json!({ "id": items[0]["id"] }))
            .await
            .assert_error(404, "notification_not_found");
        assert_eq!(unread(&app, team.bob()).await, 2);
        // Marking one already read again marks nothing and is no error.
        let again = app.post("/api/notifications/read", team.bob(), json!({ "id": one })).await;
        again.assert_status(200);
        assert_eq!(again.body["marked"], 0);
        assert_eq!(unread(&app, team.bob()).await, 2);
        // All read.
        let marked = app.post("/api/notifications/read", team.bob(), json!({})).await;
        assert_eq!(marked.body["marked"], 2);
        assert_eq!(unread(&app, team.bob()).await, 0);
        let listed = app.get("/api/notifications", team.bob()).await;
        assert_eq!(listed.body["unread_count"], 0);
        assert!(listed.body["items"].as_array().expect("a list").iter().all(|i| i["read"] == true));
        // A new one is unread again.
        thank(&app, team.alice(), team.bob_id(), "public").await;
        assert_eq!(unread(&app, team.bob()).await, 1);
        let reply = app
            .request(Method::GET, "/api/notifications/unread-count", None, None, &[])
            .await;
        reply.assert_error(401, "unauthenticated");
    }
}
