//! The test SMTP receiver as a child process: started on a random loopback port, its
//! accepted messages read from its stdout, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a test waits for a mail or a state before failing.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub struct Receiver {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The interpreter with aiosmtpd, or `None` (with the reason printed) when the test must skip.
pub fn python() -> Option<String> {
    match std::env::var("PERKSU_TEST_SMTP_PYTHON") {
        Ok(path) if !path.is_empty() => Some(path),
        _ => {
            assert!(
                std::env::var("PERKSU_SMTP_REQUIRED").as_deref() != Ok("1"),
                "PERKSU_SMTP_REQUIRED=1 but PERKSU_TEST_SMTP_PYTHON is not set"
            );
            eprintln!("PERKSU_TEST_SMTP_PYTHON is not set: email test skipped");
            None
        }
    }
}

impl Receiver {
    /// Starts the receiver; `refuse` is an SMTP code it answers every message with, or 0.
    pub fn start(python: &str, refuse: u16) -> Receiver {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/smtp-receiver.py"
        );
        let mut child = Command::new(python)
            .arg(script)
            .args(["--refuse", &refuse.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP receiver");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("receiver banner");
        let port = first
            .trim()
            .strip_prefix("listening on ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("unexpected receiver banner {first:?}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(value);
                }
            }
        });
        Receiver { child, port, lines }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything the receiver printed so far: messages and refusals.
    pub fn seen(&self) -> Vec<Value> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The messages accepted for `address`.
    pub fn messages_to(&self, address: &str) -> Vec<String> {
        self.seen()
            .iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a == address))
            })
            .filter_map(|m| m["data"].as_str().map(str::to_owned))
            .collect()
    }

    /// Waits for a message to `address` and returns it.
    pub async fn wait_for(&self, address: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(message) = self.messages_to(address).pop() {
                return message;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {address}: {:?}",
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The accepted messages for `address` whose subject contains `subject`, whole: the
    /// receiver decodes `subject`, `text` and `html` from the MIME parts.
    pub fn mails_to(&self, address: &str, subject: &str) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a == address))
            })
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(subject)))
            .collect()
    }

    /// Waits for a message to `address` whose subject contains `subject` and returns it.
    pub async fn wait_for_mail(&self, address: &str, subject: &str) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(mail) = self.mails_to(address, subject).pop() {
                return mail;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {address} about {subject:?}: {:?}",
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The set-password token in an invitation mail. The parts are quoted-printable, so soft line
/// breaks are joined and `=3D` read as `=` first.
pub fn invitation_token(mail: &str) -> String {
    let unfolded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let marker = "/set-password?token=";
    let start = unfolded
        .find(marker)
        .unwrap_or_else(|| panic!("no set-password link in {mail}"))
        + marker.len();
    let token: String = unfolded[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 64, "a token of 32 bytes in hex: {mail}");
    token
}
