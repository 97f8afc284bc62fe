//! The social side of recognitions over HTTP: badges, comments, reactions, who sees what, the
//! feed and its milestones, notifications and the caller's statistics.

#[path = "../common/mod.rs"]
mod common;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::join_all;
use perksu_store::Clock;
use reqwest::Method;
use serde_json::{json, Value};

use common::{Company, Reply, TestApp};

/// A funded company whose people have names, in two departments:
/// Sales holds Asha Rao (alice, employee) and Carla Mendes (carol, employee);
/// Support holds Ben Ito (bob, employee) and Lena Park (the lead).
/// Mona Diaz, the manager, belongs to no department.
struct Team {
    company: Company,
    carol: (String, String),
    sales: String,
    support: String,
}

impl Team {
    fn manager(&self) -> &str {
        &self.company.manager.1
    }
    fn lead(&self) -> &str {
        &self.company.lead.1
    }
    fn alice(&self) -> &str {
        &self.company.alice.1
    }
    fn bob(&self) -> &str {
        &self.company.bob.1
    }
    fn carol(&self) -> &str {
        &self.carol.1
    }
    fn lead_id(&self) -> &str {
        &self.company.lead.0
    }
    fn alice_id(&self) -> &str {
        &self.company.alice.0
    }
    fn bob_id(&self) -> &str {
        &self.company.bob.0
    }
    fn carol_id(&self) -> &str {
        &self.carol.0
    }
}

async fn team(app: &TestApp, slug: &str) -> Team {
    let company = app.company(slug, json!(100000)).await;
    let carol = app
        .create_user(
            &company.tenant_id,
            &format!("carol@{slug}.test"),
            "employee",
        )
        .await;
    let manager = company.manager.1.clone();
    let sales = department(app, &manager, "Sales").await;
    let support = department(app, &manager, "Support").await;
    for ((id, _), first, last, department) in [
        (&company.manager, "Mona", "Diaz", None),
        (&company.lead, "Lena", "Park", Some(&support)),
        (&company.alice, "Asha", "Rao", Some(&sales)),
        (&company.bob, "Ben", "Ito", Some(&support)),
        (&carol, "Carla", "Mendes", Some(&sales)),
    ] {
        app.patch(
            &format!("/api/users/{id}"),
            &manager,
            json!({"first_name": first, "last_name": last, "department_id": department}),
        )
        .await
        .assert_status(200);
    }
    Team {
        company,
        carol,
        sales,
        support,
    }
}

async fn department(app: &TestApp, manager: &str, name: &str) -> String {
    let reply = app
        .post("/api/departments", manager, json!({ "name": name }))
        .await;
    reply.assert_status(201);
    reply.str("id")
}

/// Moves a user to another department (or none).
async fn move_to(app: &TestApp, team: &Team, user_id: &str, department: Option<&str>) {
    app.patch(
        &format!("/api/users/{user_id}"),
        team.manager(),
        json!({ "department_id": department }),
    )
    .await
    .assert_status(200);
}

/// Gives a recognition (`POST /api/recognitions`); returns its id.
async fn recognise(app: &TestApp, token: &str, body: Value) -> String {
    let reply = app.post("/api/recognitions", token, body).await;
    reply.assert_status(200);
    reply.str("id")
}

/// A zero-point recognition from `token` to `to_user_id` with this visibility.
async fn thank(app: &TestApp, token: &str, to_user_id: &str, visibility: &str) -> String {
    recognise(
        app,
        token,
        json!({"to_user_id": to_user_id, "message": "Thank you", "visibility": visibility}),
    )
    .await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    app.request(Method::DELETE, path, Some(token), None, &[])
        .await
}

/// The caller's feed, all of it.
async fn feed(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/api/feed?limit=100", token).await;
    reply.assert_status(200);
    reply.body.as_array().expect("a list").clone()
}

/// The ids of the recognitions carried by the caller's feed items.
async fn feed_recognitions(app: &TestApp, token: &str) -> Vec<String> {
    feed(app, token)
        .await
        .iter()
        .filter_map(|item| item["recognition"]["id"].as_str().map(str::to_owned))
        .collect()
}

/// The titles of the caller's feed items of one kind.
async fn feed_titles(app: &TestApp, token: &str, kind: &str) -> Vec<String> {
    let mut titles: Vec<String> = feed(app, token)
        .await
        .iter()
        .filter(|item| item["kind"] == kind)
        .map(|item| item["title"].as_str().expect("a title").to_owned())
        .collect();
    titles.sort();
    titles
}

async fn unread(app: &TestApp, token: &str) -> i64 {
    let reply = app.get("/api/notifications/unread-count", token).await;
    reply.assert_status(200);
    reply.body["unread"].as_i64().expect("a count")
}

async fn stats(app: &TestApp, token: &str) -> Value {
    let reply = app.get("/api/recognitions/stats/me", token).await;
    reply.assert_status(200);
    reply.body
}

/// Steps the test clock forward, so that rows written next sort after those written before.
fn tick(app: &TestApp) {
    app.clock.set(app.clock.now() + TimeDelta::seconds(1));
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

mod badges;
mod feed;
mod interactions;
mod notifications;
mod stats;
mod visibility;
