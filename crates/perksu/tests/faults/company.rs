//! Talking to a server under test over HTTP, and the company every fault test works in.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::database::{ADMIN_EMAIL, PASSWORD};

/// The server answers every request within its 30-second request timeout; a request still
/// unanswered well past that is a hang.
const REQUEST_DEADLINE: Duration = Duration::from_secs(40);

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    pub base_url: String,
}

/// A status and a JSON body (`Null` when there was none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn str(&self, field: &str) -> String {
        match &self.body[field] {
            Value::String(text) => text.clone(),
            other => panic!("field {field} is {other:?} in {self:?}"),
        }
    }

    pub fn assert_status(&self, status: u16) -> &Answer {
        assert_eq!(self.status, status, "unexpected answer: {self:?}");
        self
    }
}

impl Api {
    pub fn new(base_url: &str) -> Api {
        Api {
            client: reqwest::Client::builder()
                .timeout(REQUEST_DEADLINE)
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            base_url: base_url.to_owned(),
        }
    }

    /// Sends one request; a transport failure (the server gone mid-request) is an `Err`.
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    /// The manager recognises with `body` under `key`; `Err` when the server gave no answer.
    pub async fn recognise_keyed(
        &self,
        company: &Company,
        body: &Value,
        key: &str,
    ) -> Result<Answer, reqwest::Error> {
        let token = &company.manager.token;
        self.try_send(
            Method::POST,
            "/api/recognitions",
            token,
            Some(body),
            Some(key),
        )
        .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.try_send(Method::GET, path, token, None, None)
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.try_send(Method::POST, path, token, Some(&body), None)
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    pub async fn login(&self, email: &str) -> String {
        let answer = self
            .try_send(
                Method::POST,
                "/api/auth/login",
                "",
                Some(&json!({"email": email, "password": PASSWORD})),
                None,
            )
            .await
            .expect("POST /api/auth/login");
        answer.assert_status(200);
        answer.str("access_token")
    }

    /// A wallet's balance in whole points.
    pub async fn wallet(&self, token: &str) -> i64 {
        let answer = self.get("/api/wallets/me", token).await;
        answer.assert_status(200);
        whole(&answer.str("balance"))
    }

    /// The tenant's pool in whole points, as its manager sees it.
    pub async fn pool(&self, manager_token: &str) -> i64 {
        let answer = self
            .get("/api/v1/points/tenant-allocation-stats", manager_token)
            .await;
        answer.assert_status(200);
        whole(&answer.str("points_allocation_balance"))
    }
}

/// A whole amount from its wire form.
pub fn whole(text: &str) -> i64 {
    text.parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a whole amount"))
}

pub struct User {
    pub id: String,
    pub token: String,
}

/// A tenant with a funded pool, its manager, a lead and four employees.
pub struct Company {
    pub tenant_id: String,
    pub admin_token: String,
    pub manager: User,
    pub lead: User,
    pub employees: Vec<User>,
}

impl Company {
    pub async fn create(api: &Api, slug: &str, pool: i64) -> Company {
        let admin_token = api.login(ADMIN_EMAIL).await;
        let tenant = api
            .post(
                "/api/tenants",
                &admin_token,
                json!({"name": format!("Tenant {slug}"), "slug": slug}),
            )
            .await;
        tenant.assert_status(201);
        let tenant_id = tenant.str("id");
        api.post(
            "/api/v1/points/allocate-to-tenant",
            &admin_token,
            json!({"tenant_id": tenant_id, "amount": pool}),
        )
        .await
        .assert_status(200);
        let user = |name: String, role: &'static str| {
            let (api, admin_token, tenant_id) =
                (api.clone(), admin_token.clone(), tenant_id.clone());
            async move {
                let email = format!("{name}@{slug}.test");
                let created = api
                    .post(
                        "/api/users",
                        &admin_token,
                        json!({
                            "tenant_id": tenant_id, "email": email, "password": PASSWORD,
                            "first_name": name, "last_name": role, "role": role,
                        }),
                    )
                    .await;
                created.assert_status(201);
                User {
                    id: created.str("id"),
                    token: api.login(&email).await,
                }
            }
        };
        let manager = user("manager".into(), "tenant_manager").await;
        let lead = user("lead".into(), "lead").await;
        let mut employees = Vec::new();
        for i in 0..4 {
            employees.push(user(format!("employee{i}"), "employee").await);
        }
        Company {
            tenant_id,
            admin_token,
            manager,
            lead,
            employees,
        }
    }

    /// The sum of every employee's wallet.
    pub async fn wallets_total(&self, api: &Api) -> i64 {
        let mut total = 0;
        for employee in &self.employees {
            total += api.wallet(&employee.token).await;
        }
        total
    }
}

/// The body of the `i`th one-point recognition, always the same for the same `i`.
pub fn recognition(company: &Company, i: usize) -> Value {
    let to = &company.employees[i % company.employees.len()];
    json!({"to_user_id": to.id, "points": 1, "message": format!("Thanks #{i}")})
}
