//! The server's memory stays within a budget under a login rush, a storm of wrong passwords and
//! a burst of recognitions: the real binary as a child process, its peak resident set (`VmHWM`)
//! read from `/proc` after each phase.
//!
//! Peak RSS counts pages, not time, so it is steady enough to assert on a shared machine.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../cli/process.rs"]
mod process;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::run_postgres;
use process::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The most the server may ever hold resident, in bytes.
const BUDGET_BYTES: u64 = 128 * 1024 * 1024;
const CLIENTS: usize = 64;
const LOGINS: usize = 256;
const RECOGNITIONS: usize = 3000;
const DEMO_PASSWORD: &str = "perksu-demo";

/// These tests measure what sign-ins cost, not how they are throttled (see the cli suite):
/// limits no rush here reaches.
const UNTHROTTLED: &[&str] = &[
    "--login-account-burst",
    "1000000",
    "--login-address-burst",
    "1000000",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_stays_within_budget_through_a_login_rush_a_storm_and_a_burst() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
    stays_within_budget(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_memory_stays_within_budget_through_a_login_rush_a_storm_and_a_burst() {
    let Some(base_url) = std::env::var("PERKSU_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!("PERKSU_TEST_POSTGRES_URL is not set: PostgreSQL leg skipped");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    run_postgres(&base_url, &format!("create schema {schema}")).await;
    let separator = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
    stays_within_budget(&url).await;
    run_postgres(&base_url, &format!("drop schema {schema} cascade")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_past_the_password_queue_get_a_503_with_retry_after_and_later_ones_succeed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
    let server = Server::start(
        &url,
        &[
            &["--demo", "--password-workers", "1", "--password-queue", "1"],
            UNTHROTTLED,
        ]
        .concat(),
    );
    let load = Load {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(CLIENTS)
            .build()
            .expect("client"),
        base_url: server.base_url.clone(),
    };
    let emails = ["maya@acme.example".to_owned()];
    let replies = load.login_replies(&emails, DEMO_PASSWORD, CLIENTS).await;
    let busy: Vec<&(u16, Value)> = replies
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    let signed_in = replies.iter().filter(|(status, _)| *status == 200).count();
    assert!(
        !busy.is_empty(),
        "one worker and a queue of one turn some away"
    );
    assert!(signed_in >= 1, "the ones that got a place signed in");
    assert_eq!(busy.len() + signed_in, CLIENTS, "nothing else: {replies:?}");
    for (_, body) in &busy {
        assert_eq!(body["code"], "server_busy", "{body}");
        assert!(body["detail"].is_string(), "{body}");
    }
    // Once the rush is over, the same account signs in.
    load.login("maya@acme.example").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_clients_that_never_finish_their_headers_do_not_stop_healthz() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
    let server = Server::start(&url, &[]);
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let before = peak_rss_bytes(server.pid());
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .expect("half a request");
        slow.push(stream);
    }
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let reply = client
        .get(format!("{}/healthz", server.base_url))
        .send()
        .await
        .expect("healthz answers beside 500 slow clients");
    let waited = started.elapsed();
    assert_eq!(reply.status(), 200);
    let after = peak_rss_bytes(server.pid());
    eprintln!(
        "healthz in {waited:?} beside 500 slow clients; peak RSS {:.1} -> {:.1} MiB",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    assert!(
        after - before < 32 * 1024 * 1024,
        "500 half-open requests cost {} bytes",
        after - before
    );
    // The header read timeout (10 s) ends a connection that never finishes its request: the
    // server closes it, where it used to wait for ever.
    let mut first = slow.swap_remove(0);
    first
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    let mut answer = Vec::new();
    let read = std::io::Read::read_to_end(&mut first, &mut answer);
    assert!(
        read.is_ok(),
        "the server should have closed the half-open connection: {read:?}"
    );
    drop(slow);
}

async fn stays_within_budget(database_url: &str) {
    let server = Server::start(database_url, &[&["--demo"], UNTHROTTLED].concat());
    let emails = demo_emails(&server.banner);
    assert!(emails.len() >= 4, "demo logins: {:?}", server.banner);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    let load = Load {
        client,
        base_url: server.base_url.clone(),
    };
    let start = peak_rss_bytes(server.pid());

    // The morning rush: every login is answered 200, none is refused.
    let statuses = load.logins(&emails, DEMO_PASSWORD, LOGINS, CLIENTS).await;
    assert_eq!(count(&statuses, 200), LOGINS, "rush: {statuses:?}");
    let after_rush = peak_rss_bytes(server.pid());

    // Wrong passwords: refused, or turned away with a Retry-After, never anything else.
    let statuses = load
        .logins(&emails, "not the password", LOGINS, CLIENTS)
        .await;
    let refused = count(&statuses, 401) + count(&statuses, 429) + count(&statuses, 503);
    assert_eq!(refused, LOGINS, "storm: {statuses:?}");
    let after_storm = peak_rss_bytes(server.pid());

    let recognised = load.recognitions(RECOGNITIONS, CLIENTS).await;
    assert_eq!(
        recognised, RECOGNITIONS,
        "every recognition was answered 200"
    );
    let after_burst = peak_rss_bytes(server.pid());

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    eprintln!(
        "peak RSS: start {:.1} MiB, after rush {:.1}, after storm {:.1}, after burst {:.1}",
        mib(start),
        mib(after_rush),
        mib(after_storm),
        mib(after_burst)
    );
    assert!(
        after_burst <= BUDGET_BYTES,
        "peak RSS {:.1} MiB is over the budget of {:.0} MiB",
        mib(after_burst),
        mib(BUDGET_BYTES)
    );
}

struct Load {
    client: reqwest::Client,
    base_url: String,
}

impl Load {
    /// `total` logins spread over `emails`, `clients` at a time; the status of each.
    async fn logins(
        &self,
        emails: &[String],
        password: &str,
        total: usize,
        clients: usize,
    ) -> Vec<u16> {
        let next = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let next = Arc::clone(&next);
                let client = self.client.clone();
                let url = format!("{}/api/auth/login", self.base_url);
                let emails = emails.to_vec();
                let password = password.to_owned();
                tokio::spawn(async move {
                    let mut statuses = Vec::new();
                    loop {
                        let number = next.fetch_add(1, Ordering::Relaxed);
                        if number >= total {
                            return statuses;
                        }
                        let email = &emails[number % emails.len()];
                        let reply = client
                            .post(&url)
                            .json(&json!({"email": email, "password": password}))
                            .send()
                            .await
                            .expect("login request");
                        let status = reply.status();
                        if status == StatusCode::TOO_MANY_REQUESTS
                            || status == StatusCode::SERVICE_UNAVAILABLE
                        {
                            assert!(
                                reply.headers().contains_key("retry-after"),
                                "a {status} without Retry-After"
                            );
                        }
                        statuses.push(status.as_u16());
                    }
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for worker in workers {
            statuses.extend(worker.await.expect("login worker"));
        }
        statuses
    }

    /// `total` sign-ins all sent at once; each status with its JSON body. A 503 or 429 must
    /// carry `Retry-After`.
    async fn login_replies(
        &self,
        emails: &[String],
        password: &str,
        total: usize,
    ) -> Vec<(u16, Value)> {
        let sends = (0..total).map(|number| {
            let request = self
                .client
                .post(format!("{}/api/auth/login", self.base_url))
                .json(&json!({"email": emails[number % emails.len()], "password": password}));
            async move {
                let reply = request.send().await.expect("login request");
                let status = reply.status().as_u16();
                if status == 503 || status == 429 {
                    assert!(
                        reply.headers().contains_key("retry-after"),
                        "a {status} without Retry-After"
                    );
                }
                (status, reply.json().await.unwrap_or(Value::Null))
            }
        });
        futures::future::join_all(sends).await
    }

    /// Funds the demo manager's tenant and sends `total` recognitions of 0.01 to its
    /// employees, `clients` at a time; how many were answered 200.
    async fn recognitions(&self, total: usize, clients: usize) -> usize {
        let admin = self.login("admin@perksu.local").await;
        let manager = self.login("maya@acme.example").await;
        let manager_token = manager["access_token"].as_str().expect("token").to_owned();
        let tenant_id = manager["user"]["tenant_id"].as_str().expect("tenant");
        let allocated = self
            .client
            .post(format!(
                "{}/api/v1/points/allocate-to-tenant",
                self.base_url
            ))
            .bearer_auth(admin["access_token"].as_str().expect("token"))
            .json(&json!({"tenant_id": tenant_id, "amount": "100000"}))
            .send()
            .await
            .expect("allocate");
        assert_eq!(allocated.status(), 200);
        let users: Value = self
            .client
            .get(format!("{}/api/users", self.base_url))
            .bearer_auth(&manager_token)
            .send()
            .await
            .expect("users")
            .json()
            .await
            .expect("users JSON");
        let employees: Vec<String> = users
            .as_array()
            .expect("a list")
            .iter()
            .filter(|u| u["role"] == "employee" && u["status"] == "active")
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect();
        assert!(!employees.is_empty(), "the demo tenant has employees");
        let next = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let next = Arc::clone(&next);
                let client = self.client.clone();
                let url = format!("{}/api/recognitions", self.base_url);
                let token = manager_token.clone();
                let employees = employees.clone();
                tokio::spawn(async move {
                    let mut answered = 0;
                    loop {
                        let number = next.fetch_add(1, Ordering::Relaxed);
                        if number >= total {
                            return answered;
                        }
                        let body = json!({
                            "to_user_id": employees[number % employees.len()],
                            "points": "0.01",
                            "message": format!("Thanks, #{number}"),
                        });
                        let reply = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                            .expect("recognition request");
                        let status = reply.status();
                        let text = reply.text().await.unwrap_or_default();
                        assert_eq!(status, 200, "recognition #{number}: {text}");
                        answered += 1;
                    }
                })
            })
            .collect();
        let mut answered = 0;
        for worker in workers {
            answered += worker.await.expect("recognition worker");
        }
        answered
    }

    async fn login(&self, email: &str) -> Value {
        let reply = self
            .client
            .post(format!("{}/api/auth/login", self.base_url))
            .json(&json!({"email": email, "password": DEMO_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(reply.status(), 200, "login as {email}");
        reply.json().await.expect("login JSON")
    }
}

/// The demo's logins, from the lines `serve --demo` prints before it listens.
fn demo_emails(banner: &[String]) -> Vec<String> {
    banner
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.contains('@'))
        .map(str::to_owned)
        .collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// `VmHWM` of a process: the most it has ever held resident.
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status");
    kib * 1024
}
