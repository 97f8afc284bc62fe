//! `perksu-load`: fires recognitions at a local `perksu serve --demo` and reports throughput,
//! latency percentiles and the count of each status.
//!
//! It logs in as the demo platform admin and the demo tenant manager, allocates points to the
//! manager's tenant, then sends a bounded number of recognitions from the manager to the
//! tenant's employees, a bounded number at a time, for at most a bounded time. It only talks to
//! loopback addresses: it is for measuring a server on this machine, not for loading anyone's.

mod logins;
mod report;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use reqwest::{Client, StatusCode, Url};
use serde_json::{json, Value};

use crate::report::{Report, Sample};

/// The most recognitions one run may send.
const MAX_REQUESTS: usize = 200_000;
/// The most requests one run may have in flight at once.
const MAX_CONCURRENCY: usize = 512;
/// The longest one run may last.
const MAX_DURATION_SECS: u64 = 600;
/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT_SECS: u64 = 30;

#[derive(Parser)]
#[command(
    name = "perksu-load",
    version,
    about = "Load-test a local perksu server started with `perksu serve --demo`"
)]
struct Args {
    /// The server's base URL; must resolve to a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Recognitions to send (at most 200000).
    #[arg(long, short = 'n', default_value_t = 2000)]
    requests: usize,
    /// Recognitions in flight at once (at most 512).
    #[arg(long, short = 'c', default_value_t = 16)]
    concurrency: usize,
    /// Stop starting new requests after this many seconds (at most 600).
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Points carried by each recognition.
    #[arg(long, default_value = "1")]
    points: String,
    /// Points allocated to the tenant's pool before the run.
    #[arg(long, default_value = "1000000")]
    allocate: String,
    /// Send a fresh `Idempotency-Key` with every recognition.
    #[arg(long)]
    idempotency_keys: bool,
    #[arg(long, default_value = "admin@perksu.local")]
    admin_email: String,
    #[arg(long, default_value = "maya@acme.example")]
    manager_email: String,
    /// The demo accounts' password.
    #[arg(long, default_value = "perksu-demo")]
    password: String,
    /// What to send: recognitions from the manager, or sign-ins (a login rush).
    #[arg(long, value_enum, default_value_t = Scenario::Recognitions)]
    scenario: Scenario,
    /// With `--scenario logins`: the password each sign-in sends (default: `--password`;
    /// give a wrong one for a storm of failed sign-ins).
    #[arg(long)]
    login_password: Option<String>,
    /// With `--scenario logins`: the accounts signed in to, in turn.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "admin@perksu.local,maya@acme.example,liam@acme.example,ethan@acme.example"
    )]
    login_emails: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Scenario {
    Recognitions,
    Logins,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        (1..=MAX_REQUESTS).contains(&args.requests),
        "--requests must be 1 to {MAX_REQUESTS}"
    );
    ensure!(
        (1..=MAX_CONCURRENCY).contains(&args.concurrency),
        "--concurrency must be 1 to {MAX_CONCURRENCY}"
    );
    ensure!(
        (1..=MAX_DURATION_SECS).contains(&args.duration_secs),
        "--duration-secs must be 1 to {MAX_DURATION_SECS}"
    );
    let base = Url::parse(&args.url).with_context(|| format!("parsing --url {:?}", args.url))?;
    let client = loopback_client(&base, args.concurrency).await?;
    let api = Api { client, base };
    if let Scenario::Logins = args.scenario {
        let password = args.login_password.as_deref().unwrap_or(&args.password);
        println!(
            "sending {} sign-ins to {} account(s), {} at a time",
            args.requests,
            args.login_emails.len(),
            args.concurrency
        );
        let (samples, elapsed) = logins::rush(
            &api.client,
            &api.url("/api/auth/login")?,
            &args.login_emails,
            password,
            args.requests,
            args.concurrency,
        )
        .await;
        Report::new(samples, elapsed).print();
        return Ok(());
    }

    let admin = api.login(&args.admin_email, &args.password).await?;
    let manager = api.login(&args.manager_email, &args.password).await?;
    let tenant_id = manager["user"]["tenant_id"]
        .as_str()
        .context("the manager login names no tenant")?
        .to_owned();
    let admin_token = token(&admin)?;
    let manager_token = token(&manager)?;
    let allocation = api
        .post(
            "/api/v1/points/allocate-to-tenant",
            &admin_token,
            &json!({"tenant_id": tenant_id, "amount": args.allocate,
                    "reference_note": "perksu-load"}),
        )
        .await?;
    println!(
        "allocated {} to tenant {tenant_id}: pool now {}",
        args.allocate,
        text(&allocation["new_allocation_balance"])
    );
    let recipients = employees(&api, &manager_token).await?;

    let run = Arc::new(Run {
        api,
        token: manager_token.clone(),
        recipients,
        points: args.points.clone(),
        idempotency_prefix: args.idempotency_keys.then(run_id),
        total: args.requests,
        next: AtomicUsize::new(0),
    });
    println!(
        "sending {} recognitions ({} points each), {} at a time, for at most {} s",
        args.requests, args.points, args.concurrency, args.duration_secs
    );
    let (samples, elapsed) = run
        .fire(args.concurrency, Duration::from_secs(args.duration_secs))
        .await;
    Report::new(samples, elapsed).print();

    let stats = run
        .api
        .get("/api/v1/points/tenant-allocation-stats", &manager_token)
        .await?;
    println!(
        "pool after the run: {}",
        text(&stats["points_allocation_balance"])
    );
    Ok(())
}

