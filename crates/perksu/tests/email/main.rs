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

mod delivery;
mod invitation;
mod invited;
