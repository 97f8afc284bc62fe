//! The black-box test harness: a fresh database and the real server on a random port, per test.
//!
//! Every test runs on SQLite (a new file). When `PERKSU_TEST_POSTGRES_URL` names a PostgreSQL
//! database, each test also runs there, in a schema of its own. Tests talk to the server only
//! over HTTP, except where they read the store to check the ledger's laws (`perksu verify`).
#![allow(dead_code)]

use std::sync::Arc;

use perksu_api::AppState;
use perksu_store::{FixedClock, Store};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";
/// The secret the test server verifies provider callbacks with.
pub const CALLBACK_SECRET: &str = "test-callback-secret";

/// Declares each test once per backend: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)+) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::common::TestApp::spawn($crate::common::Db::Sqlite).await;
                    $body
                    $app.finish().await;
                }
            )+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::common::Db::postgres() else {
                        eprintln!("PERKSU_TEST_POSTGRES_URL is not set: PostgreSQL leg skipped");
                        return;
                    };
                    let $app = $crate::common::TestApp::spawn(db).await;
                    $body
                    $app.finish().await;
                }
            )+
        }
    };
}

/// Which database a test runs against.
pub enum Db {
    Sqlite,
    Postgres { base_url: String },
}

impl Db {
    pub fn postgres() -> Option<Db> {
        std::env::var("PERKSU_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .map(|base_url| Db::Postgres { base_url })
    }
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub database_url: String,
    pub clock: Arc<FixedClock>,
    pub admin_token: String,
    pub admin_id: String,
    cleanup: Cleanup,
    server: tokio::task::JoinHandle<()>,
}

enum Cleanup {
    SqliteDir(tempfile::TempDir),
    PostgresSchema { base_url: String, schema: String },
}

/// One HTTP answer: status and JSON body (`Value::Null` when there was none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The body's field as text, panicking with the whole reply if absent.
    pub fn str(&self, field: &str) -> String {
        match &self.body[field] {
            Value::String(text) => text.clone(),
            other => panic!("field {field} is {other:?} in {self:?}"),
        }
    }

    pub fn assert_status(&self, status: u16) -> &Reply {
        assert_eq!(self.status.as_u16(), status, "unexpected reply: {self:?}");
        self
    }

    /// Asserts an error reply with this status and code, in our error format.
    pub fn assert_error(&self, status: u16, code: &str) -> &Reply {
        self.assert_status(status);
        assert_eq!(self.body["code"], code, "unexpected error: {self:?}");
        assert!(self.body["detail"].is_string(), "no detail in {self:?}");
        self
    }
}

