//! One company per test, built through the API as its people would build it: the platform
//! admin creates the tenant and its manager, the manager creates two departments and the staff,
//! and budgets are drafted, split and activated by the manager.

use super::*;

/// A tenant user and a fresh session.
pub struct Person {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// A tenant with two departments. Engineering: the lead, Alice and Bob. Sales: Carol. The
/// manager belongs to no department.
pub struct Org {
    pub tenant_id: String,
    pub engineering: String,
    pub sales: String,
    pub manager: Person,
    pub lead: Person,
    pub alice: Person,
    pub bob: Person,
    pub carol: Person,
}

/// A pool-mode tenant whose pool holds `pool` points.
pub async fn pool_company(app: &TestApp, slug: &str, pool: i64) -> Org {
    let org = company(app, slug, "pool").await;
    if pool > 0 {
        app.allocate(&org.tenant_id, json!(pool))
            .await
            .assert_status(200);
    }
    org
}

/// A legacy-mode tenant with an empty pool.
pub async fn legacy_company(app: &TestApp, slug: &str) -> Org {
    company(app, slug, "legacy").await
}

async fn company(app: &TestApp, slug: &str, funding_mode: &str) -> Org {
    let tenant = app
        .post(
            "/api/tenants",
            &app.admin_token,
            json!({"name": format!("Tenant {slug}"), "slug": slug, "funding_mode": funding_mode}),
        )
        .await;
    tenant.assert_status(201);
    assert_eq!(tenant.str("funding_mode"), funding_mode);
    assert_eq!(tenant.str("points_allocation_balance"), "0");
    let tenant_id = tenant.str("id");
    let manager = person(
        app,
        &app.admin_token,
        json!({"tenant_id": tenant_id}),
        &format!("manager@{slug}.test"),
        "tenant_manager",
    )
    .await;
    let engineering = department(app, &manager, "Engineering").await;
    let sales = department(app, &manager, "Sales").await;
    let staff = |email: &str, role: &'static str, department_id: &str| {
        let email = format!("{email}@{slug}.test");
        let extra = json!({"department_id": department_id});
        let token = manager.token.clone();
        async move { person(app, &token, extra, &email, role).await }
    };
    let lead = staff("lead", "lead", &engineering).await;
    let alice = staff("alice", "employee", &engineering).await;
    let bob = staff("bob", "employee", &engineering).await;
    let carol = staff("carol", "employee", &sales).await;
    Org {
        tenant_id,
        engineering,
        sales,
        manager,
        lead,
        alice,
        bob,
        carol,
    }
}

async fn department(app: &TestApp, manager: &Person, name: &str) -> String {
    let reply = app
        .post("/api/departments", &manager.token, json!({"name": name}))
        .await;
    reply.assert_status(201);
    reply.str("id")
}

/// Creates a user as `creator` (with `extra` fields) and logs them in.
async fn person(app: &TestApp, creator: &str, extra: Value, email: &str, role: &str) -> Person {
    let mut body = json!({
        "email": email, "password": common::PASSWORD,
        "first_name": "Test", "last_name": role, "role": role,
    });
    for (key, value) in extra.as_object().expect("an object") {
        body[key] = value.clone();
    }
    let reply = app.post("/api/users", creator, body).await;
    reply.assert_status(201);
    Person {
        id: reply.str("id"),
        email: email.to_owned(),
        token: app.login(email).await,
    }
}

impl Org {
    /// Moves the test's clock to `when` and logs everyone in again: sessions last 12 hours of
    /// the clock. (The harness's platform admin logged in at the real time, later than every
    /// instant these tests use, so the admin's session stays valid.)
    pub async fn move_clock(&mut self, app: &TestApp, when: DateTime<Utc>) {
        app.clock.set(when);
        for person in [
            &mut self.manager,
            &mut self.lead,
            &mut self.alice,
            &mut self.bob,
            &mut self.carol,
        ] {
            person.token = app.login(&person.email).await;
        }
    }
}

/// A draft budget of `total` points for fiscal 2026; returns its id.
pub async fn draft_budget(app: &TestApp, org: &Org, total: i64, expiry_date: Value) -> String {
    let reply = app
        .post(
            "/api/budgets",
            &org.manager.token,
            json!({"name": "FY2026", "fiscal_year": 2026, "total_points": total,
                   "expiry_date": expiry_date}),
        )
        .await;
    reply.assert_status(201);
    assert_eq!(reply.str("status"), "draft");
    reply.str("id")
}

