//! `perksu`: the points service's one binary: serve, migrate, verify, and operator commands.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use perksu_api::AppState;
use perksu_store::{
    HasherLimits, SignInLimits, Store, SystemClock, DEFAULT_DATABASE_URL, DEMO_PASSWORD,
};
use tracing_subscriber::EnvFilter;

mod import_users;
mod server;

/// jemalloc: the fastest of the three allocators measured, within a few MB of the system one
/// (docs/BENCHMARKS.md, "Memory under load").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "perksu",
    version,
    about = "Points economy service for employee recognition"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the JSON API (migrating the database first).
    Serve(ServeArgs),
    /// Apply pending migrations, or roll the latest one back (PostgreSQL).
    Migrate(MigrateArgs),
    /// Recompute every balance from the journal and check the ledger's laws.
    Verify(DatabaseArgs),
    /// Expire pool and wallet points past their tenant's period and send expiry warnings.
    Expire(ExpireArgs),
    /// Import users into a tenant from a CSV file (all rows or none), inviting each by email.
    ImportUsers(import_users::ImportUsersArgs),
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Args)]
struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://...`; default `sqlite://perksu.db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "PERKSU_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve Prometheus metrics at `/metrics` on this address, apart from the public listener;
    /// off when not given.
    #[arg(long, env = "PERKSU_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Seed demo tenants, users and points into an empty database, and print the logins.
    #[arg(long)]
    demo: bool,
    /// Secret fulfilment providers sign callbacks with (HMAC-SHA256). Unset: a random one per
    /// start, so callbacks only verify until a restart.
    #[arg(long, env = "PERKSU_CALLBACK_SECRET", hide_env_values = true)]
    callback_secret: Option<String>,
    /// Connections open at once; more wait until one closes.
    #[arg(long, env = "PERKSU_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    max_connections: u32,
    /// Password hashes computed at once (each holds 19 MiB); default: one per core.
    #[arg(long, env = "PERKSU_PASSWORD_WORKERS",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    password_workers: Option<u16>,
    /// Sign-ins that may wait for a password worker; past it they get 503 with Retry-After.
    #[arg(long, env = "PERKSU_PASSWORD_QUEUE", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    password_queue: u32,
    /// Sign-in attempts an account (its email, known or not) may make at once...
    #[arg(long, env = "PERKSU_LOGIN_ACCOUNT_BURST", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    login_account_burst: u32,
    /// ...and the seconds until it may make one more; past the limit, 429 with Retry-After.
    #[arg(long, env = "PERKSU_LOGIN_ACCOUNT_REFILL_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    login_account_refill_seconds: u64,
    /// Sign-in attempts one client address may make at once...
    #[arg(long, env = "PERKSU_LOGIN_ADDRESS_BURST", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    login_address_burst: u32,
    /// ...and the milliseconds until it may make one more.
    #[arg(long, env = "PERKSU_LOGIN_ADDRESS_REFILL_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    login_address_refill_ms: u64,
    /// Send notifications as email through this SMTP server: `smtp://host:port`,
    /// `smtps://user:password@host`. Unset: email delivery is off and the outbox stays pending.
    #[arg(long, env = "PERKSU_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of every mail.
    #[arg(long, env = "PERKSU_MAIL_FROM", default_value = perksu_api::email::DEFAULT_MAIL_FROM)]
    mail_from: String,
    /// The base of the links in mails.
    #[arg(
        long,
        env = "PERKSU_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    public_url: String,
    /// Attempts before an email is given up as dead.
    #[arg(long, env = "PERKSU_EMAIL_MAX_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(i64).range(1..=100))]
    email_max_attempts: i64,
    /// The wait after an email's first failed attempt, doubled after each further failure.
    #[arg(long, env = "PERKSU_EMAIL_RETRY_BASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    email_retry_base_ms: u64,
    /// How often the email worker looks for due rows.
    #[arg(long, env = "PERKSU_EMAIL_POLL_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    email_poll_ms: u64,
    /// Hours the set-password link of an invitation mail works, from the send.
    #[arg(long, env = "PERKSU_INVITATION_TTL_HOURS",
          default_value_t = perksu_store::DEFAULT_INVITATION_TTL_HOURS,
          value_parser = clap::value_parser!(i64).range(1..=8_760))]
    invitation_ttl_hours: i64,
}

impl ServeArgs {
    fn email_settings(&self) -> Option<perksu_api::email::EmailSettings> {
        let smtp_url = self.smtp_url.clone().filter(|url| !url.is_empty())?;
        Some(perksu_api::email::EmailSettings {
            smtp_url,
            mail_from: self.mail_from.clone(),
            public_url: self.public_url.clone(),
            retry: perksu_store::EmailRetryPolicy {
                max_attempts: self.email_max_attempts,
                base: Duration::from_millis(self.email_retry_base_ms),
            },
            poll_interval: Duration::from_millis(self.email_poll_ms),
            invitation_ttl: Duration::from_secs(self.invitation_ttl_hours.unsigned_abs() * 3600),
        })
    }

