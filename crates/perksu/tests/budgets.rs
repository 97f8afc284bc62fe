//! Fiscal budgets, black-box over HTTP on both databases: their lifecycle, the split across
//! departments and leads (sequential and concurrent), refusals, roles, tenant isolation and
//! the change log.

mod common;

use std::collections::BTreeSet;

use chrono::TimeDelta;
use common::{Company, Reply, TestApp};
use futures::future::join_all;
use perksu_store::Clock;
use reqwest::Method;
use serde_json::{json, Value};

const BUDGETS: &str = "/api/budgets";

async fn create(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post(BUDGETS, token, body).await
}

/// A draft budget of `total` for fiscal 2026; returns its id.
async fn draft(app: &TestApp, token: &str, name: &str, total: Value) -> String {
    let reply = create(
        app,
        token,
        json!({"name": name, "fiscal_year": 2026, "total_points": total}),
    )
    .await;
    reply.assert_status(201);
    reply.str("id")
}

async fn department(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .post("/api/departments", token, json!({"name": name}))
        .await;
    reply.assert_status(201);
    reply.str("id")
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.request(Method::PUT, path, Some(token), Some(&body), &[])
        .await
}

async fn put_share(
    app: &TestApp,
    token: &str,
    budget: &str,
    department: &str,
    body: Value,
) -> Reply {
    put(
        app,
        &format!("{BUDGETS}/{budget}/departments/{department}"),
        token,
        body,
    )
    .await
}

async fn put_lead(app: &TestApp, token: &str, budget: &str, lead: &str, amount: Value) -> Reply {
    put(
        app,
        &format!("{BUDGETS}/{budget}/leads/{lead}"),
        token,
        json!({"allocated_points": amount}),
    )
    .await
}

async fn activate(app: &TestApp, token: &str, budget: &str) -> Reply {
    app.post(&format!("{BUDGETS}/{budget}/activate"), token, json!({}))
        .await
}

async fn close(app: &TestApp, token: &str, budget: &str) -> Reply {
    app.post(&format!("{BUDGETS}/{budget}/close"), token, json!({}))
        .await
}

async fn patch(app: &TestApp, token: &str, budget: &str, body: Value) -> Reply {
    app.patch(&format!("{BUDGETS}/{budget}"), token, body).await
}

/// A budget as `token` reads it.
async fn budget(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("{BUDGETS}/{id}"), token).await;
    reply.assert_status(200);
    reply.body
}

/// A listing that must answer 200 with an array.
async fn list(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let reply = app.get(path, token).await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .clone()
}

async fn shares(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    list(app, token, &format!("{BUDGETS}/{id}/departments")).await
}

async fn leads(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    list(app, token, &format!("{BUDGETS}/{id}/leads")).await
}

async fn events(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    list(app, token, &format!("{BUDGETS}/{id}/events")).await
}

fn actions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect()
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["id"].as_str().expect("id")).collect()
}

/// Moves the test clock a second on, so each change has its own timestamp.
fn tick(app: &TestApp) {
    app.clock.set(app.clock.now() + TimeDelta::seconds(1));
}

/// A manager's draft budget of 1000 with an Engineering share of 100 and a lead allocation
/// of 50: something for refused requests to leave untouched.
async fn split_budget(app: &TestApp, company: &Company) -> (String, String) {
    let manager = &company.manager.1;
    let id = draft(app, manager, "FY2026", json!(1000)).await;
    let engineering = department(app, manager, "Engineering").await;
    put_share(
        app,
        manager,
        &id,
        &engineering,
        json!({"allocated_points": 100}),
    )
    .await
    .assert_status(200);
    put_lead(app, manager, &id, &company.lead.0, json!(50))
        .await
        .assert_status(200);
    (id, engineering)
}

