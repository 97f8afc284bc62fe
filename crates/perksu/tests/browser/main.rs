//! The web pages in a real browser: a headless Chromium signs in as each role and moves points
//! through the forms as a person would. Screenshots of the main pages go to
//! `target/screenshots/`, and any console error, failed load or uncaught exception fails the
//! test, and so does any serious or critical accessibility violation axe-core finds on a page
//! that gets a screenshot (see `axe.rs`).
//!
//! It needs Chromium (Debian's `chromium`, or `PERKSU_BROWSER=/path/to/chrome`). Without one
//! the test says it is skipped and passes, unless `PERKSU_BROWSER_REQUIRED=1` (set by CI)
//! makes a missing browser a failure. It runs once, on SQLite: the pages' behaviour on both
//! databases is covered by the `web` tests.

#[path = "../common/mod.rs"]
mod common;

mod axe;
mod chromium;
#[path = "../cli/process.rs"]
#[allow(dead_code)]
mod process;

use std::io::Write;

use serde_json::json;

use chromium::Chromium;
use common::{Db, TestApp, PASSWORD};

const ADMIN: &str = "root@platform.test";
const MANAGER: &str = "maya@acme.test";
const EMPLOYEE: &str = "ethan@acme.test";
const LEAD: &str = "liam@acme.test";

/// What the API set up before the browser starts: a tenant with an empty pool, its manager,
/// one employee, and two rewards in the catalogue.
struct Seed {
    tenant_id: String,
    manager_token: String,
    employee_token: String,
    lunch_id: String,
}