    fn hasher_limits(&self) -> HasherLimits {
        let default = HasherLimits::default();
        HasherLimits {
            workers: self.password_workers.map_or(default.workers, usize::from),
            queue: self.password_queue as usize,
            sign_ins: SignInLimits {
                account_burst: self.login_account_burst,
                account_refill: Duration::from_secs(self.login_account_refill_seconds),
                address_burst: self.login_address_burst,
                address_refill: Duration::from_millis(self.login_address_refill_ms),
            },
        }
    }
}

#[derive(Args)]
struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Revert the latest applied migration instead (PostgreSQL only).
    #[arg(long, conflicts_with = "to")]
    rollback: bool,
    /// Apply the pending migrations up to this version only.
    #[arg(long, value_name = "VERSION")]
    to: Option<i64>,
}

#[derive(Args)]
struct ExpireArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Report what would expire and who would be warned, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform admin; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Threads for blocking work. Password hashing has its own fixed workers and SQLite its own
/// connection threads, so little runs here; the bound keeps a burst from growing the process.
const MAX_BLOCKING_THREADS: usize = 16;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .context("starting the async runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    init_logging()?;
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Verify(args) => verify(args).await,
        Command::Expire(args) => expire(args).await,
        Command::ImportUsers(args) => import_users::import_users(args).await,
        Command::Admin {
            command: AdminCommand::Create { email, database },
        } => create_admin(&email, &database.database_url).await,
    }
}

async fn open(database_url: &str) -> anyhow::Result<Store> {
    Store::open(database_url, Arc::new(SystemClock))
        .await
        .with_context(|| format!("opening the database at {database_url}"))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let Some(store) = open_waiting(url, args.hasher_limits()).await? else {
        return Ok(());
    };
    if args.demo {
        match store.seed_demo().await? {
            Some(logins) => {
                println!("Demo data seeded. Every account's password is {DEMO_PASSWORD:?}:");
                for login in logins {
                    let tenant = login.tenant.unwrap_or_else(|| "(platform)".into());
                    println!("  {:<28} {:<16} {tenant}", login.email, login.role.as_str());
                }
            }
            None => println!("The database already has users; demo data was not seeded again."),
        }
    }
    let metrics = match args.metrics_listen {
        Some(address) => Some(serve_metrics(address, &store).await?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    println!(
        "Perksu Points listening on http://{}",
        listener.local_addr()?
    );
    let email = args.email_settings();
    let callback_secret = match args.callback_secret {
        Some(secret) if !secret.is_empty() => secret.into_bytes(),
        _ => {
            tracing::warn!("PERKSU_CALLBACK_SECRET is not set: using a random one until restart");
            let mut secret = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            secret
        }
    };
    let state = AppState::new(store.clone(), callback_secret).with_email(email);
    let jobs = perksu_api::spawn_background_jobs(&state);
    let app = perksu_api::app(state);
    let limits = server::ServerLimits {
        max_connections: args.max_connections as usize,
        ..server::ServerLimits::default()
    };
    server::serve(listener, app, limits, shutdown_signal()).await;
    jobs.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    store.close().await;
    Ok(())
}

/// Installs the metrics recorder and serves `/metrics` on `address` until aborted.
async fn serve_metrics(
    address: SocketAddr,
    store: &Store,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let handle = perksu_api::metrics::install().context("installing the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening for metrics on {address}"))?;
    println!("Metrics on http://{}/metrics", listener.local_addr()?);
    let router = perksu_api::metrics::router(handle, store.clone());
    Ok(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    }))
}

/// Opens the store for `serve`, waiting for a PostgreSQL that is not reachable yet (a service
/// manager may start both at once, or the database may be restarting): each failed attempt says
/// why on the log and when the next comes. `None` when asked to stop while waiting.
async fn open_waiting(url: &str, limits: HasherLimits) -> anyhow::Result<Option<Store>> {
    let mut delay = FIRST_RETRY_DELAY;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let error = match Store::open_with(url, Arc::new(SystemClock), limits).await {
            Ok(store) => return Ok(Some(store)),
            // A SQLite file that cannot be opened will not open later either.
            Err(error) if error.is_unavailable() && !url.starts_with("sqlite") => error,
            Err(error) => {
                return Err(error).with_context(|| format!("opening the database at {url}"))
            }
        };
        tracing::warn!("database not reachable ({error}); retrying in {delay:?}");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut stop => return Ok(None),
        }
        delay = (delay * 2).min(LAST_RETRY_DELAY);
    }
}

