//! An imported user's invitation: the mail arrives with a set-password link naming the
//! tenant and the expiry; the link sets the password once (`POST /api/auth/set-password`),
//! and an expired, used, replaced, unknown link or a too-short password changes nothing.

use chrono::Duration;
use perksu_store::Clock;
use serde_json::json;

use crate::backend_tests;
use crate::common::{TestApp, PASSWORD};
use crate::invited::{import_one, start_mail_worker, TTL_HOURS};
use crate::receiver::{invitation_token, python, Receiver};

const NINA: &str = "nina@acme.test";

async fn login_status(app: &TestApp, password: &str) -> u16 {
    app.request(
        reqwest::Method::POST,
        "/api/auth/login",
        None,
        Some(&json!({"email": NINA, "password": password})),
        &[],
    )
    .await
    .status
    .as_u16()
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> crate::common::Reply {
    app.request(
        reqwest::Method::POST,
        "/api/auth/set-password",
        None,
        Some(&json!({"token": token, "password": password})),
        &[],
    )
    .await
}

backend_tests! {
    async fn the_mailed_link_sets_the_password_once_and_then_sign_in_works(app: TestApp) {
        let Some(python) = python() else { return };
        let receiver = Receiver::start(&python, 0);
        let company = app.company("acme", json!(0)).await;
        let sent_at = app.clock.now();
        import_one(&app, &company.manager.1, NINA).await;
        let worker = start_mail_worker(&app, &receiver);
        let mail = receiver.wait_for(NINA).await;
        worker.abort();
        assert!(mail.contains("Tenant acme"), "no tenant name in {mail}");
        let expires = (sent_at + Duration::hours(TTL_HOURS)).format("%Y-%m-%d %H:%M UTC");
        assert!(mail.contains(&format!("works until {expires}")), "no expiry in {mail}");
        let token = invitation_token(&mail);
        assert!(mail.contains("https://points.perksu.test/set-password?token="), "{mail}");

        assert_eq!(login_status(&app, PASSWORD).await, 401, "no password yet");
        set_password(&app, &token, "short")
            .await
            .assert_error(400, "invalid_password");
        assert_eq!(login_status(&app, "short").await, 401, "a refused password is not set");

        set_password(&app, &token, PASSWORD).await.assert_status(204);
        assert_eq!(login_status(&app, PASSWORD).await, 200);

        let again = set_password(&app, &token, "another long password").await;
        again.assert_error(400, "invitation_invalid");
        assert!(again.body["detail"].as_str().is_some_and(|d| d.contains("ask your manager")),
            "{again:?}");
        assert_eq!(login_status(&app, "another long password").await, 401);
        assert_eq!(login_status(&app, PASSWORD).await, 200, "the first password stands");
        set_password(&app, &"0".repeat(64), PASSWORD)
            .await
            .assert_error(400, "invitation_invalid");
    }

    async fn an_expired_or_replaced_link_is_refused_and_changes_nothing(app: TestApp) {
        let Some(python) = python() else { return };
        let receiver = Receiver::start(&python, 0);
        let company = app.company("acme", json!(0)).await;
        import_one(&app, &company.manager.1, NINA).await;
        let worker = start_mail_worker(&app, &receiver);
        let token = invitation_token(&receiver.wait_for(NINA).await);
        worker.abort();

        // A second send of the invitation (a retry) issues a new link and retires the first.
        let users = app.get("/api/users", &company.manager.1).await;
        let nina = users.body.as_array().and_then(|users| {
            users.iter().find(|user| user["email"] == NINA).and_then(|u| u["id"].as_str())
        });
        let nina = nina.unwrap_or_else(|| panic!("Nina is not listed: {users:?}"));
        let ttl = Duration::hours(TTL_HOURS);
        let reissued = app.store.issue_invitation(nina, ttl).await.expect("issue");
        let newer = reissued.expect("Nina still waits for a password").token;
        set_password(&app, &token, PASSWORD)
            .await
            .assert_error(400, "invitation_invalid");

        app.clock.set(app.clock.now() + ttl + Duration::seconds(1));
        let expired = set_password(&app, &newer, PASSWORD).await;
        expired.assert_error(400, "invitation_expired");
        assert!(expired.body["detail"].as_str().is_some_and(|d| d.contains("expired at")),
            "{expired:?}");
        assert_eq!(login_status(&app, PASSWORD).await, 401, "still no password");
    }
}