async fn seed(app: &TestApp) -> Seed {
    let tenant = app
        .post(
            "/api/tenants",
            &app.admin_token,
            json!({"name": "Acme Corporation", "slug": "acme"}),
        )
        .await;
    tenant.assert_status(201);
    let tenant_id = tenant.str("id");
    for (email, first, last, role) in [
        (MANAGER, "Maya", "Manager", "tenant_manager"),
        (EMPLOYEE, "Ethan", "Employee", "employee"),
        (LEAD, "Liam", "Lead", "lead"),
    ] {
        app.post(
            "/api/users",
            &app.admin_token,
            json!({
                "tenant_id": tenant_id, "email": email, "password": PASSWORD,
                "first_name": first, "last_name": last, "role": role,
            }),
        )
        .await
        .assert_status(201);
    }
    let manager_token = app.login(MANAGER).await;
    let mut rewards = Vec::new();
    for reward in [
        json!({
            "kind": "custom", "name": "Team Lunch", "category": "Experiences",
            "description": "Lunch for you and your team, on the company.", "face_value": 120,
        }),
        json!({
            "kind": "merchandise", "name": "Acme Hoodie", "category": "Apparel",
            "face_value": 50, "stock": 25,
        }),
    ] {
        let reply = app.post("/api/rewards", &manager_token, reward).await;
        reply.assert_status(201);
        rewards.push(reply.str("id"));
    }
    Seed {
        tenant_id,
        manager_token,
        employee_token: app.login(EMPLOYEE).await,
        lunch_id: rewards.swap_remove(0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_go_from_the_platform_to_a_reward_through_the_pages_in_a_real_browser() {
    let Some(executable) = chromium::find() else {
        assert!(
            !chromium::required(),
            "no Chromium on PATH and {} is set: install Debian's chromium or set {}",
            chromium::REQUIRED_VARIABLE,
            chromium::BROWSER_VARIABLE,
        );
        // Straight to stderr, past the test harness's capture, so a skip is always seen.
        let _ = writeln!(
            std::io::stderr(),
            "browser test skipped: no Chromium on PATH (install Debian's chromium, or set {})",
            chromium::BROWSER_VARIABLE
        );
        return;
    };
    let app = TestApp::spawn(Db::Sqlite).await;
    let seed = seed(&app).await;
    let mut browser = Chromium::launch(&executable, &app.base_url).await;

    admin_allocates(&mut browser, &app, &seed).await;
    manager_recognises(&mut browser, &app, &seed).await;
    manager_imports(&mut browser, &app, &seed).await;
    employee_redeems(&mut browser, &app, &seed).await;
    admin_allocates_in_bulk_reverses_and_reports(&mut browser, &app, &seed).await;
    manager_fulfils(&mut browser, &app, &seed).await;
    api_docs_render(&mut browser).await;
    every_main_page_is_accessible_and_fits_a_phone(&mut browser).await;

    browser.check("the end of the run").await;
    browser.close().await;
    demo_dashboards(&executable).await;
    app.assert_ledger_consistent().await;
    app.finish().await;
    let _ = writeln!(
        std::io::stderr(),
        "browser test: screenshots in {}",
        chromium::screenshot_dir().display()
    );
}

/// The platform admin is refused a bad amount, with the reason beside the form, then
/// allocates 5,000 points to the tenant.
async fn admin_allocates(browser: &mut Chromium, app: &TestApp, seed: &Seed) {
    browser.open("/login").await;
    browser.expect_text("h1", "Sign in").await;
    browser.screenshot("login").await;
    log_in(browser, ADMIN, "/admin").await;
    browser.expect_text("main", "Acme Corporation").await;
    browser.screenshot("admin-tenants").await;

    let tenant_page = format!("/admin/tenants/{}", seed.tenant_id);
    browser
        .click_through(&format!("main a[href=\"{tenant_page}\"]"))
        .await;
    browser.expect_path(&tenant_page).await;
    browser.expect_text("h1", "Acme Corporation").await;

    // A negative amount is refused, and the reason shows next to the allocation form.
    let allocate = format!("{tenant_page}/allocate");
    let submit = format!("form[action=\"{allocate}\"] button[type=submit]");
    browser.expect_error_status(&allocate);
    browser.fill("#allocate-amount", "-250").await;
    browser.click_through(&submit).await;
    browser
        .expect_text("#allocate-error", "Amount must not be negative")
        .await;
    let beside_the_form = browser
        .eval(
            "(() => { const error = document.querySelector('#allocate-error'); \
             const input = document.querySelector('#allocate-amount'); \
             return error.closest('section') === input.closest('section') \
               && input.getAttribute('aria-describedby') === 'allocate-error' \
               && input.value === '-250'; })()",
        )
        .await;
    assert_eq!(
        beside_the_form,
        json!(true),
        "the error is not tied to the allocation form, or the amount typed was lost"
    );
    browser.screenshot("form-error").await;
    assert_eq!(app.pool_balance(&seed.manager_token).await, "0");

    browser.fill("#allocate-amount", "5000").await;
    browser.fill("#allocate-note", "Invoice 2024-042").await;
    browser.click_through(&submit).await;
    browser.expect_path(&tenant_page).await;
    browser.expect_text(".flash", "Allocated 5,000").await;
    browser.expect_text(".pool-card .big-number", "5,000").await;
    browser.expect_text("main table", "Invoice 2024-042").await;
    browser.screenshot("admin-tenant").await;
    assert_eq!(app.pool_balance(&seed.manager_token).await, "5000");
    log_out(browser).await;
}

/// The tenant's manager sees the pool the admin funded, on a desktop and on a phone, and
/// recognises the employee with 300 points from it.
async fn manager_recognises(browser: &mut Chromium, app: &TestApp, seed: &Seed) {
    log_in(browser, MANAGER, "/manager").await;
    browser.expect_text("h1", "Company pool").await;
    browser.expect_text(".pool-card .big-number", "5,000").await;
    browser.screenshot("manager-dashboard").await;
    browser.phone_screenshot("manager-dashboard-phone").await;

    browser.open("/me/recognise").await;
    browser.expect_text("h1", "Recognise a colleague").await;
    // The script shows only the chosen type's fields: a group award swaps the single
    // colleague for the list of recipients, and back.
    let shown =
        |selector: &str| format!("document.querySelector('{selector}').offsetParent !== null");
    browser
        .eval("document.getElementById('type-group_award').click()")
        .await;
    browser
        .wait_until(
            &format!("{} && !({})", shown("#group-1"), shown("#recognise-to")),
            "the group award's recipients in place of the single colleague",
        )
        .await;
    browser
        .eval("document.getElementById('type-standard').click()")
        .await;
    browser
        .wait_until(
            &format!("{} && !({})", shown("#recognise-to"), shown("#group-1")),
            "the single colleague back for a plain recognition",
        )
        .await;
    browser.choose("#recognise-to", "Ethan").await;
    browser.fill("#recognise-points", "300").await;
    browser
        .fill(
            "#recognise-message",
            "Thank you for shipping the new onboarding guide!",
        )
        .await;
    browser.screenshot("recognise").await;
    browser
        .click_through("form[action=\"/me/recognise\"] button[type=submit]")
        .await;
    browser.expect_path("/me/feed").await;
    browser
        .expect_text(".flash", "You recognised Ethan Employee worth 300")
        .await;
    browser
        .expect_text("main", "Thank you for shipping the new onboarding guide!")
        .await;
    browser.screenshot("feed").await;
    assert_eq!(app.pool_balance(&seed.manager_token).await, "4700");

    browser.open("/manager").await;
    browser.expect_text(".pool-card .big-number", "4,700").await;
    log_out(browser).await;
}

/// The platform admin dry-runs and commits a bulk allocation, reverses it from the tenant's
/// allocation history, and opens the tenant's usage report; on a phone the wide tables scroll
/// inside their cards.
async fn admin_allocates_in_bulk_reverses_and_reports(
    browser: &mut Chromium,
    app: &TestApp,
    seed: &Seed,
) {
    let pool = || app.pool_balance(&seed.manager_token);
    let before: i64 = pool().await.parse().expect("a whole pool");
    log_in(browser, ADMIN, "/admin").await;
    browser.expect_text("h1", "Dashboard").await;
    browser.expect_text("#platform-totals", "In wallets").await;
    browser.screenshot("admin-dashboard").await;

    browser.open("/admin/allocations/bulk").await;
    browser.choose("#tenant-1", "Acme Corporation").await;
    browser.fill("#amount-1", "1000").await;
    browser.fill("#bulk-note", "Quarterly top-up").await;
    browser.click_through("button[value=check]").await;
    browser
        .expect_text("#bulk-results", "Acme Corporation (acme)")
        .await;
    browser.screenshot("admin-bulk-dry-run").await;
    browser.phone_screenshot("admin-bulk-dry-run-phone").await;
    assert_eq!(pool().await, before.to_string(), "a dry run moved points");
    browser.click_through("button[value=commit]").await;
    browser.expect_path("/admin/allocations/bulk").await;
    browser
        .expect_text(".flash", "Allocated 1,000 in all to 1 tenant")
        .await;
    assert_eq!(pool().await, (before + 1000).to_string());

    // The newest row of the history is the bulk allocation.
    browser
        .open(&format!("/admin/tenants/{}/allocations", seed.tenant_id))
        .await;
    browser
        .click_through("main table a[href$=\"/reverse\"]")
        .await;
    browser.expect_text("h1", "Reverse an allocation").await;
    browser.expect_text("#reversible-amount", "1,000").await;
    browser
        .fill("#reverse-reason", "Allocated twice by mistake")
        .await;
    browser.screenshot("admin-reverse").await;
    browser
        .click_through("form[action$=\"/reverse\"] button[type=submit]")
        .await;
    browser.expect_text("h1", "Allocation reversed").await;
    browser
        .expect_text("#audit-rows", "Allocated twice by mistake")
        .await;
    browser.screenshot("admin-reversal-done").await;
    browser.phone_screenshot("admin-reversal-done-phone").await;
    assert_eq!(pool().await, before.to_string());

    browser.open("/admin/reports").await;
    browser.choose("#report-tenant", "Acme Corporation").await;
    browser.choose("#report-period", "Day").await;
    browser
        .click_through("form[action=\"/admin/reports\"] button[type=submit]")
        .await;
    browser.expect_text("#report-totals", "Allocated").await;
    browser.expect_text("main", "Download CSV").await;
    let wraps_scroll = browser
        .eval(
            "[...document.querySelectorAll('main table')].every(t => \
             getComputedStyle(t.closest('.table-wrap')).overflowX === 'auto')",
        )
        .await;
    assert_eq!(
        wraps_scroll,
        json!(true),
        "a table is not inside a scrolling .table-wrap"
    );
    browser.screenshot("admin-usage-report").await;
    // Fails if the widest table pushes the page past a phone's width.
    browser.phone_screenshot("admin-usage-report-phone").await;
    log_out(browser).await;
}

/// The manager checks a CSV file and imports it through the People page: the upload runs in
/// the background, its progress shows in the form, and the result replaces the page's own
/// without a reload.
async fn manager_imports(browser: &mut Chromium, app: &TestApp, seed: &Seed) {
    log_in(browser, MANAGER, "/manager").await;
    browser.open("/manager/users").await;
    browser
        .click_through("main a[href=\"/manager/users/import\"]")
        .await;
    browser.expect_path("/manager/users/import").await;
    browser.expect_text("h1", "Import people from CSV").await;
    let csv = "email,first_name,last_name,role,department,manager_email\\n\
               nina@acme.test,Nina,North,lead,Design,maya@acme.test\\n\
               omar@acme.test,Omar,Ortiz,employee,Design,nina@acme.test\\n";
    // A script cannot type a path into a file input; it hands the input a file instead, as
    // a person's choice would.
    browser
        .eval(&format!(
            "(() => {{ const file = new File([\"{csv}\"], 'people.csv', {{ type: 'text/csv' }}); \
             const chosen = new DataTransfer(); chosen.items.add(file); \
             document.getElementById('file').files = chosen.files; \
             window.__perksuSamePage = true; return true; }})()"
        ))
        .await;
    let upload_finished = "(() => { const p = document.getElementById('import-progress'); \
         return !p.hidden && p.max > 0 && p.value === p.max; })()";
    browser
        .eval("document.querySelector('button[value=check]').click()")
        .await;
    browser
        .expect_text(
            "#import-message",
            "The file is ready: 2 people can be imported.",
        )
        .await;
    browser
        .wait_until(upload_finished, "the progress bar full after the check")
        .await;
    browser
        .eval("document.querySelector('button[value=import]').click()")
        .await;
    browser
        .expect_text("#import-message", "Imported 2 people.")
        .await;
    browser
        .wait_until(upload_finished, "the progress bar full after the import")
        .await;
    assert_eq!(
        browser.eval("window.__perksuSamePage === true").await,
        json!(true),
        "the page reloaded instead of showing the result in place"
    );
    browser.check("the import").await;
    browser.screenshot("manager-import").await;
    let users = app.get("/api/users", &seed.manager_token).await;
    let emails: Vec<&str> = users
        .body
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|user| user["email"].as_str())
        .collect();
    assert!(
        emails.contains(&"nina@acme.test") && emails.contains(&"omar@acme.test"),
        "{emails:?}"
    );
    log_out(browser).await;
}

/// The employee finds the points in the wallet, redeems a reward, and sees the order.
async fn employee_redeems(browser: &mut Chromium, app: &TestApp, seed: &Seed) {
    log_in(browser, EMPLOYEE, "/me").await;
    browser.screenshot("employee-home").await;

    browser.open("/me/wallet").await;
    browser.expect_text("#wallet-balance", "300").await;
    browser
        .expect_text(
            "#wallet-ledger",
            "Thank you for shipping the new onboarding guide!",
        )
        .await;
    browser.screenshot("wallet").await;
    assert_eq!(app.wallet_balance(&seed.employee_token).await, "300");

    browser.open("/me/rewards").await;
    browser.expect_text("#rewards-balance", "300").await;
    browser.expect_text("main", "Acme Hoodie").await;
    browser.screenshot("rewards").await;
    let redeem = format!("/me/rewards/{}/redeem", seed.lunch_id);
    browser
        .click_through(&format!("main a[href=\"{redeem}\"]"))
        .await;
    browser.expect_path(&redeem).await;
    browser.expect_text("h1", "Redeem Team Lunch").await;
    browser.screenshot("redeem").await;
    browser
        .click_through(&format!("form[action=\"{redeem}\"] button[type=submit]"))
        .await;
    browser.expect_path("/me/orders").await;
    browser
        .expect_text(".flash", "Ordered Team Lunch for 120 Points")
        .await;
    browser
        .expect_text("main article[data-order-status]", "Team Lunch")
        .await;
    browser.screenshot("orders").await;
    assert_eq!(app.wallet_balance(&seed.employee_token).await, "180");

    browser.open("/me/wallet").await;
    browser.expect_text("#wallet-balance", "180").await;
    browser.phone_screenshot("wallet-phone").await;
    log_out(browser).await;
}

/// The manager adds a reward (previewing its price first); the employee orders it; the
/// manager approves and ships the order from the queue.
async fn manager_fulfils(browser: &mut Chromium, app: &TestApp, seed: &Seed) {
    log_in(browser, MANAGER, "/manager").await;
    browser.open("/manager/rewards/new").await;
    browser.choose("#reward-kind", "Merchandise").await;
    browser.fill("#reward-name", "Desk Plant").await;
    browser.fill("#reward-stock", "10").await;
    // Typing the cost updates the preview in place, through the server's own preview.
    browser.fill("#reward-face-value", "60").await;
    browser
        .expect_text("#price-preview", "What an employee pays")
        .await;
    browser.expect_text("#price-preview", "60 Points").await;
    browser.screenshot("manager-reward-form").await;
    browser
        .click_through("form[data-price-preview] button[value=save]")
        .await;
    browser.expect_path("/manager/rewards").await;
    browser.expect_text(".flash", "Saved Desk Plant.").await;
    browser.expect_text("main table", "Desk Plant").await;
    browser.screenshot("manager-rewards").await;

    let rewards = app.get("/api/rewards", &seed.employee_token).await;
    let plant = rewards
        .body
        .as_array()
        .and_then(|items| items.iter().find(|item| item["name"] == "Desk Plant"))
        .and_then(|item| item["id"].as_str())
        .expect("the new reward in the employee's catalogue")
        .to_owned();
    let order = app
        .post(
            "/api/redemptions",
            &seed.employee_token,
            json!({"item_id": plant, "shipping_address": "1 Main St"}),
        )
        .await;
    order.assert_status(201);
    let order_id = order.str("id");

    browser.open("/manager/orders").await;
    browser
        .expect_text(&format!("#order-{order_id}"), "Desk Plant")
        .await;
    browser.screenshot("manager-orders").await;
    let action = |word: &str| format!("form[action=\"/manager/orders/{order_id}/{word}\"] button");
    browser.click_through(&action("approve")).await;
    browser.expect_text(".flash", "is now processing").await;
    browser
        .fill(&format!("#tracking-{order_id}"), "TRK-2041")
        .await;
    browser.click_through(&action("ship")).await;
    browser.expect_text(".flash", "is now shipped").await;
    browser.phone_screenshot("manager-orders-phone").await;
    let shipped = app
        .get(&format!("/api/redemptions/{order_id}"), &seed.manager_token)
        .await;
    assert_eq!(shipped.body["status"], "shipped");
    assert_eq!(shipped.body["tracking_number"], "TRK-2041");
    log_out(browser).await;
}

/// The API docs page renders the served document from files of its own origin only.
async fn api_docs_render(browser: &mut Chromium) {
    browser.open("/api/docs/").await;
    browser
        .expect_text(".swagger-ui .info .title", "Perksu Points")
        .await;
    browser
        .expect_text(".swagger-ui", "/api/v1/points/allocate-to-tenant")
        .await;
    let origins = browser
        .eval(
            "[...new Set(performance.getEntriesByType('resource')\
             .map(e => new URL(e.name).origin))]",
        )
        .await;
    let page_origin = browser.eval("location.origin").await;
    assert_eq!(
        origins,
        json!([page_origin]),
        "the docs page loaded something from another origin"
    );
    // The viewer is Swagger UI's own page, not one of ours: it is not held to our audit.
    browser.screenshot_unaudited("api-docs").await;
    browser.check("the API docs page").await;
}

/// Every role's main pages (the links of its navigation): no serious or critical violation
/// for axe-core, and nothing wider than a phone's screen.
async fn every_main_page_is_accessible_and_fits_a_phone(browser: &mut Chromium) {
    for (role, email, home) in [
        ("admin", ADMIN, "/admin"),
        ("manager", MANAGER, "/manager"),
        ("lead", LEAD, "/lead"),
        ("employee", EMPLOYEE, "/me"),
    ] {
        log_in(browser, email, home).await;
        let links = browser
            .eval("[...document.querySelectorAll('nav.nav a[href]')].map(a => a.getAttribute('href'))")
            .await;
        let links: Vec<String> = serde_json::from_value(links).expect("the navigation's links");
        assert!(!links.is_empty(), "{role}: no navigation");
        for link in links {
            browser.open(&link).await;
            let name = format!("{role}{}", link.replace('/', "-"));
            browser.audit_accessibility(&name).await;
            browser.phone_screenshot(&format!("{name}-phone")).await;
            browser.check(&name).await;
        }
        log_out(browser).await;
    }
}

/// The README's screenshots: the admin's and the manager's dashboards and the manager's
/// spending page of `perksu serve --demo`, the binary itself on a fresh SQLite file, with the
/// demo's ninety days of history.
async fn demo_dashboards(executable: &std::path::Path) {
    let dir = tempfile::tempdir().expect("a directory for the demo database");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let server = process::Server::start(&url, &["--demo"]);
    let mut browser = Chromium::launch(executable, &server.base_url).await;
    for (email, home, name) in [
        ("admin@perksu.local", "/admin", "readme-admin-dashboard"),
        ("maya@acme.example", "/manager", "readme-manager-dashboard"),
    ] {
        browser.open("/login").await;
        browser.fill("#email", email).await;
        browser.fill("#password", "perksu-demo").await;
        browser
            .click_through("form[action=\"/login\"] button[type=submit]")
            .await;
        browser.expect_path(home).await;
        browser.screenshot(name).await;
        if home == "/manager" {
            browser.open("/manager/spending").await;
            browser.screenshot("readme-manager-spending").await;
        }
        log_out(&mut browser).await;
    }
    browser.check("the demo's dashboards").await;
    browser.close().await;
}

/// Signs in through the login form and checks the page it lands on.
async fn log_in(browser: &mut Chromium, email: &str, home: &str) {
    browser.open("/login").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click_through("form[action=\"/login\"] button[type=submit]")
        .await;
    browser.expect_path(home).await;
}

/// Signs out with the top bar's button.
async fn log_out(browser: &mut Chromium) {
    browser
        .click_through("form[action=\"/logout\"] button[type=submit]")
        .await;
    browser.expect_path("/login").await;
}
