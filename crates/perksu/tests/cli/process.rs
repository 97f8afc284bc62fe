//! Running the binary: one-shot commands with a deadline, and a server read up to the line
//! that says where it listens. Every child is killed when its handle drops.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any one command may take before the test gives up on it.
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// A child process that is killed when this value drops, so no test leaves one behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to do about a failure here.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_perksu"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("PERKSU_LISTEN")
        .env("RUST_LOG", "warn");
    command
}

/// What a finished command did.
pub struct Finished {
    args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "perksu {} exited with {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args.join(" "),
            self.status,
            self.stdout,
            self.stderr
        )
    }
}

impl Finished {
    pub fn assert_success(&self) {
        assert!(self.status.success(), "{self:?}");
    }

    pub fn assert_failure_saying(&self, message: &str) {
        assert!(!self.status.success(), "expected a failure: {self:?}");
        assert!(
            self.stderr.contains(message),
            "expected {message:?} on stderr: {self:?}"
        );
    }
}

/// Runs `perksu ARGS`, feeding `stdin` if given, and waits for it up to [`COMMAND_DEADLINE`].
pub fn perksu(args: &[&str], stdin: Option<&str>) -> Finished {
    let mut child = KillOnDrop(
        command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start perksu"),
    );
    let mut input = child.0.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    // Closing stdin is what tells `admin create` the password is complete.
    drop(input);
    let stdout = read_all(child.0.stdout.take().expect("stdout"));
    let stderr = read_all(child.0.stderr.take().expect("stderr"));
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for perksu") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "perksu {args:?} did not finish in {COMMAND_DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    Finished {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Drains a pipe on its own thread, so a chatty child never blocks on a full pipe.
fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

pub struct Server {
    _child: KillOnDrop,
    pub base_url: String,
    /// Everything printed on stdout up to the "listening" line.
    pub banner: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

/// A `perksu serve` started but not yet listening: it may be waiting for its database.
pub struct Starting {
    child: KillOnDrop,
    stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Starting {
    /// Starts `perksu serve` on a free port without waiting for it to listen.
    pub fn spawn(database_url: &str, extra: &[&str]) -> Starting {
        Starting::spawn_with_env(database_url, extra, &[])
    }

    /// The same, with these environment variables set (over the defaults of [`command`]).
    pub fn spawn_with_env(database_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Starting {
        let mut child = KillOnDrop(
            command()
                .envs(env.iter().copied())
                .args([
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--database-url",
                    database_url,
                ])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start perksu serve"),
        );
        let stdout = child.0.stdout.take().expect("stdout");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let log = stderr.clone();
        let pipe = child.0.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Starting {
            child,
            stdout: received,
            stderr,
        }
    }

    /// Waits until the server's log (stderr) has a line containing `text`; returns that line.
    #[allow(dead_code)]
    pub fn wait_for_log(&self, text: &str) -> String {
        wait_for_log(&self.stderr, text)
    }

    /// Waits for the line that says where the server listens.
    pub fn listening(self) -> Server {
        let deadline = Instant::now() + COMMAND_DEADLINE;
        let mut banner = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(address) = line.strip_prefix("Perksu Points listening on ") {
                        return Server {
                            base_url: address.trim().to_owned(),
                            _child: self.child,
                            banner,
                            stderr: self.stderr,
                        };
                    }
                    banner.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let log = self
                        .stderr
                        .lock()
                        .map(|log| log.clone())
                        .unwrap_or_default();
                    panic!("perksu serve did not listen within {COMMAND_DEADLINE:?}: {banner:?}\n{log}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // The server exited; give its stderr reader a moment to drain.
                    drop(self.child);
                    std::thread::sleep(Duration::from_millis(100));
                    let log = self
                        .stderr
                        .lock()
                        .map(|log| log.clone())
                        .unwrap_or_default();
                    panic!("perksu serve exited before listening: {banner:?}\n{log}");
                }
            }
        }
    }
}

fn wait_for_log(stderr: &Mutex<String>, text: &str) -> String {
    let deadline = Instant::now() + COMMAND_DEADLINE;
    loop {
        {
            let log = stderr
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(line) = log.lines().find(|line| line.contains(text)) {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {text:?} within {COMMAND_DEADLINE:?}:\n{log}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Server {
    /// Starts `perksu serve` on a free port and waits for the line that says where it listens.
    pub fn start(database_url: &str, extra: &[&str]) -> Server {
        Starting::spawn(database_url, extra).listening()
    }

    /// Waits until the server's log (stderr) has a line containing `text`; returns that line.
    #[allow(dead_code)]
    pub fn wait_for_log(&self, text: &str) -> String {
        wait_for_log(&self.stderr, text)
    }

    /// Everything the server has logged so far.
    #[allow(dead_code)]
    pub fn log(&self) -> String {
        self.stderr
            .lock()
            .map(|log| log.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Kills the server with SIGKILL, as a crash or the OOM killer would, and reaps it.
    #[allow(dead_code)]
    pub fn kill(self) {
        let mut child = self._child;
        child.0.kill().expect("kill -9 perksu serve");
        child.0.wait().expect("reap perksu serve");
    }

    /// The server process's id, for reading its `/proc` entry (the memory suite).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self._child.0.id()
    }

    /// Sends SIGTERM, as a service manager stopping the server would.
    #[allow(dead_code)]
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self._child.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the server to exit by itself, within a deadline.
    #[allow(dead_code)]
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + COMMAND_DEADLINE;
        loop {
            if let Some(status) = self._child.0.try_wait().expect("wait for perksu serve") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "perksu serve did not exit within {COMMAND_DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls `/healthz` until it answers 200, within a deadline.
    pub async fn wait_until_healthy(&self, client: &reqwest::Client) {
        let url = format!("{}/healthz", self.base_url);
        let deadline = Instant::now() + COMMAND_DEADLINE;
        let mut last = String::new();
        while Instant::now() < deadline {
            match client.get(&url).send().await {
                Ok(reply) if reply.status() == 200 => {
                    let body: Value = reply.json().await.expect("JSON");
                    assert_eq!(body["status"], "ok");
                    return;
                }
                Ok(reply) => last = format!("status {}", reply.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{url} did not answer 200 within {COMMAND_DEADLINE:?}; last: {last}");
    }

    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> String {
        let reply = client
            .post(format!("{}/api/auth/login", self.base_url))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST /api/auth/login");
        assert_eq!(reply.status(), 200, "{email} could not log in");
        let body: Value = reply.json().await.expect("JSON");
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {body}"))
            .to_owned()
    }
}