backend_tests! {
    async fn a_budget_is_drafted_edited_activated_and_closed(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;

        let created = create(&app, manager, json!({
            "name": "  FY26 Q1  ", "fiscal_year": 2026, "fiscal_quarter": 1,
            "total_points": "1000.50", "expiry_date": "2026-03-31",
        }))
        .await;
        created.assert_status(201);
        let id = created.str("id");
        assert_eq!(created.str("tenant_id"), acme.tenant_id);
        assert_eq!(created.str("name"), "FY26 Q1");
        assert_eq!(created.body["fiscal_year"], 2026);
        assert_eq!(created.body["fiscal_quarter"], 1);
        assert_eq!(created.str("total_points"), "1000.5");
        assert_eq!(created.str("allocated_points"), "0");
        assert_eq!(created.str("unallocated_points"), "1000.5");
        assert_eq!(created.str("spent_points"), "0");
        assert_eq!(created.str("status"), "draft");
        assert_eq!(created.str("expiry_date"), "2026-03-31");
        assert_eq!(created.body["activated_at"], Value::Null);
        assert_eq!(created.body["closed_at"], Value::Null);
        assert_eq!(budget(&app, manager, &id).await, created.body);

        tick(&app);
        let edited = patch(&app, manager, &id, json!({
            "name": "FY26", "total_points": 2000, "fiscal_quarter": null, "expiry_date": null,
        }))
        .await;
        edited.assert_status(200);
        assert_eq!(edited.str("name"), "FY26");
        assert_eq!(edited.body["fiscal_year"], 2026, "left out, so unchanged");
        assert_eq!(edited.body["fiscal_quarter"], Value::Null);
        assert_eq!(edited.body["expiry_date"], Value::Null);
        assert_eq!(edited.str("total_points"), "2000");
        assert_eq!(edited.str("unallocated_points"), "2000");
        assert_ne!(edited.str("updated_at"), created.str("updated_at"));
        assert_eq!(budget(&app, manager, &id).await, edited.body);

        tick(&app);
        let active = activate(&app, manager, &id).await;
        active.assert_status(200);
        assert_eq!(active.str("status"), "active");
        assert!(active.body["activated_at"].is_string(), "{active:?}");

        let still_editable = patch(&app, manager, &id, json!({"total_points": 3000})).await;
        still_editable.assert_status(200);
        assert_eq!(still_editable.str("total_points"), "3000");
        assert_eq!(still_editable.str("status"), "active");

        tick(&app);
        let closed = close(&app, manager, &id).await;
        closed.assert_status(200);
        assert_eq!(closed.str("status"), "closed");
        assert!(closed.body["closed_at"].is_string(), "{closed:?}");
        assert_eq!(closed.str("activated_at"), active.str("activated_at"));

        let listed = list(&app, manager, &format!("{BUDGETS}?status=closed")).await;
        assert_eq!(ids(&listed), [id.as_str()]);
        assert!(list(&app, manager, &format!("{BUDGETS}?status=draft")).await.is_empty());
        assert!(list(&app, manager, &format!("{BUDGETS}?status=active")).await.is_empty());
    }

    async fn budgets_are_listed_newest_first_and_filtered_by_status(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let first = draft(&app, manager, "First", json!(10)).await;
        tick(&app);
        let second = draft(&app, manager, "Second", json!(20)).await;
        tick(&app);
        let third = draft(&app, manager, "Third", json!(30)).await;
        activate(&app, manager, &second).await.assert_status(200);

        let all = list(&app, manager, BUDGETS).await;
        assert_eq!(ids(&all), [third.as_str(), second.as_str(), first.as_str()]);
        let drafts = list(&app, manager, &format!("{BUDGETS}?status=draft")).await;
        assert_eq!(ids(&drafts), [third.as_str(), first.as_str()]);
        let active = list(&app, manager, &format!("{BUDGETS}?status=active")).await;
        assert_eq!(ids(&active), [second.as_str()]);
    }

    async fn only_one_budget_is_active_at_a_time(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let first = draft(&app, manager, "First", json!(100)).await;
        let second = draft(&app, manager, "Second", json!(200)).await;

        activate(&app, manager, &first).await.assert_status(200);
        activate(&app, manager, &second)
            .await
            .assert_error(409, "budget_already_active");
        assert_eq!(budget(&app, manager, &second).await["status"], "draft");
        activate(&app, manager, &first)
            .await
            .assert_error(409, "invalid_budget_transition");

        close(&app, manager, &first).await.assert_status(200);
        activate(&app, manager, &second).await.assert_status(200);
        let active = list(&app, manager, &format!("{BUDGETS}?status=active")).await;
        assert_eq!(ids(&active), [second.as_str()]);

        // Another tenant's active budget is no obstacle.
        let globex = app.company("globex", json!(0)).await;
        let theirs = draft(&app, &globex.manager.1, "Theirs", json!(5)).await;
        activate(&app, &globex.manager.1, &theirs).await.assert_status(200);
    }

    async fn concurrent_activations_leave_exactly_one_budget_active(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let mut drafts = Vec::new();
        for i in 0..6 {
            drafts.push(draft(&app, manager, &format!("Budget {i}"), json!(100)).await);
        }

        let replies = join_all(drafts.iter().map(|id| activate(&app, manager, id))).await;

        let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "{replies:#?}");
        for reply in replies.iter().filter(|r| r.status != 200) {
            reply.assert_error(409, "budget_already_active");
        }
        let active = list(&app, manager, &format!("{BUDGETS}?status=active")).await;
        assert_eq!(ids(&active), [winners[0].str("id").as_str()]);
        assert_eq!(list(&app, manager, &format!("{BUDGETS}?status=draft")).await.len(), 5);
    }

    async fn the_split_across_departments_and_leads_never_exceeds_the_total(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let id = draft(&app, manager, "FY2026", json!(1000)).await;
        let engineering = department(&app, manager, "Engineering").await;
        let sales = department(&app, manager, "Sales").await;

        let share = put_share(&app, manager, &id, &engineering, json!({"allocated_points": 600})).await;
        share.assert_status(200);
        assert_eq!(share.str("budget_id"), id);
        assert_eq!(share.str("department_id"), engineering);
        assert_eq!(share.str("department_name"), "Engineering");
        assert_eq!(share.str("allocated_points"), "600");
        assert_eq!(share.str("spent_points"), "0");
        assert_eq!(share.str("remaining_points"), "600");
        assert_eq!(share.body["monthly_cap"], Value::Null);
        assert_eq!(share.str("spent_this_month"), "0");

        let allocation = put_lead(&app, manager, &id, &acme.lead.0, json!("300")).await;
        allocation.assert_status(200);
        assert_eq!(allocation.str("lead_id"), acme.lead.0);
        assert_eq!(allocation.str("lead_name"), "Test lead");
        assert_eq!(allocation.str("allocated_points"), "300");
        assert_eq!(allocation.str("remaining_points"), "300");

        let refused = put_share(&app, manager, &id, &sales, json!({"allocated_points": 200})).await;
        refused.assert_error(400, "budget_exceeded");
        assert_eq!(
            refused.str("detail"),
            "Budget split exceeds the total. Unallocated: 100, Required: 200"
        );
        put_share(&app, manager, &id, &sales, json!({"allocated_points": 100}))
            .await
            .assert_status(200);
        let full = budget(&app, manager, &id).await;
        assert_eq!(full["allocated_points"], "1000");
        assert_eq!(full["unallocated_points"], "0");

        let raise = put_share(&app, manager, &id, &engineering, json!({"allocated_points": "600.01"})).await;
        raise.assert_error(400, "budget_exceeded");
        assert_eq!(
            raise.str("detail"),
            "Budget split exceeds the total. Unallocated: 0, Required: 0.01"
        );
        let lowered = put_share(&app, manager, &id, &engineering,
            json!({"allocated_points": 500, "monthly_cap": "50"})).await;
        lowered.assert_status(200);
        assert_eq!(lowered.str("id"), share.str("id"), "the share is changed, not added");
        assert_eq!(lowered.str("monthly_cap"), "50");
        put_lead(&app, manager, &id, &acme.lead.0, json!(401))
            .await
            .assert_error(400, "budget_exceeded");
        put_lead(&app, manager, &id, &acme.lead.0, json!(400))
            .await
            .assert_status(200);

        let split = shares(&app, manager, &id).await;
        let summary: Vec<(&Value, &Value, &Value)> = split
            .iter()
            .map(|s| (&s["department_name"], &s["allocated_points"], &s["monthly_cap"]))
            .collect();
        assert_eq!(summary, [
            (&json!("Engineering"), &json!("500"), &json!("50")),
            (&json!("Sales"), &json!("100"), &Value::Null),
        ]);
        let allocations = leads(&app, manager, &id).await;
        assert_eq!(allocations.len(), 1);
        assert_eq!(allocations[0]["allocated_points"], "400");
        let after = budget(&app, manager, &id).await;
        assert_eq!(after["allocated_points"], "1000");
        assert_eq!(after["unallocated_points"], "0");
    }

    async fn twenty_concurrent_department_shares_never_split_more_than_the_total(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let id = draft(&app, manager, "FY2026", json!(1000)).await;
        let mut departments = Vec::new();
        for i in 0..20 {
            departments.push(department(&app, manager, &format!("Team {i:02}")).await);
        }

        // Each asks for 150: six fit in 1000, a seventh never does.
        let replies = join_all(departments.iter().map(|department| {
            put_share(&app, manager, &id, department, json!({"allocated_points": 150}))
        }))
        .await;

        let mut granted = BTreeSet::new();
        for (department, reply) in departments.iter().zip(&replies) {
            if reply.status == 200 {
                assert_eq!(reply.str("department_id"), *department);
                assert_eq!(reply.str("allocated_points"), "150");
                granted.insert(department.clone());
            } else {
                reply.assert_error(400, "budget_exceeded");
            }
        }
        assert_eq!(granted.len(), 6, "{replies:#?}");
        let split = shares(&app, manager, &id).await;
        let stored: BTreeSet<String> = split
            .iter()
            .map(|s| s["department_id"].as_str().expect("department_id").to_owned())
            .collect();
        assert_eq!(stored, granted);
        assert!(split.iter().all(|s| s["allocated_points"] == "150"), "{split:#?}");
        let after = budget(&app, manager, &id).await;
        assert_eq!(after["allocated_points"], "900");
        assert_eq!(after["unallocated_points"], "100");
        let recorded = events(&app, manager, &id).await;
        assert_eq!(
            actions(&recorded).iter().filter(|a| **a == "department_share_set").count(),
            6
        );
    }

    async fn concurrent_changes_to_one_share_keep_the_budget_in_step(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let id = draft(&app, manager, "FY2026", json!(1000)).await;
        let engineering = department(&app, manager, "Engineering").await;

        let amounts: Vec<i64> = (1..=10).map(|i| i * 100).collect();
        let replies = join_all(amounts.iter().map(|amount| {
            put_share(&app, manager, &id, &engineering, json!({"allocated_points": amount}))
        }))
        .await;

        for reply in &replies {
            reply.assert_status(200);
        }
        let split = shares(&app, manager, &id).await;
        assert_eq!(split.len(), 1, "one share per department: {split:#?}");
        let stored = split[0]["allocated_points"].as_str().expect("allocated").to_owned();
        assert!(amounts.iter().any(|a| a.to_string() == stored), "{stored}");
        assert_eq!(budget(&app, manager, &id).await["allocated_points"], stored.as_str());
        assert_eq!(events(&app, manager, &id).await.len(), 11);
    }

    async fn the_total_cannot_drop_below_what_is_split(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let (id, _) = split_budget(&app, &acme).await;
        let before = budget(&app, manager, &id).await;

        let refused = patch(&app, manager, &id, json!({"total_points": "149.99", "name": "Smaller"})).await;
        refused.assert_error(400, "budget_total_below_allocated");
        assert!(refused.str("detail").contains("150"), "{refused:?}");
        assert_eq!(budget(&app, manager, &id).await, before, "nothing changed");

        let exact = patch(&app, manager, &id, json!({"total_points": 150})).await;
        exact.assert_status(200);
        assert_eq!(exact.str("unallocated_points"), "0");
        put_lead(&app, manager, &id, &acme.lead.0, json!("50.01"))
            .await
            .assert_error(400, "budget_exceeded");
    }

    async fn a_closed_budget_refuses_every_change(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let (id, engineering) = split_budget(&app, &acme).await;
        activate(&app, manager, &id).await.assert_status(200);
        close(&app, manager, &id).await.assert_status(200);
        let before = budget(&app, manager, &id).await;

        patch(&app, manager, &id, json!({"name": "Reopened"}))
            .await
            .assert_error(409, "budget_closed");
        activate(&app, manager, &id).await.assert_error(409, "budget_closed");
        put_share(&app, manager, &id, &engineering, json!({"allocated_points": 10}))
            .await
            .assert_error(409, "budget_closed");
        put_lead(&app, manager, &id, &acme.lead.0, json!(10))
            .await
            .assert_error(409, "budget_closed");
        close(&app, manager, &id)
            .await
            .assert_error(409, "invalid_budget_transition");

        assert_eq!(budget(&app, manager, &id).await, before);
        assert_eq!(shares(&app, manager, &id).await[0]["allocated_points"], "100");
        assert_eq!(leads(&app, manager, &id).await[0]["allocated_points"], "50");
        assert_eq!(
            actions(&events(&app, manager, &id).await),
            ["closed", "activated", "lead_allocation_set", "department_share_set", "created"]
        );
        // A draft may be closed without ever being active.
        let unused = draft(&app, manager, "Unused", json!(1)).await;
        let closed = close(&app, manager, &unused).await;
        closed.assert_status(200);
        assert_eq!(closed.body["activated_at"], Value::Null);
    }

    async fn invalid_fields_are_refused_with_a_code_and_change_nothing(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let valid = json!({"name": "FY2026", "fiscal_year": 2026, "total_points": 100});
        let with = |field: &str, value: Value| {
            let mut body = valid.clone();
            body[field] = value;
            body
        };
        let long_name = "x".repeat(121);
        let cases = [
            (with("name", json!("")), "invalid_field"),
            (with("name", json!("   ")), "invalid_field"),
            (with("name", json!(long_name)), "invalid_field"),
            (with("fiscal_year", json!(1999)), "invalid_field"),
            (with("fiscal_year", json!(2101)), "invalid_field"),
            (with("fiscal_year", json!("2026")), "invalid_field"),
            (with("fiscal_quarter", json!(0)), "invalid_field"),
            (with("fiscal_quarter", json!(5)), "invalid_field"),
            (with("expiry_date", json!("2026-02-30")), "invalid_date"),
            (with("expiry_date", json!("2026-2-01")), "invalid_date"),
            (with("expiry_date", json!("31/12/2026")), "invalid_date"),
            (with("expiry_date", json!("2026-12-31T00:00:00Z")), "invalid_date"),
            (with("total_points", json!(-1)), "invalid_amount"),
            (with("total_points", json!("12.345")), "invalid_amount"),
            (with("total_points", json!("lots")), "invalid_amount"),
            (json!({"name": "FY2026", "fiscal_year": 2026}), "invalid_field"),
        ];
        for (body, code) in &cases {
            let reply = create(&app, manager, body.clone()).await;
            reply.assert_error(400, code);
            assert!(!reply.str("detail").is_empty());
        }
        assert!(list(&app, manager, BUDGETS).await.is_empty(), "nothing was created");
        let longest = create(&app, manager, with("name", json!("x".repeat(120)))).await;
        longest.assert_status(201);

        let (id, engineering) = split_budget(&app, &acme).await;
        let before = budget(&app, manager, &id).await;
        let bad_patches = [
            (json!({"name": ""}), "invalid_field"),
            (json!({"fiscal_year": 1999}), "invalid_field"),
            (json!({"fiscal_quarter": 9}), "invalid_field"),
            (json!({"expiry_date": "soon"}), "invalid_date"),
            (json!({"total_points": "-5"}), "invalid_amount"),
            (json!({"total_points": 500, "expiry_date": "2026-13-01"}), "invalid_date"),
        ];
        for (body, code) in &bad_patches {
            patch(&app, manager, &id, body.clone()).await.assert_error(400, code);
        }
        assert_eq!(budget(&app, manager, &id).await, before);

        put_share(&app, manager, &id, &engineering, json!({"allocated_points": -1}))
            .await
            .assert_error(400, "invalid_amount");
        put_share(&app, manager, &id, &engineering, json!({"allocated_points": 10, "monthly_cap": 0}))
            .await
            .assert_error(400, "invalid_amount");
        put_share(&app, manager, &id, &engineering, json!({}))
            .await
            .assert_error(400, "invalid_field");
        put_lead(&app, manager, &id, &acme.lead.0, json!("ten"))
            .await
            .assert_error(400, "invalid_amount");
        assert_eq!(shares(&app, manager, &id).await[0]["allocated_points"], "100");
        assert_eq!(shares(&app, manager, &id).await[0]["monthly_cap"], Value::Null);
        assert_eq!(leads(&app, manager, &id).await[0]["allocated_points"], "50");
        assert_eq!(budget(&app, manager, &id).await, before);
        assert_eq!(
            actions(&events(&app, manager, &id).await),
            ["lead_allocation_set", "department_share_set", "created"]
        );

        app.get(&format!("{BUDGETS}?status=open"), manager)
            .await
            .assert_error(400, "invalid_field");
        app.get(&format!("{BUDGETS}/no-such-budget"), manager)
            .await
            .assert_error(404, "budget_not_found");
        put_share(&app, manager, &id, "no-such-department", json!({"allocated_points": 1}))
            .await
            .assert_error(404, "department_not_found");
    }

    async fn employees_and_platform_admins_are_refused_and_leads_may_only_read(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let (id, engineering) = split_budget(&app, &acme).await;
        let before = budget(&app, manager, &id).await;

        for token in [&acme.alice.1, &app.admin_token] {
            for path in [
                BUDGETS.to_owned(),
                format!("{BUDGETS}/{id}"),
                format!("{BUDGETS}/{id}/departments"),
                format!("{BUDGETS}/{id}/leads"),
                format!("{BUDGETS}/{id}/events"),
            ] {
                app.get(&path, token).await.assert_error(403, "forbidden");
            }
            create(&app, token, json!({"name": "Mine", "fiscal_year": 2026, "total_points": 1}))
                .await
                .assert_error(403, "forbidden");
        }

        let lead = &acme.lead.1;
        assert_eq!(ids(&list(&app, lead, BUDGETS).await), [id.as_str()]);
        assert_eq!(budget(&app, lead, &id).await, before);
        assert_eq!(leads(&app, lead, &id).await.len(), 1);
        assert_eq!(shares(&app, lead, &id).await.len(), 1);
        assert_eq!(events(&app, lead, &id).await.len(), 3);

        for token in [lead, &acme.alice.1, &app.admin_token] {
            create(&app, token, json!({"name": "Mine", "fiscal_year": 2026, "total_points": 1}))
                .await
                .assert_error(403, "forbidden");
            patch(&app, token, &id, json!({"name": "Mine"}))
                .await
                .assert_error(403, "forbidden");
            activate(&app, token, &id).await.assert_error(403, "forbidden");
            close(&app, token, &id).await.assert_error(403, "forbidden");
            put_share(&app, token, &id, &engineering, json!({"allocated_points": 1}))
                .await
                .assert_error(403, "forbidden");
            put_lead(&app, token, &id, &acme.lead.0, json!(1))
                .await
                .assert_error(403, "forbidden");
        }

        assert_eq!(budget(&app, manager, &id).await, before);
        assert_eq!(list(&app, manager, BUDGETS).await.len(), 1);
        assert_eq!(events(&app, manager, &id).await.len(), 3);
    }

    async fn another_tenants_budget_department_and_lead_are_not_found_and_stay_unchanged(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let globex = app.company("globex", json!(0)).await;
        let (id, engineering) = split_budget(&app, &acme).await;
        let ours = &acme.manager.1;
        let theirs = &globex.manager.1;
        let their_department = department(&app, theirs, "Engineering").await;
        let before = budget(&app, ours, &id).await;

        for token in [theirs, &globex.lead.1] {
            for path in [
                format!("{BUDGETS}/{id}"),
                format!("{BUDGETS}/{id}/departments"),
                format!("{BUDGETS}/{id}/leads"),
                format!("{BUDGETS}/{id}/events"),
            ] {
                app.get(&path, token).await.assert_error(404, "budget_not_found");
            }
            assert!(list(&app, token, BUDGETS).await.is_empty());
        }
        patch(&app, theirs, &id, json!({"total_points": 1}))
            .await
            .assert_error(404, "budget_not_found");
        activate(&app, theirs, &id).await.assert_error(404, "budget_not_found");
        close(&app, theirs, &id).await.assert_error(404, "budget_not_found");
        put_share(&app, theirs, &id, &their_department, json!({"allocated_points": 1}))
            .await
            .assert_error(404, "budget_not_found");
        put_share(&app, theirs, &id, &engineering, json!({"allocated_points": 1}))
            .await
            .assert_error(404, "budget_not_found");
        put_lead(&app, theirs, &id, &globex.lead.0, json!(1))
            .await
            .assert_error(404, "budget_not_found");

        // Our manager cannot reach their department or lead through our budget.
        put_share(&app, ours, &id, &their_department, json!({"allocated_points": 1}))
            .await
            .assert_error(404, "department_not_found");
        put_lead(&app, ours, &id, &globex.lead.0, json!(1))
            .await
            .assert_error(404, "lead_not_found");
        put_lead(&app, ours, &id, "no-such-user", json!(1))
            .await
            .assert_error(404, "lead_not_found");
        put_lead(&app, ours, &id, &acme.alice.0, json!(1))
            .await
            .assert_error(400, "not_a_lead");

        assert_eq!(budget(&app, ours, &id).await, before);
        let split = shares(&app, ours, &id).await;
        assert_eq!(split.len(), 1);
        assert_eq!(split[0]["department_id"], engineering.as_str());
        let allocations = leads(&app, ours, &id).await;
        assert_eq!(allocations.len(), 1);
        assert_eq!(allocations[0]["lead_id"], acme.lead.0.as_str());
        assert_eq!(events(&app, ours, &id).await.len(), 3);
    }

    async fn every_change_is_recorded_as_an_event_newest_first(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let id = draft(&app, manager, "FY2026", json!(1000)).await;
        let engineering = department(&app, manager, "Engineering").await;
        tick(&app);
        patch(&app, manager, &id, json!({"total_points": 1200, "fiscal_quarter": 2}))
            .await
            .assert_status(200);
        tick(&app);
        put_share(&app, manager, &id, &engineering, json!({"allocated_points": 300, "monthly_cap": 40}))
            .await
            .assert_status(200);
        tick(&app);
        put_lead(&app, manager, &id, &acme.lead.0, json!(200)).await.assert_status(200);
        tick(&app);
        activate(&app, manager, &id).await.assert_status(200);
        tick(&app);
        put_share(&app, manager, &id, &engineering, json!({"allocated_points": 250}))
            .await
            .assert_status(200);
        tick(&app);
        close(&app, manager, &id).await.assert_status(200);

        let recorded = events(&app, manager, &id).await;
        assert_eq!(actions(&recorded), [
            "closed", "department_share_set", "activated", "lead_allocation_set",
            "department_share_set", "updated", "created",
        ]);
        for event in &recorded {
            assert_eq!(event["actor_id"], acme.manager.0.as_str(), "{event}");
            assert_eq!(event["actor_name"], "Test tenant_manager", "{event}");
            assert_eq!(event["budget_id"], id.as_str(), "{event}");
        }
        let times: Vec<&str> = recorded
            .iter()
            .map(|e| e["created_at"].as_str().expect("created_at"))
            .collect();
        assert!(times.windows(2).all(|pair| pair[0] > pair[1]), "{times:?}");
        let detail = |i: usize| recorded[i]["detail"].as_str().expect("detail").to_owned();
        assert!(detail(6).contains("1000"), "{}", detail(6));
        assert!(detail(5).contains("total from 1000 to 1200"), "{}", detail(5));
        assert!(detail(5).contains("FY2026 to FY2026 Q2"), "{}", detail(5));
        assert!(detail(4).contains("Engineering") && detail(4).contains("300"), "{}", detail(4));
        assert!(detail(4).contains("monthly cap 40"), "{}", detail(4));
        assert!(detail(3).contains("Test lead") && detail(3).contains("200"), "{}", detail(3));
        assert!(detail(1).contains("250 (was 300)"), "{}", detail(1));
        assert!(detail(0).contains("was active"), "{}", detail(0));
    }

    async fn a_share_never_drops_below_what_it_spent_and_spending_shows_in_the_listings(app: TestApp) {
        let acme = app.company("acme", json!(0)).await;
        let manager = &acme.manager.1;
        let id = draft(&app, manager, "FY2026", json!(1000)).await;
        let engineering = department(&app, manager, "Engineering").await;
        let share = put_share(&app, manager, &id, &engineering,
            json!({"allocated_points": 300, "monthly_cap": 100})).await;
        share.assert_status(200);
        let allocation = put_lead(&app, manager, &id, &acme.lead.0, json!(200)).await;
        allocation.assert_status(200);

        // Recognitions charge budgets (their own suite covers that); here the charges are
        // written directly: 120 by the department (70 of it this month), 80 by the lead.
        let now = app.clock.now();
        let this_month = now.format("%Y-%m").to_string();
        let last_month = (now - TimeDelta::days(40)).format("%Y-%m").to_string();
        sqlx::any::install_default_drivers();
        {
            use sqlx::Connection;
            let mut db = sqlx::AnyConnection::connect(&app.database_url)
                .await
                .expect("connect");
            let share_id = share.str("id");
            for (sql, month, amount) in [
                ("update department_budgets set spent_points = $1 where id = $2", None, 12000_i64),
                ("insert into department_budget_months (spent_points, department_budget_id, month) \
                  values ($1, $2, $3)", Some(&this_month), 7000),
                ("insert into department_budget_months (spent_points, department_budget_id, month) \
                  values ($1, $2, $3)", Some(&last_month), 5000),
            ] {
                let mut query = sqlx::query(sql).bind(amount).bind(&share_id);
                if let Some(month) = month {
                    query = query.bind(month);
                }
                query.execute(&mut db).await.expect("charge the share");
            }
            sqlx::query("update lead_allocations set spent_points = 8000 where id = $1")
                .bind(allocation.str("id"))
                .execute(&mut db)
                .await
                .expect("charge the allocation");
            db.close().await.expect("close");
        }

        let listed = &shares(&app, manager, &id).await[0];
        assert_eq!(listed["spent_points"], "120");
        assert_eq!(listed["remaining_points"], "180");
        assert_eq!(listed["spent_this_month"], "70");
        let listed_lead = &leads(&app, manager, &id).await[0];
        assert_eq!(listed_lead["spent_points"], "80");
        assert_eq!(listed_lead["remaining_points"], "120");
        let before = budget(&app, manager, &id).await;
        assert_eq!(before["spent_points"], "200");
        assert_eq!(before["allocated_points"], "500");

        let refused = put_share(&app, manager, &id, &engineering, json!({"allocated_points": "119.99"})).await;
        refused.assert_error(400, "allocation_below_spent");
        assert!(refused.str("detail").contains("Spent: 120"), "{refused:?}");
        put_lead(&app, manager, &id, &acme.lead.0, json!(79))
            .await
            .assert_error(400, "allocation_below_spent");
        assert_eq!(budget(&app, manager, &id).await, before, "nothing changed");

        let emptied = put_share(&app, manager, &id, &engineering, json!({"allocated_points": 120})).await;
        emptied.assert_status(200);
        assert_eq!(emptied.str("remaining_points"), "0");
        assert_eq!(emptied.body["monthly_cap"], Value::Null, "PUT replaces the cap too");
        put_lead(&app, manager, &id, &acme.lead.0, json!(80)).await.assert_status(200);
        let after = budget(&app, manager, &id).await;
        assert_eq!(after["allocated_points"], "200");
        assert_eq!(after["unallocated_points"], "800");
        assert_eq!(after["spent_points"], "200");
    }
}
