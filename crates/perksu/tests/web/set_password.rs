//! The set-password page an invitation mail links to: the form refuses mismatched passwords
//! beside it and a post without its form token, sets the password and sends the user to sign
//! in with a message, and a used or expired link gets a page saying what to do.

#[allow(dead_code)]
#[path = "../email/invited.rs"]
mod invited;
#[allow(dead_code)]
#[path = "../email/receiver.rs"]
mod receiver;

use chrono::Duration;
use perksu_store::Clock;
use serde_json::json;

use crate::backend_tests;
use crate::browser::{Browser, Page};
use crate::common::PASSWORD;
use invited::{import_one, start_mail_worker, TTL_HOURS};
use receiver::{invitation_token, python, Receiver};

const NINA: &str = "nina@acme.test";
const ASK: &str = "ask your manager";

/// Posts the set-password form as the page would send it.
async fn send(
    browser: &mut Browser,
    token: &str,
    form_token: &str,
    password: &str,
    again: &str,
) -> Page {
    let fields = [
        ("token", token),
        ("form_token", form_token),
        ("password", password),
        ("password_confirmation", again),
    ];
    browser.post("/set-password", &fields).await
}

backend_tests! {
    async fn the_page_sets_the_password_once_behind_its_form_token(app: TestApp) {
        let Some(python) = python() else { return };
        let receiver = Receiver::start(&python, 0);
        let company = app.company("acme", json!(0)).await;
        import_one(&app, &company.manager.1, NINA).await;
        let worker = start_mail_worker(&app, &receiver);
        let token = invitation_token(&receiver.wait_for(NINA).await);
        worker.abort();
        let link = format!("/set-password?token={token}");

        let mut browser = Browser::new(&app);
        let form = browser.get(&link).await;
        form.assert_status(200).assert_contains(NINA).assert_contains("Tenant acme");
        let form_token = form.field("form_token");

        // Another site's form has no matching token: refused before anything happens.
        let forged = "0".repeat(64);
        send(&mut browser, &token, &forged, PASSWORD, PASSWORD).await.assert_status(403);
        Browser::new(&app).log_in(NINA, PASSWORD).await.assert_status(401);

        send(&mut browser, &token, &form_token, PASSWORD, "a different password")
            .await
            .assert_status(400)
            .assert_contains("The two passwords do not match")
            .assert_contains("name=\"password_confirmation\"");
        Browser::new(&app).log_in(NINA, PASSWORD).await.assert_status(401);

        send(&mut browser, &token, &form_token, PASSWORD, PASSWORD)
            .await
            .assert_redirect("/login");
        browser
            .get("/login")
            .await
            .assert_status(200)
            .assert_contains("Your password is set. Sign in with nina@acme.test.");
        Browser::signed_in(&app, NINA).await;

        browser
            .get(&link)
            .await
            .assert_status(400)
            .assert_contains("Invitation link not valid")
            .assert_contains(ASK);
    }

    async fn an_expired_link_gets_a_page_saying_to_ask_for_a_new_invitation(app: TestApp) {
        let Some(python) = python() else { return };
        let receiver = Receiver::start(&python, 0);
        let company = app.company("acme", json!(0)).await;
        import_one(&app, &company.manager.1, NINA).await;
        let worker = start_mail_worker(&app, &receiver);
        let token = invitation_token(&receiver.wait_for(NINA).await);
        worker.abort();
        let mut browser = Browser::new(&app);
        let form_token = browser.get(&format!("/set-password?token={token}")).await.field("form_token");

        app.clock.set(app.clock.now() + Duration::hours(TTL_HOURS) + Duration::seconds(1));
        browser
            .get(&format!("/set-password?token={token}"))
            .await
            .assert_status(400)
            .assert_contains("Invitation link expired")
            .assert_contains("Ask your manager");
        send(&mut browser, &token, &form_token, PASSWORD, PASSWORD)
            .await
            .assert_status(400)
            .assert_contains("Invitation link expired");
        Browser::new(&app).log_in(NINA, PASSWORD).await.assert_status(401);
    }
}
