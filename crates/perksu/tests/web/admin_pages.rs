//! The platform admin's dashboard, bulk allocation, reversal and usage report pages: role
//! gating, form tokens, refusals beside their forms, and every movement checked through the
//! JSON API.

use serde_json::{json, Value};

use crate::backend_tests;

use crate::browser::{Browser, Page};
use crate::common::{Company, TestApp};

const ADMIN: &str = "root@platform.test";
const MANAGER: &str = "manager@acme.test";
const BULK: &str = "/admin/allocations/bulk";

/// The part of a page from the element with `id` to the end of its table or list.
fn part<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page
        .body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page: {}", page.body));
    let rest = &page.body[start..];
    let end = ["</table>", "</dl>"]
        .iter()
        .filter_map(|close| rest.find(close))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// A tenant's pool, as the platform admin reads it through the API.
async fn pool(app: &TestApp, tenant_id: &str) -> String {
    let tenant = app
        .get(&format!("/api/tenants/{tenant_id}"), &app.admin_token)
        .await;
    tenant.assert_status(200);
    tenant.str("points_allocation_balance")
}

/// The allocation logs of a tenant, newest first, through the API.
async fn allocation_logs(app: &TestApp, tenant_id: &str) -> Vec<Value> {
    let logs = app
        .get(
            &format!("/api/v1/points/allocation-logs?tenant_id={tenant_id}"),
            &app.admin_token,
        )
        .await;
    logs.assert_status(200);
    logs.body["items"].as_array().cloned().unwrap_or_default()
}

/// The newest row of an audit listing of `tenant_id` of `kind`.
async fn newest(app: &TestApp, listing: &str, tenant_id: &str, kind: &str) -> Value {
    let rows = app
        .get(
            &format!("/api/v1/points/{listing}?tenant_id={tenant_id}&type={kind}"),
            &app.admin_token,
        )
        .await;
    rows.assert_status(200);
    rows.body["items"][0].clone()
}

/// Gives `user_id` points out of the pool, as the manager.
async fn award(app: &TestApp, company: &Company, user_id: &str, amount: i64) {
    app.post(
        "/api/v1/points/award-to-user",
        &company.manager.1,
        json!({"to_user_id": user_id, "amount": amount, "recognition_message": "Thanks"}),
    )
    .await
    .assert_status(200);
}

/// The API's usage report CSV, as bytes turned to text.
async fn api_csv(app: &TestApp, query: &str) -> String {
    let response = app
        .client
        .get(format!(
            "{}/api/v1/points/reports/usage?{query}&format=csv",
            app.base_url
        ))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("report request");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("body")
}

fn today(app: &TestApp) -> String {
    app.store.now().as_str()[..10].to_owned()
}

fn tomorrow(app: &TestApp) -> String {
    let day = chrono::NaiveDate::parse_from_str(&today(app), "%Y-%m-%d").expect("a date");
    (day + chrono::Days::new(1)).format("%Y-%m-%d").to_string()
}