impl TestApp {
    pub async fn spawn(db: Db) -> TestApp {
        // Server errors (5xx causes) show in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("error")
            .try_init();
        let (database_url, cleanup) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("perksu.db");
                (
                    format!("sqlite://{}", path.display()),
                    Cleanup::SqliteDir(dir),
                )
            }
            Db::Postgres { base_url } => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                run_postgres(&base_url, &format!("create schema {schema}")).await;
                let separator = if base_url.contains('?') { '&' } else { '?' };
                let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
                (url, Cleanup::PostgresSchema { base_url, schema })
            }
        };
        let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
        // The store reads time from the test's clock, so tests can step over deadlines.
        let store = Store::open(&database_url, clock.clone())
            .await
            .expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = perksu_api::app(AppState::new(
            store.clone(),
            CALLBACK_SECRET.as_bytes().to_vec(),
        ));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("server");
        });
        let admin_email = "root@platform.test";
        let hash = store.hash_password(PASSWORD).await.expect("hash");
        let mut tx = store.begin().await.expect("begin");
        let admin = tx
            .create_platform_admin(admin_email, &hash)
            .await
            .expect("admin");
        tx.commit().await.expect("commit");
        let mut app = TestApp {
            base_url: format!("http://{address}"),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            store,
            database_url,
            clock,
            admin_token: String::new(),
            admin_id: admin.id,
            cleanup,
            server,
        };
        app.admin_token = app.login(admin_email).await;
        app
    }

    /// Stops the server, closes the pools, and drops the test's PostgreSQL schema.
    pub async fn finish(self) {
        self.server.abort();
        self.store.close().await;
        if let Cleanup::PostgresSchema { base_url, schema } = &self.cleanup {
            run_postgres(base_url, &format!("drop schema {schema} cascade")).await;
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body {text:?}"))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None, &[])
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(&body), &[])
            .await
    }

    /// Sends a raw body (for malformed-input tests).
    pub async fn post_raw(&self, path: &str, token: &str, body: &str) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        }
    }

    pub async fn login(&self, email: &str) -> String {
        let reply = self
            .request(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&json!({"email": email, "password": PASSWORD})),
                &[],
            )
            .await;
        reply.assert_status(200);
        reply.str("access_token")
    }

    // ---- fixtures, all made through the API as a person would ----

    /// A new pool-mode tenant; returns its id.
    pub async fn create_tenant(&self, slug: &str) -> String {
        let reply = self
            .post(
                "/api/tenants",
                &self.admin_token,
                json!({"name": format!("Tenant {slug}"), "slug": slug}),
            )
            .await;
        reply.assert_status(201);
        reply.str("id")
    }

    /// A user of `tenant_id` with `role`, created by the platform admin; returns (id, token).
    pub async fn create_user(&self, tenant_id: &str, email: &str, role: &str) -> (String, String) {
        let reply = self
            .post(
                "/api/users",
                &self.admin_token,
                json!({
                    "tenant_id": tenant_id, "email": email, "password": PASSWORD,
                    "first_name": "Test", "last_name": role, "role": role,
                }),
            )
            .await;
        reply.assert_status(201);
        let token = self.login(email).await;
        (reply.str("id"), token)
    }

    pub async fn allocate(&self, tenant_id: &str, amount: Value) -> Reply {
        self.post(
            "/api/v1/points/allocate-to-tenant",
            &self.admin_token,
            json!({"tenant_id": tenant_id, "amount": amount}),
        )
        .await
    }

    pub async fn pool_balance(&self, token: &str) -> String {
        let reply = self
            .get("/api/v1/points/tenant-allocation-stats", token)
            .await;
        reply.assert_status(200);
        reply.str("points_allocation_balance")
    }

    pub async fn wallet_balance(&self, token: &str) -> String {
        let reply = self.get("/api/wallets/me", token).await;
        reply.assert_status(200);
        reply.str("balance")
    }

    /// Asserts that `perksu verify`'s checks pass on the test's database.
    pub async fn assert_ledger_consistent(&self) {
        let report = self.store.verify().await.expect("verify runs");
        assert!(
            report.is_ok(),
            "ledger violations: {:#?}",
            report.violations
        );
    }
}

/// Runs one statement on the PostgreSQL test database (schema set-up and clean-up).
pub async fn run_postgres(base_url: &str, sql: &str) {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(base_url)
        .await
        .expect("connect to PERKSU_TEST_POSTGRES_URL");
    sqlx::query(sql)
        .execute(&mut connection)
        .await
        .expect("schema statement");
    let _ = connection.close().await;
}

/// A tenant with a manager, a lead and two employees, and a funded pool.
pub struct Company {
    pub tenant_id: String,
    pub manager: (String, String),
    pub lead: (String, String),
    pub alice: (String, String),
    pub bob: (String, String),
}

impl TestApp {
    pub async fn company(&self, slug: &str, pool: Value) -> Company {
        let tenant_id = self.create_tenant(slug).await;
        if pool != json!(0) {
            self.allocate(&tenant_id, pool).await.assert_status(200);
        }
        let manager = self
            .create_user(
                &tenant_id,
                &format!("manager@{slug}.test"),
                "tenant_manager",
            )
            .await;
        let lead = self
            .create_user(&tenant_id, &format!("lead@{slug}.test"), "lead")
            .await;
        let alice = self
            .create_user(&tenant_id, &format!("alice@{slug}.test"), "employee")
            .await;
        let bob = self
            .create_user(&tenant_id, &format!("bob@{slug}.test"), "employee")
            .await;
        Company {
            tenant_id,
            manager,
            lead,
            alice,
            bob,
        }
    }
}
