//! Every notification kind arrives as a mail naming the tenant and its points label; a
//! refusing receiver leads to retries and then `dead`; without an SMTP URL rows stay pending.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::company::{Api, Company};
use crate::database::Database;
use crate::process::{Server, Starting};
use crate::receiver::{python, Receiver, DEADLINE};

/// Fast polling and a tiny backoff, so the test sees retries within a second.
const FAST: [(&str, &str); 4] = [
    ("PERKSU_EMAIL_POLL_MS", "50"),
    ("PERKSU_EMAIL_RETRY_BASE_MS", "20"),
    ("PERKSU_EMAIL_MAX_ATTEMPTS", "3"),
    ("RUST_LOG", "info"),
];

/// Starts a server, sending to `smtp_url` if given, without waiting for it to listen.
pub fn spawn(db: &Database, smtp_url: Option<&str>) -> Starting {
    let mut env: Vec<(&str, &str)> = FAST.to_vec();
    if let Some(url) = smtp_url {
        env.push(("PERKSU_SMTP_URL", url));
    }
    Starting::spawn_with_env(db.url(), &[], &env)
}

pub fn start(db: &Database, smtp_url: Option<&str>) -> Server {
    spawn(db, smtp_url).listening()
}

/// The outbox rows' statuses and attempts, read straight from the database.
async fn outbox(db: &Database) -> Vec<(String, i64, Option<String>)> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(db.url())
        .await
        .expect("connect");
    let rows = sqlx::query("select status, attempts, last_error from notification_outbox")
        .fetch_all(&mut connection)
        .await
        .expect("read the outbox");
    rows.iter()
        .map(|row| {
            (
                row.get::<String, _>("status"),
                row.get::<i64, _>("attempts"),
                row.get::<Option<String>, _>("last_error"),
            )
        })
        .collect()
}

async fn a_recognition_arrives_as_a_mail_naming_the_tenant_and_label(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = Company::create(&api, "mail", 100).await;
    api.post(
        "/api/recognitions",
        &company.manager.token,
        json!({"to_user_id": company.employees[0].id, "points": 5, "message": "Great demo"}),
    )
    .await
    .assert_status(200);
    let mail = receiver.wait_for("employee0@mail.test").await;
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
    assert!(mail.contains("Tenant mail"), "no tenant name in {mail}");
    assert!(mail.contains("Great demo"), "no message in {mail}");
    assert!(mail.to_lowercase().contains("points"), "no label in {mail}");
    drop(server);
    db.drop_schema().await;
}

async fn a_refusing_receiver_leads_to_retries_then_dead(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 550);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = Company::create(&api, "refuse", 100).await;
    api.post(
        "/api/recognitions",
        &company.manager.token,
        json!({"to_user_id": company.employees[1].id, "points": 5, "message": "Thanks"}),
    )
    .await
    .assert_status(200);
    let deadline = Instant::now() + DEADLINE;
    loop {
        let rows = outbox(&db).await;
        if let Some((_, attempts, error)) = rows.iter().find(|(status, ..)| status == "dead") {
            assert_eq!(*attempts, 3, "{rows:?}");
            assert!(
                error.as_deref().is_some_and(|e| e.contains("550")),
                "{rows:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never dead: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refusals = receiver
        .seen()
        .iter()
        .filter(|m| m["refused"] == 550)
        .count();
    assert_eq!(refusals, 3, "one refusal per attempt");
    drop(server);
    db.drop_schema().await;
}

async fn without_an_smtp_url_rows_stay_pending_and_the_log_says_so(db: Database) {
    db.create_admin();
    let server = start(&db, None);
    server.wait_for_log("email delivery is off");
    let api = Api::new(&server.base_url);
    let company = Company::create(&api, "quiet", 100).await;
    api.post(
        "/api/recognitions",
        &company.manager.token,
        json!({"to_user_id": company.employees[2].id, "points": 5, "message": "Quiet"}),
    )
    .await
    .assert_status(200);
    let rows = outbox(&db).await;
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|(status, attempts, _)| status == "pending" && *attempts == 0));
    let log = server.log();
    assert_eq!(log.matches("email delivery is off").count(), 1, "{log}");
    drop(server);
    db.drop_schema().await;
}

on_both_backends!(
    a_recognition_arrives_as_a_mail_naming_the_tenant_and_label,
    a_refusing_receiver_leads_to_retries_then_dead,
    without_an_smtp_url_rows_stay_pending_and_the_log_says_so
);