/// Activates a budget; returns it.
pub async fn activate(app: &TestApp, org: &Org, budget_id: &str) -> Value {
    let reply = app
        .post(
            &format!("/api/budgets/{budget_id}/activate"),
            &org.manager.token,
            json!({}),
        )
        .await;
    assert!(reply.status.is_success(), "{reply:?}");
    assert_eq!(reply.str("status"), "active");
    reply.body
}

/// An active budget of `total` points with no expiry date; returns its id.
pub async fn active_budget(app: &TestApp, org: &Org, total: i64) -> String {
    let budget_id = draft_budget(app, org, total, Value::Null).await;
    activate(app, org, &budget_id).await;
    budget_id
}

/// Gives `department_id` a share of the budget, with an optional monthly cap; returns the share.
pub async fn share(
    app: &TestApp,
    org: &Org,
    budget_id: &str,
    department_id: &str,
    allocated: i64,
    monthly_cap: Option<i64>,
) -> Value {
    let mut body = json!({"allocated_points": allocated});
    if let Some(cap) = monthly_cap {
        body["monthly_cap"] = json!(cap);
    }
    let reply = put(
        app,
        &format!("/api/budgets/{budget_id}/departments/{department_id}"),
        &org.manager.token,
        body,
    )
    .await;
    assert!(reply.status.is_success(), "{reply:?}");
    assert!(
        reply.body["id"].is_string(),
        "a share without an id: {reply:?}"
    );
    assert_eq!(reply.str("budget_id"), budget_id);
    assert_eq!(reply.str("department_id"), department_id);
    assert_eq!(reply.str("allocated_points"), allocated.to_string());
    reply.body
}

/// Gives the lead an allocation of the budget; returns it.
pub async fn lead_allocation(app: &TestApp, org: &Org, budget_id: &str, allocated: i64) -> Value {
    let reply = put(
        app,
        &format!("/api/budgets/{budget_id}/leads/{}", org.lead.id),
        &org.manager.token,
        json!({"allocated_points": allocated}),
    )
    .await;
    assert!(reply.status.is_success(), "{reply:?}");
    assert!(
        reply.body["id"].is_string(),
        "an allocation without an id: {reply:?}"
    );
    assert_eq!(reply.str("budget_id"), budget_id);
    assert_eq!(reply.str("lead_id"), org.lead.id);
    reply.body
}

/// A department's share of a budget, as the manager reads it now.
pub async fn share_of(app: &TestApp, org: &Org, budget_id: &str, department_id: &str) -> Value {
    let reply = app
        .get(
            &format!("/api/budgets/{budget_id}/departments"),
            &org.manager.token,
        )
        .await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .iter()
        .find(|s| s["department_id"] == department_id)
        .unwrap_or_else(|| panic!("no share for {department_id} in {reply:?}"))
        .clone()
}

/// The lead's allocation of a budget, as the manager reads it now.
pub async fn allocation_of(app: &TestApp, org: &Org, budget_id: &str) -> Value {
    let reply = app
        .get(
            &format!("/api/budgets/{budget_id}/leads"),
            &org.manager.token,
        )
        .await;
    reply.assert_status(200);
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .iter()
        .find(|a| a["lead_id"] == org.lead.id.as_str())
        .unwrap_or_else(|| panic!("no allocation for the lead in {reply:?}"))
        .clone()
}

/// A budget as the manager reads it now.
pub async fn budget(app: &TestApp, org: &Org, budget_id: &str) -> Value {
    let reply = app
        .get(&format!("/api/budgets/{budget_id}"), &org.manager.token)
        .await;
    reply.assert_status(200);
    reply.body
}

/// `(spent_points, remaining_points)` of a share or allocation.
pub fn spent_and_remaining(row: &Value) -> (&str, &str) {
    (
        row["spent_points"].as_str().expect("spent_points"),
        row["remaining_points"].as_str().expect("remaining_points"),
    )
}

/// The manager delegates `amount` pool points to the lead.
pub async fn delegate(app: &TestApp, org: &Org, amount: i64) {
    app.post(
        "/api/v1/points/delegate-to-lead",
        &org.manager.token,
        json!({"lead_id": org.lead.id, "amount": amount}),
    )
    .await
    .assert_status(200);
}
