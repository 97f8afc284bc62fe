//! The `perksu` binary, black-box: its commands run as child processes on a temporary SQLite
//! file, and every child is killed when its test ends, passed or failed.

mod demo;
mod import;
mod logs;
mod metrics;
mod process;
mod throttle;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use perksu_domain::Role;
use perksu_store::{Store, SystemClock};
use process::{perksu, Finished, Server};
use serde_json::{json, Value};
use sqlx::{Connection, Row};

const ADMIN_PASSWORD: &str = "a long enough password";

#[test]
fn migrate_creates_the_schema_in_a_new_sqlite_file_and_can_run_again() {
    let db = TempDb::new();
    let first = perksu(&["migrate", "--database-url", &db.url], None);
    first.assert_success();
    assert!(db.path.exists(), "no database file at {:?}", db.path);
    assert!(
        first
            .stdout
            .contains("Database is up to date (sqlite backend)"),
        "{first:?}"
    );
    assert!(first.stdout.contains("applied"), "{first:?}");
    assert!(!first.stdout.contains("pending"), "{first:?}");

    let again = perksu(&["migrate", "--database-url", &db.url], None);
    again.assert_success();
    assert_eq!(again.stdout, first.stdout);
}

#[test]
fn migrate_rollback_on_sqlite_is_refused_with_a_clear_message() {
    let db = TempDb::new();
    perksu(&["migrate", "--database-url", &db.url], None).assert_success();
    let rollback = perksu(&["migrate", "--rollback", "--database-url", &db.url], None);
    rollback.assert_failure_saying("SQLite migrations are forward-only");
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_the_admin_can_log_in() {
    let db = TempDb::new();
    let created = create_admin(&db, "x@y.test", &format!("{ADMIN_PASSWORD}\n"));
    created.assert_success();
    assert!(
        created.stdout.contains("Created platform admin x@y.test"),
        "{created:?}"
    );

    let store = Store::open(&db.url, Arc::new(SystemClock))
        .await
        .expect("open");
    let login = store
        .login("x@y.test", ADMIN_PASSWORD, None)
        .await
        .expect("the new admin logs in with the password typed on stdin");
    assert_eq!(login.user.role, Role::PlatformAdmin);
    assert!(
        store
            .login("x@y.test", "not the password", None)
            .await
            .is_err(),
        "a wrong password must not log in"
    );
    store.close().await;
}

#[tokio::test]
async fn admin_create_refuses_a_too_short_password_and_creates_no_one() {
    let db = TempDb::new();
    perksu(&["migrate", "--database-url", &db.url], None).assert_success();
    let refused = create_admin(&db, "x@y.test", "short\n");
    refused.assert_failure_saying("password must be 8 to 256 characters");
    assert_eq!(db.count_users().await, 0);
}

#[tokio::test]
async fn admin_create_refuses_an_email_already_taken_whatever_its_case() {
    let db = TempDb::new();
    create_admin(&db, "x@y.test", ADMIN_PASSWORD).assert_success();
    let duplicate = create_admin(&db, "X@Y.test", ADMIN_PASSWORD);
    duplicate.assert_failure_saying("A user with this email already exists");
    assert_eq!(db.count_users().await, 1);
}

#[tokio::test]
async fn verify_passes_on_a_consistent_database_and_reports_a_corrupted_pool() {
    let db = TempDb::new();
    create_admin(&db, "x@y.test", ADMIN_PASSWORD).assert_success();
    let tenant_id = db.fund_a_tenant("x@y.test").await;

    let consistent = perksu(&["verify", "--database-url", &db.url], None);
    consistent.assert_success();
    assert!(consistent.stdout.contains("OK:"), "{consistent:?}");
    assert!(!consistent.stdout.contains("VIOLATION"), "{consistent:?}");

    // Balances are stored in hundredths: this adds one point that no journal entry explains.
    db.execute("update tenants set points_allocation_balance = points_allocation_balance + 100")
        .await;
    let corrupted = perksu(&["verify", "--database-url", &db.url], None);
    corrupted.assert_failure_saying("violation(s) found");
    let expected =
        format!("VIOLATION: pool:{tenant_id}: stored balance 1001 but journal says 1000");
    assert!(corrupted.stdout.contains(&expected), "{corrupted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_requests_in_flight_finish_then_stops_accepting_and_exits_zero() {
    let db = TempDb::new();
    // One password worker: the sign-ins below queue behind each other, so most of them are
    // still in flight when the signal comes. All are one account's: its throttle is raised.
    let mut server = Server::start(
        &db.url,
        &[
            "--demo",
            "--password-workers",
            "1",
            "--login-account-burst",
            "100",
        ],
    );
    let password = demo_password(&server.banner);
    let (email, _) = demo_logins(&server.banner).remove(0);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let url = format!("{}/api/auth/login", server.base_url);
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..16 {
        let request = client
            .post(&url)
            .json(&json!({"email": email, "password": password}));
        let answers = answers.clone();
        tokio::spawn(async move {
            let status = request.send().await.map(|reply| reply.status().as_u16());
            let _ = answers.send(status.map_err(|e| e.to_string()));
        });
    }
    drop(answers);
    let first = answered.recv().await.expect("a first answer");
    assert_eq!(first, Ok(200));

    server.terminate();
    let mut statuses = vec![first];
    while let Some(status) = answered.recv().await {
        statuses.push(status);
    }
    assert_eq!(statuses.len(), 16);
    assert!(
        statuses.iter().all(|status| *status == Ok(200)),
        "every request in flight finished: {statuses:?}"
    );
    let exit = server.wait_for_exit();
    assert!(exit.success(), "perksu serve exited with {exit}");
    assert!(
        client
            .get(format!("{}/healthz", server.base_url))
            .send()
            .await
            .is_err(),
        "a stopped server accepts nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_seeds_an_empty_database_once_and_its_logins_work() {
    let db = TempDb::new();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");

    let first = Server::start(&db.url, &["--demo"]);
    let password = demo_password(&first.banner);
    let logins = demo_logins(&first.banner);
    for role in ["platform_admin", "tenant_manager", "lead", "employee"] {
        assert!(
            logins.iter().any(|(_, r)| r == role),
            "no {role} login printed: {:?}",
            first.banner
        );
    }
    first.wait_until_healthy(&client).await;
    let (manager, _) = logins
        .iter()
        .find(|(_, role)| role == "tenant_manager")
        .expect("a manager login");
    let token = first.login(&client, manager, &password).await;
    let me = client
        .get(format!("{}/api/auth/me", first.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/auth/me");
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("JSON");
    assert_eq!(me["email"], manager.as_str());
    let wrong = client
        .post(format!("{}/api/auth/login", first.base_url))
        .json(&json!({"email": manager, "password": "not the password"}))
        .send()
        .await
        .expect("POST /api/auth/login");
    assert_eq!(wrong.status(), 401);
    drop(first);
    let issued_once = issued_line(&perksu(&["verify", "--database-url", &db.url], None));

    let second = Server::start(&db.url, &["--demo"]);
    assert!(
        second
            .banner
            .iter()
            .any(|line| line.contains("demo data was not seeded again")),
        "the second start should say it did not seed: {:?}",
        second.banner
    );
    assert!(
        demo_logins(&second.banner).is_empty(),
        "{:?}",
        second.banner
    );
    second.wait_until_healthy(&client).await;
    let (admin, _) = logins
        .iter()
        .find(|(_, role)| role == "platform_admin")
        .expect("an admin login");
    let admin_token = second.login(&client, admin, &password).await;
    let users = client
        .get(format!("{}/api/users", second.base_url))
        .bearer_auth(&admin_token)
        .send()
        .await
        .expect("GET /api/users");
    assert_eq!(users.status(), 200);
    let users: Value = users.json().await.expect("JSON");
    assert_eq!(
        users.as_array().map(Vec::len),
        Some(logins.len()),
        "every user once, no more: {users}"
    );
    drop(second);
    let verified = perksu(&["verify", "--database-url", &db.url], None);
    verified.assert_success();
    assert_eq!(
        issued_line(&verified),
        issued_once,
        "the second start issued points again"
    );
}

fn create_admin(db: &TempDb, email: &str, password: &str) -> Finished {
    perksu(
        &[
            "admin",
            "create",
            "--email",
            email,
            "--database-url",
            &db.url,
        ],
        Some(password),
    )
}

/// The `Issued (net):` line `perksu verify` prints.
fn issued_line(verified: &Finished) -> String {
    verified.assert_success();
    verified
        .stdout
        .lines()
        .find(|line| line.starts_with("Issued (net):"))
        .unwrap_or_else(|| panic!("no Issued line: {verified:?}"))
        .to_owned()
}

/// The password the demo banner announces: `... password is "perksu-demo":`.
fn demo_password(banner: &[String]) -> String {
    banner
        .iter()
        .find_map(|line| {
            let (_, rest) = line.split_once("password is \"")?;
            let (password, _) = rest.split_once('"')?;
            Some(password.to_owned())
        })
        .unwrap_or_else(|| panic!("no demo password announced: {banner:?}"))
}

/// The (email, role) of each login line the demo banner lists.
fn demo_logins(banner: &[String]) -> Vec<(String, String)> {
    banner
        .iter()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let email = words.next().filter(|word| word.contains('@'))?;
            let role = words.next()?;
            Some((email.to_owned(), role.to_owned()))
        })
        .collect()
}

// ---- the database file ----

struct TempDb {
    _dir: tempfile::TempDir,
    path: PathBuf,
    url: String,
}

impl TempDb {
    fn new() -> TempDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("perksu.db");
        let url = format!("sqlite://{}", path.display());
        TempDb {
            _dir: dir,
            path,
            url,
        }
    }

    async fn connect(&self) -> sqlx::SqliteConnection {
        sqlx::SqliteConnection::connect(&self.url)
            .await
            .expect("open the database file")
    }

    async fn execute(&self, sql: &str) {
        let mut connection = self.connect().await;
        sqlx::query(sql)
            .execute(&mut connection)
            .await
            .expect("raw SQL");
        connection.close().await.expect("close");
    }

    async fn count_users(&self) -> i64 {
        let mut connection = self.connect().await;
        let row = sqlx::query("select count(*) as n from users")
            .fetch_one(&mut connection)
            .await
            .expect("count users");
        connection.close().await.expect("close");
        row.get("n")
    }

    /// Logs in as the admin `email` and allocates 1000 points to a new tenant; its id.
    async fn fund_a_tenant(&self, admin_email: &str) -> String {
        use perksu_domain::{FundingMode, Points};
        use perksu_store::{AllocateCommand, NewTenant};
        let store = Store::open(&self.url, Arc::new(SystemClock))
            .await
            .expect("open");
        let admin = store
            .login(admin_email, ADMIN_PASSWORD, None)
            .await
            .expect("admin login")
            .user
            .actor();
        let mut tx = store.begin().await.expect("begin");
        let tenant = tx
            .create_tenant(
                &admin,
                NewTenant {
                    name: "Acme".into(),
                    slug: "acme".into(),
                    currency: "INR".into(),
                    currency_label: "Points".into(),
                    funding_mode: FundingMode::Pool,
                    low_balance_threshold: Points::from_whole(100),
                },
            )
            .await
            .expect("tenant");
        tx.allocate_to_tenant(
            &admin,
            AllocateCommand {
                tenant_id: tenant.id.clone(),
                amount: Points::from_whole(1000),
                currency: None,
                reference_note: None,
            },
        )
        .await
        .expect("allocate");
        tx.commit().await.expect("commit");
        store.close().await;
        tenant.id
    }
}
