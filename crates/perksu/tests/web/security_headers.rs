//! Every response carries the security headers, and no page relies on inline script or style
//! (its Content-Security-Policy would block them).

use reqwest::header::{HeaderMap, CONTENT_SECURITY_POLICY};
use serde_json::json;

use crate::backend_tests;
use crate::browser::{Browser, Page};
use crate::ADMIN;

/// Asserts the headers every response must carry; returns its Content-Security-Policy.
fn assert_security_headers(what: &str, headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} header in {headers:?}"))
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    let policy = header(CONTENT_SECURITY_POLICY.as_str());
    assert!(
        policy.contains("frame-ancestors 'none'"),
        "{what}: {policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-eval"), "{what}: {policy}");
    policy
}

/// Asserts a rendered page has its headers and nothing inline the policy would block.
fn assert_safe_page(path: &str, page: &Page) {
    assert_eq!(page.status.as_u16(), 200, "{path}: {page:#?}");
    let policy = assert_security_headers(path, &page.headers);
    assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
    let html = page.body.to_ascii_lowercase();
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').expect("a closed tag")];
        assert!(tag.contains(" src="), "{path}: inline script {tag}");
    }
    assert!(!html.contains("<style"), "{path}: an inline style sheet");
    assert!(
        !html.contains(" style=\""),
        "{path}: an inline style attribute"
    );
    assert!(!html.contains("javascript:"), "{path}: a javascript: link");
    for handler in [
        "onclick", "onsubmit", "onload", "onchange", "oninput", "onerror",
    ] {
        assert!(!html.contains(&format!(" {handler}=")), "{path}: {handler}");
    }
}

backend_tests! {
    async fn every_page_of_every_role_has_the_security_headers_and_no_inline_script(app: TestApp) {
        let company = app.company("safe", json!(1000)).await;
        let tenant = &company.tenant_id;
        let pages: [(&str, Vec<String>); 4] = [
            (ADMIN, vec![
                "/admin".into(), "/admin/tenants/new".into(),
                format!("/admin/tenants/{tenant}"), format!("/admin/tenants/{tenant}/allocations"),
                format!("/admin/tenants/{tenant}/billing"),
            ]),
            ("manager@safe.test", vec![
                "/manager".into(), "/manager/budgets".into(), "/manager/delegations".into(),
                "/manager/history".into(), "/manager/spending".into(),
            ]),
            ("lead@safe.test", vec!["/lead".into()]),
            ("alice@safe.test", vec![
                "/me".into(), "/me/feed".into(), "/me/wallet".into(), "/me/rewards".into(),
                "/me/orders".into(), "/me/notifications".into(),
            ]),
        ];
        let mut checked = 0;
        for (email, paths) in pages {
            let mut browser = Browser::signed_in(&app, email).await;
            for path in paths {
                assert_safe_page(&path, &browser.get(&path).await);
                checked += 1;
            }
        }
        let mut anonymous = Browser::new(&app);
        assert_safe_page("/login", &anonymous.get("/login").await);
        assert_eq!(checked, 17);
    }

    async fn the_api_assets_errors_and_redirects_carry_the_security_headers_too(app: TestApp) {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        for (path, status) in [
            ("/healthz", 200),
            ("/api/openapi.json", 200),
            ("/assets/app.css", 200),
            ("/assets/app.js", 200),
            ("/api/auth/me", 401),
            ("/api/no-such-thing", 404),
            ("/no-such-page", 404),
            ("/admin", 303),
        ] {
            let reply = client
                .get(format!("{}{path}", app.base_url))
                .send()
                .await
                .expect("request sent");
            assert_eq!(reply.status().as_u16(), status, "{path}");
            let policy = assert_security_headers(path, reply.headers());
            if path.starts_with("/api") || path == "/healthz" {
                // Nothing the API answers is a document a browser should render.
                assert!(policy.starts_with("default-src 'none'"), "{path}: {policy}");
            }
        }
        let reply = app.post("/api/auth/login", "", json!({"email": 1})).await;
        assert!(reply.status.is_client_error(), "{reply:?}");
        assert_security_headers("a refused login body", &reply.headers);
    }
}
