//! Inviting one person as a manager would: a CSV import over the API, and the email worker
//! of `perksu serve` running against the test's store and the test SMTP receiver.

use std::time::Duration;

use perksu_api::email::EmailSettings;
use perksu_api::AppState;
use perksu_store::EmailRetryPolicy;

use crate::common::{TestApp, CALLBACK_SECRET};
// `super`: this file is also mounted inside the web suite's set-password module.
use super::receiver::Receiver;

/// How long invitation links work in these tests (the server's default).
pub const TTL_HOURS: i64 = 72;

/// Starts the background jobs with email on; aborting the handle stops them.
pub fn start_mail_worker(app: &TestApp, receiver: &Receiver) -> tokio::task::JoinHandle<()> {
    let settings = EmailSettings {
        smtp_url: receiver.url(),
        mail_from: "Perksu Points <points@perksu.test>".into(),
        public_url: "https://points.perksu.test".into(),
        retry: EmailRetryPolicy::default(),
        poll_interval: Duration::from_millis(50),
        invitation_ttl: Duration::from_secs(3600 * TTL_HOURS.unsigned_abs()),
    };
    let state = AppState::new(app.store.clone(), CALLBACK_SECRET.as_bytes().to_vec())
        .with_email(Some(settings));
    perksu_api::spawn_background_jobs(&state)
}

/// Imports one employee called Nina into the manager's tenant; she is invited by email.
pub async fn import_one(app: &TestApp, manager_token: &str, email: &str) {
    let csv = format!("email,first_name,last_name,role\n{email},Nina,North,employee\n");
    let response = app
        .client
        .post(format!("{}/api/users/import", app.base_url))
        .bearer_auth(manager_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(status, 201, "import refused: {body}");
}