/// The wait before the first retry of an unreachable database; it doubles up to the last.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
const LAST_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Logs go to standard error, filtered by `RUST_LOG` (default `info`), as text for a person or,
/// with `PERKSU_LOG_FORMAT=json`, one JSON object a line for a log collector.
fn init_logging() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("PERKSU_LOG_FORMAT").as_deref() {
        Ok("json") => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => anyhow::bail!("PERKSU_LOG_FORMAT must be text or json, not {other:?}"),
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM: the listener then stops accepting and open requests finish.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("stopping: finishing the requests in flight");
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    if args.rollback {
        let store = Store::connect(url, Arc::new(SystemClock)).await?;
        let version = store.rollback_one().await?;
        println!("Rolled back migration {version}");
        return Ok(());
    }
    let store = match args.to {
        Some(version) => {
            let store = Store::connect(url, Arc::new(SystemClock)).await?;
            store.migrate_to(version).await?;
            println!(
                "Migrated up to {version:04} ({} backend):",
                store.backend().name()
            );
            store
        }
        None => {
            let store = open(url).await?;
            println!(
                "Database is up to date ({} backend):",
                store.backend().name()
            );
            store
        }
    };
    let status = store.migration_status().await?;
    for (version, description) in status.known {
        let mark = if status.applied.contains(&version) {
            "applied"
        } else {
            "pending"
        };
        println!("  {version:04} {description:<32} {mark}");
    }
    Ok(())
}

async fn verify(args: DatabaseArgs) -> anyhow::Result<()> {
    let store = open(&args.database_url).await?;
    let report = store.verify().await?;
    println!("Journal entries:   {}", report.journal_entries);
    println!("Accounts checked:  {}", report.accounts_checked);
    println!("Issued (net):      {}", report.issued_net);
    println!("Budgets minted:    {}", report.budgets_minted);
    println!("  in tenant pools: {}", report.pools_total);
    println!("  with leads:      {}", report.leads_total);
    println!("  in wallets:      {}", report.wallets_total);
    println!("  on hold:         {}", report.holds_total);
    println!("  redeemed:        {}", report.redeemed_total);
    println!("  expired:         {}", report.expired_total);
    if report.is_ok() {
        println!("OK: every balance matches the journal and all accounts sum to zero.");
        return Ok(());
    }
    for violation in &report.violations {
        println!("VIOLATION: {violation}");
    }
    bail!("{} violation(s) found", report.violations.len())
}

async fn expire(args: ExpireArgs) -> anyhow::Result<()> {
    let store = open(&args.database.database_url).await?;
    let report = store.run_expiry(args.dry_run).await?;
    let (expired, warned) = if report.dry_run {
        ("would expire", "would be warned of")
    } else {
        ("expired", "warned of")
    };
    if report.dry_run {
        println!("Dry run at {}: nothing is changed.", report.at);
    } else {
        println!("Expiry run at {}:", report.at);
    }
    for pool in &report.pools {
        println!(
            "  pool of {} ({}): {} {expired}, {} left",
            pool.tenant_name, pool.tenant_id, pool.amount, pool.pool_balance_after
        );
    }
    for wallet in &report.wallets {
        println!(
            "  wallet of {} ({}, tenant {}): {} {expired}, {} left",
            wallet.email,
            wallet.user_id,
            wallet.tenant_id,
            wallet.amount,
            wallet.wallet_balance_after
        );
    }
    for warning in &report.warnings {
        println!(
            "  {} ({}, tenant {}) {warned} {} expiring from {}",
            warning.email,
            warning.user_id,
            warning.tenant_id,
            warning.amount,
            warning.first_expires_on
        );
    }
    if report.is_empty() {
        println!("  Nothing has expired and no warning is due.");
    }
    println!(
        "Total: {} from pools and {} from wallets {expired}; {} warning(s).",
        report.pools_total(),
        report.wallets_total(),
        report.warnings.len()
    );
    for failure in &report.failures {
        println!("FAILED: {}: {}", failure.account, failure.error);
    }
    if !report.failures.is_empty() {
        bail!(
            "{} account(s) could not be processed",
            report.failures.len()
        );
    }
    Ok(())
}

async fn create_admin(email: &str, database_url: &str) -> anyhow::Result<()> {
    let email = perksu_domain::validate::email(email).map_err(|e| anyhow::anyhow!(e.detail))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    perksu_domain::validate::password(password).map_err(|e| anyhow::anyhow!(e.detail))?;
    let store = open(database_url).await?;
    let hash = store.hash_password(password).await?;
    let mut tx = store.begin().await?;
    let admin = match tx.create_platform_admin(&email, &hash).await {
        Ok(admin) => admin,
        Err(error) => {
            let message = error
                .as_refusal()
                .map(|refusal| refusal.detail)
                .unwrap_or_else(|| error.to_string());
            bail!("{message}");
        }
    };
    tx.commit().await?;
    println!("Created platform admin {} ({})", admin.email, admin.id);
    Ok(())
}