backend_tests! {
    async fn a_tenant_manager_gets_none_of_the_admin_pages_and_moves_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let allocation = allocation_logs(&app, &company.tenant_id).await[0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let reverse = format!("/admin/allocations/{allocation}/reverse");
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        for path in [
            BULK.to_owned(),
            reverse.clone(),
            "/admin/reports".to_owned(),
            format!("/admin/reports?tenant={}&format=csv", company.tenant_id),
        ] {
            let page = manager.get(&path).await;
            page.assert_status(403).assert_contains("Not allowed");
            assert!(!page.body.contains("1,000"), "{path} showed the pool");
        }
        let token = manager.get("/manager").await.csrf_token();
        manager
            .post(BULK, &[("tenant", "acme"), ("amount", "500"), ("intent", "commit"), ("csrf_token", &token)])
            .await
            .assert_status(403);
        manager
            .post(&reverse, &[("amount", "100"), ("reason", "Mine"), ("csrf_token", &token)])
            .await
            .assert_status(403);
        assert_eq!(pool(&app, &company.tenant_id).await, "1000");
        assert_eq!(allocation_logs(&app, &company.tenant_id).await[0]["reversed_amount"], "0");
    }

    async fn the_admin_forms_refuse_a_post_without_a_valid_form_token(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        let allocation = allocation_logs(&app, &company.tenant_id).await[0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let reverse = format!("/admin/allocations/{allocation}/reverse");
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin.get(BULK).await.assert_status(200);
        let mut manager = Browser::signed_in(&app, MANAGER).await;
        let other_session_token = manager.get("/manager").await.csrf_token();
        for token in [None, Some("0".repeat(64)), Some(other_session_token)] {
            let forms: [(&str, Vec<(&str, &str)>); 2] = [
                (BULK, vec![("tenant", "acme"), ("amount", "500"), ("intent", "commit")]),
                (&reverse, vec![("amount", "100"), ("reason", "Forged")]),
            ];
            for (action, mut fields) in forms {
                if let Some(token) = token.as_deref() {
                    fields.push(("csrf_token", token));
                }
                admin
                    .post(action, &fields)
                    .await
                    .assert_status(403)
                    .assert_contains("Nothing was changed");
            }
        }
        assert_eq!(pool(&app, &company.tenant_id).await, "1000");
        assert_eq!(allocation_logs(&app, &company.tenant_id).await.len(), 1);
        assert_eq!(allocation_logs(&app, &company.tenant_id).await[0]["reversed_amount"], "0");
        app.assert_ledger_consistent().await;
    }

    async fn a_bulk_dry_run_shows_each_pool_before_and_after_and_the_commit_moves_exactly_that(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        let beta = app.company("beta", json!(0)).await;
        let fields = [
            ("tenant", "acme"), ("amount", "500"),
            ("tenant", ""), ("amount", ""),
            ("lines", "tenant_slug,amount\nbeta,250.5\n"),
            ("note", "Q3 top-up"),
        ];
        let mut dry = fields.to_vec();
        dry.push(("intent", "check"));
        let preview = admin_submit(&app, &dry).await;
        preview
            .assert_status(200)
            .assert_contains("Dry run: every allocation would be made");
        let results = part(&preview, "bulk-results");
        for shown in ["Tenant acme (acme)", "1,000", "1,500", "Tenant beta (beta)", "250.5"] {
            assert!(results.contains(shown), "{shown} not in {results}");
        }
        // Nothing moved, and the form is shown again as typed.
        assert_eq!(pool(&app, &acme.tenant_id).await, "1000");
        assert_eq!(pool(&app, &beta.tenant_id).await, "0");
        preview.assert_contains("value=\"acme\" selected").assert_contains("beta,250.5");

        let mut commit = fields.to_vec();
        commit.push(("intent", "commit"));
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin.submit(BULK, BULK, &commit).await.assert_redirect(BULK);
        admin
            .get(BULK)
            .await
            .assert_contains("Allocated 750.5 in all to 2 tenants")
            .assert_contains("Tenant acme 1,000 → 1,500")
            .assert_contains("Tenant beta 0 → 250.5");
        assert_eq!(pool(&app, &acme.tenant_id).await, "1500");
        assert_eq!(pool(&app, &beta.tenant_id).await, "250.5");
        let log = &allocation_logs(&app, &beta.tenant_id).await[0];
        assert_eq!(log["amount"], "250.5");
        assert_eq!(log["reference_note"], "Q3 top-up");
        app.assert_ledger_consistent().await;
    }

    async fn a_bulk_commit_naming_an_unknown_tenant_moves_nothing_and_says_why(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let refused = admin
            .submit(
                BULK,
                BULK,
                &[("tenant", "acme"), ("amount", "500"), ("lines", "nobody,100"), ("intent", "commit")],
            )
            .await;
        refused
            .assert_status(400)
            .assert_contains("id=\"bulk-error\"")
            .assert_contains("1 of 2 allocations were refused, so none was made")
            .assert_contains("Refused: nothing was allocated")
            .assert_contains("value=\"500\"");
        assert!(part(&refused, "bulk-results").contains("Tenant not found"));
        assert_eq!(pool(&app, &acme.tenant_id).await, "1000");
        assert_eq!(allocation_logs(&app, &acme.tenant_id).await.len(), 1);
        // Lines that are not tenant_slug,amount, and amounts the API would refuse.
        admin
            .submit(BULK, BULK, &[("lines", "acme 500"), ("intent", "commit")])
            .await
            .assert_status(400)
            .assert_contains("Line 1 must read tenant_slug,amount");
        let bad_amount = admin
            .submit(BULK, BULK, &[("tenant", "acme"), ("amount", "-5"), ("intent", "commit")])
            .await;
        bad_amount.assert_status(400);
        assert!(part(&bad_amount, "bulk-results").contains("Amount must not be negative"));
        for intent in ["check", "commit"] {
            admin
                .submit(BULK, BULK, &[("tenant", "acme"), ("amount", "5"), ("lines", "acme,6"), ("intent", intent)])
                .await
                .assert_status(400)
                .assert_contains("Tenant acme is named more than once");
        }
        admin
            .submit(BULK, BULK, &[("intent", "commit")])
            .await
            .assert_status(400)
            .assert_contains("allocations must name at least one tenant");
        assert_eq!(pool(&app, &acme.tenant_id).await, "1000");

        // The same rendered form sent twice allocates once.
        let page = admin.get(BULK).await;
        let (token, key) = (page.csrf_token(), page.field("form_key"));
        let fields = [
            ("tenant", "acme"), ("amount", "200"), ("intent", "commit"),
            ("form_key", &key), ("csrf_token", &token),
        ];
        for _ in 0..2 {
            admin.post(BULK, &fields).await.assert_redirect(BULK);
        }
        assert_eq!(pool(&app, &acme.tenant_id).await, "1200");
        app.assert_ledger_consistent().await;
    }

    async fn an_allocation_is_reversed_from_its_history_row_and_the_audit_rows_are_shown(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        let allocation = allocation_logs(&app, &acme.tenant_id).await[0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let reverse = format!("/admin/allocations/{allocation}/reverse");
        let history = format!("/admin/tenants/{}/allocations", acme.tenant_id);
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin.get(&history).await.assert_contains(&format!("href=\"{reverse}\""));
        let form = admin.get(&reverse).await;
        form.assert_status(200).assert_contains("value=\"1000\"");
        assert!(part(&form, "reversible-amount").contains("1,000"));

        // More than is reversible: the API's own words, beside the form.
        let api = app
            .post(
                &format!("/api/v1/points/allocation-logs/{allocation}/reverse"),
                &app.admin_token,
                json!({"amount": "1500", "reason": "Too much"}),
            )
            .await;
        api.assert_error(400, "reversal_exceeds_reversible");
        let api_words = api.str("detail");
        let refused = admin
            .submit(&reverse, &reverse, &[("amount", "1500"), ("reason", "Too much")])
            .await;
        refused
            .assert_status(400)
            .assert_contains("id=\"reverse-error\"")
            .assert_contains(&api_words.replace('\'', "&#39;"))
            .assert_contains("value=\"1500\"");
        admin
            .submit(&reverse, &reverse, &[("amount", "100"), ("reason", "  ")])
            .await
            .assert_status(400)
            .assert_contains("Reason must not be empty");
        assert_eq!(pool(&app, &acme.tenant_id).await, "1000");

        let page = admin.get(&reverse).await;
        let (token, key) = (page.csrf_token(), page.field("form_key"));
        let fields = [
            ("amount", "400"), ("reason", "Sent to the wrong tenant"),
            ("form_key", &key), ("csrf_token", &token),
        ];
        let done = admin.post(&reverse, &fields).await;
        done.assert_status(200)
            .assert_contains("Reversed 400 Points from Tenant acme. The pool now holds 600 Points");
        let rows = part(&done, "audit-rows");
        let billing = newest(&app, "billing-logs", &acme.tenant_id, "ALLOCATION_REVERSAL").await;
        let journal = newest(&app, "journal", &acme.tenant_id, "allocation_reversal").await;
        assert_eq!(billing["amount"], "400");
        assert_eq!(journal["amount"], "400");
        for id in [&billing["id"], &journal["id"]] {
            assert!(rows.contains(id.as_str().unwrap_or("missing")), "{id} not in {rows}");
        }
        assert!(rows.contains("Sent to the wrong tenant"));
        let log = app
            .get(&format!("/api/v1/points/allocation-logs/{allocation}"), &app.admin_token)
            .await;
        assert_eq!(log.body["reversed_amount"], "400");
        assert_eq!(log.body["reversible_amount"], "600");
        assert_eq!(pool(&app, &acme.tenant_id).await, "600");
        // The same form again shows the same rows and reverses nothing more.
        let again = admin.post(&reverse, &fields).await;
        again.assert_status(200);
        assert_eq!(part(&again, "audit-rows"), rows);
        assert_eq!(pool(&app, &acme.tenant_id).await, "600");

        // The rest, with the amount left at its default; then the row offers no reversal.
        admin
            .submit(&reverse, &reverse, &[("amount", "600"), ("reason", "The rest")])
            .await
            .assert_status(200);
        assert_eq!(pool(&app, &acme.tenant_id).await, "0");
        assert!(!admin.get(&history).await.body.contains(&reverse));
        admin.get(&reverse).await.assert_contains("id=\"nothing-to-reverse\"");
        admin.get("/admin/allocations/no-such-id/reverse").await.assert_status(404);
        app.assert_ledger_consistent().await;
    }

    async fn the_dashboard_shows_the_verified_totals_daily_charts_low_pools_and_alerts(app: TestApp) {
        let acme = app.company("acme", json!(1500)).await;
        let beta = app.create_tenant("beta").await;
        award(&app, &acme, &acme.alice.0, 200).await;
        // 1300 → 800 crosses the default low-balance mark of 1000 and fires an alert.
        app.post(
            &format!("/api/v1/points/clawback/{}", acme.tenant_id),
            &app.admin_token,
            json!({"amount": 500}),
        )
        .await
        .assert_status(200);
        let alerts = app.get("/api/v1/points/alerts", &app.admin_token).await;
        assert_eq!(alerts.body["total"], 1, "{alerts:?}");
        assert_eq!(alerts.body["items"][0]["balance"], "800");

        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let page = admin.get("/admin").await;
        page.assert_status(200).assert_contains("The journal and every balance agree");
        let report = app.store.verify().await.expect("verify runs");
        assert_eq!(report.issued_net.to_string(), "1000");
        let totals = part(&page, "platform-totals");
        for shown in [
            "Issued by the platform</dt><dd>1,000",
            "In tenant pools</dt><dd>800",
            "In wallets</dt><dd>200",
            "Redeemed</dt><dd>0",
        ] {
            assert!(totals.contains(shown), "{shown} not in {totals}");
        }
        page.assert_contains("id=\"allocated-total\">1,500 allocated in all")
            .assert_contains("id=\"awarded-total\">200 awarded in all");
        assert_eq!(page.body.matches("<svg").count(), 2);
        let low = part(&page, "low-pools");
        assert!(low.contains("Tenant acme") && low.contains("Tenant beta"), "{low}");
        assert!(low.contains(&format!("/admin/tenants/{beta}#allocate-title")), "{low}");
        let fired = part(&page, "recent-alerts");
        assert!(fired.contains("Tenant acme") && fired.contains("800"), "{fired}");
        // The tenants grid is still there, each tenant linked.
        page.assert_contains(&format!("href=\"/admin/tenants/{}\"", acme.tenant_id))
            .assert_contains("2 tenants; 2 with a pool that is low or empty");
    }

    async fn the_usage_report_page_gives_the_api_s_numbers_and_its_csv(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        award(&app, &acme, &acme.alice.0, 200).await;
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin
            .get("/admin/reports")
            .await
            .assert_status(200)
            .assert_contains("Choose a tenant");
        let path = format!("/admin/reports?tenant={}&period=day", acme.tenant_id);
        let page = admin.get(&path).await;
        page.assert_status(200).assert_contains("<svg");
        let api = app
            .get(
                &format!("/api/v1/points/reports/usage?tenant_id={}&period=day", acme.tenant_id),
                &app.admin_token,
            )
            .await;
        assert_eq!(api.body["totals"]["allocated"], "1000");
        assert_eq!(api.body["totals"]["awarded"], "200");
        let totals = part(&page, "report-totals");
        assert!(totals.contains("Allocated</th><td class=\"number\">1,000"), "{totals}");
        assert!(totals.contains("Awarded</th><td class=\"number\">200"), "{totals}");
        // The download is the API's CSV, byte for byte.
        let csv = admin.get(&format!("{path}&format=csv")).await;
        csv.assert_status(200);
        assert_eq!(
            csv.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        let query = format!("tenant_id={}&period=day", acme.tenant_id);
        assert_eq!(csv.body, api_csv(&app, &query).await);
        // The page's last day is inclusive; the API's end is exclusive.
        let (from, to) = (today(&app), tomorrow(&app));
        let ranged = admin
            .get(&format!("{path}&from={from}&to={from}&format=csv"))
            .await;
        assert_eq!(ranged.body, api_csv(&app, &format!("{query}&from={from}&to={to}")).await);
        assert!(ranged.body.contains(",1000,"), "{}", ranged.body);
        let empty = admin.get(&format!("{path}&from={to}&format=csv")).await;
        assert_eq!(empty.body.lines().count(), 1, "{}", empty.body);

        admin
            .get(&format!("{path}&from=yesterday"))
            .await
            .assert_status(400)
            .assert_contains("id=\"report-error\"")
            .assert_contains("From must be a date");
        admin
            .get(&format!("/admin/reports?tenant={}&period=week", acme.tenant_id))
            .await
            .assert_status(400)
            .assert_contains("Period must be day, month or year");
        admin
            .get("/admin/reports?tenant=no-such-tenant")
            .await
            .assert_status(404)
            .assert_contains("Tenant not found");
    }
}

/// Opens the bulk page as the admin and sends `fields` with its form token.
async fn admin_submit(app: &TestApp, fields: &[(&str, &str)]) -> Page {
    let mut admin = Browser::signed_in(app, ADMIN).await;
    admin.submit(BULK, BULK, fields).await
}
