//! Faults: the real server as a child process on a real database, and what it must keep when
//! the process is killed, the database drops its connections or goes away, or two servers
//! share one database. Every check is over HTTP, plus `perksu verify` on the books.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../cli/process.rs"]
mod process;

mod company;
mod crash;
mod database;
mod nodes;
mod outage;
mod proxy;
mod slow;