/// An HTTP client that can only reach the loopback address `base` resolves to: no proxy, no
/// redirects, and a domain name pinned to the loopback addresses it was checked against.
async fn loopback_client(base: &Url, concurrency: usize) -> anyhow::Result<Client> {
    if base.scheme() != "http" {
        bail!("only http:// URLs are supported (a local server), not {base}");
    }
    let host = base.host_str().context("the URL has no host")?;
    let port = base.port_or_known_default().unwrap_or(80);
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let mut builder = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS))
        .pool_max_idle_per_host(concurrency);
    let addresses: Vec<SocketAddr> = match bare_host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((bare_host, port))
                .await
                .with_context(|| format!("resolving {bare_host}"))?
                .collect();
            builder = builder.resolve_to_addrs(bare_host, &resolved);
            resolved
        }
    };
    if addresses.is_empty() || !addresses.iter().all(|a| a.ip().is_loopback()) {
        bail!("refusing {base}: perksu-load only targets loopback addresses (127.0.0.0/8, ::1)");
    }
    Ok(builder.build()?)
}

/// The server, as seen by this tool.
struct Api {
    client: Client,
    base: Url,
}

impl Api {
    fn url(&self, path: &str) -> anyhow::Result<Url> {
        Ok(self.base.join(path)?)
    }

    async fn login(&self, email: &str, password: &str) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(self.url("/api/auth/login")?)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .context("logging in (is `perksu serve --demo` running?)")?;
        expect_ok(response, &format!("logging in as {email}")).await
    }

    async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        let response = self
            .client
            .get(self.url(path)?)
            .bearer_auth(token)
            .send()
            .await?;
        expect_ok(response, path).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(self.url(path)?)
            .bearer_auth(token)
            .json(body)
            .send()
            .await?;
        expect_ok(response, path).await
    }
}

async fn expect_ok(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.text().await?;
    if status != StatusCode::OK {
        bail!("{what}: {status}: {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

/// A JSON string's text, or the JSON itself when it is not a string.
fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn token(login: &Value) -> anyhow::Result<String> {
    Ok(login["access_token"]
        .as_str()
        .context("the login reply has no access_token")?
        .to_owned())
}

/// The active employees of the manager's tenant: the recognitions' recipients.
async fn employees(api: &Api, manager_token: &str) -> anyhow::Result<Vec<String>> {
    let users = api.get("/api/users", manager_token).await?;
    let ids: Vec<String> = users
        .as_array()
        .context("/api/users did not answer a list")?
        .iter()
        .filter(|u| u["role"] == "employee" && u["status"] == "active")
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        !ids.is_empty(),
        "the manager's tenant has no active employee"
    );
    Ok(ids)
}

/// A prefix that makes this run's idempotency keys unlike any earlier run's.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("perksu-load-{nanos}")
}

/// One load run: workers take request numbers from `next` until `total` or the deadline.
struct Run {
    api: Api,
    token: String,
    recipients: Vec<String>,
    points: String,
    idempotency_prefix: Option<String>,
    total: usize,
    next: AtomicUsize,
}

impl Run {
    async fn fire(self: &Arc<Run>, concurrency: usize, limit: Duration) -> (Vec<Sample>, Duration) {
        let started = Instant::now();
        let deadline = started + limit;
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let run = Arc::clone(self);
                tokio::spawn(async move { run.worker(deadline).await })
            })
            .collect();
        let mut samples = Vec::with_capacity(self.total);
        for worker in workers {
            // A worker only ends by returning its samples; a panic would be a bug here.
            if let Ok(mine) = worker.await {
                samples.extend(mine);
            }
        }
        (samples, started.elapsed())
    }

    async fn worker(&self, deadline: Instant) -> Vec<Sample> {
        let mut samples = Vec::new();
        while Instant::now() < deadline {
            let number = self.next.fetch_add(1, Ordering::Relaxed);
            if number >= self.total {
                break;
            }
            samples.push(self.recognise(number).await);
        }
        samples
    }

    async fn recognise(&self, number: usize) -> Sample {
        let recipient = &self.recipients[number % self.recipients.len()];
        let body = json!({
            "to_user_id": recipient,
            "points": self.points,
            "message": format!("Load test recognition #{number}"),
        });
        let started = Instant::now();
        let mut request = match self.api.url("/api/recognitions") {
            Ok(url) => self.api.client.post(url),
            Err(error) => return Sample::failed(started, error.to_string()),
        };
        request = request.bearer_auth(&self.token).json(&body);
        if let Some(prefix) = &self.idempotency_prefix {
            request = request.header("Idempotency-Key", format!("{prefix}-{number}"));
        }
        Sample::of(started, request.send().await).await
    }
}
