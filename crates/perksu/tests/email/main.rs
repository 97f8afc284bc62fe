//! Email delivery: the real server as a child process, a real SMTP receiver (aiosmtpd, see
//! scripts/smtp-receiver.py) on loopback, a real database on both backends. The receiver's
//! messages are read as it prints them.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../faults/company.rs"]
mod company;
#[allow(dead_code)]
#[path = "../faults/database.rs"]
mod database;
#[allow(dead_code)]
#[path = "../cli/process.rs"]
mod process;
mod receiver;

/// Declares each test once per backend; PostgreSQL runs when `PERKSU_TEST_POSTGRES_URL` is set.
macro_rules! on_both_backends {
    ($($name:ident),+) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::database::Database::sqlite()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::database::Database::postgres().await else { return };
                    super::$name(db).await;
                }
            )+
        }
    };
}

mod delivery;
mod invitation;
mod invited;
mod kinds;
mod nodes;
